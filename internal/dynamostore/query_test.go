package dynamostore_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/streamlake/streamlake/internal/dynamostore"
	"github.com/streamlake/streamlake/internal/summary"
)

// smallPages makes Query and Scan calls without a Limit return pages of two
// items, as DynamoDB returns 1 MB pages, so that the store must follow
// LastEvaluatedKey to read everything.
type smallPages struct{ dynamostore.API }

func (c smallPages) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if in.Limit == nil {
		cp := *in
		cp.Limit = aws.Int32(2)
		in = &cp
	}
	return c.API.Query(ctx, in, opts...)
}

func (c smallPages) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	if in.Limit == nil {
		cp := *in
		cp.Limit = aws.Int32(2)
		in = &cp
	}
	return c.API.Scan(ctx, in, opts...)
}

func TestQuery(t *testing.T) {
	h := newEnv(t).harness(t, func(api dynamostore.API) dynamostore.API { return smallPages{api} })
	recs := readings(21, 300, 3, 5) // hours 10 to 14
	k := objectKey(6, 1)
	h.handle(t, message(h.notification(k, h.put(t, k, body(recs, "s")))))
	want := expected(t, recs)
	ctx := context.Background()
	at := func(hour int) time.Time { return time.Date(2026, 11, 21, hour, 30, 0, 0, time.UTC) }

	tests := []struct {
		name     string
		pk       string
		from, to time.Time
		hours    []string
	}{
		{"device, middle hours", summary.DevicePK("sensor-0002"), at(11), at(13), []string{"HOUR#2026-11-21T11", "HOUR#2026-11-21T12", "HOUR#2026-11-21T13"}},
		{"fleet, one hour", summary.FleetPK, at(14), at(14), []string{"HOUR#2026-11-21T14"}},
		{"fleet, all and more", summary.FleetPK, at(0), at(23), []string{"HOUR#2026-11-21T10", "HOUR#2026-11-21T11", "HOUR#2026-11-21T12", "HOUR#2026-11-21T13", "HOUR#2026-11-21T14"}},
		{"unknown device", summary.DevicePK("nope"), at(0), at(23), nil},
		{"before the data", summary.FleetPK, at(1), at(9), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, err := h.store.Query(ctx, tc.pk, tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			var hours []string
			for _, it := range items {
				hours = append(hours, it.Key.SK)
				if it.Key.PK != tc.pk {
					t.Errorf("Query(%s) returned %s", tc.pk, it.Key)
				}
				if d := summary.Compare(map[summary.Key]*summary.Summary{it.Key: want[it.Key]}, map[summary.Key]*summary.Summary{it.Key: it.Summary}); len(d) > 0 {
					t.Errorf("Query item differs: %v", d)
				}
			}
			if len(hours) != len(tc.hours) {
				t.Fatalf("Query(%s, %v, %v) hours = %v; want %v", tc.pk, tc.from, tc.to, hours, tc.hours)
			}
			for i := range hours {
				if hours[i] != tc.hours[i] {
					t.Errorf("Query hours = %v; want %v", hours, tc.hours)
				}
			}
		})
	}
	if _, err := h.store.Query(ctx, summary.FleetPK, at(12), at(11)); err == nil {
		t.Errorf("Query with to before from succeeded; want an error")
	}

	for pk, want := range map[string]string{summary.FleetPK: "2026-11-21T14", summary.DevicePK("sensor-0002"): "2026-11-21T14", summary.DevicePK("nope"): ""} {
		h, ok, err := h.store.LatestHour(ctx, pk)
		got := ""
		if ok {
			got = h.Format(summary.HourLayout)
		}
		if err != nil || got != want {
			t.Errorf("LatestHour(%s) = %q, %v, %v; want %q", pk, got, ok, err, want)
		}
	}

	// The object is overwritten without its records of hour 14: the hour's items
	// stay, with count 0, and are no data.
	var early []reading
	for _, r := range recs {
		if r.at.Hour() < 14 {
			early = append(early, r)
		}
	}
	h.handle(t, message(h.notification(k, h.put(t, k, body(early, "s")))))
	for _, pk := range []string{summary.FleetPK, summary.DevicePK("sensor-0002")} {
		got, ok, err := h.store.LatestHour(ctx, pk)
		if err != nil || !ok || got.Format(summary.HourLayout) != "2026-11-21T13" {
			t.Errorf("LatestHour(%s) after hour 14 emptied = %v, %v, %v; want 2026-11-21T13", pk, got, ok, err)
		}
	}

	keys := []summary.Key{summary.FleetKey(at(10)), summary.DeviceKey("nope", at(10))}
	got, err := h.store.Get(ctx, keys)
	if err != nil || len(got) != 1 || got[keys[0]] == nil || got[keys[0]].Count != want[keys[0]].Count {
		t.Errorf("Get(%v) = %v, %v; want only the fleet hour with count %d", keys, got, err, want[keys[0]].Count)
	}
	all, err := h.store.ScanSummaries(ctx)
	if err != nil || len(all) != len(want) {
		t.Errorf("ScanSummaries = %d items, %v; want %d (contribution items left out)", len(all), err, len(want))
	}
	if items := dynamostore.SortedItems(all); len(items) == 0 || items[0].Key.PK != "DEVICE#sensor-0001" {
		t.Errorf("SortedItems first = %v; want DEVICE#sensor-0001 first", items)
	}
}
