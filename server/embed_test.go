package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/server"
)

var (
	devTalk       = sandbox.SeedID("channel", "engineering/dev-talk")
	engTownSquare = sandbox.SeedID("channel", "engineering/town-square")
	salesDeals    = sandbox.SeedID("channel", "sales/deals")
)

// embedApp creates an app as admin and returns its id and secret.
func (e *env) embedApp(spec string) (id, secret string) {
	e.t.Helper()
	r := e.do("admin", "POST", "/api/v1/embed/apps", "application/json", strings.NewReader(spec))
	if r.status != http.StatusCreated {
		e.t.Fatalf("create app: %d %s", r.status, r.body)
	}
	var a struct{ ID, Secret string }
	json.Unmarshal(r.body, &a)
	if a.ID == "" || !strings.HasPrefix(a.Secret, "mmts_") {
		e.t.Fatalf("create app answered %s", r.body)
	}
	return a.ID, a.Secret
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// issue asks for a token as the app's backend.
func (e *env) issue(id, secret, body string, hdr ...string) response {
	e.t.Helper()
	return e.do("", "POST", "/api/v1/embed/tokens", "application/json", strings.NewReader(body),
		append([]string{"Authorization", basic(id, secret)}, hdr...)...)
}

type issued struct {
	Token     string `json:"token"`
	ExpiresAt int64  `json:"expires_at"`
	UserID    string `json:"user_id"`
	TeamID    string `json:"team_id"`
	Channels  []struct {
		ID, TeamID, Name string
	} `json:"channels"`
}

func (e *env) token(id, secret, body string) issued {
	e.t.Helper()
	r := e.issue(id, secret, body)
	if r.status != http.StatusCreated {
		e.t.Fatalf("issue %s: %d %s", body, r.status, r.body)
	}
	var out issued
	if err := json.Unmarshal(r.body, &out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// asEmbed sends a request with an embed token.
func (e *env) asEmbed(token, method, path, body string) response {
	e.t.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	return e.do("", method, path, "application/json", rd, "Authorization", "Bearer "+token)
}

const devTalkApp = `{"name":"Support widget","origins":["https://app.example"],"channels":["` // + channel ids + `"]}`

func appFor(channels ...string) string {
	return devTalkApp + strings.Join(channels, `","`) + `"]}`
}

func TestEmbedAppsAdminAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	if r := e.do("bob", "GET", "/api/v1/embed/apps", "", nil); r.status != 403 || r.errorCode(t) != "embed_admin_required" {
		t.Fatalf("bob lists apps: %d %s", r.status, r.body)
	}
	if r := e.do("alice", "POST", "/api/v1/embed/apps", "application/json", strings.NewReader(appFor(devTalk))); r.status != 403 || r.errorCode(t) != "embed_admin_required" {
		t.Fatalf("a team admin creates an app: %d %s", r.status, r.body)
	}
	for _, tc := range []struct{ body, code string }{
		{`{"name":"x","origins":["https://app.example/path"],"channels":["` + devTalk + `"]}`, "embed_origins_invalid"},
		{`{"name":"x","origins":["*"],"channels":["` + devTalk + `"]}`, "embed_origins_invalid"},
		{`{"name":"x","origins":["https://a.example; script-src *"],"channels":["` + devTalk + `"]}`, "embed_origins_invalid"},
		{`{"name":"x","origins":[],"channels":["` + devTalk + `"]}`, "embed_origins_invalid"},
		{`{"name":"","origins":["https://a.example"],"channels":["` + devTalk + `"]}`, "embed_name_invalid"},
		{`{"name":"x","origins":["https://a.example"]}`, "embed_targets_invalid"},
		{`{"name":"x","origins":["https://a.example"],"teams":["nosuchteam"]}`, "embed_team_unknown"},
		{`{"name":"x","origins":["https://a.example"],"channels":["aaaaaaaaaaaaaaaaaaaaaaaaaa"]}`, "embed_channel_unknown"},
		{`{"name":"x","origins":["https://a.example"],"channels":["` + devTalk + `"],"secret":"mine"}`, "bad_request"},
	} {
		if r := e.do("admin", "POST", "/api/v1/embed/apps", "application/json", strings.NewReader(tc.body)); r.status != 400 || r.errorCode(t) != tc.code {
			t.Errorf("create %s: %d %s, want 400 %s", tc.body, r.status, r.body, tc.code)
		}
	}
	id, secret := e.embedApp(`{"name":"Support","origins":["HTTPS://App.Example:443"],"teams":["sales"],"channels":["` + devTalk + `"]}`)
	r := e.do("admin", "GET", "/api/v1/embed/apps/"+id, "", nil)
	if r.status != 200 || bytes.Contains(r.body, []byte("secret")) {
		t.Fatalf("get answered %d %s (never the secret or its hash)", r.status, r.body)
	}
	var got struct {
		Origins, Teams, Channels []string
	}
	json.Unmarshal(r.body, &got)
	if got.Origins[0] != "https://app.example" || got.Teams[0] != e.teams["sales"] || got.Channels[0] != devTalk {
		t.Fatalf("stored %+v: origins lowercased without the default port, teams by id", got)
	}
	r = e.do("admin", "PUT", "/api/v1/embed/apps/"+id, "application/json",
		strings.NewReader(`{"name":"Support","origins":["http://127.0.0.2:8066"],"channels":["`+devTalk+`"]}`))
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"http://127.0.0.2:8066"`)) {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	// Rotating the secret: the old one stops working at once.
	r = e.do("admin", "POST", "/api/v1/embed/apps/"+id+"/secret", "", nil)
	var rotated struct{ Secret string }
	json.Unmarshal(r.body, &rotated)
	if r.status != 200 || rotated.Secret == "" || rotated.Secret == secret {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	if r := e.issue(id, secret, `{"user":"bob"}`); r.status != 401 || r.errorCode(t) != "embed_secret_wrong" {
		t.Fatalf("old secret after rotation: %d %s", r.status, r.body)
	}
	e.token(id, rotated.Secret, `{"user":"bob"}`)
	if r := e.do("admin", "GET", "/api/v1/embed/apps", "", nil); r.status != 200 || !bytes.Contains(r.body, []byte(id)) {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if r := e.do("admin", "DELETE", "/api/v1/embed/apps/"+id, "", nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := e.do("admin", "GET", "/api/v1/embed/apps/"+id, "", nil); r.status != 404 || r.errorCode(t) != "embed_app_not_found" {
		t.Fatalf("get after delete: %d %s", r.status, r.body)
	}
	// Every change is in the audit log, by the admin.
	entries, err := e.store.Audit(t.Context(), registry.AuditFilter{Actor: userID("admin")})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, en := range entries {
		seen[en.Action] = true
	}
	for _, a := range []string{registry.ActionEmbedAppCreate, registry.ActionEmbedAppUpdate, registry.ActionEmbedSecretRotate, registry.ActionEmbedAppDelete} {
		if !seen[a] {
			t.Errorf("no %s audit entry in %+v", a, entries)
		}
	}
}

// TestEmbedTokenExchangeRefusals: each refusal of the backend exchange has
// its own code.
func TestEmbedTokenExchangeRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	id, secret := e.embedApp(appFor(devTalk))
	other, otherSecret := e.embedApp(`{"name":"Sales","origins":["https://sales.example"],"teams":["sales"]}`)
	for _, tc := range []struct {
		name, id, secret, body string
		hdr                    []string
		status                 int
		code                   string
	}{
		{"from a browser", id, secret, `{"user":"bob"}`, []string{"Origin", "https://app.example"}, 403, "embed_secret_in_browser"},
		{"wrong secret", id, otherSecret, `{"user":"bob"}`, nil, 401, "embed_secret_wrong"},
		{"malformed secret", id, "hunter2", `{"user":"bob"}`, nil, 401, "embed_secret_wrong"},
		{"unknown app", "aaaaaaaaaaaaaaaaaaaaaaaaaa", secret, `{"user":"bob"}`, nil, 401, "embed_app_unknown"},
		{"no user", id, secret, `{}`, nil, 400, "embed_user_required"},
		{"unknown user", id, secret, `{"user":"nobody"}`, nil, 404, "embed_user_unknown"},
		{"channel the app does not allow", id, secret, `{"user":"bob","channels":["` + engTownSquare + `"]}`, nil, 403, "embed_channel_not_allowed"},
		{"channel the user cannot read", other, otherSecret, `{"user":"bob","channels":["` + salesDeals + `"]}`, nil, 403, "embed_channel_not_allowed"},
		{"team app without channels", other, otherSecret, `{"user":"carol"}`, nil, 400, "embed_channels_required"},
		{"ttl too long", id, secret, `{"user":"bob","ttl_seconds":7200}`, nil, 400, "embed_ttl_invalid"},
		{"ttl too short", id, secret, `{"user":"bob","ttl_seconds":9}`, nil, 400, "embed_ttl_invalid"},
		{"unknown field", id, secret, `{"user":"bob","scope":"all"}`, nil, 400, "bad_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.issue(tc.id, tc.secret, tc.body, tc.hdr...)
			if r.status != tc.status || r.errorCode(t) != tc.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
		})
	}
	// No CORS anywhere: a page of another origin can neither preflight nor
	// read an answer.
	for _, p := range []string{"/api/v1/embed/tokens", "/api/v1/embed/tokens/session", "/api/v1/embed/session", "/api/v1/embed/apps"} {
		for _, method := range []string{"OPTIONS", "POST", "GET"} {
			r := e.do("", method, p, "", nil, "Origin", "https://app.example", "Access-Control-Request-Method", "POST")
			if r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Access-Control-Allow-Credentials") != "" {
				t.Fatalf("%s %s answers CORS: %v", method, p, r.header)
			}
		}
	}
	if r := e.do("", "POST", "/api/v1/embed/tokens", "application/json", strings.NewReader(`{"user":"bob"}`)); r.status != 401 || r.errorCode(t) != "embed_app_auth_required" {
		t.Fatalf("no Basic auth: %d %s", r.status, r.body)
	}
	// The answer: the user, the team and the channels by name.
	tok := e.token(id, secret, `{"user":"bob@example.com","ttl_seconds":600}`)
	if !strings.HasPrefix(tok.Token, "mmte_") || tok.UserID != userID("bob") || tok.TeamID != e.teams["engineering"] ||
		len(tok.Channels) != 1 || tok.Channels[0].ID != devTalk || tok.Channels[0].Name != "dev-talk" {
		t.Fatalf("issued %+v", tok)
	}
	if d := time.Until(time.UnixMilli(tok.ExpiresAt)); d < 9*time.Minute || d > 10*time.Minute {
		t.Fatalf("expires in %v, want 10 minutes", d)
	}
	// carol (sales) by the team-wide app, for one channel.
	tok = e.token(other, otherSecret, `{"user":"carol","channels":["`+salesDeals+`"]}`)
	if tok.TeamID != e.teams["sales"] {
		t.Fatalf("sales token %+v", tok)
	}
}

// TestEmbedScopedAccess: an embed token reads and writes its channels only,
// reaches only the listed routes, and never sees the session behind it.
func TestEmbedScopedAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	id, secret := e.embedApp(`{"name":"Support","origins":["https://app.example"],"channels":["` + devTalk + `","` + engTownSquare + `"]}`)
	tok := e.token(id, secret, `{"user":"bob","channels":["`+devTalk+`"]}`).Token
	// A post in town-square (not the token's), made by someone else.
	r := e.do("alice", "POST", "/api/v4/posts", "application/json", strings.NewReader(`{"channel_id":"`+engTownSquare+`","message":"elsewhere"}`))
	if r.status != 201 {
		t.Fatalf("alice posts: %d %s", r.status, r.body)
	}
	elsewhere := r.json(t)["id"].(string)

	check := func(name, method, path, body string, status int, code string) response {
		t.Helper()
		r := e.asEmbed(tok, method, path, body)
		if r.status != status || (code != "" && r.errorCode(t) != code) {
			t.Fatalf("%s: %s %s: %d %s, want %d %s", name, method, path, r.status, r.body, status, code)
		}
		if r.header.Get("Set-Cookie") != "" || r.header.Get("Token") != "" {
			t.Fatalf("%s: the answer hands out a session: %v", name, r.header)
		}
		return r
	}
	check("own channel", "GET", "/api/v4/channels/"+devTalk, "", 200, "")
	posts := check("own channel's posts", "GET", "/api/v4/channels/"+devTalk+"/posts?page=0&per_page=30", "", 200, "")
	if !bytes.Contains(posts.body, []byte("mmtoolkit push")) {
		t.Fatalf("dev-talk posts: %s", posts.body)
	}
	check("another channel", "GET", "/api/v4/channels/"+engTownSquare, "", 403, "embed_channel_not_allowed")
	check("another channel's posts", "GET", "/api/v4/channels/"+engTownSquare+"/posts", "", 403, "embed_channel_not_allowed")
	check("another team's channel", "GET", "/api/v4/channels/"+salesDeals+"/posts", "", 403, "embed_channel_not_allowed")
	check("a post elsewhere", "GET", "/api/v4/posts/"+elsewhere, "", 403, "embed_channel_not_allowed")
	check("a thread elsewhere", "GET", "/api/v4/posts/"+elsewhere+"/thread", "", 403, "embed_channel_not_allowed")
	check("posting elsewhere", "POST", "/api/v4/posts", `{"channel_id":"`+engTownSquare+`","message":"hi"}`, 403, "embed_channel_not_allowed")
	// Go's JSON (ours and Mattermost's) takes the last of duplicate keys,
	// matching names without regard to case: the check reads what
	// Mattermost will.
	check("posting elsewhere under a second key", "POST", "/api/v4/posts", `{"channel_id":"`+devTalk+`","CHANNEL_ID":"`+engTownSquare+`","message":"hi"}`, 403, "embed_channel_not_allowed")
	check("replying to a root elsewhere", "POST", "/api/v4/posts", `{"channel_id":"`+devTalk+`","root_id":"`+elsewhere+`","message":"hi"}`, 403, "embed_channel_not_allowed")
	check("marking another channel viewed", "POST", "/api/v4/channels/members/me/view", `{"channel_id":"`+engTownSquare+`"}`, 403, "embed_channel_not_allowed")
	created := check("posting in its channel", "POST", "/api/v4/posts", `{"channel_id":"`+devTalk+`","message":"from the embed"}`, 201, "")
	root := created.json(t)
	if root["user_id"] != userID("bob") {
		t.Fatalf("the post is not bob's: %v", root)
	}
	check("replying in its channel", "POST", "/api/v4/posts", `{"channel_id":"`+devTalk+`","root_id":"`+root["id"].(string)+`","message":"reply"}`, 201, "")
	check("its own post", "GET", "/api/v4/posts/"+root["id"].(string), "", 200, "")
	me := check("users/me", "GET", "/api/v4/users/me", "", 200, "")
	if me.json(t)["username"] != "bob" {
		t.Fatalf("users/me: %s", me.body)
	}
	if r := e.do("", "GET", "/api/v4/users/me/teams", "", nil, "Authorization", "Token "+tok); r.status != 403 || r.errorCode(t) != "embed_scope" {
		t.Fatalf("the token under Mattermost's Token scheme: %d %s", r.status, r.body)
	}
	for _, p := range []struct{ method, path string }{
		{"GET", "/api/v1/plugins"},
		{"GET", "/api/v4/users/me/teams"},
		{"GET", "/api/v4/users"},
		{"PUT", "/api/v4/posts/" + elsewhere + "/patch"},
		{"DELETE", "/api/v4/posts/" + elsewhere},
		{"POST", "/api/v4/users/logout"},
		{"GET", "/api/v1/embed/apps"},
		{"GET", "/admin"},
		{"GET", "/api/v4/channels/" + devTalk + "/../" + engTownSquare + "/posts"},
	} {
		check("outside the list", p.method, p.path, "", 403, "embed_scope")
	}
	// The manifest of the token's team only.
	check("own team's manifest", "GET", "/api/v1/manifest?team=engineering", "", 200, "")
	check("another team's manifest", "GET", "/api/v1/manifest?team=sales", "", 403, "embed_scope")
	// The session: who, which app, team and channels; nothing else.
	s := check("session", "GET", "/api/v1/embed/session", "", 200, "")
	var sess struct {
		User     map[string]string
		App      map[string]string
		Team     map[string]string
		Channels []map[string]string
	}
	json.Unmarshal(s.body, &sess)
	if sess.User["username"] != "bob" || sess.App["id"] != id || sess.Team["name"] != "engineering" || len(sess.Channels) != 1 || sess.Channels[0]["id"] != devTalk {
		t.Fatalf("session %s", s.body)
	}
	if bytes.Contains(s.body, []byte(e.tokens["bob"])) || bytes.Contains(s.body, []byte("token")) {
		t.Fatalf("session answer names a token: %s", s.body)
	}
	// An app narrowed since the token was issued narrows the token too.
	if r := e.do("admin", "PUT", "/api/v1/embed/apps/"+id, "application/json",
		strings.NewReader(`{"name":"Support","origins":["https://app.example"],"channels":["`+engTownSquare+`"]}`)); r.status != 200 {
		t.Fatalf("narrow: %d %s", r.status, r.body)
	}
	check("channel the app no longer allows", "GET", "/api/v4/channels/"+devTalk+"/posts", "", 403, "embed_channel_not_allowed")
}

// TestEmbedTokenLife: expiry, revocation by the app's backend, by an admin,
// by "revoke all", and by the embed itself (sign out).
func TestEmbedTokenLife(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	var mu sync.Mutex
	now := time.Now()
	e.srv.SetEmbedClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	id, secret := e.embedApp(appFor(devTalk))
	other, otherSecret := e.embedApp(appFor(devTalk))
	get := func(tok string) response {
		return e.asEmbed(tok, "GET", "/api/v4/channels/"+devTalk+"/posts", "")
	}
	want := func(name string, r response, status int, code string) {
		t.Helper()
		if r.status != status || (code != "" && r.errorCode(t) != code) {
			t.Fatalf("%s: %d %s, want %d %s", name, r.status, r.body, status, code)
		}
	}

	tok := e.token(id, secret, `{"user":"bob","ttl_seconds":60}`).Token
	want("fresh", get(tok), 200, "")
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	want("expired", get(tok), 401, "embed_token_expired")
	want("expired session", e.asEmbed(tok, "GET", "/api/v1/embed/session", ""), 401, "embed_token_expired")
	want("unknown", get("mmte_"+strings.Repeat("A", 43)), 401, "embed_token_invalid")
	want("malformed", get("mmte_x"), 401, "embed_token_invalid")

	tok = e.token(id, secret, `{"user":"bob"}`).Token
	want("another app revokes it", e.do("", "DELETE", "/api/v1/embed/tokens/"+tok, "", nil, "Authorization", basic(other, otherSecret)), 401, "embed_token_invalid")
	want("bob revokes it", e.do("bob", "DELETE", "/api/v1/embed/tokens/"+tok, "", nil), 403, "embed_admin_required")
	want("still valid", get(tok), 200, "")
	want("its app revokes it", e.do("", "DELETE", "/api/v1/embed/tokens/"+tok, "", nil, "Authorization", basic(id, secret)), 204, "")
	want("revoked", get(tok), 401, "embed_token_revoked")

	tok = e.token(id, secret, `{"user":"bob"}`).Token
	want("an admin revokes it", e.do("admin", "DELETE", "/api/v1/embed/tokens/"+tok, "", nil), 204, "")
	want("revoked by an admin", get(tok), 401, "embed_token_revoked")

	tok = e.token(id, secret, `{"user":"bob"}`).Token
	keep := e.token(other, otherSecret, `{"user":"bob"}`).Token
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	want("revoke all", e.do("admin", "POST", "/api/v1/embed/apps/"+id+"/tokens/revoke", "", nil), 200, "")
	want("revoked by revoke all", get(tok), 401, "embed_token_revoked")
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	want("another app's token", get(keep), 200, "")
	want("a token issued after revoke all", get(e.token(id, secret, `{"user":"bob"}`).Token), 200, "")

	want("sign out", e.asEmbed(keep, "DELETE", "/api/v1/embed/session", ""), 204, "")
	want("signed out", get(keep), 401, "embed_token_revoked")

	// A token that expires unrevoked: the sweep the next issue starts ends
	// its sandbox session (the record's reference is cleared once it did).
	e.token(id, secret, `{"user":"bob","ttl_seconds":60}`)
	mu.Lock()
	now = now.Add(2 * time.Hour)
	later := now
	mu.Unlock()
	if open, err := e.store.EmbedSessionsToEnd(t.Context(), later, 100); err != nil || len(open) == 0 {
		t.Fatalf("the expired token's session is not known as open: %v %v", open, err)
	}
	e.token(id, secret, `{"user":"bob"}`)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		open, err := e.store.EmbedSessionsToEnd(t.Context(), later, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(open) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d expired tokens' sessions still open after the sweep", len(open))
		}
	}

	// Deleting the app ends its tokens.
	tok = e.token(id, secret, `{"user":"bob"}`).Token
	want("delete the app", e.do("admin", "DELETE", "/api/v1/embed/apps/"+id, "", nil), 204, "")
	want("token of a deleted app", get(tok), 401, "embed_token_invalid")
}

// TestEmbedTokensBoundedPerApp: past the bound, the exchange is refused
// with a stable code, and other apps are not affected.
func TestEmbedTokensBoundedPerApp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	e.srv.SetEmbedMaxTokens(3)
	id, secret := e.embedApp(appFor(devTalk))
	other, otherSecret := e.embedApp(appFor(devTalk))
	for range 3 {
		e.token(id, secret, `{"user":"bob"}`)
	}
	if r := e.issue(id, secret, `{"user":"bob"}`); r.status != 429 || r.errorCode(t) != "embed_too_many_tokens" || r.header.Get("Retry-After") == "" {
		t.Fatalf("fourth token: %d %s", r.status, r.body)
	}
	e.token(other, otherSecret, `{"user":"bob"}`)
}

// TestEmbedPopupExchange: the user's own session (cookie) and the CSRF
// header buy a token for an app; the token acts as the user.
func TestEmbedPopupExchange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	id, _ := e.embedApp(appFor(devTalk))
	cookie := "MMAUTHTOKEN=" + e.tokens["bob"]
	body := `{"app":"` + id + `"}`
	if r := e.do("", "POST", "/api/v1/embed/tokens/session", "application/json", strings.NewReader(body), "Cookie", cookie); r.status != 403 || r.errorCode(t) != "csrf_header_missing" {
		t.Fatalf("without the CSRF header: %d %s", r.status, r.body)
	}
	if r := e.do("", "POST", "/api/v1/embed/tokens/session", "application/json", strings.NewReader(body)); r.status != 401 {
		t.Fatalf("without a session: %d %s", r.status, r.body)
	}
	if r := e.do("", "POST", "/api/v1/embed/tokens/session", "application/json", strings.NewReader(`{"app":"aaaaaaaaaaaaaaaaaaaaaaaaaa"}`),
		"Cookie", cookie, "X-Requested-With", "XMLHttpRequest"); r.status != 404 || r.errorCode(t) != "embed_app_not_found" {
		t.Fatalf("unknown app: %d %s", r.status, r.body)
	}
	r := e.do("", "POST", "/api/v1/embed/tokens/session", "application/json", strings.NewReader(body), "Cookie", cookie, "X-Requested-With", "XMLHttpRequest")
	if r.status != 201 {
		t.Fatalf("popup exchange: %d %s", r.status, r.body)
	}
	var tok issued
	json.Unmarshal(r.body, &tok)
	if tok.UserID != userID("bob") || bytes.Contains(r.body, []byte(e.tokens["bob"])) {
		t.Fatalf("popup answer %s", r.body)
	}
	if r := e.asEmbed(tok.Token, "GET", "/api/v4/users/me", ""); r.status != 200 || r.json(t)["username"] != "bob" {
		t.Fatalf("popup token: %d %s", r.status, r.body)
	}
	// Revoking a popup token leaves the user's own session alone.
	if r := e.asEmbed(tok.Token, "DELETE", "/api/v1/embed/session", ""); r.status != 204 {
		t.Fatalf("sign out: %d %s", r.status, r.body)
	}
	if r := e.do("bob", "GET", "/api/v4/users/me", "", nil); r.status != 200 {
		t.Fatalf("bob's own session after the embed signed out: %d %s", r.status, r.body)
	}
	// When the user logs out, the popup token stops working, and the
	// answer (Mattermost's 401 names the token it refused) does not hand
	// the embed the session.
	r = e.do("alice", "POST", "/api/v1/embed/tokens/session", "application/json", strings.NewReader(body))
	json.Unmarshal(r.body, &tok)
	if r.status != 201 {
		t.Fatalf("alice's popup exchange: %d %s", r.status, r.body)
	}
	if r := e.do("alice", "POST", "/api/v4/users/logout", "", nil); r.status != 200 {
		t.Fatalf("alice logs out: %d %s", r.status, r.body)
	}
	for _, path := range []string{"/api/v4/users/me", "/api/v4/channels/" + devTalk + "/posts"} {
		r = e.asEmbed(tok.Token, "GET", path, "")
		if r.status != 401 || r.errorCode(t) != "embed_session_ended" || bytes.Contains(r.body, []byte(e.tokens["alice"])) {
			t.Fatalf("%s after the user logged out: %d %s", path, r.status, r.body)
		}
	}
}

// TestEmbedOnTheFastLane: the Edge's fast lane answers the manifest and
// GET /api/v4/* without ServeHTTP; an embed token is scoped there too.
func TestEmbedOnTheFastLane(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	_, fast := startEdge(t, e)
	id, secret := e.embedApp(appFor(devTalk))
	tok := e.token(id, secret, `{"user":"bob"}`).Token
	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		{"/api/v4/channels/" + devTalk + "/posts", 200, ""},
		{"/api/v4/channels/" + engTownSquare + "/posts", 403, "embed_channel_not_allowed"},
		{"/api/v4/users/me/teams", 403, "embed_scope"},
		{"/api/v1/manifest?team=engineering", 200, ""},
		{"/api/v1/manifest?team=sales", 403, "embed_scope"},
	} {
		r := e.doAt(fast, "", "GET", tc.path, "Authorization", "Bearer "+tok)
		if r.status != tc.status || (tc.code != "" && r.errorCode(t) != tc.code) {
			t.Errorf("fast lane GET %s: %d %s, want %d %s", tc.path, r.status, r.body, tc.status, tc.code)
		}
	}
}

// TestEmbedWebsocketFiltered: the embed's websocket gets hello and its
// channels' events, renumbered without gaps, and nothing of other
// channels; it may not act beyond ping and typing in its channels; it is
// closed when the token is revoked.
func TestEmbedWebsocketFiltered(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{Timing: server.Timing{EmbedRecheck: 50 * time.Millisecond}})
	id, secret := e.embedApp(appFor(devTalk))
	tok := e.token(id, secret, `{"user":"bob"}`).Token
	ws := "ws" + strings.TrimPrefix(e.url, "http")

	dialers := map[string]func(t *testing.T) *websocket.Conn{
		"token at upgrade": func(t *testing.T) *websocket.Conn {
			c, resp, err := websocket.DefaultDialer.Dial(ws+"/api/v4/websocket", http.Header{"Authorization": {"Bearer " + tok}})
			if err != nil {
				t.Fatalf("dial: %v %v", err, resp)
			}
			return c
		},
		"authentication challenge": func(t *testing.T) *websocket.Conn {
			c, resp, err := websocket.DefaultDialer.Dial(ws+"/api/v1/embed/websocket?connection_id=&sequence_number=0", nil)
			if err != nil {
				t.Fatalf("dial: %v %v", err, resp)
			}
			c.WriteJSON(map[string]any{"seq": 1, "action": "authentication_challenge", "data": map[string]any{"token": tok}})
			var reply map[string]any
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if err := c.ReadJSON(&reply); err != nil || reply["status"] != "OK" || reply["seq_reply"] != 1.0 {
				t.Fatalf("challenge reply %v %v", reply, err)
			}
			return c
		},
	}
	for name, dial := range dialers {
		t.Run(name, func(t *testing.T) {
			c := dial(t)
			defer c.Close()
			next := func() map[string]any {
				t.Helper()
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				var m map[string]any
				if err := c.ReadJSON(&m); err != nil {
					t.Fatalf("read: %v", err)
				}
				return m
			}
			if m := next(); m["event"] != "hello" || m["seq"] != 0.0 {
				t.Fatalf("first message %v", m)
			}
			// alice posts elsewhere, then in dev-talk: only the second arrives, as seq 1.
			for _, ch := range []string{engTownSquare, devTalk} {
				if r := e.do("alice", "POST", "/api/v4/posts", "application/json", strings.NewReader(`{"channel_id":"`+ch+`","message":"live `+name+`"}`)); r.status != 201 {
					t.Fatalf("post: %d %s", r.status, r.body)
				}
			}
			for {
				m := next()
				if m["event"] == "status_change" {
					t.Fatalf("an event outside the list reached the embed: %v", m)
				}
				if m["event"] != "posted" {
					continue
				}
				b, _ := m["broadcast"].(map[string]any)
				if b["channel_id"] != devTalk || m["seq"] != 1.0 {
					t.Fatalf("posted event %v, want dev-talk's with seq 1", m)
				}
				break
			}
			// Typing elsewhere is refused; in its channel it passes.
			c.WriteJSON(map[string]any{"seq": 2, "action": "user_typing", "data": map[string]any{"channel_id": engTownSquare}})
			if m := next(); m["status"] != "FAIL" || m["seq_reply"] != 2.0 {
				t.Fatalf("typing elsewhere: %v", m)
			}
			c.WriteJSON(map[string]any{"seq": 3, "action": "get_statuses"})
			if m := next(); m["status"] != "FAIL" || m["seq_reply"] != 3.0 {
				t.Fatalf("another action: %v", m)
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		_, resp, err := websocket.DefaultDialer.Dial(ws+"/api/v4/websocket", http.Header{"Authorization": {"Bearer mmte_" + strings.Repeat("B", 43)}})
		if err == nil || resp == nil || resp.StatusCode != 401 {
			t.Fatalf("unknown token: %v %v", err, resp)
		}
		_, resp, err = websocket.DefaultDialer.Dial(ws+"/api/v4/websocket", http.Header{"Authorization": {"Bearer " + tok}, "Origin": {"https://evil.example"}})
		if err == nil || resp == nil || resp.StatusCode != 403 {
			t.Fatalf("another origin: %v %v", err, resp)
		}
		// By challenge: a wrong token, or another first message, is closed
		// 1008 with the code.
		for _, first := range []struct {
			msg  map[string]any
			code string
		}{
			{map[string]any{"seq": 1, "action": "authentication_challenge", "data": map[string]any{"token": "mmte_" + strings.Repeat("C", 43)}}, "embed_token_invalid"},
			{map[string]any{"seq": 1, "action": "authentication_challenge", "data": map[string]any{"token": e.tokens["bob"]}}, "embed_token_invalid"},
			{map[string]any{"seq": 1, "action": "ping"}, "embed_token_required"},
		} {
			c, _, err := websocket.DefaultDialer.Dial(ws+"/api/v1/embed/websocket", nil)
			if err != nil {
				t.Fatal(err)
			}
			c.WriteJSON(first.msg)
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err = c.ReadMessage()
			c.Close()
			if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) || !strings.Contains(err.Error(), first.code) {
				t.Fatalf("first message %v: %v, want 1008 %s", first.msg, err, first.code)
			}
		}
	})
	t.Run("expired", func(t *testing.T) {
		var mu sync.Mutex
		now := time.Now()
		e.srv.SetEmbedClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
		defer e.srv.SetEmbedClock(time.Now)
		short := e.token(id, secret, `{"user":"bob","ttl_seconds":60}`).Token
		c, _, err := websocket.DefaultDialer.Dial(ws+"/api/v4/websocket", http.Header{"Authorization": {"Bearer " + short}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		mu.Lock()
		now = now.Add(61 * time.Second)
		mu.Unlock()
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			_, _, err := c.ReadMessage()
			if err == nil {
				continue
			}
			if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) || !strings.Contains(err.Error(), "embed_token_expired") {
				t.Fatalf("closed with %v, want 1008 embed_token_expired", err)
			}
			break
		}
	})
	t.Run("revoked", func(t *testing.T) {
		c := dialers["token at upgrade"](t)
		defer c.Close()
		if r := e.do("", "DELETE", "/api/v1/embed/tokens/"+tok, "", nil, "Authorization", basic(id, secret)); r.status != 204 {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			_, _, err := c.ReadMessage()
			if err == nil {
				continue
			}
			if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) || !strings.Contains(err.Error(), "embed_token_revoked") {
				t.Fatalf("closed with %v, want 1008 embed_token_revoked", err)
			}
			break
		}
	})
}

func TestEmbedFrameHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	id, _ := e.embedApp(`{"name":"x","origins":["https://a.example","http://127.0.0.2:8066"],"channels":["` + devTalk + `"]}`)
	app, err := e.srv.LookupEmbedApp(id)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	w.Header().Set("X-Frame-Options", "DENY")
	e.srv.EmbedFrameHeaders(w, app)
	if got := w.Header().Get("Content-Security-Policy"); got != "frame-ancestors https://a.example http://127.0.0.2:8066" {
		t.Fatalf("CSP %q", got)
	}
	if w.Header().Get("X-Frame-Options") != "" {
		t.Fatal("X-Frame-Options left on a frame page")
	}
	w = httptest.NewRecorder()
	e.srv.EmbedFrameHeaders(w, nil)
	if got := w.Header().Get("Content-Security-Policy"); got != "frame-ancestors 'none'" {
		t.Fatalf("unknown app's CSP %q", got)
	}
	if _, err := e.srv.LookupEmbedApp("aaaaaaaaaaaaaaaaaaaaaaaaaa"); err == nil {
		t.Fatal("unknown app found")
	}
}

// TestRegisterEmbedApp: the example app's registration with a given
// secret, idempotent across restarts.
func TestRegisterEmbedApp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	id, secret := sandbox.SeedID("embed", "example"), server.NewEmbedSecret()
	spec := server.EmbedAppSpec{Name: "Example", Origins: []string{"http://127.0.0.2:8066"}, Channels: []string{devTalk}}
	for range 2 {
		if err := e.srv.RegisterEmbedApp(t.Context(), id, secret, spec); err != nil {
			t.Fatal(err)
		}
	}
	e.token(id, secret, `{"user":"bob"}`)
	entries, err := e.store.Audit(t.Context(), registry.AuditFilter{Actor: "mmtoolkit"})
	if err != nil || len(entries) != 1 || entries[0].Action != registry.ActionEmbedAppCreate {
		t.Fatalf("registering the same app twice: audit %+v %v, want one create", entries, err)
	}
	if err := e.srv.RegisterEmbedApp(t.Context(), id, "short", spec); err == nil {
		t.Fatal("a malformed secret was registered")
	}
}

// TestEmbedConsolePage: /admin/embed lists, creates (the secret shown once
// on the answering page), rotates, revokes and deletes, for system admins
// only, with the console's CSRF token.
func TestEmbedConsolePage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	if r := e.do("alice", "GET", "/admin/embed", "", nil); r.status != 403 || !bytes.Contains(r.body, []byte("System admins only")) {
		t.Fatalf("a team admin: %d %s", r.status, r.body)
	}
	page := e.do("admin", "GET", "/admin/embed", "", nil)
	if page.status != 200 || !bytes.Contains(page.body, []byte("No app may embed channels yet")) {
		t.Fatalf("empty page: %d %s", page.status, page.body)
	}
	csrf := regexpSubmatch(t, `name="csrf_token" value="([^"]+)"`, page.body)
	form := func(path string, v url.Values) response {
		t.Helper()
		return e.do("admin", "POST", path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
	}
	create := url.Values{"name": {"Help desk"}, "origins": {"https://help.example\nhttp://127.0.0.2:8066"}, "channels": {devTalk}}
	if r := form("/admin/embed", create); r.status != 403 || !bytes.Contains(r.body, []byte("security token")) {
		t.Fatalf("without the CSRF token: %d %s", r.status, r.body)
	}
	create.Set("csrf_token", csrf)
	r := form("/admin/embed", create)
	if r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	id := regexpSubmatch(t, `<code data-app-id>([^<]+)</code>`, r.body)
	secret := regexpSubmatch(t, `<code data-secret>([^<]+)</code>`, r.body)
	e.token(id, secret, `{"user":"bob"}`)
	if again := e.do("admin", "GET", "/admin/embed", "", nil); bytes.Contains(again.body, []byte(secret)) || !bytes.Contains(again.body, []byte("help.example")) {
		t.Fatalf("the list shows the secret again, or not the app: %s", again.body)
	}
	bad := url.Values{"csrf_token": {csrf}, "name": {"x"}, "origins": {"https://x.example/path"}, "channels": {devTalk}}
	if r := form("/admin/embed", bad); r.status != 400 || !bytes.Contains(r.body, []byte("is not an origin")) {
		t.Fatalf("a bad origin: %d %s", r.status, r.body)
	}
	r = form("/admin/embed/"+id, url.Values{"csrf_token": {csrf}, "action": {"rotate"}})
	rotated := regexpSubmatch(t, `<code data-secret>([^<]+)</code>`, r.body)
	if r.status != 200 || rotated == secret {
		t.Fatalf("rotate: %d", r.status)
	}
	tok := e.token(id, rotated, `{"user":"bob"}`).Token
	if r := form("/admin/embed/"+id, url.Values{"csrf_token": {csrf}, "action": {"revoke"}}); r.status != 303 {
		t.Fatalf("revoke all: %d %s", r.status, r.body)
	}
	if r := e.asEmbed(tok, "GET", "/api/v1/embed/session", ""); r.status != 401 || r.errorCode(t) != "embed_token_revoked" {
		t.Fatalf("token after revoke all from the console: %d %s", r.status, r.body)
	}
	if r := form("/admin/embed/"+id, url.Values{"csrf_token": {csrf}, "action": {"delete"}}); r.status != 303 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := e.do("admin", "GET", "/api/v1/embed/apps/"+id, "", nil); r.status != 404 {
		t.Fatalf("after delete: %d", r.status)
	}
}

func regexpSubmatch(t *testing.T, pattern string, body []byte) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in %s", pattern, body)
	}
	return html.UnescapeString(string(m[1]))
}

// TestEmbedWebsocketRelayEnds: a relay's goroutines (both pumps, the
// token watch, the in-process upstream connection) end when the embed
// goes away.
func TestEmbedWebsocketRelayEnds(t *testing.T) {
	e := newEnv(t, server.Config{})
	id, secret := e.embedApp(appFor(devTalk))
	tok := e.token(id, secret, `{"user":"bob"}`).Token
	ws := "ws" + strings.TrimPrefix(e.url, "http") + "/api/v4/websocket"
	settle := func() int {
		n := runtime.NumGoroutine()
		for i := 0; i < 20; i++ {
			time.Sleep(10 * time.Millisecond)
			n = min(n, runtime.NumGoroutine())
		}
		return n
	}
	before := settle()
	var conns []*websocket.Conn
	for range 5 {
		c, _, err := websocket.DefaultDialer.Dial(ws, http.Header{"Authorization": {"Bearer " + tok}})
		if err != nil {
			t.Fatal(err)
		}
		var hello map[string]any
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if err := c.ReadJSON(&hello); err != nil || hello["event"] != "hello" {
			t.Fatalf("hello: %v %v", hello, err)
		}
		conns = append(conns, c)
	}
	during := runtime.NumGoroutine()
	for _, c := range conns {
		c.Close()
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if n := runtime.NumGoroutine(); n <= before+2 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("goroutines: %d before, %d with 5 relays, %d 10 s after they closed", before, during, n)
		}
	}
}
