package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// BenchmarkPreviewManifest304 is BenchmarkManifest304 for a developer who
// holds a preview session (their manifest is built per request, never
// cached), and for another member of the team meanwhile (the team's cached
// manifest, behind one more map lookup).
func BenchmarkPreviewManifest304(b *testing.B) {
	e := newEnv(b, server.Config{})
	e.push("dev", helloPlugin(helloID, "1.0.0"))
	e.push("dev", helloPlugin(helloID, devV1))
	e.setTeam("alice", "engineering", helloID, `{"enabled":true}`)
	if r := e.preview("dev", devV1, 600); r.status != 200 {
		b.Fatal(string(r.body))
	}
	for _, user := range []string{"dev", "bob"} {
		b.Run(user, func(b *testing.B) {
			first := e.do(user, "GET", "/api/v1/manifest?team=engineering&platform=web", "", nil)
			req := httptest.NewRequest("GET", "/api/v1/manifest?team=engineering&platform=web", nil)
			req.Header.Set("Authorization", "Bearer "+e.tokens[user])
			req.Header.Set("If-None-Match", first.header.Get("ETag"))
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				e.srv.ServeHTTP(w, req)
				if w.Code != http.StatusNotModified {
					b.Fatal(w.Code)
				}
			}
		})
	}
}
