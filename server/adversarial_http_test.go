package server_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/proxytest"
	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// Adversarial HTTP edge cases (issue #15): what a hostile or broken client
// can do to the Edge's two lanes, each case pinned to the answer it gets.

// edgeWithTimeouts serves e through an Edge whose http.Server has the given
// read header and idle timeouts; it returns the listener's address.
func edgeWithTimeouts(t *testing.T, e *env, readHeader, idle time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	edge := e.srv.NewEdge(&http.Server{Handler: e.srv, ReadHeaderTimeout: readHeader, IdleTimeout: idle})
	go edge.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		edge.Shutdown(ctx)
	})
	return ln.Addr().String()
}

// TestFastLaneSilentConnectionClosedAtHeaderTimeout (F05): a connection
// that never sends a request is closed at the read header timeout, as
// net/http closes it, not held for the idle timeout; so is one that sends
// the start of a head and stops, counted from the connection's start.
func TestFastLaneSilentConnectionClosedAtHeaderTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	const headerTimeout = 300 * time.Millisecond
	addr := edgeWithTimeouts(t, e, headerTimeout, time.Minute)
	for _, tt := range []struct {
		name  string
		first string // sent at once; then nothing
	}{
		{"silent", ""},
		{"a first byte then silence", "G"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			t0 := time.Now()
			c.SetReadDeadline(t0.Add(10 * time.Second)) // far past the header timeout, well short of the idle one
			if tt.first != "" {
				io.WriteString(c, tt.first)
			}
			_, err = io.ReadAll(c) // returns at the server's close
			d := time.Since(t0)
			if err != nil {
				t.Fatalf("not closed by the server after %v: %v", d, err)
			}
			if d < headerTimeout-50*time.Millisecond || d > headerTimeout+3*time.Second {
				t.Errorf("closed after %v, want about the header timeout %v", d, headerTimeout)
			}
		})
	}
}

// TestPluginRoutesNeedTheCSRFHeader (F14): /plugins/{id}/* follows the
// CSRF rule of every other route: a cookie-only request that changes state
// without X-Requested-With: XMLHttpRequest is refused 403
// csrf_header_missing and never reaches the upstream; bearer tokens, GETs
// and requests with the header pass.
func TestPluginRoutesNeedTheCSRFHeader(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var reached []string
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reached = append(reached, r.Method+" "+r.URL.Path)
		mu.Unlock()
		echoUpstream.ServeHTTP(w, r)
	})
	e := newEnv(t, server.Config{Upstream: up})
	if r := e.push("dev", helloPlugin("com.example.csrfroute", "1.0.0")); r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	e.setTeam("alice", "engineering", "com.example.csrfroute", `{"enabled":true}`)
	cookie := "MMAUTHTOKEN=" + e.tokens["bob"]
	for _, tt := range []struct {
		name, user, method string
		hdr                []string
		status             int
		code               string
	}{
		{"cookie POST", "", "POST", []string{"Cookie", cookie}, 403, "csrf_header_missing"},
		{"cookie PUT", "", "PUT", []string{"Cookie", cookie}, 403, "csrf_header_missing"},
		{"cookie DELETE", "", "DELETE", []string{"Cookie", cookie}, 403, "csrf_header_missing"},
		{"cookie PATCH, wrong header value", "", "PATCH", []string{"Cookie", cookie, "X-Requested-With", "fetch"}, 403, "csrf_header_missing"},
		{"cookie POST with the header", "", "POST", []string{"Cookie", cookie, "X-Requested-With", "XMLHttpRequest"}, 200, ""},
		{"cookie GET", "", "GET", []string{"Cookie", cookie}, 200, ""},
		{"bearer POST", "bob", "POST", nil, 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			before := len(reached)
			mu.Unlock()
			r := e.do(tt.user, tt.method, "/plugins/com.example.csrfroute/api/act", "application/json", strings.NewReader(`{}`), tt.hdr...)
			mu.Lock()
			forwarded := len(reached) - before
			mu.Unlock()
			if r.status != tt.status {
				t.Fatalf("%d %s, want %d", r.status, r.body, tt.status)
			}
			if tt.code != "" {
				if c := r.errorCode(t); c != tt.code {
					t.Errorf("code %q, want %q", c, tt.code)
				}
				if forwarded != 0 {
					t.Errorf("a refused request reached the upstream")
				}
			} else if forwarded != 1 {
				t.Errorf("forwarded %d times, want once", forwarded)
			}
		})
	}
}

// TestMetricsLabelsStayBounded (F07): requests with made-up methods, random
// paths and any status an upstream may answer leave /metrics with a bounded
// set of series: unknown methods are one label (OTHER), routes are
// patterns, statuses without a name are counted by class.
func TestMetricsLabelsStayBounded(t *testing.T) {
	t.Parallel()
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, _ := strconv.Atoi(r.URL.Query().Get("status"))
		w.WriteHeader(status)
	})
	e := newEnv(t, server.Config{Upstream: up})
	series := func() (n int, body string) {
		r := e.do("", "GET", "/metrics", "", nil)
		for _, l := range strings.Split(string(r.body), "\n") {
			if strings.HasPrefix(l, "mmtoolkit_http_") {
				n++
			}
		}
		return n, string(r.body)
	}
	rng := rand.New(rand.NewPCG(15, 7))
	letters := "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = letters[rng.IntN(len(letters))]
		}
		return string(b)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range 1000 {
		method := []string{"GET", "POST", "PROPFIND", word(3 + rng.IntN(8))}[rng.IntN(4)]
		path := []string{
			"/" + word(6) + "/" + word(4), // the webapp's or nothing
			"/api/v1/" + word(8),          // unknown API path
			"/api/v4/" + word(5) + "?status=" + strconv.Itoa(200+rng.IntN(800)), // the upstream, any status
			"/plugins/" + strings.ToLower(word(10)) + "/x",                      // an unknown plugin
		}[i%4]
		req, err := http.NewRequest(method, e.url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	n, body := series()
	// 10 method labels and a few dozen status labels are possible per
	// route; what 1000 random requests reach is far fewer.
	if n > 600 {
		t.Errorf("%d mmtoolkit_http_ series after 1000 random requests: the label set grows with the input", n)
	}
	if !strings.Contains(body, `method="OTHER"`) {
		t.Error("no OTHER method label")
	}
	if strings.Contains(body, `code="9`) && !strings.Contains(body, `code="9xx"`) {
		t.Error("a status without a name has a series of its own")
	}
	routes := map[string]bool{}
	for _, m := range regexp.MustCompile(`route="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		routes[m[1]] = true
	}
	for r := range routes {
		if strings.ContainsAny(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") { // the random words are upper case
			t.Errorf("route label %q holds a request's path", r)
		}
	}
	t.Logf("%d series, routes %v", n, routes)
}

// TestEscapedPathsPassThroughByteForByte (F18): an escaped path (%2F, a
// double escape, lower case hex, an escape of a letter) reaches the
// upstream exactly as the client sent it on /api/v4/*, /plugins/{id}/* and
// the plugin proxy, through net/http and through the Edge.
func TestEscapedPathsPassThroughByteForByte(t *testing.T) {
	t.Parallel()
	proxy, err := apiv4proxy.NewProxy(proxytest.RequestLineUpstream(t), apiv4proxy.ProxyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, server.Config{Upstream: proxy})
	_, fast := startEdge(t, e)
	files := helloPlugin("com.example.enc", "1.0.0")
	files["plugin.json"] = strings.Replace(files["plugin.json"], `"description"`,
		`"proxy":[{"method":"GET","path":"/api/v4/files/*"}],"description"`, 1)
	if r := e.push("dev", files); r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	e.setTeam("alice", "engineering", "com.example.enc", `{"enabled":true}`)
	for _, rest := range []string{"a%2Fb", "a%2fb", "a%252Fb", "a%20b%41", "plain"} {
		for _, route := range []struct{ name, path, upstream string }{
			{"/api/v4/*", "/api/v4/files/" + rest + "?q=%2F", "/api/v4/files/" + rest + "?q=%2F"},
			{"/plugins/{id}/*", "/plugins/com.example.enc/files/" + rest + "?q=%2F", "/plugins/com.example.enc/files/" + rest + "?q=%2F"},
			{"plugin proxy", "/api/v1/plugins/com.example.enc/proxy/api/v4/files/" + rest + "?q=%2F", "/api/v4/files/" + rest + "?q=%2F"},
		} {
			for _, lane := range []struct{ name, base string }{{"net/http", e.url}, {"edge", fast}} {
				r := e.doAt(lane.base, "bob", "GET", route.path)
				want := "GET " + route.upstream + " HTTP/1.1"
				if r.status != 200 || string(r.body) != want {
					t.Errorf("%s %s on %s: upstream got %d %q, want %q", route.name, rest, lane.name, r.status, r.body, want)
				}
			}
		}
	}
	// Kept escaped, a dot segment must still not climb out of its route.
	for _, tt := range []struct{ path, code string }{
		{"/api/v1/plugins/com.example.enc/proxy/api/v4/files/%2e%2e/%2e%2e/users/me", "proxy_path_invalid"},
		{"/api/v1/plugins/com.example.enc/proxy/api/v4/files/a%2F..%2F..%2Fusers", "proxy_path_invalid"},
		{"/plugins/com.example.enc/a%2F..%2F..%2F..%2Fapi%2Fv4%2Fusers", "bad_path"},
		{"/api/v4/files/%2e%2e%2F%2e%2e%2Fusers", "bad_path"},
	} {
		if r := e.do("bob", "GET", tt.path, "", nil); r.status != 400 || r.errorCode(t) != tt.code {
			t.Errorf("%s: %d %s, want 400 %s", tt.path, r.status, r.body, tt.code)
		}
	}
}

// TestFastLaneCancelsUpstreamWhenClientLeaves (F16): a GET the fast lane
// passes upstream is cancelled when its client disconnects: the proxy
// closes its upstream connection within a bound, instead of waiting out
// the upstream's timeout (60 s) for an answer nobody reads.
func TestFastLaneCancelsUpstreamWhenClientLeaves(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	received := make(chan struct{}, 1)
	closed := make(chan time.Time, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for { // the request head; then no answer
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if l == "\r\n" {
				break
			}
		}
		received <- struct{}{}
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		io.Copy(io.Discard, br) // until the proxy closes the connection
		closed <- time.Now()
	}()
	_, edge, fast := proxiedEdge(t, "http://"+ln.Addr().String())
	before := edge.FastServed()
	c, err := net.Dial("tcp", strings.TrimPrefix(fast, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET /api/v4/users/me/slow HTTP/1.1\r\nHost: x\r\n\r\n")
	select {
	case <-received:
	case <-time.After(10 * time.Second):
		t.Fatal("the request did not reach the upstream")
	}
	if edge.FastServed() == before {
		t.Fatal("not served by the fast lane")
	}
	left := time.Now()
	c.Close()
	select {
	case at := <-closed:
		// The proxy watches the client once an answer takes over 500 ms.
		if d := at.Sub(left); d > 3*time.Second {
			t.Errorf("the upstream connection closed %v after the client left", d)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the upstream exchange went on 15 s after its client left")
	}
}

// TestFastLaneWatchKeepsTheConnection: watching a client for its leaving
// (F16) must not disturb one that stays: slow upstream answers, pipelined
// requests (the watch sees their bytes and leaves them) and a request after
// them are all answered on the one connection.
func TestFastLaneWatchKeepsTheConnection(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Slower than the proxy's fast answer (500 ms), so it watches.
		time.Sleep(700 * time.Millisecond)
		io.WriteString(w, r.URL.Path)
	}))
	defer up.Close()
	_, edge, fast := proxiedEdge(t, up.URL)
	before := edge.FastServed()
	req := func(p string) string { return "GET " + p + " HTTP/1.1\r\nHost: x\r\n\r\n" }
	rs := rawExchange(t, fast, req("/api/v4/one")+req("/api/v4/two"), "", req("/api/v4/three"))
	want := []string{"/api/v4/one", "/api/v4/two", "/api/v4/three"}
	for i, resp := range rs {
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(body) != want[i] {
			t.Errorf("answer %d: %d %q, want %q", i, resp.StatusCode, body, want[i])
		}
	}
	if n := edge.FastServed() - before; n != 3 {
		t.Errorf("%d answers on the fast lane, want 3", n)
	}
}

// wantRevokedClose reads c until it closes and checks the close is 1008
// session_revoked, within the bound.
func wantRevokedClose(t *testing.T, c *websocket.Conn, within time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(within))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue // events, if any
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || !strings.HasPrefix(ce.Text, "session_revoked") {
			t.Fatalf("the socket ended with %v, want close 1008 session_revoked within %v", err, within)
		}
		return
	}
}

// TestWebsocketClosedOnLogout (F13): logging out through the server's
// /api/v4 (here the sandbox) closes the session's websockets at once,
// with 1008 session_revoked; another user's socket stays open.
func TestWebsocketClosedOnLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	bob, _ := e.dial("bob")
	carol, _ := e.dial("carol")
	if r := e.do("bob", "POST", "/api/v4/users/logout", "", nil); r.status != 200 {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	if r := e.do("bob", "GET", "/api/v1/plugins", "", nil); r.status != 401 {
		t.Fatalf("REST after logout: %d, want 401", r.status)
	}
	wantRevokedClose(t, bob, 5*time.Second)
	// carol's socket still answers.
	carol.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := carol.WriteJSON(map[string]any{"seq": 1, "action": "ping"}); err != nil {
		t.Fatal(err)
	}
	if m := readWS(t, carol, 5*time.Second); m == nil || m.SeqReply != 1 {
		t.Fatalf("carol's socket: %+v", m)
	}
	// The server's logout route takes only POST: other methods on the
	// path still go to the upstream.
	echo := newEnv(t, server.Config{Upstream: echoUpstream})
	for _, method := range []string{"GET", "PUT"} {
		if r := echo.do("bob", method, "/api/v4/users/logout", "", nil); r.status != 200 || !strings.Contains(string(r.body), `"path":"/api/v4/users/logout"`) {
			t.Errorf("%s /api/v4/users/logout: %d %s, want the upstream's answer", method, r.status, r.body)
		}
	}
}

// TestWebsocketClosedWhenSessionRevoked (F13): a session ended elsewhere
// (Mattermost revoked it; here the sandbox, behind the server's back) is
// noticed by the socket's periodic check: closed 1008 session_revoked. A
// GET through /api/v4 (the fast lane's route) does not count as a logout.
func TestWebsocketClosedWhenSessionRevoked(t *testing.T) {
	t.Parallel()
	sb, err := sandbox.Open(filepath.Join(t.TempDir(), "sandbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	srv, err := server.New(registrytest.Open(t), sb, server.Config{Upstream: sb.Handler(),
		Logger: slog.New(slog.DiscardHandler), Timing: server.Timing{WebsocketRevalidate: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	token, _, err := sb.Login(context.Background(), "bob", "mmtoolkit")
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/api/v1/websocket",
		http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if m := readWS(t, c, 5*time.Second); m == nil || m.Event != "hello" {
		t.Fatalf("no hello: %+v", m)
	}
	// The socket answers pings across several checks while the session
	// lives (a ping each 50 ms: under the socket's rate limit).
	pace := time.NewTicker(50 * time.Millisecond)
	defer pace.Stop()
	for seq := int64(1); seq <= 10; seq++ {
		<-pace.C
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := c.WriteJSON(map[string]any{"seq": seq, "action": "ping"}); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var m wsMsg
		if err := c.ReadJSON(&m); err != nil || m.SeqReply != seq {
			t.Fatalf("the socket of a live session: %+v %v", m, err)
		}
	}
	if err := sb.Logout(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	wantRevokedClose(t, c, 5*time.Second)
}

// TestMalformedRequestsOnBothLanes: requests no client should send get the
// same answer through net/http and through the Edge, never a 5xx, and the
// upstream sees none of the malformed ones.
func TestMalformedRequestsOnBothLanes(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var reached []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reached = append(reached, r.Method+" "+r.RequestURI)
		mu.Unlock()
		io.WriteString(w, "upstream")
	}))
	defer up.Close()
	e, _, fast := proxiedEdge(t, up.URL)
	for _, tt := range []struct {
		name, req string
		status    int
		forwarded bool
	}{
		// net/http reads the body as chunked (RFC 9112: Transfer-Encoding
		// wins); the proxy frames what it forwards itself, so no second
		// request hides in the first.
		{"Content-Length and chunked", "POST /api/v4/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 200, true},
		{"two Content-Lengths", "POST /api/v4/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, false},
		{"two Hosts", "GET /api/v4/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, false},
		{"no Host", "GET /api/v4/x HTTP/1.1\r\n\r\n", 400, false},
		{"a NUL in a header value", "GET /api/v4/x HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400, false},
		{"a space before the colon", "GET /api/v4/x HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n", 400, false},
		// net/http joins an obs-fold line to the one before (the fast
		// lane hands such heads to it).
		{"a folded header line", "GET /api/v4/x HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 200, true},
		{"an unknown transfer coding", "POST /api/v4/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, false},
		{"HTTP/2 on a HTTP/1 connection", "GET /api/v4/x HTTP/2.0\r\nHost: x\r\n\r\n", 505, false},
		{"a header block over 2 MiB", "GET /api/v4/x HTTP/1.1\r\nHost: x\r\nX-A: " + strings.Repeat("a", 2<<20) + "\r\n\r\n", 431, false},
		{"a lower-case method", "get /api/v1/manifest HTTP/1.1\r\nHost: x\r\n\r\n", 405, false},
		// The router passes the methods of RFC 9110 (and PATCH) upstream.
		{"a made-up method upstream", "FROB /api/v4/x HTTP/1.1\r\nHost: x\r\n\r\n", 405, false},
		{"dot segments in a bundle name", "GET /bundles/..%2F..%2Fetc%2Fpasswd HTTP/1.1\r\nHost: x\r\n\r\n", 404, false},
		{"an escaped dot-dot upstream", "GET /api/v4/%2e%2e/%2e%2e/plugins/x HTTP/1.1\r\nHost: x\r\n\r\n", 400, false},
		{"a NUL escaped in the path upstream", "GET /api/v4/a%00b HTTP/1.1\r\nHost: x\r\n\r\n", 200, true},
		{"an absolute-form target naming another host", "GET http://evil.example/api/v4/x HTTP/1.1\r\nHost: evil.example\r\n\r\n", 200, true},
	} {
		for _, lane := range []struct{ name, base string }{{"net/http", e.url}, {"edge", fast}} {
			mu.Lock()
			before := len(reached)
			mu.Unlock()
			status := rawStatus(t, lane.base, tt.req)
			mu.Lock()
			forwarded := len(reached) > before
			mu.Unlock()
			if status != tt.status || forwarded != tt.forwarded {
				t.Errorf("%s on %s: %d (forwarded %v), want %d (forwarded %v)", tt.name, lane.name, status, forwarded, tt.status, tt.forwarded)
			}
		}
	}
}

// rawStatus sends req as it is on a new connection and returns the
// status of the answer.
func rawStatus(t *testing.T, base, req string) int {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	go io.WriteString(c, req) // a server may answer before reading it all
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%q...: %v", req[:min(len(req), 40)], err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestUpstreamStatusUnder100OnBothLanes (F15): an upstream answering a
// status under 100 gets the client 502 upstream_bad_response on both lanes
// (the fast lane answered 200 before, net/http a 500 from a panic).
func TestUpstreamStatusUnder100OnBothLanes(t *testing.T) {
	t.Parallel()
	up := proxytest.RawUpstream(t, "HTTP/1.1 042 Odd\r\nContent-Length: 2\r\n\r\n{}")
	e, edge, fast := proxiedEdge(t, up)
	before := edge.FastServed()
	for _, lane := range []struct{ name, base string }{{"net/http", e.url}, {"edge", fast}} {
		for _, method := range []string{"GET", "POST"} {
			r := e.doAt(lane.base, "", method, "/api/v4/users/me")
			if r.status != http.StatusBadGateway || r.errorCode(t) != "upstream_bad_response" {
				t.Errorf("%s %s: %d %s, want 502 upstream_bad_response", method, lane.name, r.status, r.body)
			}
		}
	}
	if edge.FastServed() == before {
		t.Error("no request went through the fast lane")
	}
}

// leavingIdentity is the sandbox's identity, except that once left is set
// the user bob is no longer a member of team.
type leavingIdentity struct {
	*sandbox.Sandbox
	team  string
	left  atomic.Bool
	calls atomic.Int64 // Authenticate calls for bob since left was set
}

func (l *leavingIdentity) Authenticate(ctx context.Context, token string) (*identity.Identity, error) {
	id, err := l.Sandbox.Authenticate(ctx, token)
	if err != nil || !l.left.Load() || id.User.Username != "bob" {
		return id, err
	}
	l.calls.Add(1)
	c := *id
	c.Members = map[string]identity.TeamMember{}
	for tid, m := range id.Members {
		if tid != l.team {
			c.Members[tid] = m
		}
	}
	return &c, nil
}

// TestWebsocketFollowsTeamMembership: a socket's periodic check also
// brings its user's teams up to date: once bob has left engineering, his
// open socket no longer gets engineering's events (it kept getting them
// until it closed).
func TestWebsocketFollowsTeamMembership(t *testing.T) {
	t.Parallel()
	sb, err := sandbox.Open(filepath.Join(t.TempDir(), "sandbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	id := &leavingIdentity{Sandbox: sb, team: sandbox.SeedID("team", "engineering")}
	srv, err := server.New(registrytest.Open(t), id, server.Config{Upstream: sb.Handler(), Logger: slog.New(slog.DiscardHandler),
		Timing: server.Timing{WebsocketRevalidate: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	e := &env{t: t, url: hs.URL, srv: srv, tokens: map[string]string{}}
	for _, u := range []string{"dev", "alice", "bob"} {
		tok, _, err := sb.Login(context.Background(), u, "mmtoolkit")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[u] = tok
	}
	if r := e.push("dev", helloPlugin("com.example.leave", "1.0.0")); r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	bob, _ := e.dial("bob")
	alice, _ := e.dial("alice")
	nextEvent := func(c *websocket.Conn, within time.Duration) *wsMsg {
		for {
			m := readWS(t, c, within)
			if m == nil || m.Event != "hello" {
				return m
			}
		}
	}
	e.setTeam("alice", "engineering", "com.example.leave", `{"enabled":true}`)
	if m := nextEvent(bob, 5*time.Second); m == nil || m.Event != "plugin_enabled" {
		t.Fatalf("bob, a member: %+v", m)
	}
	if m := nextEvent(alice, 5*time.Second); m == nil || m.Event != "plugin_enabled" {
		t.Fatalf("alice: %+v", m)
	}
	id.left.Store(true)
	// Two checks of bob's socket began after he left: the first one's
	// answer has been handed to the hub before the second starts.
	for deadline := time.Now().Add(10 * time.Second); id.calls.Load() < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("bob's socket was not checked again")
		}
	}
	e.setTeam("alice", "engineering", "com.example.leave", `{"enabled":false}`)
	if m := nextEvent(alice, 5*time.Second); m == nil || m.Event != "plugin_disabled" {
		t.Fatalf("alice: %+v", m)
	}
	// The hub handed the event to every connection at once: bob's would be
	// on its way by now.
	if m := nextEvent(bob, 300*time.Millisecond); m != nil {
		t.Fatalf("bob, no longer a member, got %s", m.Event)
	}
}
