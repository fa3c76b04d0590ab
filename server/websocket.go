package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"
)

const (
	wsWriteWait   = 10 * time.Second
	wsPongWait    = 60 * time.Second
	wsPingPeriod  = wsPongWait * 9 / 10
	wsAuthWait    = 10 * time.Second
	wsMaxMessage  = 64 << 10
	wsSendBuffer  = 256
	wsHelloServer = "mmtoolkit"

	// A client says little on this socket (a ping every half minute), so
	// one that sends more than wsClientRate messages a second, past a burst
	// of wsClientBurst, is broken or hostile: its connection is closed
	// (1008, "rate_limited") instead of the server parsing all it sends.
	wsClientRate  = 10
	wsClientBurst = 50
)

// defaultWSRevalidate is how often a socket's token is authenticated again
// (answered from the identity cache until it expires, so a session revoked
// upstream closes its sockets within about this plus the cache's TTL):
// REST refuses a revoked token, and its socket must not go on receiving
// the team's events (issue #15, F13).
const defaultWSRevalidate = apiv4proxy.DefaultCacheTTL // Timing.WebsocketRevalidate

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4 << 10,
	WriteBufferSize: 4 << 10,
	// Same-origin pages and non-browser clients (no Origin) only: a page on
	// another origin must not ride on the user's cookie.
	CheckOrigin: sameOrigin,
}

func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	return origin == "http://"+r.Host || origin == "https://"+r.Host
}

// wsClient is one connection. send is owned by the hub: only the hub
// closes it. seq is touched only by the hub goroutine, and so is teams
// once registered: a change of teams is a new map the hub puts in place.
type wsClient struct {
	hub    *hub
	conn   *websocket.Conn
	connID string
	userID string
	teams  map[string]bool
	// token authenticated the socket; auth checks it again every
	// revalidate. revoked is set by the hub before it closes send, when
	// the session logged out.
	token   string
	auth    func(ctx context.Context, token string) (*identity.Identity, error)
	revoked bool
	send    chan []byte
	// replies carries answers to the client's own actions (ping) to the
	// write pump, the connection's only writer.
	replies chan []byte
	seq     uint64

	revalidate time.Duration // Timing.WebsocketRevalidate
}

func (c *wsClient) wants(m outbound) bool {
	if m.OmitConn != "" && m.OmitConn == c.connID {
		return false
	}
	if m.TeamID != "" && !c.teams[m.TeamID] {
		return false
	}
	if m.UserIDs != nil && !m.UserIDs[c.userID] {
		return false
	}
	return !m.Except[c.userID]
}

// serveWebsocket is GET /api/v1/websocket. The token comes with the upgrade
// request (cookie, header, access_token) or, as Mattermost's websocket
// allows, in a first authentication_challenge message.
func (s *Server) serveWebsocket(w http.ResponseWriter, r *http.Request) {
	var who *identity.Identity
	token := apiv4proxy.TokenFromRequest(r)
	if token != "" {
		id, err := s.identity.Authenticate(r.Context(), token)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		who = id
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered the client
	}
	conn.SetReadLimit(wsMaxMessage)
	if who == nil {
		if who, token = s.challenge(r, conn); who == nil {
			conn.Close()
			return
		}
	}
	c := &wsClient{
		hub: s.hub, conn: conn, connID: apiv4proxy.NewID(), userID: who.User.ID,
		teams: teamSet(who.Members), send: make(chan []byte, wsSendBuffer),
		replies: make(chan []byte, 8), token: token, auth: s.identity.Authenticate, revalidate: s.cfg.Timing.WebsocketRevalidate,
	}
	hello, _ := json.Marshal(map[string]any{
		"event":     "hello",
		"data":      map[string]string{"connection_id": c.connID, "server_version": wsHelloServer},
		"broadcast": wsBroadcast{UserID: who.User.ID},
		"seq":       0,
	})
	// Register before saying hello, so a client that acts on hello (as
	// tests and the host do) misses no event; events queue in c.send until
	// the write pump starts after hello.
	select {
	case s.hub.register <- c:
	case <-s.hub.done:
		conn.Close()
		return
	}
	conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
	if err := conn.WriteMessage(websocket.TextMessage, hello); err != nil {
		select {
		case s.hub.unregister <- c:
		case <-s.hub.done:
		}
		conn.Close()
		return
	}
	go c.writePump()
	c.readPump()
}

// challenge waits for {"seq":N,"action":"authentication_challenge",
// "data":{"token":"..."}} and answers as Mattermost does.
func (s *Server) challenge(r *http.Request, conn *websocket.Conn) (*identity.Identity, string) {
	conn.SetReadDeadline(time.Now().Add(wsAuthWait))
	var msg struct {
		Seq    int64             `json:"seq"`
		Action string            `json:"action"`
		Data   map[string]string `json:"data"`
	}
	if err := conn.ReadJSON(&msg); err != nil || msg.Action != "authentication_challenge" {
		conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "authenticate first"), time.Now().Add(time.Second))
		return nil, ""
	}
	who, err := s.identity.Authenticate(r.Context(), msg.Data["token"])
	conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
	if err != nil {
		e := toError(err)
		conn.WriteJSON(map[string]any{"status": "FAIL", "seq_reply": msg.Seq,
			"error": map[string]string{"code": e.Code, "message": e.Message}})
		conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.ClosePolicyViolation, e.Code), time.Now().Add(time.Second))
		return nil, ""
	}
	conn.WriteJSON(map[string]any{"status": "OK", "seq_reply": msg.Seq})
	conn.SetReadDeadline(time.Time{})
	return who, msg.Data["token"]
}

// readPump keeps the connection's read side alive (pongs, close frames) and
// unregisters the client when the peer goes away.
func (c *wsClient) readPump() {
	defer func() {
		select {
		case c.hub.unregister <- c:
		case <-c.hub.done:
		}
		c.conn.Close()
	}()
	c.conn.SetReadDeadline(time.Now().Add(wsPongWait))
	c.conn.SetPongHandler(func(string) error {
		c.conn.SetReadDeadline(time.Now().Add(wsPongWait))
		return nil
	})
	tokens, last := float64(wsClientBurst), time.Now()
	for {
		// Clients say little on this socket: Mattermost's "ping" action
		// (answered "pong") and keepalives. Plugin events are published
		// with POST .../events.
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			return // closed, silent, or over wsMaxMessage (gorilla has sent 1009)
		}
		now := time.Now()
		tokens = min(wsClientBurst, tokens+now.Sub(last).Seconds()*wsClientRate)
		last = now
		if tokens < 1 {
			c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation,
				fmt.Sprintf("rate_limited: more than %d messages a second", wsClientRate)), now.Add(time.Second))
			drainUntilClosed(c.conn, now.Add(time.Second))
			return
		}
		tokens--
		var action struct {
			Seq    int64  `json:"seq"`
			Action string `json:"action"`
		}
		if json.Unmarshal(msg, &action) != nil || action.Action != "ping" {
			continue
		}
		reply, _ := json.Marshal(map[string]any{"status": "OK", "seq_reply": action.Seq, "data": map[string]string{"text": "pong"}})
		select {
		case c.replies <- reply:
		default: // a client flooding pings loses some answers
		}
	}
}

// drainUntilClosed reads and drops what the peer still sends after the
// server's close frame, until its own close frame, an error or deadline.
// Closing at once, with the flood still arriving, makes the kernel answer
// the unread bytes with a reset, which can discard the close frame (and
// its reason) before the client reads it: the client saw 1006 instead of
// 1008 "rate_limited" on a busy machine.
func drainUntilClosed(conn *websocket.Conn, deadline time.Time) {
	conn.SetReadDeadline(deadline)
	for {
		if _, _, err := conn.NextReader(); err != nil {
			return
		}
	}
}

// closeRevoked is the close frame of a socket whose session ended.
var closeRevoked = websocket.FormatCloseMessage(websocket.ClosePolicyViolation,
	"session_revoked: the session logged out or was revoked: log in again")

// writePump is the only writer of the connection after hello. It also
// checks the socket's token again every c.revalidate, in a goroutine of
// its own so a slow identity check delays no event: it closes the socket
// (1008) once the token is refused, and hands the hub the caller's teams
// when they changed, so a socket stops getting the events of a team its
// user left.
func (c *wsClient) writePump() {
	every := c.revalidate
	ticker := time.NewTicker(wsPingPeriod)
	recheck := time.NewTicker(every)
	type check struct {
		who *identity.Identity
		err error
	}
	checked := make(chan check, 1)
	checking := false
	teams := c.teams // the hub only reads it; a change is a new map, set by the hub
	defer func() {
		ticker.Stop()
		recheck.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case msg, ok := <-c.send:
			c.conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
			if !ok {
				if c.revoked {
					c.conn.WriteMessage(websocket.CloseMessage, closeRevoked)
				} else {
					c.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""))
				}
				return
			}
			if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		case reply := <-c.replies:
			c.conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
			if err := c.conn.WriteMessage(websocket.TextMessage, reply); err != nil {
				return
			}
		case <-ticker.C:
			c.conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		case <-recheck.C:
			if !checking && c.token != "" {
				checking = true
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), every)
					defer cancel()
					who, err := c.auth(ctx, c.token)
					checked <- check{who, err}
				}()
			}
		case res := <-checked:
			checking = false
			// Only a refused token ends the socket; an upstream that is
			// down or slow is asked again next time.
			if errors.Is(res.err, apiv4proxy.ErrInvalidToken) {
				c.conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
				c.conn.WriteMessage(websocket.CloseMessage, closeRevoked)
				return
			}
			if res.err == nil && !sameTeams(teams, res.who.Members) {
				teams = teamSet(res.who.Members)
				c.hub.retargetClient(c, teams)
			}
		}
	}
}

// serveLogout is POST /api/v4/users/logout, passed to the upstream as any
// /api/v4 call. When the upstream ends the session (a 2xx answer), the
// token's cached identity is dropped and its websockets are closed at
// once (1008 session_revoked), rather than at their next check.
func (s *Server) serveLogout(w http.ResponseWriter, r *http.Request) {
	token := apiv4proxy.TokenFromRequest(r)
	sw := &statusWriter{ResponseWriter: w}
	detachRoute(s.cfg.Upstream).ServeHTTP(sw, r)
	if token == "" || (sw.status != 0 && (sw.status < 200 || sw.status > 299)) {
		return
	}
	if f, ok := s.identity.(interface{ Forget(token string) }); ok {
		f.Forget(token)
	}
	s.hub.revokeToken(token)
}

// teamSet is the set of team ids of members.
func teamSet(members map[string]identity.TeamMember) map[string]bool {
	teams := make(map[string]bool, len(members))
	for tid := range members {
		teams[tid] = true
	}
	return teams
}

// sameTeams reports whether teams holds exactly the teams of members.
func sameTeams(teams map[string]bool, members map[string]identity.TeamMember) bool {
	if len(teams) != len(members) {
		return false
	}
	for tid := range members {
		if !teams[tid] {
			return false
		}
	}
	return true
}
