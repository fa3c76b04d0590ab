package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/mattermosttest"
	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// accessTokens is the stand-in's side of Mattermost's user access tokens
// (POST /api/v4/users/{id}/tokens, POST /api/v4/users/tokens/revoke, for
// system admins), its username lookup and a channel's posts, recording
// who asked for the posts.
type accessTokens struct {
	m        *mattermosttest.Mattermost
	disabled bool // EnableUserAccessTokens off: 501, as Mattermost

	mu      sync.Mutex
	byID    map[string]string // token id -> token
	postsBy []string          // the token each posts request came with
}

func newAccessTokens(m *mattermosttest.Mattermost, users map[string]mattermosttest.User) *accessTokens {
	a := &accessTokens{m: m, byID: map[string]string{}}
	admin := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !m.IsSystemAdmin(mattermosttest.TokenFromRequest(r)) {
				m.WriteError(w, http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
				return
			}
			h(w, r)
		}
	}
	m.HandleFunc("GET /api/v4/users/username/{name}", admin(func(w http.ResponseWriter, r *http.Request) {
		u, ok := users[r.PathValue("name")]
		if !ok {
			m.WriteError(w, http.StatusNotFound, "app.user.missing_account.const", "Unable to find the user.")
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"id": u.ID, "username": u.Username, "roles": u.Roles})
	}))
	m.HandleFunc("POST /api/v4/users/{id}/tokens", admin(func(w http.ResponseWriter, r *http.Request) {
		if a.disabled {
			m.WriteError(w, http.StatusNotImplemented, "api.user.create_user_access_token.disabled.app_error", "User access tokens are disabled on this server.")
			return
		}
		u, ok := m.User(r.PathValue("id"))
		if !ok {
			m.WriteError(w, http.StatusBadRequest, "api.context.invalid_url_param.app_error", "Invalid user_id.")
			return
		}
		id, token := mattermosttest.NewID(), m.Token(u)
		a.mu.Lock()
		a.byID[id] = token
		a.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		json.NewEncoder(w).Encode(map[string]string{"id": id, "token": token, "user_id": u.ID})
	}))
	m.HandleFunc("POST /api/v4/users/tokens/revoke", admin(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			TokenID string `json:"token_id"`
		}
		json.NewDecoder(r.Body).Decode(&in)
		a.mu.Lock()
		token, ok := a.byID[in.TokenID]
		delete(a.byID, in.TokenID)
		a.mu.Unlock()
		if !ok {
			m.WriteError(w, http.StatusNotFound, "app.user_access_token.get_by_token.app_error", "Unable to get the token.")
			return
		}
		m.Revoke(token)
		json.NewEncoder(w).Encode(map[string]string{"status": "OK"})
	}))
	m.HandleFunc("GET /api/v4/channels/{id}/posts", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.postsBy = append(a.postsBy, mattermosttest.TokenFromRequest(r))
		a.mu.Unlock()
		if _, ok := m.UserByToken(mattermosttest.TokenFromRequest(r)); !ok {
			m.WriteError(w, http.StatusUnauthorized, "api.context.session_expired.app_error", "Invalid or expired session, please login again.")
			return
		}
		w.Write([]byte(`{"order":[],"posts":{},"next_post_id":"","prev_post_id":""}`))
	})
	return a
}

// TestEmbedUpstreamAdminToken: in front of a real Mattermost, the backend
// exchange makes a user access token with the operator's admin token, the
// embed's calls go to Mattermost with that token (never the embed token),
// and revoking the embed token revokes it; without an admin token, or with
// access tokens off in Mattermost, the exchange says so.
func TestEmbedUpstreamAdminToken(t *testing.T) {
	t.Parallel()
	m := mattermosttest.New(t)
	admin := m.AddUser("root", "system_user system_admin")
	bob := m.AddUser("bob", "system_user")
	team := m.AddTeam("eng", true)
	m.AddMember(team.ID, bob.ID, "team_user")
	ch := m.AddChannel(team.ID, "support", bob.ID)
	tokens := newAccessTokens(m, map[string]mattermosttest.User{"bob": bob, "root": admin})
	adminToken := m.Token(admin)

	start := func(adminTok string) *env {
		up, err := apiv4proxy.NewUpstream(m.URL(), apiv4proxy.UpstreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		proxy, err := apiv4proxy.NewProxy(m.URL(), apiv4proxy.ProxyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return newEnvWith(t, server.Config{Upstream: proxy, UpstreamAdminToken: adminTok},
			func(*sandbox.Sandbox) server.Identity { return up })
	}
	as := func(token string) []string { return []string{"Authorization", "Bearer " + token} }
	app := `{"name":"Support","origins":["https://app.example"],"channels":["` + ch.ID + `"]}`

	e := start(adminToken)
	r := e.do("", "POST", "/api/v1/embed/apps", "application/json", strings.NewReader(app), as(adminToken)...)
	if r.status != 201 {
		t.Fatalf("create app: %d %s", r.status, r.body)
	}
	var a struct{ ID, Secret string }
	json.Unmarshal(r.body, &a)
	tok := e.token(a.ID, a.Secret, `{"user":"bob"}`)
	if tok.UserID != bob.ID || tok.TeamID != team.ID {
		t.Fatalf("issued %+v", tok)
	}
	if r := e.asEmbed(tok.Token, "GET", "/api/v4/channels/"+ch.ID+"/posts", ""); r.status != 200 {
		t.Fatalf("posts through the proxy: %d %s", r.status, r.body)
	}
	tokens.mu.Lock()
	sent := tokens.postsBy[len(tokens.postsBy)-1]
	var pat string
	for _, v := range tokens.byID {
		pat = v
	}
	tokens.mu.Unlock()
	if sent != pat || strings.HasPrefix(sent, "mmte_") {
		t.Fatalf("Mattermost got %q, want bob's access token %q", sent, pat)
	}
	if u, ok := m.UserByToken(pat); !ok || u.ID != bob.ID {
		t.Fatal("the access token is not bob's")
	}
	if r := e.do("", "DELETE", "/api/v1/embed/tokens/"+tok.Token, "", nil, "Authorization", basic(a.ID, a.Secret)); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if _, ok := m.UserByToken(pat); ok {
		t.Fatal("the access token still works in Mattermost after the embed token was revoked")
	}

	// A token that expires unrevoked: its access token is revoked by the
	// sweep that the next issue starts.
	var mu sync.Mutex
	now := time.Now()
	e.srv.SetEmbedClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	e.token(a.ID, a.Secret, `{"user":"bob","ttl_seconds":60}`)
	tokens.mu.Lock()
	var expiring string
	for _, v := range tokens.byID {
		expiring = v
	}
	tokens.mu.Unlock()
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	e.token(a.ID, a.Secret, `{"user":"bob"}`)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, ok := m.UserByToken(expiring); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the access token of an expired embed token still works in Mattermost")
		}
	}
	// Deleting the app revokes its tokens' access tokens.
	tokens.mu.Lock()
	remaining := len(tokens.byID)
	tokens.mu.Unlock()
	if remaining != 1 {
		t.Fatalf("%d access tokens left, want the live one", remaining)
	}
	if r := e.do("", "DELETE", "/api/v1/embed/apps/"+a.ID, "", nil, as(adminToken)...); r.status != 204 {
		t.Fatalf("delete app: %d %s", r.status, r.body)
	}
	tokens.mu.Lock()
	remaining = len(tokens.byID)
	tokens.mu.Unlock()
	if remaining != 0 {
		t.Fatalf("%d access tokens left after the app was deleted", remaining)
	}
	r = e.do("", "POST", "/api/v1/embed/apps", "application/json", strings.NewReader(app), as(adminToken)...)
	json.Unmarshal(r.body, &a)

	tokens.disabled = true
	if r := e.issue(a.ID, a.Secret, `{"user":"bob"}`); r.status != 501 || r.errorCode(t) != "embed_upstream_token_unavailable" {
		t.Fatalf("access tokens off: %d %s", r.status, r.body)
	}
	tokens.disabled = false
	if r := e.issue(a.ID, a.Secret, `{"user":"nobody"}`); r.status != 404 || r.errorCode(t) != "embed_user_unknown" {
		t.Fatalf("unknown user: %d %s", r.status, r.body)
	}

	// Without an admin token: the backend flow cannot act as anyone; the
	// popup flow (the user's own session) still works.
	e = start("")
	r = e.do("", "POST", "/api/v1/embed/apps", "application/json", strings.NewReader(app), as(adminToken)...)
	json.Unmarshal(r.body, &a)
	if r := e.issue(a.ID, a.Secret, `{"user":"bob"}`); r.status != 501 || r.errorCode(t) != "embed_upstream_token_unavailable" {
		t.Fatalf("no admin token: %d %s", r.status, r.body)
	}
	bobSession := m.Token(bob)
	r = e.do("", "POST", "/api/v1/embed/tokens/session", "application/json", strings.NewReader(`{"app":"`+a.ID+`"}`), as(bobSession)...)
	if r.status != 201 {
		t.Fatalf("popup exchange upstream: %d %s", r.status, r.body)
	}
	json.Unmarshal(r.body, &tok)
	if r := e.asEmbed(tok.Token, "GET", "/api/v4/channels/"+ch.ID+"/posts", ""); r.status != 200 {
		t.Fatalf("popup token's posts: %d %s", r.status, r.body)
	}
	tokens.mu.Lock()
	sent = tokens.postsBy[len(tokens.postsBy)-1]
	tokens.mu.Unlock()
	if sent != bobSession {
		t.Fatalf("Mattermost got %q, want bob's own session", sent)
	}
}

// TestEmbedUpstreamWebsocket: in front of a Mattermost, the embed's
// websocket is relayed through the proxy with the token's access token
// and gets its channel's events only, renumbered.
func TestEmbedUpstreamWebsocket(t *testing.T) {
	t.Parallel()
	m := mattermosttest.New(t)
	m.EnableWebsocket()
	admin := m.AddUser("root", "system_user system_admin")
	bob := m.AddUser("bob", "system_user")
	team := m.AddTeam("eng", true)
	m.AddMember(team.ID, bob.ID, "team_user")
	ch := m.AddChannel(team.ID, "support", bob.ID)
	other := m.AddChannel(team.ID, "random", bob.ID)
	newAccessTokens(m, map[string]mattermosttest.User{"bob": bob, "root": admin})
	adminToken := m.Token(admin)
	up, err := apiv4proxy.NewUpstream(m.URL(), apiv4proxy.UpstreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := apiv4proxy.NewProxy(m.URL(), apiv4proxy.ProxyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, server.Config{Upstream: proxy, UpstreamAdminToken: adminToken},
		func(*sandbox.Sandbox) server.Identity { return up })
	r := e.do("", "POST", "/api/v1/embed/apps", "application/json",
		strings.NewReader(`{"name":"Support","origins":["https://app.example"],"channels":["`+ch.ID+`"]}`), "Authorization", "Bearer "+adminToken)
	var a struct{ ID, Secret string }
	json.Unmarshal(r.body, &a)
	tok := e.token(a.ID, a.Secret, `{"user":"bob"}`).Token

	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(e.url, "http")+"/api/v1/embed/websocket", nil)
	if err != nil {
		t.Fatalf("dial: %v %v", err, resp)
	}
	defer c.Close()
	c.WriteJSON(map[string]any{"seq": 1, "action": "authentication_challenge", "data": map[string]any{"token": tok}})
	next := func() map[string]any {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		var msg map[string]any
		if err := c.ReadJSON(&msg); err != nil {
			t.Fatalf("read: %v", err)
		}
		return msg
	}
	if msg := next(); msg["status"] != "OK" {
		t.Fatalf("challenge: %v", msg)
	}
	if msg := next(); msg["event"] != "hello" || msg["seq"] != 0.0 {
		t.Fatalf("hello: %v", msg)
	}
	for deadline := time.Now().Add(10 * time.Second); len(m.Sockets(bob.ID)) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the relay's socket never reached the stand-in")
		}
	}
	m.BroadcastEvent("posted", map[string]any{"post": `{"channel_id":"` + other.ID + `"}`}, mattermosttest.Broadcast{ChannelID: other.ID})
	m.BroadcastEvent("user_updated", map[string]any{}, mattermosttest.Broadcast{})
	m.BroadcastEvent("posted", map[string]any{"post": `{"channel_id":"` + ch.ID + `"}`}, mattermosttest.Broadcast{ChannelID: ch.ID})
	got := next()
	b, _ := got["broadcast"].(map[string]any)
	if got["event"] != "posted" || b["channel_id"] != ch.ID || got["seq"] != 1.0 {
		t.Fatalf("first event through the relay: %v, want the support channel's post as seq 1", got)
	}
}
