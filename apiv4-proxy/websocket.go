package apiv4proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// wsBufferPool lends write buffers to connections only while they write,
// so thousands of idle Mattermost websockets do not each hold one.
type wsBufferPool struct{ sync.Pool }

func (p *wsBufferPool) Get() any  { return p.Pool.Get() }
func (p *wsBufferPool) Put(v any) { p.Pool.Put(v) }

// initWebsocket makes the websocket dialer of the REST transport's dialer
// and TLS configuration: one of each for the one upstream.
func (p *proxy) initWebsocket() {
	pool := &wsBufferPool{}
	p.dialer = websocket.Dialer{
		NetDialContext:   p.transport.dialer.DialContext,
		Proxy:            nil, // the upstream is fixed by configuration
		TLSClientConfig:  p.transport.http.TLSClientConfig,
		HandshakeTimeout: p.timeout,
		ReadBufferSize:   4096,
		WriteBufferSize:  4096,
		WriteBufferPool:  pool,
	}
	p.upgrader = websocket.Upgrader{
		HandshakeTimeout: p.timeout,
		ReadBufferSize:   4096,
		WriteBufferSize:  4096,
		WriteBufferPool:  pool,
		// serveWebsocket checked the origin before dialling the upstream.
		CheckOrigin: func(*http.Request) bool { return true },
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			writeError(w, status, CodeBadWebsocketHandshake, "the websocket handshake is invalid ("+reason.Error()+"): reconnect with a websocket client")
		},
	}
}

// serveWebsocket dials the upstream first, so that its refusal (a 401 for
// a bad token) reaches the client as an ordinary answer, then upgrades the
// client and relays frames both ways.
func (p *proxy) serveWebsocket(w http.ResponseWriter, r *http.Request) {
	if !p.originAllowed(r) {
		writeError(w, http.StatusForbidden, CodeOriginNotAllowed,
			"websockets may be opened only from this server's own pages (or an allowed origin)")
		return
	}
	d := p.dialer // a copy: the subprotocols and the connection are per request
	d.Subprotocols = websocket.Subprotocols(r)
	// The handshake answer's head is bounded as REST answers' are: the
	// dialer would read a header that never ends until the timeout.
	var cr *handshakeConn
	d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := p.dialer.NetDialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cr = &handshakeConn{Conn: nc, left: maxResponseHeadBytes}
		return cr, nil
	}
	u := p.target(r.URL)
	u.Scheme = p.wsScheme
	// A reconnect names upstream's connection and the next event the
	// client expects, in the client's numbering: turn it into upstream's.
	var st *stream
	u.RawQuery, st = p.resumeQuery(r.URL.RawQuery)
	ctx, cancel := context.WithTimeout(r.Context(), p.timeout)
	up, resp, err := d.DialContext(ctx, u.String(), p.websocketHeader(r))
	cancel()
	if err != nil {
		p.dialFailed(w, r, resp, err)
		return
	}
	cr.done.Store(true) // frames are bounded by the message limit instead
	respHeader := http.Header{}
	if sp := resp.Header.Get("Sec-Websocket-Protocol"); sp != "" {
		respHeader.Set("Sec-Websocket-Protocol", sp)
	}
	for _, c := range resp.Header["Set-Cookie"] {
		respHeader.Add("Set-Cookie", p.rewriteCookie(c))
	}
	client, err := p.upgrader.Upgrade(w, r, respHeader)
	if err != nil {
		up.Close() // Upgrade has answered the client
		return
	}
	rl := &wsRelay{p: p, client: client, upstream: up, token: TokenFromRequest(r), started: make(chan struct{})}
	if st != nil {
		rl.st = st
		rl.start() // resumed: numbering goes on from the client's number
	} else {
		rl.st = newStream() // numbered once upstream's hello arrives
	}
	p.relay(rl)
}

// originAllowed stops cross-site websocket hijacking. The proxy sends the
// upstream's own origin, so Mattermost's origin check cannot protect the
// user any more: the proxy applies it instead. No Origin (not a browser),
// the same host as the request, or an allowed origin pass.
func (p *proxy) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if p.allowedOrigins[strings.ToLower(origin)] {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// websocketHeader is the handshake request sent upstream: the client's
// end-to-end headers (cookies, Authorization, User-Agent, ...) without
// those the dialer writes itself, and the upstream's own Origin, which
// Mattermost checks against its site URL.
func (p *proxy) websocketHeader(r *http.Request) http.Header {
	var tokBuf [4]string
	named := connectionTokens(r.Header, tokBuf[:0])
	h := make(http.Header, len(r.Header)+4)
	for k, vv := range r.Header {
		if !p.forwardRequestHeader(k, named) {
			continue
		}
		if ck := textproto.CanonicalMIMEHeaderKey(k); !strings.HasPrefix(ck, "Sec-Websocket-") && ck != "Origin" {
			h[ck] = vv
		}
	}
	xff, realIP, proto := p.forwardedValues(r)
	if xff != "" {
		h.Set("X-Forwarded-For", xff)
		h.Set("X-Real-Ip", realIP)
	}
	h.Set("X-Forwarded-Proto", proto)
	h.Set("Origin", p.origin)
	return h
}

// handshakeConn is an upstream websocket connection that refuses to read
// more than left bytes until the handshake is done.
type handshakeConn struct {
	net.Conn
	left int64
	done atomic.Bool
}

func (c *handshakeConn) Read(p []byte) (int, error) {
	if c.done.Load() {
		return c.Conn.Read(p)
	}
	if c.left <= 0 {
		return 0, errHeadTooLarge
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= int64(n)
	return n, err
}

// dialFailed answers a client whose upstream websocket could not be opened:
// with the upstream's own refusal when there is one.
func (p *proxy) dialFailed(w http.ResponseWriter, r *http.Request, resp *http.Response, err error) {
	switch {
	case resp != nil && errors.Is(err, websocket.ErrBadHandshake) && resp.StatusCode >= 200:
		h := w.Header()
		for k, vv := range resp.Header {
			if !isHopHeader(k) && !strings.HasPrefix(k, "Sec-Websocket-") {
				h[k] = vv
			}
		}
		h.Del("Content-Length") // the dialer may have cut the body short
		w.WriteHeader(resp.StatusCode)
		if resp.Body != nil {
			io.Copy(w, io.LimitReader(resp.Body, 64<<10))
		}
	case r.Context().Err() != nil:
		// The client went away.
	case resp != nil && resp.StatusCode < 100:
		p.log.Warn("upstream websocket answered a status under 100", "path", r.URL.Path, "status", resp.StatusCode)
		writeError(w, http.StatusBadGateway, CodeUpstreamBadResponse, msgBadResponse)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		p.log.Warn("upstream websocket timed out", "path", r.URL.Path, "err", err)
		p.writeGatewayTimeout(w)
	default:
		p.log.Warn("upstream websocket unavailable", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusBadGateway, CodeUpstreamUnavailable, msgUnavailable)
	}
}

// relay copies messages both ways until either side ends, then ends the
// other: a close frame is passed on with its code and reason, an abrupt
// drop becomes an abrupt drop. Each direction is one goroutine that reads
// one side and writes the other, so a slow reader slows its writer down
// (backpressure over TCP) and a reader stuck for writeTimeout ends the
// relay. A third goroutine writes the events a SocketObserver adds; it and
// the upstream direction take turns on the client's connection (wmu), one
// whole message at a time. relay returns when all have ended and both
// connections are closed.
func (p *proxy) relay(rl *wsRelay) {
	client, upstream := rl.client, rl.upstream
	done := make(chan struct{})
	errc := make(chan error, 2)
	for _, c := range [...]*websocket.Conn{client, upstream} {
		c.SetReadLimit(p.maxMessage)
		c.SetReadDeadline(time.Now().Add(p.idleTimeout))
	}
	rl.sock = &Socket{inject: make(chan [][]byte, socketQueue), done: done,
		kill: func() { client.Close(); upstream.Close() }}
	if rl.token != "" {
		rl.open(rl.token)
	}
	// Pings and pongs pass end to end (Mattermost pings its clients), and
	// every control frame shows its sender is alive.
	p.forwardControl(client, upstream)
	p.forwardControl(upstream, client)
	go rl.clientToUpstream(errc)
	go rl.upstreamToClient(errc)

	var helpers sync.WaitGroup
	helpers.Add(2)
	go func() {
		defer helpers.Done()
		rl.injectLoop(done)
	}()
	go func() {
		defer helpers.Done()
		t := time.NewTicker(p.pingInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				deadline := time.Now().Add(p.writeTimeout)
				client.WriteControl(websocket.PingMessage, nil, deadline)
				upstream.WriteControl(websocket.PingMessage, nil, deadline)
			}
		}
	}()

	ended := 1
	var ce *websocket.CloseError
	if err := <-errc; errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
		// A close frame was passed on; the other side usually answers it at
		// once, completing the closing handshake. Do not wait long for it.
		grace := time.NewTimer(p.closeGrace)
		select {
		case <-errc:
			ended++
		case <-grace.C:
		}
		grace.Stop()
	}
	close(done)
	client.Close()
	upstream.Close()
	for ; ended < 2; ended++ {
		<-errc
	}
	helpers.Wait()
	if obs := rl.observer(); obs != nil {
		obs.SocketClosed(rl.sock)
	}
}

// forwardControl passes pings and pongs from src on to dst, so the peers
// keep their own liveness checks (Mattermost pings its clients); the
// proxy's own pings only add unsolicited pongs, which peers ignore. Every
// control frame shows src is alive.
func (p *proxy) forwardControl(src, dst *websocket.Conn) {
	alive := func() { src.SetReadDeadline(time.Now().Add(p.idleTimeout)) }
	src.SetPingHandler(func(data string) error {
		alive()
		dst.WriteControl(websocket.PingMessage, []byte(data), time.Now().Add(p.writeTimeout))
		return nil
	})
	src.SetPongHandler(func(data string) error {
		alive()
		dst.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(p.writeTimeout))
		return nil
	})
}

// passClose tells dst that src ended: with src's close code and reason
// when src sent a close frame, with "going away" when the proxy ended it
// (a message over the limit, a silent peer), and not at all when src
// dropped the connection: dst then sees the same abrupt end.
func (p *proxy) passClose(dst *websocket.Conn, err error) {
	var msg []byte
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce):
		switch ce.Code {
		case websocket.CloseAbnormalClosure, websocket.CloseTLSHandshake:
			return // never sent on the wire; src vanished
		case websocket.CloseNoStatusReceived:
			msg = []byte{}
		default:
			msg = websocket.FormatCloseMessage(ce.Code, ce.Text)
		}
	case errors.Is(err, websocket.ErrReadLimit):
		// src was told 1009; dst only needs to know the relay ended.
		msg = websocket.FormatCloseMessage(websocket.CloseGoingAway, "peer sent a message over the proxy's limit")
	case isTimeout(err):
		msg = websocket.FormatCloseMessage(websocket.CloseGoingAway, "peer silent")
	default:
		return
	}
	dst.WriteControl(websocket.CloseMessage, msg, time.Now().Add(p.writeTimeout))
}
