package esm

import (
	"cmp"
	"context"
	"fmt"
	"time"
)

// runUntilDrained is the loop behind KinesisMapping.RunUntilDrained and
// SQSMapping.RunUntilDrained. It calls run in a goroutine; once upstreamDone is
// closed (nil means the upstream is already done) it calls begin for the drain
// check and calls that check every period; when the check reports true it
// cancels run's context and returns what run returns. If run returns first,
// it returns run's error, or ctx.Err(), or an error saying that the mapping
// stopped before its source ("stream", "queue") was drained.
func runUntilDrained(ctx context.Context, upstreamDone <-chan struct{}, source string, period time.Duration,
	run func(context.Context) error, begin func() (drained func(context.Context) bool)) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- run(runCtx) }()
	stopped := func(err error) error {
		return cmp.Or(err, ctx.Err(), fmt.Errorf("esm: mapping stopped before the %s was drained", source))
	}
	if upstreamDone != nil {
		select {
		case err := <-errc:
			return stopped(err)
		case <-upstreamDone:
		}
	}
	drained := begin()
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		if drained(runCtx) {
			cancel()
			return <-errc
		}
		select {
		case err := <-errc:
			return stopped(err)
		case <-tick.C:
		}
	}
}
