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
