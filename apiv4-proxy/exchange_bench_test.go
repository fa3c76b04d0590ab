package apiv4proxy

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/proxytest"
)

// BenchmarkExchange measures the proxy's own work for one small GET: the
// handler is called directly (no HTTP server in front), and the upstream is
// a loop answering every request head with the same bytes (no net/http
// behind), so -benchmem counts the proxy's allocations and nothing else's.
// bench/proxy measures the whole server against nginx.
func BenchmarkExchange(b *testing.B) {
	body := `{"id":"s36pyg4oqtfftpt6hrnxbydbze","username":"user1","roles":"system_user","status":"online"}`
	answer := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"+
		"Date: Tue, 24 Nov 2026 06:33:00 GMT\r\n\r\n%s", len(body), body)

	p, err := newProxy(proxytest.RawUpstream(b, answer), ProxyOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		// What the server's fast lane hands the proxy: a request it
		// reuses, the headers a browser sends.
		u := &url.URL{Path: "/api/v4/users/me/status"}
		r := &http.Request{Method: "GET", URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Host: "mm.example.com", RemoteAddr: "127.0.0.1:50000", RequestURI: u.Path, Body: http.NoBody,
			Header: http.Header{
				"Accept":           {"*/*"},
				"Accept-Encoding":  {"gzip, deflate, br"},
				"Authorization":    {"Bearer 8x4pbgk5ifbx8ba5kx5ex6zh4o"},
				"User-Agent":       {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"},
				"X-Requested-With": {"XMLHttpRequest"},
			}}
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			w.status, w.n = 0, 0
			p.ServeHTTP(w, r)
			if w.status != http.StatusOK || w.n != len(body) {
				b.Errorf("got %d with %d bytes", w.status, w.n)
				return
			}
		}
	})
}

// discardWriter is a ResponseWriter that keeps the status and counts the
// body.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}
