package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wsClient is a real gorilla client on the sandbox's websocket.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

// dial connects to /api/v4/websocket; token, when set, goes with the
// upgrade as Mattermost's clients may send it.
func dial(t *testing.T, baseURL, token string) *wsClient {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(baseURL, "http")+"/api/v4/websocket", h)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	resp.Body.Close()
	t.Cleanup(func() { conn.Close() })
	return &wsClient{t, conn}
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	if err := c.conn.WriteJSON(v); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next reads one message within a second.
func (c *wsClient) next() map[string]any {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(time.Second))
	var m map[string]any
	if err := c.conn.ReadJSON(&m); err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// event reads the next message and checks it is the named event.
func (c *wsClient) event(name string) map[string]any {
	c.t.Helper()
	m := c.next()
	if m["event"] != name {
		c.t.Fatalf("got %v, want a %s event", m, name)
	}
	return m
}

// sessionSample is websocket_session.json: sent/received frames.
func sessionSample(t *testing.T) []map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/mattermost/websocket_session.json")
	if err != nil {
		t.Fatal(err)
	}
	var frames []map[string]map[string]any
	if err := json.Unmarshal(b, &frames); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, f := range frames {
		for _, v := range f {
			out = append(out, v)
		}
	}
	return out
}

func sub(m map[string]any, k string) map[string]any { v, _ := m[k].(map[string]any); return v }

// TestWebSocketChallengeAndPosted follows websocket_session.json: the
// authentication_challenge gets hello then OK; a post created over HTTP
// reaches a member of the channel as posted, with the post as a JSON
// string, and never reaches a non-member.
func TestWebSocketChallengeAndPosted(t *testing.T) {
	sb, _ := openSandbox(t)
	sb.hub.cfg.quiet = true
	api := newAPIServer(t, sb)
	frames := sessionSample(t)
	sampleHello, sampleOK, samplePosted := frames[1], frames[2], frames[3]

	bob := dial(t, api.url, "")
	bob.send(map[string]any{"seq": 1, "action": "authentication_challenge", "data": map[string]any{"token": api.token("bob")}})
	hello := bob.event("hello")
	sameFields(t, "hello", hello, sampleHello, nil, nil)
	sameFields(t, "hello.data", sub(hello, "data"), sub(sampleHello, "data"), nil, nil)
	sameFields(t, "hello.broadcast", sub(hello, "broadcast"), sub(sampleHello, "broadcast"), nil, nil)
	if hello["seq"] != 0.0 || sub(hello, "broadcast")["user_id"] != userID("bob") ||
		sub(hello, "data")["server_version"] != serverVersion || sub(hello, "data")["connection_id"] == "" {
		t.Errorf("hello: %v", hello)
	}
	ok := bob.next()
	sameFields(t, "challenge reply", ok, sampleOK, nil, nil)
	if ok["status"] != "OK" || ok["seq_reply"] != 1.0 {
		t.Errorf("challenge reply: %v", ok)
	}

	// carol authenticates at upgrade; she is not in engineering.
	carol := dial(t, api.url, api.token("carol"))
	carol.event("hello")

	town := channelID("engineering/town-square")
	created := api.do("alice", "POST", "/api/v4/posts", `{"channel_id":"`+town+`","message":"hello websocket","pending_post_id":"p1"}`)
	if created.status != 201 {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	var post Post
	json.Unmarshal(created.body, &post)

	posted := bob.event("posted")
	sameFields(t, "posted", posted, samplePosted, nil, nil)
	sameFields(t, "posted.data", sub(posted, "data"), sub(samplePosted, "data"), nil, nil)
	sameFields(t, "posted.broadcast", sub(posted, "broadcast"), sub(samplePosted, "broadcast"), nil, nil)
	data := sub(posted, "data")
	postJSON, isString := data["post"].(string)
	if !isString {
		t.Fatalf("data.post is %T, Mattermost sends a string", data["post"])
	}
	var inner, sampleInner map[string]any
	json.Unmarshal([]byte(postJSON), &inner)
	json.Unmarshal([]byte(sub(samplePosted, "data")["post"].(string)), &sampleInner)
	sameFields(t, "posted post", inner, sampleInner, nil, nil)
	if inner["id"] != post.ID || inner["pending_post_id"] != "p1" || data["channel_name"] != "town-square" ||
		data["channel_display_name"] != "Town Square" || data["channel_type"] != "O" ||
		data["sender_name"] != "@alice" || data["set_online"] != true || data["team_id"] != teamID("engineering") ||
		sub(posted, "broadcast")["channel_id"] != town || posted["seq"] != 1.0 {
		t.Errorf("posted: %v", posted)
	}

	// A post in sales is carol's next event: the engineering one, which
	// went out first, never reached her.
	deals := channelID("sales/deals")
	if r := api.do("carol", "POST", "/api/v4/posts", `{"channel_id":"`+deals+`","message":"marker"}`); r.status != 201 {
		t.Fatalf("marker: %d %s", r.status, r.body)
	}
	got := carol.event("posted")
	if sub(got, "broadcast")["channel_id"] != deals || got["seq"] != 1.0 {
		t.Errorf("carol got %v, want only her own channel's post", got)
	}

	// Edits and deletes follow as post_edited and post_deleted.
	if r := api.do("alice", "PUT", "/api/v4/posts/"+post.ID+"/patch", `{"message":"edited"}`); r.status != 200 {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	edited := bob.event("post_edited")
	json.Unmarshal([]byte(sub(edited, "data")["post"].(string)), &inner)
	if inner["message"] != "edited" || inner["edit_at"] == 0.0 || edited["seq"] != 2.0 {
		t.Errorf("post_edited: %v", edited)
	}
	if r := api.do("alice", "DELETE", "/api/v4/posts/"+post.ID, ""); r.status != 200 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	deleted := bob.event("post_deleted")
	json.Unmarshal([]byte(sub(deleted, "data")["post"].(string)), &inner)
	if inner["id"] != post.ID || inner["delete_at"] == 0.0 || sub(deleted, "data")["delete_by"] != userID("alice") {
		t.Errorf("post_deleted: %v", deleted)
	}
}

// TestWebSocketRouter: Mattermost's answers to requests before and after
// authentication, a second challenge, ping and user_typing.
func TestWebSocketRouter(t *testing.T) {
	sb, _ := openSandbox(t)
	sb.hub.cfg.quiet = true
	api := newAPIServer(t, sb)

	c := dial(t, api.url, "")
	c.send(map[string]any{"seq": 1, "action": "ping"})
	fail := c.next()
	if fail["status"] != "FAIL" || fail["seq_reply"] != 1.0 ||
		sub(fail, "error")["id"] != "api.web_socket_router.not_authenticated.app_error" || sub(fail, "error")["status_code"] != 401.0 {
		t.Errorf("ping before authentication: %v", fail)
	}
	c.send(map[string]any{"seq": 2, "action": "authentication_challenge", "data": map[string]any{"token": api.token("alice")}})
	c.event("hello")
	c.next() // OK
	// A second challenge is ignored, as Mattermost does: the ping's reply
	// is the next frame.
	c.send(map[string]any{"seq": 3, "action": "authentication_challenge", "data": map[string]any{"token": api.token("bob")}})
	c.send(map[string]any{"seq": 4, "action": "ping"})
	pong := c.next()
	if pong["status"] != "OK" || pong["seq_reply"] != 4.0 || sub(pong, "data")["text"] != "pong" ||
		sub(pong, "data")["version"] != mattermostVersion {
		t.Errorf("ping: %v", pong)
	}
	c.send(map[string]any{"seq": 5, "action": "no_such_action"})
	if r := c.next(); sub(r, "error")["id"] != "api.web_socket_router.bad_action.app_error" {
		t.Errorf("unknown action: %v", r)
	}
	c.send(map[string]any{"seq": 0, "action": "ping"})
	if r := c.next(); sub(r, "error")["id"] != "api.web_socket_router.bad_seq.app_error" {
		t.Errorf("seq 0: %v", r)
	}

	// user_typing reaches the channel's other members, not the typist.
	bob := dial(t, api.url, api.token("bob"))
	bob.event("hello")
	town := channelID("engineering/town-square")
	c.send(map[string]any{"seq": 6, "action": "user_typing", "data": map[string]any{"channel_id": town}})
	if r := c.next(); r["status"] != "OK" || r["seq_reply"] != 6.0 {
		t.Errorf("user_typing reply: %v", r)
	}
	typing := bob.event("typing")
	if sub(typing, "data")["user_id"] != userID("alice") || sub(typing, "broadcast")["channel_id"] != town ||
		sub(sub(typing, "broadcast"), "omit_users")[userID("alice")] != true {
		t.Errorf("typing: %v", typing)
	}
	c.send(map[string]any{"seq": 7, "action": "user_typing", "data": map[string]any{"channel_id": channelID("sales/deals")}})
	if r := c.next(); sub(r, "error")["status_code"] != 403.0 {
		t.Errorf("typing in another team: %v", r)
	}
}

func TestWebSocketClosesBadOrMissingAuthentication(t *testing.T) {
	sb, _ := openSandbox(t)
	sb.hub.cfg.quiet = true
	sb.hub.cfg.authTimeout = 200 * time.Millisecond
	api := newAPIServer(t, sb)

	bad := dial(t, api.url, "")
	bad.send(map[string]any{"seq": 1, "action": "authentication_challenge", "data": map[string]any{"token": "nope"}})
	silent := dial(t, api.url, "")
	for name, c := range map[string]*wsClient{"bad token": bad, "no challenge": silent} {
		c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, _, err := c.conn.ReadMessage(); err == nil {
			t.Errorf("%s: connection still open", name)
		} else if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
			t.Errorf("%s: the sandbox did not close the connection: %v", name, err)
		}
	}
}

// TestWebSocketKeepalive: the server pings; a client that answers pongs
// stays connected past pongWait.
func TestWebSocketKeepalive(t *testing.T) {
	sb, _ := openSandbox(t)
	sb.hub.cfg.quiet = true
	sb.hub.cfg.pingPeriod = 20 * time.Millisecond
	sb.hub.cfg.pongWait = 100 * time.Millisecond
	api := newAPIServer(t, sb)
	c := dial(t, api.url, api.token("bob"))
	pings := make(chan struct{}, 100)
	c.conn.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return c.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	c.event("hello")
	// Keep reading (pings are handled inside reads) for three pongWaits.
	c.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, _, err := c.conn.ReadMessage()
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("connection ended: %v", err)
	}
	if len(pings) < 3 {
		t.Errorf("%d pings in 300ms at a 20ms period", len(pings))
	}
}

// TestWebSocketSlowClientIsDropped: a client that stops reading is cut off
// once its buffer is full, while a reading client gets every event, in
// order, without waiting for it.
func TestWebSocketSlowClientIsDropped(t *testing.T) {
	sb, _ := openSandbox(t)
	sb.hub.cfg.quiet = true
	sb.hub.cfg.sendBuffer = 16
	api := newAPIServer(t, sb)
	slow := dial(t, api.url, api.token("bob"))
	fast := dial(t, api.url, api.token("alice"))
	slow.event("hello")
	fast.event("hello")

	received := make(chan int64)
	go func() {
		defer close(received)
		for {
			fast.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, msg, err := fast.conn.ReadMessage()
			if err != nil {
				return
			}
			var ev struct{ Seq int64 }
			json.Unmarshal(msg, &ev)
			received <- ev.Seq
		}
	}()
	ch := sb.channels[channelID("engineering/town-square")]
	big := strings.Repeat("x", 64<<10)
	const n = 400 // 25 MiB: more than the socket buffers and 16 frames hold
	for i := int64(1); i <= n; i++ {
		sb.publishEvent("custom_test", map[string]any{"blob": big}, wsBroadcast{ChannelID: ch.ID}, sb.channelAudience(ch, ""))
		select {
		case seq := <-received:
			if seq != i {
				t.Fatalf("fast client got seq %d, want %d", seq, i)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("fast client stalled at event %d", i)
		}
	}

	var got int
	for {
		slow.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err := slow.conn.ReadMessage()
		if err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("slow client still connected after %d events", got)
			}
			break
		}
		got++
	}
	if got >= n {
		t.Errorf("slow client read all %d events; it should have been dropped", got)
	}
}

// TestCloseEndsConnectionsWithoutLeaks: Close sends going-away to every
// client, ends every pump and leaves no goroutine behind.
func TestCloseEndsConnectionsWithoutLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	sb, err := Open(t.TempDir() + "/sandbox.db")
	if err == nil {
		sb.hub.cfg.quiet = true
	}
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(sb.Handler())
	token, _, _ := sb.Login(context.Background(), "bob", Password)
	var clients []*wsClient
	for i := 0; i < 3; i++ {
		c := dial(t, hs.URL, token)
		c.event("hello")
		clients = append(clients, c)
	}
	unauthenticated := dial(t, hs.URL, "")
	clients = append(clients, unauthenticated)
	// Make sure the last one is registered before closing.
	unauthenticated.send(map[string]any{"seq": 1, "action": "ping"})
	unauthenticated.next()

	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _, err := c.conn.ReadMessage()
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("client %d: %v, want a going-away close", i, err)
		}
		c.conn.Close()
	}
	hs.Close()
	http.DefaultClient.CloseIdleConnections()

	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if now := runtime.NumGoroutine(); now > before {
		var buf bytes.Buffer
		pprof.Lookup("goroutine").WriteTo(&buf, 1)
		t.Errorf("%d goroutines before, %d after Close:\n%s", before, now, buf.String())
	}
	// Publishing after Close neither blocks nor panics.
	ch := sb.channels[channelID("engineering/town-square")]
	sb.publishEvent("custom_test", map[string]any{}, wsBroadcast{}, sb.channelAudience(ch, ""))
}

// TestWebSocketPresence: a user with a websocket is online for
// /users/status/ids, and team mates hear status_change when the first
// connection opens and the last one closes.
func TestWebSocketPresence(t *testing.T) {
	sb, _ := openSandbox(t)
	api := newAPIServer(t, sb)
	bob := dial(t, api.url, api.token("bob"))
	bob.event("hello")
	if m := bob.event("status_change"); sub(m, "data")["user_id"] != userID("bob") || sub(m, "data")["status"] != "online" {
		t.Fatalf("bob's own status: %v", m)
	}
	status := func(user string) string {
		t.Helper()
		r := api.do("bob", "POST", "/api/v4/users/status/ids", `["`+userID(user)+`"]`)
		var l []map[string]any
		if err := json.Unmarshal(r.body, &l); err != nil || len(l) != 1 {
			t.Fatalf("statuses: %d %s", r.status, r.body)
		}
		return l[0]["status"].(string)
	}
	if got := status("alice"); got != "offline" {
		t.Fatalf("alice before connecting: %s", got)
	}
	alice := dial(t, api.url, api.token("alice"))
	alice.event("hello")
	m := bob.event("status_change")
	if d := sub(m, "data"); d["user_id"] != userID("alice") || d["status"] != "online" {
		t.Fatalf("status_change: %v", m)
	}
	if got := status("alice"); got != "online" {
		t.Fatalf("alice connected: %s", got)
	}
	// A second connection changes nothing; closing both makes her offline.
	alice2 := dial(t, api.url, api.token("alice"))
	alice2.event("hello")
	alice.conn.Close()
	alice2.conn.Close()
	m = bob.event("status_change")
	if d := sub(m, "data"); d["user_id"] != userID("alice") || d["status"] != "offline" {
		t.Fatalf("after closing: %v", m)
	}
	if got := status("alice"); got != "offline" {
		t.Fatalf("alice gone: %s", got)
	}
	// carol shares no team with alice... but admin shares both: carol
	// heard nothing about alice.
	carol := dial(t, api.url, api.token("carol"))
	carol.event("hello")
	if m := carol.event("status_change"); sub(m, "data")["user_id"] != userID("carol") {
		t.Fatalf("carol heard %v", m)
	}
}
