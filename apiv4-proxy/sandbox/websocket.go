package sandbox

import (
	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"

	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Mattermost websocket event names the sandbox sends.
const (
	eventHello       = "hello"
	eventPosted      = "posted"
	eventPostEdited  = "post_edited"
	eventPostDeleted = "post_deleted"
	eventTyping      = "typing"
)

// wsMaxMessage is Mattermost's limit on a client frame
// (model.SocketMaxMessageSizeKb).
const wsMaxMessage = 8 << 10

// Timings and sizes of the hub; tests shorten them on a hub before it
// serves connections.
type hubConfig struct {
	writeWait   time.Duration // one frame's write
	pongWait    time.Duration // silence allowed from an authenticated client
	pingPeriod  time.Duration // < pongWait
	authTimeout time.Duration // to send the authentication_challenge, as Mattermost's 5s
	closeGrace  time.Duration // at shutdown, before connections are cut
	sendBuffer  int           // queued frames per connection before it is dropped
	// quiet leaves out status_change, for tests that count other events'
	// sequence numbers.
	quiet bool
}

var defaultHubConfig = hubConfig{
	writeWait:   10 * time.Second,
	pongWait:    60 * time.Second,
	pingPeriod:  54 * time.Second,
	authTimeout: 5 * time.Second,
	closeGrace:  time.Second,
	sendBuffer:  256, // Mattermost's sendQueueSize
}

// wsConn is one websocket connection. The hub goroutine owns send (only it
// closes it), userID as the hub sees it, seq and closeCode.
type wsConn struct {
	ws        *websocket.Conn
	send      chan []byte
	id        string // Mattermost's connection_id
	userID    string // "" until authenticated
	seq       int64  // the next event's seq; hello is 0
	closeCode int    // the close frame the write pump sends when send closes
}

// outbound is an event for the connections of some users. prefix is the
// encoded event up to its seq, built once by the publisher.
type outbound struct {
	prefix []byte
	to     map[string]bool // user ids
}

type wsDirect struct {
	c   *wsConn
	msg []byte
}

type wsAuth struct {
	c        *wsConn
	userID   string
	seqReply int64
}

// hub is the gorilla chat example's hub: one goroutine (run) owns the set
// of connections and every connection's send buffer; each connection has
// a read pump and a write pump. A client whose buffer is full is dropped,
// so a slow reader never holds up the others or the publisher.
type hub struct {
	cfg hubConfig

	register   chan *wsConn
	unregister chan *wsConn
	auth       chan wsAuth
	direct     chan wsDirect
	broadcast  chan outbound
	quit       chan struct{}
	done       chan struct{}

	conns   map[*wsConn]bool // owned by run
	closing []*wsConn        // the connections at shutdown, read after done

	mu       sync.Mutex // guards stopped against pumps.Add
	stopped  bool
	pumps    sync.WaitGroup
	stopOnce sync.Once
}

func newHub() *hub {
	return &hub{
		cfg:        defaultHubConfig,
		register:   make(chan *wsConn),
		unregister: make(chan *wsConn),
		auth:       make(chan wsAuth),
		direct:     make(chan wsDirect),
		broadcast:  make(chan outbound, 64),
		quit:       make(chan struct{}),
		done:       make(chan struct{}),
		conns:      map[*wsConn]bool{},
	}
}

func (h *hub) run() {
	defer close(h.done)
	for {
		select {
		case c := <-h.register:
			h.conns[c] = true
			if c.userID != "" {
				h.deliver(c, h.hello(c))
			}
		case c := <-h.unregister:
			if h.conns[c] {
				h.drop(c, websocket.CloseNormalClosure)
			}
		case a := <-h.auth:
			if h.conns[a.c] {
				// As Mattermost: hello, then the challenge's reply.
				a.c.userID = a.userID
				h.deliver(a.c, h.hello(a.c))
				h.deliver(a.c, encodeReply(wsReply{Status: "OK", SeqReply: a.seqReply}))
			}
		case d := <-h.direct:
			if h.conns[d.c] {
				h.deliver(d.c, d.msg)
			}
		case m := <-h.broadcast:
			for c := range h.conns {
				if c.userID == "" || !m.to[c.userID] {
					continue
				}
				b := make([]byte, 0, len(m.prefix)+24)
				b = append(b, m.prefix...)
				b = strconv.AppendInt(b, c.seq, 10)
				c.seq++
				h.deliver(c, append(b, '}'))
			}
		case <-h.quit:
			for c := range h.conns {
				h.closing = append(h.closing, c)
				h.drop(c, websocket.CloseGoingAway)
			}
			return
		}
	}
}

// deliver queues msg for c, or drops c when its buffer is full: waiting
// would let one slow client stall every other.
func (h *hub) deliver(c *wsConn, msg []byte) {
	if !h.conns[c] {
		return // dropped earlier in this round
	}
	select {
	case c.send <- msg:
	default:
		h.drop(c, websocket.ClosePolicyViolation)
		// Cut it now: a client this far behind would not read a close
		// frame either, and its write pump may be stuck on the socket.
		c.ws.Close()
	}
}

func (h *hub) drop(c *wsConn, code int) {
	delete(h.conns, c)
	c.closeCode = code
	close(c.send)
}

func (h *hub) hello(c *wsConn) []byte {
	data, _ := json.Marshal(map[string]any{"connection_id": c.id, "server_version": serverVersion})
	prefix := encodeEventPrefix(eventHello, data, wsBroadcast{UserID: c.userID})
	c.seq++ // hello is seq 0
	return append(append(prefix, '0'), '}')
}

// publish hands an event to the hub; it blocks only while the hub is busy
// with another message, never on a client, and not at all once stopped.
func (h *hub) publish(m outbound) {
	select {
	case h.broadcast <- m:
	case <-h.quit:
	}
}

// admit reserves the two pumps of a new connection, unless the hub has
// stopped; it keeps pumps.Add from racing stop's Wait.
func (h *hub) admit() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return false
	}
	h.pumps.Add(2)
	return true
}

// stop ends the hub: every connection gets a going-away close frame, and
// any still open after closeGrace is cut. It returns when every pump has
// exited.
func (h *hub) stop() {
	h.stopOnce.Do(func() {
		h.mu.Lock()
		h.stopped = true
		h.mu.Unlock()
		close(h.quit)
		<-h.done
		exited := make(chan struct{})
		go func() { h.pumps.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(h.cfg.closeGrace):
			for _, c := range h.closing {
				c.ws.Close()
			}
			<-exited
		}
	})
}

// writePump is the only writer of c.ws: queued frames and keepalive pings.
func (h *hub) writePump(c *wsConn) {
	ticker := time.NewTicker(h.cfg.pingPeriod)
	defer func() {
		ticker.Stop()
		c.ws.Close()
		h.pumps.Done()
	}()
	for {
		select {
		case msg, ok := <-c.send:
			if !ok {
				// The hub set closeCode before closing send.
				c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(c.closeCode, ""),
					time.Now().Add(time.Second))
				return
			}
			c.ws.SetWriteDeadline(time.Now().Add(h.cfg.writeWait))
			if err := c.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		case <-ticker.C:
			c.ws.SetWriteDeadline(time.Now().Add(h.cfg.writeWait))
			if err := c.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

// Wire shapes of Mattermost's websocket (model.WebSocketEvent,
// WebSocketResponse, WebSocketRequest) as 5.37 sends them.
type wsBroadcast struct {
	OmitUsers map[string]bool `json:"omit_users"`
	UserID    string          `json:"user_id"`
	ChannelID string          `json:"channel_id"`
	TeamID    string          `json:"team_id"`
}

type wsReply struct {
	Status   string         `json:"status"`
	SeqReply int64          `json:"seq_reply,omitempty"`
	Data     map[string]any `json:"data,omitempty"`
	Error    *appError      `json:"error,omitempty"`
}

type wsRequest struct {
	Seq    int64          `json:"seq"`
	Action string         `json:"action"`
	Data   map[string]any `json:"data"`
}

// encodeEventPrefix encodes {"event":..,"data":..,"broadcast":..,"seq":
// leaving the seq for each connection to fill in.
func encodeEventPrefix(event string, data json.RawMessage, b wsBroadcast) []byte {
	ev, _ := json.Marshal(event)
	bc, _ := json.Marshal(b)
	out := make([]byte, 0, len(ev)+len(data)+len(bc)+48)
	out = append(out, `{"event":`...)
	out = append(out, ev...)
	out = append(out, `,"data":`...)
	out = append(out, data...)
	out = append(out, `,"broadcast":`...)
	out = append(out, bc...)
	return append(out, `,"seq":`...)
}

func encodeReply(r wsReply) []byte {
	b, _ := json.Marshal(r)
	return b
}

// publishEvent sends event to the connections of the users in to.
// data's keys come out sorted, as Mattermost's map does.
func (s *Sandbox) publishEvent(event string, data map[string]any, b wsBroadcast, to map[string]bool) {
	raw, err := json.Marshal(data)
	if err != nil {
		return // data is built from JSON values; it always encodes
	}
	s.hub.publish(outbound{prefix: encodeEventPrefix(event, raw, b), to: to})
}

// publishPost tells the channel's members about a post, the post as a
// JSON string in data.post, as Mattermost sends it. posted also carries
// the channel's names and team.
func (s *Sandbox) publishPost(event string, p Post, ch *channel, extra map[string]any) {
	post, err := json.Marshal(p)
	if err != nil {
		return
	}
	data := map[string]any{"post": string(post)}
	if event == eventPosted {
		data["channel_display_name"] = ch.DisplayName
		data["channel_name"] = ch.Name
		data["channel_type"] = ch.Type
		data["team_id"] = ch.TeamID
	}
	for k, v := range extra {
		data[k] = v
	}
	s.publishEvent(event, data, wsBroadcast{ChannelID: ch.ID}, s.channelAudience(ch, ""))
}

// channelAudience is the set of the channel's members, but omit.
func (s *Sandbox) channelAudience(ch *channel, omit string) map[string]bool {
	to := make(map[string]bool, len(s.teamUsers[ch.TeamID]))
	for _, id := range s.teamUsers[ch.TeamID] {
		if id != omit {
			to[id] = true
		}
	}
	return to
}

// upgrader checks the Origin as gorilla's default does: same-origin pages
// and clients without an Origin, so no other site's page can ride on a
// user's MMAUTHTOKEN cookie. Upgrade failures get Mattermost's AppError.
var upgrader = websocket.Upgrader{
	ReadBufferSize:  4 << 10,
	WriteBufferSize: 4 << 10,
	Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
		writeMMError(w, r, status, "api.web_socket.connect.upgrade.app_error",
			"Failed to upgrade websocket connection.", reason.Error())
	},
}

// serveWebSocket is GET /api/v4/websocket. As Mattermost, the token may
// come with the upgrade (header, cookie, access_token) or afterwards in an
// authentication_challenge; an invalid token at upgrade is not an error,
// the connection just starts unauthenticated.
func (s *Sandbox) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	var userID string
	if id, err := s.Authenticate(r.Context(), apiv4proxy.TokenFromRequest(r)); err == nil {
		userID = id.User.ID
	}
	h := s.hub
	if !h.admit() {
		writeMMError(w, r, http.StatusServiceUnavailable, "api.web_socket.connect.upgrade.app_error",
			"Failed to upgrade websocket connection.", "the sandbox is shutting down")
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		h.pumps.Add(-2)
		return // the upgrader answered
	}
	c := &wsConn{ws: ws, send: make(chan []byte, h.cfg.sendBuffer), id: apiv4proxy.NewID(), userID: userID}
	select {
	case h.register <- c:
	case <-h.quit:
		ws.Close()
		h.pumps.Add(-2)
		return
	}
	go h.writePump(c)
	s.readPump(r.Context(), c, userID)
}

// readPump reads the client's requests on the handler's goroutine, as
// Mattermost's WebSocketRouter: authentication_challenge, ping and
// user_typing. Any read error (a close, a deadline, bad JSON) ends the
// connection.
func (s *Sandbox) readPump(ctx context.Context, c *wsConn, userID string) {
	h := s.hub
	if userID != "" {
		s.userConnected(userID)
	}
	defer func() {
		if userID != "" {
			s.userDisconnected(userID)
		}
		select {
		case h.unregister <- c:
		case <-h.quit:
		}
		c.ws.Close()
		h.pumps.Done()
	}()
	c.ws.SetReadLimit(wsMaxMessage)
	// Until it authenticates a client has authTimeout, pongs or not.
	if userID == "" {
		c.ws.SetReadDeadline(time.Now().Add(h.cfg.authTimeout))
	} else {
		c.ws.SetReadDeadline(time.Now().Add(h.cfg.pongWait))
	}
	c.ws.SetPongHandler(func(string) error {
		if userID != "" {
			c.ws.SetReadDeadline(time.Now().Add(h.cfg.pongWait))
		}
		return nil
	})
	reply := func(r wsReply) bool {
		select {
		case h.direct <- wsDirect{c, encodeReply(r)}:
			return true
		case <-h.quit:
			return false
		}
	}
	fail := func(seq int64, status int, id, msg string) bool {
		return reply(wsReply{Status: "FAIL", SeqReply: seq,
			Error: &appError{ID: id, Message: msg, StatusCode: status}})
	}
	for {
		var req wsRequest
		if err := c.ws.ReadJSON(&req); err != nil {
			return
		}
		ok := true
		switch {
		case req.Action == "":
			ok = fail(req.Seq, http.StatusBadRequest, "api.web_socket_router.no_action.app_error", "No websocket action.")
		case req.Seq <= 0:
			ok = fail(req.Seq, http.StatusBadRequest, "api.web_socket_router.bad_seq.app_error",
				"Invalid sequence for WebSocket message.")
		case req.Action == "authentication_challenge":
			if userID != "" {
				continue // Mattermost ignores a second challenge
			}
			token, _ := req.Data["token"].(string)
			id, err := s.Authenticate(ctx, token)
			if err != nil {
				return // as Mattermost: a bad challenge closes the connection
			}
			userID = id.User.ID
			s.userConnected(userID)
			c.ws.SetReadDeadline(time.Now().Add(h.cfg.pongWait))
			select {
			case h.auth <- wsAuth{c, userID, req.Seq}:
			case <-h.quit:
				return
			}
		case userID == "":
			ok = fail(req.Seq, http.StatusUnauthorized, "api.web_socket_router.not_authenticated.app_error",
				"Connection is not authenticated. Please log in and try again.")
		case req.Action == "ping":
			ok = reply(wsReply{Status: "OK", SeqReply: req.Seq, Data: map[string]any{
				"text": "pong", "version": mattermostVersion, "server_time": time.Now().UnixMilli(), "node_id": "",
			}})
		case req.Action == "user_typing":
			ok = s.userTyping(c, userID, req, reply, fail)
		default:
			ok = fail(req.Seq, http.StatusInternalServerError, "api.web_socket_router.bad_action.app_error",
				"Invalid websocket action.")
		}
		if !ok {
			return
		}
	}
}

// userTyping is Mattermost's user_typing action: the channel's other
// members get a typing event.
func (s *Sandbox) userTyping(c *wsConn, userID string, req wsRequest,
	reply func(wsReply) bool, fail func(int64, int, string, string) bool) bool {
	channelID, _ := req.Data["channel_id"].(string)
	parentID, _ := req.Data["parent_id"].(string)
	ch, ok := s.channels[channelID]
	switch {
	case !validID(channelID):
		return fail(req.Seq, http.StatusBadRequest, "api.websocket_handler.invalid_param.app_error",
			"channel_id is an invalid parameter.")
	case !ok || !s.isChannelMember(userID, ch):
		return fail(req.Seq, http.StatusForbidden, "api.context.permissions.app_error",
			"You do not have the appropriate permissions.")
	}
	s.publishEvent(eventTyping, map[string]any{"parent_id": parentID, "user_id": userID},
		wsBroadcast{OmitUsers: map[string]bool{userID: true}, ChannelID: ch.ID}, s.channelAudience(ch, userID))
	return reply(wsReply{Status: "OK", SeqReply: req.Seq})
}
