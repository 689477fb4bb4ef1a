package producer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

// fast keeps retries quick in unit tests.
var fast = WithBackoff(time.Microsecond, 20*time.Microsecond)

// makeRecords returns n records over keys partition keys; each record's data is
// "<key>#<n-th record of that key>" so order per key can be checked.
func makeRecords(n, keys int) []Record {
	out := make([]Record, n)
	count := map[string]int{}
	for i := range out {
		k := fmt.Sprintf("sensor-%04d", i%keys+1)
		out[i] = Record{PartitionKey: k, Data: fmt.Appendf(nil, "%s#%06d", k, count[k])}
		count[k]++
	}
	return out
}

// wantStored is what Kinesis holds per key when order is kept.
func wantStored(records []Record) map[string][]string {
	m := map[string][]string{}
	for _, r := range records {
		m[r.PartitionKey] = append(m[r.PartitionKey], string(r.Data))
	}
	return m
}

// checkExactlyOnce fails unless every record was stored exactly once.
func checkExactlyOnce(t *testing.T, f *fakeKinesis, records []Record) {
	t.Helper()
	seen := map[string]int{}
	total := 0
	for _, datas := range f.stored {
		for _, d := range datas {
			seen[d]++
			total++
		}
	}
	if total != len(records) {
		t.Errorf("stored %d records; want %d", total, len(records))
	}
	for _, r := range records {
		if c := seen[string(r.Data)]; c != 1 {
			t.Errorf("record %s stored %d times; want 1", r.Data, c)
		}
	}
}

func throttled() error {
	return &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "Rate exceeded for shard"}
}

func TestPutPartialFailures(t *testing.T) {
	for _, ordered := range []bool{false, true} {
		t.Run(fmt.Sprintf("ordered=%v", ordered), func(t *testing.T) {
			records := makeRecords(3000, 7)
			f := newFake(t)
			rng := rand.New(rand.NewPCG(1, 2))
			f.callErr = func(call int) error {
				switch call % 9 {
				case 4:
					return throttled()
				case 7:
					return &smithy.GenericAPIError{Code: "InternalFailure", Message: "Internal Service Failure"}
				}
				return nil
			}
			f.entryCode = func(int, types.PutRecordsRequestEntry) string {
				switch rng.IntN(10) {
				case 0, 1:
					return "ProvisionedThroughputExceededException"
				case 2:
					return "InternalFailure"
				}
				return ""
			}
			p := New(f, "stream-a", WithOrdered(ordered), WithMaxAttempts(100), fast)
			res, err := p.Put(context.Background(), records)
			if err != nil {
				t.Fatalf("Put error: %v", err)
			}
			if res.Sent != int64(len(records)) || res.Failed != 0 {
				t.Errorf("Put = sent %d failed %d; want sent %d failed 0", res.Sent, res.Failed, len(records))
			}
			checkExactlyOnce(t, f, records)
			// Only failed entries are sent again: sends = records + retries.
			sends := 0
			for _, n := range f.sends {
				sends += n
			}
			if int64(sends) != int64(len(records))+res.Retries || res.Retries == 0 {
				t.Errorf("entries sent = %d, retries = %d; want sent = %d + retries > 0", sends, res.Retries, len(records))
			}
			if res.Calls != int64(f.calls) {
				t.Errorf("Result.Calls = %d; fake saw %d calls", res.Calls, f.calls)
			}
			if got := p.Stats(); got != res.Stats {
				t.Errorf("Stats() = %+v; want %+v", got, res.Stats)
			}
			if ordered {
				if diff := cmp.Diff(wantStored(records), f.stored); diff != "" {
					t.Errorf("per-key order broken (-want +got):\n%s", diff)
				}
				for c, in := range f.inputs {
					keys := map[string]bool{}
					for _, e := range in.Records {
						k := aws.ToString(e.PartitionKey)
						if keys[k] {
							t.Fatalf("ordered call %d holds two records of key %s", c+1, k)
						}
						keys[k] = true
					}
				}
			}
		})
	}
}

// TestPutUnorderedMayReorder shows why ordered mode exists: the default mode resends
// a failed entry after later entries of the same key were stored.
func TestPutUnorderedMayReorder(t *testing.T) {
	records := makeRecords(10, 1)
	f := newFake(t)
	f.entryCode = func(call int, e types.PutRecordsRequestEntry) string {
		if call == 1 && bytes.HasSuffix(e.Data, []byte("#000000")) {
			return "ProvisionedThroughputExceededException"
		}
		return ""
	}
	res, err := New(f, "s", fast).Put(context.Background(), records)
	if err != nil || res.Sent != 10 {
		t.Fatalf("Put = %+v, %v; want 10 sent", res.Stats, err)
	}
	got := f.stored["sensor-0001"]
	if got[len(got)-1] != "sensor-0001#000000" {
		t.Errorf("stored order %v; want the retried first record last", got)
	}
	// The same failure in ordered mode keeps the order.
	f2 := newFake(t)
	f2.entryCode = f.entryCode
	if _, err := New(f2, "s", fast, WithOrdered(true)).Put(context.Background(), records); err != nil {
		t.Fatalf("ordered Put error: %v", err)
	}
	if diff := cmp.Diff(wantStored(records), f2.stored); diff != "" {
		t.Errorf("ordered mode order (-want +got):\n%s", diff)
	}
}

func TestPutRetriesExhausted(t *testing.T) {
	for _, ordered := range []bool{false, true} {
		t.Run(fmt.Sprintf("ordered=%v", ordered), func(t *testing.T) {
			records := makeRecords(100, 5)
			f := newFake(t)
			f.entryCode = func(_ int, e types.PutRecordsRequestEntry) string {
				if aws.ToString(e.PartitionKey) == "sensor-0003" {
					return "ProvisionedThroughputExceededException"
				}
				return ""
			}
			res, err := New(f, "s", WithOrdered(ordered), WithMaxAttempts(3), fast).Put(context.Background(), records)
			if !errors.Is(err, ErrUndelivered) {
				t.Fatalf("Put error = %v; want ErrUndelivered", err)
			}
			if !strings.Contains(err.Error(), "20 of 100 records not delivered") {
				t.Errorf("Put error = %q; want it to say 20 of 100 records not delivered", err)
			}
			if res.Sent != 80 || res.Failed != 20 || len(res.Undelivered) != 20 {
				t.Fatalf("Put = sent %d failed %d undelivered %d; want 80, 20, 20", res.Sent, res.Failed, len(res.Undelivered))
			}
			for _, u := range res.Undelivered {
				want := Undelivered{Index: u.Index, PartitionKey: "sensor-0003", ErrorCode: "ProvisionedThroughputExceededException",
					ErrorMessage: "fake ProvisionedThroughputExceededException", Attempts: 3}
				if u != want || u.Index%5 != 2 {
					t.Errorf("undelivered %+v; want %+v", u, want)
				}
			}
			if res.Retries != 40 {
				t.Errorf("retries = %d; want 40 (2 per undelivered record)", res.Retries)
			}
			want := wantStored(records)
			delete(want, "sensor-0003")
			if diff := cmp.Diff(want, f.stored); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPutNonRetryableEntryCode(t *testing.T) {
	records := makeRecords(4, 4)
	f := newFake(t)
	f.entryCode = func(_ int, e types.PutRecordsRequestEntry) string {
		if aws.ToString(e.PartitionKey) == "sensor-0002" {
			return "KMSAccessDeniedException"
		}
		return ""
	}
	res, err := New(f, "s", fast).Put(context.Background(), records)
	if !errors.Is(err, ErrUndelivered) || res.Failed != 1 || res.Sent != 3 {
		t.Fatalf("Put = %+v, %v; want 1 failed with ErrUndelivered", res.Stats, err)
	}
	if u := res.Undelivered[0]; u.Attempts != 1 || u.ErrorCode != "KMSAccessDeniedException" || u.Index != 1 {
		t.Errorf("undelivered = %+v; want index 1 after 1 attempt with KMSAccessDeniedException", u)
	}
}

func TestPutNonRetryableCallError(t *testing.T) {
	f := newFake(t)
	f.callErr = func(int) error {
		return &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "Stream s not found"}
	}
	res, err := New(f, "s", fast).Put(context.Background(), makeRecords(1200, 3))
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ResourceNotFoundException" {
		t.Fatalf("Put error = %v; want ResourceNotFoundException", err)
	}
	if f.calls != 1 || res.Failed != 1200 || res.Sent != 0 || len(res.Undelivered) != 1200 {
		t.Errorf("calls %d, Put = %+v; want 1 call, all 1200 failed", f.calls, res.Stats)
	}
	if !strings.Contains(err.Error(), "1200 of 1200 records not delivered") {
		t.Errorf("Put error = %q; want the undelivered count", err)
	}
}

func TestPutBadResponse(t *testing.T) {
	f := newFake(t)
	f.badResponse = true
	_, err := New(f, "s", fast).Put(context.Background(), makeRecords(3, 3))
	if err == nil || !strings.Contains(err.Error(), "response has 2 entries for 3 records") {
		t.Errorf("Put error = %v; want a response length error", err)
	}
}

func TestPutContextCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFake(t)
	f.callErr = func(call int) error {
		if call == 2 {
			cancel()
			return context.Canceled
		}
		return nil
	}
	records := makeRecords(1500, 3)
	res, err := New(f, "s", fast).Put(ctx, records)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put error = %v; want context.Canceled", err)
	}
	if res.Sent != 500 || res.Failed != 1000 || res.Sent+res.Failed != int64(len(records)) {
		t.Errorf("Put = %+v; want 500 sent, 1000 failed", res.Stats)
	}
}

func TestBatchingLimits(t *testing.T) {
	mib := 1 << 20
	big := func(n, dataSize int, key string) []Record {
		out := make([]Record, n)
		for i := range out {
			d := bytes.Repeat([]byte{'x'}, dataSize)
			copy(d, fmt.Sprintf("%04d", i))
			out[i] = Record{PartitionKey: key, Data: d}
		}
		return out
	}
	tests := []struct {
		name    string
		records []Record
		opts    []Option
		want    []int // entries per call
	}{
		{"500 records per call", makeRecords(1201, 10), nil, []int{500, 500, 201}},
		{"5 MiB exactly", big(11, mib-10, "0123456789"), []Option{WithMaxRecordSize(2 * mib)}, []int{5, 5, 1}},
		{"partition keys count", big(9, mib, strings.Repeat("k", 100)), []Option{WithMaxRecordSize(2 * mib)}, []int{4, 4, 1}},
		{"records per call option", makeRecords(25, 5), []Option{WithMaxRecordsPerCall(10)}, []int{10, 10, 5}},
		{"10 MiB calls", big(12, mib, "k"), []Option{WithMaxRecordSize(2 * mib), WithMaxBytesPerCall(10 * mib)}, []int{9, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.maxBytes = 10 * mib
			res, err := New(f, "s", tc.opts...).Put(context.Background(), tc.records)
			if err != nil {
				t.Fatalf("Put error: %v", err)
			}
			if diff := cmp.Diff(tc.want, f.sizes); diff != "" {
				t.Errorf("entries per call (-want +got):\n%s", diff)
			}
			limit := DefaultMaxBytesPerCall
			if strings.HasPrefix(tc.name, "10 MiB") {
				limit = 10 * mib
			}
			for i, b := range f.bytes {
				if b > limit {
					t.Errorf("call %d carries %d bytes; want <= %d", i+1, b, limit)
				}
			}
			if res.Bytes != sumSizes(tc.records) {
				t.Errorf("Result.Bytes = %d; want %d", res.Bytes, sumSizes(tc.records))
			}
			checkExactlyOnce(t, f, tc.records)
		})
	}
}

func sumSizes(rs []Record) int64 {
	var n int64
	for _, r := range rs {
		n += int64(r.Size())
	}
	return n
}

func TestOrderedCallHoldsOneRecordPerKey(t *testing.T) {
	f := newFake(t)
	records := makeRecords(100, 4)
	res, err := New(f, "s", WithOrdered(true)).Put(context.Background(), records)
	if err != nil || res.Sent != 100 {
		t.Fatalf("Put = %+v, %v", res.Stats, err)
	}
	want := make([]int, 25)
	for i := range want {
		want[i] = 4
	}
	if diff := cmp.Diff(want, f.sizes); diff != "" {
		t.Errorf("entries per ordered call (-want +got):\n%s", diff)
	}
}

func TestPutRecordTooLarge(t *testing.T) {
	mib := 1 << 20
	kib := func(n int32) *int32 { return &n }
	ok := Record{PartitionKey: "a", Data: []byte("small")}
	tests := []struct {
		name      string
		maxKiB    *int32
		opts      []Option
		record    Record
		wantErr   string
		wantCalls int
	}{
		{"default 1 MiB, key counted", nil, nil, Record{PartitionKey: "abc", Data: make([]byte, mib-2)},
			"record 1 (partition key \"abc\"): 1048577 bytes (data + partition key) exceeds the stream's maximum record size of 1048576 bytes", 0},
		{"exactly 1 MiB fits", nil, nil, Record{PartitionKey: "abc", Data: make([]byte, mib-3)}, "", 1},
		{"stream limit from DescribeStreamSummary", kib(2048), nil, Record{PartitionKey: "k", Data: make([]byte, 2*mib)},
			"exceeds the stream's maximum record size of 2097152 bytes", 0},
		{"larger stream limit accepted", kib(2048), nil, Record{PartitionKey: "k", Data: make([]byte, mib+5)}, "", 1},
		{"over the request limit", kib(10240), nil, Record{PartitionKey: "k", Data: make([]byte, 6*mib)},
			"exceeds the request limit of 5242880 bytes", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.maxRecordKiB = tc.maxKiB
			res, err := New(f, "s", tc.opts...).Put(context.Background(), []Record{ok, tc.record})
			if tc.wantErr == "" {
				if err != nil || res.Sent != 2 {
					t.Fatalf("Put = %+v, %v; want 2 sent", res.Stats, err)
				}
			} else {
				if !errors.Is(err, ErrRecordTooLarge) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Put error = %v; want ErrRecordTooLarge with %q", err, tc.wantErr)
				}
				if res.Failed != 2 || res.Sent != 0 {
					t.Errorf("Put = %+v; want both records failed, none sent", res.Stats)
				}
			}
			if f.calls != tc.wantCalls {
				t.Errorf("PutRecords calls = %d; want %d (nothing sent before the check)", f.calls, tc.wantCalls)
			}
		})
	}
}

func TestDescribeStreamSummaryOnce(t *testing.T) {
	f := newFake(t)
	p := New(f, "s")
	for range 3 {
		if _, err := p.Put(context.Background(), makeRecords(2, 2)); err != nil {
			t.Fatalf("Put error: %v", err)
		}
	}
	if f.describes != 1 {
		t.Errorf("DescribeStreamSummary calls = %d; want 1", f.describes)
	}
	f2 := newFake(t)
	if _, err := New(f2, "s", WithMaxRecordSize(100)).Put(context.Background(), makeRecords(2, 2)); err != nil || f2.describes != 0 {
		t.Errorf("with WithMaxRecordSize: err %v, describes %d; want nil, 0", err, f2.describes)
	}
}

func TestDescribeErrors(t *testing.T) {
	f := newFake(t)
	f.describeErr = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not allowed"}
	res, err := New(f, "s").Put(context.Background(), []Record{{PartitionKey: "k", Data: make([]byte, 1<<20-1)}})
	if err != nil || res.Sent != 1 {
		t.Errorf("Put without describe permission = %+v, %v; want sent with the 1 MiB default", res.Stats, err)
	}
	f2 := newFake(t)
	f2.describeErr = &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "Stream nope not found"}
	res, err = New(f2, "nope").Put(context.Background(), makeRecords(3, 1))
	if err == nil || !strings.Contains(err.Error(), "describe stream nope") || res.Failed != 3 || f2.calls != 0 {
		t.Errorf("Put to a missing stream = %+v, %v; want a describe error and 3 failed", res.Stats, err)
	}
}

func TestPutInvalidPartitionKey(t *testing.T) {
	for _, key := range []string{"", strings.Repeat("é", 257), "\xff"} {
		f := newFake(t)
		res, err := New(f, "s").Put(context.Background(), []Record{{PartitionKey: "ok", Data: []byte("x")}, {PartitionKey: key, Data: []byte("x")}})
		if !errors.Is(err, ErrInvalidPartitionKey) || f.calls != 0 || res.Failed != 2 {
			t.Errorf("Put with key %q = %+v, %v; want ErrInvalidPartitionKey, no calls", truncate(key, 5), res.Stats, err)
		}
	}
	f := newFake(t)
	if _, err := New(f, "s").Put(context.Background(), []Record{{PartitionKey: strings.Repeat("é", 256)}}); err != nil {
		t.Errorf("Put with a 256-character key: %v; want nil", err)
	}
}

// Kinesis refuses a whole PutRecords call for an explicit hash key that does not
// match 0|([1-9]\d{0,38}) (ValidationException) or exceeds 2^128-1
// (InvalidArgumentException), so such a record is refused before anything is sent.
func TestPutInvalidExplicitHashKey(t *testing.T) {
	for _, key := range []string{"012", "-1", "+1", "1.5", "1e3", " 1", "340282366920938463463374607431768211456",
		"1" + strings.Repeat("0", 39)} {
		f := newFake(t)
		res, err := New(f, "s").Put(context.Background(), []Record{{PartitionKey: "ok", Data: []byte("x")}, {PartitionKey: "k", ExplicitHashKey: key}})
		if !errors.Is(err, ErrInvalidExplicitHashKey) || f.calls != 0 || res.Failed != 2 {
			t.Errorf("Put with explicit hash key %q = %+v, %v; want ErrInvalidExplicitHashKey, no calls", key, res.Stats, err)
		}
	}
	for _, key := range []string{"0", "7", "340282366920938463463374607431768211455"} {
		f := newFake(t)
		if _, err := New(f, "s").Put(context.Background(), []Record{{PartitionKey: "k", ExplicitHashKey: key}}); err != nil {
			t.Errorf("Put with explicit hash key %s: %v; want nil", key, err)
		}
		if got := aws.ToString(f.inputs[0].Records[0].ExplicitHashKey); got != key {
			t.Errorf("sent explicit hash key %q; want %q", got, key)
		}
	}
}

func TestStreamNameOrARN(t *testing.T) {
	const arn = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
	for _, stream := range []string{"s", arn} {
		f := newFake(t)
		if _, err := New(f, stream).Put(context.Background(), makeRecords(1, 1)); err != nil {
			t.Fatalf("Put(%s) error: %v", stream, err)
		}
		in := f.inputs[0]
		gotName, gotARN := aws.ToString(in.StreamName), aws.ToString(in.StreamARN)
		if stream == arn && (gotARN != arn || in.StreamName != nil) || stream == "s" && (gotName != "s" || in.StreamARN != nil) {
			t.Errorf("New(%q): PutRecords StreamName %q StreamARN %q", stream, gotName, gotARN)
		}
	}
}

func TestInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
		want string
	}{
		{"attempts", WithMaxAttempts(0), "max attempts must be at least 1"},
		{"backoff", WithBackoff(time.Second, time.Millisecond), "backoff needs"},
		{"rate", WithRate(-1), "rate must be"},
		{"records", WithMaxRecordsPerCall(501), "records per call must be between 1 and 500"},
		{"bytes", WithMaxBytesPerCall(11 << 20), "bytes per call must be between"},
		{"record size", WithMaxRecordSize(0), "max record size must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			res, err := New(f, "s", tc.opt).Put(context.Background(), makeRecords(2, 1))
			if err == nil || !strings.Contains(err.Error(), tc.want) || res.Failed != 2 || f.calls != 0 {
				t.Errorf("Put = %+v, %v; want error %q and nothing sent", res.Stats, err, tc.want)
			}
		})
	}
	if _, err := New(newFake(t), "").Put(context.Background(), makeRecords(1, 1)); err == nil {
		t.Errorf("Put with no stream: nil error; want one")
	}
}

func TestDeliveryFunc(t *testing.T) {
	f := newFake(t)
	f.entryCode = func(call int, e types.PutRecordsRequestEntry) string {
		if call == 1 && string(e.Data) == "sensor-0002#000000" {
			return "InternalFailure"
		}
		return ""
	}
	var got []Delivery
	records := makeRecords(6, 3)
	_, err := New(f, "s", fast, WithDeliveryFunc(func(d Delivery) { got = append(got, d) })).Put(context.Background(), records)
	if err != nil {
		t.Fatalf("Put error: %v", err)
	}
	want := []Delivery{
		{Index: 0, PartitionKey: "sensor-0001", ShardID: "shardId-000000000000", SequenceNumber: "1", Attempts: 1},
		{Index: 2, PartitionKey: "sensor-0003", ShardID: "shardId-000000000000", SequenceNumber: "2", Attempts: 1},
		{Index: 3, PartitionKey: "sensor-0001", ShardID: "shardId-000000000000", SequenceNumber: "3", Attempts: 1},
		{Index: 4, PartitionKey: "sensor-0002", ShardID: "shardId-000000000000", SequenceNumber: "4", Attempts: 1},
		{Index: 5, PartitionKey: "sensor-0003", ShardID: "shardId-000000000000", SequenceNumber: "5", Attempts: 1},
		{Index: 1, PartitionKey: "sensor-0002", ShardID: "shardId-000000000000", SequenceNumber: "6", Attempts: 2},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
}

func TestRateSizesCalls(t *testing.T) {
	f := newFake(t)
	// 200 records/s: calls of 20 records, about ten a second.
	res, err := New(f, "s", WithRate(200)).Put(context.Background(), makeRecords(60, 5))
	if err != nil || res.Sent != 60 {
		t.Fatalf("Put = %+v, %v", res.Stats, err)
	}
	if diff := cmp.Diff([]int{20, 20, 20}, f.sizes); diff != "" {
		t.Errorf("entries per call at 200 records/s (-want +got):\n%s", diff)
	}
}

func TestBackoffFullJitter(t *testing.T) {
	p := New(nil, "s", WithBackoff(100*time.Millisecond, time.Second))
	for _, tc := range []struct {
		attempt int
		ceiling time.Duration
	}{{1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {4, 800 * time.Millisecond}, {5, time.Second}, {100, time.Second}} {
		var top time.Duration
		for range 2000 {
			d := p.backoff(tc.attempt)
			if d < 0 || d > tc.ceiling {
				t.Fatalf("backoff(%d) = %s; want within [0, %s]", tc.attempt, d, tc.ceiling)
			}
			top = max(top, d)
		}
		if top < tc.ceiling/2 {
			t.Errorf("backoff(%d) never exceeded %s in 2000 draws; want jitter up to %s", tc.attempt, top, tc.ceiling)
		}
	}
}

func TestRetryableCallError(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{throttled(), true},
		{&smithy.GenericAPIError{Code: "InternalFailure"}, true},
		{&smithy.GenericAPIError{Code: "KMSThrottlingException"}, true},
		{fmt.Errorf("wrapped: %w", &smithy.GenericAPIError{Code: "ThrottlingException"}), true},
		{&smithy.GenericAPIError{Code: "ResourceNotFoundException"}, false},
		{&smithy.GenericAPIError{Code: "ValidationException"}, false},
		{errors.New("plain"), false},
	}
	for _, tc := range tests {
		if got := retryableCallError(tc.err); got != tc.want {
			t.Errorf("retryableCallError(%v) = %v; want %v", tc.err, got, tc.want)
		}
	}
}
