package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"
)

// The embed's websocket: a relay between the embed and Mattermost's
// /api/v4/websocket, opened with the token's session (the embed never
// sees it), that passes on only hello, the token's channels' events of
// embedWSEvents and answers to the embed's own actions, renumbered so the
// embed sees an unbroken sequence. The embed may ping and say it is
// typing in its channels; nothing else. The relay ends when the token
// expires or is revoked.
//
// The embed authenticates as Mattermost's client does: a token at the
// upgrade (Authorization, or access_token) or, on /api/v1/embed/websocket,
// an authentication_challenge as its first message.

// embedWSEvents are the Mattermost events an embed gets, for its channels.
var embedWSEvents = []string{"posted", "post_edited", "post_deleted", "typing", "reaction_added", "reaction_removed"}

const (
	embedWSAuthWait  = 10 * time.Second
	embedWSWriteWait = 10 * time.Second
	embedWSMaxRead   = 16 << 10 // the embed's own messages are small
)

// defaultEmbedWSRecheck is how often a relay asks the store whether its
// token was revoked (Timing.EmbedRecheck: tests shorten it).
const defaultEmbedWSRecheck = 5 * time.Second

var embedUpgrader = websocket.Upgrader{ReadBufferSize: 4 << 10, WriteBufferSize: 4 << 10, CheckOrigin: sameOrigin}

// serveEmbedRelay is the websocket for a token given at the upgrade: the
// upstream is dialled first, so its refusal is an ordinary HTTP answer.
func (s *Server) serveEmbedRelay(w http.ResponseWriter, r *http.Request, g *embedGrant) {
	if !websocket.IsWebSocketUpgrade(r) {
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeBadWebsocketHandshake, "this is a websocket: open it with an upgrade"))
		return
	}
	if !sameOrigin(r) {
		s.writeError(w, r, errorf(http.StatusForbidden, CodeOriginNotAllowed, "the embed's websocket is opened from the embed frame's own origin"))
		return
	}
	up, err := s.dialEmbedUpstream(r, g.Session)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := embedUpgrader.Upgrade(w, r, nil)
	if err != nil {
		up.Close()
		return
	}
	s.relayEmbed(r.Context(), c, up, g)
}

// serveEmbedWebsocket is /api/v1/embed/websocket without a token at the
// upgrade: the first message must be an authentication_challenge with one.
func (s *Server) serveEmbedWebsocket(w http.ResponseWriter, r *http.Request) {
	if s.embed == nil {
		s.writeError(w, r, errEmbedUnavailable)
		return
	}
	if !sameOrigin(r) {
		s.writeError(w, r, errorf(http.StatusForbidden, CodeOriginNotAllowed, "the embed's websocket is opened from the embed frame's own origin"))
		return
	}
	c, err := embedUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c.SetReadLimit(embedWSMaxRead)
	c.SetReadDeadline(time.Now().Add(embedWSAuthWait))
	var req struct {
		Seq    int64          `json:"seq"`
		Action string         `json:"action"`
		Data   map[string]any `json:"data"`
	}
	if err := c.ReadJSON(&req); err != nil {
		c.Close()
		return
	}
	token, _ := req.Data["token"].(string)
	var g *embedGrant
	if req.Action != "authentication_challenge" {
		err = errEmbedTokenRequired
	} else {
		g, err = s.grant(r.Context(), token)
	}
	var up *websocket.Conn
	if err == nil {
		up, err = s.dialEmbedUpstream(r, g.Session)
	}
	if err != nil {
		e := toError(err)
		closeWith(c, websocket.ClosePolicyViolation, e.Code)
		return
	}
	c.SetReadDeadline(time.Time{})
	reply, _ := json.Marshal(map[string]any{"status": "OK", "seq_reply": req.Seq})
	c.SetWriteDeadline(time.Now().Add(embedWSWriteWait))
	if err := c.WriteMessage(websocket.TextMessage, reply); err != nil {
		c.Close()
		up.Close()
		return
	}
	s.relayEmbed(r.Context(), c, up, g)
}

func closeWith(c *websocket.Conn, code int, reason string) {
	c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	c.Close()
}

// dialEmbedUpstream opens Mattermost's websocket with the session, through
// the same API v4 handler REST calls go to (the sandbox's, or the proxy to
// a real Mattermost), served in process over a pipe.
func (s *Server) dialEmbedUpstream(r *http.Request, session string) (*websocket.Conn, error) {
	if s.embed.upstream == nil {
		return nil, errorf(http.StatusBadGateway, CodeUpstreamUnavailable, "this server has no Mattermost API to relay the websocket to")
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.embed.upstream.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), chi.RouteCtxKey, nil)))
	})
	remote := r.RemoteAddr
	d := websocket.Dialer{
		HandshakeTimeout: embedWSAuthWait,
		NetDialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			client, server := net.Pipe()
			hs := &http.Server{Handler: handler, ReadHeaderTimeout: embedWSAuthWait,
				ConnContext: func(ctx context.Context, _ net.Conn) context.Context { return ctx }}
			go hs.Serve(&oneConnListener{c: &remoteConn{Conn: server, remote: remote}})
			return client, nil
		},
	}
	up, resp, err := d.DialContext(r.Context(), "ws://mmtoolkit.embed/api/v4/websocket", http.Header{"Authorization": {"Bearer " + session}})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return nil, errEmbedSessionEnded
		}
		return nil, errorf(http.StatusBadGateway, CodeUpstreamUnavailable, "Mattermost's websocket could not be opened: retry")
	}
	return up, nil
}

// oneConnListener hands one connection to an http.Server, then reports
// closed, so Serve returns while the connection goes on being served.
type oneConnListener struct {
	mu sync.Mutex
	c  net.Conn
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c == nil {
		return nil, net.ErrClosed
	}
	c := l.c
	l.c = nil
	return c, nil
}
func (l *oneConnListener) Close() error   { return nil }
func (l *oneConnListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "embed-relay" }

// remoteConn is a pipe end that reports the embed's address, which the
// upstream proxy passes on as X-Forwarded-For.
type remoteConn struct {
	net.Conn
	remote string
}

func (c *remoteConn) RemoteAddr() net.Addr { return tcpAddr(c.remote) }

type tcpAddr string

func (a tcpAddr) Network() string { return "tcp" }
func (a tcpAddr) String() string  { return string(a) }

// relayEmbed runs the relay until either side ends, the token expires or
// is revoked, or ctx ends.
func (s *Server) relayEmbed(ctx context.Context, c, up *websocket.Conn, g *embedGrant) {
	ctx, cancel := context.WithCancel(ctx)
	var (
		writeMu sync.Mutex
		once    sync.Once
		reason  = "" // why the relay ends, sent to the embed
	)
	stop := func(why string) {
		once.Do(func() {
			reason = why
			cancel()
		})
	}
	write := func(msg []byte) error {
		writeMu.Lock()
		defer writeMu.Unlock()
		c.SetWriteDeadline(time.Now().Add(embedWSWriteWait))
		return c.WriteMessage(websocket.TextMessage, msg)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	// Mattermost -> embed: filtered and renumbered.
	go func() {
		defer wg.Done()
		var seq int64
		for {
			_, msg, err := up.ReadMessage()
			if err != nil {
				stop("")
				return
			}
			out, ok := filterEmbedEvent(msg, g, &seq)
			if !ok {
				continue
			}
			if err := write(out); err != nil {
				stop("")
				return
			}
		}
	}()
	// embed -> Mattermost: pings and typing in the token's channels.
	go func() {
		defer wg.Done()
		c.SetReadLimit(embedWSMaxRead)
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				stop("")
				return
			}
			var req struct {
				Seq    int64          `json:"seq"`
				Action string         `json:"action"`
				Data   map[string]any `json:"data"`
			}
			if json.Unmarshal(msg, &req) != nil {
				stop("")
				return
			}
			allowed := req.Action == "ping"
			if req.Action == "user_typing" {
				ch, _ := req.Data["channel_id"].(string)
				allowed = g.Allows(ch)
			}
			if req.Action == "authentication_challenge" {
				continue // already authenticated; Mattermost ignores a second one
			}
			if !allowed {
				fail, _ := json.Marshal(map[string]any{"status": "FAIL", "seq_reply": req.Seq,
					"error": map[string]any{"id": "embed_scope", "message": "an embed may only ping and send user_typing for its channels"}})
				if write(fail) != nil {
					stop("")
					return
				}
				continue
			}
			up.SetWriteDeadline(time.Now().Add(embedWSWriteWait))
			if up.WriteMessage(websocket.TextMessage, msg) != nil {
				stop("")
				return
			}
		}
	}()
	// The token's life.
	expiry := time.NewTimer(g.Record.ExpiresAt.Sub(s.embed.app.Now()))
	check := time.NewTicker(s.cfg.Timing.EmbedRecheck)
	go func() {
		defer expiry.Stop()
		defer check.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-expiry.C:
				stop("embed_token_expired")
				return
			case <-check.C:
				if _, err := s.grant(ctx, g.Token); err != nil {
					if e := toError(err); e.Status == http.StatusUnauthorized {
						stop(e.Code)
						return
					}
				}
			}
		}
	}()
	<-ctx.Done()
	if reason != "" {
		writeMu.Lock()
		c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, reason), time.Now().Add(time.Second))
		writeMu.Unlock()
	}
	c.Close()
	up.Close()
	wg.Wait()
}

// filterEmbedEvent decides whether a message from Mattermost reaches the
// embed: answers to its actions (seq_reply) as they are; hello and the
// token's channels' events with the next sequence number.
func filterEmbedEvent(msg []byte, g *embedGrant, seq *int64) ([]byte, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(msg, &m) != nil {
		return nil, false
	}
	var event string
	if raw, ok := m["event"]; ok {
		json.Unmarshal(raw, &event)
	}
	if event == "" {
		_, reply := m["seq_reply"]
		return msg, reply
	}
	if event != "hello" {
		if !slices.Contains(embedWSEvents, event) {
			return nil, false
		}
		var b struct {
			ChannelID string `json:"channel_id"`
		}
		json.Unmarshal(m["broadcast"], &b)
		if !g.Allows(b.ChannelID) {
			return nil, false
		}
	}
	n, _ := json.Marshal(*seq)
	m["seq"] = n
	*seq++
	out, err := json.Marshal(m)
	if err != nil {
		return nil, false
	}
	return out, true
}
