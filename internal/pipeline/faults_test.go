package pipeline

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/esm"
	"github.com/streamlake/streamlake/internal/localenv"
)

// recordingInvoker records how the fault injector invoked it.
type recordingInvoker struct {
	plain  int
	faults map[localenv.Fault]int
	err    error
}

func (r *recordingInvoker) Invoke(context.Context, []byte) (esm.Invocation, error) {
	r.plain++
	return esm.Invocation{}, r.err
}

func (r *recordingInvoker) InvokeWithFault(_ context.Context, _ []byte, f localenv.Fault) (esm.Invocation, error) {
	r.faults[f]++
	return esm.Invocation{FunctionError: "injected"}, r.err
}

func TestFaultInjector(t *testing.T) {
	const n = 2000
	for _, tc := range []struct {
		name   string
		faults Faults
		check  func(t *testing.T, r *recordingInvoker, c InjectedFaults)
	}{
		{"none", Faults{}, func(t *testing.T, r *recordingInvoker, c InjectedFaults) {
			if r.plain != n || len(r.faults) != 0 || c != (InjectedFaults{}) {
				t.Errorf("plain %d, faults %v, counts %+v; want %d plain invocations only", r.plain, r.faults, c, n)
			}
		}},
		{"crashes", Faults{CrashRate: 1, Seed: 3}, func(t *testing.T, r *recordingInvoker, c InjectedFaults) {
			before, after := r.faults[localenv.CrashBeforeHandler], r.faults[localenv.CrashAfterHandler]
			if r.plain != 0 || before+after != n || before < n/3 || after < n/3 || c.CrashesBefore != int64(before) || c.CrashesAfter != int64(after) {
				t.Errorf("plain %d, faults %v, counts %+v; want every invocation a crash, about half before the handler", r.plain, r.faults, c)
			}
		}},
		{"timeouts", Faults{TimeoutRate: 1}, func(t *testing.T, r *recordingInvoker, c InjectedFaults) {
			if r.faults[localenv.Timeout] != n || c.Timeouts != n || r.plain != 0 {
				t.Errorf("plain %d, faults %v, counts %+v; want every invocation a timeout", r.plain, r.faults, c)
			}
		}},
		{"some", Faults{CrashRate: 0.1, TimeoutRate: 0.1, Seed: 9}, func(t *testing.T, r *recordingInvoker, c InjectedFaults) {
			crashes, timeouts := c.CrashesBefore+c.CrashesAfter, c.Timeouts
			if crashes < n/20 || crashes > n/5 || timeouts < n/20 || timeouts > n/5 || int64(r.plain)+crashes+timeouts != n {
				t.Errorf("plain %d, counts %+v; want about a tenth crashes and a tenth timeouts", r.plain, c)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recordingInvoker{faults: map[localenv.Fault]int{}}
			counts := &faultCounts{}
			fi := &faultInjector{next: r, faults: tc.faults, rng: newLockedRand(tc.faults.Seed, 2), counts: counts}
			for range n {
				if _, err := fi.Invoke(context.Background(), nil); err != nil {
					t.Fatal(err)
				}
			}
			tc.check(t, r, counts.report(0))
		})
	}

	// A host error is returned and no fault counted.
	r := &recordingInvoker{faults: map[localenv.Fault]int{}, err: errors.New("host down")}
	counts := &faultCounts{}
	fi := &faultInjector{next: r, faults: Faults{TimeoutRate: 1}, rng: newLockedRand(1, 2), counts: counts}
	if _, err := fi.Invoke(context.Background(), nil); err == nil || counts.timeouts.Load() != 0 {
		t.Errorf("Invoke with a host error: error %v, %d timeouts counted; want the error and none", err, counts.timeouts.Load())
	}
}

// TestOptionsRejectNonFiniteRates: NaN compares false with everything, so a range
// check written as v < 0 || v > 1 let it through, and it acted as 0.
func TestOptionsRejectNonFiniteRates(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"crash NaN", Options{Faults: Faults{CrashRate: nan}}, "crash rate NaN is not between 0 and 1"},
		{"poison NaN", Options{Faults: Faults{PoisonRate: nan}}, "poison rate NaN is not between 0 and 1"},
		{"S3 NaN", Options{Faults: Faults{S3FailureRate: nan}}, "S3 failure rate NaN is not between 0 and 1"},
		{"timeout NaN", Options{Faults: Faults{TimeoutRate: nan}}, "timeout rate NaN is not between 0 and 1"},
		{"heartbeat NaN", Options{HeartbeatRate: nan}, "heartbeat rate NaN is not between 0 and 1"},
		{"rate NaN", Options{Rate: nan}, "rate NaN: want records per second, 0 or more"},
		{"rate Inf", Options{Rate: inf}, "rate +Inf: want records per second, 0 or more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.opts.withDefaults()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("withDefaults() error = %v; want %q", err, tc.want)
			}
		})
	}
}
