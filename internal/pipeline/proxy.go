package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// localProxy is an HTTP server on a free loopback port in front of an emulator.
type localProxy struct {
	server *http.Server
	url    string
}

// startProxy serves handler(rp) on a free loopback port, where rp forwards to
// target (newProxy).
func startProxy(target string, handler func(rp *httputil.ReverseProxy) http.Handler) (*localProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("emulator endpoint %q: %w", target, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	srv := &http.Server{Handler: handler(newProxy(u)), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return &localProxy{server: srv, url: "http://" + l.Addr().String()}, nil
}

func (p *localProxy) close() { _ = p.server.Close() }

// newProxy returns a reverse proxy to target that answers a failed request with
// 502 Bad Gateway, as httputil's default does, but logs only failures that are
// news: a request whose context was canceled (the function process that sent it
// was stopped, or the whole run was interrupted with Ctrl-C) is answered quietly,
// where the default handler would print "http: proxy error: context canceled"
// once per request in flight.
func newProxy(target *url.URL) *httputil.ReverseProxy {
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		if !quietProxyError(r, err) {
			log.Printf("http: proxy error: %v", err)
		}
		w.WriteHeader(http.StatusBadGateway)
	}
	return rp
}

// quietProxyError reports whether a proxy error is the expected result of a
// cancellation rather than a failure of the emulator.
func quietProxyError(r *http.Request, err error) bool {
	return errors.Is(err, context.Canceled) || r.Context().Err() != nil
}
