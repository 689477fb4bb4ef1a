package pipeline

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/streamlake/streamlake/internal/esm"
	"github.com/streamlake/streamlake/internal/producer"
	"github.com/streamlake/streamlake/internal/sensor"
)

// producedCounter counts the records in the stream, for the progress line, and
// remembers which of the records this part of the run put are poison. It is
// safe for concurrent use.
type producedCounter struct {
	n      sync.Mutex
	v      int64
	poison []string // "shardId:sequenceNumber" as PutRecords acknowledged them
}

func (p *producedCounter) add(d int64) { p.n.Lock(); p.v += d; p.n.Unlock() }
func (p *producedCounter) get() int64  { p.n.Lock(); defer p.n.Unlock(); return p.v }

// addPoison records that the record Kinesis stored as shard:seq is poison.
func (p *producedCounter) addPoison(shard, seq string) {
	p.n.Lock()
	p.poison = append(p.poison, shard+":"+seq)
	p.n.Unlock()
}

// poisonRecords returns the poison records acknowledged so far.
func (p *producedCounter) poisonRecords() []string {
	p.n.Lock()
	defer p.n.Unlock()
	return slices.Clone(p.poison)
}

// startProduction produces the run's records in the background, while the
// mappings process them, as in AWS; with NoProduce it watches for another
// producer's records instead. done is closed when production ends; wait waits
// for that and returns production's error.
func (r *run) startProduction(ctx context.Context) (done <-chan struct{}, wait func() error) {
	r.produced = &producedCounter{}
	ch := make(chan struct{})
	if r.opts.NoProduce {
		go waitIdle(ctx, r.mapping, r.opts.Idle, ch)
		return ch, func() error { return nil }
	}
	var err error
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(ch)
		start := time.Now()
		err = r.produce(ctx)
		r.rep.Function.ProduceSecond = time.Since(start).Seconds()
	})
	return ch, func() error {
		wg.Wait()
		return err
	}
}

// produce puts the records the run still needs: Count minus what the stream holds
// (a resumed run does not produce twice).
func (r *run) produce(ctx context.Context) error {
	existing, _, err := readStream(ctx, r.kin, r.streamARN)
	if err != nil {
		return err
	}
	have := 0
	for _, recs := range existing {
		have += len(recs)
	}
	r.produced.add(int64(have))
	records, poison, err := r.records(have)
	if err != nil {
		return err
	}
	opts, rep := r.opts, r.rep
	// offset is the index in records of the slice given to the running Put,
	// which calls the delivery function from its own goroutine.
	offset := 0
	popts := []producer.Option{producer.WithDeliveryFunc(func(d producer.Delivery) {
		r.produced.add(1)
		if poison[offset+d.Index] {
			r.produced.addPoison(d.ShardID, d.SequenceNumber)
		}
	})}
	if opts.Rate > 0 {
		popts = append(popts, producer.WithRate(opts.Rate))
	}
	p := producer.New(r.kin, r.streamARN, popts...)
	before, after := records, []producer.Record(nil)
	if opts.ReshardAt > 0 {
		cut := min(max(opts.ReshardAt-have, 0), len(records))
		before, after = records[:cut], records[cut:]
	}
	// Sent counts the deliveries, which an interrupted Put reports too.
	defer func() { rep.Producer.Sent = r.produced.get() - int64(have) }()
	for i, part := range [][]producer.Record{before, after} {
		if i == 1 && opts.ReshardAt > 0 {
			// The reshard happens while the mapping runs, after ReshardAt
			// records were produced (a resumed run reshards if the stream does
			// not have ReshardTo shards yet).
			if err := reshardOnce(ctx, r.kin, r.streamARN, opts.ReshardTo, opts.Log); err != nil {
				return err
			}
		}
		if i == 1 {
			offset = len(before)
		}
		res, err := p.Put(ctx, part)
		rep.Producer.Retries += res.Retries
		rep.Producer.Failed += res.Failed
		if err != nil {
			return fmt.Errorf("produce: %w", err)
		}
		if res.Failed > 0 {
			return fmt.Errorf("produce: %d records not delivered", res.Failed)
		}
	}
	return nil
}

// records generates the run's Count sensor records and returns those after the
// first have (produced by an interrupted run), and for each whether it is
// poison: HeartbeatRate of them device
// heartbeats (producer.Heartbeat), which the default FilterCriteria drops
// before invocation, and Faults.PoisonRate of the others poison
// (producer.Poison, a device with a broken clock), which the transform
// quarantines.
func (r *run) records(have int) ([]producer.Record, []bool, error) {
	opts := r.opts
	start := opts.Start
	if start.IsZero() {
		start = time.Now().UTC().Truncate(time.Second)
	}
	gen, err := sensor.NewGenerator(sensor.Config{Devices: opts.Devices, Seed: opts.Seed, Start: start})
	if err != nil {
		return nil, nil, err
	}
	poison := newLockedRand(opts.Faults.Seed, 3)
	noise := newLockedRand(opts.Seed, 4)
	var records []producer.Record
	var isPoison []bool
	for i := 0; i < opts.Count; i++ {
		rd := gen.Next()
		if i < have {
			continue // produced by the interrupted run
		}
		data := rd.AppendShape(nil, opts.Shape)
		bad := false
		if opts.HeartbeatRate > 0 && noise.float() < opts.HeartbeatRate {
			data = producer.Heartbeat(rd)
		} else if opts.Faults.PoisonRate > 0 && poison.float() < opts.Faults.PoisonRate {
			data = producer.Poison(rd, opts.Shape, data)
			r.rep.Injected.Poison++
			bad = true
		}
		records = append(records, producer.Record{PartitionKey: rd.PartitionKey(), Data: data})
		isPoison = append(isPoison, bad)
	}
	return records, isPoison, nil
}

// waitIdle closes done once the mapping has polled nothing new for idle.
func waitIdle(ctx context.Context, m *esm.KinesisMapping, idle time.Duration, done chan<- struct{}) {
	defer close(done)
	last, since := int64(-1), time.Now()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if p := m.Stats().PolledRecords; p != last {
			last, since = p, time.Now()
		} else if time.Since(since) >= idle {
			return
		}
	}
}
