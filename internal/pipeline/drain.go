package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/streamlake/streamlake/internal/esm"
)

// drain runs the mappings until the stream is drained after production ended
// (produced closed), then until the SQS mappings have drained their queues:
// then every object, and so every notification, is written. On failure it
// keeps the counters of this part of the run (saveParts) for the part that
// resumes it.
func (r *run) drain(ctx context.Context, produced <-chan struct{}, waitProducer func() error) error {
	up := newUpstream()
	sqsCtx, cancelSQS := context.WithCancel(ctx)
	defer cancelSQS()
	waitConsumers := runConsumers(sqsCtx, r.consumers, up)
	part := partSources{mapping: r.mapping, fn: r.function, counts: r.counts, consumers: r.consumers, produced: r.produced, rep: r.rep, started: r.started}
	r.timeline = &timeline{}
	probe := newDrainProbe(ctx, r.lenv, r.consumers, r.resources.Tables, r.sqs, up)
	stopProgress := startProgress(r.opts.Progress, r.timeline, r.mapping, r.produced, probe, r.started)
	runErr := r.mapping.RunUntilDrained(ctx, produced)
	produceErr := waitProducer()
	if runErr != nil {
		stopProgress()
		cancelSQS()
		_ = waitConsumers()
		return errors.Join(fmt.Errorf("event source mapping: %w (state kept in %s: run again to resume)", runErr, r.opts.WorkDir),
			saveParts(r.opts.WorkDir, r.earlier.add(part.snapshot())))
	}
	up.close()
	err := waitConsumers()
	stopProgress()
	if err != nil {
		return errors.Join(fmt.Errorf("%w (state kept in %s: run again to resume)", err, r.opts.WorkDir),
			saveParts(r.opts.WorkDir, r.earlier.add(part.snapshot())))
	}
	if produceErr != nil {
		return produceErr
	}
	r.elapsed = time.Since(r.started)
	return nil
}

// upstream is closed when the Kinesis mapping has drained the stream: every
// object is written, so every notification is in the queue.
type upstream struct {
	done chan struct{}
	at   time.Time // written before done is closed
}

func newUpstream() *upstream { return &upstream{done: make(chan struct{})} }

func (u *upstream) close() {
	u.at = time.Now()
	close(u.done)
}

// runConsumers runs every SQS mapping in the background until its queue is
// drained after up is closed; wait returns their errors once all returned.
func runConsumers(ctx context.Context, cs []*sqsConsumer, up *upstream) (wait func() error) {
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			if err := c.mapping.RunUntilDrained(ctx, up.done); err != nil {
				errs[i] = fmt.Errorf("event source mapping %s.%s: %w", c.fn.LogicalID, c.event.Name, err)
				return
			}
			// RunUntilDrained returns nil only after up.done was closed.
			c.drained = time.Since(up.at)
		})
	}
	return func() error {
		wg.Wait()
		return errors.Join(errs...)
	}
}

// startProgress samples the run into tl four times a second, and at the start and
// the end, and passes a sample to f about once a second if f is not nil. It runs
// until stop is called: through the aggregator's drain too.
func startProgress(f func(Progress), tl *timeline, m *esm.KinesisMapping, produced *producedCounter, probe *drainProbe, started time.Time) (stop func()) {
	tl.add(time.Since(started), produced.get(), m.Stats(), probe.sample(false))
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second / 4)
		defer t.Stop()
		for tick := 1; ; tick++ {
			select {
			case <-done:
				return
			case <-t.C:
			}
			s := m.Stats()
			// The queue and the table are read once a second; the mappings'
			// counters at every sample.
			a := probe.sample(tick%4 == 0)
			tl.add(time.Since(started), produced.get(), s, a)
			if f == nil || tick%4 != 0 {
				continue
			}
			f(Progress{Produced: produced.get(), Polled: s.PolledRecords, Filtered: s.FilteredRecords, Invocations: s.Invocations,
				Succeeded: s.SucceededRecords, Dropped: s.DroppedRecords, Retries: s.Retries, FunctionErrors: s.FunctionErrors, Elapsed: time.Since(started),
				Aggregating: a.Aggregating, Notifications: a.Notifications, NotificationsLeft: a.NotificationsLeft, SummaryItems: a.SummaryItems})
		}
	})
	return func() {
		close(done)
		wg.Wait()
		tl.add(time.Since(started), produced.get(), m.Stats(), probe.sample(true))
	}
}
