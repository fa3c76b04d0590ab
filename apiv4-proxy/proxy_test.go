package apiv4proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// proxyEnv is a proxy on loopback in front of a fake Mattermost.
type proxyEnv struct {
	mm    *fakeMattermost
	proxy *proxy
	srv   *httptest.Server
}

func newProxyEnv(t *testing.T, subpath string, opts ProxyOptions, tune ...func(*proxy)) *proxyEnv {
	t.Helper()
	mm := newFakeMattermost(t, subpath)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p, err := newProxy(mm.url, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tune {
		f(p)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return &proxyEnv{mm: mm, proxy: p, srv: srv}
}

// client never follows redirects: the test sees what the proxy answered.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

func (e *proxyEnv) do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func decodeEcho(t *testing.T, body []byte) echoed {
	t.Helper()
	var e echoed
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("not an echo: %v: %s", err, body)
	}
	return e
}

// raw sends request text as is over a new connection and reads one answer.
func raw(t *testing.T, addr, request string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func wantErrorCode(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if resp.StatusCode != status || json.Unmarshal(body, &e) != nil || e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("got %d %s, want %d with code %q", resp.StatusCode, body, status, code)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestProxyPassesRequestsThrough(t *testing.T) {
	e := newProxyEnv(t, "", ProxyOptions{})
	for _, tt := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/echo/a?x=1&y=%2F", "", 200},
		{"POST", "/echo/posts", `{"message":"hi"}`, 201},
		{"POST", "/echo/empty", "", 200},
		{"PUT", "/echo/p", "put body", 200},
		{"PATCH", "/echo/p", "patch body", 200},
		{"DELETE", "/echo/p", "", 200},
		{"GET", "/echo/not-found", "", 404},
		{"POST", "/echo/fail", "x", 500},
		{"GET", "/echo/a%2Fb/c", "", 200}, // an encoded slash stays encoded
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			u := e.srv.URL + tt.path
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			u += sep + "status=" + itoa(tt.status) + "&cookie=" + url.QueryEscape("MMCSRF=abc; Path=/; Secure")
			req, _ := http.NewRequest(tt.method, u, strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer tok")
			req.Header.Set("X-CSRF-Token", "csrf123")
			req.Header.Set("X-Requested-With", "XMLHttpRequest")
			req.Header.Add("Accept-Encoding", "gzip")
			req.AddCookie(&http.Cookie{Name: "MMAUTHTOKEN", Value: "tok"})
			resp, body := e.do(t, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			got := decodeEcho(t, body)
			wantPath, _ := url.Parse(tt.path)
			if got.Method != tt.method || got.Path != wantPath.Path || got.Body != tt.body ||
				got.RawPath != wantPath.RawPath || !strings.HasPrefix(got.Query, wantPath.RawQuery) {
				t.Errorf("upstream saw %s %s (raw %q) ?%s body %q", got.Method, got.Path, got.RawPath, got.Query, got.Body)
			}
			for k, v := range map[string]string{"Authorization": "Bearer tok", "X-Csrf-Token": "csrf123",
				"X-Requested-With": "XMLHttpRequest", "Cookie": "MMAUTHTOKEN=tok", "Accept-Encoding": "gzip"} {
				if g := strings.Join(got.Header[k], ","); g != v {
					t.Errorf("upstream got %s %q, want %q", k, g, v)
				}
			}
			if resp.Header.Get("X-Upstream") != "echo" || resp.Header.Get("Set-Cookie") != "MMCSRF=abc; Path=/; Secure" {
				t.Errorf("response headers not passed: %v", resp.Header)
			}
		})
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestProxyHEADAndStreams(t *testing.T) {
	e := newProxyEnv(t, "", ProxyOptions{})
	req, _ := http.NewRequest("HEAD", e.srv.URL+"/echo/x", nil)
	if resp, body := e.do(t, req); resp.StatusCode != 200 || len(body) != 0 {
		t.Fatalf("HEAD: %d %q", resp.StatusCode, body)
	}

	// Server-sent events arrive as the upstream sends them: the second
	// event is only sent after the test has read the first.
	resp, err := http.Get(e.srv.URL + "/stream?gate=sse")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	gate := e.mm.gate("sse")
	for i := range 3 {
		got := make(chan string, 1)
		go func() { l, _ := rd.ReadString('\n'); rd.ReadString('\n'); got <- l }()
		select {
		case l := <-got:
			if l != "data: event "+itoa(i)+"\n" {
				t.Fatalf("event %d: %q", i, l)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("event %d was not flushed through the proxy", i)
		}
		gate <- struct{}{}
	}
}

func TestProxyDropsHopByHopHeaders(t *testing.T) {
	e := newProxyEnv(t, "", ProxyOptions{})
	addr := e.srv.Listener.Addr().String()
	_, body := raw(t, addr, "GET /echo/hop HTTP/1.1\r\nHost: "+addr+"\r\n"+
		"Connection: keep-alive, X-Named-Hop\r\n"+
		"Keep-Alive: timeout=5\r\n"+
		"X-Named-Hop: secret\r\n"+
		"Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"+
		"Proxy-Connection: keep-alive\r\n"+
		"TE: trailers\r\n"+
		"Upgrade: h2c\r\n"+
		"X-End-To-End: kept\r\n"+
		"Mattermost-User-Id: uadmin\r\n"+
		"Mattermost-Plugin-ID: com.mattermost.server\r\n"+
		"mattermost-user-id: uadmin2\r\n"+
		"\r\n")
	got := decodeEcho(t, []byte(body))
	for _, h := range []string{"Connection", "Keep-Alive", "X-Named-Hop", "Proxy-Authorization", "Proxy-Connection",
		"Te", "Upgrade", "Mattermost-User-Id", "Mattermost-Plugin-Id"} {
		if v, ok := got.Header[h]; ok {
			t.Errorf("upstream got %s: %q", h, v)
		}
	}
	if got.Header.Get("X-End-To-End") != "kept" {
		t.Errorf("an end-to-end header was dropped: %v", got.Header)
	}
	if ua, ok := got.Header["User-Agent"]; ok {
		t.Errorf("the client sent no User-Agent, the upstream got %q", ua)
	}

	// Chunked request bodies arrive whole, re-framed by the proxy.
	_, body = raw(t, addr, "POST /echo/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n"+
		"5\r\nhello\r\n0\r\nX-T: v\r\n\r\n")
	if got := decodeEcho(t, []byte(body)); got.Body != "hello" || got.Header.Get("Trailer") != "" {
		t.Errorf("chunked body: %+v", got)
	}

	// And on the way back.
	resp, _ := raw(t, addr, "GET /hop HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, h := range []string{"X-Hop-Resp", "Keep-Alive", "Proxy-Authenticate"} {
		if v := resp.Header.Get(h); v != "" {
			t.Errorf("client got %s: %q", h, v)
		}
	}
	if resp.Header.Get("X-End-To-End") != "kept" {
		t.Errorf("client lost an end-to-end header: %v", resp.Header)
	}
}

func TestProxyForwardingHeaders(t *testing.T) {
	for _, tt := range []struct {
		name          string
		trust         bool
		xff, realIP   string
		wantXFF       string
		wantRealIP    string
		wantProto     string
		sendProto     string
		wantForwarded string
	}{
		{name: "set", wantXFF: "127.0.0.1", wantRealIP: "127.0.0.1", wantProto: "http"},
		{name: "spoof replaced", xff: "6.6.6.6", realIP: "6.6.6.6", sendProto: "https",
			wantXFF: "127.0.0.1", wantRealIP: "127.0.0.1", wantProto: "http"},
		{name: "trusted appended", trust: true, xff: "10.0.0.1", realIP: "10.0.0.1", sendProto: "https",
			wantXFF: "10.0.0.1, 127.0.0.1", wantRealIP: "10.0.0.1", wantProto: "https"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newProxyEnv(t, "", ProxyOptions{TrustForwardedHeaders: tt.trust})
			req, _ := http.NewRequest("GET", e.srv.URL+"/echo", nil)
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
				req.Header.Set("X-Real-IP", tt.realIP)
				req.Header.Set("Forwarded", "for=6.6.6.6")
			}
			if tt.sendProto != "" {
				req.Header.Set("X-Forwarded-Proto", tt.sendProto)
			}
			_, body := e.do(t, req)
			got := decodeEcho(t, body)
			if v := strings.Join(got.Header["X-Forwarded-For"], ","); v != tt.wantXFF {
				t.Errorf("X-Forwarded-For %q, want %q", v, tt.wantXFF)
			}
			if v := got.Header.Get("X-Real-Ip"); v != tt.wantRealIP {
				t.Errorf("X-Real-IP %q, want %q", v, tt.wantRealIP)
			}
			if v := got.Header.Get("X-Forwarded-Proto"); v != tt.wantProto {
				t.Errorf("X-Forwarded-Proto %q, want %q", v, tt.wantProto)
			}
			if v := got.Header.Get("Forwarded"); (v != "") != tt.trust && tt.xff != "" {
				t.Errorf("Forwarded %q with trust=%v", v, tt.trust)
			}
		})
	}
}

func TestProxyClientCannotChangeTheUpstreamHost(t *testing.T) {
	e := newProxyEnv(t, "", ProxyOptions{})
	var evilHits atomic.Int64
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { evilHits.Add(1) }))
	defer evil.Close()
	addr := e.srv.Listener.Addr().String()
	upstreamHost := strings.TrimPrefix(e.mm.srv.URL, "http://")
	evilHost := strings.TrimPrefix(evil.URL, "http://")
	for _, tt := range []struct{ name, request string }{
		{"Host header", "GET /echo/h HTTP/1.1\r\nHost: " + evilHost + "\r\n\r\n"},
		{"absolute-form URI", "GET http://" + evilHost + "/echo/h HTTP/1.1\r\nHost: " + evilHost + "\r\n\r\n"},
		{"X-Forwarded-Host", "GET /echo/h HTTP/1.1\r\nHost: x\r\nX-Forwarded-Host: " + evilHost + "\r\n\r\n"},
		{"userinfo trick", "GET @" + evilHost + "/echo/h HTTP/1.1\r\nHost: x\r\n\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := raw(t, addr, tt.request)
			if resp.StatusCode == 200 {
				if got := decodeEcho(t, []byte(body)); got.Host != upstreamHost {
					t.Errorf("upstream saw Host %q, want %q", got.Host, upstreamHost)
				}
			}
			if evilHits.Load() != 0 {
				t.Fatalf("the request reached another host")
			}
		})
	}
}

func TestProxyRejectsDotSegments(t *testing.T) {
	e := newProxyEnv(t, "", ProxyOptions{})
	addr := e.srv.Listener.Addr().String()
	for _, path := range []string{"/api/v4/../../plugins/x", "/api/v4/%2e%2e/%2e%2e/plugins/x", "/api/v4/./users", "/api/v4/a%2F..%2F..%2Fplugins"} {
		t.Run(path, func(t *testing.T) {
			resp, body := raw(t, addr, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
			wantErrorCode(t, resp, []byte(body), 400, "bad_path")
		})
	}
	if n := e.mm.total(); n != 0 {
		t.Fatalf("%d requests reached the upstream", n)
	}
}

func TestProxyBodyLimit(t *testing.T) {
	e := newProxyEnv(t, "", ProxyOptions{MaxBodyBytes: 1000})
	addr := e.srv.Listener.Addr().String()
	for _, tt := range []struct {
		name    string
		request string
		status  int
		reaches bool
	}{
		{"declared too large", "POST /echo/big HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n" + strings.Repeat("a", 1001), 413, false},
		{"chunked too large", "POST /echo/big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"3e8\r\n" + strings.Repeat("a", 1000) + "\r\n1\r\nb\r\n0\r\n\r\n", 413, true},
		{"exactly the limit", "POST /echo/ok HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + strings.Repeat("a", 1000), 200, true},
		{"chunked at the limit", "POST /echo/ok HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"3e8\r\n" + strings.Repeat("a", 1000) + "\r\n0\r\n\r\n", 200, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := raw(t, addr, tt.request)
			if tt.status == 413 {
				wantErrorCode(t, resp, []byte(body), 413, "body_too_large")
			} else if resp.StatusCode != tt.status || len(decodeEcho(t, []byte(body)).Body) != 1000 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
		})
	}
	if n := e.mm.count("/echo/big"); n != 0 {
		// The chunked one may have started upstream, but never completed.
		t.Logf("%d oversized requests started upstream (cut short)", n)
	}
}

func TestProxyRedirects(t *testing.T) {
	var otherHits atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { otherHits.Add(1) }))
	defer other.Close()
	for _, tt := range []struct {
		name, subpath, to, want string
	}{
		{"other host passed unchanged", "", other.URL + "/x?a=1", other.URL + "/x?a=1"},
		{"own origin made relative", "", "{upstream}/login?redirect_to=%2Fteam", "/login?redirect_to=%2Fteam"},
		{"own origin under subpath", "/chat", "{upstream}/chat/login", "/login"},
		{"relative under subpath", "/chat", "/chat/api/v4/files/x", "/api/v4/files/x"},
		{"outside the subpath unchanged", "/chat", "{upstream}/elsewhere", "{upstream}/elsewhere"},
		{"relative path unchanged", "", "login", "login"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newProxyEnv(t, tt.subpath, ProxyOptions{})
			to := strings.ReplaceAll(tt.to, "{upstream}", e.mm.srv.URL)
			want := strings.ReplaceAll(tt.want, "{upstream}", e.mm.srv.URL)
			// A client that follows redirects would go where Location says;
			// the proxy itself must only pass the 302 on.
			resp, _ := e.do(t, mustRequest("GET", e.srv.URL+"/redirect?to="+url.QueryEscape(to)))
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
				t.Fatalf("%d Location %q, want 302 %q", resp.StatusCode, resp.Header.Get("Location"), want)
			}
			if otherHits.Load() != 0 {
				t.Fatalf("the proxy followed the redirect")
			}
		})
	}
}

func mustRequest(method, u string) *http.Request {
	r, err := http.NewRequest(method, u, nil)
	if err != nil {
		panic(err)
	}
	return r
}

func TestProxySubpath(t *testing.T) {
	e := newProxyEnv(t, "/chat", ProxyOptions{})
	cookie := "MMAUTHTOKEN=t; Path=/chat; Domain=127.0.0.1; HttpOnly"
	resp, body := e.do(t, mustRequest("GET", e.srv.URL+"/echo/users/me?x=%20&cookie="+url.QueryEscape(cookie)))
	got := decodeEcho(t, body)
	if !strings.HasPrefix(got.RequestURI, "/chat/echo/users/me?x=%20") {
		t.Errorf("upstream saw %q, want /chat/echo/users/me?x=%%20...", got.RequestURI)
	}
	if c := resp.Header.Get("Set-Cookie"); c != "MMAUTHTOKEN=t; Path=/; HttpOnly" {
		t.Errorf("Set-Cookie %q, want the subpath and upstream domain dropped", c)
	}
}

func TestProxyUpstreamFailures(t *testing.T) {
	for _, tt := range []struct {
		name    string
		prepare func(e *proxyEnv)
		opts    ProxyOptions
		status  int
		code    string
	}{
		{"down", func(e *proxyEnv) { e.mm.srv.Close() }, ProxyOptions{}, 502, "upstream_unavailable"},
		{"slow", func(e *proxyEnv) { e.mm.delay.Store(int64(3 * time.Second)) }, ProxyOptions{Timeout: 300 * time.Millisecond}, 504, "upstream_timeout"},
		{"slow with a body", func(e *proxyEnv) { e.mm.delay.Store(int64(3 * time.Second)) }, ProxyOptions{Timeout: 300 * time.Millisecond}, 504, "upstream_timeout"},
		{"over the maximum duration", func(e *proxyEnv) { e.mm.delay.Store(int64(3 * time.Second)) }, ProxyOptions{MaxDuration: 300 * time.Millisecond}, 504, "upstream_timeout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newProxyEnv(t, "", tt.opts)
			tt.prepare(e)
			req := mustRequest("GET", e.srv.URL+"/api/v4/users/me")
			if strings.Contains(tt.name, "body") {
				req, _ = http.NewRequest("POST", e.srv.URL+"/echo", strings.NewReader("payload"))
			}
			start := time.Now()
			resp, body := e.do(t, req)
			wantErrorCode(t, resp, body, tt.status, tt.code)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("answered after %v", d)
			}
		})
	}
}

func TestProxyAbortsATruncatedBody(t *testing.T) {
	// The upstream promises 100 bytes and sends 10: the client must see a
	// broken answer (before or after the headers, depending on buffering),
	// never a clean short one.
	e := newProxyEnv(t, "", ProxyOptions{})
	resp, err := http.Get(e.srv.URL + "/truncated")
	if err == nil {
		defer resp.Body.Close()
		var b []byte
		b, err = io.ReadAll(resp.Body)
		if err == nil {
			t.Fatalf("the client read a clean %d %q", resp.StatusCode, b)
		}
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v, want EOF or unexpected EOF", err)
	}
}

// BenchmarkProxyGET measures one small GET through the proxy over
// loopback, allocations included (bench/proxy measures it against nginx).
func BenchmarkProxyGET(b *testing.B) {
	body := []byte(`{"id":"s36pyg4oqtfftpt6hrnxbydbze","username":"user1","roles":"system_user","status":"online"}`)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer up.Close()
	p, err := NewProxy(up.URL, ProxyOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(srv.URL + "/api/v4/users/me/status")
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

func TestProxyKeepAliveConnections(t *testing.T) {
	// An upstream that closes idle connections after 100ms, and answers
	// /close with Connection: close.
	var conns atomic.Int64
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/close" {
			w.Header().Set("Connection", "close")
		}
		if r.URL.Path == "/chunked" {
			w.Write([]byte("part one, "))
			w.(http.Flusher).Flush()
		}
		io.WriteString(w, r.Method+" "+r.URL.Path+" "+string(b))
	}))
	up.Config.IdleTimeout = 100 * time.Millisecond
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	up.Start()
	defer up.Close()
	p, err := NewProxy(up.URL, ProxyOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()

	get := func(method, path, body string) string {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return string(b)
	}
	for i := range 5 {
		if got := get("GET", "/a", ""); got != "GET /a " {
			t.Fatalf("request %d: %q", i, got)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("5 sequential requests used %d upstream connections, want 1 (keep-alive)", n)
	}
	for _, tt := range []struct{ method, path, body, want string }{
		{"GET", "/close", "", "GET /close "}, // the upstream closes after answering
		{"GET", "/after-close", "", "GET /after-close "},
		{"GET", "/chunked", "", "part one, GET /chunked "},
		{"GET", "/after-chunked", "", "GET /after-chunked "},
	} {
		if got := get(tt.method, tt.path, tt.body); got != tt.want {
			t.Errorf("%s %s: %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
	// The upstream closes the pooled connection while it is idle: the next
	// GET is sent again on a new one, and a POST (which cannot be sent
	// twice) checks the connection before using it.
	for _, tt := range []struct{ method, body string }{{"GET", ""}, {"POST", "payload"}, {"DELETE", ""}} {
		time.Sleep(300 * time.Millisecond)
		if got := get(tt.method, "/after-idle", tt.body); got != tt.method+" /after-idle "+tt.body {
			t.Errorf("%s after the upstream closed the idle connection: %q", tt.method, got)
		}
	}
}

func TestProxyConcurrentRequestsDoNotMix(t *testing.T) {
	e := newProxyEnv(t, "", ProxyOptions{MaxIdleConns: 4})
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf("body-%d-%s", i, strings.Repeat("x", i*50))
			method := []string{"GET", "POST", "PUT"}[i%3]
			if method == "GET" {
				want = ""
			}
			req, _ := http.NewRequest(method, fmt.Sprintf("%s/echo/%d?i=%d", e.srv.URL, i, i), strings.NewReader(want))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var got echoed
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				errs <- err
				return
			}
			if got.Method != method || got.Path != fmt.Sprintf("/echo/%d", i) || got.Query != fmt.Sprintf("i=%d", i) || got.Body != want {
				errs <- fmt.Errorf("request %d got the answer of %s %s?%s (%d bytes)", i, got.Method, got.Path, got.Query, len(got.Body))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestProxyDropsTheUpstreamRequestWhenTheClientLeaves(t *testing.T) {
	cancelled := make(chan time.Duration, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		select {
		case <-r.Context().Done():
			cancelled <- time.Since(start)
		case <-time.After(10 * time.Second):
			cancelled <- -1
		}
	}))
	defer up.Close()
	p, err := NewProxy(up.URL, ProxyOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/slow", nil)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("the request did not time out")
	}
	select {
	case d := <-cancelled:
		if d < 0 || d > 2*time.Second {
			t.Fatalf("the upstream request ended after %v, want soon after the client left (0.8s)", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream request was not dropped")
	}
}

func TestProxyToHTTPSUpstream(t *testing.T) {
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if websocket.IsWebSocketUpgrade(r) {
			c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			typ, msg, _ := c.ReadMessage()
			c.WriteMessage(typ, append([]byte("tls "), msg...))
			return
		}
		io.WriteString(w, "tls "+r.Host)
	}))
	up.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	up.StartTLS()
	defer up.Close()
	tlsConfig := up.Client().Transport.(*http.Transport).TLSClientConfig
	p, err := NewProxy(up.URL, ProxyOptions{TLSClientConfig: tlsConfig, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v4/system/ping")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "tls " + strings.TrimPrefix(up.URL, "https://"); string(b) != want {
		t.Fatalf("got %q, want %q", b, want)
	}
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/api/v4/websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.WriteMessage(websocket.TextMessage, []byte("hi"))
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "tls hi" {
		t.Fatalf("websocket over TLS: %q, %v", msg, err)
	}

	// Without the test CA the upstream's certificate is refused: 502.
	p2, _ := NewProxy(up.URL, ProxyOptions{Logger: slog.New(slog.DiscardHandler)})
	rec := httptest.NewRecorder()
	p2.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v4/system/ping", nil))
	if rec.Code != http.StatusBadGateway {
		t.Fatalf("untrusted certificate: %d, want 502", rec.Code)
	}
}
