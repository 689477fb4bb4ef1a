package awsconfig

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// race arranges the defect's timing for every request: the server answers
// with headers once it has read the request, the client's writer is held after
// its last write until the SDK has closed the request's body, and the server
// sends the answer's body only once the client closed the connection (or a
// second passed, when nothing closes it).
type race struct {
	requests atomic.Int64
	mu       sync.Mutex
	closed   map[string]chan struct{} // by the client's local address
}

func newRace() *race { return &race{closed: map[string]chan struct{}{}} }

func (rc *race) closedCh(addr string) chan struct{} {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ch, ok := rc.closed[addr]
	if !ok {
		ch = make(chan struct{})
		rc.closed[addr] = ch
	}
	return ch
}

func (rc *race) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.requests.Add(1)
	if _, err := io.ReadAll(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	select {
	case <-rc.closedCh(r.RemoteAddr):
	case <-time.After(time.Second):
	}
	_, _ = io.WriteString(w, `{"ShardId":"shardId-000000000000","SequenceNumber":"49590338271490256608559692538361571095921575989136588898"}`)
}

// conn holds its writer after every write but the first (the request's
// headers, which net/http flushes before a body it cannot size in memory)
// until the request's body is closed.
type conn struct {
	net.Conn
	writes     int
	bodyClosed <-chan struct{}
	closed     chan struct{}
	once       sync.Once
}

func (c *conn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.writes++
	if c.writes > 1 {
		select {
		case <-c.bodyClosed:
		case <-time.After(5 * time.Second):
		}
	}
	return n, err
}

// Close tells the server only once the connection is closed: told before, it
// could send the answer's body in time for the client to read it.
func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { close(c.closed) })
	return err
}

// bodies hands each request's body, wrapped to tell when it is closed, to
// the connection that sends it (one request at a time).
type bodies struct {
	next   aws.HTTPClient
	closed chan chan struct{}
}

func (b bodies) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		ch := make(chan struct{})
		t := &tracked{ReadCloser: r.Body, closed: ch}
		if wt, ok := r.Body.(io.WriterTo); ok {
			r.Body = trackedWriterTo{t, wt}
		} else {
			r.Body = t
		}
		b.closed <- ch
	}
	return b.next.Do(r)
}

type tracked struct {
	io.ReadCloser
	closed chan struct{}
	once   sync.Once
}

func (t *tracked) Close() error {
	err := t.ReadCloser.Close()
	t.once.Do(func() { close(t.closed) })
	return err
}

type trackedWriterTo struct {
	*tracked
	wt io.WriterTo
}

func (t trackedWriterTo) WriteTo(w io.Writer) (int64, error) { return t.wt.WriteTo(w) }

// putRecord sends one PutRecord to a server that forces the race, with the
// configuration load makes, and returns how many requests the server saw and
// the call's error.
func putRecord(t *testing.T, load func(context.Context, ...func(*config.LoadOptions) error) (aws.Config, error)) (int64, error) {
	t.Helper()
	t.Setenv("AWS_CA_BUNDLE", "") // the tracking client is not the SDK's type
	rc := newRace()
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	closedBodies := make(chan chan struct{}, 8)
	d := &net.Dialer{}
	sdk := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			var body <-chan struct{}
			select {
			case body = <-closedBodies:
			default:
				body = make(chan struct{})
			}
			return &conn{Conn: c, bodyClosed: body, closed: rc.closedCh(c.LocalAddr().String())}, nil
		}
		tr.DisableKeepAlives = true // a connection per request, as the bodies channel assumes
	})
	cfg, err := load(t.Context(),
		config.WithHTTPClient(bodies{next: sdk, closed: closedBodies}),
		config.WithRegion("us-east-1"),
		config.WithBaseEndpoint(srv.URL),
		config.WithRetryMaxAttempts(2),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")),
	)
	if err != nil {
		t.Fatal(err)
	}
	_, err = kinesis.NewFromConfig(cfg).PutRecord(t.Context(), &kinesis.PutRecordInput{
		StreamName:   aws.String("s"),
		PartitionKey: aws.String("k"),
		Data:         []byte(`{"id":1}`),
	})
	return rc.requests.Load(), err
}

// TestEarlyBodyCloseKeepsTheAnswer: with the race forced, a client of
// config.LoadDefaultConfig's configuration loses the answer and sends the
// PutRecord again; a client of Load's sends it once and reads the answer.
func TestEarlyBodyCloseKeepsTheAnswer(t *testing.T) {
	t.Run("LoadDefaultConfig", func(t *testing.T) {
		n, err := putRecord(t, config.LoadDefaultConfig)
		if n < 2 {
			t.Fatalf("server saw %d request(s) (error %v): the defect this package works around did not occur; if smithy-go fixed it, plainBody can go", n, err)
		}
		t.Logf("as expected without plainBody: %d requests, error %v", n, err)
	})
	t.Run("Load", func(t *testing.T) {
		n, err := putRecord(t, Load)
		if err != nil || n != 1 {
			t.Fatalf("PutRecord: error %v, server saw %d requests, want no error and 1 request", err, n)
		}
	})
}

// TestPlainBody: the middleware leaves the stream's bytes, position and
// seekability as they were, and the body it makes has no WriteTo.
func TestPlainBody(t *testing.T) {
	for _, tc := range []struct {
		name     string
		stream   io.Reader
		seekable bool
	}{
		{"bytes.Reader", bytes.NewReader([]byte("xxhello")), true},
		{"bytes.Buffer", bytes.NewBufferString("xxhello"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _ = tc.stream.Read(make([]byte, 2)) // a stream that does not start at 0
			req := smithyhttp.NewStackRequest().(*smithyhttp.Request)
			req.ContentLength = 5
			req, err := req.SetStream(tc.stream)
			if err != nil {
				t.Fatal(err)
			}
			var got *smithyhttp.Request
			next := middleware.DeserializeHandlerFunc(func(ctx context.Context, in middleware.DeserializeInput) (middleware.DeserializeOutput, middleware.Metadata, error) {
				got = in.Request.(*smithyhttp.Request)
				return middleware.DeserializeOutput{}, middleware.Metadata{}, nil
			})
			if _, _, err := (plainBody{}).HandleDeserialize(t.Context(), middleware.DeserializeInput{Request: req}, next); err != nil {
				t.Fatal(err)
			}
			if got.IsStreamSeekable() != tc.seekable {
				t.Errorf("seekable %v, want %v", got.IsStreamSeekable(), tc.seekable)
			}
			body := got.Build(t.Context()).Body
			if _, ok := body.(io.WriterTo); ok {
				t.Fatalf("body %T has WriteTo", body)
			}
			b, err := io.ReadAll(body)
			if err != nil || string(b) != "hello" {
				t.Fatalf("body reads %q, %v; want \"hello\"", b, err)
			}
			if err := body.Close(); err != nil {
				t.Fatal(err)
			}
			if n, err := io.Copy(io.Discard, body); n != 0 || err != nil {
				t.Fatalf("copy after close: %d bytes, error %v; want 0, nil", n, err)
			}
		})
	}
}

// TestLoadAddsPlainBody: a client made from Load's configuration has the
// middleware, last in its deserialize step.
func TestLoadAddsPlainBody(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	cfg, err := Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	stack := middleware.NewStack("test", smithyhttp.NewStackRequest)
	for _, fn := range cfg.APIOptions {
		if err := fn(stack); err != nil {
			t.Fatal(err)
		}
	}
	ids := stack.Deserialize.List()
	if len(ids) == 0 || ids[len(ids)-1] != (plainBody{}).ID() {
		t.Fatalf("deserialize step %v, want %s last", ids, (plainBody{}).ID())
	}
}
