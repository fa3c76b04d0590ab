package sandbox

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// serveUserChannels is GET /users/{user_id}/teams/{team_id}/channels: the
// user's channels in the team, by display name. As Mattermost: 403 for a
// team the caller cannot view, 404 when the user has no channels there.
func (s *Sandbox) serveUserChannels(w http.ResponseWriter, r *http.Request) {
	who, _ := identityFrom(r)
	uid, ok := userParam(w, r, who)
	if !ok {
		return
	}
	tid, ok := idParam(w, r, "team_id")
	if !ok {
		return
	}
	if !who.CanAccessTeam(tid) {
		permissionError(w, r, who, "view_team")
		return
	}
	if _, member := s.members[uid][tid]; !member {
		writeMMError(w, r, http.StatusNotFound, "app.channel.get_channels.not_found.app_error",
			"No channels were found.", "resource: Channel id: userId="+uid)
		return
	}
	out := []mmChannel{}
	for _, ch := range s.teamChannels[tid] {
		out = append(out, s.mmChannel(ch))
	}
	writeJSON(w, http.StatusOK, out)
}

// serveUserChannelMembers is GET /users/{user_id}/teams/{team_id}/channels/members:
// the user's memberships of the team's channels, which the webapp loads
// with the channels.
func (s *Sandbox) serveUserChannelMembers(w http.ResponseWriter, r *http.Request) {
	who, _ := identityFrom(r)
	tid, ok := idParam(w, r, "team_id")
	if !ok {
		return
	}
	if !who.CanAccessTeam(tid) {
		permissionError(w, r, who, "view_team")
		return
	}
	uid, ok := userParam(w, r, who)
	if !ok {
		return
	}
	out := []mmChannelMember{}
	if _, member := s.members[uid][tid]; member {
		for _, ch := range s.teamChannels[tid] {
			out = append(out, s.mmChannelMember(ch, uid))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// serveChannelByName is GET /teams/{team_id}/channels/name/{channel_name}.
func (s *Sandbox) serveChannelByName(w http.ResponseWriter, r *http.Request) {
	tid, name := chi.URLParam(r, "team_id"), chi.URLParam(r, "channel_name")
	if !validID(tid) {
		invalidURLParam(w, r, "team_id")
		return
	}
	if !validChannelName(name) {
		invalidURLParam(w, r, "channel_name")
		return
	}
	s.writeChannelByName(w, r, tid, name)
}

// serveChannelByTeamName is GET /teams/name/{team_name}/channels/name/{channel_name}.
func (s *Sandbox) serveChannelByTeamName(w http.ResponseWriter, r *http.Request) {
	team, name := strings.ToLower(chi.URLParam(r, "team_name")), chi.URLParam(r, "channel_name")
	if !validChannelName(name) {
		invalidURLParam(w, r, "channel_name")
		return
	}
	t, ok := s.byName[team]
	if !ok {
		writeMMError(w, r, http.StatusNotFound, "app.team.get_by_name.missing.app_error",
			"Unable to find the existing team.", "resource: Team id: name="+team)
		return
	}
	s.writeChannelByName(w, r, t.ID, name)
}

func (s *Sandbox) writeChannelByName(w http.ResponseWriter, r *http.Request, teamID, name string) {
	who, _ := identityFrom(r)
	ch, ok := s.channelByName[teamID+"/"+name]
	if !ok {
		writeMMError(w, r, http.StatusNotFound, "app.channel.get_by_name.missing.app_error",
			"Channel does not exist.", "resource: Channel id: teamId="+teamID+", name="+name)
		return
	}
	if !s.canReadChannel(who, ch) {
		permissionError(w, r, who, "read_public_channel")
		return
	}
	writeJSON(w, http.StatusOK, s.mmChannel(ch))
}

// serveChannel is GET /channels/{channel_id}: 404 for an unknown channel,
// then 403 for one the caller cannot read, in Mattermost's order.
func (s *Sandbox) serveChannel(w http.ResponseWriter, r *http.Request) {
	who, _ := identityFrom(r)
	id, ok := idParam(w, r, "channel_id")
	if !ok {
		return
	}
	ch, ok := s.channels[id]
	if !ok {
		writeMMError(w, r, http.StatusNotFound, "app.channel.get.existing.app_error",
			"Unable to find the existing channel.", "resource: Channel id: "+id)
		return
	}
	if !s.canReadChannel(who, ch) {
		permissionError(w, r, who, "read_public_channel")
		return
	}
	writeJSON(w, http.StatusOK, s.mmChannel(ch))
}

// readableChannel resolves {channel_id} for the endpoints that, as in
// Mattermost, check read_channel first: unknown and unreadable channels
// are both 403.
func (s *Sandbox) readableChannel(w http.ResponseWriter, r *http.Request) (*channel, bool) {
	who, _ := identityFrom(r)
	id := chi.URLParam(r, "channel_id")
	if !validID(id) {
		invalidURLParam(w, r, "channel_id")
		return nil, false
	}
	ch, ok := s.channels[id]
	if !ok || !s.canReadChannel(who, ch) {
		permissionError(w, r, who, "read_channel")
		return nil, false
	}
	return ch, true
}

// serveChannelMembers is GET /channels/{channel_id}/members?page=&per_page=,
// members ordered by username.
func (s *Sandbox) serveChannelMembers(w http.ResponseWriter, r *http.Request) {
	ch, ok := s.readableChannel(w, r)
	if !ok {
		return
	}
	page, perPage := paging(r)
	ids := s.teamUsers[ch.TeamID]
	lo := min(page, len(ids)) * perPage
	lo = min(lo, len(ids))
	hi := min(lo+perPage, len(ids))
	out := []mmChannelMember{}
	for _, uid := range ids[lo:hi] {
		out = append(out, s.mmChannelMember(ch, uid))
	}
	writeJSON(w, http.StatusOK, out)
}

// validChannelName is model.IsValidChannelIdentifier: 2 to 64 of
// [a-z0-9_-] (Mattermost's URL names are lower case).
func validChannelName(name string) bool {
	if len(name) < 2 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
