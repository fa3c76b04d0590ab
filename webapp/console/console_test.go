package console_test

import (
	"bytes"
	"context"

	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/webapp/console"
)

// fake is an in-memory Identity, Source and Actions: the pages' own
// behaviour is tested here; the server's implementation is tested over a
// real registry in package server.
type fake struct {
	viewers  map[string]*console.Viewer // by session token
	teams    []console.Team
	plugins  []*console.PluginInfo
	versions map[string][]console.VersionInfo
	health   map[string]map[string]registry.Health
	states   map[string]map[string]registry.TeamState // team -> plugin -> state
	audit    []registry.AuditEntry
	users    map[string]string
	calls    []string
}

var t0 = time.Date(2026, 3, 14, 9, 26, 0, 0, time.UTC)

func newFake() *fake {
	eng := console.Team{ID: "team-eng", Name: "engineering", DisplayName: "Engineering"}
	sales := console.Team{ID: "team-sales", Name: "sales", DisplayName: "Sales"}
	mapV := func(ver string, at time.Time, cert string) console.VersionInfo {
		return console.VersionInfo{Version: ver, Name: "Map", Description: "Location posts drawn on a map.\nWorks offline.",
			PushedAt: at, PushedBy: "u-dev", Certification: cert,
			Slots:   []pluginpkg.SlotDecl{{Slot: "post_type", PostType: "custom_map_location"}, {Slot: "right_hand_sidebar"}},
			Bundles: []console.Bundle{{Kind: "mobile", URL: "/bundles/b.js", Size: 12_345}, {Kind: "web", URL: "/bundles/a.js", Size: 345_678, Gzip: 98_765, Br: 87_654}},
			Icon:    "/bundles/" + strings.Repeat("1", 64) + ".svg", Screenshots: []string{"/bundles/" + strings.Repeat("2", 64) + ".png"},
			HomepageURL: "https://example.com/map"}
	}
	evil := console.VersionInfo{Version: "0.1.0", Name: `<img src=x onerror=alert(1)>Evil`, Description: `<script>alert("pwned")</script> & friends`,
		PushedAt: t0, PushedBy: "u-dev", Certification: "unverified", Slots: []pluginpkg.SlotDecl{{Slot: "root"}},
		HomepageURL: "javascript:alert(1)"}
	f := &fake{
		viewers: map[string]*console.Viewer{
			"tok-admin": {UserID: "u-admin", Username: "admin", SystemAdmin: true, AdminTeams: []console.Team{eng, sales}, Session: "tok-admin"},
			"tok-alice": {UserID: "u-alice", Username: "alice", AdminTeams: []console.Team{eng}, Session: "tok-alice"},
			"tok-bob":   {UserID: "u-bob", Username: "bob", Teams: []console.Team{eng}, Session: "tok-bob"},
		},
		teams: []console.Team{eng, sales},
		plugins: []*console.PluginInfo{
			{ID: "com.example.map", Owner: "u-dev", CreatedAt: t0, Versions: []string{"1.0.0", "1.1.0"}, Latest: mapV("1.1.0", t0.Add(time.Hour), "official")},
			{ID: "com.example.evil", Owner: "u-dev", CreatedAt: t0, Versions: []string{"0.1.0"}, Latest: evil},
		},
		versions: map[string][]console.VersionInfo{
			"com.example.map":  {mapV("1.1.0", t0.Add(time.Hour), "official"), mapV("1.0.0", t0, "community")},
			"com.example.evil": {evil},
		},
		health: map[string]map[string]registry.Health{
			"com.example.map": {"1.0.0": {PluginID: "com.example.map", Version: "1.0.0", Crashes: 12, Users: 3, Flagged: true, LastAt: t0.Add(30 * time.Minute),
				Recent: []registry.CrashReport{{TeamID: "team-eng", Message: "TypeError: cannot read properties of undefined (reading 'lat')", Slot: "post_type", Platform: "web", At: t0.Add(30 * time.Minute)}}}},
		},
		states: map[string]map[string]registry.TeamState{
			"team-eng": {"com.example.map": {TeamID: "team-eng", PluginID: "com.example.map", Enabled: true, Version: "1.0.0", UpdatedBy: "u-alice", UpdatedAt: t0.Add(2 * time.Hour)}},
			"team-sales": {"com.example.map": {TeamID: "team-sales", PluginID: "com.example.map", Enabled: true, UpdatedBy: "u-admin", UpdatedAt: t0.Add(2 * time.Hour)},
				"com.example.evil": {TeamID: "team-sales", PluginID: "com.example.evil", Enabled: true, UpdatedBy: "u-admin", UpdatedAt: t0.Add(2 * time.Hour)}},
		},
		audit: []registry.AuditEntry{
			{Seq: 3, At: t0.Add(2 * time.Hour), Actor: "u-alice", Action: "pin", PluginID: "com.example.map", Version: "1.0.0", TeamID: "team-eng", Detail: "pinned 1.0.0"},
			{Seq: 2, At: t0.Add(time.Hour), Actor: "u-admin", Action: "enable", PluginID: "com.example.map", TeamID: "team-sales"},
			{Seq: 1, At: t0, Actor: "u-dev", Action: "push", PluginID: "com.example.map", Version: "1.0.0"},
		},
		users: map[string]string{"u-admin": "admin", "u-alice": "alice", "u-bob": "bob", "u-dev": "dev"},
	}
	return f
}

func (f *fake) Viewer(r *http.Request) (*console.Viewer, error) {
	c, err := r.Cookie("MMAUTHTOKEN")
	if err != nil {
		return nil, console.ErrUnauthenticated
	}
	v, ok := f.viewers[c.Value]
	if !ok {
		return nil, fmt.Errorf("%w: unknown token", console.ErrUnauthenticated)
	}
	return v, nil
}

func (f *fake) Team(ctx context.Context, v *console.Viewer, idOrName string) (console.Team, error) {
	for _, t := range f.teams {
		if t.ID == idOrName || t.Name == idOrName {
			return t, nil
		}
	}
	return console.Team{}, console.ErrNotFound
}

func (f *fake) UserNames(ctx context.Context, ids []string) map[string]string {
	out := map[string]string{}
	for _, id := range ids {
		if n, ok := f.users[id]; ok {
			out[id] = n
		}
	}
	return out
}

func (f *fake) UserID(ctx context.Context, name string) (string, bool) {
	for id, n := range f.users {
		if n == name {
			return id, true
		}
	}
	return "", false
}

func (f *fake) Catalogue(ctx context.Context) (*console.Catalogue, error) {
	return console.NewCatalogue(slices.Clone(f.plugins)), nil
}

func (f *fake) Versions(ctx context.Context, id string) ([]console.VersionInfo, error) {
	v, ok := f.versions[id]
	if !ok {
		return nil, console.ErrNotFound
	}
	return v, nil
}

func (f *fake) Health(ctx context.Context, id string) (map[string]registry.Health, error) {
	return f.health[id], nil
}

func (f *fake) TeamStates(ctx context.Context, teamID string) (map[string]registry.TeamState, error) {
	return f.states[teamID], nil
}

func (f *fake) PluginTeamStates(ctx context.Context, id string) (map[string]registry.TeamState, error) {
	out := map[string]registry.TeamState{}
	for team, st := range f.states {
		if s, ok := st[id]; ok {
			out[team] = s
		}
	}
	return out, nil
}

// Effective is the pin, else the plugin's catalogue version: the fake has
// no minimum certification or prereleases.
func (f *fake) Effective(ctx context.Context, id, pin string) (string, error) {
	if pin != "" {
		return pin, nil
	}
	for _, p := range f.plugins {
		if p.ID == id {
			return p.Latest.Version, nil
		}
	}
	return "", nil
}

func (f *fake) Audit(ctx context.Context, flt registry.AuditFilter) ([]registry.AuditEntry, error) {
	var out []registry.AuditEntry
	for _, e := range f.audit {
		if flt.Actor != "" && e.Actor != flt.Actor || flt.PluginID != "" && e.PluginID != flt.PluginID || flt.TeamID != "" && e.TeamID != flt.TeamID {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

func (f *fake) SetTeamPlugin(ctx context.Context, v *console.Viewer, teamID, pluginID string, enabled bool, version string) error {
	if version == "9.9.9" {
		return &console.Problem{Status: http.StatusNotFound, Title: "No such version", Message: "That version does not exist."}
	}
	f.calls = append(f.calls, fmt.Sprintf("set %s %s enabled=%v version=%q by %s", teamID, pluginID, enabled, version, v.Username))
	if f.states[teamID] == nil {
		f.states[teamID] = map[string]registry.TeamState{}
	}
	f.states[teamID][pluginID] = registry.TeamState{TeamID: teamID, PluginID: pluginID, Enabled: enabled, Version: version}
	return nil
}

func (f *fake) DisableEverywhere(ctx context.Context, v *console.Viewer, id string) ([]string, error) {
	var done []string
	for team, st := range f.states {
		if s, ok := st[id]; ok && s.Enabled {
			s.Enabled = false
			st[id] = s
			done = append(done, team)
		}
	}
	f.calls = append(f.calls, fmt.Sprintf("kill %s by %s: %d", id, v.Username, len(done)))
	return done, nil
}

var csrfKey = bytes.Repeat([]byte{7}, 32)

func newServer(t *testing.T, f *fake) *httptest.Server {
	t.Helper()
	r := chi.NewRouter()
	console.New(console.Config{Identity: f, Source: f, Actions: f, CSRFKey: csrfKey, PageSize: 1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

type page struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, srv *httptest.Server, token, path string) page {
	t.Helper()
	return do(t, srv, token, "GET", path, nil)
}

func do(t *testing.T, srv *httptest.Server, token, method, path string, form url.Values) page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.AddCookie(&http.Cookie{Name: "MMAUTHTOKEN", Value: token})
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no redirects followed
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(b)}
}

var csrfValue = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func token(t *testing.T, p page) string {
	t.Helper()
	m := csrfValue.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", p.body)
	}
	return m[1]
}

// golden compares body with testdata/name.golden; UPDATE_GOLDEN=1
// rewrites the file. Markup is split at tags so a diff is readable.
func golden(t *testing.T, name, body string) {
	t.Helper()
	body = strings.ReplaceAll(body, "><", ">\n<") + "\n"
	file := filepath.Join("testdata", name+".golden")
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if string(want) != body {
		wl, gl := strings.Split(string(want), "\n"), strings.Split(body, "\n")
		for i := 0; i < max(len(wl), len(gl)); i++ {
			var w, g string
			if i < len(wl) {
				w = wl[i]
			}
			if i < len(gl) {
				g = gl[i]
			}
			if w != g {
				t.Fatalf("%s differs at line %d:\nwant: %s\n got: %s\n(run with UPDATE_GOLDEN=1 if the change is intended)", file, i+1, w, g)
			}
		}
	}
}

func TestGoldenPages(t *testing.T) {
	srv := newServer(t, newFake())
	for _, tc := range []struct {
		name, token, path string
		status            int
	}{
		{"admin_index", "tok-admin", "/admin", 200},
		{"admin_index_team_admin", "tok-alice", "/admin", 200},
		{"team", "tok-alice", "/admin/teams/engineering?saved=com.example.map", 200},
		{"plugin", "tok-admin", "/admin/plugins/com.example.map?disabled=2", 200},
		{"plugin_team_admin", "tok-alice", "/admin/plugins/com.example.map", 200},
		{"audit", "tok-admin", "/admin/audit?person=alice", 200},
		{"directory", "tok-bob", "/directory?q=map", 200},
		{"directory_pages", "tok-bob", "/directory?page=2", 200},
		{"directory_plugin", "tok-bob", "/directory/com.example.map", 200},
		{"directory_plugin_admin", "tok-alice", "/directory/com.example.map", 200},
		{"forbidden_team", "tok-alice", "/admin/teams/sales", 403},
		{"not_admin", "tok-bob", "/admin", 403},
		{"not_found", "tok-bob", "/directory/com.example.none", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := get(t, srv, tc.token, tc.path)
			if p.status != tc.status {
				t.Fatalf("GET %s: %d, want %d\n%s", tc.path, p.status, tc.status, p.body)
			}
			if ct := p.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("CSP %q", csp)
			}
			golden(t, tc.name, p.body)
		})
	}
}

// TestEscaping: a plugin's name and description are text, never markup,
// wherever they appear, and a javascript: homepage is not a link.
func TestEscaping(t *testing.T) {
	srv := newServer(t, newFake())
	for _, path := range []string{"/directory?q=evil", "/directory/com.example.evil", "/admin/plugins/com.example.evil", "/admin/teams/sales", "/admin", "/admin/audit"} {
		p := get(t, srv, "tok-admin", path)
		if p.status != 200 {
			t.Fatalf("GET %s: %d", path, p.status)
		}
		for _, bad := range []string{"<script", "<img src=x", "javascript:alert"} {
			if strings.Contains(p.body, bad) {
				t.Errorf("GET %s: page contains %q", path, bad)
			}
		}
		if !strings.Contains(p.body, "&lt;img src=x onerror=alert(1)&gt;Evil") {
			t.Errorf("GET %s: the name is not shown as text", path)
		}
		if strings.Contains(path, "evil") && !strings.Contains(p.body, "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; &amp; friends") {
			t.Errorf("GET %s: the description is not shown as text", path)
		}
	}
}

func TestUnauthenticatedRedirectsToLogin(t *testing.T) {
	srv := newServer(t, newFake())
	for _, tok := range []string{"", "tok-expired"} {
		p := get(t, srv, tok, "/admin/teams/engineering?x=1")
		if p.status != http.StatusFound || p.header.Get("Location") != "/login?redirect_to=%2Fadmin%2Fteams%2Fengineering%3Fx%3D1" {
			t.Errorf("token %q: %d Location %q", tok, p.status, p.header.Get("Location"))
		}
	}
	p := do(t, srv, "", "POST", "/admin/teams/engineering/plugins/com.example.map", url.Values{"action": {"enable"}})
	if p.status != http.StatusUnauthorized {
		t.Errorf("POST logged out: %d", p.status)
	}
}

// TestDirectoryTellsMembersWhereItIsEnabled: a member whose team has the
// plugin enabled is told so, not to "ask an admin to enable" it; where it is
// not enabled, they are told which team's admin to ask, with the command.
func TestDirectoryTellsMembersWhereItIsEnabled(t *testing.T) {
	srv := newServer(t, newFake())
	p := get(t, srv, "tok-bob", "/directory/com.example.map") // enabled in engineering
	if !strings.Contains(p.body, "Enabled</span> in Engineering") || strings.Contains(p.body, "Ask an admin") {
		t.Errorf("enabled in bob's team:\n%s", p.body)
	}
	p = get(t, srv, "tok-bob", "/directory/com.example.evil") // enabled in sales only
	if !strings.Contains(p.body, "Ask an admin of Engineering") || !strings.Contains(p.body, "mmtoolkit enable --team engineering --plugin com.example.evil") {
		t.Errorf("not enabled in bob's team:\n%s", p.body)
	}
}

func TestForms(t *testing.T) {
	f := newFake()
	srv := newServer(t, f)
	tok := token(t, get(t, srv, "tok-alice", "/admin/teams/engineering"))
	post := func(token, path string, form url.Values) page {
		t.Helper()
		return do(t, srv, token, "POST", path, form)
	}

	// CSRF: a missing or wrong token (another session's) changes nothing.
	adminTok := token(t, get(t, srv, "tok-admin", "/admin/plugins/com.example.map/disable-everywhere"))
	for name, form := range map[string]url.Values{
		"missing":       {"action": {"disable"}},
		"wrong":         {"action": {"disable"}, "csrf_token": {"x" + tok[1:]}},
		"other session": {"action": {"disable"}, "csrf_token": {adminTok}},
	} {
		p := post("tok-alice", "/admin/teams/engineering/plugins/com.example.map", form)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "Form expired") {
			t.Errorf("%s token: %d\n%s", name, p.status, p.body)
		}
	}
	if len(f.calls) != 0 {
		t.Fatalf("calls after refused forms: %q", f.calls)
	}

	p := post("tok-alice", "/admin/teams/engineering/plugins/com.example.evil", url.Values{"action": {"enable"}, "csrf_token": {tok}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/teams/engineering?saved=com.example.evil#plugin-com-example-evil" {
		t.Fatalf("enable: %d %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	// Pinning keeps the enabled state; disabling keeps the pin.
	post("tok-alice", "/admin/teams/engineering/plugins/com.example.map", url.Values{"action": {"pin"}, "version": {"latest"}, "csrf_token": {tok}})
	post("tok-alice", "/admin/teams/engineering/plugins/com.example.evil", url.Values{"action": {"pin"}, "version": {"0.1.0"}, "csrf_token": {tok}})
	post("tok-alice", "/admin/teams/engineering/plugins/com.example.evil", url.Values{"action": {"disable"}, "csrf_token": {tok}})
	want := []string{
		`set team-eng com.example.evil enabled=true version="" by alice`,
		`set team-eng com.example.map enabled=true version="" by alice`,
		`set team-eng com.example.evil enabled=true version="0.1.0" by alice`,
		`set team-eng com.example.evil enabled=false version="0.1.0" by alice`,
	}
	if !slices.Equal(f.calls, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(f.calls, "\n"), strings.Join(want, "\n"))
	}

	// A refusal from Actions is a page with its status and message.
	p = post("tok-alice", "/admin/teams/engineering/plugins/com.example.map", url.Values{"action": {"pin"}, "version": {"9.9.9"}, "csrf_token": {tok}})
	if p.status != http.StatusNotFound || !strings.Contains(p.body, "That version does not exist.") {
		t.Errorf("unknown version: %d\n%s", p.status, p.body)
	}
	// Another team's form: 403, even with a valid token.
	p = post("tok-alice", "/admin/teams/sales/plugins/com.example.map", url.Values{"action": {"disable"}, "csrf_token": {tok}})
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "Only admins of team Sales") {
		t.Errorf("other team: %d\n%s", p.status, p.body)
	}
	// The kill switch is for system admins.
	p = post("tok-alice", "/admin/plugins/com.example.map/disable-everywhere", url.Values{"csrf_token": {tok}})
	if p.status != http.StatusForbidden {
		t.Errorf("team admin kill switch: %d", p.status)
	}
	// Without the confirmation page's answer it asks, and changes nothing.
	calls := len(f.calls)
	p = post("tok-admin", "/admin/plugins/com.example.map/disable-everywhere", url.Values{"csrf_token": {adminTok}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "Disable Map everywhere?") || len(f.calls) != calls {
		t.Errorf("kill switch without confirm: %d, calls %q\n%s", p.status, f.calls[calls:], p.body)
	}
	if p := get(t, srv, "tok-alice", "/admin/plugins/com.example.map/disable-everywhere"); p.status != http.StatusForbidden {
		t.Errorf("team admin confirmation page: %d", p.status)
	}
	p = post("tok-admin", "/admin/plugins/com.example.map/disable-everywhere", url.Values{"csrf_token": {adminTok}, "confirm": {"yes"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/plugins/com.example.map?disabled=2" {
		t.Errorf("kill switch: %d %q", p.status, p.header.Get("Location"))
	}
	if got := f.calls[len(f.calls)-1]; got != "kill com.example.map by admin: 2" {
		t.Errorf("last call %q", got)
	}
}

func TestAuditScopedToTeamAdminsTeams(t *testing.T) {
	srv := newServer(t, newFake())
	p := get(t, srv, "tok-alice", "/admin/audit")
	if p.status != 200 || !strings.Contains(p.body, "pinned 1.0.0") || strings.Contains(p.body, "<td>push</td>") || strings.Contains(p.body, "<td>Sales</td>") {
		t.Errorf("alice's audit log shows other teams' entries or misses hers:\n%s", p.body)
	}
	if p := get(t, srv, "tok-alice", "/admin/audit?team=sales"); p.status != http.StatusForbidden {
		t.Errorf("alice, audit of sales: %d", p.status)
	}
	p = get(t, srv, "tok-admin", "/admin/audit?plugin=com.example.map&team=sales")
	if !strings.Contains(p.body, "<td>enable</td>") || strings.Contains(p.body, "pinned 1.0.0") {
		t.Errorf("admin, audit of sales:\n%s", p.body)
	}
}

func TestCatalogueSearch(t *testing.T) {
	mk := func(id, name, desc, cert string, slots ...string) *console.PluginInfo {
		p := &console.PluginInfo{ID: id, Latest: console.VersionInfo{Name: name, Description: desc, Certification: cert}}
		for _, s := range slots {
			p.Latest.Slots = append(p.Latest.Slots, pluginpkg.SlotDecl{Slot: s})
		}
		return p
	}
	cat := console.NewCatalogue([]*console.PluginInfo{
		mk("c.video", "Video calls", "Calls in a channel, with a map of who is where", "official", "call_button"),
		mk("c.map", "Map", "Location posts", "community", "post_type"),
		mk("c.poll", "Poll", "Quick polls; no map", "unverified", "post_type", "main_menu"),
	})
	ids := func(ps []*console.PluginInfo) string {
		var out []string
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		q    console.Query
		want string
	}{
		{console.Query{}, "c.map,c.poll,c.video"},
		{console.Query{Text: "MAP"}, "c.map,c.poll,c.video"[:5] + ",c.poll,c.video"},
		{console.Query{Text: "map calls"}, "c.video"},
		{console.Query{Slot: "post_type"}, "c.map,c.poll"},
		{console.Query{Slot: "post_type", Certification: "unverified"}, "c.poll"},
		{console.Query{Text: "c.video"}, "c.video"},
		{console.Query{Text: "nothing"}, ""},
	} {
		if got := ids(cat.Search(tc.q)); got != tc.want {
			t.Errorf("Search(%+v) = %s, want %s", tc.q, got, tc.want)
		}
	}
	if cat.Plugin("c.map") == nil || cat.Plugin("nope") != nil {
		t.Error("Plugin lookup")
	}
}

func TestStylesheet(t *testing.T) {
	srv := newServer(t, newFake())
	p := get(t, srv, "tok-bob", "/directory")
	m := regexp.MustCompile(`href="(/admin/console\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatal("no stylesheet link")
	}
	css := get(t, srv, "", m[1])
	if css.status != 200 || css.header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(css.header.Get("Cache-Control"), "immutable") || !strings.Contains(css.body, "--button-bg") {
		t.Errorf("stylesheet: %d %v", css.status, css.header)
	}
}
