package record

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzAppendPayload checks the payload encoder on arbitrary bytes: the output is
// always one valid JSON value on one line, its kind follows from the input, and it
// round-trips: JSON is the input compacted, text decodes to the input, binary
// base64-decodes to the input. Seeds are in testdata/fuzz/FuzzAppendPayload.
func FuzzAppendPayload(f *testing.F) {
	f.Add([]byte(`{"device_id":"sensor-0001","temperature":21.5}`))
	f.Add([]byte("{\"s\": \"a\u2028b\u0085\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, kind := AppendPayload([]byte("x"), data)
		if out[0] != 'x' {
			t.Fatalf("AppendPayload overwrote dst")
		}
		out = out[1:]
		checkOneLineJSON(t, out, data)
		switch kind {
		case JSON:
			var want bytes.Buffer
			if !utf8.Valid(data) || json.Compact(&want, data) != nil {
				t.Fatalf("AppendPayload(%q) kind JSON for input that is not UTF-8 JSON", data)
			}
			if w := lineSafe.Replace(want.String()); string(out) != w {
				t.Fatalf("AppendPayload(%q) = %s; want the compacted input %s", data, out, w)
			}
		case Text:
			var v struct{ Message *string }
			if err := json.Unmarshal(out, &v); err != nil || v.Message == nil || *v.Message != string(data) {
				t.Fatalf("AppendPayload(%q) = %s; want {\"message\": input}", data, out)
			}
			if !utf8.Valid(data) || len(data) > 0 && json.Valid(data) {
				t.Fatalf("AppendPayload(%q) kind text for input that is not plain text", data)
			}
		case Binary:
			var v struct {
				DataBase64 string `json:"data_base64"`
			}
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("AppendPayload(%q) = %s: %v", data, out, err)
			}
			got, err := base64.StdEncoding.DecodeString(v.DataBase64)
			if err != nil || !bytes.Equal(got, data) || utf8.Valid(data) {
				t.Fatalf("AppendPayload(%q) binary = %s; does not round-trip", data, out)
			}
		default:
			t.Fatalf("AppendPayload(%q) kind %v", data, kind)
		}
	})
}

// checkOneLineJSON fails unless b is exactly one valid JSON value with no raw
// newline (so that it fits on one NDJSON line).
func checkOneLineJSON(t *testing.T, b, input []byte) {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("output for %q is not valid JSON: %s", input, b)
	}
	if bytes.ContainsAny(b, "\n\r") {
		t.Fatalf("output for %q spans lines: %q", input, b)
	}
	if !utf8.Valid(b) {
		t.Fatalf("output for %q is not UTF-8: %q", input, b)
	}
	// Python's str.splitlines and JavaScript before ES2019 end lines at these too.
	if bytes.ContainsAny(b, "\u0085\u2028\u2029") {
		t.Fatalf("output for %q has an unescaped Unicode line separator: %q", input, b)
	}
}

// lineSafe is what the processor makes of compact JSON: Unicode line
// separators, which can only be in strings, written as escapes.
var lineSafe = strings.NewReplacer("\u0085", `\u0085`, "\u2028", `\u2028`, "\u2029", `\u2029`)

// FuzzAppendLine checks the output line on arbitrary payloads and metadata:
// exactly one line, valid JSON, original_data is the payload byte for byte, every
// metadata field round-trips (invalid UTF-8 in metadata becomes U+FFFD), and
// "processed" is false exactly when there is an error reason.
func FuzzAppendLine(f *testing.F) {
	f.Add([]byte(`{"a":1}`), "sensor-0001", "49590338271490256608559692538361571095921575989136588898", "shardId-000000000006", "", int64(1795268400123))
	f.Fuzz(func(t *testing.T, data []byte, key, seq, shard, reason string, millis int64) {
		payload, _ := AppendPayload(nil, data)
		m := &Meta{PartitionKey: key, SequenceNumber: seq, EventID: shard + ":" + seq, ShardID: shard,
			ArrivalTime: time.UnixMilli(millis % 253402300799000)} // before year 10000, as RFC 3339 needs
		if m.ArrivalTime.Year() < 0 {
			m.ArrivalTime = time.UnixMilli(0)
		}
		line := AppendLine([]byte("x"), payload, m, "2026-11-21T14:00:00.000Z", reason)[1:]
		if bytes.IndexByte(line, '\n') != len(line)-1 {
			t.Fatalf("AppendLine is not exactly one line: %q", line)
		}
		checkOneLineJSON(t, line[:len(line)-1], data)
		var v struct {
			Original  json.RawMessage `json:"original_data"`
			Key       string          `json:"partition_key"`
			Seq       string          `json:"sequence_number"`
			EventID   string          `json:"event_id"`
			Shard     string          `json:"shard_id"`
			Processed bool            `json:"processed"`
			Arrival   string          `json:"approximate_arrival_timestamp"`
			Error     *string         `json:"error"`
		}
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatalf("line %s: %v", line, err)
		}
		valid := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
		if !bytes.Equal(v.Original, payload) || v.Key != valid(key) || v.Seq != valid(seq) || v.EventID != valid(m.EventID) || v.Shard != valid(shard) {
			t.Fatalf("line %s does not round-trip payload %s and metadata %+v", line, payload, m)
		}
		if at, err := time.Parse(time.RFC3339Nano, v.Arrival); err != nil || !at.Equal(m.ArrivalTime.Truncate(time.Millisecond)) {
			t.Fatalf("approximate_arrival_timestamp %q; want %s", v.Arrival, m.ArrivalTime.UTC().Format(TimeLayout))
		}
		if v.Processed != (reason == "") || (reason == "") != (v.Error == nil) || v.Error != nil && *v.Error != valid(reason) {
			t.Fatalf("line %s: processed/error do not match reason %q", line, reason)
		}
	})
}

// FuzzTopLevelMember checks the allocation-free member lookup of the transform hot
// path against encoding/json on compact objects: it never panics, and what it finds
// is the member encoding/json decodes (the last of duplicates).
func FuzzTopLevelMember(f *testing.F) {
	f.Add([]byte(`{"timestamp":"2026-11-21T13:40:00Z","a":{"timestamp":1}}`), "timestamp")
	f.Add([]byte(`{"timestamp":1,"time\u0073tamp":2,"t\"":3}`), "timestamp")
	f.Add([]byte(`{"t\"":3,"\ud800":4}`), "t\"")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		_, _ = TopLevelMember(data, name) // arbitrary input: must not panic
		obj, kind := AppendPayload(nil, data)
		if kind != JSON || obj[0] != '{' {
			return
		}
		got, ok := TopLevelMember(obj, name)
		var members map[string]json.RawMessage
		if err := json.Unmarshal(obj, &members); err != nil {
			t.Fatalf("compact object %s: %v", obj, err)
		}
		if !utf8.ValidString(name) {
			return // no decoded name equals it, and no map key can hold it
		}
		want, wantOK := members[name]
		if ok != wantOK || ok && !bytes.Equal(got, want) {
			t.Fatalf("TopLevelMember(%s, %q) = %s, %v; encoding/json says %s, %v", obj, name, got, ok, want, wantOK)
		}
		if ok {
			if s, isString := StringValue(got); isString {
				var w string
				if err := json.Unmarshal(got, &w); err != nil || w != s {
					t.Fatalf("StringValue(%s) = %q; want %q", got, s, w)
				}
			}
		}
	})
}

// FuzzAppendPayloadMember checks that the member AppendPayloadMember finds while
// it scans the payload is what TopLevelMember finds in the payload it appended,
// and that the payload is AppendPayload's.
func FuzzAppendPayloadMember(f *testing.F) {
	f.Add([]byte(`{"timestamp":"2026-11-21T13:40:00Z","a":{"timestamp":1}}`), "timestamp")
	f.Add([]byte(`{"a":{"b":[1,{"timestamp":2}]},"timestamp":{"x":[]},"timestamp":[]}`), "timestamp")
	f.Add([]byte(` {"timestamp" : 1 } `), "timestamp")
	f.Add([]byte(`{"time\u0073tamp":1,"":2}`), "")
	f.Add([]byte(`{"message":"x"}`), "message")
	f.Add([]byte("{\"timestamp\":\"2026-11-21T13:40:00Z\",\"s\":\"a\u2029\"}"), "timestamp")
	f.Add([]byte("\xff"), "data_base64")
	// Text that is not JSON because of a top-level name: a bad escape, no end.
	f.Add([]byte(`{"\q":1}`), "timestamp")
	f.Add([]byte(`{"timestamp`), "timestamp")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		dst := []byte("x")
		out, kind, got, ok := AppendPayloadMember(dst, data, name)
		wantOut, wantKind := AppendPayload([]byte("x"), data)
		if !bytes.Equal(out, wantOut) || kind != wantKind {
			t.Fatalf("AppendPayloadMember(%q) = %q, %v; AppendPayload = %q, %v", data, out, kind, wantOut, wantKind)
		}
		want, wantOK := TopLevelMember(out[1:], name)
		if ok != wantOK || !bytes.Equal(got, want) {
			t.Fatalf("AppendPayloadMember(%q, %q) member = %q, %v; TopLevelMember = %q, %v", data, name, got, ok, want, wantOK)
		}
	})
}

// TestAppendPayloadMemberDeep checks the lookup in a payload nested deeper than
// the scanner tracks, which it leaves to TopLevelMember.
func TestAppendPayloadMemberDeep(t *testing.T) {
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	data := []byte(`{"a":` + deep + `,"timestamp":1}`)
	_, kind, v, ok := AppendPayloadMember(nil, data, "timestamp")
	if kind != JSON || !ok || string(v) != "1" {
		t.Errorf("AppendPayloadMember(%s) = %v, %s, %v; want json, 1, true", data, kind, v, ok)
	}
}

// FuzzLineFormat checks that LineFormat.Append writes AppendLine's bytes, for
// records of the batch's shard and of another, within the cached arrival second
// and across seconds, at any time (years beyond 9999 and before 0 included).
func FuzzLineFormat(f *testing.F) {
	f.Add("sensor-0001", "4959", "shardId-000000000006", "shardId-000000000006", "", int64(1795268400123), int64(1), -1)
	f.Add("k\"\xff", "1", "s\u2028", "other", "bad \"time\"", int64(-62135596800001), int64(999), 0)
	f.Add("k", "1", "s", "s", "", int64(253402300799999), int64(1), 41)
	f.Fuzz(func(t *testing.T, key, seq, batchShard, shard, reason string, millis, stepMillis int64, sub int) {
		const processedAt = "2026-11-21T14:00:00.000Z"
		var lf LineFormat
		lf.Reset(processedAt, batchShard)
		payload := []byte(`{"a":1}`)
		at := time.UnixMilli(millis)
		for _, r := range []struct {
			shard  string
			at     time.Time
			reason string
		}{
			{batchShard, at, ""},
			{shard, at.Add(time.Duration(stepMillis) * time.Millisecond), reason},
			{batchShard, at.Add(time.Duration(stepMillis) * time.Microsecond), reason},
			{shard, at.Add(time.Second), ""},
		} {
			m := &Meta{PartitionKey: key, SequenceNumber: seq, EventID: r.shard + ":" + seq, ShardID: r.shard, ArrivalTime: r.at,
				Aggregated: sub >= 0, SubSequenceNumber: max(sub, 0)}
			if r.reason != "" {
				m.EventID = batchShard + ":" + key // an eventID that is not the record's shard and sequence number
			}
			got := lf.Append([]byte("x"), payload, m, r.reason)
			want := AppendLine([]byte("x"), payload, m, processedAt, r.reason)
			if !bytes.Equal(got, want) {
				t.Fatalf("LineFormat.Append(%+v, %q) = %s; AppendLine = %s", m, r.reason, got, want)
			}
		}
	})
}

// FuzzPayloadScanner checks that a PayloadScanner returns what
// AppendPayloadMember returns, for payloads of the shape it learned (b is a of
// other values when the fuzzer finds one) and of others, in any order.
func FuzzPayloadScanner(f *testing.F) {
	sensor := `{"device_id":"sensor-0001","temperature":16.26,"humidity":51.99,"timestamp":"2026-11-21T13:40:00.000Z","location":{"lat":47.5712,"lon":-122.2951},"battery_level":70.2}`
	f.Add([]byte(sensor), []byte(strings.NewReplacer("0001", "0002", "16.26", "-1e5", `"2026-11-21T13:40:00.000Z"`, `"x\"y"`).Replace(sensor)), "timestamp")
	f.Add([]byte(sensor), []byte(strings.Replace(sensor, "16.26", `"16.26"`, 1)), "timestamp")
	f.Add([]byte(sensor), []byte(strings.Replace(sensor, "sensor-0001", "sensor-\xff", 1)), "timestamp")
	f.Add([]byte(sensor), []byte(strings.Replace(sensor, "70.2}", "70.2 }", 1)), "timestamp")
	f.Add([]byte(sensor), []byte(strings.Replace(sensor, "sensor-0001", "sensor-\u2028", 1)), "timestamp")
	f.Add([]byte(`{"timestamp":{"a":1},"b":true}`), []byte(`{"timestamp":{"a":2},"b":true}`), "timestamp")
	f.Add([]byte(`{"timestamp":1,"timestamp":"x"}`), []byte(`{"timestamp":2,"timestamp":"y"}`), "timestamp")
	f.Add([]byte(`{"a":1}`), []byte(`{"a":12}`), "timestamp")
	f.Add([]byte(`12`), []byte(`123abc`), "")
	f.Add([]byte(`"a"`), []byte(``), "")
	f.Add([]byte(`{"data_base64":1}`), []byte("\xff"), "data_base64")
	f.Add([]byte(`{"message":1}`), []byte("text"), "message")
	f.Add([]byte(`[1,"a",null]`), []byte(`[2,"b",null]`), "a")
	f.Fuzz(func(t *testing.T, a, b []byte, name string) {
		var s PayloadScanner
		s.Reset(name)
		for _, data := range [][]byte{a, b, a, b, b} {
			out, kind, member, ok := s.Append([]byte("x"), data)
			wantOut, wantKind, wantMember, wantOK := AppendPayloadMember([]byte("x"), data, name)
			if !bytes.Equal(out, wantOut) || kind != wantKind || ok != wantOK || !bytes.Equal(member, wantMember) {
				t.Fatalf("PayloadScanner.Append(%q) = %q, %v, %q, %v; AppendPayloadMember = %q, %v, %q, %v",
					data, out, kind, member, ok, wantOut, wantKind, wantMember, wantOK)
			}
			// Payload: the same, with data itself standing for "x" and a copy of it.
			out, kind, member, ok = s.Payload([]byte("x"), data)
			if len(out) > 0 && len(data) > 0 && &out[0] == &data[0] {
				if len(out) != len(data) {
					t.Fatalf("Payload(%q) = %q, a part of data", data, out)
				}
				out = append([]byte("x"), out...)
			}
			if !bytes.Equal(out, wantOut) || kind != wantKind || ok != wantOK || !bytes.Equal(member, wantMember) {
				t.Fatalf("PayloadScanner.Payload(%q) = %q, %v, %q, %v; AppendPayloadMember = %q, %v, %q, %v",
					data, out, kind, member, ok, wantOut, wantKind, wantMember, wantOK)
			}
		}
	})
}

// TestPayloadScannerShape checks that a payload of the learned shape takes the
// comparison, and that one of another shape becomes the shape.
func TestPayloadScannerShape(t *testing.T) {
	var s PayloadScanner
	s.Reset("timestamp")
	a := []byte(`{"device_id":"sensor-0001","timestamp":"2026-11-21T13:40:00.000Z","t":1.5}`)
	b := []byte(`{"device_id":"sensor-0002","timestamp":"2026-11-21T13:40:01.000Z","t":-2}`)
	c := []byte(`{"timestamp":1,"device_id":"x"}`)
	s.Append(nil, a)
	if _, fits := s.fits(b); !fits {
		t.Errorf("%s does not fit the shape of %s", b, a)
	}
	if _, fits := s.fits(c); fits {
		t.Errorf("%s fits the shape of %s", c, a)
	}
	if _, _, v, ok := s.Append(nil, c); !ok || string(v) != "1" {
		t.Errorf("Append(%s) member = %s, %v; want 1, true", c, v, ok)
	}
	if _, fits := s.fits([]byte(`{"timestamp":22,"device_id":"y"}`)); !fits {
		t.Errorf("the shape of %s was not learned", c)
	}
}
