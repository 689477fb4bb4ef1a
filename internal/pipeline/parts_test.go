package pipeline

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPartsAddUp checks that the report of the part that completes a run totals
// the counters of every part, and derives means and rates from the totals.
func TestPartsAddUp(t *testing.T) {
	first := partCounters{Parts: 1, DurationSeconds: 10,
		Mapping:  MappingReport{Polled: 600, FilteredOut: 10, Invocations: 6, FunctionErrors: 1, PartialFailures: 2, Retries: 3, Bisects: 1, Dropped: 0, OnFailureSent: 0},
		Function: FunctionReport{Invocations: 6, ColdStarts: 2, BusySeconds: 0.6},
		Injected: InjectedFaults{S3Failures: 1, CrashesBefore: 1, Timeouts: 1, Poison: 3},
		Producer: ProducerReport{Sent: 600, Retries: 5},
		SQS:      map[string]SQSFunctionReport{"AggregatorFunction.Notifications": {Received: 6, Deleted: 5, Failed: 1, Invocations: 2, LargestBatch: 4, ColdStarts: 1, BusySeconds: 2}},
	}
	second := partCounters{Parts: 1, DurationSeconds: 5,
		Mapping:  MappingReport{Polled: 100, Invocations: 1, OnFailureSent: 1, Dropped: 7},
		Function: FunctionReport{Invocations: 1, ColdStarts: 1, BusySeconds: 0.1},
		Injected: InjectedFaults{CrashesAfter: 2},
		Producer: ProducerReport{Sent: 50, Failed: 1},
		SQS:      map[string]SQSFunctionReport{"AggregatorFunction.Notifications": {Received: 1, Deleted: 1, Invocations: 1, LargestBatch: 1, BusySeconds: 1}},
	}
	earlier := partCounters{}.add(first).add(second)
	if earlier.Parts != 2 || earlier.Mapping.Polled != 700 || earlier.Producer.Sent != 650 || earlier.SQS["AggregatorFunction.Notifications"].LargestBatch != 4 {
		t.Fatalf("add = %+v; want 2 parts, 700 polled, 650 sent, largest batch 4", earlier)
	}

	// The last part, as Run fills it.
	rep := &Report{Sent: 1000, DurationSeconds: 5, RecordsPerSecond: 200, Parts: 1,
		Mapping:  MappingReport{Polled: 400, Invocations: 4, Retries: 1},
		Function: FunctionReport{Invocations: 3, ColdStarts: 1, BusySeconds: 0.3, MeanInvokeMS: 100, Environments: 3},
		Injected: InjectedFaults{Timeouts: 1, Poison: 1},
		Producer: ProducerReport{Sent: 350},
		SQSFunctions: []SQSFunctionReport{{Function: "AggregatorFunction", Event: "Notifications", Received: 3, Deleted: 3,
			Invocations: 1, LargestBatch: 3, BusySeconds: 1, MeanInvokeMS: 1000, Environments: 1, MessagesPerBusySecond: 3}},
	}
	earlier.addTo(rep)
	want := &Report{Sent: 1000, DurationSeconds: 20, RecordsPerSecond: 50, Parts: 3,
		Mapping:  MappingReport{Polled: 1100, FilteredOut: 10, Invocations: 11, FunctionErrors: 1, PartialFailures: 2, Retries: 4, Bisects: 1, Dropped: 7, OnFailureSent: 1},
		Function: FunctionReport{Invocations: 10, ColdStarts: 4, BusySeconds: 1.0, MeanInvokeMS: 100, Environments: 3},
		Injected: InjectedFaults{S3Failures: 1, CrashesBefore: 1, CrashesAfter: 2, Timeouts: 2, Poison: 4},
		Producer: ProducerReport{Sent: 1000, Retries: 5, Failed: 1},
		SQSFunctions: []SQSFunctionReport{{Function: "AggregatorFunction", Event: "Notifications", Received: 10, Deleted: 9, Failed: 1,
			Invocations: 4, LargestBatch: 4, ColdStarts: 1, BusySeconds: 4, MeanInvokeMS: 1000, Environments: 1, MessagesPerBusySecond: 2.25}},
	}
	if d := cmp.Diff(want, rep, cmp.Comparer(func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 })); d != "" {
		t.Errorf("report after addTo (-want +got):\n%s", d)
	}
}

func TestPartsOfAnUninterruptedRunChangeNothing(t *testing.T) {
	rep := &Report{Sent: 5, Parts: 1, DurationSeconds: 2, RecordsPerSecond: 2.5, Function: FunctionReport{Invocations: 1, MeanInvokeMS: 7}}
	want := *rep
	partCounters{}.addTo(rep)
	if d := cmp.Diff(&want, rep); d != "" {
		t.Errorf("addTo of no earlier part changed the report (-want +got):\n%s", d)
	}
}

func TestPartsFile(t *testing.T) {
	dir := t.TempDir()
	p := partCounters{Parts: 1, DurationSeconds: 3, Producer: ProducerReport{Sent: 9}, SQS: map[string]SQSFunctionReport{"F.E": {Received: 2}}}
	if err := saveParts(dir, p); err != nil {
		t.Fatal(err)
	}
	got, err := earlierParts(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(p, got); d != "" {
		t.Errorf("earlierParts after saveParts (-want +got):\n%s", d)
	}
	// A fresh run forgets them.
	if got, err := earlierParts(dir, false); err != nil || got.Parts != 0 {
		t.Errorf("earlierParts(fresh) = %+v, %v; want nothing", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, partsFile)); !os.IsNotExist(err) {
		t.Errorf("parts file after a fresh start: %v; want it removed", err)
	}
	// A damaged file is an error that names it, not silently zero counters.
	if err := os.WriteFile(filepath.Join(dir, partsFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := earlierParts(dir, true); err == nil {
		t.Error("earlierParts of a damaged file = nil error; want one")
	}
}
