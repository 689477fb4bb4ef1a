package esm

import (
	"context"
	"sync"
)

// group runs the goroutines of one run of a mapping (shard readers and lanes,
// or pollers). The first error one of them returns ends the run: it cancels
// the group's context, and wait returns it. Errors returned once the context
// is done (the run is ending anyway) are ignored. start may be called while the
// group runs, also from its own goroutines, until wait returns.
type group struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

// newGroup returns a group whose context is derived from ctx.
func newGroup(ctx context.Context) *group {
	ctx, cancel := context.WithCancel(ctx)
	return &group{ctx: ctx, cancel: cancel}
}

// start calls f with the group's context in a goroutine; an error f returns ends
// the run.
func (g *group) start(f func(ctx context.Context) error) {
	g.wg.Go(func() {
		if err := f(g.ctx); err != nil && g.ctx.Err() == nil {
			g.once.Do(func() { g.err = err; g.cancel() })
		}
	})
}

// wait waits for every goroutine, cancels the context and returns the error
// that ended the run, nil if none did.
func (g *group) wait() error {
	g.wg.Wait()
	g.cancel()
	return g.err
}
