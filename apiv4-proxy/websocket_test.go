package apiv4proxy

import (
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// dialWS opens a websocket to the proxy, with a token cookie, and reads
// the upstream's "hello".
func dialWS(t *testing.T, e *proxyEnv, header http.Header) *websocket.Conn {
	t.Helper()
	if header == nil {
		header = http.Header{}
	}
	header.Set("Cookie", "MMAUTHTOKEN=tok")
	d := websocket.Dialer{Subprotocols: []string{"mm.v1"}, HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial("ws"+strings.TrimPrefix(e.srv.URL, "http")+"/api/v4/websocket", header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial through the proxy: %v (status %d)", err, status)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hello struct{ Event string }
	if err := c.ReadJSON(&hello); err != nil || hello.Event != "hello" {
		t.Fatalf("first message %+v, %v; want Mattermost's hello", hello, err)
	}
	return c
}

// settled waits for the goroutine count to come back to at most base: the
// relay's goroutines must all end when a websocket ends.
func settled(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want at most %d:\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWebsocketRelaysBothWays(t *testing.T) {
	for _, subpath := range []string{"", "/chat"} {
		t.Run("subpath="+subpath, func(t *testing.T) {
			e := newProxyEnv(t, subpath, ProxyOptions{})
			c := dialWS(t, e, http.Header{"Authorization": {"Bearer tok"}, "Mattermost-User-Id": {"uadmin"},
				"Origin": {e.srv.URL}})
			defer c.Close()
			open := e.mm.waitEvent(t, "open")
			for k, want := range map[string]string{"Cookie": "MMAUTHTOKEN=tok", "Authorization": "Bearer tok",
				"Origin": e.mm.srv.URL, "X-Forwarded-For": "127.0.0.1", "Mattermost-User-Id": ""} {
				if got := open.hdr.Get(k); got != want {
					t.Errorf("upstream handshake %s = %q, want %q", k, got, want)
				}
			}
			if c.Subprotocol() != "mm.v1" || open.text != "mm.v1" {
				t.Errorf("subprotocol %q / upstream %q, want mm.v1", c.Subprotocol(), open.text)
			}
			for _, m := range []struct {
				typ  int
				data string
			}{
				{websocket.TextMessage, `{"seq":1,"action":"authentication_challenge","data":{"token":"tok"}}`},
				{websocket.BinaryMessage, "\x00\x01binary"},
				{websocket.TextMessage, strings.Repeat("x", 200<<10)}, // many frames
			} {
				if err := c.WriteMessage(m.typ, []byte(m.data)); err != nil {
					t.Fatal(err)
				}
				if ev := e.mm.waitEvent(t, "message"); ev.text != m.data {
					t.Errorf("upstream got %d bytes, want %d", len(ev.text), len(m.data))
				}
				typ, got, err := c.ReadMessage()
				if err != nil || typ != m.typ || string(got) != m.data {
					t.Fatalf("echo: type %d, %d bytes, %v", typ, len(got), err)
				}
			}
		})
	}
}

func TestWebsocketPingsPassThrough(t *testing.T) {
	e := newProxyEnv(t, "", ProxyOptions{})
	c := dialWS(t, e, nil)
	defer c.Close()
	pings := make(chan string, 1)
	c.SetPingHandler(func(data string) error {
		pings <- data
		return c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	go c.ReadMessage() // control frames are handled while reading
	c.WriteMessage(websocket.TextMessage, []byte("ping from-upstream"))
	select {
	case d := <-pings:
		if d != "from-upstream" {
			t.Errorf("ping data %q", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream's ping did not reach the client")
	}
	if ev := e.mm.waitEvent(t, "pong"); ev.text != "from-upstream" {
		t.Errorf("the client's pong reached the upstream as %q", ev.text)
	}
	c.WriteControl(websocket.PingMessage, []byte("from-client"), time.Now().Add(time.Second))
	if ev := e.mm.waitEvent(t, "ping"); ev.text != "from-client" {
		t.Errorf("upstream got ping %q", ev.text)
	}
}

func TestWebsocketCloseCodesPass(t *testing.T) {
	e := newProxyEnv(t, "", ProxyOptions{})
	t.Run("client closes", func(t *testing.T) {
		c := dialWS(t, e, nil)
		defer c.Close()
		c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "bye now"), time.Now().Add(time.Second))
		ev := e.mm.waitEvent(t, "closed")
		if ev.code != 4001 || ev.text != "bye now" {
			t.Fatalf("upstream saw close %d %q, want 4001 \"bye now\"", ev.code, ev.text)
		}
	})
	t.Run("upstream closes", func(t *testing.T) {
		c := dialWS(t, e, nil)
		defer c.Close()
		c.WriteMessage(websocket.TextMessage, []byte("close 1008 policy violated"))
		for {
			_, _, err := c.ReadMessage()
			if err == nil {
				continue // the echo of our own command does not come; hello did
			}
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != 1008 || ce.Text != "policy violated" {
				t.Fatalf("client saw %v, want close 1008 \"policy violated\"", err)
			}
			break
		}
	})
}

func TestWebsocketTeardownLeavesNoGoroutines(t *testing.T) {
	for _, tt := range []struct {
		name string
		end  func(t *testing.T, e *proxyEnv, c *websocket.Conn)
	}{
		{"client drops", func(t *testing.T, e *proxyEnv, c *websocket.Conn) {
			c.NetConn().Close() // no close frame
			if ev := e.mm.waitEvent(t, "closed"); ev.code != 0 && ev.code != websocket.CloseAbnormalClosure {
				t.Errorf("upstream saw %+v, want an abrupt end", ev)
			}
		}},
		{"upstream drops", func(t *testing.T, e *proxyEnv, c *websocket.Conn) {
			c.WriteMessage(websocket.TextMessage, []byte("drop"))
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					if isTimeout(err) {
						t.Errorf("the client was not told the upstream went away")
					}
					break
				}
			}
		}},
		{"client closes cleanly", func(t *testing.T, e *proxyEnv, c *websocket.Conn) {
			c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			e.mm.waitEvent(t, "closed")
		}},
		{"client stops reading", func(t *testing.T, e *proxyEnv, c *websocket.Conn) {
			// The upstream floods a client that reads nothing: the proxy's
			// write to the client blocks (backpressure), times out, and
			// the relay ends instead of buffering without bound.
			c.WriteMessage(websocket.TextMessage, []byte("flood"))
			e.mm.waitEvent(t, "closed")
		}},
		{"client silent", func(t *testing.T, e *proxyEnv, c *websocket.Conn) {
			// A client that answers no pings (it reads nothing) is dropped
			// after the idle timeout; the upstream is told "going away".
			if ev := e.mm.waitEvent(t, "closed"); ev.code != websocket.CloseGoingAway {
				t.Errorf("upstream saw %+v, want 1001", ev)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newProxyEnv(t, "", ProxyOptions{}, func(p *proxy) {
				p.pingInterval = 100 * time.Millisecond
				p.idleTimeout = 400 * time.Millisecond
				p.writeTimeout = 300 * time.Millisecond
			})
			// Warm up the servers' own goroutines, then count.
			http.Get(e.srv.URL + "/echo")
			base := runtime.NumGoroutine()
			c := dialWS(t, e, nil)
			e.mm.waitEvent(t, "open")
			tt.end(t, e, c)
			c.Close()
			settled(t, base)
		})
	}
}

func TestWebsocketOriginAndRefusals(t *testing.T) {
	e := newProxyEnv(t, "", ProxyOptions{AllowedOrigins: []string{"https://app.example.com/"}})
	wsURL := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/api/v4/websocket"
	for _, tt := range []struct {
		name, origin, query string
		status              int
	}{
		{"other site", "https://evil.example", "", http.StatusForbidden},
		{"same origin", e.srv.URL, "", http.StatusSwitchingProtocols},
		{"allowed origin", "https://app.example.com", "", http.StatusSwitchingProtocols},
		{"no origin (not a browser)", "", "", http.StatusSwitchingProtocols},
		{"upstream refuses", "", "?refuse=1", http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			before := e.mm.count("/api/v4/websocket")
			c, resp, err := websocket.DefaultDialer.Dial(wsURL+tt.query, h)
			if c != nil {
				c.Close()
			}
			if resp == nil || resp.StatusCode != tt.status {
				t.Fatalf("dial: %v, %v; want status %d", err, resp, tt.status)
			}
			if tt.status == http.StatusForbidden && e.mm.count("/api/v4/websocket") != before {
				t.Errorf("a refused origin reached the upstream")
			}
			if tt.status == http.StatusForbidden {
				body, _ := io.ReadAll(resp.Body)
				if !strings.Contains(string(body), `"origin_not_allowed"`) {
					t.Errorf("refusal without its code: %s", body)
				}
			}
		})
	}
}
