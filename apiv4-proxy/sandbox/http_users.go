package sandbox

import (
	"github.com/mmtoolkit/mmtoolkit/identity"

	"encoding/json"
	"net/http"
	"sort"

	"github.com/go-chi/chi/v5"
)

// maxUserIDs bounds POST /users/ids, so one request cannot ask for an
// unbounded list.
const maxUserIDs = 1000

func (s *Sandbox) serveMe(w http.ResponseWriter, r *http.Request) {
	id, _ := identityFrom(r)
	writeJSON(w, http.StatusOK, mmUser(&id.User))
}

// serveUser is GET /users/{user_id}: the caller's own record in full,
// anyone else's as a profile, as Mattermost sanitises it.
func (s *Sandbox) serveUser(w http.ResponseWriter, r *http.Request) {
	who, _ := identityFrom(r)
	uid, ok := idParam(w, r, "user_id")
	if !ok {
		return
	}
	u, ok := s.users[uid]
	if !ok {
		writeMMError(w, r, http.StatusNotFound, "app.user.missing_account.const",
			"Unable to find the user.", "resource: User id: "+uid)
		return
	}
	if uid == who.User.ID {
		writeJSON(w, http.StatusOK, mmUser(u))
		return
	}
	writeJSON(w, http.StatusOK, mmProfile(u))
}

// serveUsersByIDs is POST /users/ids: the profiles of the known ids, in
// the order asked, unknown ids left out, as the webapp loads post authors.
func (s *Sandbox) serveUsersByIDs(w http.ResponseWriter, r *http.Request) {
	var ids []string
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&ids); err != nil {
		invalidBodyParam(w, r, "user_ids", err.Error())
		return
	}
	if len(ids) == 0 || len(ids) > maxUserIDs {
		invalidBodyParam(w, r, "user_ids", "")
		return
	}
	out := []map[string]any{}
	seen := map[string]bool{}
	for _, id := range ids {
		if u, ok := s.users[id]; ok && !seen[id] {
			seen[id] = true
			out = append(out, mmProfile(u))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// serveUsers is GET /users?in_team=&page=&per_page=: profiles sorted by
// username, a team's members with in_team (view_team: its members and
// system admins), else everyone. per_page is at most 200 (default 60), as
// in Mattermost.
func (s *Sandbox) serveUsers(w http.ResponseWriter, r *http.Request) {
	who, _ := identityFrom(r)
	q := r.URL.Query()
	page, perPage := paging(r)
	team := q.Get("in_team")
	if team != "" {
		if !validID(team) {
			invalidURLParam(w, r, "in_team")
			return
		}
		if !who.CanAccessTeam(team) {
			permissionError(w, r, who, "view_team")
			return
		}
	}
	var list []*identity.User
	for uid, u := range s.users {
		if team == "" {
			list = append(list, u)
		} else if _, member := s.members[uid][team]; member {
			list = append(list, u)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Username < list[j].Username })
	out := []map[string]any{}
	for i := page * perPage; i < len(list) && i < (page+1)*perPage; i++ {
		out = append(out, mmProfile(list[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// userParam resolves {user_id} ("me" or an id) for an endpoint about a
// user's own things: the caller, or anyone for a system admin
// (Mattermost's SessionHasPermissionToUser).
func userParam(w http.ResponseWriter, r *http.Request, who *identity.Identity) (string, bool) {
	uid := chi.URLParam(r, "user_id")
	if uid == "me" {
		return who.User.ID, true
	}
	if !validID(uid) {
		invalidURLParam(w, r, "user_id")
		return "", false
	}
	if uid != who.User.ID && !who.User.SystemAdmin() {
		permissionError(w, r, who, "edit_other_users")
		return "", false
	}
	return uid, true
}

// mmUser renders u with Mattermost's field names (model.User, sanitised
// as the server sends a user their own record).
func mmUser(u *identity.User) map[string]any {
	m := mmProfile(u)
	m["notify_props"] = map[string]string{
		"channel": "true", "comments": "never", "desktop": "mention", "desktop_sound": "true",
		"email": "true", "first_name": "false", "mention_keys": "", "push": "mention", "push_status": "away",
	}
	m["last_password_update"] = seededAt
	return m
}

// mmProfile renders u as Mattermost shows a user to others
// (User.SanitizeProfile: no notify_props, no password update time; email
// and full name stay, as with Mattermost's default privacy settings).
func mmProfile(u *identity.User) map[string]any {
	return map[string]any{
		"id": u.ID, "create_at": seededAt, "update_at": seededAt, "delete_at": 0,
		"username": u.Username, "auth_data": "", "auth_service": "", "email": u.Email,
		"nickname": "", "first_name": u.FirstName, "last_name": u.LastName, "position": "",
		"roles": u.Roles, "locale": "en",
		"timezone":              map[string]string{"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"},
		"disable_welcome_email": false,
	}
}
