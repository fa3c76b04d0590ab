// Package teamswitch measures how fast a team switch in Mattermost's own
// webapp, fronted by mmtoolkit, reaches its websocket as plugin events
// (issue 16: within 100 ms p99), and how fast an admin's toggle reaches
// the sessions on that team.
//
// The Mattermost is the stand-in (apiv4-proxy/mattermosttest) with its
// websocket; mmtoolkit runs in-process as serve --upstream builds it
// (apiv4proxy.Upstream, apiv4proxy.NewProxy, the Edge on a loopback
// listener). Sessions sessions (default 100), each in teams alpha and
// beta, hold a websocket through mmtoolkit; alpha and beta each enable 2
// plugins of their own and 1 shared. A switch is the webapp's presence
// action {"team_id": ...} written on the socket; it is done when the
// socket has read the 4 events it brings (2 plugin_disabled, 2
// plugin_enabled), each checked to be the next in the client's sequence.
//
//   - switch: one session switches at a time, the others connected and
//     idle;
//
//   - view: the same by viewing a channel of the other team (POST
//     /api/v4/channels/members/me/view, from the request's start: the
//     view's own answer, then the channel's team, asked of Mattermost the
//     first time, then the events);
//
//   - burst: every session switches at once (latency per session);
//
//   - toggle: an admin enables a plugin for the team every session
//     shows (then disables it); latency per session to its event.
//
//     go test -run '^$' -bench . -benchtime 20x ./bench/teamswitch/
//
// b.N rounds; each round has Sessions switches one at a time, one burst
// and one toggle pair.
package teamswitch

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/mattermosttest"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// front starts mmtoolkit in front of mm and returns its URL.
func front(b *testing.B, mm *mattermosttest.Mattermost) string {
	b.Helper()
	up, err := apiv4proxy.NewUpstream(mm.URL(), apiv4proxy.UpstreamOptions{})
	if err != nil {
		b.Fatal(err)
	}
	proxy, err := apiv4proxy.NewProxy(mm.URL(), apiv4proxy.ProxyOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(registrytest.Open(b), up, server.Config{Upstream: proxy, Fronting: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	edge := srv.NewEdge(hs)
	go edge.Serve(ln)
	b.Cleanup(func() { edge.Shutdown(context.Background()); srv.Close() })
	return "http://" + ln.Addr().String()
}

func push(b *testing.B, url, token, id string) {
	b.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []struct{ name, body string }{
		{"plugin.json", `{"id":"` + id + `","name":"` + id + `","version":"1.0.0","webapp":{"entry":"index.js"}}`},
		{"index.js", `window.registerPlugin("` + id + `", {initialize() {}});`},
	} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(f.body))
	}
	tw.Close()
	zw.Close()
	do(b, "POST", url+"/api/v1/plugins", token, "application/gzip", buf.Bytes())
}

func enable(b *testing.B, url, token, team, id string, on bool) {
	do(b, "PUT", url+"/api/v1/teams/"+team+"/plugins/"+id, token, "application/json", []byte(`{"enabled":`+strconv.FormatBool(on)+`}`))
}

func do(b *testing.B, method, url, token, ctype string, body []byte) {
	b.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", ctype)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode >= 300 {
		b.Fatalf("%s %s: %d %s", method, url, res.StatusCode, out)
	}
}

// session is one webapp's websocket through mmtoolkit; its reader checks
// the sequence as @mattermost/client does and passes on when each plugin
// event arrived.
type session struct {
	c      *websocket.Conn
	events chan time.Time
	wmu    sync.Mutex
	broken chan string
}

func open(b *testing.B, url, token string) *session {
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/api/v4/websocket",
		http.Header{"Cookie": {"MMAUTHTOKEN=" + token}})
	if err != nil {
		b.Fatal(err)
	}
	s := &session{c: c, events: make(chan time.Time, 256), broken: make(chan string, 1)}
	go func() {
		var next int64
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			var ev struct {
				Event    string `json:"event"`
				Seq      *int64 `json:"seq"`
				SeqReply int64  `json:"seq_reply"`
			}
			json.Unmarshal(msg, &ev)
			if ev.SeqReply != 0 {
				continue
			}
			if ev.Seq == nil || *ev.Seq != next {
				s.broken <- fmt.Sprintf("event %s out of sequence, want %d", msg, next)
				return
			}
			next++
			if strings.HasPrefix(ev.Event, "plugin_") {
				s.events <- time.Now()
			}
		}
	}()
	return s
}

func (s *session) presence(team string) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.c.WriteJSON(map[string]any{"action": "presence", "seq": 1, "data": map[string]string{"team_id": team}})
}

// wait returns when n plugin events arrived, with the last one's time.
func (s *session) wait(b *testing.B, n int) time.Time {
	var last time.Time
	for range n {
		select {
		case last = <-s.events:
		case why := <-s.broken:
			b.Fatal(why)
		case <-time.After(10 * time.Second):
			b.Fatalf("a socket got no plugin event in 10 s")
		}
	}
	return last
}

func pct(d []time.Duration, p float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[int(float64(len(s)-1)*p)]) / 1e6
}

func BenchmarkTeamSwitch(b *testing.B) {
	sessions := 100
	if v, err := strconv.Atoi(os.Getenv("SESSIONS")); err == nil && v > 0 {
		sessions = v
	}
	mm := mattermosttest.New(b)
	mm.EnableWebsocket()
	admin := mm.AddUser("admin", "system_user system_admin")
	alpha, beta := mm.AddTeam("alpha", false), mm.AddTeam("beta", false)
	mm.AddMember(alpha.ID, admin.ID, "")
	mm.AddMember(beta.ID, admin.ID, "")
	url := front(b, mm)
	token := mm.Token(admin)
	for _, p := range []struct{ id, teams string }{{"alpha1", "a"}, {"alpha2", "a"}, {"beta1", "b"}, {"beta2", "b"}, {"shared", "ab"}, {"late", ""}} {
		push(b, url, token, p.id)
		if strings.Contains(p.teams, "a") {
			enable(b, url, token, alpha.ID, p.id, true)
		}
		if strings.Contains(p.teams, "b") {
			enable(b, url, token, beta.ID, p.id, true)
		}
	}
	socks := make([]*session, sessions)
	tokens := make([]string, sessions)
	on := make([]string, sessions) // the team each session shows
	var members []string
	for i := range socks {
		u := mm.AddUser(fmt.Sprintf("user%d", i), "")
		mm.AddMember(alpha.ID, u.ID, "")
		mm.AddMember(beta.ID, u.ID, "")
		members = append(members, u.ID)
	}
	// A channel in each team, every session a member: viewing it is the
	// other signal of the team shown.
	town := map[string]string{alpha.ID: mm.AddChannel(alpha.ID, "town-square", members...).ID,
		beta.ID: mm.AddChannel(beta.ID, "town-square", members...).ID}
	for i := range socks {
		tokens[i] = mm.Token(mattermosttest.User{ID: members[i]})
		socks[i] = open(b, url, tokens[i])
		socks[i].wait(b, 5) // the whole state: 2 disabled, 3 enabled
		on[i] = alpha.ID
	}
	other := func(t string) string {
		if t == alpha.ID {
			return beta.ID
		}
		return alpha.ID
	}
	var single, view, burst, toggle []time.Duration
	b.ResetTimer()
	for range b.N {
		for i, s := range socks {
			on[i] = other(on[i])
			start := time.Now()
			s.presence(on[i])
			single = append(single, s.wait(b, 4).Sub(start))
		}
		for i, s := range socks {
			on[i] = other(on[i])
			start := time.Now()
			do(b, "POST", url+"/api/v4/channels/members/me/view", tokens[i], "application/json",
				[]byte(`{"channel_id":"`+town[on[i]]+`","collapsed_threads_supported":true}`))
			view = append(view, s.wait(b, 4).Sub(start))
		}
		start := time.Now()
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i, s := range socks {
			on[i] = other(on[i])
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.presence(on[i])
				d := s.wait(b, 4).Sub(start)
				mu.Lock()
				burst = append(burst, d)
				mu.Unlock()
			}()
		}
		wg.Wait()
		team := on[0] // every session shows it now
		for _, state := range []bool{true, false} {
			start := time.Now()
			enable(b, url, token, team, "late", state)
			for i, s := range socks {
				if on[i] == team {
					toggle = append(toggle, s.wait(b, 1).Sub(start))
				}
			}
		}
	}
	b.StopTimer()
	for _, m := range []struct {
		name string
		d    []time.Duration
	}{{"switch", single}, {"view", view}, {"burst", burst}, {"toggle", toggle}} {
		if len(m.d) == 0 {
			continue
		}
		b.ReportMetric(pct(m.d, 0.5), m.name+"_p50_ms")
		b.ReportMetric(pct(m.d, 0.99), m.name+"_p99_ms")
		b.ReportMetric(pct(m.d, 1), m.name+"_max_ms")
	}
	b.ReportMetric(float64(sessions), "sessions")
	b.ReportMetric(0, "ns/op")
}
