package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// page fetches a console page as user with the session cookie, as a
// browser does (no redirects followed).
func (e *env) page(user, method, path string, form url.Values) response {
	e.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, e.url+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.AddCookie(&http.Cookie{Name: "MMAUTHTOKEN", Value: e.tokens[user]})
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return response{resp.StatusCode, resp.Header, []byte(b.String())}
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf reads the form token from a page user can open.
func (e *env) csrf(user, path string) string {
	e.t.Helper()
	r := e.page(user, "GET", path, nil)
	m := csrfInput.FindSubmatch(r.body)
	if r.status != 200 || m == nil {
		e.t.Fatalf("GET %s as %s: %d, no CSRF token\n%s", path, user, r.status, r.body)
	}
	return string(m[1])
}

func (e *env) teamState(team, plugin string) registry.TeamState {
	e.t.Helper()
	st, err := e.store.TeamStates(e.t.Context(), e.teams[team])
	if err != nil {
		e.t.Fatal(err)
	}
	return st[plugin]
}

func TestConsoleTogglesThroughTheAPIPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	for _, v := range []string{"1.0.0", "1.1.0"} {
		if r := e.push("dev", helloPlugin("com.example.hello", v)); r.status != 201 {
			t.Fatal(string(r.body))
		}
	}
	bob, _ := e.dial("bob")     // engineering
	carol, _ := e.dial("carol") // sales
	tok := e.csrf("alice", "/admin/teams/engineering")
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf_token": {tok}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	const path = "/admin/teams/engineering/plugins/com.example.hello"

	// CSRF: without the token, with a wrong one, or with another user's,
	// nothing changes.
	for name, f := range map[string]url.Values{
		"missing": {"action": {"enable"}},
		"wrong":   {"action": {"enable"}, "csrf_token": {strings.Repeat("A", len(tok))}},
		"carol's": {"action": {"enable"}, "csrf_token": {e.csrf("admin", "/admin/teams/sales")}},
	} {
		r := e.page("alice", "POST", path, f)
		if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "Form expired") {
			t.Errorf("%s token: %d\n%s", name, r.status, r.body)
		}
	}
	if st := e.teamState("engineering", "com.example.hello"); st.Enabled {
		t.Fatal("a refused form changed the state")
	}

	r := e.page("alice", "POST", path, form("action", "enable"))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/teams/engineering?saved=com.example.hello#plugin-com-example-hello" {
		t.Fatalf("enable: %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	if m := readWS(t, bob, 2*time.Second); m == nil || m.Event != "plugin_enabled" || !strings.Contains(string(m.Data), `"version":"1.1.0"`) {
		t.Fatalf("bob got %+v", m)
	}
	// Roll back: pin 1.0.0, an update for the team's open pages.
	if r := e.page("alice", "POST", path, form("action", "pin", "version", "1.0.0")); r.status != http.StatusSeeOther {
		t.Fatalf("pin: %d %s", r.status, r.body)
	}
	if m := readWS(t, bob, 2*time.Second); m == nil || m.Event != "plugin_updated" || !strings.Contains(string(m.Data), `"version":"1.0.0"`) {
		t.Fatalf("after pin bob got %+v", m)
	}
	if st := e.teamState("engineering", "com.example.hello"); !st.Enabled || st.Version != "1.0.0" || st.UpdatedBy != userID("alice") {
		t.Errorf("state %+v", st)
	}
	page := e.page("alice", "GET", "/admin/teams/engineering?saved=com.example.hello", nil)
	if !strings.Contains(string(page.body), "Hello is enabled for Engineering, pinned to 1.0.0") ||
		!strings.Contains(string(page.body), `<option value="1.0.0" selected>`) {
		t.Errorf("team page after pin:\n%s", page.body)
	}
	// An unknown version is refused with a page, not a 500.
	if r := e.page("alice", "POST", path, form("action", "pin", "version", "9.9.9")); r.status != http.StatusNotFound || !strings.Contains(string(r.body), "does not exist") {
		t.Errorf("unknown version: %d\n%s", r.status, r.body)
	}
	if m := readWS(t, carol, 300*time.Millisecond); m != nil {
		t.Fatalf("carol (sales) got engineering's event: %+v", m)
	}
}

func TestConsoleTeamAdminSeesOnlyTheirTeams(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	if r := e.push("dev", helloPlugin("com.example.hello", "1.0.0")); r.status != 201 {
		t.Fatal(string(r.body))
	}
	tok := e.csrf("alice", "/admin/teams/engineering")
	for _, tc := range []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/admin/teams/sales", nil},
		{"GET", "/admin/teams/" + e.teams["sales"], nil},
		{"POST", "/admin/teams/sales/plugins/com.example.hello", url.Values{"action": {"enable"}, "csrf_token": {tok}}},
		{"GET", "/admin/audit?team=sales", nil},
		{"POST", "/admin/plugins/com.example.hello/disable-everywhere", url.Values{"csrf_token": {tok}}},
	} {
		r := e.page("alice", tc.method, tc.path, tc.form)
		if r.status != http.StatusForbidden || !strings.Contains(r.header.Get("Content-Type"), "text/html") {
			t.Errorf("alice %s %s: %d %s", tc.method, tc.path, r.status, r.header.Get("Content-Type"))
		}
	}
	if st := e.teamState("sales", "com.example.hello"); st.Enabled {
		t.Error("alice changed sales")
	}
	index := string(e.page("alice", "GET", "/admin", nil).body)
	if !strings.Contains(index, "/admin/teams/engineering") || strings.Contains(index, "/admin/teams/sales") {
		t.Errorf("alice's index lists other teams:\n%s", index)
	}
	admin := string(e.page("admin", "GET", "/admin", nil).body)
	if !strings.Contains(admin, "/admin/teams/engineering") || !strings.Contains(admin, "/admin/teams/sales") {
		t.Errorf("the system admin's index misses a team:\n%s", admin)
	}
	// Members who administer nothing get a 403 page; everyone gets the directory.
	if r := e.page("bob", "GET", "/admin", nil); r.status != http.StatusForbidden {
		t.Errorf("bob /admin: %d", r.status)
	}
	if r := e.page("bob", "GET", "/directory/com.example.hello", nil); r.status != 200 || !strings.Contains(string(r.body), "Ask an admin of Engineering") {
		t.Errorf("bob directory page: %d\n%s", r.status, r.body)
	}
	// Logged out: to the webapp's login, with the way back.
	if r := e.page("", "GET", "/admin/teams/engineering", nil); r.status != http.StatusFound || r.header.Get("Location") != "/login?redirect_to=%2Fadmin%2Fteams%2Fengineering" {
		t.Errorf("logged out: %d %q", r.status, r.header.Get("Location"))
	}
}

func TestConsoleKillSwitch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	if r := e.push("dev", helloPlugin("com.example.hello", "1.0.0")); r.status != 201 {
		t.Fatal(string(r.body))
	}
	for _, team := range []string{"engineering", "sales"} {
		if r := e.setTeam("admin", team, "com.example.hello", `{"enabled":true}`); r.status != 200 {
			t.Fatal(string(r.body))
		}
	}
	bob, _ := e.dial("bob")
	carol, _ := e.dial("carol")
	tok := e.csrf("admin", "/admin/plugins/com.example.hello/disable-everywhere")
	if !strings.Contains(string(e.page("admin", "GET", "/admin/plugins/com.example.hello", nil).body), "Enabled in 2 team(s)") {
		t.Error("the plugin page does not count the teams")
	}
	r := e.page("admin", "POST", "/admin/plugins/com.example.hello/disable-everywhere", url.Values{"csrf_token": {tok}, "confirm": {"yes"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/plugins/com.example.hello?disabled=2" {
		t.Fatalf("kill switch: %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	for name, c := range map[string]*websocket.Conn{"bob": bob, "carol": carol} {
		if m := readWS(t, c, 2*time.Second); m == nil || m.Event != "plugin_disabled" {
			t.Errorf("%s got %+v", name, m)
		}
	}
	for _, team := range []string{"engineering", "sales"} {
		if st := e.teamState(team, "com.example.hello"); st.Enabled {
			t.Errorf("%s still has it enabled", team)
		}
		// Each team's manifest no longer lists it.
		m := e.do("admin", "GET", "/api/v1/manifest?team="+team+"&platform=web", "", nil)
		if strings.Contains(string(m.body), "com.example.hello") {
			t.Errorf("%s manifest: %s", team, m.body)
		}
	}
	entries, err := e.store.Audit(t.Context(), registry.AuditFilter{PluginID: "com.example.hello", Actor: userID("admin")})
	if err != nil {
		t.Fatal(err)
	}
	disables := 0
	for _, en := range entries {
		if en.Action == registry.ActionDisable {
			disables++
		}
	}
	if disables != 2 {
		t.Errorf("audit: %d disable entries, want 2: %+v", disables, entries)
	}
	page := string(e.page("admin", "GET", "/admin/plugins/com.example.hello?disabled=2", nil).body)
	if !strings.Contains(page, "Disabled in 2 team(s)") || !strings.Contains(page, "Enabled in 0 team(s)") {
		t.Errorf("plugin page after the kill switch:\n%s", page)
	}
}

func TestConsoleAuditFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	for _, id := range []string{"com.example.a", "com.example.b"} {
		if r := e.push("dev", helloPlugin(id, "1.0.0")); r.status != 201 {
			t.Fatal(string(r.body))
		}
	}
	e.setTeam("alice", "engineering", "com.example.a", `{"enabled":true}`)
	e.setTeam("alice", "engineering", "com.example.b", `{"enabled":true}`)
	e.setTeam("admin", "sales", "com.example.a", `{"enabled":true}`)
	e.setTeam("admin", "engineering", "com.example.a", `{"enabled":true,"version":"1.0.0"}`)

	rows := regexp.MustCompile(`<tr>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>`)
	audit := func(user, query string) []string {
		t.Helper()
		r := e.page(user, "GET", "/admin/audit?"+query, nil)
		if r.status != 200 {
			t.Fatalf("audit %s as %s: %d\n%s", query, user, r.status, r.body)
		}
		var out []string
		for _, m := range rows.FindAllStringSubmatch(string(r.body), -1) {
			out = append(out, strings.Join(m[1:], " "))
		}
		return out
	}
	for _, tc := range []struct {
		user, query string
		want        []string
	}{
		{"admin", "", []string{"@admin pin com.example.a Engineering", "@admin enable com.example.a Sales", "@alice enable com.example.b Engineering",
			"@alice enable com.example.a Engineering", "@dev push com.example.b ", "@dev push com.example.a "}},
		{"admin", "team=sales", []string{"@admin enable com.example.a Sales"}},
		{"admin", "plugin=com.example.a&team=engineering", []string{"@admin pin com.example.a Engineering", "@alice enable com.example.a Engineering"}},
		{"admin", "person=alice", []string{"@alice enable com.example.b Engineering", "@alice enable com.example.a Engineering"}},
		{"admin", "person=" + userID("dev") + "&plugin=com.example.b", []string{"@dev push com.example.b "}},
		// A team admin sees their team's entries only, pushes included in none.
		{"alice", "", []string{"@admin pin com.example.a Engineering", "@alice enable com.example.b Engineering", "@alice enable com.example.a Engineering"}},
		{"alice", "person=admin", []string{"@admin pin com.example.a Engineering"}},
	} {
		if got := audit(tc.user, tc.query); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("audit %q as %s:\n%s\nwant:\n%s", tc.query, tc.user, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
}

func TestConsoleImages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	files := helloPlugin("com.example.pics", "1.0.0")
	files["plugin.json"] = strings.Replace(files["plugin.json"], `"description":"says hello",`,
		`"description":"says hello","icon_path":"assets/icon.svg","screenshots":["assets/shot.png"],`, 1)
	files["assets/icon.svg"] = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><script>alert(1)</script><rect width="1" height="1"/></svg>`
	files["assets/shot.png"] = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + strings.Repeat("\x00", 300)
	if r := e.push("dev", files); r.status != 201 {
		t.Fatal(string(r.body))
	}
	e.waitIdle()
	page := string(e.page("bob", "GET", "/directory/com.example.pics", nil).body)
	icon := regexp.MustCompile(`<img class="icon" src="(/bundles/[0-9a-f]{64}\.svg)"`).FindStringSubmatch(page)
	shot := regexp.MustCompile(`<img src="(/bundles/[0-9a-f]{64}\.png)" alt="Screenshot 1 of Hello"`).FindStringSubmatch(page)
	if icon == nil || shot == nil {
		t.Fatalf("no icon or screenshot in the directory page:\n%s", page)
	}
	r := e.do("", "GET", icon[1], "", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(r.header.Get("Content-Security-Policy"), "sandbox") ||
		!strings.Contains(r.header.Get("Cache-Control"), "immutable") || string(r.body) != files["assets/icon.svg"] {
		t.Errorf("icon: %d %v", r.status, r.header)
	}
	r = e.do("", "GET", shot[1], "", nil, "Accept-Encoding", "gzip, br")
	if r.status != 200 || r.header.Get("Content-Type") != "image/png" || r.header.Get("Content-Encoding") != "" || string(r.body) != files["assets/shot.png"] {
		t.Errorf("screenshot: %d %v", r.status, r.header)
	}
	// An image URL never serves as another type, nor a bundle as an image.
	if r := e.do("", "GET", strings.TrimSuffix(shot[1], ".png")+".js", "", nil); r.status != 404 {
		t.Errorf("png as js: %d", r.status)
	}
	// The API's bundles stay bundles.
	v := e.do("bob", "GET", "/api/v1/plugins/com.example.pics", "", nil).json(t)
	b := v["versions"].([]any)[0].(map[string]any)["bundles"].(map[string]any)
	if _, ok := b[""]; ok || len(b) != 4 {
		t.Errorf("bundles: %v", b)
	}
}

// TestConsoleCatalogueFollowsChanges: the pages' snapshot of the catalogue
// is refreshed from the audit log after pushes, and kept across toggles.
func TestConsoleCatalogueFollowsChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	index := func() string {
		t.Helper()
		r := e.page("admin", "GET", "/admin", nil)
		var out []string
		for _, m := range regexp.MustCompile(`<span class="id">([^<]+)</span></td>\s*<td>([^<]+)</td>`).FindAllStringSubmatch(string(r.body), -1) {
			out = append(out, m[1]+"@"+m[2])
		}
		return strings.Join(out, " ")
	}
	if got := index(); got != "" {
		t.Fatalf("empty registry lists %q", got)
	}
	e.push("dev", helloPlugin("com.example.a", "1.0.0"))
	if got := index(); got != "com.example.a@1.0.0" {
		t.Fatalf("after a push: %q", got)
	}
	e.setTeam("alice", "engineering", "com.example.a", `{"enabled":true}`)
	e.push("dev", helloPlugin("com.example.b", "1.0.0"))
	e.setTeam("alice", "engineering", "com.example.b", `{"enabled":true}`)
	e.push("dev", helloPlugin("com.example.a", "1.1.0"))
	if got := index(); got != "com.example.a@1.1.0 com.example.b@1.0.0" {
		t.Fatalf("after toggles and pushes: %q", got)
	}
}

// TestConsoleCatalogueKeptAcrossTeamStates: a team's state change
// invalidates the manifests (the generation's Served number) but not the
// console's catalogue, which holds no team state (its Plugins number): the
// next page shares the catalogue built before it, where a rebuild would
// read every plugin's version again. A push rebuilds it.
func TestConsoleCatalogueKeptAcrossTeamStates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	ctx := context.Background()
	e.push("dev", helloPlugin("com.example.a", "1.0.0"))
	before, err := e.srv.ConsoleCatalogue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := e.manifest("bob", "engineering")
	if r := e.setTeam("alice", "engineering", "com.example.a", `{"enabled":true}`); r.status != 200 {
		t.Fatalf("enable: %d %s", r.status, r.body)
	}
	if got, _ := e.manifest("bob", "engineering"); len(got.Plugins) != len(m.Plugins)+1 {
		t.Fatalf("the manifest was not rebuilt after the team's change: %d plugins, then %d", len(m.Plugins), len(got.Plugins))
	}
	after, err := e.srv.ConsoleCatalogue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Fatal("a team's state change rebuilt the console's catalogue")
	}
	e.push("dev", helloPlugin("com.example.a", "1.1.0"))
	if pushed, err := e.srv.ConsoleCatalogue(ctx); err != nil || pushed == before {
		t.Fatalf("a push kept the console's catalogue (%v)", err)
	}
}
