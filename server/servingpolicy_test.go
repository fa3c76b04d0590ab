package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// The serving policy (issue #17, item 2): "which version of plugin P does
// team T serve" is slots.Served over the store seen through the minimum
// certification (slots.Certified), and every caller that depends on the
// answer asks it. TestServingPolicyCallersAgree runs one matrix of team
// states through every caller and checks each answers as slots.Served
// does; a caller that decided on its own (the plugin proxy reading the
// plugin's latest version, the team listing computing the newest release
// without the minimum) fails it.

// policyPlugin is the plugin of the matrix. Each version declares its own
// proxy route (GET /api/v4/users/v<version>), so the allow-list says which
// version the proxy decided by.
const policyPlugin = "com.example.policy"

func policyRoute(version string) string {
	return "/api/v4/users/v" + strings.NewReplacer(".", "_", "-", "_").Replace(version)
}

// policyVersion is version of the matrix's plugin; teamWrite lets team
// members write its team keys, which only the newest version of each
// scenario does, so KV rights taken from the wrong version show.
func policyVersion(version string, teamWrite bool) map[string]string {
	files := helloPlugin(policyPlugin, version)
	extra := `"proxy":[{"method":"GET","path":"` + policyRoute(version) + `"}],`
	if teamWrite {
		extra += `"kv":{"team_write":"members"},`
	}
	files["plugin.json"] = strings.Replace(files["plugin.json"], `"description"`, extra+`"description"`, 1)
	return files
}

// policyScenario is one team state. Versions are pushed in order, signed at
// certified level (the server's minimum) unless named in unsigned; the
// last one declares team_write.
type policyScenario struct {
	name     string
	versions []string
	unsigned map[string]bool
	set      string // the PUT body for engineering, "" = never enabled
	kill     bool   // the kill switch: disable-everywhere after set
	// store is a state written straight to the store (one from before the
	// minimum tightened), after set.
	store *registry.TeamState
	// preview is the prerelease dev previews (push --watch), after set;
	// then the callers are asked as dev, and slots.Served is asked with
	// the preview (slots.Previewing).
	preview string
	want    string // what slots.Served answers, "" = nothing
}

// viewer is who asks the callers: dev when dev previews, else bob.
func (sc policyScenario) viewer() string {
	if sc.preview != "" {
		return "dev"
	}
	return "bob"
}

// teamView are the callers that show the team's version to whoever asks
// (a listing, an admin's page or answer), never a developer's preview.
var teamView = map[string]bool{"team listing": true, "console plugin page": true, "team state answer": true}

var policyScenarios = []policyScenario{
	{name: "enabled follows the latest", versions: []string{"1.0.0", "1.1.0"}, set: `{"enabled":true}`, want: "1.1.0"},
	{name: "never enabled", versions: []string{"1.0.0", "1.1.0"}, want: ""},
	{name: "disabled", versions: []string{"1.0.0", "1.1.0"}, set: `{"enabled":false}`, want: ""},
	{name: "pinned to an older version", versions: []string{"1.0.0", "1.1.0"}, set: `{"enabled":true,"version":"1.0.0"}`, want: "1.0.0"},
	{name: "newer unverified version under the minimum", versions: []string{"1.0.0", "1.1.0"}, unsigned: map[string]bool{"1.1.0": true},
		set: `{"enabled":true}`, want: "1.0.0"},
	{name: "pinned below the minimum before it tightened", versions: []string{"1.0.0", "1.1.0"}, unsigned: map[string]bool{"1.1.0": true},
		set: `{"enabled":true}`, store: &registry.TeamState{Enabled: true, Version: "1.1.0"}, want: ""},
	{name: "killed everywhere", versions: []string{"1.0.0", "1.1.0"}, set: `{"enabled":true}`, kill: true, want: ""},
	{name: "prerelease newer than the release", versions: []string{"1.0.0", "1.1.0-dev.1733300000000"}, set: `{"enabled":true}`, want: "1.0.0"},
	{name: "developer's preview", versions: []string{"1.0.0", "1.1.0-dev.1733300000000"}, set: `{"enabled":true}`,
		preview: "1.1.0-dev.1733300000000", want: "1.1.0-dev.1733300000000"},
	{name: "developer's preview under a pin", versions: []string{"1.0.0", "1.1.0-dev.1733300000000"}, set: `{"enabled":true,"version":"1.0.0"}`,
		preview: "1.1.0-dev.1733300000000", want: "1.0.0"},
	{name: "pinned prerelease", versions: []string{"1.0.0", "1.1.0-dev.1733300000000"}, set: `{"enabled":true,"version":"1.1.0-dev.1733300000000"}`,
		want: "1.1.0-dev.1733300000000"},
}

// consoleTeamRow is engineering's row of the console's plugin page: its
// state ("on"/"off") and the version it serves.
var consoleTeamRow = regexp.MustCompile(`(?s)>Engineering</a></th>\s*<td>\s*<span class="state (on|off)">.*?</td>\s*<td>\s*([^<\s]*)`)

// policyCaller asks one caller what the team serves, as bob (a member of
// engineering, not an admin) sees it: the version, "" for nothing, or
// policyServed when the caller only says whether something is served.
type policyCaller struct {
	name string
	ask  func(t *testing.T, e *env, sc policyScenario) string
}

// policyServed is a caller's answer that some version is served without
// saying which.
const policyServed = "(served)"

var policyCallers = []policyCaller{
	{"web manifest", func(t *testing.T, e *env, sc policyScenario) string {
		return manifestVersions(t, e, sc.viewer(), "engineering")[policyPlugin]
	}},
	{"mobile manifest", func(t *testing.T, e *env, sc policyScenario) string {
		return mobileVersions(t, e, sc.viewer(), "engineering")[policyPlugin]
	}},
	{"mattermost plugin list", func(t *testing.T, e *env, sc policyScenario) string {
		r := e.do(sc.viewer(), "GET", "/api/v4/plugins/webapp", "", nil, "X-Mmtoolkit-Team", "engineering")
		if r.status != http.StatusOK {
			t.Fatalf("GET /api/v4/plugins/webapp: %d %s", r.status, r.body)
		}
		var list []struct{ ID, Version string }
		if err := json.Unmarshal(r.body, &list); err != nil {
			t.Fatal(err)
		}
		for _, p := range list {
			if p.ID == policyPlugin {
				return p.Version
			}
		}
		return ""
	}},
	{"team listing", func(t *testing.T, e *env, sc policyScenario) string {
		r := e.do(sc.viewer(), "GET", "/api/v1/teams/engineering/plugins", "", nil)
		if r.status != http.StatusOK {
			t.Fatalf("team listing: %d %s", r.status, r.body)
		}
		var body struct {
			Plugins []struct {
				ID        string `json:"id"`
				Enabled   bool   `json:"enabled"`
				Effective string `json:"effective_version"`
			} `json:"plugins"`
		}
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatal(err)
		}
		for _, p := range body.Plugins {
			if p.ID == policyPlugin && p.Enabled {
				return p.Effective
			}
		}
		return ""
	}},
	{"plugin proxy allow-list", func(t *testing.T, e *env, sc policyScenario) string {
		allowed := ""
		for _, v := range sc.versions {
			r := e.do(sc.viewer(), "GET", "/api/v1/plugins/"+policyPlugin+"/proxy"+policyRoute(v), "", nil, "X-Mmtoolkit-Team", "engineering")
			switch {
			case r.status == http.StatusOK && allowed == "":
				allowed = v
			case r.status == http.StatusOK:
				t.Errorf("the proxy allows the routes of %s and %s", allowed, v)
			case r.status == http.StatusForbidden && r.errorCode(t) == "proxy_route_not_declared":
			case r.status == http.StatusNotFound && r.errorCode(t) == "plugin_not_found":
			default:
				t.Errorf("proxy %s: %d %s", v, r.status, r.body)
			}
		}
		return allowed
	}},
	{"plugin routes", func(t *testing.T, e *env, sc policyScenario) string {
		r := e.do(sc.viewer(), "GET", "/plugins/"+policyPlugin+"/status", "", nil, "X-Mmtoolkit-Team", "engineering")
		switch {
		case r.status == http.StatusOK:
			return policyServed
		case r.status == http.StatusNotFound && r.errorCode(t) == "plugin_not_found":
			return ""
		}
		t.Errorf("plugin route: %d %s", r.status, r.body)
		return "?"
	}},
	{"plugin events", func(t *testing.T, e *env, sc policyScenario) string {
		r := e.do(sc.viewer(), "POST", "/api/v1/plugins/"+policyPlugin+"/events", "application/json",
			strings.NewReader(`{"event":"ping","team_id":"`+e.teams["engineering"]+`","data":{}}`))
		switch {
		case r.status == http.StatusAccepted:
			return policyServed
		case r.status == http.StatusNotFound && r.errorCode(t) == "plugin_not_enabled":
			return ""
		}
		t.Errorf("event: %d %s", r.status, r.body)
		return "?"
	}},
	{"crash reports", func(t *testing.T, e *env, sc policyScenario) string {
		r := e.do(sc.viewer(), "POST", "/api/v1/plugins/"+policyPlugin+"/errors", "application/json",
			strings.NewReader(`{"version":"`+sc.versions[0]+`","message":"TypeError","team_id":"engineering"}`))
		switch {
		case r.status == http.StatusAccepted:
			return policyServed
		case r.status == http.StatusNotFound && r.errorCode(t) == "plugin_not_enabled":
			return ""
		}
		t.Errorf("crash report: %d %s", r.status, r.body)
		return "?"
	}},
	// KV rights: bob, a member, writes team keys only when the served
	// version's manifest lets members (only the newest version does).
	{"KV rights", func(t *testing.T, e *env, sc policyScenario) string {
		r := e.do(sc.viewer(), "PUT", "/api/v1/plugins/"+policyPlugin+"/kv/team:engineering/note", "application/json", strings.NewReader(`"hi"`))
		newest := sc.versions[len(sc.versions)-1]
		switch {
		case r.status == http.StatusOK:
			return newest
		case r.status == http.StatusForbidden && r.errorCode(t) == "not_team_admin":
			return "an older version than " + newest
		case r.status == http.StatusNotFound && r.errorCode(t) == "plugin_not_enabled":
			return ""
		}
		t.Errorf("KV write: %d %s", r.status, r.body)
		return "?"
	}},
	// The admin console's plugin page: engineering's row, for alice, its
	// team admin.
	{"console plugin page", func(t *testing.T, e *env, sc policyScenario) string {
		r := e.page("alice", "GET", "/admin/plugins/"+policyPlugin, nil)
		if r.status != http.StatusOK {
			t.Fatalf("console plugin page: %d %s", r.status, r.body)
		}
		m := consoleTeamRow.FindSubmatch(r.body)
		if m == nil {
			t.Fatalf("no engineering row on the plugin page: %s", r.body)
		}
		if string(m[1]) != "on" {
			return ""
		}
		return string(m[2])
	}},
	// The answer to a team admin's PUT that keeps the state as it is (last:
	// it writes the state again).
	{"team state answer", func(t *testing.T, e *env, sc policyScenario) string {
		states, err := e.store.TeamStates(context.Background(), e.teams["engineering"])
		if err != nil {
			t.Fatal(err)
		}
		enabled := states[policyPlugin].Enabled
		r := e.setTeam("alice", "engineering", policyPlugin, `{"enabled":`+map[bool]string{true: "true", false: "false"}[enabled]+`}`)
		switch {
		case r.status == http.StatusForbidden && r.errorCode(t) == "certification_too_low":
			return "" // a pin below the minimum stays unserved
		case r.status != http.StatusOK:
			t.Fatalf("PUT: %d %s", r.status, r.body)
		}
		if !enabled {
			return ""
		}
		v, _ := r.json(t)["effective_version"].(string)
		return v
	}},
}

// setUpPolicyScenario is a server with the minimum certification at
// certified, in front of an upstream that answers every request 200, with
// sc's versions pushed and team state set.
func setUpPolicyScenario(t *testing.T, sc policyScenario) *env {
	t.Helper()
	cfg := trustingConfig(registry.Certified)
	cfg.Upstream = echoUpstream
	e := newEnv(t, cfg)
	for i, v := range sc.versions {
		files := policyVersion(v, i == len(sc.versions)-1)
		if !sc.unsigned[v] {
			files = signed(t, files, certifiedKey)
		}
		if r := e.push("dev", files); r.status != http.StatusCreated {
			t.Fatalf("push %s: %d %s", v, r.status, r.body)
		}
	}
	if sc.set != "" {
		if r := e.setTeam("alice", "engineering", policyPlugin, sc.set); r.status != http.StatusOK {
			t.Fatalf("PUT %s: %d %s", sc.set, r.status, r.body)
		}
	}
	if sc.kill {
		if r := e.do("admin", "POST", "/api/v1/plugins/"+policyPlugin+"/disable-everywhere", "", nil); r.status != http.StatusOK {
			t.Fatalf("disable everywhere: %d %s", r.status, r.body)
		}
	}
	if sc.preview != "" {
		if r := e.do("dev", "PUT", "/api/v1/plugins/"+policyPlugin+"/preview", "application/json",
			strings.NewReader(`{"version":"`+sc.preview+`","ttl_seconds":600}`)); r.status != http.StatusOK {
			t.Fatalf("take the preview: %d %s", r.status, r.body)
		}
	}
	if sc.store != nil {
		st := *sc.store
		st.TeamID, st.PluginID, st.UpdatedBy = e.teams["engineering"], policyPlugin, "old"
		if _, err := e.store.SetTeamState(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		// Any change through the server drops the cached manifests, as in
		// TestMinCertificationEnforced.
		if r := e.setTeam("admin", "sales", policyPlugin, `{"enabled":false}`); r.status != http.StatusOK {
			t.Fatalf("disable in sales: %d %s", r.status, r.body)
		}
	}
	return e
}

// policyAnswer is slots.Served for engineering's state in e, over the
// store through the server's minimum: the one answer every caller must
// give.
func policyAnswer(t *testing.T, e *env, preview string) string {
	t.Helper()
	ctx := context.Background()
	states, err := e.store.TeamStates(ctx, e.teams["engineering"])
	if err != nil {
		t.Fatal(err)
	}
	v, err := slots.Served(ctx, slots.Certified(e.store, registry.Certified), policyPlugin, slots.Previewing(states[policyPlugin], preview))
	if errors.Is(err, slots.ErrNotServed) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return v.Version
}

// TestServingPolicyCallersAgree: for every scenario of the matrix (enabled,
// never enabled, disabled, pinned, a newer unverified version under the
// minimum certification, a pin below it, killed everywhere, a prerelease
// newer than the release, a pinned prerelease), every caller that depends
// on the served version (web and mobile manifests, Mattermost's plugin
// list, the team listing, the plugin proxy's allow-list, plugin routes,
// plugin events, crash reports, KV rights, the console's plugin page, the
// answer to a team admin's PUT) answers what slots.Served
// answers. Subtests are named scenario/caller.
func TestServingPolicyCallersAgree(t *testing.T) {
	t.Parallel()
	for _, sc := range policyScenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			e := setUpPolicyScenario(t, sc)
			want := policyAnswer(t, e, sc.preview)
			if want != sc.want {
				t.Fatalf("slots.Served answers %q, the scenario expects %q", want, sc.want)
			}
			teamWant := policyAnswer(t, e, "")
			for _, c := range policyCallers {
				t.Run(c.name, func(t *testing.T) {
					exp := want
					if teamView[c.name] {
						exp = teamWant
					}
					switch c.name {
					case "plugin routes", "plugin events", "crash reports":
						if want != "" {
							exp = policyServed
						}
					case "KV rights":
						if newest := sc.versions[len(sc.versions)-1]; want != "" && want != newest {
							exp = "an older version than " + newest
						}
					}
					if got := c.ask(t, e, sc); got != exp {
						t.Errorf("%s answers %q; slots.Served serves %q", c.name, got, exp)
					}
				})
			}
		})
	}
}
