package server_test

import (
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// TestPluginPublicFiles: a package's public/ files are served at
// /plugins/<id>/public/<file> to anyone, as Mattermost serves a plugin's
// public folder (zoom's and gitlab's webapps show
// /plugins/<id>/public/app-bar-icon.png); both for a prebuilt Mattermost
// package and for one compiled from source. Anything else under public/
// goes on to the plugin route, which answers as before.
func TestPluginPublicFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
	prebuilt := map[string]string{
		"plugin.json":             `{"id":"com.example.public","name":"Public","version":"1.0.0","webapp":{"bundle_path":"webapp/dist/main.js"}}`,
		"webapp/dist/main.js":     `window.registerPlugin("com.example.public", {initialize: function(){}});`,
		"public/app-bar-icon.png": png,
		"public/docs/guide.svg":   `<svg xmlns="http://www.w3.org/2000/svg"/>`,
	}
	if r := e.push("dev", prebuilt); r.status != 201 {
		t.Fatalf("push prebuilt: %d %s", r.status, r.body)
	}
	source := map[string]string{
		"plugin.json":     `{"id":"com.example.publicsrc","name":"Public source","version":"1.0.0","webapp":{"entry":"webapp/index.js"}}`,
		"webapp/index.js": `window.registerPlugin("com.example.publicsrc", {initialize() {}});`,
		"public/icon.png": png,
	}
	if r := e.push("dev", source); r.status != 201 {
		t.Fatalf("push source: %d %s", r.status, r.body)
	}
	for _, tc := range []struct{ path, body, ctype string }{
		{"/plugins/com.example.public/public/app-bar-icon.png", png, "image/png"},
		{"/plugins/com.example.public/public/docs/guide.svg", prebuilt["public/docs/guide.svg"], "image/svg+xml"},
		{"/plugins/com.example.publicsrc/public/icon.png", png, "image/png"},
	} {
		// No session: Mattermost serves public files to anyone (an <img>).
		r := e.do("", "GET", tc.path, "", nil)
		if r.status != 200 || string(r.body) != tc.body || r.header.Get("Content-Type") != tc.ctype {
			t.Errorf("%s: %d %q %q", tc.path, r.status, r.header.Get("Content-Type"), r.body)
			continue
		}
		if again := e.do("", "GET", tc.path, "", nil, "If-None-Match", r.header.Get("Etag")); again.status != 304 {
			t.Errorf("%s with If-None-Match: %d", tc.path, again.status)
		}
		if h := e.do("", "HEAD", tc.path, "", nil); h.status != 200 || len(h.body) != 0 {
			t.Errorf("HEAD %s: %d %d bytes", tc.path, h.status, len(h.body))
		}
	}
	// Not a public file of ours: the plugin route answers as it always did.
	for _, p := range []string{
		"/plugins/com.example.public/public/nope.png",
		"/plugins/com.example.public/public/../plugin.json",
		"/plugins/com.example.none/public/app-bar-icon.png",
	} {
		want := e.do("", "GET", "/plugins/com.example.none/api/v1/x", "", nil).status
		if r := e.do("", "GET", p, "", nil); r.status == 200 || r.status != want {
			t.Errorf("%s: %d, want the plugin route's %d", p, r.status, want)
		}
	}
	// A newer version's file is served (the URL carries no version), and a
	// file only an older version has is still there.
	newer := map[string]string{
		"plugin.json":           strings.Replace(prebuilt["plugin.json"], `"1.0.0"`, `"1.1.0"`, 1),
		"webapp/dist/main.js":   prebuilt["webapp/dist/main.js"],
		"public/docs/guide.svg": `<svg xmlns="http://www.w3.org/2000/svg" id="v2"/>`,
	}
	if r := e.push("dev", newer); r.status != 201 {
		t.Fatalf("push 1.1.0: %d %s", r.status, r.body)
	}
	if r := e.do("", "GET", "/plugins/com.example.public/public/docs/guide.svg", "", nil); string(r.body) != newer["public/docs/guide.svg"] {
		t.Errorf("after 1.1.0: %d %q, want 1.1.0's file", r.status, r.body)
	}
	if r := e.do("", "GET", "/plugins/com.example.public/public/app-bar-icon.png", "", nil); r.status != 200 || string(r.body) != png {
		t.Errorf("1.0.0's icon after 1.1.0: %d", r.status)
	}
	// Writes are never answered from the package.
	if r := e.do("", "POST", "/plugins/com.example.public/public/app-bar-icon.png", "", nil); r.status == 200 {
		t.Errorf("POST a public file: %d", r.status)
	}
}
