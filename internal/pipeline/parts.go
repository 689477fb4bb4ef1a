package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"time"

	"github.com/streamlake/streamlake/internal/esm"
	"github.com/streamlake/streamlake/internal/localenv"
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
	// Poison lists the poison records the parts put ("shardId:sequenceNumber",
	// as PutRecords acknowledged them), for the placement check (placement).
	Poison []string `json:"poison,omitempty"`
}

// partSources is where the counters of the running part are read from.
type partSources struct {
	mapping   *esm.KinesisMapping
	fn        *localenv.Function
	counts    *faultCounts
	consumers []*sqsConsumer
	produced  *producedCounter
	rep       *Report
	started   time.Time
}

// snapshot returns the running part's counters. It must not run while the
// producer goroutine still writes rep.
func (s partSources) snapshot() partCounters {
	p := partCounters{
		Parts:           1,
		DurationSeconds: time.Since(s.started).Seconds(),
		Mapping:         mappingReport(s.mapping.Stats()),
		Function:        functionReport(s.fn.Stats()),
		Injected:        s.counts.report(s.rep.Injected.Poison),
		Producer:        s.rep.Producer,
		SQS:             map[string]SQSFunctionReport{},
	}
	if s.produced != nil {
		p.Poison = s.produced.poisonRecords()
	}
	for _, c := range s.consumers {
		p.SQS[c.fn.LogicalID+"."+c.event.Name] = c.counters()
	}
	return p
}

// add returns p plus q.
func (p partCounters) add(q partCounters) partCounters {
	r := p
	r.Parts += q.Parts
	r.DurationSeconds += q.DurationSeconds
	addFields(&r.Mapping, q.Mapping)
	r.Function.addCounters(q.Function)
	addFields(&r.Injected, q.Injected)
	addFields(&r.Producer, q.Producer)
	r.Poison = append(slices.Clone(p.Poison), q.Poison...)
	r.SQS = maps.Clone(p.SQS)
	if r.SQS == nil {
		r.SQS = map[string]SQSFunctionReport{}
	}
	for k, v := range q.SQS {
		a := r.SQS[k]
		a.addCounters(v)
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
	addFields(&rep.Mapping, p.Mapping)
	rep.Function.addCounters(p.Function)
	rep.Function.derive()
	addFields(&rep.Injected, p.Injected)
	addFields(&rep.Producer, p.Producer)
	for k := range rep.SQSFunctions {
		a := &rep.SQSFunctions[k]
		v, ok := p.SQS[a.Function+"."+a.Event]
		if !ok {
			continue
		}
		a.addCounters(v)
		a.MeanInvokeMS, a.MessagesPerBusySecond = 0, 0
		if a.Invocations > 0 {
			a.MeanInvokeMS = a.BusySeconds * 1000 / float64(a.Invocations)
		}
		if a.BusySeconds > 0 && a.Environments > 0 {
			a.MessagesPerBusySecond = float64(a.Deleted) / (a.BusySeconds / float64(a.Environments))
		}
	}
	rep.DurationSeconds += p.DurationSeconds
	rep.derive()
	rep.Parts = p.Parts + 1
}

// addCounters adds g's counters (not the sizes and timings of one part).
func (f *FunctionReport) addCounters(g FunctionReport) {
	f.Invocations += g.Invocations
	f.ColdStarts += g.ColdStarts
	f.BusySeconds += g.BusySeconds
}

// derive computes the mean invocation time from the counters.
func (f *FunctionReport) derive() {
	f.MeanInvokeMS = 0
	if f.Invocations > 0 {
		f.MeanInvokeMS = f.BusySeconds * 1000 / float64(f.Invocations)
	}
}

// addFields adds each integer and floating-point field of src to dst's: for the
// report types whose fields are all counters (MappingReport, InjectedFaults,
// ProducerReport).
func addFields[T any](dst *T, src T) {
	d, v := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src)
	for i := range d.NumField() {
		switch f := d.Field(i); f.Kind() {
		case reflect.Int, reflect.Int64:
			f.SetInt(f.Int() + v.Field(i).Int())
		case reflect.Float64:
			f.SetFloat(f.Float() + v.Field(i).Float())
		}
	}
}

// addCounters adds v's counters (not the queue, the environments or the rates).
func (a *SQSFunctionReport) addCounters(v SQSFunctionReport) {
	a.Received += v.Received
	a.Deleted += v.Deleted
	a.Failed += v.Failed
	a.Invocations += v.Invocations
	a.FunctionErrors += v.FunctionErrors
	a.PartialFailures += v.PartialFailures
	a.LargestBatch = max(a.LargestBatch, v.LargestBatch)
	a.ColdStarts += v.ColdStarts
	a.BusySeconds += v.BusySeconds
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
	if err := writeJSON(filepath.Join(dir, partsFile), p); err != nil {
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
