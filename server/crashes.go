package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serving"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Crash report limits: a page in a render loop must not flood the log.
const (
	crashRate       = 1.0 / 6 // per user per second: 10 a minute
	crashBurst      = 10
	maxCrashBody    = 32 << 10
	maxCrashMessage = 2 << 10
	maxCrashStack   = 16 << 10
)

type crashRequest struct {
	Version  string `json:"version"`
	Message  string `json:"message"`
	Stack    string `json:"stack"`
	Slot     string `json:"slot"`
	TeamID   string `json:"team_id"`
	Platform string `json:"platform"`
}

// serveReportCrash is POST /api/v1/plugins/{id}/errors: a host reports that
// a plugin version crashed (in initialize, render or a handler). Repeated
// crashes from several users flag the version for admins; nothing is
// disabled automatically.
func (s *Server) serveReportCrash(w http.ResponseWriter, r *http.Request) {
	who := caller(r)
	if !s.crashLimiter.allow(who.User.ID, time.Now()) {
		w.Header().Set("Retry-After", "6")
		s.writeError(w, r, errorf(http.StatusTooManyRequests, CodeRateLimited,
			"too many crash reports: report each crash once, not on every render"))
		return
	}
	var req crashRequest
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxCrashBody)).Decode(&req)
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		s.writeError(w, r, errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
			"a crash report is at most %d KiB: send the message and the top of the stack", maxCrashBody>>10))
		return
	}
	if err != nil || req.Version == "" || req.Message == "" {
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeBadRequest,
			`the body must be JSON like {"version":"1.2.0","message":"...","stack":"...","slot":"post_type"} (version and message required)`))
		return
	}
	pluginID := chi.URLParam(r, "id")
	teamID, err := s.crashTeam(r.Context(), who, pluginID, req.TeamID, req.Version)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c := registry.CrashReport{
		PluginID: pluginID, Version: req.Version, TeamID: teamID, UserID: who.User.ID,
		Slot: truncate(req.Slot, 64), Message: truncate(req.Message, maxCrashMessage),
		Stack: truncate(req.Stack, maxCrashStack), Platform: truncate(req.Platform, 16),
	}
	h, err := s.store.ReportCrash(r.Context(), c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if h.Flagged && h.Crashes == registry.FlagCrashes {
		s.log.Warn("plugin version flagged: repeated crashes", "plugin", c.PluginID, "version", c.Version, "users", h.Users)
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"crashes": h.Crashes, "flagged": h.Flagged})
}

// crashTeam is the team a crash report is filed under: the one it names
// (by id or name), which the reporter must belong to and which must serve
// the plugin; without one (the web host does not say), the first of the
// reporter's teams, in id order, that serves the reported version, else
// the first that serves the plugin at all. A report no team of the
// reporter explains is refused: it could only be noise, or a user writing
// into the health of plugins their teams never enabled.
func (s *Server) crashTeam(ctx context.Context, who *identity.Identity, pluginID, teamRef, version string) (string, error) {
	if teamRef != "" {
		t, err := s.identity.Team(ctx, who, teamRef)
		if err != nil {
			return "", err
		}
		if !who.CanAccessTeam(t.ID) {
			return "", errorf(http.StatusForbidden, CodeNotTeamMember,
				"you are not a member of team %s: report crashes for the team the plugin ran in", t.Name)
		}
		if _, err := s.teamVersion(ctx, t.ID, pluginID); err != nil {
			return "", err
		}
		return t.ID, nil
	}
	teams := make([]string, 0, len(who.Members))
	for tid := range who.Members {
		teams = append(teams, tid)
	}
	sort.Strings(teams)
	first := ""
	for _, tid := range teams {
		v, err := s.teamVersion(ctx, tid, pluginID)
		if serving.IsNotServed(err) {
			continue
		}
		if err != nil {
			return "", err
		}
		if v.Version == version {
			return tid, nil
		}
		if first == "" {
			first = tid
		}
	}
	if first == "" {
		return "", errorf(http.StatusNotFound, CodePluginNotEnabled,
			"plugin %s is not enabled for any of your teams: crash reports are taken for plugins your teams run", pluginID)
	}
	return first, nil
}

// servePluginHealth is GET /api/v1/plugins/{id}/errors, for admins: crash
// counts and the latest reports of every version, newest version first. A
// team admin reads only the reports of the teams they administer; the
// counts and the flag are the version's (registry.Health.OnlyTeams).
func (s *Server) servePluginHealth(w http.ResponseWriter, r *http.Request) {
	who := caller(r)
	admin := who.User.SystemAdmin()
	for tid := range who.Members {
		admin = admin || who.CanAdminTeam(tid)
	}
	if !admin {
		s.writeError(w, r, errorf(http.StatusForbidden, CodeNotAdmin,
			"plugin health is shown to system and team admins: ask one"))
		return
	}
	id := chi.URLParam(r, "id")
	if _, err := s.store.Plugin(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	health, err := s.store.PluginHealth(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]registry.Health, 0, len(health))
	for _, h := range health {
		if !who.User.SystemAdmin() {
			h = h.OnlyTeams(func(teamID string) bool { return teamID != "" && who.CanAdminTeam(teamID) })
		}
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LastAt.After(out[j].LastAt) })
	writeJSON(w, http.StatusOK, map[string]any{"plugin_id": id, "versions": out})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
