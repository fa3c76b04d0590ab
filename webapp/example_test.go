package webapp_test

import (
	"fmt"
	"net/http/httptest"
	"testing/fstest"

	"github.com/mmtoolkit/mmtoolkit/webapp"
)

// A host over a build in memory: the shell answers every host route with
// the page and its Content-Security-Policy; /static/ serves the assets.
func Example() {
	build := fstest.MapFS{
		"manifest.json":      {Data: []byte(`{"main":{"js":"/static/main.ABC.js"},"modules":{}}`)},
		"static/main.ABC.js": {Data: []byte(`console.log("host")`)},
	}
	host := webapp.New(webapp.Config{Assets: build, SiteURL: "https://chat.example.com"})

	rec := httptest.NewRecorder()
	host.Shell().ServeHTTP(rec, httptest.NewRequest("GET", "/engineering/channels/town-square", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))

	rec = httptest.NewRecorder()
	host.Static().ServeHTTP(rec, httptest.NewRequest("GET", "/static/main.ABC.js", nil))
	fmt.Println(rec.Code, rec.Header().Get("Cache-Control"))

	fmt.Println(webapp.ContentSecurityPolicy("NONCE")[:55])
	// Output:
	// 200 text/html; charset=utf-8
	// 200 public, max-age=31536000, immutable
	// default-src 'self'; script-src 'self' 'nonce-NONCE'; st
}
