package server_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// TestMattermostClientManifests: Mattermost's own webapp asks
// GET /api/v4/plugins/webapp and loads SiteURL + bundle_path with /static/
// turned into /static/plugins/. It gets the plugins of the caller's team.
func TestMattermostClientManifests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	push := e.push("dev", helloPlugin("com.example.hello", "1.0.0"))
	e.setTeam("alice", "engineering", "com.example.hello", `{"enabled":true}`)
	web := push.json(t)["bundles"].(map[string]any)["web"].(map[string]any)["url"].(string)
	bundle := e.do("", "GET", web, "", nil).body

	list := func(user, query string) []map[string]any {
		t.Helper()
		r := e.do(user, "GET", "/api/v4/plugins/webapp"+query, "", nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", user, r.status, r.body)
		}
		var out []map[string]any
		if err := json.Unmarshal(r.body, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := list("bob", "")
	if len(got) != 1 || got[0]["id"] != "com.example.hello" || got[0]["name"] != "" || got[0]["version"] != "1.0.0" {
		t.Fatalf("bob: %v", got)
	}
	path := got[0]["webapp"].(map[string]any)["bundle_path"].(string)
	if !strings.HasPrefix(path, "/static/com.example.hello/com.example.hello_") || !strings.HasSuffix(path, "_bundle.js") {
		t.Fatalf("bundle_path %q is not Mattermost's shape", path)
	}
	// The webapp rewrites /static/ to /static/plugins/.
	r := e.do("", "GET", strings.Replace(path, "/static/", "/static/plugins/", 1), "", nil)
	if r.status != 200 || !bytes.Equal(r.body, bundle) || r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("static bundle: %d (same bytes: %v)", r.status, bytes.Equal(r.body, bundle))
	}
	// Devtools resolve the bundle's sourceMappingURL next to it.
	e.waitIdle()
	name := string(bundle[bytes.LastIndex(bundle, []byte("sourceMappingURL="))+len("sourceMappingURL="):])
	mapPath := strings.Replace(path[:strings.LastIndex(path, "/")+1], "/static/", "/static/plugins/", 1) + strings.TrimSpace(name)
	if m := e.do("", "GET", mapPath, "", nil); m.status != 200 || !bytes.HasPrefix(m.body, []byte(`{`)) || m.header.Get("Content-Type") != "application/json" {
		t.Errorf("GET %s (the bundle's source map): %d %s", mapPath, m.status, m.header.Get("Content-Type"))
	}
	if got := list("carol", ""); len(got) != 0 {
		t.Errorf("carol (sales) gets engineering's plugin: %v", got)
	}
	if got := list("admin", "?team=sales"); len(got) != 0 {
		t.Errorf("admin asking for sales: %v", got)
	}
	if got := list("", ""); len(got) != 0 {
		t.Errorf("anonymous: %v", got)
	}
	if r := e.do("", "GET", "/static/plugins/com.example.hello/com.example.hello_0000000000000000_bundle.js", "", nil); r.status != 404 {
		t.Errorf("unknown static bundle: %d", r.status)
	}
}

// TestMattermostClientManifestFields: each entry of GET
// /api/v4/plugins/webapp is Mattermost's ClientManifest() with
// settings_schema dropped: every manifest field Mattermost passes through,
// in its order, name blanked, description and server gone.
func TestMattermostClientManifestFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	files := helloPlugin("com.example.fields", "1.2.3")
	files["plugin.json"] = `{"id":"com.example.fields","name":"Fields","version":"1.2.3","description":"secret",
		"homepage_url":"https://example.com/h","support_url":"https://example.com/s","release_notes_url":"https://example.com/r",
		"icon_path":"assets/icon.svg","min_server_version":"9.1.0",
		"server":{"executables":{"linux-amd64":"server/dist/plugin-linux-amd64"}},
		"webapp":{"entry":"webapp/index.tsx"},"settings_schema":{"settings":[]},
		"props":{"feature":{"enabled":true},"n":2}}`
	files["assets/icon.svg"] = `<svg xmlns="http://www.w3.org/2000/svg"/>`
	if r := e.push("dev", files); r.status != 201 && r.status != 200 {
		t.Fatalf("push: %d %s", r.status, r.body)
	}
	e.setTeam("alice", "engineering", "com.example.fields", `{"enabled":true}`)
	r := e.do("bob", "GET", "/api/v4/plugins/webapp", "", nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(r.body, &list); err != nil || len(list) != 1 {
		t.Fatalf("%s", r.body)
	}
	var entry map[string]any
	json.Unmarshal(list[0], &entry)
	bundle := entry["webapp"].(map[string]any)["bundle_path"].(string)
	want := `{"id":"com.example.fields","name":"","homepage_url":"https://example.com/h","support_url":"https://example.com/s",` +
		`"release_notes_url":"https://example.com/r","icon_path":"assets/icon.svg","version":"1.2.3","min_server_version":"9.1.0",` +
		`"webapp":{"bundle_path":"` + bundle + `"},"props":{"feature":{"enabled":true},"n":2}}`
	var got bytes.Buffer
	json.Compact(&got, list[0])
	if got.String() != want {
		t.Errorf("client manifest\n got %s\nwant %s", got.String(), want)
	}
}

// TestMattermostStaticDistFiles: a prebuilt plugin's webapp output
// directory is served under /static/plugins/<id>/ as webpack's runtime asks
// for it (publicPath window.basename + "/static/plugins/<id>/"): chunks,
// images and fonts next to the bundle, with their content types.
func TestMattermostStaticDistFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
	files := map[string]string{
		"plugin.json":                              `{"id":"com.example.dist","name":"Dist","version":"1.0.0","webapp":{"bundle_path":"webapp/dist/main.js"}}`,
		"webapp/dist/main.js":                      `window.registerPlugin("com.example.dist", {initialize: function(){}});`,
		"webapp/dist/351.js":                       `(self.webpackChunk=self.webpackChunk||[]).push([[351],{}]);`,
		"webapp/dist/files/logo.png":               png,
		"webapp/dist/fonts/a1b2c3d4e5f60718.woff2": "wOF2 font bytes",
	}
	if r := e.push("dev", files); r.status != 201 {
		t.Fatalf("push: %d %s", r.status, r.body)
	}
	for _, tc := range []struct {
		path, body, ctype, cache string
	}{
		{"351.js", files["webapp/dist/351.js"], "text/javascript; charset=utf-8", "no-cache"},
		{"files/logo.png", png, "image/png", "no-cache"},
		{"fonts/a1b2c3d4e5f60718.woff2", "wOF2 font bytes", "font/woff2", "public, max-age=31536000, immutable"},
	} {
		r := e.do("", "GET", "/static/plugins/com.example.dist/"+tc.path, "", nil)
		if r.status != 200 || string(r.body) != tc.body || r.header.Get("Content-Type") != tc.ctype || r.header.Get("Cache-Control") != tc.cache {
			t.Errorf("%s: %d %q %q %q", tc.path, r.status, r.header.Get("Content-Type"), r.header.Get("Cache-Control"), r.body)
			continue
		}
		etag := r.header.Get("Etag")
		if again := e.do("", "GET", "/static/plugins/com.example.dist/"+tc.path, "", nil, "If-None-Match", etag); again.status != 304 {
			t.Errorf("%s with If-None-Match: %d", tc.path, again.status)
		}
	}
	for _, p := range []string{"main.js", "nope.js", "../com.example.dist/351.js", "files/"} {
		if r := e.do("", "GET", "/static/plugins/com.example.dist/"+p, "", nil); r.status != 404 {
			t.Errorf("%s: %d, want 404", p, r.status)
		} else if p == "nope.js" && (r.errorCode(t) != "file_not_found" || !strings.Contains(string(r.body), "webapp output directory")) {
			t.Errorf("%s: %s, want file_not_found saying where files come from", p, r.body)
		}
	}
	if r := e.do("", "GET", "/static/plugins/com.example.other/351.js", "", nil); r.status != 404 {
		t.Errorf("another plugin's path: %d", r.status)
	}
}
