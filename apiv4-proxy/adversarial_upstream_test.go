package apiv4proxy

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Upstream misbehaviour (issue #15): an upstream that answers what no
// HTTP server should, and what the proxy makes of it.

// scriptedUpstream is a raw TCP upstream, without net/http: each request
// head read on any of its connections is answered by script(i, head), i
// counting requests from 0 across connections and head being the request
// line as received, a newline, then the header lines; after it the
// upstream may write late bytes, and closes the connection when close is
// set.
type scriptedUpstream struct {
	ln    net.Listener
	mu    sync.Mutex
	lines []string
	conns int
	open  map[net.Conn]bool
	// late lets the upstream write an answer's late bytes; wrote says
	// they were written.
	late, wrote chan struct{}
}

type scriptAnswer struct {
	reply string
	late  string // written in a second write, when the test says so (scriptedUpstream.late)
	close bool
}

func newScriptedUpstream(t *testing.T, script func(i int, line string) scriptAnswer) *scriptedUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &scriptedUpstream{ln: ln, late: make(chan struct{}, 16), wrote: make(chan struct{}, 16), open: map[net.Conn]bool{}}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		close(u.late)
		u.mu.Lock()
		for c := range u.open {
			c.Close()
		}
		u.mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u.mu.Lock()
			u.conns++
			u.open[c] = true
			u.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					c.Close()
					u.mu.Lock()
					delete(u.open, c)
					u.mu.Unlock()
				}()
				br := bufio.NewReader(c)
				for {
					head, err := readRequestHead(br)
					if err != nil {
						return
					}
					line, _, _ := strings.Cut(head, "\n")
					u.mu.Lock()
					i := len(u.lines)
					u.lines = append(u.lines, line)
					u.mu.Unlock()
					a := script(i, head)
					if _, err := io.WriteString(c, a.reply); err != nil {
						return
					}
					if a.late != "" {
						<-u.late
						io.WriteString(c, a.late)
						u.wrote <- struct{}{}
					}
					if a.close {
						return
					}
				}
			}()
		}
	}()
	return u
}

// readRequestHead reads a request head without a body and returns its
// request line, then its header lines ("Name: value\r\n" each).
func readRequestHead(br *bufio.Reader) (string, error) {
	first, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	head := strings.TrimSuffix(first, "\r\n") + "\n"
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		if l == "\r\n" {
			return head, nil
		}
		head += l
	}
}

func (u *scriptedUpstream) url() string { return "http://" + u.ln.Addr().String() }

func (u *scriptedUpstream) connections() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.conns
}

// okAnswer is a complete answer with body.
func okAnswer(body string) string {
	return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

func proxyServer(t *testing.T, upstream string) *httptest.Server {
	t.Helper()
	p, err := newProxy(upstream, ProxyOptions{Logger: slog.New(slog.DiscardHandler), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv
}

// TestProxyDiscardsConnectionsWithStrayBytes (F08): bytes an upstream
// sends past the end of an answer (a second answer nobody asked for, a
// body longer than its Content-Length, a body on a 204, a 304 or an answer
// to HEAD) must never become the answer to the next request on that
// connection, which may be another user's: the connection is discarded.
func TestProxyDiscardsConnectionsWithStrayBytes(t *testing.T) {
	const secret = `{"id":"alice","email":"alice@example.com"}`
	forged := okAnswer(secret) // what the stray bytes would make the next answer
	for _, tt := range []struct {
		name   string
		method string
		first  scriptAnswer
	}{
		{"a second answer in the same write", "GET", scriptAnswer{reply: okAnswer(`{"id":"x"}`) + forged}},
		{"a second answer in a later write", "GET", scriptAnswer{reply: okAnswer(`{"id":"x"}`), late: forged}},
		{"a body longer than Content-Length", "GET", scriptAnswer{reply: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}" + forged}},
		{"a body longer than Content-Length, the rest later", "GET", scriptAnswer{reply: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", late: forged}},
		{"204 with a body", "DELETE", scriptAnswer{reply: "HTTP/1.1 204 No Content\r\n\r\n" + forged}},
		{"204 with a body later", "DELETE", scriptAnswer{reply: "HTTP/1.1 204 No Content\r\n\r\n", late: forged}},
		{"304 with a body", "GET", scriptAnswer{reply: "HTTP/1.1 304 Not Modified\r\nEtag: \"1\"\r\n\r\n" + forged}},
		{"304 with a body later", "GET", scriptAnswer{reply: "HTTP/1.1 304 Not Modified\r\nEtag: \"1\"\r\n\r\n", late: forged}},
		{"HEAD answered with a body", "HEAD", scriptAnswer{reply: "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(forged)) + "\r\n\r\n" + forged}},
		{"HEAD answered with a body later", "HEAD", scriptAnswer{reply: "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(forged)) + "\r\n\r\n", late: forged}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			up := newScriptedUpstream(t, func(i int, line string) scriptAnswer {
				if i == 0 {
					return tt.first
				}
				return scriptAnswer{reply: okAnswer(`{"id":"bob"}`)}
			})
			srv := proxyServer(t, up.url())
			client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
			defer client.CloseIdleConnections()

			req, _ := http.NewRequest(tt.method, srv.URL+"/api/v4/users/me/thing", nil)
			req.Header.Set("Authorization", "Bearer alice")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if tt.first.late != "" {
				// The first exchange is over: the late bytes reach the
				// proxy's socket, not its buffer, before the next request.
				up.late <- struct{}{}
				select {
				case <-up.wrote:
				case <-time.After(5 * time.Second):
					t.Fatal("the upstream did not write its late bytes")
				}
			}
			for range 2 {
				req, _ = http.NewRequest("GET", srv.URL+"/api/v4/users/me", nil)
				req.Header.Set("Authorization", "Bearer bob")
				resp, err = client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(body) != `{"id":"bob"}` {
					t.Fatalf("bob's users/me answered %d %q: another exchange's bytes (want bob's own answer)", resp.StatusCode, body)
				}
			}
			if n := up.connections(); n < 2 {
				t.Errorf("%d upstream connections: the one with stray bytes was reused", n)
			}
		})
	}
}

// TestProxyStatusUnder100 (F15): http.ReadResponse accepts statuses 000 to
// 099; the proxy answers 502 upstream_bad_response for them (a POST
// panicked into a 500 before), and the next request is served.
func TestProxyStatusUnder100(t *testing.T) {
	for _, status := range []string{"000", "042", "099"} {
		for _, method := range []string{"GET", "POST", "PUT", "DELETE"} {
			t.Run(status+" "+method, func(t *testing.T) {
				up := newScriptedUpstream(t, func(i int, line string) scriptAnswer {
					if i == 0 {
						return scriptAnswer{reply: "HTTP/1.1 " + status + " Weird\r\nContent-Length: 2\r\n\r\n{}"}
					}
					return scriptAnswer{reply: okAnswer(`{"ok":true}`)}
				})
				srv := proxyServer(t, up.url())
				req, _ := http.NewRequest(method, srv.URL+"/api/v4/users/me", nil)
				resp, body := (&proxyEnv{}).do(t, req)
				wantErrorCode(t, resp, body, http.StatusBadGateway, "upstream_bad_response")
				req, _ = http.NewRequest("GET", srv.URL+"/api/v4/users/me", nil)
				resp, body = (&proxyEnv{}).do(t, req)
				if resp.StatusCode != 200 || string(body) != `{"ok":true}` {
					t.Fatalf("next request: %d %s", resp.StatusCode, body)
				}
			})
		}
	}
}

// TestProxyUpstreamMisbehaviour: answers no HTTP server should send, each
// for GET and POST; the client gets the stated answer, and the next
// request (on a new connection, the misbehaving one discarded) is served.
func TestProxyUpstreamMisbehaviour(t *testing.T) {
	for _, tt := range []struct {
		name, reply string
		status      int
		code        string // error code, or "" for the upstream's own answer
		body        string // the upstream's own body, when code is ""
	}{
		{"two different Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x", 502, "upstream_unavailable", ""},
		{"a negative Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}", 502, "upstream_unavailable", ""},
		{"a Content-Length over int64", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n{}", 502, "upstream_unavailable", ""},
		{"a NUL in a header value", "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\n{}", 502, "upstream_unavailable", ""},
		// net/http reads such a field and leaves it out of what it sends.
		{"a space in a header name", "HTTP/1.1 200 OK\r\nX A: b\r\nContent-Length: 2\r\n\r\n{}", 200, "", "{}"},
		{"101 to a plain request", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 502, "upstream_unavailable", ""},
		{"status 000", "HTTP/1.1 000 None\r\nContent-Length: 2\r\n\r\n{}", 502, "upstream_bad_response", ""},
		{"a status line without a reason", "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n{}", 200, "", "{}"},
		{"chunked and a Content-Length (chunked wins, as RFC 9112 says)", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 200, "", "{}"},
		{"HTTP/1.0 without a length (the body ends with the connection)", "HTTP/1.0 200 OK\r\n\r\n{}", 200, "", "{}"},
		{"an unknown transfer coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked, br\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 502, "upstream_unavailable", ""},
	} {
		for _, method := range []string{"GET", "POST"} {
			t.Run(tt.name+" "+method, func(t *testing.T) {
				up := newScriptedUpstream(t, func(i int, line string) scriptAnswer {
					if i == 0 {
						return scriptAnswer{reply: tt.reply, close: strings.HasPrefix(tt.reply, "HTTP/1.0")}
					}
					return scriptAnswer{reply: okAnswer(`{"ok":true}`)}
				})
				srv := proxyServer(t, up.url())
				req, _ := http.NewRequest(method, srv.URL+"/api/v4/users/me", nil)
				resp, err := noRedirects.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatalf("the answer's body: %v", err)
				}
				if tt.code != "" {
					wantErrorCode(t, resp, body, tt.status, tt.code)
				} else if resp.StatusCode != tt.status || string(body) != tt.body {
					t.Fatalf("%d %q, want %d %q", resp.StatusCode, body, tt.status, tt.body)
				}
				for k := range resp.Header {
					if strings.ContainsAny(k, " \x00") {
						t.Errorf("an invalid header name reached the client: %q", k)
					}
				}
				req, _ = http.NewRequest("GET", srv.URL+"/api/v4/users/me", nil)
				resp, body = (&proxyEnv{}).do(t, req)
				if resp.StatusCode != 200 || string(body) != `{"ok":true}` {
					t.Fatalf("next request: %d %s", resp.StatusCode, body)
				}
			})
		}
	}
}

// TestUpstreamStatusUnder100Elsewhere: the websocket handshake and the
// identity client meet a status under 100 too: a 502, never a success.
func TestUpstreamStatusUnder100Elsewhere(t *testing.T) {
	up := newScriptedUpstream(t, func(i int, line string) scriptAnswer {
		return scriptAnswer{reply: "HTTP/1.1 042 Odd\r\nContent-Length: 2\r\n\r\n{}", close: true}
	})
	srv := proxyServer(t, up.url())
	_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/api/v4/websocket", nil)
	if err == nil || resp == nil {
		t.Fatalf("websocket: %v %v", err, resp)
	}
	body, _ := io.ReadAll(resp.Body)
	wantErrorCode(t, resp, body, http.StatusBadGateway, "upstream_bad_response")

	u, err := NewUpstream(up.url(), UpstreamOptions{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Authenticate(t.Context(), "tok"); !errors.Is(err, ErrUpstreamUnavailable) {
		t.Fatalf("Authenticate: %v, want ErrUpstreamUnavailable", err)
	}
}

// TestAuthenticateNeverTakesStrayBytes: the identity client (net/http's
// Transport) meets an upstream that sends a forged users/me after alice's
// answers; bob's identity must be bob's. The Transport reads on between
// requests and closes a connection that says something unasked.
func TestAuthenticateNeverTakesStrayBytes(t *testing.T) {
	user := func(id string) string { return `{"id":"` + id + `","username":"` + id + `"}` }
	forged := okAnswer(user("mallory"))
	up := newScriptedUpstream(t, func(i int, head string) scriptAnswer {
		line, _, _ := strings.Cut(head, "\n")
		who := "bob"
		if strings.Contains(head, "Bearer alice") {
			who = "alice"
		}
		var body string
		switch {
		case strings.HasPrefix(line, "GET /api/v4/users/me "):
			body = user(who)
		default: // teams/members, teams
			body = "[]"
		}
		a := scriptAnswer{reply: okAnswer(body)}
		if who == "alice" {
			a.reply += forged // on every one of alice's connections
		}
		return a
	})
	u, err := NewUpstream(up.url(), UpstreamOptions{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := u.Authenticate(t.Context(), "alice"); err != nil || id.User.ID != "alice" {
		t.Fatalf("alice: %+v %v", id, err)
	}
	for range 3 {
		id, err := u.Authenticate(t.Context(), "bob")
		if err != nil || id.User.ID != "bob" {
			t.Fatalf("bob: %+v %v", id, err)
		}
		u.Forget("bob")
	}
}
