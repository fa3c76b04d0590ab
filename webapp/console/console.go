// Package console serves mmtoolkit's server-rendered pages: the admin
// console (/admin: per-team plugin toggles and version pins, per-plugin
// versions, health and the kill switch, the audit log) and the plugin
// directory (/directory). Pages are templ components; they work without
// JavaScript (forms, POST then redirect to GET) and every form carries a
// CSRF token bound to the session.
//
// The handlers take small interfaces (Identity, Source, Actions) that the
// HTTP edge (package server) implements over its registry, identity
// provider and event hub, so a change made here goes through the same code
// as the JSON API: same rules, same audit entries, same live events.
package console

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Errors an implementation returns; the pages turn them into statuses.
var (
	// ErrUnauthenticated: the request carries no valid session. Pages
	// redirect to the webapp's login.
	ErrUnauthenticated = errors.New("not logged in")
	// ErrNotFound: no such team or plugin (or the viewer may not see it).
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the viewer may not do this.
	ErrForbidden = errors.New("forbidden")
)

// Team is a Mattermost team.
type Team struct {
	ID          string
	Name        string // the URL name
	DisplayName string
}

// Viewer is who is looking at a page.
type Viewer struct {
	UserID   string
	Username string
	// SystemAdmin may do everything.
	SystemAdmin bool
	// AdminTeams are the teams the viewer administers, sorted by display
	// name: every team for a system admin.
	AdminTeams []Team
	// Teams are the teams the viewer is a member of, sorted by display
	// name: the directory says whether a plugin is enabled there.
	Teams []Team
	// Session is the Mattermost token the request carried; form tokens
	// are derived from it.
	Session string
	// Data is the Identity implementation's own record of the viewer.
	Data any
}

// IsAdmin reports whether the viewer may use the admin console.
func (v *Viewer) IsAdmin() bool { return v.SystemAdmin || len(v.AdminTeams) > 0 }

// CanAdmin reports whether the viewer administers the team.
func (v *Viewer) CanAdmin(teamID string) bool {
	if v.SystemAdmin {
		return true
	}
	for _, t := range v.AdminTeams {
		if t.ID == teamID {
			return true
		}
	}
	return false
}

// Identity says who a request comes from.
type Identity interface {
	// Viewer authenticates the request by its MMAUTHTOKEN cookie: an error
	// wrapping ErrUnauthenticated when there is no valid session.
	Viewer(r *http.Request) (*Viewer, error)
	// Team resolves a team id or URL name (ErrNotFound).
	Team(ctx context.Context, v *Viewer, idOrName string) (Team, error)
	// UserNames maps user ids to usernames where they are known; unknown
	// ids are left out.
	UserNames(ctx context.Context, ids []string) map[string]string
}

// Bundle is one served file of a version.
type Bundle struct {
	Kind string // "web", "mobile", "mobile_hbc", ...
	URL  string
	Size int64
	Gzip int64 // 0: not (yet) precompressed
	Br   int64
}

// VersionInfo is one pushed version as the pages show it.
type VersionInfo struct {
	Version       string
	Name          string
	Description   string
	PushedAt      time.Time
	PushedBy      string // user id
	Certification string // official, certified, community or unverified
	Slots         []pluginpkg.SlotDecl
	Bundles       []Bundle
	Prebuilt      bool
	Warnings      []string
	HomepageURL   string
	SupportURL    string
	// Icon and Screenshots are immutable image URLs ("" / nil: none).
	Icon        string
	Screenshots []string
}

// PluginInfo is a plugin with its latest version's details.
type PluginInfo struct {
	ID        string
	Owner     string // user id
	CreatedAt time.Time
	// Versions in semver order, lowest first.
	Versions []string
	Latest   VersionInfo
}

// Source is what the pages read.
type Source interface {
	// Catalogue is every plugin with its latest version. It may be a
	// cached snapshot: callers must not modify it.
	Catalogue(ctx context.Context) (*Catalogue, error)
	// Versions returns a plugin's versions, newest first (ErrNotFound).
	Versions(ctx context.Context, pluginID string) ([]VersionInfo, error)
	// Health returns what clients reported, by version.
	Health(ctx context.Context, pluginID string) (map[string]registry.Health, error)
	// TeamStates returns the team's state of every plugin it changed.
	TeamStates(ctx context.Context, teamID string) (map[string]registry.TeamState, error)
	// PluginTeamStates returns the plugin's state in every team that
	// changed it, by team id.
	PluginTeamStates(ctx context.Context, pluginID string) (map[string]registry.TeamState, error)
	// Effective is the version a team whose pin of pluginID is pin ("" =
	// follows the latest) serves once the plugin is enabled: the server's
	// serving policy (the minimum certification, never a prerelease for a
	// follower), never decided here; "" when it serves none.
	Effective(ctx context.Context, pluginID, pin string) (string, error)
	// Audit returns audit entries, newest first.
	Audit(ctx context.Context, f registry.AuditFilter) ([]registry.AuditEntry, error)
}

// Actions are the changes the console makes. Implementations apply the
// same rules, audit entries and live events as the JSON API.
type Actions interface {
	// SetTeamPlugin enables or disables a plugin for a team and pins a
	// version ("" follows the latest).
	SetTeamPlugin(ctx context.Context, v *Viewer, teamID, pluginID string, enabled bool, version string) error
	// DisableEverywhere disables the plugin in every team that has it
	// enabled (system admins only) and returns those teams' ids.
	DisableEverywhere(ctx context.Context, v *Viewer, pluginID string) ([]string, error)
}
