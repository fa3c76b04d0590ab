package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// BenchmarkManifest304 is the handler cost of a manifest revalidation, the
// most frequent request a host sends: authentication, routing, metrics,
// the cached manifest and the ETag match, without the network.
func BenchmarkManifest304(b *testing.B) {
	e := newEnv(b, server.Config{})
	e.push("dev", helloPlugin("com.example.hello", "1.0.0"))
	e.setTeam("alice", "engineering", "com.example.hello", `{"enabled":true}`)
	first := e.do("bob", "GET", "/api/v1/manifest?team=engineering&platform=web", "", nil)
	etag := first.header.Get("ETag")
	req := httptest.NewRequest("GET", "/api/v1/manifest?team=engineering&platform=web", nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["bob"])
	req.Header.Set("If-None-Match", etag)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		if w.Code != http.StatusNotModified {
			b.Fatal(w.Code)
		}
	}
}
