package sandbox

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	bolt "go.etcd.io/bbolt"
)

// What the webapp reads into its store besides users, teams, channels and
// posts (mattermost-redux's entities.general.license, entities.roles,
// entities.preferences, entities.users.statuses): the client license, the
// roles the caller's memberships name, the caller's preferences, and
// who is online. Plugins check licenses and permissions with
// mattermost-redux's selectors against exactly these answers.

// bucketPreferences holds preferences: key user id + "\x00" + category +
// "\x00" + name, value the preference's value.
var bucketPreferences = []byte("preferences")

// maxPreferences bounds one PUT of preferences (Mattermost: 100).
const maxPreferences = 100

// serveClientLicense is GET /license/client?format=old: the sandbox is
// Team Edition, unlicensed, and answers as an unlicensed Mattermost does.
// Without format=old Mattermost answers 501 (the new format was never
// implemented).
func (s *Sandbox) serveClientLicense(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("format") != "old" {
		writeMMError(w, r, http.StatusNotImplemented, "api.license.client.old_format.app_error",
			"New format for the client license is not supported yet. Please specify format=old in the query string.", "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"IsLicensed": "false"})
}

// serveRolesByNames is POST /roles/names: the roles of the names asked
// that exist, unknown names left out, as Mattermost's GetRolesByNames.
func (s *Sandbox) serveRolesByNames(w http.ResponseWriter, r *http.Request) {
	var names []string
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&names); err != nil || len(names) == 0 {
		invalidBodyParam(w, r, "rolenames", "")
		return
	}
	out := []map[string]any{}
	seen := map[string]bool{}
	for _, n := range names {
		if perms, ok := defaultRoles[n]; ok && !seen[n] {
			seen[n] = true
			out = append(out, mmRole(n, perms))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// serveRoleByName is GET /roles/name/{role_name}.
func (s *Sandbox) serveRoleByName(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "role_name")
	perms, ok := defaultRoles[name]
	if !ok {
		writeMMError(w, r, http.StatusNotFound, "app.role.get_by_name.app_error", "Unable to get role.", "name="+name)
		return
	}
	writeJSON(w, http.StatusOK, mmRole(name, perms))
}

func mmRole(name string, perms []string) map[string]any {
	return map[string]any{
		"id": SeedID("role", name), "name": name, "display_name": "authentication.roles." + name + ".name",
		"description": "authentication.roles." + name + ".description", "create_at": seededAt, "update_at": seededAt,
		"delete_at": 0, "permissions": perms, "scheme_managed": true, "built_in": true,
	}
}

type preference struct {
	UserID   string `json:"user_id"`
	Category string `json:"category"`
	Name     string `json:"name"`
	Value    string `json:"value"`
}

func prefKey(userID, category, name string) []byte {
	return []byte(userID + "\x00" + category + "\x00" + name)
}

// serveMyPreferences is GET /users/me/preferences (and /users/{id}/preferences
// for oneself): every preference the user saved, sorted by category and name.
func (s *Sandbox) serveMyPreferences(w http.ResponseWriter, r *http.Request) {
	who, _ := identityFrom(r)
	uid := chi.URLParam(r, "user_id")
	if uid == "" || uid == "me" {
		uid = who.User.ID
	}
	if uid != who.User.ID && !who.User.SystemAdmin() {
		permissionError(w, r, who, "edit_other_users")
		return
	}
	out := []preference{}
	prefix := []byte(uid + "\x00")
	s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPreferences)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, v = c.Next() {
			parts := strings.SplitN(string(k), "\x00", 3)
			out = append(out, preference{UserID: uid, Category: parts[1], Name: parts[2], Value: string(v)})
		}
		return nil
	})
	writeJSON(w, http.StatusOK, out)
}

// serveSavePreferences is PUT /users/{user_id}/preferences: saves the
// list (each for that user), then tells the user's connections with
// preferences_changed, as Mattermost.
func (s *Sandbox) serveSavePreferences(w http.ResponseWriter, r *http.Request) {
	who, _ := identityFrom(r)
	uid := chi.URLParam(r, "user_id")
	if uid == "me" {
		uid = who.User.ID
	}
	if !validID(uid) {
		invalidURLParam(w, r, "user_id")
		return
	}
	if uid != who.User.ID && !who.User.SystemAdmin() {
		permissionError(w, r, who, "edit_other_users")
		return
	}
	var prefs []preference
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&prefs); err != nil {
		invalidBodyParam(w, r, "preferences", err.Error())
		return
	}
	if len(prefs) == 0 || len(prefs) > maxPreferences {
		invalidBodyParam(w, r, "preferences", "")
		return
	}
	for _, p := range prefs {
		// Mattermost's Preference.IsValid: its own user, a category and
		// name of at most 32 and 32 characters, a value of at most 2000.
		if p.UserID != uid || p.Category == "" || len(p.Category) > 32 || len(p.Name) > 32 || len(p.Value) > 2000 ||
			strings.ContainsRune(p.Category+p.Name, 0) {
			writeMMError(w, r, http.StatusBadRequest, "model.preference.is_valid.id.app_error",
				"Invalid user id.", "")
			return
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketPreferences)
		if err != nil {
			return err
		}
		for _, p := range prefs {
			if err := b.Put(prefKey(uid, p.Category, p.Name), []byte(p.Value)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		writeMMError(w, r, http.StatusInternalServerError, "app.preference.save.updating.app_error",
			"We encountered an error while updating preferences.", err.Error())
		return
	}
	raw, _ := json.Marshal(prefs)
	s.publishEvent("preferences_changed", map[string]any{"preferences": string(raw)},
		wsBroadcast{UserID: uid}, map[string]bool{uid: true})
	writeJSON(w, http.StatusOK, map[string]string{"status": "OK"})
}

// presence counts each user's authenticated websocket connections: a
// user with one is online, else offline (the sandbox has no away, no do
// not disturb and no manual status).
type presence struct {
	mu       sync.Mutex
	conns    map[string]int
	activity map[string]int64 // last connect or disconnect, ms
}

// userConnected and userDisconnected track a connection; the first and
// the last publish status_change.
func (s *Sandbox) userConnected(userID string) {
	s.presence.mu.Lock()
	if s.presence.conns == nil {
		s.presence.conns, s.presence.activity = map[string]int{}, map[string]int64{}
	}
	s.presence.conns[userID]++
	first := s.presence.conns[userID] == 1
	s.presence.activity[userID] = time.Now().UnixMilli()
	s.presence.mu.Unlock()
	if first {
		s.publishStatus(userID, "online")
	}
}

func (s *Sandbox) userDisconnected(userID string) {
	s.presence.mu.Lock()
	s.presence.conns[userID]--
	last := s.presence.conns[userID] <= 0
	if last {
		delete(s.presence.conns, userID)
	}
	s.presence.activity[userID] = time.Now().UnixMilli()
	s.presence.mu.Unlock()
	if last {
		s.publishStatus(userID, "offline")
	}
}

// publishStatus sends status_change to the users who share a team with
// userID. (Mattermost sends it to the user's own connections and lets
// other clients poll /users/status/ids; the sandbox tells team mates too,
// so a page sees presence without polling.)
func (s *Sandbox) publishStatus(userID, status string) {
	if s.hub.cfg.quiet {
		return
	}
	to := map[string]bool{userID: true}
	for teamID := range s.members[userID] {
		for _, id := range s.teamUsers[teamID] {
			to[id] = true
		}
	}
	s.publishEvent("status_change", map[string]any{"status": status, "user_id": userID},
		wsBroadcast{UserID: userID}, to)
}

func (s *Sandbox) status(userID string) map[string]any {
	s.presence.mu.Lock()
	defer s.presence.mu.Unlock()
	st := "offline"
	if s.presence.conns[userID] > 0 {
		st = "online"
	}
	return map[string]any{"user_id": userID, "status": st, "manual": false,
		"last_activity_at": s.presence.activity[userID], "dnd_end_time": 0}
}

// serveStatusesByIDs is POST /users/status/ids: the statuses of the known
// ids, as Mattermost's (unknown ids answer offline there too, since
// Mattermost keeps no status for them; the sandbox leaves them out).
func (s *Sandbox) serveStatusesByIDs(w http.ResponseWriter, r *http.Request) {
	var ids []string
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&ids); err != nil || len(ids) == 0 || len(ids) > maxUserIDs {
		invalidBodyParam(w, r, "user_ids", "")
		return
	}
	out := []map[string]any{}
	seen := map[string]bool{}
	for _, id := range ids {
		if _, ok := s.users[id]; ok && !seen[id] {
			seen[id] = true
			out = append(out, s.status(id))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// serveUserStatus is GET /users/{user_id}/status.
func (s *Sandbox) serveUserStatus(w http.ResponseWriter, r *http.Request) {
	uid := chi.URLParam(r, "user_id")
	if uid == "me" {
		who, _ := identityFrom(r)
		uid = who.User.ID
	}
	if _, ok := s.users[uid]; !ok {
		writeMMError(w, r, http.StatusNotFound, "app.user.missing_account.const", "Unable to find the user.", "resource: User id: "+uid)
		return
	}
	writeJSON(w, http.StatusOK, s.status(uid))
}

// defaultRoles are Mattermost's built-in roles with the permissions of
// its default permission scheme (model/role.go, MakeDefaultRoles), for the
// roles the sandbox's users hold and their guest counterparts. The lists
// name the permissions the webapp and plugins check; Mattermost's own
// lists are longer (system console sub-permissions, boards, playbooks).
var defaultRoles = func() map[string][]string {
	channelGuest := []string{"read_channel", "read_channel_content", "add_reaction", "remove_reaction", "upload_file",
		"edit_post", "create_post", "use_channel_mentions"}
	channelUser := append(append([]string{}, channelGuest...), "manage_public_channel_members", "get_public_link",
		"use_slash_commands", "manage_private_channel_members", "delete_post", "read_public_channel_groups",
		"read_private_channel_groups", "manage_public_channel_properties", "delete_public_channel",
		"manage_private_channel_properties", "delete_private_channel", "use_group_mentions",
		"add_bookmark_public_channel", "edit_bookmark_public_channel", "delete_bookmark_public_channel",
		"order_bookmark_public_channel", "add_bookmark_private_channel", "edit_bookmark_private_channel",
		"delete_bookmark_private_channel", "order_bookmark_private_channel")
	channelAdmin := []string{"manage_channel_roles", "use_group_mentions", "manage_public_channel_banner", "manage_private_channel_banner"}
	teamGuest := []string{"view_team"}
	teamUser := []string{"list_team_channels", "join_public_channels", "read_public_channel", "view_team",
		"create_public_channel", "create_private_channel", "invite_user", "add_user_to_team",
		"playbook_public_create", "playbook_private_create", "run_create"}
	teamAdmin := []string{"edit_others_posts", "remove_user_from_team", "manage_team", "import_team",
		"manage_team_roles", "manage_channel_roles", "manage_others_incoming_webhooks",
		"manage_others_outgoing_webhooks", "manage_slash_commands", "manage_others_slash_commands",
		"manage_incoming_webhooks", "manage_outgoing_webhooks", "convert_public_channel_to_private",
		"convert_private_channel_to_public", "delete_post", "delete_others_posts",
		"manage_public_channel_members", "manage_private_channel_members", "playbook_public_manage_roles",
		"playbook_private_manage_roles"}
	systemGuest := []string{"create_direct_channel", "create_group_channel"}
	systemUser := []string{"list_public_teams", "join_public_teams", "create_direct_channel", "create_group_channel",
		"view_members", "create_team", "create_emojis", "delete_emojis", "create_custom_group", "edit_custom_group",
		"delete_custom_group", "restore_custom_group", "manage_custom_group_members"}
	set := map[string]bool{}
	for _, l := range [][]string{channelUser, channelAdmin, teamUser, teamAdmin, systemUser} {
		for _, p := range l {
			set[p] = true
		}
	}
	for _, p := range []string{"manage_system", "manage_roles", "manage_jobs", "manage_oauth", "manage_plugins",
		"edit_other_users", "list_private_teams", "join_private_teams", "manage_system_wide_oauth",
		"read_license_information", "manage_license_information", "get_analytics", "get_logs",
		"sysconsole_read_plugins", "sysconsole_write_plugins", "manage_bots", "manage_others_bots",
		"create_post_public", "create_post_ephemeral", "read_other_users_teams", "edit_brand",
		"sysconsole_read_about_edition_and_license", "sysconsole_read_reporting_site_statistics"} {
		set[p] = true
	}
	systemAdmin := make([]string, 0, len(set))
	for p := range set {
		systemAdmin = append(systemAdmin, p)
	}
	sort.Strings(systemAdmin)
	return map[string][]string{
		"channel_guest": channelGuest, "channel_user": channelUser, "channel_admin": channelAdmin,
		"team_guest": teamGuest, "team_user": teamUser, "team_admin": teamAdmin,
		"system_guest": systemGuest, "system_user": systemUser, "system_admin": systemAdmin,
	}
}()
