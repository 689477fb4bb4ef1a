package ingest

import (
	"context"
	"encoding/json"
	"fmt"
)

// Invoke handles one raw Lambda event and returns the encoded response: it
// implements aws-lambda-go's lambda.Handler, so that the function can start with
// lambda.Start(p).
//
// It is HandleJSON without aws-lambda-go's reflection wrapper, which decodes the
// event into a json.RawMessage first: a validating scan and a copy of up to 6 MB
// per invocation, more than the processor's own work on a sensor batch. The
// response body and the errors are HandleJSON's; an error is reported by
// aws-lambda-go as a function error exactly as for HandleJSON. payload is only
// read during the call.
func (p *Processor) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	resp, err := p.HandleJSON(ctx, payload)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(resp)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return b, nil
}
