package pipeline

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/streamlake/streamlake/internal/esm"
	"github.com/streamlake/streamlake/internal/localenv"
	"github.com/streamlake/streamlake/internal/onfailure"
	"github.com/streamlake/streamlake/internal/s3store"
)

// account reads back what is in the emulators (the stream, the processed and
// quarantine objects, the failure queue, the summaries table) and accounts for
// every record in the report.
func (r *run) account(ctx context.Context) error {
	rep := r.rep
	if r.order != nil {
		var err error
		if rep.KeyOrder, err = r.order.verify(ctx, r.kin, r.streamARN, r.opts); err != nil {
			return err
		}
	}
	s3c := s3store.NewClient(r.lenv.AWS, func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	stream, shardIDs, err := readStream(ctx, r.kin, r.streamARN)
	if err != nil {
		return err
	}
	processedPrefix := cmp.Or(r.fn.Environment["PROCESSED_PREFIX"], "processed")
	quarantinePrefix := cmp.Or(r.fn.Environment["QUARANTINE_PREFIX"], "quarantine")
	processed, err := readObjects(ctx, s3c, rep.Bucket, processedPrefix)
	if err != nil {
		return err
	}
	quarantine, err := readObjects(ctx, s3c, rep.Bucket, quarantinePrefix)
	if err != nil {
		return err
	}
	var failures []onfailure.Record
	if rep.FailureQueueURL != "" {
		if failures, err = readFailureQueue(ctx, r.sqs, rep.FailureQueueURL); err != nil {
			return err
		}
	}
	passes := func(data []byte) bool {
		if r.matcher == nil {
			return true
		}
		ok, _ := r.matcher.Match(data)
		return ok
	}
	if err := account(ctx, r.kin, r.streamARN, stream, shardIDs, processed, quarantine, failures, passes, r.placement(stream), rep); err != nil {
		return err
	}
	if !r.opts.NoProduce {
		n := r.produced.get()
		rep.Produced = &n
	}
	if err := reportConsumers(ctx, r.lenv, r.consumers, r.resources.Tables, rep.Bucket, processedPrefix, r.sqs, rep); err != nil {
		return err
	}
	rep.Hourly = hourly(processed)
	ms := r.mapping.Stats()
	for _, sh := range ms.Shards {
		sr := ShardReport{ShardID: sh.ShardID, Records: len(stream[sh.ShardID]), Checkpoint: sh.Checkpoint, MillisBehindLatest: sh.MillisBehindLatest}
		sr.LagRecords = lagAfter(stream[sh.ShardID], sh.Checkpoint)
		rep.Shards = append(rep.Shards, sr)
	}
	return nil
}

// placement returns what the run knows of its poison records: those every part
// put and saved (partCounters.Poison), complete when the parts' acknowledged
// records are every record in the stream.
func (r *run) placement(stream map[string][]streamRecord) placement {
	if r.opts.NoProduce {
		return placement{}
	}
	pl := placement{poison: map[string]bool{}}
	for _, id := range append(slices.Clone(r.earlier.Poison), r.produced.poisonRecords()...) {
		pl.poison[id] = true
	}
	total := 0
	for _, recs := range stream {
		total += len(recs)
	}
	pl.complete = r.earlier.Producer.Sent+r.rep.Producer.Sent == int64(total)
	return pl
}

// finish fills the report's counters (this part's, plus the earlier parts' of a
// resumed run) and records the run as completed.
func (r *run) finish() (*Report, error) {
	rep := r.rep
	rep.Timeline = r.timeline.get()
	rep.Mapping = mappingReport(r.mapping.Stats())
	f := functionReport(r.function.Stats())
	rep.Function.Invocations, rep.Function.ColdStarts, rep.Function.BusySeconds = f.Invocations, f.ColdStarts, f.BusySeconds
	rep.Function.derive()
	rep.Injected = r.counts.report(rep.Injected.Poison)
	rep.Emulators, rep.EmulatorErrors = localenv.DescribeEmulators(r.st.Endpoints)
	rep.DurationSeconds = r.elapsed.Seconds()
	rep.derive()
	rep.Parts = 1
	r.earlier.addTo(rep)
	r.st.Status = statusCompleted
	if err := saveState(r.opts.WorkDir, r.st); err != nil {
		return nil, err
	}
	if err := removeParts(r.opts.WorkDir); err != nil {
		return nil, err
	}
	return rep, nil
}

// derive computes the records per second from Sent and the duration.
func (r *Report) derive() {
	r.RecordsPerSecond = 0
	if r.DurationSeconds > 0 {
		r.RecordsPerSecond = float64(r.Sent) / r.DurationSeconds
	}
}

// mappingReport is the report of the mapping's counters s.
func mappingReport(s esm.Stats) MappingReport {
	return MappingReport{
		Polled: s.PolledRecords, FilteredOut: s.FilteredRecords, Invocations: s.Invocations,
		FunctionErrors: s.FunctionErrors, PartialFailures: s.PartialFailures, Retries: s.Retries,
		Bisects: s.Bisects, Dropped: s.DroppedRecords, OnFailureSent: s.OnFailureMessages,
	}
}

// functionReport is the report of a function's counters s.
func functionReport(s localenv.FunctionStats) FunctionReport {
	return FunctionReport{Invocations: s.Invocations, ColdStarts: s.ColdStarts, BusySeconds: float64(s.Busy.Microseconds()) / 1e6}
}

func streamNameOf(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

// lagAfter counts the records after checkpoint.
func lagAfter(recs []streamRecord, checkpoint string) int {
	if checkpoint == "" {
		return len(recs)
	}
	for i, r := range recs {
		if r.seq == checkpoint {
			return len(recs) - i - 1
		}
	}
	return 0
}
