package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// BenchmarkEmbedChannelPosts is what an embed token adds to a REST call:
// the same GET of a channel's posts (the sandbox answers it in process),
// with a Mattermost session and with an embed token (token and app read
// from the store, the session opened, the channel checked).
func BenchmarkEmbedChannelPosts(b *testing.B) {
	e := newEnv(b, server.Config{})
	id, secret := e.embedApp(appFor(devTalk))
	tok := e.token(id, secret, `{"user":"bob"}`).Token
	for _, bc := range []struct{ name, auth string }{
		{"session", "Bearer " + e.tokens["bob"]},
		{"embed", "Bearer " + tok},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/api/v4/channels/"+devTalk+"/posts?per_page=1", nil)
			req.Header.Set("Authorization", bc.auth)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				e.srv.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}
