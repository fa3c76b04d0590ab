package server_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/mmtoolkit/mmtoolkit/server"
)

func (e *env) setTeam(user, team, plugin, body string) response {
	e.t.Helper()
	return e.do(user, "PUT", "/api/v1/teams/"+team+"/plugins/"+plugin, "application/json", strings.NewReader(body))
}

type manifest struct {
	Team    string `json:"team"`
	Plugins []struct {
		ID      string `json:"id"`
		Version string `json:"version"`
		Bundle  struct {
			URL       string `json:"url"`
			Integrity string `json:"integrity"`
			Size      int64  `json:"size"`
		} `json:"bundle"`
		Slots []struct {
			Slot     string `json:"slot"`
			PostType string `json:"post_type"`
		} `json:"slots"`
	} `json:"plugins"`
}

func (e *env) manifest(user, team string) (manifest, response) {
	e.t.Helper()
	r := e.do(user, "GET", "/api/v1/manifest?team="+team+"&platform=web", "", nil)
	var m manifest
	if r.status == 200 {
		if err := json.Unmarshal(r.body, &m); err != nil {
			e.t.Fatal(err)
		}
	}
	return m, r
}

func TestTeamPluginStateAndPermissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	if r := e.push("dev", helloPlugin("com.example.hello", "1.0.0")); r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	if r := e.push("dev", helloPlugin("com.example.hello", "1.1.0")); r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}

	tests := []struct {
		name, user, method, team, plugin, body string
		status                                 int
		code                                   string
	}{
		{"member reads", "bob", "GET", "engineering", "", "", 200, ""},
		{"by team id", "bob", "GET", e.teams["engineering"], "", "", 200, ""},
		{"non-member reads", "carol", "GET", "engineering", "", "", 403, "not_team_member"},
		{"unknown team", "bob", "GET", "nope", "", "", 404, "team_not_found"},
		{"member toggles", "bob", "PUT", "engineering", "com.example.hello", `{"enabled":true}`, 403, "not_team_admin"},
		{"other team's admin", "alice", "PUT", "sales", "com.example.hello", `{"enabled":true}`, 403, "not_team_member"},
		{"team admin toggles", "alice", "PUT", "engineering", "com.example.hello", `{"enabled":true}`, 200, ""},
		{"system admin toggles", "admin", "PUT", "sales", "com.example.hello", `{"enabled":false}`, 200, ""},
		{"pin missing version", "alice", "PUT", "engineering", "com.example.hello", `{"enabled":true,"version":"9.9.9"}`, 404, "version_not_found"},
		{"unknown plugin", "alice", "PUT", "engineering", "com.example.nope", `{"enabled":true}`, 404, "plugin_not_found"},
		{"bad body", "alice", "PUT", "engineering", "com.example.hello", `{"enabled":"yes"}`, 400, "bad_request"},
		{"unknown field", "alice", "PUT", "engineering", "com.example.hello", `{"enable":true}`, 400, "bad_request"},
		{"enabled missing", "alice", "PUT", "engineering", "com.example.hello", `{"version":"1.0.0"}`, 400, "enabled_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r response
			if tt.method == "GET" {
				r = e.do(tt.user, "GET", "/api/v1/teams/"+tt.team+"/plugins", "", nil)
			} else {
				r = e.setTeam(tt.user, tt.team, tt.plugin, tt.body)
			}
			if r.status != tt.status {
				t.Fatalf("got %d %s, want %d", r.status, r.body, tt.status)
			}
			if tt.code != "" && r.errorCode(t) != tt.code {
				t.Fatalf("code %s, want %s", r.errorCode(t), tt.code)
			}
		})
	}

	r := e.do("bob", "GET", "/api/v1/teams/engineering/plugins", "", nil)
	var tp struct {
		Team    struct{ Name string } `json:"team"`
		Plugins []struct {
			ID        string `json:"id"`
			Enabled   bool   `json:"enabled"`
			Version   string `json:"version"`
			Effective string `json:"effective_version"`
			Latest    string `json:"latest"`
		} `json:"plugins"`
	}
	json.Unmarshal(r.body, &tp)
	if tp.Team.Name != "engineering" || len(tp.Plugins) != 1 || !tp.Plugins[0].Enabled ||
		tp.Plugins[0].Effective != "1.1.0" || tp.Plugins[0].Latest != "1.1.0" {
		t.Fatalf("team plugins: %s", r.body)
	}

	// Pin, then follow latest again; the audit log records each change.
	if r := e.setTeam("alice", "engineering", "com.example.hello", `{"enabled":true,"version":"1.0.0"}`); r.status != 200 ||
		r.json(t)["effective_version"] != "1.0.0" {
		t.Fatalf("pin: %d %s", r.status, r.body)
	}
	if r := e.setTeam("alice", "engineering", "com.example.hello", `{"enabled":true,"version":"latest"}`); r.status != 200 ||
		r.json(t)["effective_version"] != "1.1.0" {
		t.Fatalf("follow latest: %d %s", r.status, r.body)
	}
}

func TestManifestPerTeam(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	if r := e.push("dev", helloPlugin("com.example.hello", "1.0.0")); r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	if r := e.push("dev", helloPlugin("com.example.hello", "1.1.0")); r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	// Nothing is enabled anywhere until an admin says so.
	if m, r := e.manifest("bob", "engineering"); r.status != 200 || len(m.Plugins) != 0 {
		t.Fatalf("before enabling: %d %s", r.status, r.body)
	}
	if r := e.setTeam("alice", "engineering", "com.example.hello", `{"enabled":true}`); r.status != 200 {
		t.Fatal(r.status, string(r.body))
	}

	m, r := e.manifest("bob", "engineering")
	if r.status != 200 || len(m.Plugins) != 1 || m.Plugins[0].ID != "com.example.hello" || m.Plugins[0].Version != "1.1.0" {
		t.Fatalf("engineering manifest: %d %s", r.status, r.body)
	}
	if m.Team != e.teams["engineering"] || len(m.Plugins[0].Slots) != 2 || m.Plugins[0].Slots[0].PostType != "custom_hello" {
		t.Errorf("manifest content: %s", r.body)
	}
	// The same manifest by team id, byte for byte.
	if _, byID := e.manifest("bob", e.teams["engineering"]); !bytes.Equal(byID.body, r.body) {
		t.Errorf("by id differs from by name:\n%s\n%s", byID.body, r.body)
	}
	// The bundle matches its integrity.
	b := e.do("", "GET", m.Plugins[0].Bundle.URL, "", nil)
	sum := sha256.Sum256(b.body)
	if b.status != 200 || "sha256-"+base64.StdEncoding.EncodeToString(sum[:]) != m.Plugins[0].Bundle.Integrity ||
		int64(len(b.body)) != m.Plugins[0].Bundle.Size {
		t.Fatalf("bundle %s does not match the manifest's integrity", m.Plugins[0].Bundle.URL)
	}

	// Another team sees nothing, and non-members are refused.
	if m, r := e.manifest("carol", "sales"); r.status != 200 || len(m.Plugins) != 0 {
		t.Fatalf("sales manifest: %d %s", r.status, r.body)
	}
	if _, r := e.manifest("carol", "engineering"); r.status != 403 || r.errorCode(t) != "not_team_member" {
		t.Fatalf("carol reads engineering: %d %s", r.status, r.body)
	}

	// ETag and 304; a change gives a new ETag.
	etag := r.header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Fatalf("want a strong ETag, got %q", etag)
	}
	nm := e.do("bob", "GET", "/api/v1/manifest?team=engineering", "", nil, "If-None-Match", etag)
	if nm.status != http.StatusNotModified || len(nm.body) != 0 || nm.header.Get("ETag") != etag {
		t.Fatalf("If-None-Match: %d %q", nm.status, nm.body)
	}
	if r := e.setTeam("alice", "engineering", "com.example.hello", `{"enabled":true,"version":"1.0.0"}`); r.status != 200 {
		t.Fatal(r.status, string(r.body))
	}
	changed := e.do("bob", "GET", "/api/v1/manifest?team=engineering", "", nil, "If-None-Match", etag)
	if changed.status != 200 || changed.header.Get("ETag") == etag || !strings.Contains(string(changed.body), `"version":"1.0.0"`) {
		t.Fatalf("after pinning: %d %s", changed.status, changed.body)
	}

	for _, tt := range []struct{ query, code string }{
		{"", "team_required"}, {"?team=engineering&platform=ios", "unknown_platform"}, {"?team=nope", "team_not_found"},
	} {
		r := e.do("bob", "GET", "/api/v1/manifest"+tt.query, "", nil)
		if r.errorCode(t) != tt.code {
			t.Errorf("%s: %d %s", tt.query, r.status, r.body)
		}
	}
}

func TestBundlesNegotiateEncodingAndAreImmutable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	r := e.push("dev", helloPlugin("com.example.hello", "1.0.0"))
	if r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	web := r.json(t)["bundles"].(map[string]any)["web"].(map[string]any)
	url := web["url"].(string)
	// Servable at once, before its variants exist...
	if first := e.do("", "GET", url, "", nil, "Accept-Encoding", "gzip, br"); first.status != 200 {
		t.Fatalf("right after the push: %d", first.status)
	}
	// ...which follow in the background.
	e.waitIdle()
	plain := e.do("", "GET", url, "", nil)
	if plain.status != 200 || plain.header.Get("Content-Encoding") != "" ||
		plain.header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		!strings.HasPrefix(plain.header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("identity: %d %v", plain.status, plain.header)
	}
	decoders := map[string]func(io.Reader) (io.Reader, error){
		"gzip": func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
		"br":   func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil },
	}
	for _, tt := range []struct{ accept, want string }{
		{"gzip", "gzip"}, {"gzip, deflate, br", "br"}, {"br;q=0, gzip", "gzip"}, {"identity", ""}, {"*", "br"},
	} {
		got := e.do("", "GET", url, "", nil, "Accept-Encoding", tt.accept)
		if got.header.Get("Content-Encoding") != tt.want || got.header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q", tt.accept, got.header.Get("Content-Encoding"))
			continue
		}
		if tt.want == "" {
			continue
		}
		dr, err := decoders[tt.want](bytes.NewReader(got.body))
		if err != nil {
			t.Fatal(err)
		}
		if data, _ := io.ReadAll(dr); !bytes.Equal(data, plain.body) {
			t.Errorf("%s body does not decode to the bundle", tt.want)
		}
	}
	if nm := e.do("", "GET", url, "", nil, "If-None-Match", plain.header.Get("ETag")); nm.status != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", nm.status)
	}
	mapURL := r.json(t)["bundles"].(map[string]any)["web_map"].(map[string]any)["url"].(string)
	if !bytes.Contains(plain.body, []byte(strings.TrimPrefix(mapURL, "/bundles/"))) {
		t.Errorf("bundle does not name its source map %s", mapURL)
	}
	if m := e.do("", "GET", mapURL, "", nil); m.status != 200 || !bytes.Contains(m.body, []byte(`"sources"`)) {
		t.Errorf("source map: %d", m.status)
	}
	sha := strings.TrimSuffix(strings.TrimPrefix(url, "/bundles/"), ".js")
	for _, bad := range []string{"/bundles/" + sha + ".map", "/bundles/" + sha + ".css", "/bundles/" + strings.Repeat("0", 64) + ".js", "/bundles/x.js",
		"/bundles/" + sha + "/x.js", "/bundles//"} {
		if r := e.do("", "GET", bad, "", nil); r.status != 404 || r.errorCode(t) != "bundle_not_found" {
			t.Errorf("%s: %d %s", bad, r.status, r.body)
		}
	}
}

func TestCatalogueAndOperatorRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	e.push("dev", helloPlugin("com.example.b", "1.0.0"))
	e.push("dev", helloPlugin("com.example.a", "2.0.0"))
	e.push("dev", helloPlugin("com.example.a", "10.0.0"))

	r := e.do("carol", "GET", "/api/v1/plugins", "", nil)
	var cat struct {
		Plugins []struct {
			ID, Latest, Certification, Name string
			Versions                        []string
		}
	}
	json.Unmarshal(r.body, &cat)
	if r.status != 200 || len(cat.Plugins) != 2 || cat.Plugins[0].ID != "com.example.a" ||
		cat.Plugins[0].Latest != "10.0.0" || len(cat.Plugins[0].Versions) != 2 || cat.Plugins[0].Certification == "" {
		t.Fatalf("catalogue: %d %s", r.status, r.body)
	}
	d := e.do("carol", "GET", "/api/v1/plugins/com.example.a", "", nil)
	if d.status != 200 || !strings.Contains(string(d.body), `"pushed_by"`) {
		t.Fatalf("plugin detail: %d %s", d.status, d.body)
	}
	if r := e.do("carol", "GET", "/api/v1/plugins/com.example.zzz", "", nil); r.status != 404 || r.errorCode(t) != "plugin_not_found" {
		t.Errorf("unknown plugin: %d %s", r.status, r.body)
	}
	if r := e.do("", "GET", "/healthz", "", nil); r.status != 200 {
		t.Errorf("healthz: %d", r.status)
	}
	m := e.do("", "GET", "/metrics", "", nil)
	for _, want := range []string{
		`mmtoolkit_http_requests_total{method="POST",route="/api/v1/plugins",code="201"} 3`,
		`mmtoolkit_pushes_total{result="created"} 3`,
		`mmtoolkit_compile_duration_seconds_count{target="web"} 3`,
		`mmtoolkit_http_request_duration_seconds_bucket{method="GET",route="/api/v1/plugins/{id}",le="+Inf"} 2`,
	} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("metrics lack %s:\n%s", want, m.body)
		}
	}
	if r := e.do("bob", "GET", "/api/v1/nothing", "", nil); r.status != 404 || r.errorCode(t) != "route_not_found" {
		t.Errorf("unknown route: %d %s", r.status, r.body)
	}
	if r := e.do("bob", "DELETE", "/api/v1/manifest", "", nil); r.status != 405 || r.errorCode(t) != "method_not_allowed" {
		t.Errorf("wrong method: %d %s", r.status, r.body)
	}
}

func TestStoreFailureIsReportedNotHidden(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	e.store.Close() // the cleanup's second Close is harmless
	if r := e.do("", "GET", "/healthz", "", nil); r.status != http.StatusServiceUnavailable || r.errorCode(t) != "store_unavailable" {
		t.Errorf("healthz with a closed store: %d %s", r.status, r.body)
	}
	if r := e.do("bob", "GET", "/api/v1/plugins", "", nil); r.status != http.StatusInternalServerError || r.errorCode(t) != "internal_error" {
		t.Errorf("catalogue with a closed store: %d %s", r.status, r.body)
	}
}
