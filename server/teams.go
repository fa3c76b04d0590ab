package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

type teamPlugin struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Latest is the plugin's highest version; Version the pinned one ("" =
	// follows latest); Effective the version the team's manifest serves.
	Latest    string    `json:"latest"`
	Enabled   bool      `json:"enabled"`
	Version   string    `json:"version"`
	Effective string    `json:"effective_version"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

type teamInfo struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

// team resolves {team} and checks the caller may read it (members) or,
// with admin, change it (that team's admins and system admins).
func (s *Server) team(r *http.Request, admin bool) (*identity.Team, error) {
	t, err := s.identity.Team(r.Context(), caller(r), chi.URLParam(r, "team"))
	if err != nil {
		return nil, err
	}
	who := caller(r)
	if !who.CanAccessTeam(t.ID) {
		return nil, errorf(http.StatusForbidden, CodeNotTeamMember,
			"you are not a member of team %s: ask a team admin to add you", t.Name)
	}
	if admin && !who.CanAdminTeam(t.ID) {
		return nil, errorf(http.StatusForbidden, CodeNotTeamAdmin,
			"only admins of team %s or system admins may change its plugins: ask a team admin", t.Name)
	}
	return t, nil
}

// serveTeamPlugins is GET /api/v1/teams/{team}/plugins: every plugin with
// the team's state.
func (s *Server) serveTeamPlugins(w http.ResponseWriter, r *http.Request) {
	t, err := s.team(r, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	plugins, err := s.store.Plugins(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	states, err := s.store.TeamStates(r.Context(), t.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]teamPlugin, 0, len(plugins))
	for _, p := range plugins {
		sum, _, err := s.summary(r, p)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		eff, err := s.servedVersion(r.Context(), p.ID, states[p.ID].Version)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out = append(out, teamPluginOf(p, sum.Name, states[p.ID], eff))
	}
	writeJSON(w, http.StatusOK, map[string]any{"team": teamInfo{t.ID, t.Name, t.DisplayName}, "plugins": out})
}

// servedVersion is the version of a plugin a team's manifest serves for its
// pin ("" = follow the latest) once the plugin is enabled, "" when none is:
// the serving policy's answer (serving.Policy.ServedVersion).
func (s *Server) servedVersion(ctx context.Context, id, pin string) (string, error) {
	return s.policy.ServedVersion(ctx, id, pin)
}

// teamVersion is the version of plugin pluginID team teamID serves to the
// caller of ctx (serving.Policy.TeamVersion), for every permission that
// depends on it: events, the KV store's rights, crash reports, plugin
// routes. The caller's own preview, if any (preview.go), is its input. A
// plugin the team does not serve is a *serving.NotServedError, answered
// 404 plugin_not_enabled (errNotServed); an unknown plugin stays
// plugin_not_found.
func (s *Server) teamVersion(ctx context.Context, teamID, pluginID string) (*registry.Version, error) {
	return s.policy.TeamVersion(ctx, teamID, pluginID, s.previewVersion(ctx, pluginID))
}

// errNotServed is the answer to a *serving.NotServedError: a plugin a team
// (or every team that matters to a request) does not serve.
func errNotServed(pluginID string) *Error {
	return errorf(http.StatusNotFound, CodePluginNotEnabled,
		"plugin %s is not enabled for this team: ask a team admin to enable it", pluginID)
}

// servesAny returns the first of teamIDs (in the order given) that serves
// the plugin to the caller of ctx and the version it serves
// (serving.Policy.ServesAny), or the teamVersion error of the last team (a
// *serving.NotServedError when none does).
func (s *Server) servesAny(ctx context.Context, teamIDs []string, pluginID string) (string, *registry.Version, error) {
	return s.policy.ServesAny(ctx, teamIDs, pluginID, s.previewVersion(ctx, pluginID))
}

// teamPluginOf is a team's entry of plugin p; eff is the version it serves
// (servedVersion), decided by the serving policy, never here.
func teamPluginOf(p *registry.Plugin, name string, st registry.TeamState, eff string) teamPlugin {
	return teamPlugin{ID: p.ID, Name: name, Latest: p.Latest, Enabled: st.Enabled, Version: st.Version,
		Effective: eff, UpdatedBy: st.UpdatedBy, UpdatedAt: st.UpdatedAt}
}

// setTeamPluginRequest is the PUT body. Version absent keeps the current
// pin; "" or "latest" follows the latest version; anything else pins it.
type setTeamPluginRequest struct {
	Enabled *bool   `json:"enabled"`
	Version *string `json:"version"`
}

// serveSetTeamPlugin is PUT /api/v1/teams/{team}/plugins/{id}.
func (s *Server) serveSetTeamPlugin(w http.ResponseWriter, r *http.Request) {
	t, err := s.team(r, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req setTeamPluginRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			s.writeError(w, r, errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
				`the body is over 4 KiB: send only {"enabled": true, "version": "1.2.0"}`))
			return
		}
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeBadRequest,
			`the body must be JSON like {"enabled": true, "version": "1.2.0"}: %v`, err))
		return
	}
	if req.Enabled == nil {
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeEnabledRequired,
			`"enabled" is required: send {"enabled": true} or {"enabled": false}`))
		return
	}
	st, p, err := s.setTeamPlugin(r.Context(), caller(r).User.ID, t.ID, chi.URLParam(r, "id"), *req.Enabled, req.Version)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	name := ""
	if sum, _, err := s.summary(r, p); err == nil {
		name = sum.Name
	}
	eff, err := s.servedVersion(r.Context(), p.ID, st.Version)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, teamPluginOf(p, name, st, eff))
}

// setTeamPlugin is the one code path that changes a plugin's state for a
// team, for the JSON API and the admin console (internal/app/enablement:
// the registry writes the state and its audit entry, and the change feed
// invalidates cached manifests and tells the team's open pages). version
// nil keeps the current pin; "" or "latest" follows the latest version;
// anything else pins it. The caller checked that actor may administer the
// team.
func (s *Server) setTeamPlugin(ctx context.Context, actor, teamID, pluginID string, enabled bool, version *string) (registry.TeamState, *registry.Plugin, error) {
	return s.teams.Set(ctx, actor, teamID, pluginID, enabled, version)
}
