package dynamostore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/summary"
)

// TestDeviceIDLimitThroughMoto aggregates an object holding a record whose
// device ID is too long for a DynamoDB partition key and records whose device
// IDs differ only in bytes that are not UTF-8. The object is aggregated (before,
// the transaction failed with a ValidationException and the message went to the
// dead-letter queue), the long ID is counted as no device, and an ID of the
// longest usable length is stored.
func TestDeviceIDLimitThroughMoto(t *testing.T) {
	h := newHarness(t)
	recs := readings(21, 40, 3, 2)
	at := time.Date(2026, 11, 21, 10, 20, 0, 0, time.UTC)
	longest := reading{device: strings.Repeat("L", summary.MaxDeviceIDBytes), at: at, temp: "1.5"}
	tooLong := reading{device: strings.Repeat("x", 2100), at: at, temp: "2.5"}
	good := append(append([]reading{}, recs...), longest)

	var lines []string
	for i, r := range append(append([]reading{}, good...), tooLong) {
		lines = append(lines, r.line(i+1, "2026-11-21T13:40:06.000Z"))
	}
	// Two device IDs with a byte that is not UTF-8: DynamoDB receives both as
	// "bad\uFFFD", one item.
	for i, b := range []string{"\xff", "\xfe"} {
		r := reading{device: "BAD-PLACEHOLDER", at: at, temp: "3"}
		lines = append(lines, strings.Replace(r.line(100+i, "2026-11-21T13:40:06.000Z"), `"device_id":"BAD-PLACEHOLDER"`, `"device_id":"bad`+b+`"`, 1))
		good = append(good, reading{device: "bad\uFFFD", at: at, temp: "3"})
	}
	key := objectKey(6, 1)
	etag := h.put(t, key, gz([]byte(strings.Join(lines, "\n")+"\n")))
	h.handle(t, message(h.notification(key, etag)))

	h.check(t, expected(t, good), true)
	c, ok, err := h.store.Contribution(context.Background(), key)
	if err != nil || !ok {
		t.Fatalf("Contribution = %v, %v", ok, err)
	}
	if st := c.Contribution.Stats; st.NoDevice != 1 || st.Records != int64(len(good)) || st.Lines != int64(len(lines)) {
		t.Errorf("stats = %+v; want NoDevice 1, Records %d, Lines %d", st, len(good), len(lines))
	}
}
