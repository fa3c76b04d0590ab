package server

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"
)

// Mattermost's webapp never says which team it shows in the requests
// mmtoolkit answers (GET /api/v4/plugins/webapp names none), but it says
// so on the way to Mattermost, through the proxy (docs/proxy.md, "Which
// team a session shows"):
//
//   - the websocket action "presence" with data.team_id: the team sidebar
//     sends it (WebSocketClient.updateActiveTeam) whenever the current
//     team changes, and the webapp again after every reconnect;
//   - POST /api/v4/channels/members/me/view {channel_id}: sent whenever a
//     channel is viewed (markChannelAsRead -> Client4.viewMyChannel); the
//     channel's team is the team shown (a direct or group message has
//     none and says nothing).
//
// sessionTeams remembers, per session, the last team those said, and per
// user the last team any of their sessions said: a new session (the
// first page after logging in again) starts on that team, as
// Mattermost's webapp reopens the team it showed last in that browser.

// sessionKey is a session's token hashed: the tracker holds no tokens.
type sessionKey [sha256.Size]byte

func keyOf(token string) sessionKey { return sha256.Sum256([]byte(token)) }

// DefaultMaxSessionTeams bounds the sessions whose team is remembered
// (about 150 bytes each); past it the least recently used is forgotten,
// and that session is served its first team until it says again.
const DefaultMaxSessionTeams = 10_000

// sessionTeams is a bounded LRU map from session to team id.
type sessionTeams struct {
	mu  sync.Mutex
	m   map[sessionKey]*list.Element // values *sessionTeam
	lru list.List
	max int
}

type sessionTeam struct {
	key  sessionKey
	team string
}

func newSessionTeams(max int) *sessionTeams {
	if max <= 0 {
		max = DefaultMaxSessionTeams
	}
	return &sessionTeams{m: map[sessionKey]*list.Element{}, max: max}
}

// set records that the session shows team; it reports whether that
// changed the session's team.
func (t *sessionTeams) set(token, team string) bool {
	if token == "" || team == "" {
		return false
	}
	k := keyOf(token)
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.m[k]; ok {
		t.lru.MoveToFront(e)
		st := e.Value.(*sessionTeam)
		changed := st.team != team
		st.team = team
		return changed
	}
	t.m[k] = t.lru.PushFront(&sessionTeam{key: k, team: team})
	for len(t.m) > t.max {
		e := t.lru.Back()
		t.lru.Remove(e)
		delete(t.m, e.Value.(*sessionTeam).key)
	}
	return true
}

// get is the team the session last showed, "" if unknown.
func (t *sessionTeams) get(token string) string {
	if token == "" {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.m[keyOf(token)]; ok {
		return e.Value.(*sessionTeam).team
	}
	return ""
}

// forget drops a session (it logged out).
func (t *sessionTeams) forget(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := keyOf(token)
	if e, ok := t.m[k]; ok {
		t.lru.Remove(e)
		delete(t.m, k)
	}
}

// userKey is the key a user's last team is kept under, in the same map.
func userKey(userID string) string { return "\x00user\x00" + userID }

// setUser records the team a user's session last said.
func (t *sessionTeams) setUser(userID, team string) {
	if userID != "" {
		t.set(userKey(userID), team)
	}
}

// getUser is the team a user's sessions last said, "" if unknown.
func (t *sessionTeams) getUser(userID string) string {
	if userID == "" {
		return ""
	}
	return t.get(userKey(userID))
}

func (t *sessionTeams) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// sessionTeam is the team a session shows when a request does not name
// one: the one it last said, else the one the user's sessions last said
// (a session that has said nothing yet), if the user is still a member;
// else the user's first team (firstTeam), "" for a user in no team.
func (s *Server) sessionTeam(token string, who *identity.Identity) string {
	if tid := s.sessionTeams.get(token); tid != "" && who.CanAccessTeam(tid) {
		return tid
	}
	if tid := s.sessionTeams.getUser(who.User.ID); tid != "" && who.CanAccessTeam(tid) {
		return tid
	}
	return firstTeam(who)
}

// teamShown records that a session shows team tid and, when that is news,
// brings the session's relayed websockets up to date.
func (s *Server) teamShown(token, tid string) {
	if s.sessionTeams.set(token, tid) && s.pluginSockets != nil {
		s.pluginSockets.sessionChanged(token)
	}
}

// channelTeamLookup is what the identity provider offers when it can say
// which team a channel belongs to (apiv4proxy.Upstream asks Mattermost).
type channelTeamLookup interface {
	ChannelTeam(ctx context.Context, who *identity.Identity, channelID string) (string, error)
}

// maxViewBody bounds the body of POST /api/v4/channels/members/me/view
// read for its channel_id ({"channel_id":...,"prev_channel_id":...,
// "collapsed_threads_supported":true}); a larger body is passed on
// unread.
const maxViewBody = 4 << 10

// lookupSlots bounds the channel lookups running at once; a view seen
// while all are busy teaches nothing (the next one will).
var lookupSlots = make(chan struct{}, 16)

// serveViewChannel is POST /api/v4/channels/members/me/view, passed to
// Mattermost as any /api/v4 call. When Mattermost accepts it, the
// channel's team becomes the session's team (teamShown), looked up after
// the answer is written so the view is not delayed.
func (s *Server) serveViewChannel(w http.ResponseWriter, r *http.Request) {
	var channelID string
	if r.Body != nil && r.ContentLength >= 0 && r.ContentLength <= maxViewBody {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxViewBody+1))
		if err == nil && len(body) <= maxViewBody {
			var v struct {
				ChannelID string `json:"channel_id"`
			}
			if json.Unmarshal(body, &v) == nil {
				channelID = v.ChannelID
			}
		}
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	}
	sw := &statusWriter{ResponseWriter: w}
	detachRoute(s.cfg.Upstream).ServeHTTP(sw, r)
	token := apiv4proxy.TokenFromRequest(r)
	lookup, ok := s.identity.(channelTeamLookup)
	if !ok || channelID == "" || token == "" || (sw.status != 0 && (sw.status < 200 || sw.status > 299)) {
		return
	}
	select {
	case lookupSlots <- struct{}{}:
	default:
		return
	}
	go func() {
		defer func() { <-lookupSlots }()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		who, err := s.identity.Authenticate(ctx, token)
		if err != nil {
			return
		}
		tid, err := lookup.ChannelTeam(ctx, who, channelID)
		if err != nil || tid == "" || !who.CanAccessTeam(tid) {
			return
		}
		s.sessionTeams.setUser(who.User.ID, tid)
		s.teamShown(token, tid)
	}()
}
