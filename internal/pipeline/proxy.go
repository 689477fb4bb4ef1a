package pipeline

import (
	"context"
	"errors"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
)

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
