package apiv4proxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeMattermost is a stand-in upstream on 127.0.0.1: the identity routes
// of Mattermost's API v4 answered with the bodies of real responses
// (testdata/), a few echo and misbehaving endpoints for the proxy, and a
// websocket that greets like Mattermost and echoes.
type fakeMattermost struct {
	t   *testing.T
	srv *httptest.Server
	url string // base URL, with the subpath when there is one

	mu       sync.Mutex
	sessions map[string]string // token -> user id
	users    map[string]fakeUser
	teams    map[string]fakeTeam
	channels map[string]fakeChannel

	hits  sync.Map // path -> *atomic.Int64
	delay atomic.Int64
	// broken makes the identity routes answer this status (500) or, with
	// -1, a body that is not JSON.
	broken atomic.Int64

	samples map[string]map[string]any
	gates   sync.Map     // /stream gate name -> chan struct{}
	ws      chan wsEvent // what the upstream websocket saw
}

type fakeUser struct {
	id, username, roles string
	teams               map[string]string // team id -> team roles
	schemeAdmin         map[string]bool
}

type fakeTeam struct {
	id, name string
	open     bool
}

type fakeChannel struct {
	id, teamID string
	members    []string
}

// wsEvent is one thing the upstream websocket observed.
type wsEvent struct {
	kind string // "open", "message", "closed"
	text string
	code int
	hdr  http.Header
}

const (
	teamEng   = "58z4er6bqpd1ze5hgqrtbxba1y" // from the samples
	teamSales = "sa1esteamidxxxxxxxxxxxxxxx"
	teamOps   = "opsteamidxxxxxxxxxxxxxxxxx" // private: only admins see it
	chanTown  = "yj8auysxu7fdin795hffuc1bra"
	chanBig   = "bigchannelidxxxxxxxxxxxxxx"
)

// newFakeMattermost starts the stand-in; with subpath ("/chat") it answers
// only under it, as a Mattermost with a subpath SiteURL does.
func newFakeMattermost(t *testing.T, subpath string) *fakeMattermost {
	t.Helper()
	f := &fakeMattermost{
		t:        t,
		sessions: map[string]string{},
		samples:  map[string]map[string]any{},
		ws:       make(chan wsEvent, 100),
		users: map[string]fakeUser{
			"uadmin": {id: "uadmin", username: "admin", roles: "system_user system_admin", teams: map[string]string{teamEng: "team_user"}},
			"ualice": {id: "ualice", username: "alice", roles: "system_user", teams: map[string]string{teamEng: "team_user team_admin"}},
			"ubob":   {id: "ubob", username: "bob", roles: "system_user", teams: map[string]string{teamEng: "team_user"}},
			"ucarol": {id: "ucarol", username: "carol", roles: "system_user", teams: map[string]string{teamSales: "team_user"},
				schemeAdmin: map[string]bool{teamSales: true}},
		},
		teams: map[string]fakeTeam{
			teamEng:   {id: teamEng, name: "engineering", open: false},
			teamSales: {id: teamSales, name: "sales", open: true},
			teamOps:   {id: teamOps, name: "ops", open: false},
		},
		channels: map[string]fakeChannel{
			chanTown: {id: chanTown, teamID: teamEng, members: []string{"uadmin", "ualice", "ubob"}},
		},
	}
	big := make([]string, 450)
	for i := range big {
		big[i] = fmt.Sprintf("member%03d", i)
	}
	f.channels[chanBig] = fakeChannel{id: chanBig, teamID: teamEng, members: append(big, "ubob")}
	for _, name := range []string{"users_me", "users_me_teams", "users_me_teams_members", "users_me_bad_token", "channel_by_name", "teams_name", "teams_name_missing"} {
		b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var sample struct{ Body any }
		if err := json.Unmarshal(b, &sample); err != nil {
			t.Fatalf("testdata/%s.json: %v", name, err)
		}
		switch body := sample.Body.(type) {
		case map[string]any:
			f.samples[name] = body
		case []any:
			f.samples[name] = body[0].(map[string]any)
		}
	}
	var h http.Handler = http.HandlerFunc(f.serve)
	if subpath != "" {
		mux := http.NewServeMux()
		mux.Handle(subpath+"/", http.StripPrefix(subpath, h))
		h = mux
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	f.url = f.srv.URL + subpath
	return f
}

// login starts a session for a user id and returns its token.
func (f *fakeMattermost) login(uid string) string {
	token := NewID()
	f.mu.Lock()
	f.sessions[token] = uid
	f.mu.Unlock()
	return token
}

func (f *fakeMattermost) revoke(token string) {
	f.mu.Lock()
	delete(f.sessions, token)
	f.mu.Unlock()
}

// count is how many requests reached path.
func (f *fakeMattermost) count(path string) int64 {
	if c, ok := f.hits.Load(path); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

func (f *fakeMattermost) total() int64 {
	var n int64
	f.hits.Range(func(_, v any) bool { n += v.(*atomic.Int64).Load(); return true })
	return n
}

// sample is a copy of a real Mattermost object with some fields replaced.
func (f *fakeMattermost) sample(name string, set map[string]any) map[string]any {
	out := maps.Clone(f.samples[name])
	maps.Copy(out, set)
	return out
}

func writeJSONTest(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeMattermost) mmError(w http.ResponseWriter, status int, id string) {
	writeJSONTest(w, status, map[string]any{"id": id, "message": "error", "detailed_error": "",
		"request_id": NewID(), "status_code": status})
}

func (f *fakeMattermost) serve(w http.ResponseWriter, r *http.Request) {
	c, _ := f.hits.LoadOrStore(r.URL.Path, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
	if d := f.delay.Load(); d > 0 {
		// Read the body first, as a server does before working on it; the
		// request's context ends with the connection only after that.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		select {
		case <-time.After(time.Duration(d)):
		case <-r.Context().Done():
			return
		}
	}
	path := r.URL.Path
	switch {
	case path == "/api/v4/websocket":
		f.serveWebsocket(w, r)
		return
	case strings.HasPrefix(path, "/echo"):
		f.serveEcho(w, r)
		return
	case path == "/redirect":
		w.Header().Set("Location", r.URL.Query().Get("to"))
		w.WriteHeader(http.StatusFound)
		return
	case path == "/stream":
		f.serveStream(w, r)
		return
	case path == "/truncated":
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "only ten b")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drop the connection mid-body
	case path == "/hop":
		h := w.Header()
		h.Set("Connection", "X-Hop-Resp")
		h.Set("X-Hop-Resp", "1")
		h.Set("Keep-Alive", "timeout=5")
		h.Set("Proxy-Authenticate", "Basic")
		h.Set("X-End-To-End", "kept")
		w.WriteHeader(http.StatusOK)
		return
	case strings.HasPrefix(path, "/api/v4/"):
		f.serveAPI(w, r)
		return
	}
	f.mmError(w, http.StatusNotFound, "api.context.404.app_error")
}

// serveEcho answers with what it received; ?status= sets the status and
// ?cookie= a Set-Cookie header.
func (f *fakeMattermost) serveEcho(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	q := r.URL.Query()
	status := http.StatusOK
	if s := q.Get("status"); s != "" {
		status, _ = strconv.Atoi(s)
	}
	if c := q.Get("cookie"); c != "" {
		w.Header().Add("Set-Cookie", c)
	}
	w.Header().Set("X-Upstream", "echo")
	writeJSONTest(w, status, echoed{
		Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, Query: r.URL.RawQuery,
		RequestURI: r.RequestURI, Host: r.Host, Header: r.Header, Body: string(body),
		ContentLength: r.ContentLength, TransferEncoding: r.TransferEncoding,
	})
}

type echoed struct {
	Method, Path, RawPath, Query, RequestURI, Host string
	Header                                         http.Header
	Body                                           string
	ContentLength                                  int64
	TransferEncoding                               []string
}

// serveStream sends three server-sent events, waiting for ?gate to be
// released between them when the test asks it to.
func (f *fakeMattermost) serveStream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	for i := range 3 {
		fmt.Fprintf(w, "data: event %d\n\n", i)
		w.(http.Flusher).Flush()
		select {
		case <-f.gate(r.URL.Query().Get("gate")):
		case <-r.Context().Done():
			return
		}
	}
}

// gate is the channel /stream?gate=NAME waits on between events.
func (f *fakeMattermost) gate(name string) chan struct{} {
	g, _ := f.gates.LoadOrStore(name, make(chan struct{}, 10))
	return g.(chan struct{})
}

func (f *fakeMattermost) serveAPI(w http.ResponseWriter, r *http.Request) {
	if b := f.broken.Load(); b != 0 && strings.HasPrefix(r.URL.Path, "/api/v4/users/me") {
		if b < 0 {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>a login page, not JSON</html>")
			return
		}
		f.mmError(w, int(b), "api.context.500.app_error")
		return
	}
	token := TokenFromRequest(r)
	f.mu.Lock()
	uid, ok := f.sessions[token]
	f.mu.Unlock()
	if !ok {
		writeJSONTest(w, http.StatusUnauthorized, f.samples["users_me_bad_token"])
		return
	}
	u := f.users[uid]
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/v4/"), "/")
	switch {
	case r.URL.Path == "/api/v4/users/me":
		writeJSONTest(w, http.StatusOK, f.sample("users_me", map[string]any{"id": u.id, "username": u.username, "roles": u.roles}))
	case r.URL.Path == "/api/v4/users/me/teams":
		out := []any{}
		for tid := range u.teams {
			out = append(out, f.teamJSON(f.teams[tid]))
		}
		writeJSONTest(w, http.StatusOK, out)
	case r.URL.Path == "/api/v4/users/me/teams/members":
		out := []any{}
		for tid, roles := range u.teams {
			out = append(out, f.sample("users_me_teams_members", map[string]any{
				"team_id": tid, "user_id": u.id, "roles": roles, "scheme_admin": u.schemeAdmin[tid]}))
		}
		// A team the user left: Mattermost may list it with delete_at set.
		out = append(out, f.sample("users_me_teams_members", map[string]any{
			"team_id": teamOps, "user_id": u.id, "roles": "team_user team_admin", "delete_at": 1795479712335}))
		writeJSONTest(w, http.StatusOK, out)
	case len(parts) == 2 && parts[0] == "teams", len(parts) == 3 && parts[0] == "teams" && parts[1] == "name":
		var t fakeTeam
		for _, c := range f.teams {
			if (len(parts) == 2 && c.id == parts[1]) || (len(parts) == 3 && c.name == parts[2]) {
				t = c
			}
		}
		_, member := u.teams[t.id]
		switch {
		case t.id == "":
			writeJSONTest(w, http.StatusNotFound, f.samples["teams_name_missing"])
		case !member && !t.open && !strings.Contains(u.roles, "system_admin"):
			f.mmError(w, http.StatusForbidden, "api.context.permissions.app_error")
		default:
			writeJSONTest(w, http.StatusOK, f.teamJSON(t))
		}
	case len(parts) >= 2 && parts[0] == "channels":
		c, ok := f.channels[parts[1]]
		if !ok {
			f.mmError(w, http.StatusNotFound, "app.channel.get.existing.app_error")
			return
		}
		if !contains(c.members, uid) {
			f.mmError(w, http.StatusForbidden, "api.context.permissions.app_error")
			return
		}
		if len(parts) == 2 {
			writeJSONTest(w, http.StatusOK, f.sample("channel_by_name", map[string]any{"id": c.id, "team_id": c.teamID}))
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		out := []any{}
		for i := page * per; i < len(c.members) && i < (page+1)*per; i++ {
			out = append(out, map[string]any{"channel_id": c.id, "user_id": c.members[i], "roles": "channel_user"})
		}
		writeJSONTest(w, http.StatusOK, out)
	default:
		f.mmError(w, http.StatusNotFound, "api.context.404.app_error")
	}
}

func (f *fakeMattermost) teamJSON(t fakeTeam) map[string]any {
	typ := "I"
	if t.open {
		typ = "O"
	}
	return f.sample("teams_name", map[string]any{"id": t.id, "name": t.name, "display_name": strings.ToUpper(t.name[:1]) + t.name[1:], "type": typ})
}

// serveWebsocket greets like Mattermost ("hello"), then: "close CODE TEXT"
// closes with that code, "drop" cuts the connection, "flood" sends
// messages without end, anything else is echoed. Pings it gets are
// reported; "ping DATA" makes it ping the client.
func (f *fakeMattermost) serveWebsocket(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("refuse") != "" {
		writeJSONTest(w, http.StatusUnauthorized, f.samples["users_me_bad_token"])
		return
	}
	up := websocket.Upgrader{Subprotocols: []string{"mm.v1"}}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	f.ws <- wsEvent{kind: "open", hdr: r.Header.Clone(), text: c.Subprotocol()}
	c.SetPingHandler(func(data string) error {
		f.ws <- wsEvent{kind: "ping", text: data}
		return c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	c.SetPongHandler(func(data string) error {
		f.ws <- wsEvent{kind: "pong", text: data}
		return nil
	})
	c.WriteJSON(map[string]any{"event": "hello", "data": map[string]any{"connection_id": NewID()}, "seq": 0})
	for {
		typ, msg, err := c.ReadMessage()
		if err != nil {
			ev := wsEvent{kind: "closed", text: err.Error()}
			if ce, ok := err.(*websocket.CloseError); ok {
				ev.code, ev.text = ce.Code, ce.Text
			}
			f.ws <- ev
			return
		}
		f.ws <- wsEvent{kind: "message", text: string(msg)}
		switch cmd := strings.Fields(string(msg)); {
		case len(cmd) >= 2 && cmd[0] == "close":
			code, _ := strconv.Atoi(cmd[1])
			c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, strings.Join(cmd[2:], " ")), time.Now().Add(time.Second))
		case len(cmd) == 1 && cmd[0] == "drop":
			c.NetConn().Close()
		case len(cmd) == 1 && cmd[0] == "flood":
			big := make([]byte, 256<<10)
			for {
				c.SetWriteDeadline(time.Now().Add(5 * time.Second))
				if err := c.WriteMessage(websocket.BinaryMessage, big); err != nil {
					f.ws <- wsEvent{kind: "closed", text: err.Error()}
					return
				}
			}
		case len(cmd) == 2 && cmd[0] == "ping":
			c.WriteControl(websocket.PingMessage, []byte(cmd[1]), time.Now().Add(time.Second))
		default:
			c.WriteMessage(typ, msg)
		}
	}
}

// waitEvent returns the next upstream websocket event of kind.
func (f *fakeMattermost) waitEvent(t *testing.T, kind string) wsEvent {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-f.ws:
			if ev.kind == kind {
				return ev
			}
		case <-deadline:
			t.Fatalf("the upstream websocket saw no %q event", kind)
		}
	}
}
