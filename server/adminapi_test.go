package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// setState is PUT /api/v1/teams/{team}/plugins/{id} as user, which must
// succeed.
func (e *env) setState(user, team, id, body string) {
	e.t.Helper()
	if r := e.do(user, "PUT", "/api/v1/teams/"+team+"/plugins/"+id, "application/json", strings.NewReader(body)); r.status != 200 {
		e.t.Fatalf("PUT %s %s %s as %s: %d %s", team, id, body, user, r.status, r.body)
	}
}

func (e *env) mustPush(user, id, version string) {
	e.t.Helper()
	if r := e.push(user, helloPlugin(id, version)); r.status != 201 {
		e.t.Fatalf("push %s@%s: %d %s", id, version, r.status, r.body)
	}
}

type auditAnswer struct {
	Entries []struct {
		Action, PluginID, Version, TeamID, TeamName, Actor, ActorName string
	}
}

func decodeAudit(t *testing.T, r response) auditAnswer {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("audit: %d %s", r.status, r.body)
	}
	var a auditAnswer
	// The API's names are snake_case; decode through a map of them.
	var raw struct {
		Entries []map[string]any `json:"entries"`
	}
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, m := range raw.Entries {
		s := func(k string) string { v, _ := m[k].(string); return v }
		a.Entries = append(a.Entries, struct {
			Action, PluginID, Version, TeamID, TeamName, Actor, ActorName string
		}{s("action"), s("plugin_id"), s("version"), s("team_id"), s("team_name"), s("actor"), s("actor_name")})
	}
	return a
}

// TestAuditAPI: GET /api/v1/audit has the console page's authorization: a
// system admin reads everything, a team admin their teams' entries only,
// a member nothing; filters by team, plugin, person (username) and limit.
func TestAuditAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	e.mustPush("dev", "com.example.audit", "1.0.0")
	e.setState("alice", "engineering", "com.example.audit", `{"enabled":true}`)
	e.setState("admin", "sales", "com.example.audit", `{"enabled":true}`)

	all := decodeAudit(t, e.do("admin", "GET", "/api/v1/audit", "", nil))
	if len(all.Entries) != 3 || all.Entries[0].TeamName != "sales" || all.Entries[0].TeamID != e.teams["sales"] ||
		all.Entries[2].Action != "push" || all.Entries[2].ActorName != "dev" {
		t.Fatalf("admin reads %+v, want the sales enable, the engineering enable and the push, newest first", all.Entries)
	}
	alice := decodeAudit(t, e.do("alice", "GET", "/api/v1/audit", "", nil))
	if len(alice.Entries) != 1 || alice.Entries[0].TeamID != e.teams["engineering"] ||
		alice.Entries[0].TeamName != "engineering" || alice.Entries[0].ActorName != "alice" {
		t.Fatalf("alice reads %+v, want only engineering's entry", alice.Entries)
	}
	for _, tc := range []struct {
		user, query string
		status      int
		code        string
	}{
		{"alice", "?team=sales", 403, "not_team_admin"},
		{"bob", "", 403, "not_admin"},
		{"admin", "?team=nosuchteam", 404, "team_not_found"},
		{"admin", "?limit=0", 400, "bad_request"},
		{"admin", "?limit=abc", 400, "bad_request"},
		{"admin", "?limit=1001", 400, "bad_request"},
	} {
		r := e.do(tc.user, "GET", "/api/v1/audit"+tc.query, "", nil)
		if r.status != tc.status || r.errorCode(t) != tc.code {
			t.Errorf("%s %s: %d %s, want %d %s", tc.user, tc.query, r.status, r.body, tc.status, tc.code)
		}
	}
	for query, want := range map[string]int{
		"?person=alice":                     1,
		"?person=@admin&team=sales":         1,
		"?person=" + userID("dev"):          1,
		"?plugin=com.example.audit&limit=2": 2,
		"?plugin=other":                     0,
		"?team=engineering":                 1,
	} {
		if got := decodeAudit(t, e.do("admin", "GET", "/api/v1/audit"+query, "", nil)); len(got.Entries) != want {
			t.Errorf("audit%s: %d entries %+v, want %d", query, len(got.Entries), got.Entries, want)
		}
	}
}

// TestCrashesAPI: GET /api/v1/crashes lists every plugin with crash
// reports; a team admin reads only their teams' reports, as on the plugin
// page; members are refused.
func TestCrashesAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	e.mustPush("dev", "com.example.crash", "1.0.0")
	e.mustPush("dev", "com.example.fine", "1.0.0")
	e.setState("admin", "engineering", "com.example.crash", `{"enabled":true}`)
	e.setState("admin", "sales", "com.example.crash", `{"enabled":true}`)
	for _, rep := range []struct{ user, team string }{{"bob", "engineering"}, {"carol", "sales"}} {
		r := e.do(rep.user, "POST", "/api/v1/plugins/com.example.crash/errors", "application/json",
			strings.NewReader(`{"version":"1.0.0","message":"boom from `+rep.user+`","team_id":"`+rep.team+`"}`))
		if r.status != 202 {
			t.Fatalf("crash report: %d %s", r.status, r.body)
		}
	}
	type answer struct {
		Plugins []struct {
			PluginID string `json:"plugin_id"`
			Versions []struct {
				Version string
				Crashes int
				Recent  []struct{ Message string }
			}
		}
	}
	read := func(user string) answer {
		r := e.do(user, "GET", "/api/v1/crashes", "", nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", user, r.status, r.body)
		}
		var a answer
		json.Unmarshal(r.body, &a)
		return a
	}
	a := read("admin")
	if len(a.Plugins) != 1 || a.Plugins[0].PluginID != "com.example.crash" || a.Plugins[0].Versions[0].Crashes != 2 ||
		len(a.Plugins[0].Versions[0].Recent) != 2 {
		t.Fatalf("admin reads %+v, want com.example.crash with 2 reports", a)
	}
	a = read("alice")
	if len(a.Plugins) != 1 || a.Plugins[0].Versions[0].Crashes != 2 || len(a.Plugins[0].Versions[0].Recent) != 1 ||
		a.Plugins[0].Versions[0].Recent[0].Message != "boom from bob" {
		t.Fatalf("alice reads %+v, want the count and engineering's report only", a)
	}
	if r := e.do("bob", "GET", "/api/v1/crashes", "", nil); r.status != 403 || r.errorCode(t) != "not_admin" {
		t.Errorf("bob: %d %s", r.status, r.body)
	}
}

// TestDisableEverywhereAPI: the kill switch as JSON, for system admins:
// every team that had the plugin enabled gets it disabled (and keeps its
// pin); the answer names them.
func TestDisableEverywhereAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	e.mustPush("dev", "com.example.kill", "1.0.0")
	e.setState("admin", "engineering", "com.example.kill", `{"enabled":true,"version":"1.0.0"}`)
	e.setState("admin", "sales", "com.example.kill", `{"enabled":true}`)
	if r := e.do("alice", "POST", "/api/v1/plugins/com.example.kill/disable-everywhere", "", nil); r.status != 403 || r.errorCode(t) != "not_system_admin" {
		t.Fatalf("alice: %d %s", r.status, r.body)
	}
	if r := e.do("admin", "POST", "/api/v1/plugins/com.example.nothere/disable-everywhere", "", nil); r.status != 404 || r.errorCode(t) != "plugin_not_found" {
		t.Fatalf("unknown plugin: %d %s", r.status, r.body)
	}
	r := e.do("admin", "POST", "/api/v1/plugins/com.example.kill/disable-everywhere", "", nil)
	var got struct{ Teams []string }
	json.Unmarshal(r.body, &got)
	if r.status != 200 || len(got.Teams) != 2 {
		t.Fatalf("kill switch: %d %s", r.status, r.body)
	}
	var tp struct {
		Plugins []struct {
			ID, Version string
			Enabled     bool
		}
	}
	json.Unmarshal(e.do("alice", "GET", "/api/v1/teams/engineering/plugins", "", nil).body, &tp)
	for _, p := range tp.Plugins {
		if p.ID == "com.example.kill" && (p.Enabled || p.Version != "1.0.0") {
			t.Errorf("engineering after the kill switch: %+v, want disabled and still pinned to 1.0.0", p)
		}
	}
	r = e.do("admin", "POST", "/api/v1/plugins/com.example.kill/disable-everywhere", "", nil)
	if json.Unmarshal(r.body, &got); r.status != 200 || len(got.Teams) != 0 {
		t.Errorf("second kill switch: %d %s, want no team", r.status, r.body)
	}
}

// TestRollbackAPI: rollback pins the version the team served before the
// current one, from the audit log: the one it followed before a push, or
// the previous pin; prereleases never served to a following team do not
// count; with nothing before, 409 no_previous_version.
func TestRollbackAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	const id = "com.example.roll"
	e.mustPush("dev", id, "1.0.0")
	e.setState("alice", "engineering", id, `{"enabled":true}`)

	rollback := func(user, team string) (response, map[string]any) {
		r := e.do(user, "POST", "/api/v1/teams/"+team+"/plugins/"+id+"/rollback", "", nil)
		var m map[string]any
		json.Unmarshal(r.body, &m)
		return r, m
	}
	if r, _ := rollback("alice", "engineering"); r.status != 409 || r.errorCode(t) != "no_previous_version" ||
		!strings.Contains(string(r.body), "only version 1.0.0 of") {
		t.Fatalf("rollback with one version served: %d %s", r.status, r.body)
	}
	e.mustPush("dev", id, "1.1.0")
	e.mustPush("dev", id, "1.1.1-dev.1") // a preview: never served to engineering
	r, m := rollback("alice", "engineering")
	if r.status != 200 || m["rolled_back_from"] != "1.1.0" || m["rolled_back_to"] != "1.0.0" ||
		m["version"] != "1.0.0" || m["enabled"] != true {
		t.Fatalf("rollback after a push: %d %s", r.status, r.body)
	}
	// Again: back to what it served before the rollback, as kubectl's undo.
	if r, m = rollback("alice", "engineering"); r.status != 200 || m["rolled_back_to"] != "1.1.0" {
		t.Fatalf("second rollback: %d %s", r.status, r.body)
	}
	// A disabled team keeps disabled; sales never enabled it: nothing served.
	if r, _ := rollback("admin", "sales"); r.status != 409 || !strings.Contains(string(r.body), "has never served") {
		t.Errorf("sales: %d %s", r.status, r.body)
	}
	if r, _ := rollback("bob", "engineering"); r.status != 403 || r.errorCode(t) != "not_team_admin" {
		t.Errorf("bob: %d %s", r.status, r.body)
	}
	if r := e.do("alice", "POST", "/api/v1/teams/engineering/plugins/com.example.none/rollback", "", nil); r.status != 404 || r.errorCode(t) != "plugin_not_found" {
		t.Errorf("unknown plugin: %d %s", r.status, r.body)
	}
}
