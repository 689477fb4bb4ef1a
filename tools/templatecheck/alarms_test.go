package templatecheck

import (
	"os"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/samtemplate"
)

// droppedAlarmProblems checks what the alarm on DroppedEventCount tells the reader.
// With an on-failure destination, DroppedEventCount counts only the records Lambda
// discarded and could not describe in the destination; the ones it did describe are
// OnFailureDestinationDeliveredEventCount
// (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html). So a
// text saying the dropped records "are described in the failure queue" sends the
// operator to the one place they are not.
func droppedAlarmProblems(text string) []string {
	var out []string
	lower := strings.ToLower(text)
	if strings.Contains(lower, "are described in the failure queue") {
		out = append(out, "says dropped records are described in the failure queue")
	}
	if !strings.Contains(text, "OnFailureDestinationDeliveredEventCount") {
		out = append(out, "does not name OnFailureDestinationDeliveredEventCount, the metric of the records that are in the queue")
	}
	return out
}

func TestDroppedRecordsAlarmText(t *testing.T) {
	doc := loadDoc(t, repoTemplate)
	if m, _ := samtemplate.Lookup(doc, "Resources.DroppedRecordsAlarm.Properties.MetricName"); m != "DroppedEventCount" {
		t.Fatalf("DroppedRecordsAlarm metric = %v; want DroppedEventCount", m)
	}
	desc, _ := samtemplate.Lookup(doc, "Resources.DroppedRecordsAlarm.Properties.AlarmDescription")
	for _, p := range droppedAlarmProblems(desc.(string)) {
		t.Errorf("DroppedRecordsAlarm description %s", p)
	}
	readme, err := os.ReadFile(repoREADME)
	if err != nil {
		t.Fatal(err)
	}
	var row string
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "| `<stack>-records-dropped`") {
			row = line
		}
	}
	if row == "" {
		t.Fatal("README has no row for the <stack>-records-dropped alarm")
	}
	for _, p := range droppedAlarmProblems(row) {
		t.Errorf("README's records-dropped row %s", p)
	}
}

func TestDroppedAlarmProblems(t *testing.T) {
	old := "The event source mapping discarded records (retries or record age exhausted). They are described in the failure queue; if FailureQueue is empty too, the on-failure destination could not be reached."
	if got := droppedAlarmProblems(old); len(got) != 2 {
		t.Errorf("droppedAlarmProblems(old description) = %q; want 2 problems", got)
	}
}
