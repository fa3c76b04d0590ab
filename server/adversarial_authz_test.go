package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// Authorisation by served version (issue #15 F06, F10, F11, F12): a matrix
// of identities x routes x team states x minimum certification, each cell's
// answer derived from one small model of "which version does team T serve"
// written independently of the server's code.

// dmIdentity is the sandbox plus what only a real Mattermost has: direct
// and group message channels (no team), and team membership lookups for
// them, as apiv4proxy.Upstream answers them.
type dmIdentity struct {
	*sandbox.Sandbox
	dms   map[string][]string // channel id -> member user ids
	teams map[string][]string // team id -> member user ids
}

func (d *dmIdentity) ChannelMembers(ctx context.Context, who *identity.Identity, id string) (*identity.Channel, []string, error) {
	members, ok := d.dms[id]
	if !ok {
		return d.Sandbox.ChannelMembers(ctx, who, id)
	}
	if !slices.Contains(members, who.User.ID) {
		return nil, nil, fmt.Errorf("dm %s: %w", id, apiv4proxy.ErrChannelNotFound)
	}
	typ := "D"
	if len(members) > 2 {
		typ = "G"
	}
	return &identity.Channel{ID: id, Type: typ, Name: id}, slices.Clone(members), nil
}

func (d *dmIdentity) TeamMembers(ctx context.Context, who *identity.Identity, teamID string, userIDs []string) ([]string, error) {
	var in []string
	for _, u := range userIDs {
		if slices.Contains(d.teams[teamID], u) {
			in = append(in, u)
		}
	}
	return in, nil
}

// newDMEnv is newEnv with dmIdentity in place of the bare sandbox.
func newDMEnv(t *testing.T, cfg server.Config) (*env, *dmIdentity) {
	t.Helper()
	var id *dmIdentity
	e := newEnvWith(t, cfg, func(sb *sandbox.Sandbox) server.Identity {
		eng, sales := sandbox.SeedID("team", "engineering"), sandbox.SeedID("team", "sales")
		id = &dmIdentity{Sandbox: sb, dms: map[string][]string{
			"dm-bob-alice":  {userID("bob"), userID("alice")},
			"dm-bob-carol":  {userID("bob"), userID("carol")},
			"gm-bob-a-c":    {userID("bob"), userID("alice"), userID("carol")},
			"dm-admin-carl": {userID("admin"), userID("carol")},
		}, teams: map[string][]string{
			eng:   {userID("admin"), userID("dev"), userID("alice"), userID("bob")},
			sales: {userID("admin"), userID("carol")},
		}}
		return id
	})
	return e, id
}

// The model. Every plugin has 1.0.0, signed certified, whose manifest lets
// only team admins write team keys, and 1.1.0, unsigned, which lets
// members write them: the "newer, never enabled" version an owner can push.
var (
	authzMembers = map[string][]string{ // team -> members, as seeded
		"engineering": {"admin", "dev", "alice", "bob"},
		"sales":       {"admin", "carol"},
	}
	authzTeamAdmins = map[string][]string{"engineering": {"admin", "alice"}, "sales": {"admin"}}
	authzUsers      = []string{"admin", "dev", "alice", "bob", "carol"}
)

// authzPlugin is one plugin of the matrix and the state teams give it.
type authzPlugin struct {
	id string
	// enabled: team -> pin ("" follows the latest); absent: disabled.
	enabled map[string]string
	exists  bool
}

var authzPlugins = []authzPlugin{
	{id: "com.example.authz.off", exists: true},
	{id: "com.example.authz.latest", exists: true, enabled: map[string]string{"engineering": ""}},
	{id: "com.example.authz.pinned", exists: true, enabled: map[string]string{"engineering": "1.0.0"}},
	{id: "com.example.authz.both", exists: true, enabled: map[string]string{"engineering": "", "sales": ""}},
	{id: "no.such.plugin"},
}

// served is the model's answer: the version team serves, "" for none.
func (p authzPlugin) served(team string, min registry.Certification) string {
	pin, ok := p.enabled[team]
	switch {
	case !ok:
		return ""
	case pin != "":
		return pin
	case min == registry.Unverified:
		return "1.1.0"
	}
	return "1.0.0" // 1.1.0 is below the minimum: the latest that meets it
}

func member(team, user string) bool { return slices.Contains(authzMembers[team], user) }

func isTeamAdmin(team, user string) bool { return slices.Contains(authzTeamAdmins[team], user) }

// notServed is the code for a plugin nobody may use there.
func (p authzPlugin) notServed() string {
	if !p.exists {
		return "404 plugin_not_found"
	}
	return "404 plugin_not_enabled"
}

// servedInAnyTeamOf: some team of user serves the plugin.
func (p authzPlugin) servedInAnyTeamOf(user string, min registry.Certification) bool {
	for team := range authzMembers {
		if member(team, user) && p.served(team, min) != "" {
			return true
		}
	}
	return false
}

// sharedServed: some team every user is in serves the plugin.
func (p authzPlugin) sharedServed(min registry.Certification, users ...string) bool {
	for team := range authzMembers {
		all := p.served(team, min) != ""
		for _, u := range users {
			all = all && member(team, u)
		}
		if all {
			return true
		}
	}
	return false
}

type authzCase struct {
	name, user, method, path, body string
	want                           string // "202", "404 plugin_not_enabled", ...
}

func authzCases(min registry.Certification) []authzCase {
	var cases []authzCase
	add := func(name, user, method, path, body, want string) {
		cases = append(cases, authzCase{name, user, method, path, body, want})
	}
	dms := map[string][]string{
		"dm-bob-alice": {"bob", "alice"}, "dm-bob-carol": {"bob", "carol"},
		"gm-bob-a-c": {"bob", "alice", "carol"}, "dm-admin-carl": {"admin", "carol"},
	}
	for _, p := range authzPlugins {
		base := "/api/v1/plugins/" + p.id
		for _, u := range authzUsers {
			// Events to a team.
			want := "202"
			switch {
			case !member("engineering", u):
				want = "403 not_team_member"
			case p.served("engineering", min) == "":
				want = p.notServed()
			}
			add("event team", u, "POST", base+"/events", `{"event":"x","team_id":"engineering"}`, want)
			// Events to a direct or group message the user is in (F06).
			for ch, users := range dms {
				if !slices.Contains(users, u) {
					continue
				}
				want := "202"
				if !p.sharedServed(min, users...) {
					want = p.notServed()
				}
				add("event "+ch, u, "POST", base+"/events", `{"event":"x","channel_id":"`+ch+`"}`, want)
			}
			// KV, team scope (F10): read, then write.
			read, write := "200", "200"
			switch v := p.served("engineering", min); {
			case !p.exists: // the KV routes look the plugin up first
				read, write = p.notServed(), p.notServed()
			case !member("engineering", u):
				read, write = "403 not_team_member", "403 not_team_member"
			case v == "":
				read, write = p.notServed(), p.notServed()
			case !isTeamAdmin("engineering", u) && v != "1.1.0":
				write = "403 not_team_admin"
			}
			add("kv team list", u, "GET", base+"/kv/team:engineering", "", read)
			add("kv team write", u, "PUT", base+"/kv/team:engineering/k-"+u, `1`, write)
			// KV, user scope (F11).
			want = "200"
			if !p.servedInAnyTeamOf(u, min) {
				want = p.notServed()
			}
			add("kv user write", u, "PUT", base+"/kv/user/k", `1`, want)
			// Crash reports (F12): for a named team, and for none. Two per
			// plugin: ten per user, the crash limiter's burst.
			want = "202"
			switch {
			case !member("engineering", u):
				want = "403 not_team_member"
			case p.served("engineering", min) == "":
				want = p.notServed()
			}
			add("crash for engineering", u, "POST", base+"/errors",
				`{"version":"1.0.0","message":"boom from `+u+`","team_id":"engineering"}`, want)
			want = "202"
			if !p.servedInAnyTeamOf(u, min) {
				want = p.notServed()
			}
			add("crash no team", u, "POST", base+"/errors", `{"version":"1.0.0","message":"boom from `+u+` anywhere"}`, want)
		}
	}
	return cases
}

// setUpAuthz pushes every plugin of the matrix and sets the teams' states.
func setUpAuthz(t *testing.T, e *env) {
	t.Helper()
	for _, p := range authzPlugins {
		if !p.exists {
			continue
		}
		v1 := helloPlugin(p.id, "1.0.0")
		if r := e.push("dev", signed(t, v1, certifiedKey)); r.status != 201 {
			t.Fatalf("push %s 1.0.0: %d %s", p.id, r.status, r.body)
		}
		for team, pin := range p.enabled {
			body := `{"enabled":true}`
			if pin != "" {
				body = `{"enabled":true,"version":"` + pin + `"}`
			}
			if r := e.setTeam("admin", team, p.id, body); r.status != 200 {
				t.Fatalf("enable %s in %s: %d %s", p.id, team, r.status, r.body)
			}
		}
		// Pushed after the teams' choices, as an owner would.
		v2 := helloPlugin(p.id, "1.1.0")
		v2["plugin.json"] = strings.Replace(v2["plugin.json"], `"description"`, `"kv":{"team_write":"members"},"description"`, 1)
		if r := e.push("dev", v2); r.status != 201 {
			t.Fatalf("push %s 1.1.0: %d %s", p.id, r.status, r.body)
		}
	}
}

func gotOf(t *testing.T, r response) string {
	if r.status < 300 {
		return fmt.Sprint(r.status)
	}
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(r.body, &body)
	return fmt.Sprint(r.status, " ", body.Error.Code)
}

// TestAuthzMatrix: every identity on every route of events, KV and crash
// reports, for a plugin disabled everywhere, enabled following the latest,
// pinned below a newer version that lets members write, enabled in two
// teams, and one that does not exist, with and without a minimum
// certification (under which the newer, unsigned version is not served).
// The answer of each cell is the model's.
func TestAuthzMatrix(t *testing.T) {
	t.Parallel()
	for _, min := range []registry.Certification{registry.Unverified, registry.Certified} {
		t.Run("min="+min.String(), func(t *testing.T) {
			e, _ := newDMEnv(t, trustingConfig(min))
			setUpAuthz(t, e)
			failed := 0
			for _, c := range authzCases(min) {
				r := e.do(c.user, c.method, c.path, "application/json", strings.NewReader(c.body))
				if got := gotOf(t, r); got != c.want {
					failed++
					t.Errorf("%s %s as %s %s: got %s, want %s (%.200s)", c.method, c.path, c.user, c.name, got, c.want, r.body)
				}
			}
			if failed > 0 {
				t.Logf("%d cells of %d wrong", failed, len(authzCases(min)))
			}
		})
	}
}

// TestDMEventsNeedASharedServingTeam (F06): a plugin event into a direct
// message reaches the recipient only when a team both are in serves the
// plugin; before, any plugin id, enabled nowhere or not existing, was
// delivered.
func TestDMEventsNeedASharedServingTeam(t *testing.T) {
	t.Parallel()
	e, _ := newDMEnv(t, server.Config{})
	carol, _ := e.dial("carol")
	if r := e.push("dev", helloPlugin("com.example.dm", "1.0.0")); r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	send := func(user, plugin, channel, event string) response {
		return e.do(user, "POST", "/api/v1/plugins/"+plugin+"/events", "application/json",
			strings.NewReader(`{"event":"`+event+`","channel_id":"`+channel+`"}`))
	}
	for _, plugin := range []string{"no.such.plugin", "com.example.dm"} {
		if r := send("bob", plugin, "dm-bob-carol", "bobring"); r.status != 404 {
			t.Errorf("%s to carol, enabled nowhere: %d %s", plugin, r.status, r.body)
		}
	}
	// Enabled in both teams, but bob and carol share none.
	e.setTeam("admin", "engineering", "com.example.dm", `{"enabled":true}`)
	e.setTeam("admin", "sales", "com.example.dm", `{"enabled":true}`)
	if r := send("bob", "com.example.dm", "dm-bob-carol", "bobring"); r.status != 404 || r.errorCode(t) != "plugin_not_enabled" {
		t.Errorf("no shared team: %d %s", r.status, r.body)
	}
	// admin and carol share sales, which serves it.
	if r := send("admin", "com.example.dm", "dm-admin-carl", "ring"); r.status != 202 {
		t.Fatalf("shared serving team: %d %s", r.status, r.body)
	}
	before := readWSEvent(t, carol, "custom_com.example.dm_ring")
	for _, ev := range before {
		if strings.HasSuffix(ev, "_bobring") {
			t.Errorf("carol got %s from bob, with whom she shares no team", ev)
		}
	}
	// Disabled in sales: no longer.
	e.setTeam("admin", "sales", "com.example.dm", `{"enabled":false}`)
	if r := send("admin", "com.example.dm", "dm-admin-carl", "ring"); r.status != 404 {
		t.Errorf("shared team disabled: %d %s", r.status, r.body)
	}
}

// readWSEvent reads until event arrives (within 10 s, else fails) and
// returns the names of the events read before it.
func readWSEvent(t *testing.T, c *websocket.Conn, event string) []string {
	t.Helper()
	var seen []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := readWS(t, c, time.Until(deadline))
		if m == nil {
			t.Fatalf("no %s within 10 s; got %v", event, seen)
		}
		if m.Event == event {
			return seen
		}
		seen = append(seen, m.Event)
	}
}

// TestKVRightsFollowTheServedVersion (F10): write rights come from the
// version the team serves, and team keys exist only where it is enabled.
func TestKVRightsFollowTheServedVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	e.push("dev", helloPlugin("com.example.kvpin", "1.0.0"))
	e.setTeam("alice", "engineering", "com.example.kvpin", `{"enabled":true,"version":"1.0.0"}`)
	v2 := helloPlugin("com.example.kvpin", "1.1.0")
	v2["plugin.json"] = strings.Replace(v2["plugin.json"], `"description"`, `"kv":{"team_write":"members"},"description"`, 1)
	if r := e.push("dev", v2); r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	put := func(user, scope string) response {
		return e.do(user, "PUT", "/api/v1/plugins/com.example.kvpin/kv/"+scope+"/k", "application/json", strings.NewReader(`1`))
	}
	if r := put("bob", "team:engineering"); r.status != 403 || r.errorCode(t) != "not_team_admin" {
		t.Errorf("member write under a pin to an admins-only version: %d %s", r.status, r.body)
	}
	if r := put("carol", "team:sales"); r.status != 404 || r.errorCode(t) != "plugin_not_enabled" {
		t.Errorf("member write where never enabled: %d %s", r.status, r.body)
	}
	e.setTeam("alice", "engineering", "com.example.kvpin", `{"enabled":true,"version":"latest"}`)
	if r := put("bob", "team:engineering"); r.status != 200 {
		t.Errorf("member write once the team serves 1.1.0: %d %s", r.status, r.body)
	}
}

// TestKVUserScopeNeedsAServingTeam (F11): a user's own keys exist only for
// plugins one of their teams serves.
func TestKVUserScopeNeedsAServingTeam(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	e.push("dev", helloPlugin("com.example.kvuser", "1.0.0"))
	put := func(user string) response {
		return e.do(user, "PUT", "/api/v1/plugins/com.example.kvuser/kv/user/k", "application/json", strings.NewReader(`1`))
	}
	if r := put("bob"); r.status != 404 || r.errorCode(t) != "plugin_not_enabled" {
		t.Errorf("enabled nowhere: %d %s", r.status, r.body)
	}
	e.setTeam("alice", "engineering", "com.example.kvuser", `{"enabled":true}`)
	if r := put("bob"); r.status != 200 {
		t.Errorf("enabled in bob's team: %d %s", r.status, r.body)
	}
	if r := put("carol"); r.status != 404 {
		t.Errorf("enabled only in a team carol is not in: %d %s", r.status, r.body)
	}
}

// TestKVQuotaIsPerUser (F11): a user's keys over every plugin and scope
// are bounded; another user is not affected, and the user can still
// delete and shrink.
func TestKVQuotaIsPerUser(t *testing.T) {
	restore := server.SetKVUserLimits(5, 1<<20)
	defer restore()
	e := newEnv(t, server.Config{})
	for _, id := range []string{"com.example.q1", "com.example.q2"} {
		e.push("dev", helloPlugin(id, "1.0.0"))
		e.setTeam("alice", "engineering", id, `{"enabled":true}`)
	}
	put := func(user, plugin, scope, key string) response {
		return e.do(user, "PUT", "/api/v1/plugins/"+plugin+"/kv/"+scope+"/"+key, "application/json", strings.NewReader(`1`))
	}
	// 5 keys over two plugins and two scopes.
	for i, w := range [][3]string{
		{"com.example.q1", "user", "a"}, {"com.example.q1", "user", "b"}, {"com.example.q2", "user", "a"},
		{"com.example.q1", "team:engineering", "x"}, {"com.example.q2", "team:engineering", "x"},
	} {
		if r := put("alice", w[0], w[1], w[2]); r.status != 200 {
			t.Fatalf("write %d: %d %s", i, r.status, r.body)
		}
	}
	if r := put("alice", "com.example.q2", "user", "b"); r.status != 409 || r.errorCode(t) != "kv_quota_exceeded" {
		t.Fatalf("sixth key: %d %s", r.status, r.body)
	}
	if r := put("alice", "com.example.q1", "user", "a"); r.status != 200 {
		t.Errorf("rewriting a key she holds: %d %s", r.status, r.body)
	}
	if r := put("bob", "com.example.q2", "user", "b"); r.status != 200 {
		t.Errorf("another user: %d %s", r.status, r.body)
	}
	if r := e.do("alice", "DELETE", "/api/v1/plugins/com.example.q1/kv/user/b", "", nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := put("alice", "com.example.q2", "user", "b"); r.status != 200 {
		t.Errorf("after a delete: %d %s", r.status, r.body)
	}
	// Bytes: a value that takes her past 1 MiB is refused.
	big := `"` + strings.Repeat("x", 60<<10) + `"`
	refused := false
	for i := 0; i < 20 && !refused; i++ {
		r := e.do("bob", "PUT", fmt.Sprintf("/api/v1/plugins/com.example.q1/kv/user/big%d", i), "application/json", strings.NewReader(big))
		refused = r.status == 409
		if i >= 4 && !refused && r.status == 200 {
			t.Fatalf("bob holds %d keys with a limit of 5", i+2)
		}
	}
	if !refused {
		t.Error("bob was never refused")
	}
}

// TestCrashReportsAreScopedToTeams (F12): a report names (or is filed
// under) a team of the reporter that serves the plugin; a team admin reads
// only their teams' reports, over the API and in the console.
func TestCrashReportsAreScopedToTeams(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	e.push("dev", helloPlugin("com.example.crashy", "1.0.0"))
	report := func(user, body string) response {
		return e.do(user, "POST", "/api/v1/plugins/com.example.crashy/errors", "application/json", strings.NewReader(body))
	}
	if r := report("bob", `{"version":"1.0.0","message":"m"}`); r.status != 404 || r.errorCode(t) != "plugin_not_enabled" {
		t.Errorf("enabled nowhere: %d %s", r.status, r.body)
	}
	e.setTeam("admin", "engineering", "com.example.crashy", `{"enabled":true}`)
	e.setTeam("admin", "sales", "com.example.crashy", `{"enabled":true}`)
	for _, tc := range []struct{ user, body, want string }{
		{"bob", `{"version":"1.0.0","message":"m","team_id":"sales"}`, "403 not_team_member"},
		{"bob", `{"version":"1.0.0","message":"m","team_id":"nope"}`, "404 team_not_found"},
		{"bob", `{"version":"1.0.0","message":"bob's secret stack","team_id":"engineering"}`, "202"},
		{"carol", `{"version":"1.0.0","message":"carol's secret stack"}`, "202"},
	} {
		if got := gotOf(t, report(tc.user, tc.body)); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.user, tc.body, got, tc.want)
		}
	}
	health := func(user string) string {
		r := e.do(user, "GET", "/api/v1/plugins/com.example.crashy/errors", "", nil)
		if r.status != 200 {
			t.Fatalf("%s health: %d %s", user, r.status, r.body)
		}
		return string(r.body)
	}
	if h := health("alice"); !strings.Contains(h, "bob's secret") || strings.Contains(h, "carol's secret") {
		t.Errorf("alice (admin of engineering) reads: %s", h)
	}
	if h := health("admin"); !strings.Contains(h, "bob's secret") || !strings.Contains(h, "carol's secret") {
		t.Errorf("the system admin reads: %s", h)
	}
	if r := e.do("bob", "GET", "/api/v1/plugins/com.example.crashy/errors", "", nil); r.status != 403 {
		t.Errorf("a member reads health: %d", r.status)
	}
	page := e.do("alice", "GET", "/admin/plugins/com.example.crashy", "", nil)
	if page.status != 200 || !strings.Contains(string(page.body), "bob&#39;s secret") || strings.Contains(string(page.body), "carol&#39;s secret") {
		t.Errorf("alice's console page: %d, carol's report shown or bob's missing", page.status)
	}
}
