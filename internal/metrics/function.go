package metrics

import (
	"context"
	"log/slog"
	"time"
)

// InMilliseconds returns d in the Milliseconds unit, to the microsecond.
func InMilliseconds(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// EmitOrLog writes s as Emit does and logs a failure to logger ("emit metrics")
// instead of returning it: a metric line that cannot be written never fails the
// invocation it describes.
func (w *Writer) EmitOrLog(ctx context.Context, logger *slog.Logger, s *Set) {
	if err := w.Emit(ctx, s); err != nil {
		logger.ErrorContext(ctx, "emit metrics", "error", err)
	}
}
