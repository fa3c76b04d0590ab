package mattermosttest_test

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/mattermosttest"
)

func get(t *testing.T, url, token string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

// The identity routes answer the shapes of the recorded samples, with the
// stand-in's users and teams; teams come in join order.
func TestIdentityRoutes(t *testing.T) {
	mm := mattermosttest.New(t)
	alice := mm.AddUser("alice", "")
	admin := mm.AddUser("admin", "system_user system_admin")
	b := mm.AddTeam("beta", true)
	a := mm.AddTeam("alpha", false)
	mm.AddMember(b.ID, alice.ID, "")
	mm.AddMember(a.ID, alice.ID, "team_user team_admin")
	tok := mm.Token(alice)

	status, _, body := get(t, mm.URL()+"/api/v4/users/me", tok)
	var me map[string]any
	json.Unmarshal(body, &me)
	if status != 200 || me["id"] != alice.ID || me["username"] != "alice" || me["locale"] != "en" {
		t.Fatalf("users/me: %d %s", status, body)
	}
	_, _, body = get(t, mm.URL()+"/api/v4/users/me/teams", tok)
	var teams []map[string]any
	json.Unmarshal(body, &teams)
	if len(teams) != 2 || teams[0]["id"] != b.ID || teams[1]["name"] != "alpha" || teams[1]["type"] != "I" {
		t.Fatalf("users/me/teams: %s", body)
	}
	_, _, body = get(t, mm.URL()+"/api/v4/users/me/teams/members", tok)
	if !strings.Contains(string(body), `"roles":"team_user team_admin"`) {
		t.Fatalf("members: %s", body)
	}
	if s, _, body := get(t, mm.URL()+"/api/v4/users/me", "nope"); s != 401 || !strings.Contains(string(body), "api.context.session_expired.app_error") {
		t.Fatalf("bad token: %d %s", s, body)
	}
	bob := mm.AddUser("bob", "")
	if s, _, _ := get(t, mm.URL()+"/api/v4/teams/"+a.ID, mm.Token(bob)); s != 403 {
		t.Fatalf("private team for a non-member: %d", s)
	}
	if s, _, _ := get(t, mm.URL()+"/api/v4/teams/name/alpha", mm.Token(admin)); s != 200 {
		t.Fatalf("private team for an admin: %d", s)
	}
	if !mm.IsSystemAdmin(mm.Token(admin)) || mm.IsSystemAdmin(tok) {
		t.Fatal("IsSystemAdmin")
	}

	res, err := http.Post(mm.URL()+"/api/v4/users/login", "application/json", strings.NewReader(`{"login_id":"alice","password":"mattermost"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Token") == "" {
		t.Fatalf("login: %d", res.StatusCode)
	}
	if u, ok := mm.UserByToken(res.Header.Get("Token")); !ok || u.ID != alice.ID {
		t.Fatal("the login token is not alice's session")
	}
}

// An installed plugin is listed as Mattermost's ClientManifest (name
// blanked, description, server and settings_schema dropped, bundle renamed
// with its FNV-64a), its bundle is served under /static/plugins/, and its
// routes reach the test's handler with Mattermost-User-Id set by the
// stand-in, never by the client.
func TestPlugins(t *testing.T) {
	mm := mattermosttest.New(t, mattermosttest.WithSubpath("/chat"))
	u := mm.AddUser("u", "")
	var events []mattermosttest.PluginEvent
	mm.OnPluginChange(func(ev mattermosttest.PluginEvent) { events = append(events, ev) })
	bundle := []byte(`window.registerPlugin("com.example.up", {})`)
	mm.InstallPlugin([]byte(`{"id":"com.example.up","name":"Up","description":"d","version":"1.2.0",
		"server":{"executable":"server/dist/plugin"},"webapp":{"bundle_path":"webapp/dist/main.js"},
		"settings_schema":{"header":"h"},"props":{"k":1}}`), bundle)
	mm.InstallPlugin([]byte(`{"id":"com.example.serveronly","name":"S","version":"1.0.0"}`), nil)
	h := fnv.New64a()
	h.Write(bundle)
	hash := fmt.Sprintf("%016x", h.Sum64())

	_, hdr, body := get(t, mm.URL()+"/api/v4/plugins/webapp", "")
	want := `[{"id":"com.example.up","name":"","version":"1.2.0","webapp":{"bundle_path":"/static/com.example.up/com.example.up_` + hash + `_bundle.js"},"props":{"k":1}}]`
	if string(body) != want || hdr.Get("X-Version-Id") == "" {
		t.Fatalf("plugins/webapp:\n got %s\nwant %s", body, want)
	}
	status, hdr, got := get(t, mm.URL()+"/static/plugins/com.example.up/com.example.up_"+hash+"_bundle.js", "")
	if status != 200 || string(got) != string(bundle) || hdr.Get("Cache-Control") != "max-age=31556926, public" {
		t.Fatalf("bundle: %d %q %v", status, got, hdr)
	}
	if s, _, _ := get(t, mm.URL()+"/static/plugins/com.example.up/nope.js", ""); s != 404 {
		t.Fatalf("missing file: %d", s)
	}

	if s, _, _ := get(t, mm.URL()+"/plugins/com.example.up/hello", ""); s != 404 {
		t.Fatalf("plugin without a server part: %d", s)
	}
	mm.SetPluginHandler("com.example.up", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s user=%s", r.URL.Path, r.Header.Get("Mattermost-User-Id"))
	}))
	req, _ := http.NewRequest("GET", mm.URL()+"/plugins/com.example.up/hello", nil)
	req.Header.Set("Authorization", "Bearer "+mm.Token(u))
	req.Header.Set("Mattermost-User-Id", "spoofed")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "/hello user="+u.ID {
		t.Fatalf("plugin route: %q", b)
	}
	if r := mm.Requests("/plugins/"); len(r) != 2 || r[1].Header.Get("Mattermost-User-Id") != "spoofed" {
		t.Fatalf("the request log keeps requests as they arrived: %+v", r)
	}

	mm.SetPluginEnabled("com.example.up", false)
	if _, _, body := get(t, mm.URL()+"/api/v4/plugins/webapp", ""); string(body) != "[]" {
		t.Fatalf("disabled plugin listed: %s", body)
	}
	if len(events) != 2 || events[0].Event != "plugin_enabled" || events[1].Event != "plugin_disabled" ||
		string(events[1].Manifest.SettingsSchema) != `{"header":"h"}` {
		t.Fatalf("events: %+v", events)
	}
	mm.SetPluginsDisabled(true)
	if s, _, _ := get(t, mm.URL()+"/api/v4/plugins/webapp", ""); s != 501 {
		t.Fatalf("plugins off: %d", s)
	}
}

// Handle adds routes next to the stand-in's own.
func TestHandle(t *testing.T) {
	mm := mattermosttest.New(t)
	mm.HandleFunc("GET /api/v4/plugins", func(w http.ResponseWriter, r *http.Request) {
		mattermosttest.WriteJSON(w, 200, map[string]any{"active": []any{}, "inactive": []any{}})
	})
	if s, _, body := get(t, mm.URL()+"/api/v4/plugins", ""); s != 200 || !strings.Contains(string(body), "inactive") {
		t.Fatalf("%d %s", s, body)
	}
	if s, _, body := get(t, mm.URL()+"/api/v4/nothing", ""); s != 404 || !strings.Contains(string(body), "api.context.404.app_error") {
		t.Fatalf("%d %s", s, body)
	}
}

// Start runs the same stand-in outside a test; Close stops it.
func TestStartClose(t *testing.T) {
	mm, err := mattermosttest.Start()
	if err != nil {
		t.Fatal(err)
	}
	mm.InstallPlugin([]byte(`{"id":"p","version":"1.0.0","webapp":{"bundle_path":"main.js"}}`), []byte("x"))
	if s, _, body := get(t, mm.URL()+"/api/v4/plugins/webapp", ""); s != 200 || !strings.Contains(string(body), `"id":"p"`) {
		t.Fatalf("%d %s", s, body)
	}
	mm.Close()
	if _, err := http.Get(mm.URL() + "/api/v4/plugins/webapp"); err == nil {
		t.Fatal("still serving after Close")
	}
}
