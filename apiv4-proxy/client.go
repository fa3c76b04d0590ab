package apiv4proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"
)

// Transport is the one HTTP client transport to the upstream Mattermost
// that every client of it shares: the proxy (REST, and its websocket
// dialer, which takes the transport's dialer and TLS configuration),
// identity (Upstream) and PluginAdmin. cmd builds it once with
// NewTransport and passes it in their options, so one dialer, one TLS
// configuration and one pool of keep-alive connections serve the one
// upstream; each constructor builds its own when none is given.
//
// It is net/http's Transport, tuned for one HTTP/1.1 host, plus one check
// (guardConn): a reused connection on which the upstream sent anything
// while it was idle is closed before a request goes out on it, since those
// bytes would be read as that request's answer, which may be another
// user's (issue #15, F08). A hand-written client stood here until the A/B
// of docs/proxy.md showed it no faster in front of an upstream doing
// Mattermost's work per request.
type Transport struct {
	http   *http.Transport
	dialer *net.Dialer
}

// NewTransport returns the transport: enough idle connections that a
// burst does not reconnect, no environment proxies (the upstream is fixed
// by configuration), no compression (bytes pass through as the upstream
// compressed them), no HTTP/2 (Mattermost speaks HTTP/1.1 behind proxies,
// and websockets need it), bounded answer heads. tlsConfig (nil for the
// defaults) is used for https upstreams; maxIdle bounds the idle
// connections kept (DefaultMaxIdleConns when <= 0).
func NewTransport(tlsConfig *tls.Config, maxIdle int) *Transport {
	if maxIdle <= 0 {
		maxIdle = DefaultMaxIdleConns
	}
	cfg := &tls.Config{}
	if tlsConfig != nil {
		cfg = tlsConfig.Clone()
	}
	// The server name is the upstream's host when unset, as net/http does.
	cfg.NextProtos = []string{"http/1.1"}
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &Transport{dialer: d, http: &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &guardConn{Conn: nc}, nil
		},
		TLSClientConfig:     cfg,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConns:        0, // no overall limit; the per-host one bounds it (one host)
		MaxIdleConnsPerHost: maxIdle,
		// Shorter than the 60 s idle timeout of Mattermost and of most
		// servers and balancers, so the upstream rarely closes a
		// connection just as it is picked (net/http then sends an
		// idempotent request without a body again on a new one).
		IdleConnTimeout:       45 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		// Larger buffers than the 4 KiB default cut syscalls on bodies.
		WriteBufferSize: 32 << 10,
		ReadBufferSize:  32 << 10,
		// Mattermost's heads are a few KiB (the default is 10 MiB).
		MaxResponseHeaderBytes: maxResponseHeadBytes,
	}}
}

// RoundTrip sends r upstream; a reused connection is checked first
// (guardConn.clean).
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	// A trace per request: WithClientTrace composes into the one it is given.
	ctx := httptrace.WithClientTrace(r.Context(), &httptrace.ClientTrace{GotConn: checkReused})
	return t.http.RoundTrip(r.WithContext(ctx))
}

// CloseIdleConnections closes the idle keep-alive connections.
func (t *Transport) CloseIdleConnections() { t.http.CloseIdleConnections() }

// checkReused checks each reused connection before the request is written.
func checkReused(info httptrace.GotConnInfo) {
	if !info.Reused {
		return
	}
	nc := info.Conn
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	if g, ok := nc.(*guardConn); ok && !g.clean() {
		// The write fails on the closed connection; net/http sends a
		// request that can be sent twice again on a new one.
		g.Close()
	}
}

// guardConn is an upstream connection that can tell whether anything
// arrived on it while it sat idle. net/http's Transport keeps a read
// pending on every idle connection and closes one that receives bytes
// while no request is outstanding, but only once the runtime has woken its
// reading goroutine: a request that takes the connection first would get
// those bytes as its answer (TestProxyDiscardsConnectionsWithStrayBytes
// saw it every time). clean closes that window: it wakes the reader out of
// its read, and the reader, the one goroutine that reads the connection,
// looks at the socket without waiting (idleSocketEmpty) before it reads
// again. Go has no other way to ask a socket whether bytes have arrived: a
// read with a short deadline waits for a timer, which the runtime fires
// about 1 ms late on an idle process (measured), on every request.
type guardConn struct {
	net.Conn
	mu      sync.Mutex
	reading bool      // the Transport's reader is in Conn.Read
	check   chan bool // a check waiting for the reader's answer
	closed  bool
}

// errStrayBytes is an idle upstream connection that received bytes.
var errStrayBytes = errors.New("the upstream sent bytes on an idle connection")

// clean reports whether the idle connection can carry a request: it is
// open and nothing arrived on it since its last answer. The reader is
// either in Conn.Read (a deadline in the past wakes it), on its way back
// to it (it answers when it gets there), or handling bytes it read (it
// closes the connection, no request being outstanding yet).
func (g *guardConn) clean() bool {
	ch := make(chan bool, 1)
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false
	}
	g.check = ch
	if g.reading {
		g.Conn.SetReadDeadline(aLongTimeAgo)
	}
	g.mu.Unlock()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case ok := <-ch:
		return ok
	case <-t.C: // the reader never came back: do not trust the connection
		return false
	}
}

func (g *guardConn) Read(p []byte) (int, error) {
	for {
		g.mu.Lock()
		if ch := g.check; ch != nil {
			g.check = nil
			g.mu.Unlock()
			ok := idleSocketEmpty(g.Conn)
			g.Conn.SetReadDeadline(time.Time{})
			ch <- ok
			if !ok {
				g.Close()
				return 0, errStrayBytes
			}
			g.mu.Lock()
		}
		if g.closed {
			g.mu.Unlock()
			return 0, net.ErrClosed
		}
		g.reading = true
		g.mu.Unlock()
		n, err := g.Conn.Read(p)
		g.mu.Lock()
		g.reading = false
		woken := n == 0 && g.check != nil && isTimeout(err)
		g.mu.Unlock()
		if !woken {
			return n, err
		}
	}
}

func (g *guardConn) Close() error {
	g.mu.Lock()
	g.closed = true
	if g.check != nil {
		g.check <- false
		g.check = nil
	}
	g.mu.Unlock()
	return g.Conn.Close()
}

// aLongTimeAgo is a deadline that has passed: setting it unblocks reads
// at once.
var aLongTimeAgo = time.Unix(1, 0)

// maxResponseHeadBytes bounds the head of an upstream answer (status line,
// headers and any 1xx answers before it); Mattermost's are a few KiB.
const maxResponseHeadBytes = 1 << 20

// errHeadTooLarge is an upstream websocket handshake answer whose head
// passed maxResponseHeadBytes.
var errHeadTooLarge = errors.New("upstream answer's header is over 1 MiB")

// errBadTarget is a request the proxy cannot write as HTTP/1.1.
var errBadTarget = errors.New("request target not forwardable")

// outRequest is r as the proxy forwards it: to the upstream's host, the
// base path then r's path byte for byte (%2F stays %2F) and query, with the
// headers forwardRequestHeader lets through (a header value that cannot be
// written on one line is dropped, never split) and the forwarding headers
// of forwardedValues. body (nil for none) is r's body, bounded.
func (p *proxy) outRequest(ctx context.Context, r *http.Request, body *limitedBody) (*http.Request, error) {
	path := r.URL.EscapedPath()
	if path == "" || path[0] != '/' || !validTarget(path) || !validTarget(r.URL.RawQuery) || !httpguts.ValidHeaderFieldName(r.Method) {
		return nil, errBadTarget
	}
	u := &url.URL{Scheme: p.scheme, Host: p.host, Path: p.basePath + r.URL.Path, RawPath: p.rawBasePath + path, RawQuery: r.URL.RawQuery}
	if want := p.rawBasePath + path; u.EscapedPath() != want {
		// r.URL.Path does not decode from its escaped form (a handler may
		// be given any URL): forward what the client sent, as it sent it.
		if strings.HasPrefix(want, "//") {
			return nil, errBadTarget // would read as scheme-relative
		}
		u.Path, u.RawPath, u.Opaque = "", "", want
	}
	h := make(http.Header, len(r.Header)+4)
	var tokBuf [4]string
	named := connectionTokens(r.Header, tokBuf[:0])
	for k, vv := range r.Header {
		if !p.forwardRequestHeader(k, named) || !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		var keep []string
		for i, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				if keep == nil {
					keep = append(make([]string, 0, len(vv)), vv[:i]...)
				}
				continue // cannot be written without splitting the header
			}
			if keep != nil {
				keep = append(keep, v)
			}
		}
		if keep == nil {
			keep = vv
		}
		if len(keep) > 0 {
			h[k] = keep
		}
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = []string{""} // net/http would send its own
	}
	xff, realIP, proto := p.forwardedValues(r)
	if xff != "" {
		h["X-Forwarded-For"] = []string{xff}
		h["X-Real-Ip"] = []string{realIP}
	}
	h["X-Forwarded-Proto"] = []string{proto}
	out := &http.Request{
		Method:     r.Method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       p.host,
		Body:       http.NoBody,
	}
	if body != nil {
		out.Body = body
		out.ContentLength = r.ContentLength // -1 (unknown): sent chunked
		if out.ContentLength == 0 {
			out.ContentLength = -1
		}
	}
	return out.WithContext(ctx), nil
}

// validTarget reports whether a path or query can go in a request line.
func validTarget(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}
