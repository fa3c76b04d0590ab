package server

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/internal/app/enablement"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serverpart"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// The JSON twins of the admin console's pages that had none: the audit log,
// the crash reports of every plugin, the kill switch, and a rollback. The
// CLI (mmtoolkit audit, crashes, disable-everywhere, rollback) is built on
// them; each has the console page's authorization.

// auditEntryOut is an audit entry with the names a reader wants beside the
// ids, when the server knows them (the sandbox knows every user and team;
// in front of Mattermost, a team's name is known for the caller's teams).
type auditEntryOut struct {
	registry.AuditEntry
	ActorName string `json:"actor_name,omitempty"`
	TeamName  string `json:"team_name,omitempty"`
}

// serveAudit is GET /api/v1/audit?team=&plugin=&person=&limit=: the audit
// log, newest first, as /admin/audit shows it. A system admin reads every
// entry (pushes included); a team admin the entries of the teams they
// administer (all of them merged, or the one ?team= names); anyone else is
// refused.
func (s *Server) serveAudit(w http.ResponseWriter, r *http.Request) {
	who := caller(r)
	q := r.URL.Query()
	f := registry.AuditFilter{PluginID: q.Get("plugin"), Limit: registry.DefaultAuditLimit}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > registry.MaxAuditLimit {
			s.writeError(w, r, errorf(http.StatusBadRequest, CodeBadRequest,
				"limit must be a number from 1 to %d", registry.MaxAuditLimit))
			return
		}
		f.Limit = n
	}
	if p := strings.TrimPrefix(q.Get("person"), "@"); p != "" {
		f.Actor = p
		if id, ok := s.userID(p); ok {
			f.Actor = id
		}
	}
	var teams []string // the teams whose entries the caller reads; nil: every entry
	if name := q.Get("team"); name != "" {
		t, err := s.identity.Team(r.Context(), who, name)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !who.CanAdminTeam(t.ID) {
			s.writeError(w, r, errorf(http.StatusForbidden, CodeNotTeamAdmin,
				"the audit log of team %s is for its admins and system admins: ask one", t.Name))
			return
		}
		teams = []string{t.ID}
	} else if !who.User.SystemAdmin() {
		for tid := range who.Members {
			if who.CanAdminTeam(tid) {
				teams = append(teams, tid)
			}
		}
		if len(teams) == 0 {
			s.writeError(w, r, errNotAdmin("the audit log"))
			return
		}
		slices.Sort(teams)
	}
	var entries []registry.AuditEntry
	if teams == nil {
		var err error
		if entries, err = s.store.Audit(r.Context(), f); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	// One read per team, merged newest first: the store filters one team at
	// a time, and a team admin's teams are few.
	for _, tid := range teams {
		tf := f
		tf.TeamID = tid
		e, err := s.store.Audit(r.Context(), tf)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		entries = append(entries, e...)
	}
	slices.SortFunc(entries, func(a, b registry.AuditEntry) int { return cmp.Compare(b.Seq, a.Seq) })
	entries = entries[:min(len(entries), f.Limit)]
	names := s.userNames()
	teamNames := map[string]string{}
	if l, ok := s.identity.(teamLister); ok && who.User.SystemAdmin() {
		if all, err := l.Teams(r.Context()); err == nil { // names are a courtesy: ids stay
			for _, t := range all {
				teamNames[t.ID] = t.Name
			}
		}
	}
	for id, t := range who.Teams {
		teamNames[id] = t.Name
	}
	out := make([]auditEntryOut, len(entries))
	for i, e := range entries {
		out[i] = auditEntryOut{AuditEntry: e, ActorName: names[e.Actor], TeamName: teamNames[e.TeamID]}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": out})
}

func errNotAdmin(what string) *Error {
	return errorf(http.StatusForbidden, CodeNotAdmin, "%s is shown to system and team admins: ask one", what)
}

// userID is a username's id when the identity provider lists its users
// (the sandbox); in front of a real Mattermost the audit log's person is a
// user id.
func (s *Server) userID(username string) (string, bool) {
	if l, ok := s.identity.(userLister); ok {
		for _, u := range l.Users() {
			if strings.EqualFold(u.Username, username) {
				return u.ID, true
			}
		}
	}
	return "", false
}

// userNames maps user ids to usernames when the identity provider lists
// its users; empty otherwise.
func (s *Server) userNames() map[string]string {
	out := map[string]string{}
	if l, ok := s.identity.(userLister); ok {
		for _, u := range l.Users() {
			out[u.ID] = u.Username
		}
	}
	return out
}

// isAdmin: a system admin, or an admin of one of their teams.
func isAdmin(who *identity.Identity) bool {
	if who.User.SystemAdmin() {
		return true
	}
	for tid := range who.Members {
		if who.CanAdminTeam(tid) {
			return true
		}
	}
	return false
}

// serveCrashes is GET /api/v1/crashes: GET /api/v1/plugins/{id}/errors
// for every plugin that has crash reports, plugins in id order, each one's
// versions most recently crashed first. A team admin reads only the
// reports of teams they administer, as on the plugin pages.
func (s *Server) serveCrashes(w http.ResponseWriter, r *http.Request) {
	who := caller(r)
	if !isAdmin(who) {
		s.writeError(w, r, errNotAdmin("plugin health"))
		return
	}
	plugins, err := s.store.Plugins(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	type pluginHealth struct {
		PluginID string            `json:"plugin_id"`
		Versions []registry.Health `json:"versions"`
	}
	out := []pluginHealth{}
	for _, p := range plugins {
		health, err := s.store.PluginHealth(r.Context(), p.ID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if len(health) == 0 {
			continue
		}
		ph := pluginHealth{PluginID: p.ID}
		for _, h := range health {
			if !who.User.SystemAdmin() {
				h = h.OnlyTeams(func(teamID string) bool { return teamID != "" && who.CanAdminTeam(teamID) })
			}
			ph.Versions = append(ph.Versions, h)
		}
		slices.SortFunc(ph.Versions, func(a, b registry.Health) int {
			return cmp.Or(b.LastAt.Compare(a.LastAt), strings.Compare(a.Version, b.Version))
		})
		out = append(out, ph)
	}
	writeJSON(w, http.StatusOK, map[string]any{"plugins": out})
}

// serveDisableEverywhere is POST /api/v1/plugins/{id}/disable-everywhere,
// the console's kill switch, for system admins: the plugin is disabled in
// every team that has it enabled, one audited change (and one
// plugin_disabled event) per team; each team keeps its pin. The answer
// names the teams: {plugin_id, teams: [id...]}.
func (s *Server) serveDisableEverywhere(w http.ResponseWriter, r *http.Request) {
	who := caller(r)
	if !who.User.SystemAdmin() {
		s.writeError(w, r, errorf(http.StatusForbidden, CodeNotSystemAdmin,
			"only a system admin may disable a plugin in every team: team admins disable it for their teams"))
		return
	}
	id := chi.URLParam(r, "id")
	// The server part is disabled on Mattermost with the caller's token
	// (serverpart.go).
	part := serverpart.Caller{Token: apiv4proxy.TokenFromRequest(r), Admin: true}
	teams, err := s.disableEverywhere(r.Context(), who, part, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"plugin_id": id, "teams": nonNil(teams)})
}

// disableEverywhere disables pluginID in every team that has it enabled,
// in team id order, through setTeamPlugin, then its server part on
// Mattermost as part (the caller's token); it returns the teams it
// disabled (those done before an error, with it).
func (s *Server) disableEverywhere(ctx context.Context, who *identity.Identity, part serverpart.Caller, pluginID string) ([]string, error) {
	done, err := s.teams.DisableEverywhere(ctx, who.User.ID, pluginID) // internal/app/enablement
	if err != nil {
		return done, err
	}
	if len(done) > 0 {
		s.log.Warn("plugin disabled everywhere", "plugin", pluginID, "teams", len(done), "by", who.User.Username)
	}
	if err := s.parts.Disable(ctx, part, who.User.ID, pluginID); err != nil { // internal/app/serverpart
		return done, err
	}
	return done, nil
}

// serveRollback is POST /api/v1/teams/{team}/plugins/{id}/rollback, for
// the team's admins: pins the version the team served before the one it
// serves now (servedHistory), keeping the plugin enabled or disabled as it
// is. The answer is the PUT's, with rolled_back_from and rolled_back_to.
func (s *Server) serveRollback(w http.ResponseWriter, r *http.Request) {
	t, err := s.team(r, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := chi.URLParam(r, "id")
	st, p, current, to, err := s.teams.Rollback(r.Context(), caller(r).User.ID, t.ID, id)
	var none *enablement.NoPreviousVersionError
	if errors.As(err, &none) {
		served := "has never served " + id
		if !none.Never {
			served = "has served only version " + none.Current + " of " + id
		}
		s.writeError(w, r, &Error{Status: http.StatusConflict, Code: CodeNoPreviousVersion,
			Message: "team " + t.Name + " " + served + ", so there is nothing to roll back to: pin a version instead",
			Details: map[string]any{"current": none.Current}})
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	name := ""
	if sum, _, err := s.summary(r, p); err == nil {
		name = sum.Name
	}
	eff, err := s.servedVersion(r.Context(), id, st.Version)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		teamPlugin
		From string `json:"rolled_back_from"`
		To   string `json:"rolled_back_to"`
	}{teamPluginOf(p, name, st, eff), current, to})
}
