package sandbox

import (
	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"

	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// seededAt is the create_at of every seeded object: stable, so golden
// responses stay stable.
var seededAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

// Handler serves the sandbox's part of Mattermost's API v4, with
// Mattermost's paths, status codes, JSON field names and error shape.
func (s *Sandbox) Handler() http.Handler {
	r := chi.NewRouter()
	r.Get("/api/v4/system/ping", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "OK"})
	})
	r.Post("/api/v4/users/login", s.serveLogin)
	r.Group(func(r chi.Router) {
		r.Use(s.requireSession)
		r.Post("/api/v4/users/logout", s.serveLogout)
		r.Get("/api/v4/users/me", s.serveMe)
		r.Get("/api/v4/users/me/teams", s.serveMyTeams)
		r.Get("/api/v4/users/me/teams/members", s.serveMyTeamMembers)
		r.Get("/api/v4/teams/name/{name}", s.serveTeamByName)
		r.Get("/api/v4/teams/{id}", s.serveTeam)
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeMMError(w, r, http.StatusNotFound, "api.context.404.app_error",
			"Sorry, we could not find the page.", "the sandbox upstream does not implement "+r.URL.Path)
	})
	return r
}

type ctxKey struct{}

func (s *Sandbox) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := apiv4proxy.TokenFromRequest(r)
		detail := "UserRequired"
		if token != "" {
			detail = "token=" + token
		}
		id, err := s.Authenticate(r.Context(), token)
		if err != nil {
			writeMMError(w, r, http.StatusUnauthorized, "api.context.session_expired.app_error",
				"Invalid or expired session, please login again.", detail)
			return
		}
		next.ServeHTTP(w, r.WithContext(contextWith(r.Context(), ctxKey{}, id, token)))
	})
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

func (s *Sandbox) serveMe(w http.ResponseWriter, r *http.Request) {
	id, _ := identityFrom(r)
	writeJSON(w, http.StatusOK, mmUser(&id.User))
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
	s.writeTeam(w, r, s.byName[chi.URLParam(r, "name")])
}

func (s *Sandbox) serveTeam(w http.ResponseWriter, r *http.Request) {
	s.writeTeam(w, r, s.teams[chi.URLParam(r, "id")])
}

func (s *Sandbox) writeTeam(w http.ResponseWriter, r *http.Request, t *apiv4proxy.Team) {
	id, _ := identityFrom(r)
	// Mattermost answers 404 for missing teams and 403 for teams the user
	// cannot see; sandbox teams are all open, so members and admins see them.
	if t == nil {
		writeMMError(w, r, http.StatusNotFound, "app.team.get_by_name.missing.app_error",
			"Unable to find the existing team.", "")
		return
	}
	if !id.CanReadTeam(t.ID) {
		writeMMError(w, r, http.StatusForbidden, "api.context.permissions.app_error",
			"You do not have the appropriate permissions.", "")
		return
	}
	writeJSON(w, http.StatusOK, mmTeam(t))
}

// mmUser renders u with Mattermost's field names (model.User, sanitised
// as the server sends a user their own record).
func mmUser(u *apiv4proxy.User) map[string]any {
	return map[string]any{
		"id": u.ID, "create_at": seededAt, "update_at": seededAt, "delete_at": 0,
		"username": u.Username, "auth_data": "", "auth_service": "", "email": u.Email,
		"nickname": "", "first_name": u.FirstName, "last_name": u.LastName, "position": "",
		"roles": u.Roles,
		"notify_props": map[string]string{
			"channel": "true", "comments": "never", "desktop": "mention", "desktop_sound": "true",
			"email": "true", "first_name": "false", "mention_keys": "", "push": "mention", "push_status": "away",
		},
		"last_password_update": seededAt, "locale": "en",
		"timezone":              map[string]string{"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"},
		"disable_welcome_email": false,
	}
}

func mmTeam(t *apiv4proxy.Team) map[string]any {
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

// writeMMError writes Mattermost's AppError shape.
func writeMMError(w http.ResponseWriter, r *http.Request, status int, id, msg, detail string) {
	writeJSON(w, status, map[string]any{
		"id": id, "message": msg, "detailed_error": detail,
		"request_id": apiv4proxy.NewID(), "status_code": status,
	})
}
