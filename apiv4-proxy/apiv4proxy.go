// Package apiv4proxy stands between mmtoolkit and Mattermost. It has two
// jobs:
//
//   - identity: who a request's Mattermost token belongs to (Identity), with
//     their teams and roles. Upstream asks a real Mattermost
//     (GET /api/v4/users/me, .../teams/members, .../teams) and caches the
//     answer briefly; the sandbox package answers the same questions
//     in-process when there is no Mattermost.
//   - proxying: NewProxy returns the http.Handler that forwards REST calls
//     and the websocket to the upstream Mattermost, with the rules of
//     docs/proxy.md (hop-by-hop headers dropped, forwarding headers set,
//     bodies and time bounded, no open proxying).
//
// The HTTP edge depends only on the small identity interface it declares;
// Upstream and the sandbox both implement it. TokenFromRequest finds a
// token the way Mattermost does.
package apiv4proxy

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"net/http"
	"strings"
)

// Sentinel errors.
var (
	// ErrInvalidToken is returned when a token is unknown, expired or revoked.
	ErrInvalidToken = errors.New("invalid or expired session")
	// ErrTeamNotFound is returned when no team has the given id or name.
	ErrTeamNotFound = errors.New("team not found")
	// ErrBadCredentials is returned by Login for an unknown login id or a wrong password.
	ErrBadCredentials = errors.New("invalid login or password")
	// ErrChannelNotFound is returned when no channel has the given id, or
	// the caller may not see it.
	ErrChannelNotFound = errors.New("channel not found")
	// ErrUpstreamUnavailable is returned when the upstream Mattermost cannot
	// be reached or answers with a server error.
	ErrUpstreamUnavailable = errors.New("upstream Mattermost unavailable")
	// ErrUpstreamTimeout is returned when the upstream Mattermost does not
	// answer in time.
	ErrUpstreamTimeout = errors.New("upstream Mattermost timed out")
)

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

// MemberOf reports whether the identity belongs to the team.
func (id *Identity) MemberOf(teamID string) bool { _, ok := id.Members[teamID]; return ok }

// CanReadTeam: members, and system admins for every team.
func (id *Identity) CanReadTeam(teamID string) bool {
	return id.User.SystemAdmin() || id.MemberOf(teamID)
}

// CanAdminTeam: that team's admins and system admins.
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

// TokenFromRequest finds the Mattermost token the way Mattermost does, in
// its order: Authorization "Bearer" then "Token", the MMAUTHTOKEN cookie,
// then the access_token query parameter.
func TokenFromRequest(r *http.Request) string {
	token, _ := tokenAndSource(r)
	return token
}

// CSRFHeader and CSRFHeaderValue are the header Mattermost's clients send
// with every request (Client4 does) and that a cross-site form or a
// cross-origin fetch without CORS cannot send.
const (
	CSRFHeader      = "X-Requested-With"
	CSRFHeaderValue = "XMLHttpRequest"
)

// CrossSiteForged reports whether r acts on a session cookie without
// proof that a same-origin page sent it: the token came from the
// MMAUTHTOKEN cookie, the method changes state, and X-Requested-With is
// not XMLHttpRequest. Mattermost refuses such requests too (it accepts
// X-Requested-With in place of its X-CSRF-Token); a token sent in a header
// or the query is never ambient, so those requests pass.
func CrossSiteForged(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	if _, fromCookie := tokenAndSource(r); !fromCookie {
		return false
	}
	return r.Header.Get(CSRFHeader) != CSRFHeaderValue
}

func tokenAndSource(r *http.Request) (token string, fromCookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			return strings.TrimSpace(h[7:]), false
		}
		if len(h) > 6 && strings.EqualFold(h[:6], "token ") {
			return strings.TrimSpace(h[6:]), false
		}
	}
	if c, err := r.Cookie("MMAUTHTOKEN"); err == nil && c.Value != "" {
		return c.Value, true
	}
	return r.URL.Query().Get("access_token"), false
}

// mmEncoding is Mattermost's id alphabet (model.NewId): 26 lowercase chars.
var mmEncoding = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

// NewID returns a random 26-character Mattermost-style id.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return mmEncoding.EncodeToString(b[:])
}

// EncodeID encodes 16 bytes as a Mattermost id.
func EncodeID(b []byte) string { return mmEncoding.EncodeToString(b) }
