package sandbox

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// serveChannelMember is GET /channels/{channel_id}/members/{user_id}
// ("me" for the caller), which Mattermost's webapp and the embed frame ask
// when they open a channel. As Mattermost: read_channel on the channel,
// 404 app.channel.get_member.missing.app_error when the user is not in it.
func (s *Sandbox) serveChannelMember(w http.ResponseWriter, r *http.Request) {
	ch, ok := s.readableChannel(w, r)
	if !ok {
		return
	}
	who, _ := identityFrom(r)
	uid := chi.URLParam(r, "user_id")
	if uid == "me" {
		uid = who.User.ID
	}
	if !validID(uid) {
		invalidURLParam(w, r, "user_id")
		return
	}
	if !s.isChannelMember(uid, ch) {
		writeMMError(w, r, http.StatusNotFound, "app.channel.get_member.missing.app_error",
			"No channel member found for that user ID and channel ID.", "")
		return
	}
	writeJSON(w, http.StatusOK, s.mmChannelMember(ch, uid))
}

// channelView is model.ChannelView, the body of POST
// /channels/members/{user_id}/view.
type channelView struct {
	ChannelID     string `json:"channel_id"`
	PrevChannelID string `json:"prev_channel_id"`
}

// serveViewChannel is POST /channels/members/{user_id}/view: Mattermost's
// webapp sends it on every channel switch (mmtoolkit's proxy learns the
// team a session shows from it in front of a real Mattermost). The sandbox
// keeps no read state, so it answers as Mattermost does without storing
// anything: {"status":"OK","last_viewed_at_times":{channel: now}}.
func (s *Sandbox) serveViewChannel(w http.ResponseWriter, r *http.Request) {
	who, _ := identityFrom(r)
	if _, ok := userParam(w, r, who); !ok {
		return
	}
	var v channelView
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&v); err != nil {
		writeMMError(w, r, http.StatusBadRequest, "api.context.invalid_body_param.app_error",
			"Invalid or missing view in request body.", err.Error())
		return
	}
	times := map[string]int64{}
	now := time.Now().UnixMilli()
	for _, id := range []string{v.ChannelID, v.PrevChannelID} {
		if id == "" {
			continue
		}
		if !validID(id) {
			writeMMError(w, r, http.StatusBadRequest, "api.context.invalid_body_param.app_error",
				"Invalid or missing channel_id in request body.", "")
			return
		}
		ch, ok := s.channels[id]
		if !ok || !s.canReadChannel(who, ch) {
			permissionError(w, r, who, "read_channel")
			return
		}
		times[id] = now
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "OK", "last_viewed_at_times": times})
}
