package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// echoUpstream answers with what it received.
var echoUpstream = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	h := map[string]string{}
	for k := range r.Header {
		h[k] = r.Header.Get(k)
	}
	json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "headers": h})
})

type echoed struct {
	Method, Path, Query string
	Headers             map[string]string
}

func TestPluginRoutesAreGatedPerTeam(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{Upstream: echoUpstream})
	files := helloPlugin("com.example.calls", "1.0.0")
	files["plugin.json"] = strings.Replace(files["plugin.json"], `"description"`,
		`"proxy":[{"method":"POST","path":"/api/v4/posts"},{"method":"PUT","path":"/api/v4/posts/{post_id}/patch"}],"description"`, 1)
	if r := e.push("dev", files); r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	get := func(user, path string, hdr ...string) response {
		t.Helper()
		return e.do(user, "GET", path, "", nil, hdr...)
	}
	// Hidden until enabled for the caller's team.
	if r := get("bob", "/plugins/com.example.calls/api/state"); r.status != 404 || r.errorCode(t) != "plugin_not_found" {
		t.Fatalf("before enabling: %d %s", r.status, r.body)
	}
	e.setTeam("alice", "engineering", "com.example.calls", `{"enabled":true}`)
	r := get("bob", "/plugins/com.example.calls/api/state?x=1", "Mattermost-User-Id", "forged", "Mattermost-Plugin-Id", "forged")
	var got echoed
	json.Unmarshal(r.body, &got)
	if r.status != 200 || got.Path != "/plugins/com.example.calls/api/state" || got.Query != "x=1" {
		t.Fatalf("forwarded: %d %s", r.status, r.body)
	}
	if got.Headers["Mattermost-User-Id"] != "" || got.Headers["Mattermost-Plugin-Id"] != "" {
		t.Errorf("spoofable headers reached upstream: %v", got.Headers)
	}
	if r := get("carol", "/plugins/com.example.calls/api/state"); r.status != 404 {
		t.Errorf("sales member reached a plugin only engineering enabled: %d %s", r.status, r.body)
	}
	if r := get("carol", "/plugins/com.example.calls/api/state", "X-Mmtoolkit-Team", "engineering"); r.status != 403 || r.errorCode(t) != "not_team_member" {
		t.Errorf("carol naming engineering: %d %s", r.status, r.body)
	}
	if r := get("", "/plugins/com.example.calls/api/state"); r.status != 401 {
		t.Errorf("anonymous: %d %s", r.status, r.body)
	}

	// Plugin calls to upstream API routes pass only if declared.
	proxy := func(user, method, path string) response {
		t.Helper()
		return e.do(user, method, "/api/v1/plugins/com.example.calls/proxy"+path, "application/json", strings.NewReader(`{}`))
	}
	if r := proxy("bob", "POST", "/api/v4/posts"); r.status != 200 || !strings.Contains(string(r.body), `"path":"/api/v4/posts"`) {
		t.Fatalf("declared route: %d %s", r.status, r.body)
	}
	if r := proxy("bob", "PUT", "/api/v4/posts/abc/patch"); r.status != 200 {
		t.Fatalf("declared pattern: %d %s", r.status, r.body)
	}
	for _, tt := range []struct{ method, path, code string }{
		{"DELETE", "/api/v4/posts/abc", "proxy_route_not_declared"},
		{"GET", "/api/v4/users/me", "proxy_route_not_declared"},
		{"POST", "/api/v4/posts/../users", "proxy_path_invalid"},
		{"GET", "/static/x", "proxy_path_invalid"},
	} {
		r := proxy("bob", tt.method, tt.path)
		if r.errorCode(t) != tt.code {
			t.Errorf("%s %s: %d %s", tt.method, tt.path, r.status, r.body)
		}
		if tt.code == "proxy_route_not_declared" && (r.status != 403 || !strings.Contains(string(r.body), tt.path)) {
			t.Errorf("%s %s: the error must name the missing declaration: %s", tt.method, tt.path, r.body)
		}
	}
	if r := proxy("carol", "POST", "/api/v4/posts"); r.status != 404 {
		t.Errorf("plugin not enabled for carol's team: %d %s", r.status, r.body)
	}
}

// TestPluginProxyFollowsTheServedVersion: with a certification minimum, the
// plugin proxy allows the routes of the version the team is served (the
// certified 1.0.0), not those of a newer unverified 1.1.0 that declares
// more (a design review found the proxy reading the latest version while
// the manifest served the certified one).
func TestPluginProxyFollowsTheServedVersion(t *testing.T) {
	t.Parallel()
	cfg := trustingConfig(registry.Certified)
	cfg.Upstream = echoUpstream
	e := newEnv(t, cfg)
	withProxy := func(version, routes string) map[string]string {
		files := helloPlugin("com.example.gated", version)
		files["plugin.json"] = strings.Replace(files["plugin.json"], `"description"`, `"proxy":[`+routes+`],"description"`, 1)
		return files
	}
	if r := e.push("dev", signed(t, withProxy("1.0.0", `{"method":"POST","path":"/api/v4/posts"}`), certifiedKey)); r.status != 201 {
		t.Fatalf("push certified 1.0.0: %d %s", r.status, r.body)
	}
	e.setTeam("alice", "engineering", "com.example.gated", `{"enabled":true}`)
	if r := e.push("dev", withProxy("1.1.0", `{"method":"POST","path":"/api/v4/posts"},{"method":"GET","path":"/api/v4/users/me"}`)); r.status != 201 {
		t.Fatalf("push unverified 1.1.0: %d %s", r.status, r.body)
	}
	if got := manifestVersions(t, e, "bob", "engineering"); got["com.example.gated"] != "1.0.0" {
		t.Fatalf("manifest: %v, want the certified 1.0.0", got)
	}
	proxy := func(method, path string) response {
		t.Helper()
		return e.do("bob", method, "/api/v1/plugins/com.example.gated/proxy"+path, "application/json", strings.NewReader(`{}`))
	}
	if r := proxy("POST", "/api/v4/posts"); r.status != 200 {
		t.Errorf("a route 1.0.0 declares: %d %s", r.status, r.body)
	}
	if r := proxy("GET", "/api/v4/users/me"); r.status == 200 || r.errorCode(t) != "proxy_route_not_declared" {
		t.Errorf("a route only the unverified 1.1.0 declares: %d %s", r.status, r.body)
	}
}
