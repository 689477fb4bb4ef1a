package esm

import (
	"fmt"
	"testing"
)

// nopKinesis and nopSQS satisfy the client interfaces for tests that never call them.
type nopKinesis struct{ KinesisAPI }
type nopSQS struct{ SQSAPI }

func testRecords(seqs ...string) []*record {
	recs := make([]*record, len(seqs))
	for i, s := range seqs {
		recs[i] = &record{seq: s}
	}
	return recs
}

func TestClassify(t *testing.T) {
	// moto-like sequence numbers: "9" < "10" < "11" as integers, not as strings.
	recs := testRecords("9", "10", "11", "12")
	items := func(ids ...string) string {
		s := `{"batchItemFailures":[`
		for i, id := range ids {
			if i > 0 {
				s += ","
			}
			s += fmt.Sprintf(`{"itemIdentifier":%q}`, id)
		}
		return s + "]}"
	}
	tests := []struct {
		name      string
		inv       Invocation
		report    bool
		want      outcomeKind
		wantIndex int
	}{
		{"function error", Invocation{FunctionError: "errorString", Payload: []byte(items("10"))}, true, outcomeFunctionError, 0},
		{"timeout", Invocation{FunctionError: "Sandbox.Timedout"}, true, outcomeFunctionError, 0},
		{"function error without report", Invocation{FunctionError: "Runtime.ExitError"}, false, outcomeFunctionError, 0},
		{"body ignored without report", Invocation{Payload: []byte(items("10"))}, false, outcomeSuccess, 0},
		{"malformed ignored without report", Invocation{Payload: []byte(`{`)}, false, outcomeSuccess, 0},

		{"empty body", Invocation{}, true, outcomeSuccess, 0},
		{"null response", Invocation{Payload: []byte(" null ")}, true, outcomeSuccess, 0},
		{"empty object", Invocation{Payload: []byte(`{}`)}, true, outcomeSuccess, 0},
		{"null list", Invocation{Payload: []byte(`{"batchItemFailures":null}`)}, true, outcomeSuccess, 0},
		{"empty list", Invocation{Payload: []byte(`{"batchItemFailures":[]}`)}, true, outcomeSuccess, 0},
		{"other fields", Invocation{Payload: []byte(`{"state":{},"batchItemFailures":[]}`)}, true, outcomeSuccess, 0},
		// Recorded from AWS: LocalStack tests/aws/services/lambda_/event_source_mapping/
		// test_lambda_integration_kinesis.snapshot.json, TestKinesisSource::
		// test_kinesis_report_batch_item_success_scenarios[empty_string_success] and
		// [empty_list_success]: one invocation, complete success.
		{"empty string (recorded)", Invocation{Payload: []byte(`""`)}, true, outcomeSuccess, 0},
		{"empty list (recorded)", Invocation{Payload: []byte(`[]`)}, true, outcomeSuccess, 0},
		{"empty list with spaces (recorded)", Invocation{Payload: []byte(` [ ] `)}, true, outcomeSuccess, 0},

		{"empty identifier", Invocation{Payload: []byte(items(""))}, true, outcomeInvalidResponse, 0},
		{"null identifier", Invocation{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":null}]}`)}, true, outcomeInvalidResponse, 0},
		{"wrong key", Invocation{Payload: []byte(`{"batchItemFailures":[{"itemId":"10"}]}`)}, true, outcomeInvalidResponse, 0},
		{"wrong key case", Invocation{Payload: []byte(`{"batchItemFailures":[{"ItemIdentifier":"10"}]}`)}, true, outcomeInvalidResponse, 0},
		{"numeric identifier", Invocation{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":10}]}`)}, true, outcomeInvalidResponse, 0},
		{"null item", Invocation{Payload: []byte(`{"batchItemFailures":[null]}`)}, true, outcomeInvalidResponse, 0},
		{"string item", Invocation{Payload: []byte(`{"batchItemFailures":["10"]}`)}, true, outcomeInvalidResponse, 0},
		{"not in batch", Invocation{Payload: []byte(items("13"))}, true, outcomeInvalidResponse, 0},
		{"one valid one unknown", Invocation{Payload: []byte(items("10", "99"))}, true, outcomeInvalidResponse, 0},
		{"event id instead of sequence number", Invocation{Payload: []byte(items("shardId-000000000000:10"))}, true, outcomeInvalidResponse, 0},
		{"malformed JSON", Invocation{Payload: []byte(`{"batchItemFailures":[`)}, true, outcomeInvalidResponse, 0},
		{"not an object", Invocation{Payload: []byte(`"ok"`)}, true, outcomeInvalidResponse, 0},
		{"non-empty array response", Invocation{Payload: []byte(`[{"itemIdentifier":"10"}]`)}, true, outcomeInvalidResponse, 0},
		{"number response", Invocation{Payload: []byte(`0`)}, true, outcomeInvalidResponse, 0},
		{"list not a list", Invocation{Payload: []byte(`{"batchItemFailures":{"itemIdentifier":"10"}}`)}, true, outcomeInvalidResponse, 0},

		{"one id", Invocation{Payload: []byte(items("11"))}, true, outcomePartial, 2},
		{"first id", Invocation{Payload: []byte(items("9"))}, true, outcomePartial, 0},
		{"lowest as integers", Invocation{Payload: []byte(items("12", "10", "9"))}, true, outcomePartial, 0},
		{"lowest of two", Invocation{Payload: []byte(items("12", "10"))}, true, outcomePartial, 1},
		{"extra fields in item", Invocation{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":"12","reason":"x"}]}`)}, true, outcomePartial, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.inv, recs, tc.report)
			if got.kind != tc.want || (tc.want == outcomePartial && got.failIndex != tc.wantIndex) {
				t.Errorf("classify(%s) = %v at %d (%s); want %v at %d", tc.inv.Payload, got.kind, got.failIndex, got.reason, tc.want, tc.wantIndex)
			}
		})
	}
}

func TestCompareSeq(t *testing.T) {
	const a56 = "49590338271490256608559692538361571095921575989136588898"
	const b56 = "49590338271490256608559692538361571095921575989136588899"
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "2", -1},
		{"9", "10", -1},
		{"10", "9", 1},
		{"100", "100", 0},
		{"007", "7", 0},
		{a56, b56, -1},
		{b56, a56, 1},
		{"9", a56, -1},
		{a56, a56, 0},
	}
	for _, tc := range tests {
		if got := compareSeq(tc.a, tc.b); got != tc.want {
			t.Errorf("compareSeq(%q, %q) = %d; want %d", tc.a, tc.b, got, tc.want)
		}
	}
	for _, s := range []string{"", "12a", "-1", " 1"} {
		if validSeq(s) {
			t.Errorf("validSeq(%q) = true; want false", s)
		}
	}
}
