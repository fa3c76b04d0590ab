package apiv4proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// faultyUpstream is a TCP front for a fake Mattermost. In mode "ok" it
// relays each connection to the fake; in the other modes every new
// connection meets the fault instead. Switching modes closes the open
// connections, so pooled keep-alive connections meet the new mode too.
type faultyUpstream struct {
	t    *testing.T
	ln   net.Listener
	mm   *fakeMattermost
	mode atomic.Value // string

	mu    sync.Mutex
	conns map[net.Conn]bool
	down  bool
}

// upstreamFaults are the modes; each says what the upstream does with a
// connection.
var upstreamFaults = []string{
	"down",          // nothing listens on the port
	"reset",         // reads the request, then resets the connection (RST)
	"close",         // reads the request, then closes without a word
	"stall",         // reads the request and answers nothing for 10 s
	"garbage",       // answers text that is not HTTP
	"binary",        // answers bytes that are not text (a TLS hello)
	"huge-header",   // starts an answer whose header line never ends (over 1 MiB: 502)
	"many-headers",  // starts an answer with header lines that never end
	"endless-1xx",   // answers 100 Continue for ever (over 1 MiB of head: 502)
	"truncated",     // promises 100 bytes of body and sends 10
	"bad-length",    // answers a Content-Length that is not a number
	"slow-headers",  // sends the status line, then a byte every 200 ms
	"http09",        // answers a bare body, no status line
	"bad-status",    // answers a status line with a status of 1000
	"half-then-rst", // sends half a status line, then resets
}

func newFaultyUpstream(t *testing.T) *faultyUpstream {
	t.Helper()
	mm := newFakeMattermost(t, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &faultyUpstream{t: t, ln: ln, mm: mm, conns: map[net.Conn]bool{}}
	f.mode.Store("ok")
	go f.accept()
	t.Cleanup(func() { f.setMode("ok"); ln.Close(); f.closeAll() })
	return f
}

func (f *faultyUpstream) url() string { return "http://" + f.ln.Addr().String() }

func (f *faultyUpstream) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		c.Close()
	}
}

// setMode switches the fault. "down" closes the listener; leaving "down"
// listens on the same port again, as a restarted Mattermost would.
func (f *faultyUpstream) setMode(mode string) {
	f.t.Helper()
	f.mode.Store(mode)
	f.closeAll()
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case mode == "down" && !f.down:
		f.down = true
		f.ln.Close()
	case mode != "down" && f.down:
		ln, err := net.Listen("tcp", f.ln.Addr().String())
		if err != nil {
			f.t.Fatalf("listen again on %s: %v", f.ln.Addr(), err)
		}
		f.ln, f.down = ln, false
		go f.accept()
	}
}

func (f *faultyUpstream) accept() {
	f.mu.Lock()
	ln := f.ln
	f.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns[c] = true
		f.mu.Unlock()
		go func() {
			defer func() {
				f.mu.Lock()
				delete(f.conns, c)
				f.mu.Unlock()
				c.Close()
			}()
			f.serve(c, f.mode.Load().(string))
		}()
	}
}

// readHead reads a request's head, so faults come after a whole request.
func readHead(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" {
			return
		}
	}
}

func (f *faultyUpstream) serve(c net.Conn, mode string) {
	if mode == "ok" {
		up, err := net.Dial("tcp", strings.TrimPrefix(f.mm.url, "http://"))
		if err != nil {
			return
		}
		defer up.Close()
		go func() { io.Copy(up, c); up.Close() }()
		io.Copy(c, up)
		return
	}
	readHead(c)
	c.SetWriteDeadline(time.Now().Add(15 * time.Second))
	write := func(s string) bool { _, err := io.WriteString(c, s); return err == nil }
	switch mode {
	case "reset":
		c.(*net.TCPConn).SetLinger(0)
	case "close":
	case "stall":
		time.Sleep(10 * time.Second)
	case "garbage":
		write("this is not HTTP at all\r\n\r\n")
		time.Sleep(time.Second)
	case "binary":
		write("\x00\xff\xfe\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n")
		time.Sleep(time.Second)
	case "huge-header":
		write("HTTP/1.1 200 OK\r\nX-Big: ")
		chunk := strings.Repeat("a", 64<<10)
		for range 1 << 14 { // up to 1 GiB, unless the reader gives up first
			if !write(chunk) {
				return
			}
		}
	case "many-headers":
		write("HTTP/1.1 200 OK\r\n")
		chunk := strings.Repeat("X-Many: header\r\n", 4<<10)
		for range 1 << 14 {
			if !write(chunk) {
				return
			}
		}
	case "endless-1xx":
		chunk := strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 1<<10)
		for range 1 << 14 {
			if !write(chunk) {
				return
			}
		}
	case "truncated":
		write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":\"ab")
	case "bad-length":
		write("HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\n{}")
		time.Sleep(time.Second)
	case "slow-headers":
		write("HTTP/1.1 200 OK\r\n")
		for range 50 {
			time.Sleep(200 * time.Millisecond)
			if !write("X") {
				return
			}
		}
	case "http09":
		write("{\"id\":\"not a status line\"}\n")
	case "bad-status":
		write("HTTP/1.1 1000 Way Too Far\r\nContent-Length: 0\r\n\r\n")
		time.Sleep(time.Second)
	case "half-then-rst":
		write("HTTP/1.")
		c.(*net.TCPConn).SetLinger(0)
	default:
		f.t.Errorf("unknown fault %q", mode)
	}
}

// faultWants is what a client must get through the proxy for each fault:
// a gateway error with its code, never a hang and never a made-up success.
var faultWants = map[string]struct {
	status int
	code   string
}{
	"down": {502, "upstream_unavailable"}, "reset": {502, "upstream_unavailable"}, "close": {502, "upstream_unavailable"},
	"stall": {504, "upstream_timeout"}, "garbage": {502, "upstream_unavailable"}, "binary": {502, "upstream_unavailable"},
	"huge-header": {502, "upstream_unavailable"}, "many-headers": {502, "upstream_unavailable"},
	"endless-1xx": {502, "upstream_unavailable"}, "bad-length": {502, "upstream_unavailable"},
	"slow-headers": {504, "upstream_timeout"}, "http09": {502, "upstream_unavailable"},
	"bad-status": {502, "upstream_unavailable"}, "half-then-rst": {502, "upstream_unavailable"},
}

// faultBound is how long any answer may take: the proxy's Timeout (1 s
// here) plus slack for a loaded machine. A stalled upstream would hold the
// request 10 s.
const (
	faultTimeout = time.Second
	faultBound   = faultTimeout + 3*time.Second
)

// TestProxyUpstreamFaults sends REST requests through the proxy while the
// upstream misbehaves in each way, then lets it recover: every fault gives
// a clear 502 or 504 with its code within the bound, and the first request
// after the upstream is healthy again succeeds (no pooled broken
// connection, no sticky state).
func TestProxyUpstreamFaults(t *testing.T) {
	f := newFaultyUpstream(t)
	p, err := NewProxy(f.url(), ProxyOptions{Timeout: faultTimeout, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()
	token := f.mm.login("ubob")
	client := &http.Client{Timeout: 30 * time.Second}
	get := func(method string) (int, string, time.Duration, error) {
		var body io.Reader
		if method == "POST" {
			body = strings.NewReader(`{"message":"hi"}`)
		}
		req, _ := http.NewRequest(method, srv.URL+"/api/v4/users/me", body)
		req.Header.Set("Authorization", "Bearer "+token)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", time.Since(start), err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), time.Since(start), err
	}
	// Warm the pool: the faults must also reach connections kept alive.
	if status, body, _, err := get("GET"); status != 200 || err != nil {
		t.Fatalf("healthy upstream: %d %s %v", status, body, err)
	}
	for _, mode := range upstreamFaults {
		t.Run(mode, func(t *testing.T) {
			f.setMode(mode)
			for _, method := range []string{"GET", "POST"} {
				status, body, took, err := get(method)
				if took > faultBound {
					t.Errorf("%s answered after %v, over %v", method, took.Round(time.Millisecond), faultBound)
				}
				if mode == "truncated" {
					// The head was fine, the body broke: the client must
					// see a broken answer, never a clean short one.
					if err == nil {
						t.Errorf("%s: a clean %d %q from a truncated upstream body", method, status, body)
					}
					continue
				}
				want := faultWants[mode]
				if err != nil || status != want.status || !strings.Contains(body, `"code":"`+want.code+`"`) {
					t.Errorf("%s: got %d %q (%v), want %d %s", method, status, body, err, want.status, want.code)
				}
			}
			f.setMode("ok")
			if status, body, _, err := get("GET"); status != 200 || err != nil || !strings.Contains(body, `"username":"bob"`) {
				t.Errorf("after the upstream recovered: %d %s %v", status, body, err)
			}
		})
	}
}

// TestProxyWebsocketUpstreamFaults opens /api/v4/websocket while the
// upstream misbehaves: the handshake is refused with 502/504 and a code in
// bounded time, and a websocket opens once the upstream is back.
func TestProxyWebsocketUpstreamFaults(t *testing.T) {
	f := newFaultyUpstream(t)
	p, err := NewProxy(f.url(), ProxyOptions{Timeout: faultTimeout, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()
	token := f.mm.login("ubob")
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v4/websocket"
	header := http.Header{"Authorization": {"Bearer " + token}}
	dialer := websocket.Dialer{HandshakeTimeout: 30 * time.Second}
	for _, mode := range []string{"down", "reset", "stall", "garbage", "huge-header", "endless-1xx"} {
		t.Run(mode, func(t *testing.T) {
			f.setMode(mode)
			start := time.Now()
			c, resp, err := dialer.Dial(wsURL, header)
			took := time.Since(start)
			if err == nil {
				c.Close()
				t.Fatalf("a websocket opened through a %s upstream", mode)
			}
			if resp == nil {
				t.Fatalf("no answer: %v", err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := faultWants[mode]
			if resp.StatusCode != want.status || !strings.Contains(string(b), `"code":"`+want.code+`"`) {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, b, want.status, want.code)
			}
			if took > faultBound {
				t.Errorf("answered after %v, over %v", took.Round(time.Millisecond), faultBound)
			}
			f.setMode("ok")
			c, _, err = dialer.Dial(wsURL, header)
			if err != nil {
				t.Fatalf("after the upstream recovered: %v", err)
			}
			c.Close()
		})
	}
}

// TestAuthenticateUpstreamFaults: identity checks against a misbehaving
// Mattermost fail with ErrUpstreamUnavailable or ErrUpstreamTimeout (the
// server answers 502/504 with those codes), within the timeout, and a
// failure is not cached: the same token works as soon as the upstream is
// back.
func TestAuthenticateUpstreamFaults(t *testing.T) {
	f := newFaultyUpstream(t)
	u, err := NewUpstream(f.url(), UpstreamOptions{Timeout: faultTimeout})
	if err != nil {
		t.Fatal(err)
	}
	token := f.mm.login("ubob")
	for _, mode := range upstreamFaults {
		t.Run(mode, func(t *testing.T) {
			f.setMode(mode)
			start := time.Now()
			_, err := u.Authenticate(context.Background(), token)
			if took := time.Since(start); took > faultBound {
				t.Errorf("answered after %v, over %v", took.Round(time.Millisecond), faultBound)
			}
			want := ErrUpstreamUnavailable
			if c := faultWants[mode].code; c == "upstream_timeout" {
				want = ErrUpstreamTimeout
			}
			// A head flood ends at net/http's header limit or at the
			// timeout, whichever a loaded machine reaches first.
			flood := mode == "huge-header" || mode == "many-headers" || mode == "endless-1xx"
			if !errors.Is(err, want) && !(flood && errors.Is(err, ErrUpstreamTimeout)) {
				t.Errorf("Authenticate: %v, want %v", err, want)
			}
			f.setMode("ok")
			id, err := u.Authenticate(context.Background(), token)
			if err != nil || id.User.Username != "bob" {
				t.Fatalf("after the upstream recovered: %+v, %v", id, err)
			}
			u.Forget(token) // the next fault must reach the upstream
		})
	}
}
