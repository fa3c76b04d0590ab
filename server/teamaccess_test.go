package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// adminDevIdentity is the sandbox with dev promoted to system admin: dev
// is a member of engineering only, so sales is a team a system admin is
// not on (the seeded admin is on every team and cannot show the rule).
type adminDevIdentity struct{ *sandbox.Sandbox }

func (a adminDevIdentity) Authenticate(ctx context.Context, token string) (*identity.Identity, error) {
	who, err := a.Sandbox.Authenticate(ctx, token)
	if err != nil || who.User.Username != "dev" {
		return who, err
	}
	cp := *who
	cp.User.Roles += " system_admin"
	return &cp, nil
}

// TestSystemAdminAccessesEveryTeam: the one team-access rule
// (identity.Identity.CanAccessTeam), at every caller that checks it. A
// system admin acts in a team they are not a member of, as Mattermost lets
// them (system_admin holds every team permission); a user who is neither a
// member nor a system admin is refused with not_team_member. Before the
// rule was written once, the system admin read sales's manifest but got
// 403 on its plugin routes, events, crash reports and the
// Mattermost-compatible manifest.
func TestSystemAdminAccessesEveryTeam(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, server.Config{Upstream: echoUpstream}, func(sb *sandbox.Sandbox) server.Identity {
		return adminDevIdentity{sb}
	})
	const id = "com.example.access"
	if r := e.push("dev", helloPlugin(id, "1.0.0")); r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	for _, team := range []string{"engineering", "sales"} {
		if r := e.setTeam("admin", team, id, `{"enabled":true}`); r.status != 200 {
			t.Fatal(team, r.status, string(r.body))
		}
	}
	body := func(s string) func() *strings.Reader { return func() *strings.Reader { return strings.NewReader(s) } }
	for _, tc := range []struct {
		caller, method, path string
		body                 func() *strings.Reader
		hdr                  []string
	}{
		{"manifest", "GET", "/api/v1/manifest?team=sales&platform=web", nil, nil},
		{"mobile manifest", "GET", "/api/v1/mobile/manifest?team=sales&platform=ios&runtime=1.0.0", nil, nil},
		{"team plugins", "GET", "/api/v1/teams/sales/plugins", nil, nil},
		{"current team (Mattermost-compatible manifest)", "GET", "/api/v4/plugins/webapp?team=sales", nil, nil},
		{"plugin routes", "GET", "/plugins/" + id + "/api/state", nil, []string{"X-Mmtoolkit-Team", "sales"}},
		{"events", "POST", "/api/v1/plugins/" + id + "/events", body(`{"event":"ring","team_id":"sales","data":{}}`), nil},
		{"kv", "PUT", "/api/v1/plugins/" + id + "/kv/team:sales/k", body(`{"v":1}`), nil},
		{"crash reports", "POST", "/api/v1/plugins/" + id + "/errors", body(`{"version":"1.0.0","message":"m","team_id":"sales"}`), nil},
	} {
		do := func(user string) response {
			t.Helper()
			var rd *strings.Reader
			if tc.body != nil {
				rd = tc.body()
			} else {
				rd = strings.NewReader("")
			}
			return e.do(user, tc.method, tc.path, "application/json", rd, tc.hdr...)
		}
		if got := gotOf(t, do("dev")); got[0] != '2' {
			t.Errorf("%s: the system admin off the team got %s, want 2xx", tc.caller, got)
		}
		if got := gotOf(t, do("bob")); got != "403 not_team_member" {
			t.Errorf("%s: bob (neither member nor system admin) got %s, want 403 not_team_member", tc.caller, got)
		}
	}
}
