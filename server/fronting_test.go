package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/mattermosttest"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// fronting is mmtoolkit in front of a stand-in Mattermost, as serve
// --upstream runs it: identity from the stand-in, /api/v4 proxied to it.
// alice is on teams alpha and beta (team admin of both), bob on beta only.
type fronting struct {
	*env
	mm                *mattermosttest.Mattermost
	alpha, beta       mattermosttest.Team
	alice, bob, admin mattermosttest.User
}

func newFronting(t *testing.T, cfg server.Config, opts ...mattermosttest.Option) *fronting {
	t.Helper()
	mm := mattermosttest.New(t, opts...)
	f := &fronting{mm: mm}
	f.admin = mm.AddUser("admin", "system_user system_admin")
	f.alice = mm.AddUser("alice", "")
	f.bob = mm.AddUser("bob", "")
	// Joined beta first: the first team is still alpha (by display name,
	// as Mattermost's webapp picks a default team).
	f.beta = mm.AddTeam("beta", false)
	f.alpha = mm.AddTeam("alpha", false)
	mm.AddMember(f.beta.ID, f.alice.ID, "team_user team_admin")
	mm.AddMember(f.alpha.ID, f.alice.ID, "team_user team_admin")
	mm.AddMember(f.beta.ID, f.bob.ID, "")
	mm.AddMember(f.alpha.ID, f.admin.ID, "")

	up, err := apiv4proxy.NewUpstream(mm.URL(), apiv4proxy.UpstreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := apiv4proxy.NewProxy(mm.URL(), apiv4proxy.ProxyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Upstream, cfg.Fronting = proxy, true
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	store := registrytest.Open(t)
	srv, err := server.New(store, up, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(srv.Close)
	t.Cleanup(hs.Close)
	f.env = &env{t: t, url: hs.URL, srv: srv, store: store, tokens: map[string]string{
		"admin": mm.Token(f.admin), "alice": mm.Token(f.alice), "bob": mm.Token(f.bob)},
		teams: map[string]string{"alpha": f.alpha.ID, "beta": f.beta.ID}}
	return f
}

// pushEnable pushes a small plugin and enables it for the teams.
func (f *fronting) pushEnable(id, version string, teams ...string) {
	f.t.Helper()
	r := f.push("admin", map[string]string{
		"plugin.json": `{"id":"` + id + `","name":"` + id + `","version":"` + version + `","webapp":{"entry":"index.js"}}`,
		"index.js":    `window.registerPlugin(` + fmt.Sprintf("%q", id) + `, {initialize() {}});`,
	})
	if r.status != 201 && r.status != 200 {
		f.t.Fatalf("push %s: %d %s", id, r.status, r.body)
	}
	for _, tid := range teams {
		if r := f.do("admin", "PUT", "/api/v1/teams/"+tid+"/plugins/"+id, "application/json", strings.NewReader(`{"enabled":true}`)); r.status != 200 {
			f.t.Fatalf("enable %s for %s: %d %s", id, tid, r.status, r.body)
		}
	}
}

// upstreamList is the stand-in's own answer, as Mattermost gives it.
func (f *fronting) upstreamList() []byte {
	f.t.Helper()
	res, err := http.Get(f.mm.URL() + "/api/v4/plugins/webapp")
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return b
}

// entries splits a list into its entries' raw bytes, by id.
func entries(t *testing.T, body []byte) map[string]string {
	t.Helper()
	var list []json.RawMessage
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("not a JSON list: %s", body)
	}
	out := map[string]string{}
	for _, e := range list {
		var head struct{ ID string }
		json.Unmarshal(e, &head)
		if _, dup := out[head.ID]; dup {
			t.Fatalf("%s listed twice in %s", head.ID, body)
		}
		out[head.ID] = string(e)
	}
	return out
}

func installUpstream(mm *mattermosttest.Mattermost, id, version string) {
	mm.InstallPlugin([]byte(`{"id":"`+id+`","name":"Up `+id+`","description":"on Mattermost","version":"`+version+`",
		"webapp":{"bundle_path":"webapp/dist/main.js"},"settings_schema":{"header":"x"},"props":{"on":"mattermost"}}`),
		[]byte(`window.registerPlugin("`+id+`", {initialize() {}}); // `+version))
}

// Through mmtoolkit, GET /api/v4/plugins/webapp is Mattermost's list,
// each entry byte for byte, plus the plugins of the caller's current team:
// the team named, else the first by display name, never the union of the
// user's teams. Without a session it is Mattermost's answer unchanged.
func TestMergedWebappList(t *testing.T) {
	t.Parallel()
	f := newFronting(t, server.Config{})
	installUpstream(f.mm, "com.upstream.calls", "1.0.0")
	installUpstream(f.mm, "com.upstream.zoom", "2.0.0")
	f.pushEnable("com.example.alpha", "1.0.0", f.alpha.ID)
	f.pushEnable("com.example.beta", "1.0.0", f.beta.ID)
	upstream := f.upstreamList()
	upEntries := entries(t, upstream)

	anon := f.do("", "GET", "/api/v4/plugins/webapp", "", nil)
	if anon.status != 200 || !bytes.Equal(anon.body, upstream) {
		t.Fatalf("without a session: %d %s, want Mattermost's %s", anon.status, anon.body, upstream)
	}
	if bad := f.do("", "GET", "/api/v4/plugins/webapp", "", nil, "Authorization", "Bearer notatoken"); !bytes.Equal(bad.body, upstream) {
		t.Fatalf("with a token Mattermost rejects (it ignores it here): %d %s", bad.status, bad.body)
	}
	for _, tc := range []struct {
		name, user, query string
		want, not         string
	}{
		{"alice, team named by id", "alice", "?team=" + f.alpha.ID, "com.example.alpha", "com.example.beta"},
		{"alice, team named by name", "alice", "?team=beta", "com.example.beta", "com.example.alpha"},
		{"alice, no team named: alpha first by name", "alice", "", "com.example.alpha", "com.example.beta"},
		{"bob, only on beta", "bob", "", "com.example.beta", "com.example.alpha"},
	} {
		r := f.do(tc.user, "GET", "/api/v4/plugins/webapp"+tc.query, "", nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", tc.name, r.status, r.body)
		}
		got := entries(t, r.body)
		for id, raw := range upEntries {
			if got[id] != raw {
				t.Errorf("%s: Mattermost's entry %s changed:\n got %s\nwant %s", tc.name, id, got[id], raw)
			}
		}
		if got[tc.want] == "" || got[tc.not] != "" || len(got) != len(upEntries)+1 {
			t.Errorf("%s: want %s and not %s: %s", tc.name, tc.want, tc.not, r.body)
		}
		if !strings.Contains(got[tc.want], `"bundle_path":"/static/`+tc.want+`/`+tc.want+`_`) {
			t.Errorf("%s: mmtoolkit's entry is not a client manifest: %s", tc.name, got[tc.want])
		}
		if r.header.Get("X-Version-Id") != mattermosttest.Version || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v", tc.name, r.header)
		}
	}
	// A private team Mattermost hides from him.
	if r := f.do("bob", "GET", "/api/v4/plugins/webapp?team=alpha", "", nil); r.status != 404 || r.errorCode(t) != "team_not_found" {
		t.Fatalf("bob naming a team he is not on: %d %s", r.status, r.body)
	}
	// The system admin may open every team, as in Mattermost, and gets the
	// plugins of the team he names though he is not on it (the one
	// team-access rule, identity.Identity.CanAccessTeam).
	if r := f.do("admin", "GET", "/api/v4/plugins/webapp?team=beta", "", nil); r.status != 200 ||
		entries(t, r.body)["com.example.beta"] == "" || entries(t, r.body)["com.example.alpha"] != "" {
		t.Fatalf("admin naming a team he is not on: %d %s", r.status, r.body)
	}
}

// An id Mattermost and the team both serve keeps one entry: mmtoolkit's
// under --plugin-conflict=mmtoolkit (the default), Mattermost's, byte for
// byte, under upstream. A team that did not enable it gets Mattermost's
// either way.
func TestMergedWebappConflict(t *testing.T) {
	t.Parallel()
	for _, rule := range []server.PluginConflict{"", server.ConflictMmtoolkit, server.ConflictUpstream} {
		t.Run(string(rule), func(t *testing.T) {
			f := newFronting(t, server.Config{PluginConflict: rule})
			installUpstream(f.mm, "com.example.both", "9.0.0")
			f.pushEnable("com.example.both", "1.0.0", f.alpha.ID)
			upEntry := entries(t, f.upstreamList())["com.example.both"]

			got := entries(t, f.do("alice", "GET", "/api/v4/plugins/webapp?team=alpha", "", nil).body)["com.example.both"]
			if rule == server.ConflictUpstream {
				if got != upEntry {
					t.Fatalf("upstream rule: got %s, want Mattermost's %s", got, upEntry)
				}
			} else if !strings.Contains(got, `"version":"1.0.0"`) || strings.Contains(got, "9.0.0") {
				t.Fatalf("mmtoolkit rule: got %s, want mmtoolkit's 1.0.0", got)
			}
			if got := entries(t, f.do("bob", "GET", "/api/v4/plugins/webapp", "", nil).body)["com.example.both"]; got != upEntry {
				t.Fatalf("a team without it: got %s, want Mattermost's %s", got, upEntry)
			}
		})
	}
}

// The merged list is cached per user and team: a change made through
// mmtoolkit shows at once, Mattermost is not asked again within the TTL,
// and with no TTL every request asks it.
func TestMergedWebappCache(t *testing.T) {
	t.Parallel()
	f := newFronting(t, server.Config{PluginListTTL: 1 << 40})
	installUpstream(f.mm, "com.upstream.calls", "1.0.0")
	f.pushEnable("com.example.alpha", "1.0.0")
	list := func() map[string]string {
		return entries(t, f.do("alice", "GET", "/api/v4/plugins/webapp?team=alpha", "", nil).body)
	}
	if first := f.do("alice", "GET", "/api/v4/plugins/webapp?team=alpha", "", nil); first.header.Get("X-Request-Id") == "" {
		t.Fatalf("the answer that asked Mattermost lacks its X-Request-Id: %v", first.header)
	}
	asked := f.mm.Hits("/api/v4/plugins/webapp")
	if again := f.do("alice", "GET", "/api/v4/plugins/webapp?team=alpha", "", nil); again.header.Get("X-Request-Id") != "" {
		t.Fatalf("a cached answer repeats an X-Request-Id: %v", again.header)
	}
	if n := f.mm.Hits("/api/v4/plugins/webapp"); n != asked {
		t.Fatalf("a second request within the TTL asked Mattermost again (%d -> %d)", asked, n)
	}
	if r := f.do("alice", "PUT", "/api/v1/teams/alpha/plugins/com.example.alpha", "application/json", strings.NewReader(`{"enabled":true}`)); r.status != 200 {
		t.Fatal(r.status, string(r.body))
	}
	if got := list(); got["com.example.alpha"] == "" {
		t.Fatalf("enabling for the team did not show at once: %v", got)
	}
	if got := entries(t, f.do("alice", "GET", "/api/v4/plugins/webapp?team=beta", "", nil).body); got["com.example.alpha"] != "" {
		t.Fatalf("another team's list has it: %v", got)
	}

	g := newFronting(t, server.Config{PluginListTTL: -1})
	g.do("alice", "GET", "/api/v4/plugins/webapp", "", nil)
	installUpstream(g.mm, "com.upstream.late", "1.0.0")
	if got := entries(t, g.do("alice", "GET", "/api/v4/plugins/webapp", "", nil).body); got["com.upstream.late"] == "" {
		t.Fatalf("without a TTL Mattermost's new plugin is missing: %v", got)
	}
}

// Mattermost's own plugins stay reachable through mmtoolkit: their files
// under /static/plugins/ and their routes under /plugins/ pass through
// unchanged (a webhook without a session too), without the headers only
// Mattermost sets. mmtoolkit's own plugins keep their per-team gate.
func TestUpstreamPluginPassThrough(t *testing.T) {
	t.Parallel()
	f := newFronting(t, server.Config{})
	installUpstream(f.mm, "com.upstream.calls", "1.0.0")
	f.mm.PluginFile("com.upstream.calls", "351.chunk.js", []byte("chunk"))
	f.mm.SetPluginHandler("com.upstream.calls", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "calls %s %s user=%s", r.Method, r.URL.Path, r.Header.Get("Mattermost-User-Id"))
	}))
	installUpstream(f.mm, "com.example.both", "9.0.0")
	f.mm.SetPluginHandler("com.example.both", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "both on Mattermost")
	}))
	f.pushEnable("com.example.both", "1.0.0", f.alpha.ID)
	f.pushEnable("com.example.mine", "1.0.0", f.alpha.ID)

	var bundlePath string
	json.Unmarshal([]byte(entries(t, f.upstreamList())["com.upstream.calls"]), &struct {
		Webapp *struct {
			BundlePath *string `json:"bundle_path"`
		}
	}{Webapp: &struct {
		BundlePath *string `json:"bundle_path"`
	}{&bundlePath}})
	static := strings.Replace(bundlePath, "/static/", "/static/plugins/", 1)
	if r := f.do("", "GET", static, "", nil); r.status != 200 || !strings.Contains(string(r.body), `registerPlugin("com.upstream.calls"`) ||
		r.header.Get("Cache-Control") != "max-age=31556926, public" {
		t.Fatalf("upstream bundle %s: %d %s %v", static, r.status, r.body, r.header)
	}
	if r := f.do("", "GET", "/static/plugins/com.upstream.calls/351.chunk.js", "", nil); r.status != 200 || string(r.body) != "chunk" {
		t.Fatalf("upstream chunk: %d %s", r.status, r.body)
	}
	// A plugin both have: Mattermost's bundle name is not mmtoolkit's.
	bothUp := entries(t, f.upstreamList())["com.example.both"]
	var both struct{ Webapp struct{ Bundle_path string } }
	json.Unmarshal([]byte(bothUp), &both)
	if r := f.do("", "GET", strings.Replace(both.Webapp.Bundle_path, "/static/", "/static/plugins/", 1), "", nil); r.status != 200 || !strings.Contains(string(r.body), "9.0.0") {
		t.Fatalf("Mattermost's copy of a plugin both have: %d %s", r.status, r.body)
	}

	if r := f.do("", "POST", "/plugins/com.upstream.calls/webhook", "application/json", strings.NewReader("{}")); r.status != 200 || string(r.body) != "calls POST /webhook user=" {
		t.Fatalf("webhook without a session: %d %s", r.status, r.body)
	}
	// Its public/ files are its server's to serve (mmtoolkit has none of its).
	if r := f.do("", "GET", "/plugins/com.upstream.calls/public/icon.svg", "", nil); r.status != 200 || string(r.body) != "calls GET /public/icon.svg user=" {
		t.Fatalf("public file of an upstream plugin: %d %s", r.status, r.body)
	}
	r := f.do("bob", "GET", "/plugins/com.upstream.calls/api/v1/state?x=1", "", nil, "Mattermost-User-Id", "spoofed", "Mattermost-Plugin-Id", "spoofed")
	if r.status != 200 || string(r.body) != "calls GET /api/v1/state user="+f.bob.ID {
		t.Fatalf("upstream plugin route: %d %s", r.status, r.body)
	}
	seen := f.mm.Requests("/plugins/com.upstream.calls/api/v1/state")
	if len(seen) != 1 || seen[0].Header.Get("Mattermost-User-Id") != "" || seen[0].Header.Get("Mattermost-Plugin-Id") != "" || seen[0].Query != "x=1" {
		t.Fatalf("what Mattermost received: %+v", seen)
	}
	if r := f.do("bob", "GET", "/plugins/com.example.both/x", "", nil); r.status != 200 || string(r.body) != "both on Mattermost" {
		t.Fatalf("a plugin both have, not enabled for bob's team here: %d %s", r.status, r.body)
	}
	if r := f.do("bob", "GET", "/plugins/com.example.mine/x", "", nil); r.status != 404 || r.errorCode(t) != "plugin_not_found" {
		t.Fatalf("mmtoolkit's plugin, not enabled for bob's team: %d %s", r.status, r.body)
	}
	if r := f.do("", "GET", "/plugins/com.example.mine/x", "", nil); r.status != 401 {
		t.Fatalf("mmtoolkit's plugin without a session: %d %s", r.status, r.body)
	}
	if r := f.do("", "GET", "/static/plugins/com.example.mine/nothing.js", "", nil); r.status != 404 {
		t.Fatalf("a file no side has: %d %s", r.status, r.body)
	}
}

// The console's index lists the plugins Mattermost runs itself, read-only,
// saying which also exist here and which side a team gets; the sandbox's
// index has no such section.
func TestConsoleListsMattermostPlugins(t *testing.T) {
	t.Parallel()
	for _, rule := range []server.PluginConflict{server.ConflictMmtoolkit, server.ConflictUpstream} {
		f := newFronting(t, server.Config{PluginConflict: rule})
		installUpstream(f.mm, "com.upstream.calls", "0.29.0")
		installUpstream(f.mm, "com.example.both", "9.0.0")
		f.pushEnable("com.example.both", "1.0.0")
		page := f.page("admin", "GET", "/admin", nil)
		body := string(page.body)
		if page.status != 200 || !strings.Contains(body, "Installed on Mattermost") {
			t.Fatalf("%s: %d, no Mattermost section:\n%s", rule, page.status, body)
		}
		for _, want := range []string{"com.upstream.calls", "0.29.0", "com.example.both", "9.0.0", "--plugin-conflict=" + string(rule)} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the index does not show %q", rule, want)
			}
		}
	}
	e := newEnv(t, server.Config{})
	if page := e.page("admin", "GET", "/admin", nil); page.status != 200 || strings.Contains(string(page.body), "Installed on Mattermost") {
		t.Fatalf("sandbox index: %d %s", page.status, page.body)
	}
}

// FuzzMergeWebappList: whatever Mattermost answers, the merge is a JSON
// list only when Mattermost's is one, holding Mattermost's entries byte
// for byte in its order (but those the rule gives to mmtoolkit) followed
// by mmtoolkit's (but those the rule gives to Mattermost).
func FuzzMergeWebappList(f *testing.F) {
	sample, err := os.ReadFile(filepath.Join("..", "apiv4-proxy", "testdata", "plugins_webapp.json"))
	if err != nil {
		f.Fatal(err)
	}
	var s struct{ Body json.RawMessage }
	json.Unmarshal(sample, &s)
	for _, seed := range []string{string(s.Body), "[]", "null", "{}", `[1,"x",null,{}]`, ` [ {"id" : "zoom", "version":"1"} ,{"id":"b"}]`, `[{"id":"zoom"},{"id":"zoom"}]`, "[", ""} {
		f.Add([]byte(seed), "zoom", false)
		f.Add([]byte(seed), "com.example.mine", true)
	}
	f.Fuzz(func(t *testing.T, upstream []byte, ourID string, upstreamWins bool) {
		rule := server.ConflictMmtoolkit
		if upstreamWins {
			rule = server.ConflictUpstream
		}
		ours := []string{ourID, ourID + ".other"}
		body, ok := server.MergeWebappList(upstream, ours, rule)
		var up []json.RawMessage
		isList := json.Unmarshal(upstream, &up) == nil && up != nil
		if ok != isList {
			t.Fatalf("ok=%v for %q (a JSON list: %v)", ok, upstream, isList)
		}
		if !ok {
			return
		}
		var got []json.RawMessage
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("merged %q is not a JSON list: %v", body, err)
		}
		upIDs := map[string]bool{}
		var want []string
		for _, e := range up {
			var head struct {
				ID string `json:"id"`
			}
			json.Unmarshal(e, &head)
			upIDs[head.ID] = true
			if rule == server.ConflictUpstream || head.ID == "" || (head.ID != ours[0] && head.ID != ours[1]) {
				want = append(want, string(e))
			}
		}
		for _, id := range ours {
			if rule != server.ConflictUpstream || !upIDs[id] {
				b, _ := json.Marshal(struct {
					ID      string `json:"id"`
					Name    string `json:"name"`
					Version string `json:"version"`
				}{id, "", "1.0.0"})
				want = append(want, string(b))
			}
		}
		if len(got) != len(want) {
			t.Fatalf("merged %d entries, want %d: %s", len(got), len(want), body)
		}
		for i := range got {
			if string(got[i]) != want[i] {
				t.Fatalf("entry %d: got %s, want %s", i, got[i], want[i])
			}
		}
	})
}

// A Mattermost under a subpath (SiteURL https://example.com/chat): the list
// is asked there, and its plugins' files and routes are reached there.
func TestFrontingSubpath(t *testing.T) {
	t.Parallel()
	f := newFronting(t, server.Config{}, mattermosttest.WithSubpath("/chat"))
	installUpstream(f.mm, "com.upstream.calls", "1.0.0")
	f.mm.SetPluginHandler("com.upstream.calls", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "calls "+r.URL.Path)
	}))
	f.pushEnable("com.example.alpha", "1.0.0", f.alpha.ID)
	got := entries(t, f.do("alice", "GET", "/api/v4/plugins/webapp", "", nil).body)
	up := entries(t, f.upstreamList())["com.upstream.calls"]
	if got["com.upstream.calls"] != up || got["com.example.alpha"] == "" {
		t.Fatalf("merged list under a subpath: %v", got)
	}
	var e struct{ Webapp struct{ Bundle_path string } }
	json.Unmarshal([]byte(up), &e)
	if r := f.do("", "GET", strings.Replace(e.Webapp.Bundle_path, "/static/", "/static/plugins/", 1), "", nil); r.status != 200 || !strings.Contains(string(r.body), "com.upstream.calls") {
		t.Fatalf("bundle under a subpath: %d %s", r.status, r.body)
	}
	if r := f.do("", "GET", "/plugins/com.upstream.calls/x", "", nil); r.status != 200 || string(r.body) != "calls /x" {
		t.Fatalf("plugin route under a subpath: %d %s", r.status, r.body)
	}
}
