package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// FuzzEmbedTokenOf: whatever the Authorization header and query hold,
// finding an embed token never panics, and what it finds starts with the
// embed prefix and comes from one of the two places; a well-formed token
// is exactly mmte_ plus 43 base64url characters.
func FuzzEmbedTokenOf(f *testing.F) {
	for _, s := range []struct{ auth, query string }{
		{"Bearer mmte_" + strings.Repeat("A", 43), ""}, {"bearer  mmte_x ", ""}, {"Basic abc", "access_token=mmte_y"},
		{"", "access_token=mmte_" + strings.Repeat("-", 43)}, {"", "access_token=%6Dmte_z&access_token=mmte_w"},
		{"Bearer", ""}, {"Token mmte_x", ""}, {"token  mmte_" + strings.Repeat("_", 43), ""}, {"", "mmte_=1;access_token=mmte_%00"},
	} {
		f.Add(s.auth, s.query)
	}
	f.Fuzz(func(t *testing.T, auth, query string) {
		r := &http.Request{Header: http.Header{}, URL: &url.URL{Path: "/api/v4/users/me", RawQuery: query}}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		tok := server.EmbedTokenOf(r)
		if tok == "" {
			return
		}
		if !strings.HasPrefix(tok, "mmte_") || !(strings.Contains(auth, tok) || r.URL.Query().Get("access_token") == tok) {
			t.Fatalf("EmbedTokenOf(%q, %q) = %q", auth, query, tok)
		}
		if server.WellFormedEmbedToken(tok) {
			rest := tok[len("mmte_"):]
			if len(rest) != 43 || strings.Trim(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
				t.Fatalf("well-formed %q", tok)
			}
		}
	})
}

// FuzzEmbedScope: whatever method, path and body an embed token for
// dev-talk sends, over real HTTP, the answer is never a 5xx, never holds a
// post of another channel (the seeded town-square and sales texts), and
// never names a Mattermost token (Mattermost's "token=" detail).
func FuzzEmbedScope(f *testing.F) {
	e := newEnv(f, server.Config{})
	id, secret := e.embedApp(appFor(devTalk))
	tok := e.token(id, secret, `{"user":"bob"}`).Token
	r := e.do("alice", "POST", "/api/v4/posts", "application/json", strings.NewReader(`{"channel_id":"`+engTownSquare+`","message":"elsewhere secret"}`))
	var created struct{ ID string }
	if r.status != 201 || json.Unmarshal(r.body, &created) != nil {
		f.Fatalf("alice posts: %d %s", r.status, r.body)
	}
	other := created.ID
	for _, s := range []struct{ method, path, body string }{
		{"GET", "/api/v4/channels/" + engTownSquare + "/posts", ""},
		{"GET", "/api/v4/channels/" + devTalk + "/posts", ""},
		{"GET", "/api/v4/channels/" + devTalk + "/../" + engTownSquare + "/posts", ""},
		{"GET", "/api/v4/channels/" + devTalk + "%2F..%2F" + engTownSquare + "/posts", ""},
		{"GET", "/api/v4/posts/" + other, ""},
		{"GET", "/api/v4/posts/" + other + "/thread", ""},
		{"POST", "/api/v4/posts", `{"channel_id":"` + devTalk + `","root_id":"` + other + `","message":"x"}`},
		{"POST", "/api/v4/channels/members/me/view", `{"channel_id":"` + devTalk + `","prev_channel_id":"` + engTownSquare + `"}`},
		{"GET", "/api/v4/users/me/teams/" + e.teams["engineering"] + "/channels", ""},
		{"GET", "/api/v4/teams/name/sales/channels/name/deals", ""},
		{"GET", "/api/v1/manifest?team=sales", ""},
		{"GET", "/api/v4/channels/" + devTalk + "/posts?access_token=x", ""},
		{"POST", "/api/v4/users/ids", `["` + userID("carol") + `"]`},
	} {
		f.Add(s.method, s.path, s.body)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t#") || !validMethod(method) {
			return
		}
		req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, got)
		}
		for _, leak := range []string{"elsewhere secret", "This team has four people", "Customer visit", "Q3 pipeline", "token="} {
			if bytes.Contains(got, []byte(leak)) {
				t.Fatalf("%s %s %s: the answer holds %q: %s", method, path, body, leak, got)
			}
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS":
		return true
	}
	return false
}
