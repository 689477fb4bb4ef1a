package producer

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// Per-entry error codes of PutRecords that are worth another attempt. The API
// reference lists only these two; KMSThrottlingException is a throttle of the KMS
// key behind an encrypted stream.
var retryableEntryCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"InternalFailure":                        true,
	"KMSThrottlingException":                 true,
}

// Error codes of a whole PutRecords call that are retried on top of the SDK's own
// classification (throttles, 500/502/503/504, connection errors).
var retryableCallCodes = map[string]bool{
	"InternalFailure":          true,
	"InternalFailureException": true,
	"ServiceUnavailable":       true,
	"KMSThrottlingException":   true,
}

var sdkRetryables = retry.IsErrorRetryables(retry.DefaultRetryables)

func retryableEntryCode(code string) bool { return retryableEntryCodes[code] }

// retryableCallError reports whether a failed PutRecords call may be sent again.
func retryableCallError(err error) bool {
	if retryableCallCodes[errorCode(err)] {
		return true
	}
	return sdkRetryables.IsErrorRetryable(err) == aws.TrueTernary
}

// errorCode returns the AWS error code in err's chain, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// backoff returns the pause before sending a record for the time after `attempt`
// failed attempts: uniform in [0, min(max, base×2^(attempt-1))] ("full jitter").
func (p *Producer) backoff(attempt int) time.Duration {
	ceiling := p.backoffBase
	for k := 1; k < attempt && ceiling < p.backoffMax; k++ {
		ceiling *= 2
	}
	return rand.N(min(ceiling, p.backoffMax) + 1)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
