package apiv4proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"golang.org/x/net/http/httpguts"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// upstreamClient speaks HTTP/1.1 to the one upstream host over a pool of
// keep-alive connections, entirely in the calling goroutine.
//
// Why not http.Transport: every exchange through a Transport passes
// between three goroutines (the caller, the connection's write loop and its
// read loop) over channels, and builds a second header map; on loopback
// that doubled the proxy's CPU per request and kept it well under nginx's
// rate (bench/proxy/RESULTS.md). A proxy to one fixed HTTP/1.1 host needs
// little of what Transport offers: no redirects, no proxies, no HTTP/2, no
// connection racing.
type upstreamClient struct {
	addr        string      // host:port
	tlsConfig   *tls.Config // nil for http
	dialer      net.Dialer
	maxIdle     int
	idleTimeout time.Duration

	mu   sync.Mutex
	idle []*upstreamConn // a stack: the most recently used on top
}

// upstreamConn is one keep-alive connection and its buffers.
type upstreamConn struct {
	nc        net.Conn
	cr        *connReader // nc, as br reads it
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
	reused    bool // it served an exchange before this one
	head      answerHead
}

func newUpstreamClient(base *url.URL, tlsConfig *tls.Config, maxIdle int) *upstreamClient {
	port := base.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[base.Scheme]
	}
	c := &upstreamClient{
		addr:    net.JoinHostPort(base.Hostname(), port),
		dialer:  net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second},
		maxIdle: maxIdle,
		// Shorter than the 60 s idle timeout of Mattermost and of most
		// servers and balancers, so the upstream rarely closes a
		// connection just as the proxy picks it.
		idleTimeout: 45 * time.Second,
	}
	if base.Scheme == "https" {
		cfg := &tls.Config{}
		if tlsConfig != nil {
			cfg = tlsConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = base.Hostname()
		}
		cfg.NextProtos = []string{"http/1.1"}
		c.tlsConfig = cfg
	}
	return c
}

// get returns an idle connection, or a new one. Every idle connection is
// checked before use, with one non-blocking peek (connReader.alive): besides a
// close by the upstream while it sat in the pool, which would lose a
// request that cannot be sent twice, the peek sees bytes the upstream sent
// past the end of its last answer (a second answer, a body longer than its
// Content-Length, a body on a 204, a 304 or a HEAD answer). Those would be
// read as the answer to the next request, which may be another user's
// (issue #15, F08): such a connection is closed instead.
func (c *upstreamClient) get(ctx context.Context, now time.Time) (*upstreamConn, error) {
	for {
		c.mu.Lock()
		n := len(c.idle)
		if n == 0 {
			c.mu.Unlock()
			break
		}
		uc := c.idle[n-1]
		c.idle[n-1] = nil
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		// The last exchange's read deadline may have passed, and a raw
		// read on the connection would fail for that alone.
		uc.nc.SetReadDeadline(time.Time{})
		if now.Sub(uc.idleSince) > c.idleTimeout || uc.br.Buffered() > 0 || !uc.cr.alive() {
			uc.nc.Close()
			continue
		}
		uc.reused = true
		return uc, nil
	}
	return c.dial(ctx)
}

func (c *upstreamClient) dial(ctx context.Context) (*upstreamConn, error) {
	nc, err := c.dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	if c.tlsConfig != nil {
		tc := tls.Client(nc, c.tlsConfig)
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			nc.Close()
			return nil, err
		}
		nc = tc
	}
	cr := &connReader{nc: nc}
	if c.tlsConfig == nil {
		cr.rc = rawConn(nc)
	}
	return &upstreamConn{nc: nc, cr: cr, br: bufio.NewReaderSize(cr, 8<<10), bw: bufio.NewWriterSize(cr, 8<<10)}, nil
}

// maxResponseHeadBytes bounds the head of an upstream answer (status line,
// headers and any 1xx answers before it), as http.Transport's
// MaxResponseHeaderBytes does; Mattermost's are a few KiB.
const maxResponseHeadBytes = 1 << 20

// errHeadTooLarge is an upstream answer whose head passed
// maxResponseHeadBytes.
var errHeadTooLarge = errors.New("upstream answer's header is over 1 MiB")

// connReader is the connection as its bufio.Reader and bufio.Writer see
// it. While the head of an answer is read it bounds its size (a header line
// that never ends would otherwise grow in memory until the timeout), and it
// keeps the connection's last read error, which textproto reports as a
// malformed header when a deadline cuts a line.
//
// A request without a body on a plain TCP connection is not written when
// flushed: it is kept, and sent by the read of the answer, which then waits
// for the answer before it reads (sendThenRead). Written and read
// separately, the read would first find nothing, fail with EAGAIN and only
// then wait: a system call per exchange that cannot succeed.
type connReader struct {
	nc      net.Conn
	rc      syscall.RawConn // nc's descriptor; nil when nc is not plain TCP
	bounded bool            // reading a head: at most left more bytes
	left    int64           //
	err     error           // the last read error of nc

	deferred bool      // keep what is written for the next read
	pending  []byte    // the request kept (a copy: the bufio.Writer reuses its buffer)
	writeEnd time.Time // the write deadline, if the request is written as usual after all
	sendErr  error     // sending the kept request failed
	send1    sendState // sendThenRead's progress
	step     func(fd uintptr) bool

	peek    func(fd uintptr) bool // alive's, made once
	peekBuf [1]byte
	peekErr error
}

// head starts reading an answer's head; body ends it.
func (c *connReader) head() { c.bounded, c.left, c.err = true, maxResponseHeadBytes, nil }
func (c *connReader) body() { c.bounded = false }

// deferSend starts an exchange whose writes must end by end: with allow
// (a request without a body) and a plain TCP connection, the request is
// kept and sent by the next read.
func (c *connReader) deferSend(allow bool, end time.Time) {
	if cap(c.pending) > 64<<10 {
		c.pending = nil // do not keep a large head per connection
	}
	c.pending, c.sendErr = c.pending[:0], nil
	c.deferred, c.writeEnd = allow && c.rc != nil, end
}

func (c *connReader) Write(p []byte) (int, error) {
	if c.deferred {
		c.pending = append(c.pending, p...)
		return len(p), nil
	}
	return c.nc.Write(p)
}

// send writes (the rest of) a kept request as an ordinary write would,
// under the write deadline.
func (c *connReader) send(req []byte) error {
	c.deferred = false
	c.nc.SetWriteDeadline(c.writeEnd)
	_, err := c.nc.Write(req)
	return err
}

func (c *connReader) Read(p []byte) (int, error) {
	if c.bounded {
		if c.left <= 0 {
			c.err = errHeadTooLarge
			return 0, errHeadTooLarge
		}
		if int64(len(p)) > c.left {
			p = p[:c.left]
		}
	}
	var n int
	var err error
	if c.deferred {
		n, err = c.sendThenRead(p)
	} else {
		n, err = c.nc.Read(p)
	}
	c.left -= int64(n)
	if err != nil {
		c.err = err
	}
	return n, err
}

// put returns a connection whose exchange ended cleanly to the pool; one
// with bytes already read past the answer is closed (see get).
func (c *upstreamClient) put(uc *upstreamConn) {
	if uc.br.Buffered() > 0 {
		uc.nc.Close()
		return
	}
	uc.idleSince = time.Now()
	c.mu.Lock()
	if len(c.idle) >= c.maxIdle {
		c.mu.Unlock()
		uc.nc.Close()
		return
	}
	c.idle = append(c.idle, uc)
	// The bottom of the stack is the longest idle: close it once stale,
	// so a burst's connections do not stay open for ever.
	var stale *upstreamConn
	if b := c.idle[0]; uc.idleSince.Sub(b.idleSince) > c.idleTimeout {
		stale = b
		c.idle = append(c.idle[:0], c.idle[1:]...)
	}
	c.mu.Unlock()
	if stale != nil {
		stale.nc.Close()
	}
}

// errBadTarget is a request the proxy cannot write as HTTP/1.1.
var errBadTarget = errors.New("request target not forwardable")

// writeRequest writes r's request line and headers, as the proxy forwards
// them, and the body, to uc. It writes headers straight from r.Header: no
// second header map is built.
func (p *proxy) writeRequest(uc *upstreamConn, r *http.Request, body *limitedBody, buf []byte) error {
	bw := uc.bw
	path := r.URL.EscapedPath()
	if path == "" || path[0] != '/' || !validTarget(path) || !validTarget(r.URL.RawQuery) || !httpguts.ValidHeaderFieldName(r.Method) {
		return errBadTarget
	}
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	bw.WriteString(p.rawBasePath)
	bw.WriteString(path)
	if r.URL.RawQuery != "" {
		bw.WriteByte('?')
		bw.WriteString(r.URL.RawQuery)
	}
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(p.host)
	bw.WriteString("\r\n")

	var tokBuf [4]string
	named := connectionTokens(r.Header, tokBuf[:0])
	for k, vv := range r.Header {
		if !p.forwardRequestHeader(k, named) || !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				continue // cannot be written without splitting the header
			}
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	xff, realIP, proto := p.forwardedValues(r)
	if xff != "" {
		writeHeaderLine(bw, "X-Forwarded-For", xff)
		writeHeaderLine(bw, "X-Real-Ip", realIP)
	}
	writeHeaderLine(bw, "X-Forwarded-Proto", proto)

	chunked := false
	switch {
	case body == nil:
		if methodWithBody(r.Method) {
			bw.WriteString("Content-Length: 0\r\n")
		}
	case r.ContentLength > 0:
		bw.WriteString("Content-Length: ")
		bw.Write(strconv.AppendInt(buf[:0], r.ContentLength, 10))
		bw.WriteString("\r\n")
	default:
		chunked = true
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	bw.WriteString("\r\n")
	if body == nil {
		return bw.Flush()
	}
	return writeBody(bw, body, r.ContentLength, chunked, buf)
}

// writeBody copies the request body with the pooled buffer (bufio's and
// net's ReadFrom would allocate their own), chunk-encoded when its length
// is unknown.
func writeBody(bw *bufio.Writer, body *limitedBody, length int64, chunked bool, buf []byte) error {
	var n int64
	for {
		m, rerr := body.Read(buf)
		if m > 0 {
			n += int64(m)
			if chunked {
				bw.WriteString(strconv.FormatInt(int64(m), 16))
				bw.WriteString("\r\n")
			}
			if _, err := bw.Write(buf[:m]); err != nil {
				return err
			}
			if chunked {
				bw.WriteString("\r\n")
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			body.readErr = rerr
			return rerr
		}
	}
	if chunked {
		bw.WriteString("0\r\n\r\n")
	} else if n != length {
		body.readErr = io.ErrUnexpectedEOF
		return fmt.Errorf("request body: %d of %d bytes: %w", n, length, io.ErrUnexpectedEOF)
	}
	return bw.Flush()
}

func writeHeaderLine(bw *bufio.Writer, k, v string) {
	bw.WriteString(k)
	bw.WriteString(": ")
	bw.WriteString(v)
	bw.WriteString("\r\n")
}

// methodWithBody are the methods whose requests carry a body by
// definition; a length of 0 is sent for them, as Go's client does.
func methodWithBody(m string) bool { return m == "POST" || m == "PUT" || m == "PATCH" }

// idempotent methods may be sent again when a reused connection turns out
// to be closed before any answer arrived (RFC 9110 section 9.2.2).
func idempotent(m string) bool {
	switch m {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
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

// readResponse reads the upstream's answer to r, skipping informational
// (1xx) answers other than 101.
func (uc *upstreamConn) readResponse(r *http.Request) (*http.Response, error) {
	if resp, ok := uc.head.parse(uc.br, r); ok {
		return resp, nil
	}
	for {
		resp, err := http.ReadResponse(uc.br, r)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols || resp.StatusCode < 100 {
			return resp, nil
		}
	}
}
