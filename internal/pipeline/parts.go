package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/streamlake/streamlake/internal/esm"
)

// partsFile is WorkDir/parts.json: the counters of the earlier parts of a run
// that was interrupted (Ctrl-C or SIGTERM) and resumed.
//
// The accounting (sent, written, filtered, …) never needs it: it is read back
// from the emulator and so covers the whole run. The counters of the mappings,
// the functions, the injected faults and the producer live in the process, so
// an interrupted part saves them here and the part that completes the run adds
// them to its report: the report then totals every part. A part killed without
// a chance to save (kill -9), or interrupted before its mappings started or
// after they finished, is missing from these counters, not from the
// accounting. The producer's counter counts acknowledged records: a PutRecords
// call cut short by the interrupt may have stored records that no part counts
// (the accounting's "sent" does).
const partsFile = "parts.json"

// partCounters are the counters of one or more parts of a run.
type partCounters struct {
	// Parts is the number of parts summed.
	Parts           int                          `json:"parts"`
	DurationSeconds float64                      `json:"duration_seconds"`
	Mapping         MappingReport                `json:"mapping"`
	Function        FunctionReport               `json:"function"`
	Injected        InjectedFaults               `json:"faults_injected"`
	Producer        ProducerReport               `json:"producer"`
	SQS             map[string]SQSFunctionReport `json:"sqs_functions,omitempty"`
}

// partSources is where the counters of the running part are read from.
type partSources struct {
	mapping   *esm.KinesisMapping
	inv       *invoker
	counts    *faultCounts
	consumers []*sqsConsumer
	rep       *Report
	started   time.Time
}

// snapshot returns the running part's counters. It must not run while the
// producer goroutine still writes rep.
func (s partSources) snapshot() partCounters {
	ms := s.mapping.Stats()
	p := partCounters{
		Parts:           1,
		DurationSeconds: time.Since(s.started).Seconds(),
		Mapping: MappingReport{
			Polled: ms.PolledRecords, FilteredOut: ms.FilteredRecords, Invocations: ms.Invocations,
			FunctionErrors: ms.FunctionErrors, PartialFailures: ms.PartialFailures, Retries: ms.Retries,
			Bisects: ms.Bisects, Dropped: ms.DroppedRecords, OnFailureSent: ms.OnFailureMessages,
		},
		Function: FunctionReport{
			Invocations: s.inv.invocations.Load(), ColdStarts: s.inv.coldStarts.Load(),
			BusySeconds: float64(s.inv.busy.Load()) / 1e6,
		},
		Injected: InjectedFaults{
			S3Failures: s.counts.s3Failures.Load(), CrashesBefore: s.counts.crashesBefore.Load(),
			CrashesAfter: s.counts.crashesAfter.Load(), Timeouts: s.counts.timeouts.Load(), Poison: s.rep.Injected.Poison,
		},
		Producer: s.rep.Producer,
		SQS:      map[string]SQSFunctionReport{},
	}
	for _, c := range s.consumers {
		st := c.mapping.Stats()
		p.SQS[c.fn.LogicalID+"."+c.event.Name] = SQSFunctionReport{
			Received: st.ReceivedMessages, Deleted: st.DeletedMessages, Failed: st.FailedMessages,
			Invocations: st.Invocations, FunctionErrors: st.FunctionErrors, PartialFailures: st.PartialFailures,
			LargestBatch: st.LargestBatch, ColdStarts: c.inv.coldStarts.Load(), BusySeconds: float64(c.inv.busy.Load()) / 1e6,
		}
	}
	return p
}

// add returns p plus q.
func (p partCounters) add(q partCounters) partCounters {
	r := p
	r.Parts += q.Parts
	r.DurationSeconds += q.DurationSeconds
	m, n := &r.Mapping, q.Mapping
	m.Polled += n.Polled
	m.FilteredOut += n.FilteredOut
	m.Invocations += n.Invocations
	m.FunctionErrors += n.FunctionErrors
	m.PartialFailures += n.PartialFailures
	m.Retries += n.Retries
	m.Bisects += n.Bisects
	m.Dropped += n.Dropped
	m.OnFailureSent += n.OnFailureSent
	r.Function.Invocations += q.Function.Invocations
	r.Function.ColdStarts += q.Function.ColdStarts
	r.Function.BusySeconds += q.Function.BusySeconds
	i, j := &r.Injected, q.Injected
	i.S3Failures += j.S3Failures
	i.CrashesBefore += j.CrashesBefore
	i.CrashesAfter += j.CrashesAfter
	i.Timeouts += j.Timeouts
	i.Poison += j.Poison
	r.Producer.Sent += q.Producer.Sent
	r.Producer.Retries += q.Producer.Retries
	r.Producer.Failed += q.Producer.Failed
	r.SQS = map[string]SQSFunctionReport{}
	for k, v := range p.SQS {
		r.SQS[k] = v
	}
	for k, v := range q.SQS {
		a := r.SQS[k]
		a.Received += v.Received
		a.Deleted += v.Deleted
		a.Failed += v.Failed
		a.Invocations += v.Invocations
		a.FunctionErrors += v.FunctionErrors
		a.PartialFailures += v.PartialFailures
		a.LargestBatch = max(a.LargestBatch, v.LargestBatch)
		a.ColdStarts += v.ColdStarts
		a.BusySeconds += v.BusySeconds
		r.SQS[k] = a
	}
	return r
}

// addTo adds the earlier parts p to the report of the part that completed the
// run, and derives the means and rates again from the totals.
func (p partCounters) addTo(rep *Report) {
	if p.Parts == 0 {
		return
	}
	m, n := &rep.Mapping, p.Mapping
	m.Polled += n.Polled
	m.FilteredOut += n.FilteredOut
	m.Invocations += n.Invocations
	m.FunctionErrors += n.FunctionErrors
	m.PartialFailures += n.PartialFailures
	m.Retries += n.Retries
	m.Bisects += n.Bisects
	m.Dropped += n.Dropped
	m.OnFailureSent += n.OnFailureSent
	f := &rep.Function
	f.Invocations += p.Function.Invocations
	f.ColdStarts += p.Function.ColdStarts
	f.BusySeconds += p.Function.BusySeconds
	f.MeanInvokeMS = 0
	if f.Invocations > 0 {
		f.MeanInvokeMS = f.BusySeconds * 1000 / float64(f.Invocations)
	}
	i := &rep.Injected
	i.S3Failures += p.Injected.S3Failures
	i.CrashesBefore += p.Injected.CrashesBefore
	i.CrashesAfter += p.Injected.CrashesAfter
	i.Timeouts += p.Injected.Timeouts
	i.Poison += p.Injected.Poison
	rep.Producer.Sent += p.Producer.Sent
	rep.Producer.Retries += p.Producer.Retries
	rep.Producer.Failed += p.Producer.Failed
	for k := range rep.SQSFunctions {
		a := &rep.SQSFunctions[k]
		v, ok := p.SQS[a.Function+"."+a.Event]
		if !ok {
			continue
		}
		a.Received += v.Received
		a.Deleted += v.Deleted
		a.Failed += v.Failed
		a.Invocations += v.Invocations
		a.FunctionErrors += v.FunctionErrors
		a.PartialFailures += v.PartialFailures
		a.LargestBatch = max(a.LargestBatch, v.LargestBatch)
		a.ColdStarts += v.ColdStarts
		a.BusySeconds += v.BusySeconds
		a.MeanInvokeMS, a.MessagesPerBusySecond = 0, 0
		if a.Invocations > 0 {
			a.MeanInvokeMS = a.BusySeconds * 1000 / float64(a.Invocations)
		}
		if a.BusySeconds > 0 && a.Environments > 0 {
			a.MessagesPerBusySecond = float64(a.Deleted) / (a.BusySeconds / float64(a.Environments))
		}
	}
	rep.DurationSeconds += p.DurationSeconds
	rep.RecordsPerSecond = 0
	if rep.DurationSeconds > 0 {
		rep.RecordsPerSecond = float64(rep.Sent) / rep.DurationSeconds
	}
	rep.Parts = p.Parts + 1
}

// loadParts reads the earlier parts of a resumed run; none is the zero value.
func loadParts(dir string) (partCounters, error) {
	var p partCounters
	b, err := os.ReadFile(filepath.Join(dir, partsFile))
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("earlier parts of the run: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return partCounters{}, fmt.Errorf("earlier parts of the run: %s: %w", filepath.Join(dir, partsFile), err)
	}
	return p, nil
}

// saveParts writes p through a temporary file.
func saveParts(dir string, p partCounters) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("save the counters of the run: %w", err)
	}
	tmp := filepath.Join(dir, partsFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("save the counters of the run: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, partsFile)); err != nil {
		return fmt.Errorf("save the counters of the run: %w", err)
	}
	return nil
}

// removeParts forgets earlier parts (a fresh run, or a completed one).
func removeParts(dir string) error {
	if err := os.Remove(filepath.Join(dir, partsFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the counters of earlier parts: %w", err)
	}
	return nil
}

// earlierParts returns the counters of a resumed run's earlier parts, and
// forgets them when the run starts afresh.
func earlierParts(dir string, resumed bool) (partCounters, error) {
	if !resumed {
		return partCounters{}, removeParts(dir)
	}
	return loadParts(dir)
}
