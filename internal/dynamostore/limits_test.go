package dynamostore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/streamlake/streamlake/internal/dynamostore"
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

// TestSummableDomainThroughMoto aggregates an object whose temperatures include
// numbers outside the summable domain (1e37, whose sum with 21.43 needs 40
// significant digits, which DynamoDB rejects and moto rounds; a 40-digit value).
// They are left out of the stored sums, which stay exact, and counted in the
// contribution's stats.
func TestSummableDomainThroughMoto(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	recs := readings(22, 30, 2, 1)
	at := recs[0].at
	extra := []reading{
		{device: recs[0].device, at: at, temp: "21.43"},
		{device: recs[0].device, at: at, temp: "1e37"},
		{device: recs[0].device, at: at, temp: "1234567890123456789012345678901234567890"},
		{device: recs[0].device, at: at, temp: "0.30000000000000004"},
	}
	all := append(append([]reading{}, recs...), extra...)
	key := objectKey(7, 1)
	etag := h.put(t, key, body(all, "2026-11-21T13:40:06.000Z"))
	h.handle(t, message(h.notification(key, etag)))

	want := append([]reading{}, all...)
	want[len(recs)+1].temp, want[len(recs)+2].temp = "", "" // not summed
	h.check(t, expected(t, want), true)

	c, ok, err := h.store.Contribution(ctx, key)
	if err != nil || !ok {
		t.Fatalf("Contribution = %v, %v", ok, err)
	}
	if st := c.Contribution.Stats; st.Records != int64(len(all)) || st.OutOfRange["temperature"] != 2 || len(st.OutOfRange) != 1 {
		t.Errorf("stats = %+v; want Records %d, OutOfRange temperature: 2", st, len(all))
	}
	ck := dynamostore.ContributionKey(key)
	var n *types.AttributeValueMemberN
	item := h.item(t, ck.PK, ck.SK)
	if stats, ok := item["stats"].(*types.AttributeValueMemberM); ok {
		if oor, ok := stats.Value["outOfRange"].(*types.AttributeValueMemberM); ok {
			n, _ = oor.Value["temperature"].(*types.AttributeValueMemberN)
		}
	}
	if n == nil || n.Value != "2" {
		t.Errorf("contribution item stats = %+v; want outOfRange.temperature 2", item["stats"])
	}
}

// TestSumsExactThroughMoto: sums of summable numbers stay exact to DynamoDB's
// 38 significant digits when objects add to them one after another: a value of
// 12 integer and 21 fractional digits twice, and values small enough that a
// sum's text could take an exponent (1e-21). (The local emulator adds as
// DynamoDB does; stock moto rounds to 28 digits and fails on 1E-21.)
func TestSumsExactThroughMoto(t *testing.T) {
	h := newHarness(t)
	at := readings(23, 1, 1, 1)[0].at
	var all []reading
	for i, temps := range [][]string{
		{"999999999999.5", "1e-21", "0.30000000000000004", "1.5e-07", "1E+2", "-273.15"},
		{"999999999838.990000150000000040001", "1e-21", "-0.0", "12.3400"},
	} {
		var recs []reading
		for _, temp := range temps {
			recs = append(recs, reading{device: "d-num", at: at, temp: temp})
		}
		for range 2 { // two objects of each
			key := objectKey(8, len(all)+1)
			h.handle(t, message(h.notification(key, h.put(t, key, body(recs, "2026-11-21T13:40:06.000Z")))))
			all = append(all, recs...)
		}
		h.check(t, expected(t, all), true)
		if t.Failed() {
			t.Fatalf("after the objects of set %d", i+1)
		}
	}
}
