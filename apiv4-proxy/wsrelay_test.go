package apiv4proxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/mattermosttest"
)

func TestSeqInTail(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		seq  int64
		want bool
	}{
		{`{"event":"posted","data":{},"broadcast":{},"seq":7}`, 7, true},
		{"{\"event\":\"posted\",\"data\":{},\"broadcast\":{},\"seq\":12}\n", 12, true},
		{`{"event": "posted", "data": {}, "broadcast": {}, "seq": 0}`, 0, true},
		{`{"seq":3}`, 3, true},
		{`{"status":"OK","seq_reply":3}`, 0, false},
		{`{"status":"OK","seq_reply":3,"data":{"seq":4}}`, 0, false},
		{`{"event":"x","data":{"seq":4}}`, 0, false},
		{`{"event":"x","xseq":4}`, 0, false},
		{`{"event":"x","a\"seq":4}`, 0, false},
		{`{"event":"x","seq":"4"}`, 0, false},
		{`{"event":"x","seq":-4}`, 0, false},
		{`{"event":"x","seq":04}`, 0, false},
		{`{"event":"x","seq":4.5}`, 0, false},
		{`{"event":"x","seq":1234567890123456789}`, 0, false},
		{``, 0, false},
		{`}`, 0, false},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			seq, start, end, ok := seqInTail([]byte(tc.msg))
			if ok != tc.want || seq != tc.seq {
				t.Fatalf("seqInTail = %d, %v; want %d, %v", seq, ok, tc.seq, tc.want)
			}
			if ok {
				got := string(withSeq([]byte(tc.msg), start, end, 4242))
				want := strings.Replace(tc.msg, strconv.FormatInt(tc.seq, 10)+"}", "4242}", 1)
				if got != want {
					t.Fatalf("withSeq = %s, want %s", got, want)
				}
			}
		})
	}
}

// FuzzSeqInTail: whenever seqInTail finds a number in a valid JSON object,
// it is the object's own top-level "seq", and replacing it gives the same
// object with only seq changed.
func FuzzSeqInTail(f *testing.F) {
	for _, s := range []string{`{"event":"a","seq":7}`, `{"seq":1}` + "\n", `{"status":"OK","seq_reply":3}`,
		`{"a":{"seq":1}}`, `{"event": "a", "data": {"seq": 2}, "seq": 3}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		seq, start, end, ok := seqInTail(msg)
		var obj map[string]json.RawMessage
		if !ok || json.Unmarshal(msg, &obj) != nil {
			return
		}
		if string(obj["seq"]) != strconv.FormatInt(seq, 10) {
			t.Fatalf("seqInTail(%q) = %d, but the object's seq is %s", msg, seq, obj["seq"])
		}
		var again map[string]json.RawMessage
		if err := json.Unmarshal(withSeq(msg, start, end, seq+1), &again); err != nil {
			t.Fatalf("renumbered %q is not JSON: %v", msg, err)
		}
		if string(again["seq"]) != strconv.FormatInt(seq+1, 10) || len(again) != len(obj) {
			t.Fatalf("renumbered %q: %v", msg, again)
		}
	})
}

func TestEventIs(t *testing.T) {
	for _, tc := range []struct {
		head string
		want bool
	}{
		{`{"event":"hello","data":{}}`, true},
		{`{"event": "hello", "data": {}}`, true},
		{` { "event" : "hello"`, true},
		{`{"event":"hellos"}`, false},
		{`{"data":{},"event":"hello"}`, false},
		{`{"status":"OK"}`, false},
		{`{"event":"hel`, false},
	} {
		if got := eventIs([]byte(tc.head), "hello"); got != tc.want {
			t.Errorf("eventIs(%q) = %v", tc.head, got)
		}
	}
}

func TestStreamResume(t *testing.T) {
	// Upstream events 0 (hello), 1, 2; added events between: the client
	// saw hello=0, up1=1, added=2, up2=3, added=4.
	st := newStream()
	if c := st.upstreamEvent(0); c != 0 {
		t.Fatal(c)
	}
	st.upstreamEvent(1)
	if c := st.addEvent(); c != 2 {
		t.Fatal(c)
	}
	if c := st.upstreamEvent(2); c != 3 {
		t.Fatalf("upstream 2 is client %d, want 3", c)
	}
	st.addEvent()
	for _, tc := range []struct {
		n, u int64
		ok   bool
	}{
		{6, 0, false}, // past the end
		{5, 3, true},  // lossless: upstream's next is 3
		{4, 3, true},  // the added event 4 was lost: forgotten
		{3, 2, true},  // upstream 2 lost: replayed from 2
		{2, 2, true},  // the added event 2 lost too
		{1, 1, true},
		{0, 0, true},
	} {
		c := &stream{connID: st.connID, injected: st.injected, added: append([]int64(nil), st.added...),
			forgotten: st.forgotten, next: st.next}
		u, ok := c.resume(tc.n)
		if ok != tc.ok || (ok && u != tc.u) {
			t.Errorf("resume(%d) = %d, %v; want %d, %v", tc.n, u, ok, tc.u, tc.ok)
		}
		if ok {
			if got := c.upstreamEvent(u); got != tc.n {
				t.Errorf("after resume(%d), upstream %d is client %d", tc.n, u, got)
			}
		}
	}
}

func TestStreamResumeForgottenAdds(t *testing.T) {
	st := newStream()
	st.upstreamEvent(0)
	for range maxInjectedKept + 5 {
		st.addEvent()
	}
	if _, ok := st.resume(3); ok {
		t.Fatal("resumed at a number whose added events were forgotten")
	}
	if u, ok := st.resume(st.next); !ok || u != 1 {
		t.Fatalf("lossless resume = %d, %v; want 1, true", u, ok)
	}
}

func TestSocketsBounded(t *testing.T) {
	ss := newSockets()
	ss.max = 50
	var first *stream
	for i := range 200 {
		st := newStream()
		if i == 0 {
			first = st
		}
		id := fmt.Sprintf("conn%03d", i)
		st.setID(id)
		ss.keep(st, "", id)
		if i == 10 {
			ss.stream("conn000") // used: moves to the front
		}
	}
	if n := ss.Len(); n != 50 {
		t.Fatalf("%d streams kept, want 50", n)
	}
	if ss.stream("conn199") == nil || ss.stream("conn100") != nil {
		t.Fatal("the least recently used streams must go first")
	}
	_ = first
}

// recorder is a SocketObserver for tests.
type recorder struct {
	events  chan string // event + " " + message
	opened  chan *Socket
	actions chan string // action + " " + data
	closed  chan *Socket
}

func newRecorder() *recorder {
	return &recorder{events: make(chan string, 16), opened: make(chan *Socket, 16), actions: make(chan string, 64), closed: make(chan *Socket, 16)}
}

func (r *recorder) SocketOpened(s *Socket) { r.opened <- s }
func (r *recorder) SocketAction(s *Socket, action string, data json.RawMessage) {
	r.actions <- action + " " + string(data)
}
func (r *recorder) SocketClosed(s *Socket) { r.closed <- s }
func (r *recorder) SocketEvent(s *Socket, event string, msg []byte) {
	r.events <- event + " " + string(msg)
}

func receive[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s", what)
	}
	var zero T
	return zero
}

type mmEnv struct {
	mm    *mattermosttest.Mattermost
	user  mattermosttest.User
	token string
	proxy *proxy
	srv   *httptest.Server
	obs   *recorder
}

func newMMEnv(t *testing.T) *mmEnv {
	t.Helper()
	mm := mattermosttest.New(t)
	mm.EnableWebsocket()
	u := mm.AddUser("alice", "")
	p, err := newProxy(mm.URL(), ProxyOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	obs := newRecorder()
	p.Sockets().SetObserver(obs)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return &mmEnv{mm: mm, user: u, token: mm.Token(u), proxy: p, srv: srv, obs: obs}
}

// wsMsg is what a client reads: an event (seq) or a reply (seq_reply).
type wsMsg struct {
	Event    string          `json:"event"`
	Data     json.RawMessage `json:"data"`
	Seq      *int64          `json:"seq"`
	SeqReply int64           `json:"seq_reply"`
	raw      []byte
}

func (e *mmEnv) dial(t *testing.T, query string) *websocket.Conn {
	t.Helper()
	h := http.Header{"Cookie": {"MMAUTHTOKEN=" + e.token}}
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(e.srv.URL, "http")+"/api/v4/websocket"+query, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t *testing.T, c *websocket.Conn) wsMsg {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var m wsMsg
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	m.raw = b
	return m
}

// expectEvent reads the next event and checks its name and number.
func expectEvent(t *testing.T, c *websocket.Conn, event string, seq int64) wsMsg {
	t.Helper()
	m := read(t, c)
	if m.Event != event || m.Seq == nil || *m.Seq != seq {
		t.Fatalf("got %s, want %s numbered %d", m.raw, event, seq)
	}
	return m
}

func TestRelayPassesUpstreamEventsUntouched(t *testing.T) {
	e := newMMEnv(t)
	c := e.dial(t, "")
	hello := expectEvent(t, c, "hello", 0)
	receive(t, e.obs.opened, "SocketOpened")
	e.mm.BroadcastEvent("posted", map[string]any{"post": `{"id":"p1"}`}, mattermosttest.Broadcast{})
	got := expectEvent(t, c, "posted", 1)
	want := `{"event": "posted", "data": {"post":"{\"id\":\"p1\"}"}, "broadcast": {"omit_users":null,"user_id":"","channel_id":"","team_id":"","connection_id":"","omit_connection_id":""}, "seq": 1}`
	if string(got.raw) != want {
		t.Fatalf("relayed\n%s\nwant upstream's bytes\n%s", got.raw, want)
	}
	if !bytes.HasSuffix(hello.raw, []byte(`,"seq":0}`+"\n")) {
		t.Fatalf("hello changed: %q", hello.raw)
	}

	// Upstream's plugin events pass untouched, and the observer sees them.
	e.mm.BroadcastEvent("plugin_enabled", map[string]any{"manifest": map[string]any{"id": "calls"}}, mattermosttest.Broadcast{})
	got = expectEvent(t, c, "plugin_enabled", 2)
	if ev := receive(t, e.obs.events, "SocketEvent"); ev != "plugin_enabled "+string(got.raw) {
		t.Fatalf("observer saw %q", ev)
	}
}

func TestRelayNumbersAddedEventsInTheClientsSequence(t *testing.T) {
	e := newMMEnv(t)
	c := e.dial(t, "")
	expectEvent(t, c, "hello", 0)
	s := receive(t, e.obs.opened, "SocketOpened")
	if s.Token() != e.token {
		t.Fatalf("socket token %q, want the session's", s.Token())
	}
	if err := s.Inject([]byte(`{"event":"plugin_enabled","data":{"manifest":{"id":"a"}},"broadcast":{}}`)); err != nil {
		t.Fatal(err)
	}
	m := expectEvent(t, c, "plugin_enabled", 1)
	if string(m.Data) != `{"manifest":{"id":"a"}}` {
		t.Fatalf("data %s", m.Data)
	}
	e.mm.BroadcastEvent("posted", map[string]any{}, mattermosttest.Broadcast{})
	expectEvent(t, c, "posted", 2) // upstream's 1
	s.Inject([]byte(`{"event":"plugin_disabled","data":{"manifest":{"id":"a"}},"broadcast":{}}`))
	expectEvent(t, c, "plugin_disabled", 3)
	e.mm.BroadcastEvent("posted", map[string]any{}, mattermosttest.Broadcast{})
	expectEvent(t, c, "posted", 4) // upstream's 2

	// Replies to the client's actions keep their seq_reply and no seq.
	c.WriteJSON(map[string]any{"action": "ping", "seq": 1})
	if r := read(t, c); r.SeqReply != 1 || r.Seq != nil {
		t.Fatalf("ping reply %s", r.raw)
	}
	if err := s.Inject([]byte(`not json`)); err != ErrNotAnEvent {
		t.Fatalf("Inject(not json) = %v", err)
	}
}

func TestRelayReconnectKeepsTheClientsSequence(t *testing.T) {
	e := newMMEnv(t)
	c := e.dial(t, "")
	hello := expectEvent(t, c, "hello", 0)
	var h struct {
		ConnectionID string `json:"connection_id"`
	}
	json.Unmarshal(hello.Data, &h)
	s := receive(t, e.obs.opened, "SocketOpened")
	s.Inject([]byte(`{"event":"plugin_enabled","data":{},"broadcast":{}}`))
	expectEvent(t, c, "plugin_enabled", 1)
	e.mm.BroadcastEvent("posted", map[string]any{"n": 1}, mattermosttest.Broadcast{})
	expectEvent(t, c, "posted", 2)

	// The network drops; upstream goes on queueing events for the connection.
	e.mm.DropSockets()
	receive(t, e.obs.closed, "SocketClosed")
	e.mm.BroadcastEvent("posted", map[string]any{"n": 2}, mattermosttest.Broadcast{})
	e.mm.BroadcastEvent("posted", map[string]any{"n": 3}, mattermosttest.Broadcast{})

	// The client resumes after the last event it got (2), as the webapp does.
	c2 := e.dial(t, "?connection_id="+h.ConnectionID+"&sequence_number=3&posted_ack=true")
	m := expectEvent(t, c2, "posted", 3)
	if string(m.Data) != `{"n":2}` {
		t.Fatalf("first replayed event %s, want n=2", m.raw)
	}
	expectEvent(t, c2, "posted", 4)
	s2 := receive(t, e.obs.opened, "SocketOpened")
	s2.Inject([]byte(`{"event":"plugin_disabled","data":{},"broadcast":{}}`))
	expectEvent(t, c2, "plugin_disabled", 5)
	e.mm.BroadcastEvent("posted", map[string]any{"n": 4}, mattermosttest.Broadcast{})
	expectEvent(t, c2, "posted", 6)
	reqs := e.mm.Requests("/api/v4/websocket")
	if last := reqs[len(reqs)-1].Query; last != "connection_id="+h.ConnectionID+"&sequence_number=2&posted_ack=true" {
		t.Fatalf("upstream was asked %q, want its own number (2) for the client's 3", last)
	}
}

func TestRelayReconnectUnknownConnectionStartsFresh(t *testing.T) {
	e := newMMEnv(t)
	c := e.dial(t, "?connection_id="+mattermosttest.NewID()+"&sequence_number=12")
	m := expectEvent(t, c, "hello", 0)
	if !strings.Contains(string(m.Data), "connection_id") {
		t.Fatal(m.raw)
	}
	reqs := e.mm.Requests("/api/v4/websocket")
	if q := reqs[len(reqs)-1].Query; q != "" {
		t.Fatalf("upstream was asked %q, want a fresh connection", q)
	}
}

func TestRelayShowsActionsToTheObserver(t *testing.T) {
	e := newMMEnv(t)
	// No token on the handshake: the client authenticates in its first
	// message, as Mattermost's mobile app does.
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(e.srv.URL, "http")+"/api/v4/websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.WriteJSON(map[string]any{"seq": 1, "action": "authentication_challenge", "data": map[string]string{"token": e.token}})
	if r := read(t, c); r.SeqReply != 1 {
		t.Fatalf("challenge reply %s", r.raw)
	}
	expectEvent(t, c, "hello", 0)
	if s := receive(t, e.obs.opened, "SocketOpened"); s.Token() != e.token {
		t.Fatal("token from the challenge not seen")
	}
	c.WriteJSON(map[string]any{"seq": 2, "action": "presence", "data": map[string]string{"team_id": "t1"}})
	if a := receive(t, e.obs.actions, "action"); a != `presence {"team_id":"t1"}` {
		t.Fatalf("action %q", a)
	}
	read(t, c) // its reply: the action reached upstream
	conns := e.mm.Sockets(e.user.ID)
	if len(conns) != 1 || e.mm.SocketPresence(conns[0]).TeamID != "t1" {
		t.Fatal("the presence action did not reach upstream")
	}
	// Upstream's direction sees the observer the client's direction set.
	e.mm.BroadcastEvent("plugin_disabled", map[string]any{"manifest": map[string]any{"id": "calls"}}, mattermosttest.Broadcast{})
	expectEvent(t, c, "plugin_disabled", 1)
	if ev := receive(t, e.obs.events, "SocketEvent"); !strings.HasPrefix(ev, "plugin_disabled ") {
		t.Fatalf("observer saw %q", ev)
	}
}

func TestInjectIntoASlowClientEndsIt(t *testing.T) {
	e := newMMEnv(t)
	c := e.dial(t, "")
	s := receive(t, e.obs.opened, "SocketOpened")
	// The client reads nothing: hello and the added events fill the
	// socket's buffers, then its queue.
	big := []byte(`{"event":"x","data":"` + strings.Repeat("a", 256<<10) + `","broadcast":{}}`)
	var err error
	for i := 0; i < 10_000 && err == nil; i++ {
		err = s.Inject(big)
	}
	if err != ErrSocketBusy && err != ErrSocketClosed {
		t.Fatalf("Inject into a client that does not read = %v, want ErrSocketBusy", err)
	}
	receive(t, e.obs.closed, "SocketClosed")
	_ = c
}

func TestResumeQueryKeepsOtherParameters(t *testing.T) {
	p := &proxy{sockets: newSockets()}
	st := newStream()
	st.setID("conn1")
	p.sockets.keep(st, "", "conn1")
	st.upstreamEvent(0)
	st.addEvent()
	st.upstreamEvent(1)
	for _, tc := range []struct{ in, want string }{
		{"connection_id=conn1&sequence_number=3&posted_ack=true", "connection_id=conn1&sequence_number=2&posted_ack=true"},
		{"posted_ack=true&connection_id=conn1&sequence_number=3&disconnect_err_code=1006", "posted_ack=true&connection_id=conn1&sequence_number=2&disconnect_err_code=1006"},
		{"connection_id=unknown&sequence_number=3&posted_ack=true", "posted_ack=true"},
		{"connection_id=conn1&sequence_number=99", ""},
		{"connection_id=&sequence_number=0&posted_ack=true", "connection_id=&sequence_number=0&posted_ack=true"},
		{"posted_ack=true", "posted_ack=true"},
	} {
		if got, _ := p.resumeQuery(tc.in); got != tc.want {
			t.Errorf("resumeQuery(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzSetQueryValue: setting a parameter the query has changes that
// parameter only (one it lacks is not added).
func FuzzSetQueryValue(f *testing.F) {
	f.Add("connection_id=a&sequence_number=3&posted_ack=true", "sequence_number", "7")
	f.Add("a=1&&b=%zz", "b", "")
	f.Fuzz(func(t *testing.T, raw, key, value string) {
		if key == "" || strings.ContainsAny(key, "&=") {
			return
		}
		out := setQueryValue(raw, key, value)
		var keep []string
		for _, kv := range strings.Split(raw, "&") {
			if k, _, _ := strings.Cut(kv, "="); k != key && kv != "" {
				keep = append(keep, kv)
			}
		}
		var got []string
		for _, kv := range strings.Split(out, "&") {
			if k, _, _ := strings.Cut(kv, "="); k != key && kv != "" {
				got = append(got, kv)
			}
		}
		if strings.Join(keep, "&") != strings.Join(got, "&") {
			t.Fatalf("setQueryValue(%q, %q, %q) = %q: other parameters changed", raw, key, value, out)
		}
		_, had := queryValue(raw, key)
		if v, ok := queryValue(out, key); had && value != "" && (!ok || v != value) {
			t.Fatalf("setQueryValue(%q, %q, %q) = %q: %q reads back as %q", raw, key, value, out, key, v)
		}
	})
}

// FuzzTailWriter: however a message is cut into writes, tailWriter passes
// on all of it but its last seqTailBytes, in order, and holds those.
func FuzzTailWriter(f *testing.F) {
	f.Add([]byte(`{"event":"posted","data":{},"seq":7}`), []byte{1, 5, 200})
	f.Add(bytes.Repeat([]byte("x"), 300), []byte{64, 0, 63, 65})
	f.Fuzz(func(t *testing.T, msg, cuts []byte) {
		var out bytes.Buffer
		tw := tailWriter{w: &out}
		rest := msg
		for _, c := range cuts {
			n := min(int(c), len(rest))
			tw.Write(rest[:n])
			rest = rest[n:]
		}
		tw.Write(rest)
		keep := min(len(msg), seqTailBytes)
		if !bytes.Equal(out.Bytes(), msg[:len(msg)-keep]) || !bytes.Equal(tw.tail, msg[len(msg)-keep:]) {
			t.Fatalf("wrote %q and held %q of %q", out.Bytes(), tw.tail, msg)
		}
	})
}

func TestRelayRenumbersALargeEvent(t *testing.T) {
	e := newMMEnv(t)
	c := e.dial(t, "")
	expectEvent(t, c, "hello", 0)
	s := receive(t, e.obs.opened, "SocketOpened")
	s.Inject([]byte(`{"event":"plugin_enabled","data":{},"broadcast":{}}`))
	expectEvent(t, c, "plugin_enabled", 1)
	big := strings.Repeat("0123456789", 300_000) // 3 MB, streamed in many frames
	e.mm.BroadcastEvent("posted", map[string]any{"post": big}, mattermosttest.Broadcast{})
	m := expectEvent(t, c, "posted", 2)
	var d struct{ Post string }
	if json.Unmarshal(m.Data, &d); d.Post != big {
		t.Fatalf("the event's data changed on the way (%d bytes, want %d)", len(d.Post), len(big))
	}
}
