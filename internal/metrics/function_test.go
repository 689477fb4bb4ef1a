package metrics

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestInMilliseconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want float64
	}{{0, 0}, {1500 * time.Microsecond, 1.5}, {2*time.Second + 999, 2000}, {-time.Millisecond, -1}} {
		if got := InMilliseconds(tc.d); got != tc.want {
			t.Errorf("InMilliseconds(%v) = %v; want %v", tc.d, got, tc.want)
		}
	}
}

func TestEmitOrLog(t *testing.T) {
	var out, logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	var s Set
	s.Add("X", Count, 1)
	newTestWriter(t, &out).EmitOrLog(context.Background(), logger, &s)
	if strings.Count(out.String(), "\n") != 1 || logs.Len() != 0 {
		t.Errorf("EmitOrLog(valid set) wrote %q and logged %q; want one line and no log", out.String(), logs.String())
	}
	w, _ := New(failingWriter{}, Config{})
	w.EmitOrLog(context.Background(), logger, &s)
	if got := logs.String(); !strings.Contains(got, "emit metrics") || !strings.Contains(got, "disk full") || !strings.Contains(got, "level=ERROR") {
		t.Errorf("EmitOrLog(failing writer) logged %q; want an error record with the cause", got)
	}
}
