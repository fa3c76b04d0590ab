package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/net/http/httpguts"
)

// The fast lane's buffers: a request head longer than fastHeadMax (large
// cookies, say) goes to net/http, whose limit is the server's
// MaxHeaderBytes.
const (
	fastHeadMax  = 8 << 10
	fastWriteBuf = 4 << 10
	fastMaxLines = 64
)

var (
	fastReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, fastHeadMax) }}
	fastWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, fastWriteBuf) }}
)

// The request headers the fast lane parses for its handlers; each route of
// the table names those its handler reads (route.reads), and gets exactly
// those. A request carrying one of them twice goes to net/http.
const (
	hAuthorization = iota
	hCookie
	hIfNoneMatch
	hAcceptEncoding
	hXRequestedWith
	nKnown
)

var knownHeaders = [nKnown]string{"Authorization", "Cookie", "If-None-Match", "Accept-Encoding", "X-Requested-With"}

// head is a request head the fast lane serves.
type head struct {
	method, target, path, query, host string
	route                             fastRouteKind
	close                             bool
	known                             [nKnown]string
	has                               [nKnown]bool
	// all holds every header but Host, in order, for routeUpstream: the
	// upstream gets what the client sent.
	all []headerField
}

type headerField struct{ name, value string }

type fastRouteKind uint8

const (
	routeNone fastRouteKind = iota
	routeManifest
	routeBundle
	// routeUpstream is GET /api/v4/* passed to Config.Upstream (the proxy
	// to Mattermost, or the sandbox), except what the server answers itself.
	routeUpstream
	nFastKinds
)

// parseHead parses one request head, s (from the request line to the empty
// line, CRLF included). It accepts only what it reads exactly as net/http
// would and what the fast lane serves: an HTTP/1.1 GET of /api/v1/manifest,
// or GET or HEAD of /bundles/{file}, in origin form, without a body,
// upgrade or expectation, with one valid Host, CRLF line ends and no
// obsolete line folding. Anything else reports false, and the connection
// goes to net/http, which answers it (or refuses it) as it always did.
//
// upstream, when not nil, says which GET /api/v4/ paths the router passes
// to the upstream: the fast lane serves those too, with every header kept
// in h.all (appended to all, a buffer to reuse).
func parseHead(s string, upstream func(path string) bool, all []headerField) (h head, ok bool) {
	h.all = all[:0]
	line, rest, found := strings.Cut(s, "\r\n")
	if !found {
		return h, false
	}
	method, line, _ := strings.Cut(line, " ")
	target, proto, _ := strings.Cut(line, " ")
	if proto != "HTTP/1.1" || (method != http.MethodGet && method != http.MethodHead) {
		return h, false
	}
	h.method, h.target = method, target
	if h.route = fastRoute(&h, upstream); h.route == routeNone {
		return h, false
	}
	hostSeen := false
	for lines := 0; ; lines++ {
		if lines == fastMaxLines {
			return h, false
		}
		line, rest, found = strings.Cut(rest, "\r\n")
		if !found {
			return h, false
		}
		if line == "" {
			if rest != "" {
				return h, false // bytes after the head: not a head
			}
			break
		}
		name, value, found := strings.Cut(line, ":")
		if !found || !httpguts.ValidHeaderFieldName(name) || !httpguts.ValidHeaderFieldValue(value) {
			return h, false // obs-fold (a line starting with a space) is an invalid name
		}
		value = trimOWS(value)
		// Names are told apart by length first: most lines are compared
		// with one name or none.
		isHost := false
		switch len(name) {
		case 4:
			if isHost = strings.EqualFold(name, "Host"); isHost {
				if hostSeen || !validHost(value) {
					return h, false
				}
				h.host, hostSeen = value, true
			}
		case 10:
			if strings.EqualFold(name, "Connection") {
				for value != "" {
					var tok string
					tok, value, _ = strings.Cut(value, ",")
					switch tok = trimOWS(tok); {
					case strings.EqualFold(tok, "close"):
						h.close = true
					case strings.EqualFold(tok, "keep-alive"), tok == "":
					default:
						return h, false // upgrade, or a hop-by-hop header named
					}
				}
			}
		case 14:
			if strings.EqualFold(name, "Content-Length") && value != "0" {
				return h, false
			}
		case 17, 7, 6, 2:
			if strings.EqualFold(name, "Transfer-Encoding") || strings.EqualFold(name, "Upgrade") ||
				strings.EqualFold(name, "Expect") || strings.EqualFold(name, "Te") || strings.EqualFold(name, "Trailer") {
				return h, false
			}
		}
		if i := knownHeader(name); i >= 0 {
			if h.has[i] {
				return h, false
			}
			h.known[i], h.has[i] = value, true
		}
		if h.route == routeUpstream && !isHost {
			h.all = append(h.all, headerField{name, value})
		}
	}
	return h, hostSeen
}

// knownHeader is the index in knownHeaders of the header named name, or -1.
func knownHeader(name string) int {
	switch len(name) {
	case 13:
		if strings.EqualFold(name, "Authorization") {
			return hAuthorization
		}
		if strings.EqualFold(name, "If-None-Match") {
			return hIfNoneMatch
		}
	case 6:
		if strings.EqualFold(name, "Cookie") {
			return hCookie
		}
	case 15:
		if strings.EqualFold(name, "Accept-Encoding") {
			return hAcceptEncoding
		}
	case 16:
		if strings.EqualFold(name, "X-Requested-With") {
			return hXRequestedWith
		}
	}
	return -1
}

// trimOWS trims the optional white space (spaces and tabs) around a
// field value, as net/http does.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// fastRoute splits the target and says how the fast lane serves it, if it
// does.
func fastRoute(h *head, upstream func(path string) bool) fastRouteKind {
	t := h.target
	if t == "" || t[0] != '/' {
		return routeNone // absolute form, authority form, "*"
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c <= ' ' || c >= 0x7f || c == '#' {
			return routeNone
		}
	}
	h.path, h.query, _ = strings.Cut(t, "?")
	if strings.IndexByte(h.path, '%') >= 0 {
		return routeNone // escaped paths are net/http's and chi's to decode
	}
	switch {
	case h.path == manifestPath:
		if h.method == http.MethodGet {
			return routeManifest
		}
	case strings.HasPrefix(h.path, "/bundles/"):
		if file := h.path[len("/bundles/"):]; file != "" && strings.IndexByte(file, '/') < 0 {
			return routeBundle
		}
	case upstream != nil && strings.HasPrefix(h.path, "/api/v4/") && h.method == http.MethodGet:
		if upstream(h.path) {
			return routeUpstream
		}
	}
	return routeNone
}

// validHost accepts host names, IPv4 and bracketed IPv6 addresses with an
// optional port: a subset of what net/http accepts.
func validHost(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".-_:[]", c) >= 0) {
			return false
		}
	}
	return true
}

// fastConn is one connection on the fast lane.
type fastConn struct {
	e      *Edge
	c      net.Conn
	remote string
	br     *bufio.Reader
	bw     *bufio.Writer
	cw     *connWriter // under bw
	hdrBuf []byte      // an answer's header block, rendered
	idle   atomic.Bool

	req    http.Request
	url    url.URL
	hdr    http.Header
	vals   [nKnown][1]string
	all    []headerField // parseHead's buffer
	values []string      // backing array of hdr's values on routeUpstream
	w      fastWriter
	rctx   chi.Context // the request's routing context, reused
	ctx    routeCtx    // the request's context: Background with rctx
}

// routeCtx is a context carrying only a routing context: the fast lane's
// requests get one per connection, not one per request.
type routeCtx struct {
	context.Context
	rctx *chi.Context
}

func (c *routeCtx) Value(k any) any {
	if k == chi.RouteCtxKey {
		return c.rctx
	}
	return c.Context.Value(k)
}

func newFastConn(e *Edge, c net.Conn) *fastConn {
	fc := &fastConn{e: e, c: c, remote: c.RemoteAddr().String(), hdr: make(http.Header, nKnown)}
	fc.ctx = routeCtx{Context: context.Background(), rctx: &fc.rctx}
	fc.w = fastWriter{fc: fc, hdr: make(http.Header, 12)}
	return fc
}

// wakeIfIdle interrupts a connection waiting for its next request, for
// Shutdown; one in a request finishes it first.
func (fc *fastConn) wakeIfIdle() {
	if fc.idle.Load() {
		fc.c.SetReadDeadline(time.Now())
	}
}

func (fc *fastConn) serve() {
	handedOff := false
	defer func() {
		// As net/http: http.ErrAbortHandler (the proxy cutting a broken
		// answer short) closes the connection without a log line.
		if v := recover(); v != nil && v != http.ErrAbortHandler {
			fc.e.srv.log.Error("fast lane panic", "remote", fc.remote, "panic", v)
		}
		if fc.bw != nil {
			fc.bw.Reset(nil)
			fastWriters.Put(fc.bw)
		}
		if !handedOff {
			fc.c.Close()
			if fc.br != nil {
				fc.br.Reset(nil)
				fastReaders.Put(fc.br)
			}
		}
		fc.e.untrack(fc)
	}()
	fc.br = fastReaders.Get().(*bufio.Reader)
	fc.br.Reset(fc.c)
	fc.cw = newConnWriter(fc.c)
	fc.bw = fastWriters.Get().(*bufio.Writer)
	fc.bw.Reset(fc.cw)
	e := fc.e
	// The first request's head must come whole within the read header
	// timeout of the connection's start, as net/http's: a connection that
	// says nothing is not an idle keep-alive one, and holding it for the
	// idle timeout let silent connections pile up (issue #15, F05).
	headEnd := deadline(e.readHeader)
	if e.readHeader <= 0 {
		headEnd = deadline(e.idle)
	}
	for first := true; ; first = false {
		// Between requests: the idle timeout, and Shutdown may wake us.
		if fc.br.Buffered() == 0 {
			fc.idle.Store(true)
			if first {
				fc.c.SetReadDeadline(headEnd)
			} else {
				fc.c.SetReadDeadline(deadline(e.idle))
			}
			if e.closing.Load() {
				return
			}
			if _, err := fc.br.Peek(1); err != nil {
				return
			}
			fc.idle.Store(false)
		}
		if !first {
			headEnd = time.Time{} // armed by peekHead if the head must be read further
		}
		raw, full, err := fc.peekHead(headEnd)
		if err != nil {
			return
		}
		var h head
		ok := full
		if ok {
			h, ok = parseHead(string(raw), e.toUpstream, fc.all)
			fc.all = h.all
		}
		var fh *fastHandler
		if ok {
			// The table may serve a kind of path for GET but not HEAD.
			m := 0
			if h.method == http.MethodHead {
				m = 1
			}
			fh = e.routes[h.route][m]
			ok = fh != nil
		}
		if !ok {
			if fc.bw.Flush() != nil {
				return
			}
			fc.c.SetDeadline(time.Time{})
			e.handedOff.Add(1)
			if e.slow.handoff(&prefixConn{Conn: fc.c, r: fc.br}) {
				handedOff = true
			}
			return
		}
		fc.br.Discard(len(raw))
		if e.write > 0 {
			fc.c.SetWriteDeadline(time.Now().Add(e.write))
		}
		e.fastServed.Add(1)
		keep := fc.serveOne(&h, fh)
		if !keep || e.closing.Load() {
			fc.bw.Flush()
			return
		}
		if fc.br.Buffered() == 0 { // answers to pipelined requests go out together
			if fc.bw.Flush() != nil {
				return
			}
		}
	}
}

func deadline(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}

// peekHead returns the buffered bytes of the next request head, reading
// until its empty line. full is false when the head does not fit the
// buffer or has a bare LF (net/http's cases). The read header timeout is
// armed when more than what is buffered must be read: usually the whole
// head came with its first byte, and a deadline not needed is not set.
// A non-zero end is the deadline already armed (the first request's).
func (fc *fastConn) peekHead(end time.Time) (raw []byte, full bool, err error) {
	armed := !end.IsZero()
	for n := fc.br.Buffered(); ; n = fc.br.Buffered() {
		buf, _ := fc.br.Peek(n)
		if i := bytes.Index(buf, crlfcrlf); i >= 0 {
			return buf[:i+4], true, nil
		}
		if hasBareLF(buf) || n >= fc.br.Size() {
			return nil, false, nil
		}
		if !armed {
			fc.c.SetReadDeadline(deadline(fc.e.readHeader))
			armed = true
		}
		if _, err := fc.br.Peek(n + 1); err != nil {
			return nil, false, err
		}
	}
}

var crlfcrlf = []byte("\r\n\r\n")

func hasBareLF(b []byte) bool {
	for i := bytes.IndexByte(b, '\n'); i >= 0; {
		if i == 0 || b[i-1] != '\r' {
			return true
		}
		j := bytes.IndexByte(b[i+1:], '\n')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// serveOne answers one request; false means close the connection.
func (fc *fastConn) serveOne(h *head, fh *fastHandler) bool {
	clear(fc.hdr)
	if fh.all {
		fc.values = upstreamHeader(h, fc.hdr, fc.values)
	} else {
		for i, k := range knownHeaders {
			if h.has[i] && fh.reads&(1<<i) != 0 {
				fc.vals[i][0] = h.known[i]
				fc.hdr[k] = fc.vals[i][:]
			}
		}
	}
	// The routing context chi would give the route: middleware and
	// handlers see the same on both lanes.
	fc.rctx.Reset()
	fc.rctx.RouteMethod, fc.rctx.RoutePath = h.method, h.path
	fc.rctx.RoutePatterns = append(fc.rctx.RoutePatterns, fh.pattern)
	switch h.route {
	case routeBundle:
		fc.rctx.URLParams.Add("file", h.path[len("/bundles/"):])
	case routeUpstream:
		fc.rctx.URLParams.Add("*", h.path[len("/api/v4/"):])
	}
	fc.url = url.URL{Path: h.path, RawQuery: h.query}
	fc.req = http.Request{
		Method: h.method, URL: &fc.url, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: fc.hdr, Body: http.NoBody, Host: h.host, RemoteAddr: fc.remote,
		RequestURI: h.target, Close: h.close,
	}
	w := &fc.w
	w.reset(h.method == http.MethodHead, h.close)
	if h.route == routeUpstream {
		fc.serveUpstream(w, fh.h)
	} else {
		fc.req = *fc.req.WithContext(&fc.ctx)
		fh.h.ServeHTTP(w, &fc.req)
	}
	return w.finish()
}

// serveUpstream passes the request to the upstream with a context that is
// cancelled when the client leaves, as net/http's background read cancels
// a request's context. The watch ends before the serve loop reads again,
// even when the handler panics (http.ErrAbortHandler, say).
func (fc *fastConn) serveUpstream(w *fastWriter, h http.Handler) {
	ctx := &clientGone{fc: fc}
	defer ctx.stop()
	fc.req = *fc.req.WithContext(ctx)
	h.ServeHTTP(w, &fc.req)
}

// upstreamHeader fills dst with h's headers as net/http would (canonical
// names, repeated names in one entry, Host left out), with the values in
// one backing array, values (returned for reuse).
func upstreamHeader(h *head, dst http.Header, values []string) []string {
	values = values[:0]
	for _, f := range h.all {
		k := textproto.CanonicalMIMEHeaderKey(f.name) // no copy when already canonical
		if vv, ok := dst[k]; ok {
			dst[k] = append(vv, f.value)
			continue
		}
		values = append(values, f.value)
		dst[k] = values[len(values)-1 : len(values) : len(values)]
	}
	return values
}

// fastWriter is the http.ResponseWriter of the fast lane: it writes the
// status line and headers as net/http would (Date added, Content-Length
// from the handler or counted, Content-Type sniffed when missing) into
// the connection's buffer. A body of unknown length is held until the
// handler returns and sent with its length, unless the handler flushes or
// it outgrows maxHeldBody: then it is streamed with chunked transfer
// coding, as net/http does.
type fastWriter struct {
	fc          *fastConn
	hdr         http.Header
	status      int
	headerSent  bool
	declared    int64 // Content-Length the handler set, -1 if none
	written     int64
	body        []byte // the body while its length is unknown
	isHead      bool
	closeAfter  bool
	failed      bool
	wroteHeader bool
	chunked     bool // streaming a body of unknown length
}

// maxHeldBody is the most of a body of unknown length held to send it with
// a Content-Length; past it the answer is streamed.
const maxHeldBody = 64 << 10

func (w *fastWriter) reset(isHead, closeAfter bool) {
	clear(w.hdr)
	w.status, w.headerSent, w.wroteHeader, w.failed, w.chunked = 0, false, false, false, false
	w.declared, w.written, w.body = -1, 0, w.body[:0]
	w.isHead, w.closeAfter = isHead, closeAfter
}

func (w *fastWriter) Header() http.Header { return w.hdr }

func (w *fastWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		// As net/http: a status that cannot be sent is the handler's bug,
		// never a 200 (issue #15, F15).
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.wroteHeader {
		return
	}
	if code < 200 { // 1xx: the fast lane's handlers send none
		return
	}
	w.wroteHeader, w.status = true, code
	if cl := w.hdr["Content-Length"]; len(cl) == 1 {
		if n, err := strconv.ParseInt(cl[0], 10, 64); err == nil && n >= 0 {
			w.declared = n
		} else {
			delete(w.hdr, "Content-Length")
		}
	}
}

func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}

func (w *fastWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.isHead {
		w.written += int64(len(p))
		return len(p), nil
	}
	if w.declared < 0 {
		if !w.chunked {
			w.body = append(w.body, p...)
			w.written += int64(len(p))
			if len(w.body) > maxHeldBody {
				w.startChunked()
			}
			return len(p), nil
		}
		w.writeChunk(p)
		w.written += int64(len(p))
		return len(p), nil
	}
	if w.written+int64(len(p)) > w.declared {
		w.closeAfter = true
		return 0, http.ErrContentLength
	}
	if !w.headerSent && w.fc.bw.Buffered() == 0 {
		// Headers and a body larger than the buffer leave in one writev
		// (through the buffer they would be two writes).
		h := w.renderHeader()
		if len(h)+len(p) <= w.fc.bw.Available() {
			w.fc.bw.Write(h)
		} else {
			bufs := net.Buffers{h, p}
			n, err := bufs.WriteTo(w.fc.c)
			n = max(n-int64(len(h)), 0)
			w.written += n
			if err != nil {
				w.failed = true
			}
			return int(n), err
		}
	}
	w.sendHeader()
	n, err := w.fc.bw.Write(p)
	w.written += int64(n)
	if err != nil {
		w.failed = true
	}
	return n, err
}

// Flush sends the headers and what is buffered (blobFiles.send flushes
// the headers before sendfile).
func (w *fastWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.declared < 0 && !w.isHead && bodyAllowed(w.status) && !w.chunked {
		w.startChunked() // the handler streams: so do we
	}
	w.sendHeader()
	if w.fc.bw.Flush() != nil {
		w.failed = true
	}
}

// startChunked sends the headers with Transfer-Encoding: chunked and what
// was held of the body as the first chunk.
func (w *fastWriter) startChunked() {
	w.chunked = true
	w.sendHeader()
	w.writeChunk(w.body)
	w.body = w.body[:0]
}

func (w *fastWriter) writeChunk(p []byte) {
	if len(p) == 0 {
		return // an empty chunk would end the body
	}
	bw := w.fc.bw
	bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(len(p)), 16))
	bw.WriteString("\r\n")
	bw.Write(p)
	if _, err := bw.WriteString("\r\n"); err != nil {
		w.failed = true
	}
}

// sendFileAt sends the headers and then size bytes of the file fd as the
// body, the headers written with MSG_MORE so they leave with the file's
// first bytes, and the file with sendfile(2) at an offset, so one open
// descriptor serves concurrent answers. False, having written nothing,
// when that cannot be done here (not a TCP connection, not an answer with
// that body).
func (w *fastWriter) sendFileAt(fd int, size int64) bool {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.headerSent || w.declared != size || w.isHead || !bodyAllowed(w.status) || w.fc.cw.rcNil() {
		return false
	}
	w.sendHeader()
	w.fc.cw.more = true
	err := w.fc.bw.Flush()
	w.fc.cw.more = false
	if err != nil {
		w.failed = true
		return true
	}
	n, _, err := w.fc.cw.sendFileAt(fd, size)
	w.written += n
	if err != nil {
		w.failed = true
	}
	return true
}

// finish completes the answer; false means close the connection.
func (w *fastWriter) finish() bool {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.headerSent {
		w.sendHeader()
		if w.declared < 0 && !w.isHead && bodyAllowed(w.status) {
			if _, err := w.fc.bw.Write(w.body); err != nil {
				w.failed = true
			}
		}
	}
	if w.chunked {
		if _, err := w.fc.bw.WriteString("0\r\n\r\n"); err != nil {
			w.failed = true
		}
	}
	if w.declared >= 0 && !w.isHead && bodyAllowed(w.status) && w.written != w.declared {
		return false // the handler wrote less than it declared: the client would wait for the rest
	}
	if cap(w.body) > 64<<10 {
		w.body = nil // do not keep a large error body per connection
	}
	return !w.closeAfter && !w.failed
}

func (w *fastWriter) sendHeader() {
	if w.headerSent {
		return
	}
	w.fc.bw.Write(w.renderHeader())
}

// renderHeader marks the header sent and returns the status line and
// header block, in a buffer of the connection's.
func (w *fastWriter) renderHeader() []byte {
	w.headerSent = true
	b := append(w.fc.hdrBuf[:0], "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(w.status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(w.status)...)
	b = append(b, "\r\n"...)
	hasType := false
	for k, vv := range w.hdr {
		if !httpguts.ValidHeaderFieldName(k) {
			continue // as net/http: an invalid name is not sent
		}
		switch k {
		case "Content-Length":
			if !bodyAllowed(w.status) {
				continue
			}
		case "Content-Type":
			hasType = true
		case "Connection", "Transfer-Encoding":
			continue // framing is the lane's
		}
		for _, v := range vv {
			if strings.ContainsAny(v, "\r\n") {
				v = headerNewlineToSpace.Replace(v)
			}
			b = append(append(append(append(b, k...), ": "...), v...), "\r\n"...)
		}
	}
	if _, ok := w.hdr["Date"]; !ok {
		b = append(append(append(b, "Date: "...), httpDate()...), "\r\n"...)
	}
	if bodyAllowed(w.status) && w.declared < 0 && w.chunked {
		if !hasType && len(w.body) > 0 {
			b = append(append(append(b, "Content-Type: "...), http.DetectContentType(w.body)...), "\r\n"...)
		}
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	} else if bodyAllowed(w.status) && w.declared < 0 {
		if !hasType && len(w.body) > 0 {
			b = append(append(append(b, "Content-Type: "...), http.DetectContentType(w.body)...), "\r\n"...)
		}
		// As net/http: a HEAD answer states the length of the body the
		// handler wrote (and that was not sent), if any.
		if n := int64(len(w.body)); !w.isHead || w.written > 0 {
			if w.isHead {
				n = w.written
			}
			b = append(strconv.AppendInt(append(b, "Content-Length: "...), n, 10), "\r\n"...)
		}
	}
	if w.closeAfter || w.fc.e.closing.Load() {
		w.closeAfter = true
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, "\r\n"...)
	w.fc.hdrBuf = b
	return b
}

var headerNewlineToSpace = strings.NewReplacer("\n", " ", "\r", " ")

// httpDate is the Date header's value, formatted once a second.
func httpDate() []byte {
	now := time.Now()
	sec := now.Unix()
	if d := dateCache.Load(); d != nil && d.sec == sec {
		return d.val
	}
	d := &cachedDate{sec: sec, val: now.UTC().AppendFormat(nil, http.TimeFormat)}
	dateCache.Store(d)
	return d.val
}

type cachedDate struct {
	sec int64
	val []byte
}

var dateCache atomic.Pointer[cachedDate]

// clientGone is the context of a request the fast lane passes upstream: it
// is cancelled when the client closes its connection, so the proxy drops
// an upstream exchange nobody waits for (issue #15, F16). The fast lane has
// no background read to notice that; the watch (a goroutine waiting in the
// poller on a peek of the socket, which consumes nothing) starts only when
// a handler first asks for Done, and the proxy asks only once an answer is
// slower than usual (apiv4proxy's fastAnswer), so the usual exchange pays
// nothing but this struct.
type clientGone struct {
	fc      *fastConn
	mu      sync.Mutex
	done    chan struct{}
	err     error
	stopped bool
	exited  chan struct{} // the watch ended; nil when none started
}

func (c *clientGone) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *clientGone) Value(k any) any {
	if k == chi.RouteCtxKey {
		return &c.fc.rctx
	}
	return nil
}

func (c *clientGone) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *clientGone) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if !c.stopped && c.fc.cw.canWatch() {
			// No deadline: the one armed for the head must not end the
			// watch while the upstream takes its time.
			c.fc.c.SetReadDeadline(time.Time{})
			c.exited = make(chan struct{})
			go c.watch()
		}
	}
	return c.done
}

func (c *clientGone) watch() {
	defer close(c.exited)
	if c.fc.cw.waitPeerGone() {
		c.mu.Lock()
		if c.err == nil {
			c.err = context.Canceled
			close(c.done)
		}
		c.mu.Unlock()
	}
}

// stop ends the watch, if one started, before the serve loop reads the
// connection again.
func (c *clientGone) stop() {
	c.mu.Lock()
	c.stopped = true
	exited := c.exited
	if exited != nil {
		c.fc.c.SetReadDeadline(aLongTimeAgo) // wakes the watch
	}
	c.mu.Unlock()
	if exited != nil {
		<-exited
		c.fc.c.SetReadDeadline(time.Time{})
	}
}

// aLongTimeAgo is a deadline that has passed: setting it ends a wait at once.
var aLongTimeAgo = time.Unix(1, 0)
