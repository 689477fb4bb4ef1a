package lambdahost

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// Pool is a fixed number of independent execution environments (Hosts) of the same
// function, for concurrent invocations: each environment handles one invocation at
// a time, as in Lambda. Invoke blocks until an environment is free; the most
// recently used free environment is taken first, so a warm one is preferred, as
// Lambda does. A Pool is safe for concurrent use. The zero value is not usable; use
// NewPool.
type Pool struct {
	hosts   []*Host
	sizeErr error
	tokens  chan struct{} // one per free environment

	mu   sync.Mutex
	free []*Host // stack of free environments
}

// NewPool returns a Pool of size environments of cfg. Like New, it does no I/O;
// processes start on demand. A size below 1 or a config error is reported by every
// Invoke. The pool serializes the environments' writes to cfg.Stdout and
// cfg.Stderr.
func NewPool(cfg Config, size int) *Pool {
	p := &Pool{}
	if size < 1 {
		p.sizeErr = fmt.Errorf("lambdahost: pool size %d: must be at least 1", size)
		return p
	}
	cfg.Stdout, cfg.Stderr = lockWriters(cfg.Stdout, cfg.Stderr)
	p.tokens = make(chan struct{}, size)
	for range size {
		h := New(cfg)
		p.hosts = append(p.hosts, h)
		p.free = append(p.free, h)
		p.tokens <- struct{}{}
	}
	return p
}

// Size returns the number of environments.
func (p *Pool) Size() int { return len(p.hosts) }

// Invoke waits for a free environment (or ctx) and invokes the function in it; see
// Host.Invoke for the result and errors.
func (p *Pool) Invoke(ctx context.Context, payload []byte) (Result, error) {
	return p.with(ctx, func(h *Host) (Result, error) { return h.Invoke(ctx, payload) })
}

// InvokeAndStop is Invoke, after which the environment's process is stopped
// before the environment takes another invocation, as when a process is killed
// right after its handler returned: the environment's next invocation is a cold
// start. Fault injection uses it to simulate crashes and timeouts.
func (p *Pool) InvokeAndStop(ctx context.Context, payload []byte) (Result, error) {
	return p.with(ctx, func(h *Host) (Result, error) {
		defer h.stop()
		return h.Invoke(ctx, payload)
	})
}

// StopOne waits for a free environment (or ctx) and stops its process, if any,
// as when a process is killed before its handler runs: the environment's next
// invocation is a cold start.
func (p *Pool) StopOne(ctx context.Context) error {
	_, err := p.with(ctx, func(h *Host) (Result, error) {
		h.stop()
		return Result{}, nil
	})
	return err
}

// with lends f the most recently used free environment, waiting for one (or
// ctx).
func (p *Pool) with(ctx context.Context, f func(*Host) (Result, error)) (Result, error) {
	if p.sizeErr != nil {
		return Result{}, p.sizeErr
	}
	if err := p.hosts[0].cfgErr; err != nil {
		return Result{}, err
	}
	select {
	case <-p.tokens:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invoke %s: wait for a free execution environment: %w", p.hosts[0].cfg.FunctionName, ctx.Err())
	case <-p.hosts[0].closing:
		return Result{}, ErrClosed
	}
	p.mu.Lock()
	h := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.free = append(p.free, h)
		p.mu.Unlock()
		p.tokens <- struct{}{}
	}()
	select {
	case <-h.closing:
		return Result{}, ErrClosed
	default:
	}
	return f(h)
}

// Close closes every environment (see Host.Close). It is safe to call more than
// once.
func (p *Pool) Close() error {
	for _, h := range p.hosts {
		h.Close() //nolint:errcheck // Host.Close never fails
	}
	return nil
}

// lockedWriter serializes Write calls to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// lockWriters wraps non-nil writers; the same writer gets the same lock.
func lockWriters(stdout, stderr io.Writer) (io.Writer, io.Writer) {
	var out, errw io.Writer
	if stdout != nil {
		out = &lockedWriter{w: stdout}
	}
	switch {
	case stderr == nil:
	case stderr == stdout:
		errw = out
	default:
		errw = &lockedWriter{w: stderr}
	}
	return out, errw
}
