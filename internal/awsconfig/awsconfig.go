// Package awsconfig loads the AWS SDK configuration that every streamlake
// client uses, in the functions, the CLI, the local run and the tests:
// config.LoadDefaultConfig, with a middleware that keeps a request's answer
// when the SDK closes the request's body early (Load, AddPlainBody).
//
// # The defect it works around
//
// smithy-go (v1.28.9, with aws-sdk-go-v2 v1.47.7) closes a request's body as
// soon as net/http's Client.Do returns, which is when the answer's headers have
// arrived. net/http writes the body on a goroutine of its own and, after the
// Content-Length bytes, copies what is left of it to io.Discard to check that
// nothing is. When the answer comes back before that goroutine got there (a
// loaded machine: the server read the last byte, answered, and the writer was
// not scheduled yet), the copy runs on a closed body, and smithy-go's body
// answers WriteTo after Close with io.EOF. io.Copy passes a WriteTo error on
// as its own (EOF is the end of a Read, not of a WriteTo), so net/http takes
// it for a failed request write and closes the connection, while the answer's
// body is still being read. The SDK then fails to read a 200 answer ("read tcp
// …: use of closed network connection") and, since aws-sdk-go-v2 retries
// net.ErrClosed (aws/aws-sdk-go-v2#2949), sends the request again: a PutRecords
// or SendMessage that was applied is applied twice, a ReceiveMessage whose
// messages were received hides them for their visibility timeout.
//
// In the project's own test runs against moto server this struck a few times
// per run of the whole suite (traced to net/http's writeLoop closing the
// connection after io.EOF). Nothing in it is particular to the emulator:
// aws/aws-sdk-go-v2#2737 traces the same close by writeLoop against DynamoDB.
// AddPlainBody hands net/http each request's body without WriteTo: io.Copy
// then reads it with Read, whose io.EOF after Close is the normal end of a
// body. It is a middleware, last before the request is sent, rather than an
// HTTP client around the SDK's: the SDK configures only its own client type
// (a custom CA bundle, AWS_CA_BUNDLE, fails to load with any other). The
// regression test reproduces the race with a real SDK client and net/http.
package awsconfig

import (
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Load is config.LoadDefaultConfig with AddPlainBody in the configuration's
// API options, so that every client made from it has the middleware.
func Load(ctx context.Context, optFns ...func(*config.LoadOptions) error) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, optFns...)
	if err != nil {
		return cfg, err
	}
	cfg.APIOptions = append(cfg.APIOptions, AddPlainBody)
	return cfg, nil
}

// AddPlainBody adds plainBody to stack as its last middleware before the
// request is sent.
func AddPlainBody(stack *middleware.Stack) error {
	return stack.Deserialize.Add(plainBody{}, middleware.After)
}

// plainBody replaces, for each attempt, a request's body that has a WriteTo
// method with one that has only Read (and Seek, if it had it: the SDK seeks a
// body to measure it and to send it again).
type plainBody struct{}

func (plainBody) ID() string { return "streamlake.PlainBody" }

func (plainBody) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	if req, ok := in.Request.(*smithyhttp.Request); ok {
		if s := req.GetStream(); isWriterTo(s) {
			var plain io.Reader = reader{s}
			if rs, ok := s.(io.ReadSeeker); ok {
				plain = readSeeker{rs}
			}
			r, err := req.SetStream(plain)
			if err != nil {
				return middleware.DeserializeOutput{}, middleware.Metadata{}, err
			}
			in.Request = r
		}
	}
	return next.HandleDeserialize(ctx, in)
}

func isWriterTo(r io.Reader) bool {
	_, ok := r.(io.WriterTo)
	return ok
}

// reader and readSeeker have the methods of their interface and no other.
type (
	reader     struct{ io.Reader }
	readSeeker struct{ io.ReadSeeker }
)
