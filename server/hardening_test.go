package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// Bad input over real HTTP that the per-feature tests do not already
// cover; docs/hardening.md lists every case with its code and test.

// TestCSRFOnEveryWriteRoute: every state-changing /api/v1 route refuses a
// request authenticated by the MMAUTHTOKEN cookie alone, before it does
// anything (nothing is pushed, toggled, stored or published), and the same
// request with X-Requested-With: XMLHttpRequest passes the check. A token
// in access_token is not ambient and passes too.
func TestCSRFOnEveryWriteRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{Upstream: echoUpstream})
	files := helloPlugin("com.example.csrf", "1.0.0")
	files["plugin.json"] = strings.Replace(files["plugin.json"], `"description"`,
		`"proxy":[{"method":"POST","path":"/api/v4/posts"}],"description"`, 1)
	if r := e.push("dev", files); r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	if r := e.setTeam("alice", "engineering", "com.example.csrf", `{"enabled":true}`); r.status != 200 {
		t.Fatal(r.status, string(r.body))
	}
	files["plugin.json"] = strings.Replace(files["plugin.json"], `"1.0.0"`, `"1.0.1"`, 1)
	pkg := archive(t, files)
	routes := []struct {
		user, method, path, ctype string
		body                      []byte
		ok                        int // the status once the header is there
	}{
		{"dev", "POST", "/api/v1/plugins", "application/gzip", pkg, 201},
		{"bob", "POST", "/api/v1/plugins/com.example.csrf/events", "application/json", []byte(`{"event":"x","team_id":"engineering","data":{}}`), 202},
		{"bob", "POST", "/api/v1/plugins/com.example.csrf/errors", "application/json", []byte(`{"version":"1.0.0","message":"boom"}`), 202},
		{"bob", "PUT", "/api/v1/plugins/com.example.csrf/kv/user/k", "application/json", []byte(`1`), 200},
		{"bob", "DELETE", "/api/v1/plugins/com.example.csrf/kv/user/k", "", nil, 204},
		{"bob", "POST", "/api/v1/plugins/com.example.csrf/proxy/api/v4/posts?team=engineering", "application/json", []byte(`{}`), 200},
		// Last: it disables the plugin the routes above need.
		{"alice", "PUT", "/api/v1/teams/engineering/plugins/com.example.csrf", "application/json", []byte(`{"enabled":false}`), 200},
	}
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			cookie := "MMAUTHTOKEN=" + e.tokens[rt.user]
			r := e.do("", rt.method, rt.path, rt.ctype, bytes.NewReader(rt.body), "Cookie", cookie)
			if r.status != 403 || r.errorCode(t) != "csrf_header_missing" {
				t.Fatalf("cookie without the header: %d %s", r.status, r.body)
			}
			r = e.do("", rt.method, rt.path, rt.ctype, bytes.NewReader(rt.body), "Cookie", cookie, "X-Requested-With", "XMLHttpRequest")
			if r.status != rt.ok && !(rt.ok == 204 && r.status == 200) {
				t.Fatalf("cookie with the header: %d %s, want %d", r.status, r.body, rt.ok)
			}
		})
	}
	// Refused requests did nothing: the refused push left no version 1.0.2.
	r := e.do("", "POST", "/api/v1/plugins", "application/gzip",
		bytes.NewReader(archive(t, helloPlugin("com.example.csrf", "1.0.2"))), "Cookie", "MMAUTHTOKEN="+e.tokens["dev"])
	if r.status != 403 {
		t.Fatalf("refused push: %d %s", r.status, r.body)
	}
	if _, err := e.store.Version(t.Context(), "com.example.csrf", "1.0.2"); err == nil {
		t.Fatal("a push refused for CSRF was stored")
	}
	// access_token in the query is not sent by the browser on its own (the
	// plugin enabled again: the KV store answers only where it is served).
	if r := e.setTeam("alice", "engineering", "com.example.csrf", `{"enabled":true}`); r.status != 200 {
		t.Fatal(r.status, string(r.body))
	}
	r = e.do("", "PUT", "/api/v1/plugins/com.example.csrf/kv/user/q?access_token="+e.tokens["bob"], "application/json", strings.NewReader(`2`))
	if r.status != 200 {
		t.Fatalf("access_token write: %d %s", r.status, r.body)
	}
}

// TestInvalidTokens: however a bad token arrives, the answer is 401 with
// invalid_token (or unauthenticated when there is none), on REST and on
// the websocket upgrade, and a websocket challenge with a bad token is
// refused with the same code in its close frame.
func TestInvalidTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	long := strings.Repeat("A", 32<<10)
	for _, tc := range []struct {
		name string
		hdr  []string
		path string
		code string
	}{
		{"bearer garbage", []string{"Authorization", "Bearer nope"}, "/api/v1/plugins", "invalid_token"},
		{"token scheme garbage", []string{"Authorization", "Token nope"}, "/api/v1/plugins", "invalid_token"},
		{"cookie garbage", []string{"Cookie", "MMAUTHTOKEN=nope"}, "/api/v1/plugins", "invalid_token"},
		{"query garbage", nil, "/api/v1/plugins?access_token=nope", "invalid_token"},
		{"32 KiB token", []string{"Authorization", "Bearer " + long}, "/api/v1/plugins", "invalid_token"},
		{"token with spaces", []string{"Authorization", "Bearer a b c"}, "/api/v1/plugins", "invalid_token"},
		{"unknown scheme", []string{"Authorization", "Basic Ym9iOm1tdG9vbGtpdA=="}, "/api/v1/plugins", "unauthenticated"},
		{"empty bearer", []string{"Authorization", "Bearer "}, "/api/v1/plugins", "unauthenticated"},
		{"another user's token id", []string{"Authorization", "Bearer " + userID("admin")}, "/api/v1/plugins", "invalid_token"},
		{"manifest", []string{"Authorization", "Bearer nope"}, "/api/v1/manifest?team=engineering", "invalid_token"},
		{"plugin route", []string{"Authorization", "Bearer nope"}, "/plugins/com.example.x/api", "invalid_token"},
		{"websocket upgrade", []string{"Authorization", "Bearer nope", "Connection", "Upgrade", "Upgrade", "websocket",
			"Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}, "/api/v1/websocket", "invalid_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("", "GET", tc.path, "", nil, tc.hdr...)
			if r.status != 401 || r.errorCode(t) != tc.code {
				t.Fatalf("got %d %s, want 401 %s", r.status, r.body, tc.code)
			}
			if r.header.Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate header")
			}
		})
	}

	url := "ws" + strings.TrimPrefix(e.url, "http") + "/api/v1/websocket"
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.WriteJSON(map[string]any{"seq": 1, "action": "authentication_challenge", "data": map[string]string{"token": "nope"}})
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var reply struct {
		Status string
		Error  struct{ Code string }
	}
	if err := c.ReadJSON(&reply); err != nil || reply.Status != "FAIL" || reply.Error.Code != "invalid_token" {
		t.Fatalf("challenge with a bad token: %+v %v", reply, err)
	}
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || ce.Text != "invalid_token" {
		t.Fatalf("after the failed challenge: %v, want close 1008 invalid_token", err)
	}
}

// TestForgedUserHeadersAreIgnored: Mattermost-User-Id is what Mattermost
// tells its plugins; a client sending it gains nothing anywhere. Without a
// token it is unauthenticated; with bob's token it is bob, even naming the
// system admin; on /plugins/{id}/* and plugin proxy calls it is stripped
// before the upstream, in every spelling of the name.
func TestForgedUserHeadersAreIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{Upstream: echoUpstream})
	files := helloPlugin("com.example.forge", "1.0.0")
	files["plugin.json"] = strings.Replace(files["plugin.json"], `"description"`,
		`"proxy":[{"method":"POST","path":"/api/v4/posts"}],"description"`, 1)
	if r := e.push("dev", files); r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	e.setTeam("alice", "engineering", "com.example.forge", `{"enabled":true}`)
	admin := userID("admin")

	if r := e.do("", "GET", "/api/v1/plugins", "", nil, "Mattermost-User-Id", admin); r.status != 401 || r.errorCode(t) != "unauthenticated" {
		t.Fatalf("header alone: %d %s", r.status, r.body)
	}
	if r := e.do("", "POST", "/plugins/com.example.forge/api", "", nil, "Mattermost-User-Id", admin); r.status != 401 {
		t.Fatalf("header alone on a plugin route: %d %s", r.status, r.body)
	}
	// bob naming the admin is still bob: not a team admin, not the owner.
	r := e.do("bob", "PUT", "/api/v1/teams/engineering/plugins/com.example.forge", "application/json",
		strings.NewReader(`{"enabled":false}`), "Mattermost-User-Id", admin)
	if r.status != 403 || r.errorCode(t) != "not_team_admin" {
		t.Fatalf("bob with the admin's id: %d %s", r.status, r.body)
	}
	r = e.do("bob", "POST", "/api/v1/plugins", "application/gzip",
		bytes.NewReader(archive(t, helloPlugin("com.example.forge", "2.0.0"))), "Mattermost-User-Id", userID("dev"))
	if r.status != 403 || r.errorCode(t) != "not_owner" {
		t.Fatalf("bob pushing dev's plugin with dev's id: %d %s", r.status, r.body)
	}
	for _, path := range []string{"/plugins/com.example.forge/api/do", "/api/v1/plugins/com.example.forge/proxy/api/v4/posts"} {
		for _, name := range []string{"Mattermost-User-Id", "mattermost-user-id", "MATTERMOST-USER-ID", "Mattermost-Plugin-Id"} {
			r := e.do("bob", "POST", path+"?team=engineering", "application/json", strings.NewReader(`{}`), name, admin)
			var got echoed
			if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 {
				t.Fatalf("%s with %s: %d %s", path, name, r.status, r.body)
			}
			for k, v := range got.Headers {
				if strings.EqualFold(k, "Mattermost-User-Id") || strings.EqualFold(k, "Mattermost-Plugin-Id") || v == admin {
					t.Errorf("%s: %s: %q reached the upstream", path, k, v)
				}
			}
		}
	}
}

// TestBodiesOverTheLimit: JSON bodies of the small write routes are bounded
// and answered 413 (or the route's own too_large code), not read on.
func TestBodiesOverTheLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	if r := e.push("dev", helloPlugin("com.example.big", "1.0.0")); r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	if r := e.setTeam("alice", "engineering", "com.example.big", `{"enabled":true}`); r.status != 200 {
		t.Fatal(r.status, string(r.body))
	}
	big := func(n int) string { return `{"version":"1.0.0","message":"` + strings.Repeat("x", n) + `"}` }
	for _, tc := range []struct {
		name, user, method, path, body string
		status                         int
		code                           string
	}{
		{"crash report", "bob", "POST", "/api/v1/plugins/com.example.big/errors", big(1 << 20), 413, "body_too_large"},
		{"event", "bob", "POST", "/api/v1/plugins/com.example.big/events", `{"event":"x","team_id":"engineering","data":"` + strings.Repeat("a", 1<<20) + `"}`, 413, "event_too_large"},
		{"team toggle", "alice", "PUT", "/api/v1/teams/engineering/plugins/com.example.big", `{"enabled":true,"version":"` + strings.Repeat("1", 1<<20) + `"}`, 413, "body_too_large"},
		{"kv value", "bob", "PUT", "/api/v1/plugins/com.example.big/kv/user/k", `"` + strings.Repeat("a", 1<<20) + `"`, 413, "kv_value_too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.user, tc.method, tc.path, "application/json", strings.NewReader(tc.body))
			if r.status != tc.status || r.errorCode(t) != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
		})
	}
}

// TestWebsocketFloodIsCut: a client sending messages far faster than the
// socket's use (a ping every half minute) is disconnected with 1008
// rate_limited, and other clients keep their events; a message over 64 KiB
// is refused with 1009.
func TestWebsocketFloodIsCut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	flooder, _ := e.dial("bob")
	other, _ := e.dial("alice")

	start := time.Now()
	var sendErr error
	ping := []byte(`{"seq":1,"action":"ping"}`)
	for i := 0; i < 10_000 && sendErr == nil; i++ {
		flooder.SetWriteDeadline(time.Now().Add(5 * time.Second))
		sendErr = flooder.WriteMessage(websocket.TextMessage, ping)
	}
	var closed *websocket.CloseError
	for {
		flooder.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err := flooder.ReadMessage()
		if err == nil {
			continue // pongs for the burst the limit allows
		}
		if !errors.As(err, &closed) {
			t.Fatalf("the flooder was not closed with a close frame: %v (send error %v)", err, sendErr)
		}
		break
	}
	if closed.Code != websocket.ClosePolicyViolation || !strings.HasPrefix(closed.Text, "rate_limited") {
		t.Fatalf("close %d %q, want 1008 rate_limited", closed.Code, closed.Text)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cut after %v", d)
	}

	// Alice is unaffected: she gets her pong and a team event.
	other.WriteJSON(map[string]any{"seq": 7, "action": "ping"})
	if m := readWS(t, other, 2*time.Second); m == nil || m.SeqReply != 7 {
		t.Fatalf("other client's ping: %+v", m)
	}

	// A message over the limit.
	big, _ := e.dial("carol")
	big.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("a"), 65<<10))
	big.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := big.ReadMessage()
	if !errors.As(err, &closed) || closed.Code != websocket.CloseMessageTooBig {
		t.Fatalf("after a 65 KiB message: %v, want close 1009", err)
	}
}

// TestV4WebsocketFloodDoesNotStarveOthers floods /api/v4/websocket (the
// sandbox Mattermost behind the server) with pings from one client that
// never reads, while another user works: the other user's REST calls and
// websocket stay prompt, and the flooder is cut off (as a client too slow
// to read its answers).
func TestV4WebsocketFloodDoesNotStarveOthers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	url := "ws" + strings.TrimPrefix(e.url, "http") + "/api/v4/websocket"
	dial := func(user string) *websocket.Conn {
		c, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + e.tokens[user]}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	flooder := dial("bob")
	other := dial("alice")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	cut := make(chan struct{}) // closed when a write fails: the server dropped the flooder
	sent := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(cut)
		msg := []byte(`{"seq":1,"action":"ping"}`)
		for {
			select {
			case <-stop:
				return
			default:
			}
			flooder.SetWriteDeadline(time.Now().Add(time.Second))
			if flooder.WriteMessage(websocket.TextMessage, msg) != nil {
				return
			}
			sent++
		}
	}()
	defer func() { close(stop); wg.Wait() }()

	time.Sleep(300 * time.Millisecond) // the flood is on
	for i := 0; i < 20; i++ {
		start := time.Now()
		r := e.do("alice", "GET", "/api/v1/manifest?team=engineering&platform=web", "", nil)
		if r.status != 200 {
			t.Fatalf("manifest during the flood: %d %s", r.status, r.body)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("manifest took %v during the flood", d)
		}
	}
	other.SetReadDeadline(time.Now().Add(5 * time.Second))
	other.WriteJSON(map[string]any{"seq": 3, "action": "ping"})
	for {
		var m struct {
			SeqReply int64 `json:"seq_reply"`
		}
		if err := other.ReadJSON(&m); err != nil {
			t.Fatalf("other client during the flood: %v", err)
		}
		if m.SeqReply == 3 {
			break
		}
	}
	select {
	case <-cut:
	case <-time.After(10 * time.Second):
		t.Fatal("the flooder, which reads nothing, is still connected after 10 s")
	}
	t.Logf("the flooder sent %d pings before it was cut off", sent)
}

// TestSlowPushBodies: a push whose body stalls is answered 408
// body_timeout once no data came for the idle deadline, and one that
// trickles (a byte now and then, never stalling) once the upload deadline
// passes; a body cut short is 400 bad_request_body, never a 500.
func TestSlowPushBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{Timing: server.Timing{PushBodyIdle: 500 * time.Millisecond, PushBodyMax: 2 * time.Second}})
	addr := strings.TrimPrefix(e.url, "http://")
	pkg := archive(t, helloPlugin("com.example.slow", "1.0.0"))
	for _, tc := range []struct {
		name    string
		send    func(c net.Conn)
		atLeast time.Duration
		status  int
		code    string
	}{
		{"stalled", func(c net.Conn) { c.Write(pkg[:100]) }, 500 * time.Millisecond, 408, "body_timeout"},
		{"trickle", func(c net.Conn) {
			for i := 0; i < len(pkg); i++ {
				if _, err := c.Write(pkg[i : i+1]); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}, 2 * time.Second, 408, "body_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			fmt.Fprintf(c, "POST /api/v1/plugins HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/gzip\r\nContent-Length: %d\r\n\r\n",
				addr, e.tokens["dev"], len(pkg))
			go tc.send(c)
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			r := response{resp.StatusCode, resp.Header, body}
			if r.status != tc.status || r.errorCode(t) != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
			if d := time.Since(start); d < tc.atLeast || d > tc.atLeast+3*time.Second {
				t.Errorf("answered after %v, want about %v", d, tc.atLeast)
			}
		})
	}

	// A multipart body that ends inside the archive part.
	cut := "--b\r\nContent-Disposition: form-data; name=\"plugin\"; filename=\"p.tar.gz\"\r\n\r\n" + string(pkg[:len(pkg)/2])
	r := e.do("dev", "POST", "/api/v1/plugins", "multipart/form-data; boundary=b", strings.NewReader(cut))
	if r.status != 400 || r.errorCode(t) != "bad_request_body" {
		t.Fatalf("multipart cut short: %d %s", r.status, r.body)
	}
	// The server still takes a whole push afterwards.
	if r := e.push("dev", helloPlugin("com.example.slow", "1.0.0")); r.status != 201 {
		t.Fatalf("push after the slow ones: %d %s", r.status, r.body)
	}
}
