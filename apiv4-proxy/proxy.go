package apiv4proxy

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"golang.org/x/net/http/httpguts"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// ProxyOptions configures NewProxy. Zero fields take the defaults.
type ProxyOptions struct {
	// Timeout bounds how long the upstream may take to start its answer
	// (the response headers) after the request was sent, and a websocket
	// handshake. Over it the client gets 504 upstream_timeout. Default 60s.
	Timeout time.Duration
	// MaxDuration bounds a whole REST exchange, bodies included. Default
	// 5 minutes, Mattermost's own read and write timeouts. Websockets are
	// not bounded by it.
	MaxDuration time.Duration
	// MaxBodyBytes bounds a request body; over it the client gets 413
	// body_too_large. Default 100 MiB, Mattermost's default file size
	// limit (FileSettings.MaxFileSize), so the proxy refuses nothing
	// Mattermost accepts by default.
	MaxBodyBytes int64
	// MaxMessageBytes bounds one websocket message in either direction.
	// Default 16 MiB.
	MaxMessageBytes int64
	// TrustForwardedHeaders keeps the X-Forwarded-For, X-Forwarded-Proto,
	// X-Real-IP and Forwarded headers clients send (and appends to
	// X-Forwarded-For). Set it only behind a load balancer that sets them;
	// otherwise a client could claim any IP address to Mattermost.
	TrustForwardedHeaders bool
	// AllowedOrigins are the browser origins ("https://app.example.com")
	// that may open websockets besides this server's own.
	AllowedOrigins []string
	// Transport is the client transport to the upstream, shared with
	// identity and PluginAdmin (NewTransport); the websocket dialer takes
	// its dialer and TLS configuration. Without it the proxy builds its own
	// from MaxIdleConns and TLSClientConfig; with it, those two are unused.
	Transport *Transport
	// MaxIdleConns bounds the keep-alive connections kept open to the
	// upstream between requests. Default 256.
	MaxIdleConns int
	// TLSClientConfig is used for https upstreams (REST and websockets).
	TLSClientConfig *tls.Config
	// Logger receives upstream failures; default slog.Default().
	Logger *slog.Logger
}

// Defaults of ProxyOptions.
const (
	DefaultProxyTimeout    = 60 * time.Second
	DefaultMaxDuration     = 5 * time.Minute
	DefaultMaxBodyBytes    = 100 << 20
	DefaultMaxMessageBytes = 16 << 20
	DefaultMaxIdleConns    = 256
)

// proxy forwards any request to the same path under the upstream base URL.
type proxy struct {
	scheme, host string // the upstream's; nothing a client sends changes them
	basePath     string // "" or "/chat": the base URL's subpath
	rawBasePath  string // basePath escaped
	origin       string // scheme://host, sent as Origin on websockets
	wsScheme     string // ws or wss

	timeout, maxDuration time.Duration
	maxBody, maxMessage  int64
	trustForwarded       bool
	allowedOrigins       map[string]bool
	transport            *Transport // shared with identity and PluginAdmin
	dialer               websocket.Dialer
	upgrader             websocket.Upgrader
	bufs                 sync.Pool // *[]byte of copyBufferSize
	sockets              *Sockets  // relayed websockets (wsrelay.go)
	log                  *slog.Logger

	// Websocket liveness: the proxy pings both peers every pingInterval
	// and drops a side that has been silent for idleTimeout; a write that
	// cannot finish within writeTimeout (a client that stopped reading)
	// ends the relay instead of holding its buffers forever.
	pingInterval, idleTimeout, writeTimeout, closeGrace time.Duration
}

const copyBufferSize = 32 << 10

// NewProxy returns a handler that forwards every request it is given, REST
// or websocket, to the same path and query under baseURL (so with
// https://example.com/chat, /api/v4/users/me goes to
// https://example.com/chat/api/v4/users/me). docs/proxy.md lists what it
// changes on the way: hop-by-hop headers, forwarding headers, Location and
// Set-Cookie of a subpath, the Origin of websockets.
func NewProxy(baseURL string, opts ProxyOptions) (http.Handler, error) {
	return newProxy(baseURL, opts)
}

func newProxy(baseURL string, opts ProxyOptions) (*proxy, error) {
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultProxyTimeout
	}
	if opts.MaxDuration <= 0 {
		opts.MaxDuration = DefaultMaxDuration
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Transport == nil {
		opts.Transport = NewTransport(opts.TLSClientConfig, opts.MaxIdleConns)
	}
	p := &proxy{
		scheme:         base.Scheme,
		host:           base.Host,
		basePath:       base.Path,
		rawBasePath:    base.EscapedPath(),
		origin:         base.Scheme + "://" + base.Host,
		wsScheme:       map[string]string{"http": "ws", "https": "wss"}[base.Scheme],
		timeout:        opts.Timeout,
		maxDuration:    opts.MaxDuration,
		maxBody:        opts.MaxBodyBytes,
		maxMessage:     opts.MaxMessageBytes,
		trustForwarded: opts.TrustForwardedHeaders,
		allowedOrigins: map[string]bool{},
		transport:      opts.Transport,
		log:            opts.Logger,
		pingInterval:   30 * time.Second,
		idleTimeout:    75 * time.Second,
		writeTimeout:   10 * time.Second,
		closeGrace:     time.Second,
		sockets:        newSockets(),
	}
	for _, o := range opts.AllowedOrigins {
		p.allowedOrigins[strings.ToLower(strings.TrimRight(o, "/"))] = true
	}
	p.bufs.New = func() any { b := make([]byte, copyBufferSize); return &b }
	p.initWebsocket()
	return p, nil
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// "/api/v4/../../plugins/x" would pass a router's /api/v4/* route and
	// reach another route upstream once the upstream cleans the path.
	if hasDotSegment(r.URL.Path) {
		writeError(w, http.StatusBadRequest, CodeBadPath,
			"the path has . or .. segments, which the proxy does not forward: send the resolved path")
		return
	}
	if _, ok := r.Header["Upgrade"]; ok && websocket.IsWebSocketUpgrade(r) {
		p.serveWebsocket(w, r)
		return
	}
	p.serveREST(w, r)
}

func (p *proxy) serveREST(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > p.maxBody {
		p.writeTooLarge(w)
		return
	}
	var body *limitedBody
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		body = &limitedBody{r: r.Body, left: p.maxBody}
	}
	// Time is bounded by the exchange's context: the whole exchange,
	// bodies included, within MaxDuration; the head of the answer within
	// Timeout of the request being sent. Each timer cancels with its own
	// cause, so a timeout is told from a client that went away.
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	total := time.AfterFunc(p.maxDuration, func() { cancel(errExchangeTimeout) })
	defer total.Stop()
	var clock headerClock
	onTimeout := func() { cancel(errHeaderTimeout) }
	if body == nil {
		clock.start(p.timeout, onTimeout)
	} else {
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { clock.start(p.timeout, onTimeout) },
		})
	}
	out, err := p.outRequest(ctx, r, body)
	if err != nil {
		p.exchangeFailed(w, r, body, err)
		return
	}
	resp, err := p.transport.RoundTrip(out)
	if !clock.stop() && err == nil {
		resp.Body.Close()
		err = errHeaderTimeout
	}
	if err != nil {
		if cause := context.Cause(ctx); cause == errHeaderTimeout || cause == errExchangeTimeout {
			err = cause
		}
		p.exchangeFailed(w, r, body, err)
		return
	}
	defer resp.Body.Close()

	if resp.StatusCode < 100 {
		// http.ReadResponse takes any three digits, but 000-099 are no
		// status: net/http's WriteHeader panics on one and the fast lane
		// would answer 200 (issue #15, F15). Closing the body unread
		// closes the connection.
		p.log.Warn("upstream answered a status under 100", "path", r.URL.Path, "status", resp.StatusCode)
		writeError(w, http.StatusBadGateway, CodeUpstreamBadResponse, msgBadResponse)
		return
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// Only websocket requests ask to switch, and they do not come here.
		p.log.Error("upstream switched protocols on a plain request", "path", r.URL.Path)
		writeError(w, http.StatusBadGateway, CodeUpstreamUnavailable, msgUnavailable)
		return
	}
	bp := p.bufs.Get().(*[]byte)
	defer p.bufs.Put(bp)
	p.copyResponseHeader(w.Header(), resp)
	for k := range resp.Trailer {
		w.Header().Add("Trailer", k)
	}
	w.WriteHeader(resp.StatusCode)
	if err := p.copyBody(w, resp, *bp); err != nil {
		if r.Context().Err() == nil && !errors.Is(err, errClientWrite) {
			p.log.Warn("upstream body cut short", "path", r.URL.Path, "err", err)
			// Abort so the client sees a truncated answer, not a complete
			// one (a chunked body would otherwise end cleanly).
			panic(http.ErrAbortHandler)
		}
		return
	}
	for k, vv := range resp.Trailer {
		w.Header()[k] = vv
	}
}

// headerClock is the Timeout for the head of an answer, started when the
// request is sent (at once for a request without a body; for one with a
// body, when net/http reports it written) and stopped when the head came.
type headerClock struct {
	mu    sync.Mutex
	timer *time.Timer
	done  bool
}

func (c *headerClock) start(d time.Duration, f func()) {
	c.mu.Lock()
	if !c.done && c.timer == nil {
		c.timer = time.AfterFunc(d, f)
	}
	c.mu.Unlock()
}

// stop reports false when the timer had fired.
func (c *headerClock) stop() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = true
	return c.timer == nil || c.timer.Stop()
}

// timeoutError is a bound of the proxy running out: a net.Error whose
// Timeout is true, as a deadline's is.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string   { return e.msg }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

// The causes the exchange's context is cancelled with when a bound runs
// out: the upstream did not start its answer within Timeout, or the whole
// exchange took longer than MaxDuration.
var (
	errHeaderTimeout   error = &timeoutError{"upstream did not answer within the timeout"}
	errExchangeTimeout error = &timeoutError{"upstream exchange took longer than the maximum duration"}
)

// exchangeFailed answers a request the upstream did not answer.
func (p *proxy) exchangeFailed(w http.ResponseWriter, r *http.Request, body *limitedBody, err error) {
	switch {
	case body != nil && body.exceeded.Load():
		p.writeTooLarge(w)
	case r.Context().Err() != nil:
		// The client went away; nobody reads an answer.
	case body != nil && body.broken.Load():
		// The client's body broke off; it is probably gone too.
		writeError(w, http.StatusBadRequest, CodeBadRequestBody, "the request body could not be read to its end: send it again")
	case errors.Is(err, errBadTarget):
		writeError(w, http.StatusBadRequest, CodeBadPath, "the request line cannot be forwarded: check the path and query")
	case isTimeout(err):
		p.log.Warn("upstream timed out", "path", r.URL.Path, "err", err)
		p.writeGatewayTimeout(w)
	default:
		p.log.Warn("upstream unavailable", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusBadGateway, CodeUpstreamUnavailable, msgUnavailable)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Messages shared with the server's error mapping (server/errors.go), so a
// client sees the same words whether identity or the proxy hit the problem.
const (
	msgUnavailable = "the Mattermost server cannot be reached or failed: retry; if it persists, check the Mattermost server"
	msgTimeout     = "the Mattermost server did not answer in time: retry; if it persists, check the Mattermost server"
	msgBadResponse = "the Mattermost server answered with something that is not a valid HTTP answer: check the Mattermost server and anything between it and mmtoolkit"
)

func (p *proxy) writeGatewayTimeout(w http.ResponseWriter) {
	writeError(w, http.StatusGatewayTimeout, CodeUpstreamTimeout, msgTimeout)
}

func (p *proxy) writeTooLarge(w http.ResponseWriter) {
	// The rest of the body is not read; the connection cannot be reused.
	w.Header().Set("Connection", "close")
	writeError(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
		fmt.Sprintf("the request body is over the proxy's limit of %d bytes: send less", p.maxBody))
}

// writeError writes the server's error shape, {"error":{"code","message"}}.
func writeError(w http.ResponseWriter, status int, code, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	json.NewEncoder(w).Encode(map[string]body{"error": {code, message}})
}

// target is the upstream URL of a request: the upstream's scheme and host,
// the base path, then the request's path and query. The request's own
// scheme and host (an absolute-form request URI) are ignored.
func (p *proxy) target(in *url.URL) *url.URL {
	u := &url.URL{Scheme: p.scheme, Host: p.host, Path: in.Path, RawPath: in.RawPath, RawQuery: in.RawQuery}
	if p.basePath != "" {
		u.Path = p.basePath + in.Path
		if in.RawPath != "" {
			u.RawPath = p.rawBasePath + in.RawPath
		}
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u
}

// isHopHeader reports headers meaningful for one connection only (RFC
// 9110 section 7.6.1, plus the old Proxy-Connection and Keep-Alive); a
// proxy must not forward them.
func isHopHeader(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// isSpoofable are headers Mattermost trusts because only its own proxy or
// server may set them: Mattermost-User-Id and Mattermost-Plugin-ID are how
// Mattermost tells a plugin who is calling.
func isSpoofable(k string) bool {
	return k == "Mattermost-User-Id" || k == "Mattermost-Plugin-Id"
}

// connectionTokens lists the headers a Connection header names (they are
// hop-by-hop too), without allocating for the usual one or two.
func connectionTokens(h http.Header, buf []string) []string {
	for _, v := range h["Connection"] {
		for v != "" {
			var tok string
			tok, v, _ = strings.Cut(v, ",")
			if tok = textproto.TrimString(tok); tok != "" {
				buf = append(buf, textproto.CanonicalMIMEHeaderKey(tok))
			}
		}
	}
	return buf
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// forwardRequestHeader reports whether a request header (canonical name k)
// goes upstream. Hop-by-hop headers (and those Connection names), the ones
// only Mattermost may set, and those the proxy writes itself do not; the
// client's forwarding headers only when trusted.
func (p *proxy) forwardRequestHeader(k string, named []string) bool {
	k = textproto.CanonicalMIMEHeaderKey(k) // no allocation when already canonical
	switch k {
	case "Host", "Content-Length", "Expect", "X-Forwarded-For", "X-Real-Ip", "X-Forwarded-Proto":
		// Expect is answered by this server when the body is read.
		return false
	case "X-Forwarded-Host", "Forwarded":
		return p.trustForwarded
	}
	return !isHopHeader(k) && !isSpoofable(k) && !contains(named, k)
}

// forwardedValues are the X-Forwarded-For, X-Real-IP and X-Forwarded-Proto
// sent upstream, as Mattermost's recommended nginx configuration sets them:
// the client's address and scheme, or, behind a trusted balancer, what it
// said (with the balancer's address appended to X-Forwarded-For).
func (p *proxy) forwardedValues(r *http.Request) (xff, realIP, proto string) {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	xff, realIP, proto = ip, ip, "http"
	if r.TLS != nil {
		proto = "https"
	}
	if p.trustForwarded {
		// The values are written as they are: one that could not be
		// written on one line (net/http refuses them from the wire, but a
		// handler may be given anything) is not trusted either.
		if prior := r.Header["X-Forwarded-For"]; len(prior) > 0 && ip != "" {
			if joined := strings.Join(prior, ", "); httpguts.ValidHeaderFieldValue(joined) {
				xff = joined + ", " + ip
			}
		}
		if v := r.Header.Get("X-Real-Ip"); v != "" && httpguts.ValidHeaderFieldValue(v) {
			realIP = v
		}
		if v := r.Header.Get("X-Forwarded-Proto"); v != "" && httpguts.ValidHeaderFieldValue(v) {
			proto = v
		}
	}
	return xff, realIP, proto
}

// copyResponseHeader copies the upstream's answer headers, minus hop-by-hop
// ones, with Location and Set-Cookie adjusted to this server.
func (p *proxy) copyResponseHeader(dst http.Header, resp *http.Response) {
	var tokBuf [4]string
	named := connectionTokens(resp.Header, tokBuf[:0])
	for k, vv := range resp.Header {
		if isHopHeader(k) || contains(named, k) {
			continue
		}
		dst[k] = vv
	}
	if loc := resp.Header["Location"]; len(loc) == 1 {
		if l := p.rewriteLocation(loc[0]); l != loc[0] {
			dst["Location"] = []string{l}
		}
	}
	if cookies := resp.Header["Set-Cookie"]; len(cookies) > 0 {
		var out []string
		for i, c := range cookies {
			if nc := p.rewriteCookie(c); nc != c {
				if out == nil {
					out = append([]string(nil), cookies...)
				}
				out[i] = nc
			}
		}
		if out != nil {
			dst["Set-Cookie"] = out
		}
	}
}

// rewriteLocation makes a redirect to the upstream itself point at this
// server: the upstream's origin is dropped and its subpath trimmed. A
// redirect elsewhere is passed on unchanged: the proxy never follows
// redirects, so it is the client's choice to go there, as it would be
// talking to Mattermost directly.
func (p *proxy) rewriteLocation(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	if u.Host != "" {
		if !strings.EqualFold(u.Host, p.host) || (u.Scheme != "" && !strings.EqualFold(u.Scheme, p.scheme)) || u.User != nil {
			return loc
		}
	} else if u.Scheme != "" || !strings.HasPrefix(u.Path, "/") {
		return loc // mailto:, or a relative path: right as it is
	}
	path := u.Path
	if p.basePath != "" {
		rest, ok := strings.CutPrefix(path, p.basePath)
		if !ok || (rest != "" && rest[0] != '/') {
			return loc // outside the subpath: not ours to map
		}
		path = rest
		if path == "" {
			path = "/"
		}
	}
	out := url.URL{Path: path, RawQuery: u.RawQuery, Fragment: u.Fragment}
	return out.String()
}

// rewriteCookie makes an upstream's cookie apply to this server: a Domain
// naming the upstream host is dropped (the cookie becomes this host's) and
// a Path under the upstream's subpath loses the subpath. Other cookies are
// passed unchanged.
func (p *proxy) rewriteCookie(c string) string {
	lower := strings.ToLower(c)
	if !strings.Contains(lower, "domain=") && (p.basePath == "" || !strings.Contains(lower, "path=")) {
		return c
	}
	hostname := p.host
	if h, _, err := net.SplitHostPort(p.host); err == nil {
		hostname = h
	}
	parts := strings.Split(c, ";")
	out := parts[:1]
	for _, a := range parts[1:] {
		name, value, _ := strings.Cut(strings.TrimSpace(a), "=")
		switch strings.ToLower(name) {
		case "domain":
			if strings.EqualFold(strings.TrimPrefix(value, "."), hostname) {
				continue
			}
		case "path":
			if p.basePath != "" {
				if rest, ok := strings.CutPrefix(value, p.basePath); ok && (rest == "" || rest[0] == '/') {
					if rest == "" {
						rest = "/"
					}
					a = " Path=" + rest
				}
			}
		}
		out = append(out, a)
	}
	return strings.Join(out, ";")
}

// errClientWrite marks a failed write to the client (it went away).
var errClientWrite = errors.New("writing to the client")

// copyBody streams the upstream's body to the client with a pooled buffer.
// Answers of unknown length (chunked, server-sent events) are flushed after
// every read, so streamed events arrive when the upstream sends them.
func (p *proxy) copyBody(w http.ResponseWriter, resp *http.Response, buf []byte) error {
	if resp.Body == http.NoBody {
		return nil
	}
	flush := resp.ContentLength < 0 || strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
	var rc *http.ResponseController
	if flush {
		rc = http.NewResponseController(w)
	}
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return fmt.Errorf("%w: %w", errClientWrite, err)
			}
			if flush {
				if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
					return fmt.Errorf("%w: %w", errClientWrite, err)
				}
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// limitedBody bounds a request body: past max bytes reads fail, which
// ends the exchange, and the client gets 413. net/http's Transport reads
// it in its own goroutine, hence the atomics.
type limitedBody struct {
	r        io.ReadCloser
	left     int64
	exceeded atomic.Bool
	broken   atomic.Bool // the client's body broke off
}

var errBodyTooLarge = errors.New("request body too large")

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1] // one byte more than allowed tells "over" from "exactly"
	}
	n, err := b.r.Read(p)
	if int64(n) > b.left {
		b.exceeded.Store(true)
		n, b.left = int(b.left), -1
		return n, errBodyTooLarge
	}
	b.left -= int64(n)
	if err != nil && err != io.EOF {
		b.broken.Store(true)
	}
	return n, err
}

// Close is the Transport's, when the exchange is over; the server closes
// the client's body itself.
func (b *limitedBody) Close() error { return nil }

// hasDotSegment reports whether a path has a "." or ".." segment.
func hasDotSegment(path string) bool {
	if !strings.Contains(path, ".") {
		return false
	}
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
