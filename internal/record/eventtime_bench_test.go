package record_test

import (
	"testing"

	"github.com/streamlake/streamlake/internal/record"
)

// BenchmarkParseEventTime measures ParseEventTime alone, per form, and the
// lookup of the timestamp member in a sensor payload that precedes it in the
// processor's check.
func BenchmarkParseEventTime(b *testing.B) {
	payload := []byte(`{"device_id":"sensor-0001","temperature":21.43,"humidity":48.20,"timestamp":"2026-11-21T13:40:00.000Z","location":{"lat":52.5200,"lon":13.4050},"battery_level":87.0}`)
	for _, tc := range []struct{ name, v string }{
		{"rfc3339", `"2026-11-21T13:40:00.000Z"`},
		{"isoformat", `"2026-11-21T13:40:00.123456"`},
		{"offset", `"2026-11-21T15:40:00+02:00"`},
		{"epoch-ms", `1795268405123`},
	} {
		v := []byte(tc.v)
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, ok := record.ParseEventTime(v); !ok {
					b.Fatal("rejected")
				}
			}
		})
	}
	b.Run("member-lookup", func(b *testing.B) {
		for b.Loop() {
			if _, ok := record.TopLevelMember(payload, "timestamp"); !ok {
				b.Fatal("no member")
			}
		}
	})
}
