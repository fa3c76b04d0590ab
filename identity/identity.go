// Package identity holds who a caller is as mmtoolkit sees it: the
// Mattermost user, their team memberships, teams and channels, and the
// one rule that decides whether a caller may act in a team.
//
// It imports no net/http and asks no one: apiv4proxy (a real Mattermost)
// and its sandbox fill an Identity in; the HTTP edge only reads it. Every
// team-access decision goes through CanAccessTeam so that a manifest, a
// plugin route, an event, a KV key and a crash report cannot disagree on
// who may use a team.
package identity

import "strings"

// User is a Mattermost user as mmtoolkit needs it.
type User struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	// Roles is Mattermost's space-separated role list ("system_user system_admin").
	Roles string `json:"roles"`
}

// SystemAdmin reports whether the user has Mattermost's system_admin role.
func (u *User) SystemAdmin() bool { return hasRole(u.Roles, "system_admin") }

// Team is a Mattermost team.
type Team struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

// TeamMember is a user's membership of one team. Roles is Mattermost's
// team role list ("team_user team_admin").
type TeamMember struct {
	TeamID string `json:"team_id"`
	UserID string `json:"user_id"`
	Roles  string `json:"roles"`
}

// TeamAdmin reports whether the membership carries team_admin.
func (m TeamMember) TeamAdmin() bool { return hasRole(m.Roles, "team_admin") }

// Channel is a Mattermost channel. Type is "O" (open), "P" (private), "D"
// (direct) or "G" (group), as in Mattermost.
type Channel struct {
	ID          string `json:"id"`
	TeamID      string `json:"team_id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Type        string `json:"type"`
}

// Identity is who a token belongs to: the user, their team memberships and
// those teams. Token is the Mattermost token it was built from, kept so that
// lookups made for this caller (a team by name, a channel's members) go to
// Mattermost with the caller's own rights.
type Identity struct {
	User    User
	Members map[string]TeamMember // by team id
	Teams   map[string]Team       // the member teams, by id
	Token   string                `json:"-"`
}

// MemberOf reports whether the identity belongs to the team. It is a fact
// about membership, not a permission: use it to list or pick the caller's
// own teams, and CanAccessTeam to decide whether the caller may act in one.
func (id *Identity) MemberOf(teamID string) bool { _, ok := id.Members[teamID]; return ok }

// CanAccessTeam is the one team-access rule: the team's members may read
// and use it (its manifest, its plugins' routes, events, KV and crash
// reports, its console pages), and so may a system admin, in every team,
// member or not. That is Mattermost's own rule: system_admin holds every
// team permission (PERMISSION_VIEW_TEAM and the rest), so a system admin
// who may open any team in Mattermost may also load what it serves here.
func (id *Identity) CanAccessTeam(teamID string) bool {
	return id.User.SystemAdmin() || id.MemberOf(teamID)
}

// CanAdminTeam: that team's admins and system admins (the same system-admin
// rule as CanAccessTeam).
func (id *Identity) CanAdminTeam(teamID string) bool {
	if id.User.SystemAdmin() {
		return true
	}
	m, ok := id.Members[teamID]
	return ok && m.TeamAdmin()
}

// hasRole looks role up in a space-separated list without allocating: it
// runs on every authorised request.
func hasRole(roles, role string) bool {
	for roles != "" {
		var r string
		r, roles, _ = strings.Cut(strings.TrimLeft(roles, " "), " ")
		if r == role {
			return true
		}
	}
	return false
}
