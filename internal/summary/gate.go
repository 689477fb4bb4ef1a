package summary

import "sync"

// keyGate lets the objects of one batch be applied at the same time only when
// their contributions share no summary key.
//
// The objects of a batch are read and parsed concurrently, but they nearly all
// touch the same fleet hour, and two transactions on one item at once cancel
// each other: DynamoDB answers the later one with a TransactionConflict
// cancellation, and a concurrent writer that widens a minimum, maximum, first
// or last first fails the other's condition
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling).
// Each cancellation costs a retry after a backoff and the reads before it.
// Applying such objects one after the other costs nothing of the kind, while
// objects with disjoint keys (other hours, other devices) still go in
// parallel. The gate only orders work: exactly-once comes from the Store's
// conditions, whatever the gate lets through (it knows the keys of the new
// contribution, not those of an overwritten version the Store retracts).
//
// The zero value is not usable; use newKeyGate. It is safe for concurrent use.
type keyGate struct {
	mu   sync.Mutex
	cond *sync.Cond
	busy map[Key]struct{}
}

func newKeyGate() *keyGate {
	g := &keyGate{busy: map[Key]struct{}{}}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// enter waits until none of keys is held by another caller, then holds them
// all. Callers hold all their keys or none, so no two callers wait for each
// other.
func (g *keyGate) enter(keys map[Key]*Summary) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.overlaps(keys) {
		g.cond.Wait()
	}
	for k := range keys {
		g.busy[k] = struct{}{}
	}
}

// leave releases keys, which the caller holds after enter.
func (g *keyGate) leave(keys map[Key]*Summary) {
	g.mu.Lock()
	for k := range keys {
		delete(g.busy, k)
	}
	g.mu.Unlock()
	g.cond.Broadcast()
}

func (g *keyGate) overlaps(keys map[Key]*Summary) bool {
	for k := range keys {
		if _, ok := g.busy[k]; ok {
			return true
		}
	}
	return false
}
