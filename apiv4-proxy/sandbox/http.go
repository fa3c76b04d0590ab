package sandbox

import (
	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"

	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
)

// The Mattermost version the sandbox answers as: the samples in
// shared/reference/mattermost-api-samples are 5.37's, and so are the
// field sets. serverVersion is X-Version-Id and the hello's
// server_version (version.build.config-hash.licensed).
const (
	mattermostVersion = "5.37.0"
	serverVersion     = mattermostVersion + ".sandbox.mmtoolkit.false"
)

// Handler serves the sandbox's part of Mattermost's API v4, with
// Mattermost's paths, status codes, JSON field names and error shape
// (docs/sandbox.md lists the endpoints).
func (s *Sandbox) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(requestID)
	r.Get("/api/v4/system/ping", func(w http.ResponseWriter, r *http.Request) {
		// The client version hints are Mattermost's config; empty there by default.
		writeJSON(w, http.StatusOK, map[string]string{"status": "OK",
			"AndroidLatestVersion": "", "AndroidMinVersion": "", "DesktopLatestVersion": "",
			"DesktopMinVersion": "", "IosLatestVersion": "", "IosMinVersion": ""})
	})
	r.Post("/api/v4/users/login", s.serveLogin)
	// No session needed: the limited config without one, as Mattermost.
	r.Get("/api/v4/config/client", s.serveClientConfig)
	// The websocket takes its token at upgrade or in a first message.
	r.Get("/api/v4/websocket", s.serveWebSocket)
	r.Group(func(r chi.Router) {
		r.Use(s.requireSession)
		r.Post("/api/v4/users/logout", s.serveLogout)
		r.Get("/api/v4/users/me", s.serveMe)
		r.Get("/api/v4/license/client", s.serveClientLicense)
		r.Post("/api/v4/roles/names", s.serveRolesByNames)
		r.Get("/api/v4/roles/name/{role_name}", s.serveRoleByName)
		r.Get("/api/v4/users/me/preferences", s.serveMyPreferences)
		r.Get("/api/v4/users/{user_id}/preferences", s.serveMyPreferences)
		r.Put("/api/v4/users/{user_id}/preferences", s.serveSavePreferences)
		r.Post("/api/v4/users/status/ids", s.serveStatusesByIDs)
		r.Get("/api/v4/users/{user_id}/status", s.serveUserStatus)
		r.Get("/api/v4/users/me/teams", s.serveMyTeams)
		r.Get("/api/v4/users/me/teams/members", s.serveMyTeamMembers)
		r.Get("/api/v4/users", s.serveUsers)
		r.Post("/api/v4/users/ids", s.serveUsersByIDs)
		r.Get("/api/v4/users/{user_id}", s.serveUser)
		r.Get("/api/v4/users/{user_id}/teams/{team_id}/channels", s.serveUserChannels)
		r.Get("/api/v4/users/{user_id}/teams/{team_id}/channels/members", s.serveUserChannelMembers)
		r.Get("/api/v4/teams/name/{team_name}", s.serveTeamByName)
		r.Get("/api/v4/teams/name/{team_name}/channels/name/{channel_name}", s.serveChannelByTeamName)
		r.Get("/api/v4/teams/{team_id}", s.serveTeam)
		r.Get("/api/v4/teams/{team_id}/channels/name/{channel_name}", s.serveChannelByName)
		r.Get("/api/v4/channels/{channel_id}", s.serveChannel)
		r.Get("/api/v4/channels/{channel_id}/members", s.serveChannelMembers)
		r.Get("/api/v4/channels/{channel_id}/members/{user_id}", s.serveChannelMember)
		r.Post("/api/v4/channels/members/{user_id}/view", s.serveViewChannel)
		r.Get("/api/v4/channels/{channel_id}/posts", s.serveChannelPosts)
		r.Post("/api/v4/posts", s.serveCreatePost)
		r.Get("/api/v4/posts/{post_id}", s.serveGetPost)
		r.Put("/api/v4/posts/{post_id}/patch", s.servePatchPost)
		r.Delete("/api/v4/posts/{post_id}", s.serveDeletePost)
	})
	// Mattermost's catch-all answers every unknown path, and every known
	// path with the wrong method, with its 404.
	notFound := func(w http.ResponseWriter, r *http.Request) {
		writeMMError(w, r, http.StatusNotFound, "api.context.404.app_error",
			"Sorry, we could not find the page.", "the sandbox upstream does not implement "+r.Method+" "+r.URL.Path)
	}
	r.NotFound(notFound)
	r.MethodNotAllowed(notFound)
	return r
}

func (s *Sandbox) serveLogin(w http.ResponseWriter, r *http.Request) {
	var body struct {
		LoginID  string `json:"login_id"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body); err != nil {
		writeMMError(w, r, http.StatusBadRequest, "api.context.invalid_body_param.app_error",
			"Invalid or missing user in request body.", err.Error())
		return
	}
	token, u, err := s.Login(r.Context(), body.LoginID, body.Password)
	if errors.Is(err, apiv4proxy.ErrBadCredentials) {
		writeMMError(w, r, http.StatusUnauthorized, "api.user.login.invalid_credentials_email_username",
			"Enter a valid email or username and/or password.", "")
		return
	}
	if err != nil {
		writeMMError(w, r, http.StatusInternalServerError, "api.user.login.app_error", "Login failed.", err.Error())
		return
	}
	w.Header().Set("Token", token)
	// As Mattermost: the session cookie for browsers, plus the user id and
	// CSRF cookies the webapp reads.
	http.SetCookie(w, &http.Cookie{Name: "MMAUTHTOKEN", Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: "MMUSERID", Value: u.ID, Path: "/", SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: "MMCSRF", Value: csrfToken(token), Path: "/", SameSite: http.SameSiteLaxMode})
	writeJSON(w, http.StatusOK, mmUser(u))
}

func (s *Sandbox) serveLogout(w http.ResponseWriter, r *http.Request) {
	_, token := identityFrom(r)
	if err := s.Logout(r.Context(), token); err != nil {
		writeMMError(w, r, http.StatusInternalServerError, "api.user.logout.app_error", "Logout failed.", err.Error())
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "MMAUTHTOKEN", Value: "", Path: "/", MaxAge: -1})
	writeJSON(w, http.StatusOK, map[string]string{"status": "OK"})
}

func (s *Sandbox) serveMyTeams(w http.ResponseWriter, r *http.Request) {
	id, _ := identityFrom(r)
	teams, _ := s.Teams(r.Context())
	out := []map[string]any{}
	for i := range teams {
		if id.MemberOf(teams[i].ID) {
			out = append(out, mmTeam(&teams[i]))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sandbox) serveMyTeamMembers(w http.ResponseWriter, r *http.Request) {
	id, _ := identityFrom(r)
	teams, _ := s.Teams(r.Context())
	out := []map[string]any{}
	for _, t := range teams {
		if m, ok := id.Members[t.ID]; ok {
			admin := m.TeamAdmin()
			out = append(out, map[string]any{
				"team_id": m.TeamID, "user_id": m.UserID, "roles": m.Roles, "delete_at": 0,
				"scheme_guest": false, "scheme_user": true, "scheme_admin": admin, "explicit_roles": "",
			})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sandbox) serveTeamByName(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "team_name")
	s.writeTeam(w, r, s.byName[name], "name="+name)
}

func (s *Sandbox) serveTeam(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(w, r, "team_id")
	if !ok {
		return
	}
	s.writeTeam(w, r, s.teams[id], id)
}

func (s *Sandbox) writeTeam(w http.ResponseWriter, r *http.Request, t *identity.Team, key string) {
	id, _ := identityFrom(r)
	// Mattermost answers 404 for missing teams and 403 for teams the user
	// cannot see; sandbox teams are all open, so members and admins see them.
	if t == nil {
		writeMMError(w, r, http.StatusNotFound, "app.team.get_by_name.missing.app_error",
			"Unable to find the existing team.", "resource: Team id: "+key)
		return
	}
	if !id.CanAccessTeam(t.ID) {
		permissionError(w, r, id, "view_team")
		return
	}
	writeJSON(w, http.StatusOK, mmTeam(t))
}

func mmTeam(t *identity.Team) map[string]any {
	return map[string]any{
		"id": t.ID, "create_at": seededAt, "update_at": seededAt, "delete_at": 0,
		"display_name": t.DisplayName, "name": t.Name, "description": "", "email": "",
		"type": "O", "company_name": "", "allowed_domains": "", "invite_id": SeedID("invite", t.Name),
		"allow_open_invite": false, "scheme_id": nil, "group_constrained": nil, "policy_id": nil,
	}
}

// csrfToken derives the session's CSRF token, as Mattermost keeps one per session.
func csrfToken(token string) string { return SeedID("csrf", token) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// appError is Mattermost's model.AppError on the wire. The HTTP API always
// fills request_id and status_code; websocket replies leave them out.
type appError struct {
	ID            string `json:"id"`
	Message       string `json:"message"`
	DetailedError string `json:"detailed_error"`
	RequestID     string `json:"request_id,omitempty"`
	StatusCode    int    `json:"status_code,omitempty"`
}

// writeMMError writes Mattermost's AppError, its request_id the request's
// X-Request-Id.
func writeMMError(w http.ResponseWriter, r *http.Request, status int, id, msg, detail string) {
	writeJSON(w, status, appError{ID: id, Message: msg, DetailedError: detail,
		RequestID: requestIDFrom(r), StatusCode: status})
}

// permissionError is Mattermost's model.MakePermissionError.
func permissionError(w http.ResponseWriter, r *http.Request, who *identity.Identity, permission string) {
	writeMMError(w, r, http.StatusForbidden, "api.context.permissions.app_error",
		"You do not have the appropriate permissions.", "userId="+who.User.ID+", permission="+permission)
}

// invalidURLParam is Mattermost's Context.SetInvalidURLParam.
// idParam reads the URL parameter name as a Mattermost id, answering 400 as
// Mattermost does when it is not one.
func idParam(w http.ResponseWriter, r *http.Request, name string) (string, bool) {
	id := chi.URLParam(r, name)
	if !validID(id) {
		invalidURLParam(w, r, name)
		return "", false
	}
	return id, true
}

func invalidURLParam(w http.ResponseWriter, r *http.Request, name string) {
	writeMMError(w, r, http.StatusBadRequest, "api.context.invalid_url_param.app_error",
		"Invalid or missing "+name+" parameter in request URL.", "")
}

// invalidBodyParam is Mattermost's Context.SetInvalidParam.
func invalidBodyParam(w http.ResponseWriter, r *http.Request, name, detail string) {
	writeMMError(w, r, http.StatusBadRequest, "api.context.invalid_body_param.app_error",
		"Invalid or missing "+name+" in request body.", detail)
}

// paging reads Mattermost's page and per_page: bad values fall back to
// the defaults, per_page is capped, as Mattermost's Params do.
func paging(r *http.Request) (page, perPage int) {
	page, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || page < 0 {
		page = 0
	}
	perPage, err = strconv.Atoi(r.URL.Query().Get("per_page"))
	if err != nil || perPage < 0 {
		perPage = defaultPerPage
	}
	return page, min(perPage, maxPerPage)
}
