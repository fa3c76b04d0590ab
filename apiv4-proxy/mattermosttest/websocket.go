package mattermosttest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The stand-in's GET /api/v4/websocket, as Mattermost's api4/websocket.go
// and app/platform/web_conn.go serve it:
//
//   - a session from the upgrade request (cookie, Authorization,
//     access_token), or from a first {"seq":1,"action":
//     "authentication_challenge","data":{"token":...}} answered
//     {"status":"OK","seq_reply":1};
//   - a fresh connection gets a new connection_id and "hello" numbered 0;
//     every event after it is numbered 1, 2, ... in a top-level "seq"
//     written last; replies to actions carry "seq_reply" and no "seq";
//   - the reliable websocket: the server keeps each connection's last 128
//     events (its dead queue) after it drops. A client reconnecting with
//     ?connection_id=<id>&sequence_number=<n> (n: the next event it
//     expects) gets events n... again when n is in the dead queue, nothing
//     when n is the next one (lossless), and otherwise a new connection_id
//     and a hello numbered 0; an unknown connection_id is a fresh
//     connection;
//   - actions: "ping" answered {"status":"OK","seq_reply":n,"data":
//     {"text":"pong",...}}, "presence" (the webapp's updateActiveTeam and
//     updateActiveChannel) recorded and answered OK;
//   - plugin_enabled / plugin_disabled broadcast to every connection with
//     data {manifest: ClientManifest} when a plugin changes (OnPluginChange).
//
// Events are written as Mattermost writes them: hello and replies through
// json.Encoder (compact, a trailing newline), broadcasts in the
// precomputed form (`{"event": "posted", "data": {...}, "broadcast":
// {...}, "seq": 3}`, with spaces).

// deadQueueSize is Mattermost's deadQueueSize.
const deadQueueSize = 128

// Broadcast says who gets an event, Mattermost's model.WebsocketBroadcast:
// empty fields do not filter.
type Broadcast struct {
	OmitUsers        map[string]bool `json:"omit_users"`
	UserID           string          `json:"user_id"`
	ChannelID        string          `json:"channel_id"`
	TeamID           string          `json:"team_id"`
	ConnectionID     string          `json:"connection_id"`
	OmitConnectionID string          `json:"omit_connection_id"`
}

// Presence is what a connection's client said it shows, through the
// "presence" action.
type Presence struct {
	TeamID, ChannelID string
}

type wsState struct {
	mu     sync.Mutex
	conns  map[string]*wsConn // by connection id, live or recently dropped
	order  []string           // connection ids, oldest first, to bound conns
	hooked bool
}

// wsConn is one connection id's state: it outlives a dropped socket, as
// Mattermost's WebConn does, so that a reconnect can resume it.
type wsConn struct {
	id       string
	userID   string
	teams    func() map[string]bool
	seq      int64 // the next event's number
	dead     [][]byte
	deadSeq  []int64
	sock     *websocket.Conn // nil while dropped
	send     chan []byte
	presence Presence
	closed   chan struct{}
}

// maxKeptConns bounds the connection ids the stand-in remembers.
const maxKeptConns = 1000

func (m *Mattermost) ws() *wsState {
	return m.Extension((*wsState)(nil), func() any {
		st := &wsState{conns: map[string]*wsConn{}}
		m.HandleFunc("GET /api/v4/websocket", func(w http.ResponseWriter, r *http.Request) { m.serveWebsocket(st, w, r) })
		return st
	}).(*wsState)
}

// EnableWebsocket serves GET /api/v4/websocket and broadcasts
// plugin_enabled / plugin_disabled when plugins change. Call it before the
// test connects. It also serves POST /api/v4/channels/members/me/view
// (viewing a channel, which the webapp sends on every channel switch),
// answered as Mattermost does.
func (m *Mattermost) EnableWebsocket() {
	st := m.ws()
	st.mu.Lock()
	hook := !st.hooked
	st.hooked = true
	st.mu.Unlock()
	if hook {
		m.HandleFunc("POST /api/v4/channels/members/me/view", m.Session(m.serveViewChannel))
		m.OnPluginChange(func(ev PluginEvent) {
			m.BroadcastEvent(ev.Event, map[string]any{"manifest": ev.Manifest}, Broadcast{})
		})
	}
}

var wsUpgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (m *Mattermost) serveWebsocket(st *wsState, w http.ResponseWriter, r *http.Request) {
	u, authed := m.UserByToken(TokenFromRequest(r))
	sock, err := wsUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	if !authed {
		// api4/websocket.go accepts the socket and waits for the challenge.
		sock.SetReadDeadline(time.Now().Add(10 * time.Second))
		var req struct {
			Seq    int64             `json:"seq"`
			Action string            `json:"action"`
			Data   map[string]string `json:"data"`
		}
		if sock.ReadJSON(&req) != nil || req.Action != "authentication_challenge" {
			sock.Close()
			return
		}
		if u, authed = m.UserByToken(req.Data["token"]); !authed {
			writeEncoded(sock, map[string]any{"status": "FAIL", "seq_reply": req.Seq,
				"error": map[string]any{"id": "api.web_socket_router.not_authenticated.app_error"}})
			sock.Close()
			return
		}
		writeEncoded(sock, map[string]any{"status": "OK", "seq_reply": req.Seq})
		sock.SetReadDeadline(time.Time{})
	}
	q := r.URL.Query()
	c, replay := st.attach(m, u, q.Get("connection_id"), q.Get("sequence_number"), sock)
	for _, msg := range replay {
		if err := sock.WriteMessage(websocket.TextMessage, msg); err != nil {
			st.detach(c, sock)
			sock.Close()
			return
		}
	}
	go c.writePump(st, sock)
	c.readPump(st, sock)
}

// attach finds or makes the connection a socket serves, and the events to
// write first (a replay, or a hello).
func (st *wsState) attach(m *Mattermost, u User, connID, seqVal string, sock *websocket.Conn) (*wsConn, [][]byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	teams := func() map[string]bool {
		out := map[string]bool{}
		for _, t := range m.TeamsOf(u.ID) {
			out[t.ID] = true
		}
		return out
	}
	c, ok := st.conns[connID]
	if ok && c.userID == u.ID && c.sock == nil {
		n, err := strconv.ParseInt(seqVal, 10, 64)
		if err == nil && n >= 0 {
			c.sock, c.send, c.closed = sock, make(chan []byte, 256), make(chan struct{})
			for i, s := range c.deadSeq {
				if s == n {
					return c, append([][]byte(nil), c.dead[i:]...) // found: replay from n
				}
			}
			if n == c.seq {
				return c, nil // lossless
			}
			// Lost: a new connection id, numbered from 0 again.
			delete(st.conns, c.id)
			c.id, c.seq, c.dead, c.deadSeq = NewID(), 0, nil, nil
			st.keep(c)
			return c, [][]byte{c.next(c.hello())}
		}
	}
	c = &wsConn{id: NewID(), userID: u.ID, teams: teams, sock: sock, send: make(chan []byte, 256), closed: make(chan struct{})}
	st.keep(c)
	return c, [][]byte{c.next(c.hello())}
}

func (st *wsState) keep(c *wsConn) {
	st.conns[c.id] = c
	st.order = append(st.order, c.id)
	for len(st.order) > maxKeptConns {
		if old, ok := st.conns[st.order[0]]; ok && old.sock == nil {
			delete(st.conns, st.order[0])
		}
		st.order = st.order[1:]
	}
}

func (st *wsState) detach(c *wsConn, sock *websocket.Conn) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if c.sock == sock {
		c.sock = nil
		close(c.closed)
	}
}

// hello is the event a fresh connection starts with (without its seq).
func (c *wsConn) hello() map[string]any {
	return map[string]any{"event": "hello",
		"data":      map[string]any{"connection_id": c.id, "server_version": Version, "server_hostname": "mattermosttest"},
		"broadcast": Broadcast{UserID: c.userID}}
}

// next numbers an event, encodes it (hello: json.Encoder; others:
// Mattermost's precomputed form) and keeps it in the dead queue. The
// caller holds the state's lock.
func (c *wsConn) next(ev map[string]any) []byte {
	seq := c.seq
	c.seq++
	var b []byte
	if ev["event"] == "hello" {
		var buf bytes.Buffer
		json.NewEncoder(&buf).Encode(struct {
			Event     any   `json:"event"`
			Data      any   `json:"data"`
			Broadcast any   `json:"broadcast"`
			Seq       int64 `json:"seq"`
		}{ev["event"], ev["data"], ev["broadcast"], seq})
		b = buf.Bytes()
	} else {
		event, _ := json.Marshal(ev["event"])
		data, _ := json.Marshal(ev["data"])
		bc, _ := json.Marshal(ev["broadcast"])
		b = []byte(`{"event": ` + string(event) + `, "data": ` + string(data) + `, "broadcast": ` + string(bc) +
			`, "seq": ` + strconv.FormatInt(seq, 10) + `}`)
	}
	c.dead = append(c.dead, b)
	c.deadSeq = append(c.deadSeq, seq)
	if len(c.dead) > deadQueueSize {
		c.dead, c.deadSeq = c.dead[1:], c.deadSeq[1:]
	}
	return b
}

func writeEncoded(sock *websocket.Conn, v any) error {
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(v)
	sock.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return sock.WriteMessage(websocket.TextMessage, buf.Bytes())
}

func (c *wsConn) writePump(st *wsState, sock *websocket.Conn) {
	st.mu.Lock()
	send, closed := c.send, c.closed
	st.mu.Unlock()
	for {
		select {
		case msg := <-send:
			sock.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := sock.WriteMessage(websocket.TextMessage, msg); err != nil {
				sock.Close()
				return
			}
		case <-closed:
			return
		}
	}
}

func (c *wsConn) readPump(st *wsState, sock *websocket.Conn) {
	defer func() {
		st.detach(c, sock)
		sock.Close()
	}()
	for {
		_, msg, err := sock.ReadMessage()
		if err != nil {
			return
		}
		var req struct {
			Seq    int64           `json:"seq"`
			Action string          `json:"action"`
			Data   json.RawMessage `json:"data"`
		}
		if json.Unmarshal(msg, &req) != nil {
			return // Mattermost closes a socket that sends what it cannot decode
		}
		reply := map[string]any{"status": "OK", "seq_reply": req.Seq}
		switch req.Action {
		case "ping":
			reply["data"] = map[string]any{"text": "pong", "version": Version, "server_time": time.Now().UnixMilli()}
		case "presence":
			var d struct {
				TeamID    *string `json:"team_id"`
				ChannelID *string `json:"channel_id"`
			}
			json.Unmarshal(req.Data, &d)
			st.mu.Lock()
			if d.TeamID != nil {
				c.presence.TeamID = *d.TeamID
			}
			if d.ChannelID != nil {
				c.presence.ChannelID = *d.ChannelID
			}
			st.mu.Unlock()
		}
		var buf bytes.Buffer
		json.NewEncoder(&buf).Encode(reply)
		st.mu.Lock()
		send := c.send
		st.mu.Unlock()
		select {
		case send <- buf.Bytes():
		default:
		}
	}
}

// BroadcastEvent sends an event to the connections b selects, as
// Mattermost's Publish does, and returns how many got it. Connections
// that dropped keep it in their dead queue for a reconnect.
func (m *Mattermost) BroadcastEvent(event string, data any, b Broadcast) int {
	st := m.ws()
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for _, c := range st.conns {
		if !c.wants(b) {
			continue
		}
		msg := c.next(map[string]any{"event": event, "data": data, "broadcast": b})
		if c.sock == nil {
			continue
		}
		select {
		case c.send <- msg:
			n++
		default: // too slow: Mattermost drops the connection
			c.sock.Close()
		}
	}
	return n
}

func (c *wsConn) wants(b Broadcast) bool {
	switch {
	case b.ConnectionID != "":
		return b.ConnectionID == c.id
	case b.OmitConnectionID == c.id:
		return false
	case b.UserID != "":
		return b.UserID == c.userID
	case b.OmitUsers[c.userID]:
		return false
	case b.TeamID != "":
		return c.teams()[b.TeamID]
	}
	return true
}

// Sockets returns the connection ids of a user's live websockets.
func (m *Mattermost) Sockets(userID string) []string {
	st := m.ws()
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []string
	for id, c := range st.conns {
		if c.userID == userID && c.sock != nil {
			out = append(out, id)
		}
	}
	return out
}

// SocketPresence is what a connection's client last said it shows.
func (m *Mattermost) SocketPresence(connID string) Presence {
	st := m.ws()
	st.mu.Lock()
	defer st.mu.Unlock()
	if c, ok := st.conns[connID]; ok {
		return c.presence
	}
	return Presence{}
}

// DropSockets breaks every live websocket without a close frame, as a
// network failure does; the connections stay resumable.
func (m *Mattermost) DropSockets() {
	st := m.ws()
	st.mu.Lock()
	var socks []*websocket.Conn
	for _, c := range st.conns {
		if c.sock != nil {
			socks = append(socks, c.sock)
		}
	}
	st.mu.Unlock()
	for _, s := range socks {
		s.Close()
	}
}

// serveViewChannel is api4/channel.go viewChannel: {"channel_id",
// "prev_channel_id"} answered {"status":"OK","last_viewed_at_times":
// {<channel>: <ms>}}; a channel the user is not in is 403.
func (m *Mattermost) serveViewChannel(w http.ResponseWriter, r *http.Request, u User) {
	var in struct {
		ChannelID string `json:"channel_id"`
	}
	if json.NewDecoder(r.Body).Decode(&in) != nil {
		m.WriteError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "Invalid or missing view in request body.")
		return
	}
	m.mu.Lock()
	c, ok := m.channels[in.ChannelID]
	member := ok && slices.Contains(c.Members, u.ID)
	m.mu.Unlock()
	if !member {
		m.WriteError(w, http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"status": "OK",
		"last_viewed_at_times": map[string]int64{in.ChannelID: time.Now().UnixMilli()}})
}
