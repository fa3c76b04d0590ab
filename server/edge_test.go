package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// startEdge serves e's server through an Edge on loopback too, and returns
// its base URL.
func startEdge(t *testing.T, e *env) (*server.Edge, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: e.srv, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
	edge := e.srv.NewEdge(hs)
	done := make(chan error, 1)
	go func() { done <- edge.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		edge.Shutdown(ctx)
		if err := <-done; err != http.ErrServerClosed {
			t.Errorf("Serve returned %v", err)
		}
	})
	return edge, "http://" + ln.Addr().String()
}

// proxiedEdge is a server whose /api/v4 is apiv4proxy in front of
// upstream, served through an Edge too (its base URL).
func proxiedEdge(t *testing.T, upstream string) (*env, *server.Edge, string) {
	t.Helper()
	proxy, err := apiv4proxy.NewProxy(upstream, apiv4proxy.ProxyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, server.Config{Upstream: proxy})
	edge, fast := startEdge(t, e)
	return e, edge, fast
}

// doAt is e.do against another base URL.
func (e *env) doAt(base, user, method, path string, hdr ...string) response {
	e.t.Helper()
	saved := e.url
	e.url = base
	defer func() { e.url = saved }()
	return e.do(user, method, path, "", nil, hdr...)
}

// comparable is what a client sees of an answer, without the Date.
func (r response) comparable() string {
	var keys []string
	body := string(r.body)
	if id := r.header.Get("X-Request-Id"); id != "" { // a new one per request (the sandbox's)
		body = strings.ReplaceAll(body, id, "<request id>")
	}
	for k := range r.header {
		if k != "Date" && k != "X-Request-Id" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", r.status)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(r.header[k], ", "))
	}
	b.WriteString(body)
	return b.String()
}

func TestFastLaneMatchesNetHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{BlobFiles: t.TempDir()})
	edge, fast := startEdge(t, e)
	r := e.push("dev", bigPlugin(t, "com.example.big", "1.0.0"))
	if r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	e.push("dev", helloPlugin("com.example.hello", "1.0.0"))
	for _, id := range []string{"com.example.big", "com.example.hello"} {
		if r := e.do("admin", "PUT", "/api/v1/teams/engineering/plugins/"+id, "application/json", strings.NewReader(`{"enabled":true}`)); r.status != 200 {
			t.Fatal(r.status, string(r.body))
		}
	}
	big := r.json(t)["bundles"].(map[string]any)["web"].(map[string]any)["url"].(string)
	e.waitIdle()
	// Served once from memory on each lane, so that files exist for what follows.
	for _, base := range []string{e.url, fast} {
		for _, enc := range []string{"identity", "gzip", "br"} {
			e.doAt(base, "", "GET", big, "Accept-Encoding", enc)
		}
	}
	e.waitIdle()
	etag := e.do("bob", "GET", "/api/v1/manifest?team=engineering", "", nil).header.Get("Etag")
	if etag == "" {
		t.Fatal("no manifest ETag")
	}

	type req struct {
		user, method, path string
		hdr                []string
	}
	cases := []req{
		{"bob", "GET", "/api/v1/manifest?team=engineering", nil},
		{"bob", "GET", "/api/v1/manifest?team=engineering&platform=web", []string{"If-None-Match", etag}},
		{"bob", "GET", "/api/v1/manifest?team=engineering", []string{"If-None-Match", `W/"nope", ` + etag}},
		{"bob", "GET", "/api/v1/manifest?team=engineering", []string{"If-None-Match", `"other"`}},
		{"bob", "GET", "/api/v1/manifest?team=" + e.teams["engineering"], nil},
		{"bob", "GET", "/api/v1/manifest?team=sales", nil}, // 403 not_team_member
		{"bob", "GET", "/api/v1/manifest?team=nope", nil},  // 404
		{"bob", "GET", "/api/v1/manifest", nil},            // 400 team_required
		{"bob", "GET", "/api/v1/manifest?team=engineering&platform=ios", nil},
		{"", "GET", "/api/v1/manifest?team=engineering", nil}, // 401
		{"", "GET", "/api/v1/manifest?team=engineering", []string{"Authorization", "Bearer nope"}},
		{"", "GET", "/api/v1/manifest?team=engineering", []string{"Cookie", "MMAUTHTOKEN=" + e.tokens["bob"]}},
		{"", "GET", "/api/v1/manifest?team=engineering&access_token=" + e.tokens["bob"], nil},
		{"", "GET", big, []string{"Accept-Encoding", "identity"}},
		{"", "GET", big, []string{"Accept-Encoding", "gzip"}},
		{"", "GET", big, []string{"Accept-Encoding", "gzip, deflate, br, zstd"}},
		{"", "HEAD", big, []string{"Accept-Encoding", "gzip"}},
		{"", "GET", big, []string{"If-None-Match", `"` + strings.TrimSuffix(strings.TrimPrefix(big, "/bundles/"), ".js") + `"`}},
		{"", "GET", "/bundles/" + strings.Repeat("0", 64) + ".js", nil},
		{"", "GET", strings.TrimSuffix(big, ".js") + ".map", nil},
		{"", "GET", "/bundles/x", nil},
		{"", "HEAD", "/bundles/x.js", nil},
		// GET /api/v4/*: the upstream (here the sandbox) with every header.
		{"bob", "GET", "/api/v4/users/me", nil},
		{"bob", "GET", "/api/v4/users/me/teams", []string{"Accept", "application/json", "X-Requested-With", "XMLHttpRequest"}},
		{"bob", "GET", "/api/v4/users/me/teams/members", []string{"Cookie", "a=b"}},
		{"", "GET", "/api/v4/users/me", []string{"Cookie", "MMAUTHTOKEN=" + e.tokens["bob"]}},
		{"", "GET", "/api/v4/users/me", nil},
		{"bob", "GET", "/api/v4/nope", nil},
	}
	before, filesBefore := edge.FastServed(), e.srv.BlobFilesSent()
	for _, c := range cases {
		slow := e.doAt(e.url, c.user, c.method, c.path, c.hdr...)
		n0 := edge.FastServed()
		fastR := e.doAt(fast, c.user, c.method, c.path, c.hdr...)
		if n := edge.FastServed() - n0; n != 1 {
			t.Errorf("%s %s: %d fast-lane answers", c.method, c.path, n)
		}
		if s, f := slow.comparable(), fastR.comparable(); s != f {
			t.Errorf("%s %s %v:\nnet/http:\n%.600s\nfast lane:\n%.600s", c.method, c.path, c.hdr, s, f)
		}
		if fastR.header.Get("Date") == "" {
			t.Errorf("%s %s: no Date", c.method, c.path)
		}
	}
	if got := edge.FastServed() - before; got != uint64(len(cases)) {
		t.Errorf("the fast lane answered %d of the %d requests", got, len(cases))
	}
	// The three GETs and the HEAD of the big bundle, on each lane.
	if got := e.srv.BlobFilesSent() - filesBefore; got != 8 {
		t.Errorf("%d answers from blob files, want 8", got)
	}
	m := string(e.do("", "GET", "/metrics", "", nil).body)
	for _, want := range []string{"mmtoolkit_edge_fast_requests_total ", "mmtoolkit_edge_handoffs_total ", "mmtoolkit_bundles_sent_from_files_total ",
		`mmtoolkit_http_requests_total{method="GET",route="/api/v1/manifest",code="304"}`,
		`mmtoolkit_http_requests_total{method="HEAD",route="/bundles/{file}",code="200"}`,
		`mmtoolkit_http_requests_total{method="GET",route="/api/v4/*",code="200"}`} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
}

// rawExchange writes requests on one connection and reads as many answers.
func rawExchange(t *testing.T, base string, requests ...string) []*http.Response {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	var out []*http.Response
	for _, rq := range requests {
		if _, err := io.WriteString(c, rq); err != nil {
			t.Fatal(err)
		}
		method, _, _ := strings.Cut(rq, " ")
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("after %q: %v", rq, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		out = append(out, resp)
	}
	return out
}

func TestFastLaneHandsConnectionsToNetHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	edge, fast := startEdge(t, e)
	tok := e.tokens["bob"]
	manifest := "GET /api/v1/manifest?team=engineering HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok + "\r\n\r\n"

	// Fast, then an ordinary route (the hand-off, mid-connection), then fast
	// again, now served by net/http on the same connection.
	before := edge.HandedOff()
	rs := rawExchange(t, fast, manifest, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", manifest)
	for i, r := range rs {
		if r.StatusCode != 200 {
			t.Errorf("answer %d: %d", i, r.StatusCode)
		}
	}
	if edge.HandedOff()-before != 1 {
		t.Errorf("hand-offs: %d, want 1", edge.HandedOff()-before)
	}

	// Pipelined: three requests in one write, three answers in order.
	c, err := net.Dial("tcp", strings.TrimPrefix(fast, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, manifest+strings.Replace(manifest, "engineering", "sales", 1)+manifest)
	br := bufio.NewReader(c)
	for i, want := range []int{200, 403, 200} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != want {
			t.Errorf("pipelined answer %d: %d, want %d", i, resp.StatusCode, want)
		}
	}

	// What the fast lane leaves to net/http, which answers as it always did.
	for _, tt := range []struct {
		name, req string
		status    int
	}{
		{"HTTP/1.0", "GET /api/v1/manifest?team=engineering HTTP/1.0\r\nAuthorization: Bearer " + tok + "\r\n\r\n", 200},
		{"no Host", "GET /api/v1/manifest?team=engineering HTTP/1.1\r\nAuthorization: Bearer " + tok + "\r\n\r\n", 400},
		{"two Hosts", "GET /api/v1/manifest?team=engineering HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
		{"space before colon", "GET /api/v1/manifest?team=engineering HTTP/1.1\r\nHost : x\r\n\r\n", 400},
		{"folded line", "GET /api/v1/manifest?team=engineering HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer\r\n " + tok + "\r\n\r\n", 200},
		{"bare LF", "GET /api/v1/manifest?team=engineering HTTP/1.1\nHost: x\nAuthorization: Bearer " + tok + "\n\n", 200},
		{"absolute form", "GET http://x/api/v1/manifest?team=engineering HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok + "\r\n\r\n", 200},
		{"escaped path", "GET /api/v1/%6Danifest?team=engineering HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok + "\r\n\r\n", 200},
		{"body", "GET /api/v1/manifest?team=engineering HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nAuthorization: Bearer " + tok + "\r\n\r\nhi", 200},
		{"chunked", "GET /api/v1/manifest?team=engineering HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nAuthorization: Bearer " + tok + "\r\n\r\n0\r\n\r\n", 200},
		{"two tokens", "GET /api/v1/manifest?team=engineering HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nAuthorization: Bearer " + tok + "\r\n\r\n", 401},
		{"big cookie", "GET /api/v1/manifest?team=engineering HTTP/1.1\r\nHost: x\r\nCookie: junk=" + strings.Repeat("j", 9000) + "\r\nAuthorization: Bearer " + tok + "\r\n\r\n", 200},
		{"HEAD manifest", "HEAD /api/v1/manifest?team=engineering HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok + "\r\n\r\n", 200},
		{"nested bundle path", "GET /bundles/a/b.js HTTP/1.1\r\nHost: x\r\n\r\n", 404},
		{"the server's own /api/v4 route", "GET /api/v4/plugins/webapp HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok + "\r\n\r\n", 200},
		{"/api/v4 POST", "POST /api/v4/nope HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nAuthorization: Bearer " + tok + "\r\n\r\n", 404},
		{"websocket", "GET /api/v4/websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 101},
	} {
		before := edge.HandedOff()
		got := rawExchange(t, fast, tt.req)[0]
		if got.StatusCode != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, got.StatusCode, tt.status)
		}
		if edge.HandedOff()-before != 1 {
			t.Errorf("%s: not handed to net/http", tt.name)
		}
	}

	// Connection: close is honoured on the fast lane.
	c2, err := net.Dial("tcp", strings.TrimPrefix(fast, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c2, strings.Replace(manifest, "\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1))
	all, err := io.ReadAll(c2) // returns only when the server closes
	if err != nil || !strings.HasPrefix(string(all), "HTTP/1.1 200 OK\r\n") || !strings.Contains(string(all), "Connection: close\r\n") {
		t.Errorf("Connection: close: %v %.200q", err, all)
	}
}

func TestEdgeShutdown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	edge := e.srv.NewEdge(&http.Server{Handler: e.srv, IdleTimeout: time.Minute})
	done := make(chan error, 1)
	go func() { done <- edge.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	// An idle connection on each lane.
	fastIdle, _ := net.Dial("tcp", ln.Addr().String())
	defer fastIdle.Close()
	io.WriteString(fastIdle, "GET /api/v1/manifest?team=engineering HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+e.tokens["bob"]+"\r\n\r\n")
	slowIdle, _ := net.Dial("tcp", ln.Addr().String())
	defer slowIdle.Close()
	io.WriteString(slowIdle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, c := range []net.Conn{fastIdle, slowIdle} {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("before shutdown: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	t0 := time.Now()
	if err := edge.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("Shutdown took %v with only idle connections", d)
	}
	if err := <-done; err != http.ErrServerClosed {
		t.Errorf("Serve: %v", err)
	}
	for name, c := range map[string]net.Conn{"fast": fastIdle, "slow": slowIdle} {
		if n, err := c.Read(make([]byte, 1)); err == nil {
			t.Errorf("%s idle connection still open after Shutdown (%d bytes)", name, n)
		}
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("still accepting after Shutdown")
	}
}

// TestFastLaneProxiesAsNetHTTPDoes puts apiv4proxy in front of an upstream
// that echoes what it receives: both lanes must forward the same request.
func TestFastLaneProxiesAsNetHTTPDoes(t *testing.T) {
	t.Parallel()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		h.Del("X-Forwarded-For") // the client's port differs between the two connections
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "MMUSERID=u; Path=/")
		// Padded past the fast lane's 4 KiB write buffer: headers and body
		// then leave in one writev.
		json.NewEncoder(w).Encode(map[string]any{"uri": r.RequestURI, "host": r.Host, "header": h,
			"xff_is_loopback": strings.HasPrefix(r.Header.Get("X-Forwarded-For"), "127.0.0.1"),
			"pad":             strings.Repeat("p", 10000)})
	}))
	defer echo.Close()
	e, edge, fast := proxiedEdge(t, echo.URL)
	before := edge.FastServed()
	for _, hdr := range [][]string{
		nil,
		{"Accept", "application/json", "X-Requested-With", "XMLHttpRequest", "Cookie", "MMAUTHTOKEN=abc; MMUSERID=u"},
		{"Connection", "keep-alive, Te", "Te", "trailers"}, // hop-by-hop: net/http's lane
		{"X-Forwarded-For", "10.0.0.1", "Mattermost-User-Id", "forged", "Accept-Language", "de"},
		{"Authorization", "Bearer tok", "User-Agent", "mmtoolkit-test", "If-None-Match", `"abc"`},
	} {
		slow := e.doAt(e.url, "", "GET", "/api/v4/users/me/status?x=1&y=%20", hdr...)
		fastR := e.doAt(fast, "", "GET", "/api/v4/users/me/status?x=1&y=%20", hdr...)
		if s, f := slow.comparable(), fastR.comparable(); s != f || slow.status != 200 {
			t.Errorf("%v:\nnet/http:\n%s\nfast lane:\n%s", hdr, s, f)
		}
	}
	if edge.FastServed() == before {
		t.Error("no request went through the fast lane")
	}
}

// TestFastLaneTimeouts: a head that stops coming and an idle connection
// are closed by the http.Server's ReadHeaderTimeout and IdleTimeout, on the
// fast lane too.
func TestFastLaneTimeouts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: e.srv, ReadHeaderTimeout: 300 * time.Millisecond, IdleTimeout: 600 * time.Millisecond}
	edge := e.srv.NewEdge(hs)
	go edge.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		edge.Shutdown(ctx)
	}()
	for _, tt := range []struct {
		name, send string
		within     time.Duration
	}{
		{"a head cut short", "GET /api/v1/manifest?team=engineering HTTP/1.1\r\nHost: x\r\n", 300 * time.Millisecond},
		{"idle after an answer", "GET /bundles/x.js HTTP/1.1\r\nHost: x\r\n\r\n", 600 * time.Millisecond},
	} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		t0 := time.Now()
		io.WriteString(c, tt.send)
		io.ReadAll(c) // until the server closes
		if d := time.Since(t0); d < tt.within || d > tt.within+2*time.Second {
			t.Errorf("%s: closed after %v, want about %v", tt.name, d, tt.within)
		}
		c.Close()
	}
}

// TestFastLaneLargeBodyFromMemory: a body larger than the fast lane's write
// buffer (a bundle without blob files) goes out whole and the connection
// stays usable.
func TestFastLaneLargeBodyFromMemory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	edge, fast := startEdge(t, e)
	r := e.push("dev", bigPlugin(t, "com.example.big", "1.0.0"))
	big := r.json(t)["bundles"].(map[string]any)["web"].(map[string]any)["url"].(string)
	slow := e.doAt(e.url, "", "GET", big, "Accept-Encoding", "identity")
	before := edge.FastServed()
	req := "GET " + big + " HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n"
	rs := rawExchange(t, fast, req, req)
	for i, resp := range rs {
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(body) != string(slow.body) || resp.Header.Get("Etag") != slow.header.Get("Etag") {
			t.Errorf("answer %d: %d, %d bytes (want %d)", i, resp.StatusCode, len(body), len(slow.body))
		}
	}
	if edge.FastServed()-before != 2 {
		t.Errorf("fast-lane answers: %d, want 2", edge.FastServed()-before)
	}
}

// TestFastLaneStreams: an upstream answer of unknown length that the proxy
// flushes as it comes reaches the client as it comes (chunked), not when
// it ends.
func TestFastLaneStreams(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		io.WriteString(w, "second\n")
	}))
	defer up.Close()
	_, edge, fast := proxiedEdge(t, up.URL)
	before := edge.FastServed()
	c, err := net.Dial("tcp", strings.TrimPrefix(fast, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, "GET /api/v4/stream HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" || len(resp.TransferEncoding) == 0 {
		t.Fatalf("the first part did not arrive before the answer ended: %q %v %v", line, err, resp.TransferEncoding)
	}
	close(release)
	if rest, err := io.ReadAll(br); err != nil || string(rest) != "second\n" {
		t.Fatalf("rest: %q %v", rest, err)
	}
	if edge.FastServed() == before {
		t.Error("not served by the fast lane")
	}
}

// TestFastLaneCutUpstreamAnswer: an upstream answer cut short reaches the
// client cut short on the fast lane too (never as a complete answer).
func TestFastLaneCutUpstreamAnswer(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, bw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		if r.URL.Path == "/api/v4/cut-chunked" {
			bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
		} else {
			bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nonly ten b")
		}
		bw.Flush()
	}))
	defer up.Close()
	_, edge, fast := proxiedEdge(t, up.URL)
	for _, path := range []string{"/api/v4/cut-length", "/api/v4/cut-chunked"} {
		before := edge.FastServed()
		resp, err := http.Get(fast + path)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if err == nil {
			t.Errorf("%s: a cut answer arrived complete", path)
		}
		if edge.FastServed() == before {
			t.Errorf("%s: not served by the fast lane", path)
		}
	}
}

// TestFastLaneFilesOverUnixSocket: without a TCP connection there is no
// sendfile at an offset; a bundle file still goes out whole, with its
// headers, through the fast lane's ordinary writes.
func TestFastLaneFilesOverUnixSocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{BlobFiles: t.TempDir()})
	r := e.push("dev", bigPlugin(t, "com.example.big", "1.0.0"))
	big := r.json(t)["bundles"].(map[string]any)["web"].(map[string]any)["url"].(string)
	want := e.do("", "GET", big, "", nil, "Accept-Encoding", "identity") // leaves the file behind
	e.waitIdle()

	sock := filepath.Join(t.TempDir(), "mm.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	edge := e.srv.NewEdge(&http.Server{Handler: e.srv})
	go edge.Serve(ln)
	defer edge.Shutdown(context.Background())
	client := &http.Client{Transport: &http.Transport{DisableCompression: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	sent, fastBefore := e.srv.BlobFilesSent(), edge.FastServed()
	for i := 0; i < 2; i++ { // twice: the connection stays usable
		resp, err := client.Get("http://mm" + big)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != string(want.body) || resp.Header.Get("Content-Length") != want.header.Get("Content-Length") {
			t.Fatalf("answer %d: %d, %d bytes, want %d", i, resp.StatusCode, len(body), len(want.body))
		}
	}
	if e.srv.BlobFilesSent()-sent != 2 || edge.FastServed()-fastBefore != 2 {
		t.Errorf("from files %d, on the fast lane %d; want 2 and 2", e.srv.BlobFilesSent()-sent, edge.FastServed()-fastBefore)
	}
}
