package identity_test

import (
	"testing"

	"github.com/mmtoolkit/mmtoolkit/identity"
)

// The one team-access rule and the admin rule beside it, for each kind of
// caller: a team's member may access it, a non-member may not, a system
// admin may access and administer every team, member or not.
func TestTeamAccessRule(t *testing.T) {
	t.Parallel()
	who := func(roles string, members ...identity.TeamMember) *identity.Identity {
		id := &identity.Identity{User: identity.User{ID: "u", Roles: roles}, Members: map[string]identity.TeamMember{}}
		for _, m := range members {
			id.Members[m.TeamID] = m
		}
		return id
	}
	member := identity.TeamMember{TeamID: "eng", UserID: "u", Roles: "team_user"}
	teamAdmin := identity.TeamMember{TeamID: "eng", UserID: "u", Roles: "team_user team_admin"}
	for _, tc := range []struct {
		name             string
		id               *identity.Identity
		team             string
		access, admin, m bool
	}{
		{"member", who("system_user", member), "eng", true, false, true},
		{"team admin", who("system_user", teamAdmin), "eng", true, true, true},
		{"non-member", who("system_user", member), "sales", false, false, false},
		{"team admin elsewhere", who("system_user", teamAdmin), "sales", false, false, false},
		{"system admin, member", who("system_user system_admin", member), "eng", true, true, true},
		{"system admin, off the team", who("system_admin system_user", member), "sales", true, true, false},
		{"system admin in no team", who(" system_admin "), "sales", true, true, false},
		{"a role that only starts like it", who("system_admin_x system_user"), "sales", false, false, false},
		{"no roles", who(""), "eng", false, false, false},
	} {
		if got := tc.id.CanAccessTeam(tc.team); got != tc.access {
			t.Errorf("%s: CanAccessTeam(%s) = %v, want %v", tc.name, tc.team, got, tc.access)
		}
		if got := tc.id.CanAdminTeam(tc.team); got != tc.admin {
			t.Errorf("%s: CanAdminTeam(%s) = %v, want %v", tc.name, tc.team, got, tc.admin)
		}
		if got := tc.id.MemberOf(tc.team); got != tc.m {
			t.Errorf("%s: MemberOf(%s) = %v, want %v", tc.name, tc.team, got, tc.m)
		}
	}
}
