package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// BenchmarkBundleGzip is the handler cost of a bundle request, the hot
// path the artifact index is on: routing, metrics, the index lookup,
// encoding negotiation and the body from the bundle cache, without the
// network.
func BenchmarkBundleGzip(b *testing.B) {
	e := newEnv(b, server.Config{})
	r := e.push("dev", helloPlugin("com.example.hello", "1.0.0"))
	var pushed struct {
		Bundles map[string]struct{ URL string } `json:"bundles"`
	}
	if err := json.Unmarshal(r.body, &pushed); err != nil || pushed.Bundles["web"].URL == "" {
		b.Fatalf("push answered %d %s", r.status, r.body)
	}
	e.waitIdle() // the gzip variant
	req := httptest.NewRequest("GET", pushed.Bundles["web"].URL, nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br;q=0")
	w := &discardWriter{h: http.Header{}}
	e.srv.ServeHTTP(w, req)
	if w.code != http.StatusOK || w.h.Get("Content-Encoding") != "gzip" {
		b.Fatalf("bundle answered %d, Content-Encoding %q", w.code, w.h.Get("Content-Encoding"))
	}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.code = 0
		e.srv.ServeHTTP(w, req)
		if w.code != http.StatusOK {
			b.Fatal(w.code)
		}
	}
}

// discardWriter is a ResponseWriter that keeps the status and headers and
// drops the body, so a benchmark counts the handler's allocations only.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return len(p), nil
}

func (w *discardWriter) WriteHeader(code int) { w.code = code }
