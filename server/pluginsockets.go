package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
)

// pluginSockets keeps Mattermost's own webapp, fronted by mmtoolkit, in
// step with the team it shows: it watches the websockets the proxy relays
// (apiv4proxy.SocketObserver) and, when a session's team changes or an
// admin changes a plugin for the team a session shows, adds to that
// session's sockets the events Mattermost's webapp acts on:
// plugin_disabled for mmtoolkit plugins the session no longer gets,
// plugin_enabled (with the client manifest GET /api/v4/plugins/webapp
// serves, teamClientManifests) for the ones it now gets or whose version
// changed. The webapp loads the bundle on plugin_enabled (a new
// bundle_path replaces the old one) and removes the plugin on
// plugin_disabled, both idempotent; its sequence numbers are the relay's
// business (apiv4proxy.Socket.Inject).
//
// One goroutine (run) does the work; the relay and the hub only mark
// sockets dirty and wake it, never wait for it.
type pluginSockets struct {
	s   *Server
	log *slog.Logger

	mu    sync.Mutex
	socks map[*apiv4proxy.Socket]*socketView
	// byToken indexes socks by session: a team switch refreshes a
	// session's sockets without looking at everyone's.
	byToken map[string]map[*apiv4proxy.Socket]bool
	dirty   map[*apiv4proxy.Socket]bool
	// upIDs are the ids of Mattermost's own plugins as its plugin events
	// left them, used when no merged list has read them since.
	upIDs map[string]bool
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{}
	// ctx ends a refresh in progress when the server closes.
	ctx    context.Context
	cancel context.CancelFunc
}

// socketView is what one socket's webapp was last told of mmtoolkit's
// plugins. Only run touches it.
type socketView struct {
	token string
	team  string
	user  string // the session's user, known after the first refresh
	// plugins: id -> the client manifest sent. Before the first refresh
	// it is not known what the page loaded (it asked before the socket
	// opened, maybe for another team): the first refresh sends the whole
	// state, disabling every other mmtoolkit plugin of the user's teams.
	plugins map[string][]byte
	opened  bool // the first refresh was done
	// stale are ids Mattermost's own events touched since the last
	// refresh: the webapp may hold Mattermost's entry, or none.
	stale map[string]bool
	// kept are ids whose Mattermost event RewriteEvent replaced with the
	// team's copy: the webapp holds what plugins says, nothing to resend.
	kept map[string]bool
}

func newPluginSockets(s *Server) *pluginSockets {
	ps := &pluginSockets{s: s, log: s.log, socks: map[*apiv4proxy.Socket]*socketView{},
		byToken: map[string]map[*apiv4proxy.Socket]bool{},
		dirty:   map[*apiv4proxy.Socket]bool{}, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	ps.ctx, ps.cancel = context.WithCancel(context.Background())
	go ps.run()
	return ps
}

func (ps *pluginSockets) close() {
	ps.cancel()
	close(ps.stop)
	<-ps.done
}

// markLocked marks sockets for a refresh; the caller holds mu.
func (ps *pluginSockets) markLocked(socks ...*apiv4proxy.Socket) {
	for _, s := range socks {
		if _, ok := ps.socks[s]; ok {
			ps.dirty[s] = true
		}
	}
	select {
	case ps.wake <- struct{}{}:
	default:
	}
}

// SocketOpened implements apiv4proxy.SocketObserver.
func (ps *pluginSockets) SocketOpened(s *apiv4proxy.Socket) {
	ps.mu.Lock()
	ps.socks[s] = &socketView{token: s.Token()}
	if ps.byToken[s.Token()] == nil {
		ps.byToken[s.Token()] = map[*apiv4proxy.Socket]bool{}
	}
	ps.byToken[s.Token()][s] = true
	ps.markLocked(s)
	ps.mu.Unlock()
}

// SocketClosed implements apiv4proxy.SocketObserver.
func (ps *pluginSockets) SocketClosed(s *apiv4proxy.Socket) {
	ps.mu.Lock()
	delete(ps.socks, s)
	delete(ps.dirty, s)
	if set := ps.byToken[s.Token()]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(ps.byToken, s.Token())
		}
	}
	ps.mu.Unlock()
}

// SocketAction implements apiv4proxy.SocketObserver: the webapp's
// presence action names the team it now shows.
func (ps *pluginSockets) SocketAction(s *apiv4proxy.Socket, action string, data json.RawMessage) {
	if action != "presence" {
		return
	}
	var d struct {
		TeamID string `json:"team_id"`
	}
	if json.Unmarshal(data, &d) != nil || d.TeamID == "" || !isMattermostID(d.TeamID) {
		return
	}
	ps.s.teamShown(s.Token(), d.TeamID)
}

// RewriteEvent implements apiv4proxy.SocketRewriter: with
// --plugin-conflict=mmtoolkit, one of Mattermost's plugin events for an
// id the socket's webapp holds as the team's copy becomes that copy's
// plugin_enabled, with Mattermost's seq (the relay renumbers it). The
// webapp's loadPlugin does nothing for a bundle_path it already loaded.
// Passed on, Mattermost's plugin_enabled would start loading its bundle
// and the team's copy sent after it a second one: the webapp does not
// stop the first script, and the bundle that runs last registers last
// (often Mattermost's, fetched through the proxy); a plugin_disabled
// would remove the plugin the team keeps until the copy came back.
func (ps *pluginSockets) RewriteEvent(s *apiv4proxy.Socket, event string, msg []byte) []byte {
	if ps.s.cfg.PluginConflict != ConflictMmtoolkit {
		return nil
	}
	var ev struct {
		Data struct {
			Manifest struct {
				ID string `json:"id"`
			} `json:"manifest"`
		} `json:"data"`
		Seq *int64 `json:"seq"`
	}
	if json.Unmarshal(msg, &ev) != nil || ev.Data.Manifest.ID == "" || ev.Seq == nil {
		return nil
	}
	id := ev.Data.Manifest.ID
	ps.mu.Lock()
	v, ok := ps.socks[s]
	var m []byte
	if ok && v.opened && !v.stale[id] {
		m, ok = v.plugins[id]
	}
	if !ok || m == nil {
		ps.mu.Unlock()
		return nil
	}
	if v.kept == nil {
		v.kept = map[string]bool{}
	}
	v.kept[id] = true
	// Mattermost's plugins changed: known before the webapp sees the
	// team's copy and may act (no event follows it to wait for).
	ps.upstreamEventLocked(event, id)
	ps.mu.Unlock()
	out := pluginEvent(eventPluginEnabled, m)
	out = append(out[:len(out)-1], `,"seq":`...)
	out = strconv.AppendInt(out, *ev.Seq, 10)
	return append(out, '}')
}

// SocketEvent implements apiv4proxy.SocketObserver: one of Mattermost's
// own plugin events went to the webapp. It may have loaded or removed a
// plugin mmtoolkit also serves, and it changes which entry the merged list
// keeps for that id: the socket's view of it is dropped and recomputed.
func (ps *pluginSockets) SocketEvent(s *apiv4proxy.Socket, event string, msg []byte) {
	var ev struct {
		Data struct {
			Manifest struct {
				ID string `json:"id"`
			} `json:"manifest"`
		} `json:"data"`
	}
	if json.Unmarshal(msg, &ev) != nil || ev.Data.Manifest.ID == "" {
		return
	}
	id := ev.Data.Manifest.ID
	ps.mu.Lock()
	ps.upstreamEventLocked(event, id)
	if v, ok := ps.socks[s]; ok && v.kept[id] {
		delete(v.kept, id) // RewriteEvent sent the team's copy instead
	} else if ok {
		if v.stale == nil {
			v.stale = map[string]bool{}
		}
		v.stale[id] = true
		ps.markLocked(s)
	}
	ps.mu.Unlock()
}

// upstreamEventLocked updates the ids of Mattermost's plugins after one
// of its plugin events, and drops the merged lists' cache (atomics: no
// lock taken), so that no refresh reads the old ids; the caller holds mu.
func (ps *pluginSockets) upstreamEventLocked(event, id string) {
	defer ps.s.upstreamPluginsChanged()
	ids := map[string]bool{}
	for k, v := range ps.upstreamIDsLocked() {
		ids[k] = v
	}
	if event == "plugin_enabled" {
		ids[id] = true
	} else {
		delete(ids, id)
	}
	ps.upIDs = ids
}

// upstreamIDsLocked are the ids of Mattermost's plugins: from the last
// merged list, else as Mattermost's events left them.
func (ps *pluginSockets) upstreamIDsLocked() map[string]bool {
	if p := ps.s.webappLists.ids.Load(); p != nil {
		return p.ids
	}
	return ps.upIDs
}

// sessionChanged refreshes the sockets of a session whose team changed.
func (ps *pluginSockets) sessionChanged(token string) {
	ps.mu.Lock()
	for s := range ps.byToken[token] {
		ps.markLocked(s)
	}
	ps.mu.Unlock()
}

// userChanged refreshes the sockets of user's sessions: their preview of
// a plugin started, changed or ended (preview.go).
func (ps *pluginSockets) userChanged(user string) {
	ps.mu.Lock()
	for s, v := range ps.socks {
		if v.user == user || !v.opened {
			ps.markLocked(s)
		}
	}
	ps.mu.Unlock()
}

// teamChanged refreshes the sockets that show team tid: a plugin was
// enabled, disabled, pinned or updated there.
func (ps *pluginSockets) teamChanged(tid string) {
	ps.mu.Lock()
	for s, v := range ps.socks {
		if v.team == tid || !v.opened {
			ps.markLocked(s)
		}
	}
	ps.mu.Unlock()
}

func (ps *pluginSockets) run() {
	defer close(ps.done)
	for {
		select {
		case <-ps.stop:
			return
		case <-ps.wake:
		}
		ps.mu.Lock()
		batch := make([]*apiv4proxy.Socket, 0, len(ps.dirty))
		for s := range ps.dirty {
			batch = append(batch, s)
		}
		clear(ps.dirty)
		ps.mu.Unlock()
		// One batch reads each team's plugins once, however many sockets
		// show it (an admin's toggle refreshes every socket on the team).
		teams := map[string]map[string][]byte{}
		for _, s := range batch {
			ps.refresh(s, teams)
		}
	}
}

// refreshTimeout bounds one socket's refresh (an identity check, the
// team's manifest, and in rare cases Mattermost's own plugin list).
const refreshTimeout = 10 * time.Second

// refresh sends one socket what changed since its view. teams holds the
// plugins of teams already read in this batch.
func (ps *pluginSockets) refresh(s *apiv4proxy.Socket, teams map[string]map[string][]byte) {
	ps.mu.Lock()
	v, ok := ps.socks[s]
	view := map[string][]byte{}
	var opened bool
	if ok {
		for id, m := range v.plugins {
			if !v.stale[id] {
				view[id] = m
			}
		}
		opened, v.stale = v.opened, nil
	}
	ps.mu.Unlock()
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ps.ctx, refreshTimeout)
	defer cancel()
	who, err := ps.s.identity.Authenticate(ctx, v.token)
	if err != nil {
		return // a refused token: Mattermost ends the socket itself
	}
	tid := ps.s.sessionTeam(v.token, who)
	if ps.s.sessionTeams.get(v.token) == tid {
		// The session said it (a presence action): the user's next
		// session starts there.
		ps.s.sessionTeams.setUser(who.User.ID, tid)
	}
	want, err := ps.wantedBy(ctx, who.User.ID, tid, teams)
	if err != nil {
		ps.log.Warn("plugin events: the team's plugins", "team", tid, "err", err)
		return
	}
	upIDs := ps.upstreamIDs(ctx, v.token)
	conflict := ps.s.cfg.PluginConflict
	if conflict == ConflictUpstream {
		for id := range want {
			if upIDs[id] {
				delete(want, id) // Mattermost's entry wins
			}
		}
	}
	if !opened {
		// What the page loaded is not known: any mmtoolkit plugin of the
		// user's teams may be loaded, and none is known to be.
		view = map[string][]byte{}
		for t := range who.Members {
			other, err := ps.wanted(ctx, t, teams)
			if err != nil {
				continue
			}
			for id, m := range other {
				view[id] = m
			}
		}
		for id := range want {
			delete(view, id) // sent again whatever it held
		}
	}
	var events [][]byte
	for _, id := range sortedKeys(view) {
		if _, keep := want[id]; keep {
			continue
		}
		if upIDs[id] {
			// Mattermost serves it too: the webapp must get Mattermost's
			// entry back (or keep it), not lose the plugin.
			if conflict == ConflictMmtoolkit {
				if m := ps.s.upstreamEntry(ctx, v.token, id); m != nil {
					events = append(events, pluginEvent(eventPluginEnabled, m))
				}
			}
			continue
		}
		events = append(events, pluginEvent(eventPluginDisabled, view[id]))
	}
	for _, id := range sortedKeys(want) {
		if old, ok := view[id]; !ok || !bytes.Equal(old, want[id]) {
			events = append(events, pluginEvent(eventPluginEnabled, want[id]))
		}
	}
	// The view first: once the events are queued the webapp may act on
	// them before Inject returns, and RewriteEvent must see what it holds.
	ps.mu.Lock()
	if v, ok := ps.socks[s]; ok {
		v.plugins, v.team, v.user, v.opened = want, tid, who.User.ID, true
	}
	ps.mu.Unlock()
	// One batch: a switch among many plugins is one queue slot. An error
	// means closed, or too slow and now closed: it reconnects and reloads.
	s.Inject(events...)
}

// wantedBy is what the merged list gives user of mmtoolkit's plugins for
// team tid: the team's (wanted), or, while user previews a plugin, their
// own list with the preview (compat.go), built for this socket alone.
func (ps *pluginSockets) wantedBy(ctx context.Context, user, tid string, teams map[string]map[string][]byte) (map[string][]byte, error) {
	pins := ps.s.previews.Of(user)
	if pins == nil {
		return ps.wanted(ctx, tid, teams)
	}
	list, err := ps.s.teamClientManifests(ctx, tid, pins)
	if err != nil {
		return nil, err
	}
	return clientManifestsByID(list)
}

// wanted is what the merged list gives of mmtoolkit's plugins for team
// tid: id -> the client manifest as JSON; a copy the caller may change.
func (ps *pluginSockets) wanted(ctx context.Context, tid string, teams map[string]map[string][]byte) (map[string][]byte, error) {
	if m, ok := teams[tid]; ok {
		return maps.Clone(m), nil
	}
	list, err := ps.s.teamClientManifests(ctx, tid, nil) // per team, shared by its sockets
	if err != nil {
		return nil, err
	}
	out, err := clientManifestsByID(list)
	if err != nil {
		return nil, err
	}
	teams[tid] = out
	return maps.Clone(out), nil
}

// clientManifestsByID is list as JSON, by plugin id.
func clientManifestsByID(list []mattermostClientManifest) (map[string][]byte, error) {
	out := make(map[string][]byte, len(list))
	for _, m := range list {
		b, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		out[m.ID] = b
	}
	return out, nil
}

// mattermostBroadcast is the broadcast of Mattermost's plugin events: to
// everyone (model.NewWebSocketEvent(..., "", "", "", nil, "")).
const mattermostBroadcast = `{"omit_users":null,"user_id":"","channel_id":"","team_id":"","connection_id":"","omit_connection_id":""}`

// pluginEvent is Mattermost's plugin_enabled or plugin_disabled, without
// its seq: {"event":...,"data":{"manifest":<client manifest>},"broadcast":...}.
func pluginEvent(event string, manifest []byte) []byte {
	b := make([]byte, 0, len(manifest)+len(mattermostBroadcast)+64)
	b = append(b, `{"event":"`...)
	b = append(b, event...)
	b = append(b, `","data":{"manifest":`...)
	b = append(b, manifest...)
	b = append(b, `},"broadcast":`...)
	b = append(b, mattermostBroadcast...)
	return append(b, '}')
}

// upstreamIDs are the ids of Mattermost's plugins for a refresh: as the
// last merged list read them; when none is known (nothing read since
// mmtoolkit started, or Mattermost's plugins changed since), asked of
// Mattermost with the session's token. Every webapp reconnects after a
// restart before it asks for its list, and a page may open its socket
// before its list answers: without Mattermost's ids, an id on both sides
// would be treated as mmtoolkit's alone (the team's copy sent past
// --plugin-conflict=upstream, Mattermost's plugin disabled on another
// team's). If Mattermost does not answer, its plugin events' ids.
func (ps *pluginSockets) upstreamIDs(ctx context.Context, token string) map[string]bool {
	if p := ps.s.webappLists.ids.Load(); p != nil {
		return p.ids
	}
	if entries, ok := ps.s.upstreamList(ctx, token); ok {
		ids := make(map[string]bool, len(entries))
		for id := range entries {
			ids[id] = true
		}
		ps.s.webappLists.ids.Store(&upstreamIDs{at: time.Now(), ids: ids})
		return ids
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.upIDs
}

// upstreamEntry is Mattermost's own client manifest of plugin id, asked
// with the session's token (GET /api/v4/plugins/webapp through the
// proxy); nil if Mattermost does not list it.
func (s *Server) upstreamEntry(ctx context.Context, token, id string) []byte {
	entries, _ := s.upstreamList(ctx, token)
	return entries[id]
}

// upstreamList is Mattermost's GET /api/v4/plugins/webapp asked with the
// session's token through the proxy: id -> entry; false if it did not
// answer a JSON list.
func (s *Server) upstreamList(ctx context.Context, token string) (map[string]json.RawMessage, bool) {
	if s.cfg.Upstream == nil {
		return nil, false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/api/v4/plugins/webapp", nil)
	if err != nil {
		return nil, false
	}
	req.Header.Set("Authorization", "Bearer "+token)
	a := &upstreamAnswer{header: http.Header{}}
	detachRoute(s.cfg.Upstream).ServeHTTP(a, req)
	var entries []json.RawMessage
	if a.status != http.StatusOK || json.Unmarshal(a.body, &entries) != nil {
		return nil, false
	}
	out := make(map[string]json.RawMessage, len(entries))
	for _, e := range entries {
		var head struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(e, &head) == nil && head.ID != "" {
			out[head.ID] = e
		}
	}
	return out, true
}

func sortedKeys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// isMattermostID: 26 characters of Mattermost's id alphabet.
func isMattermostID(s string) bool {
	if len(s) != 26 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// initPluginSockets watches the websockets of up when it is the proxy to
// a Mattermost (apiv4proxy.SocketSource).
func (s *Server) initPluginSockets(up http.Handler) {
	s.sessionTeams = newSessionTeams(0)
	src, ok := up.(apiv4proxy.SocketSource)
	if !ok {
		return
	}
	s.pluginSockets = newPluginSockets(s)
	s.hub.pluginChanged = s.pluginSockets.teamChanged
	s.socketSource = src
	src.Sockets().SetObserver(s.pluginSockets)
}

func (s *Server) closePluginSockets() {
	if s.pluginSockets == nil {
		return
	}
	s.socketSource.Sockets().SetObserver(nil)
	s.pluginSockets.close()
}
