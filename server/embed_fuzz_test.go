package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

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

// FuzzNormalizeOrigin: an accepted origin is scheme://host[:port] with no
// character that could end or extend a CSP source list, and normalising it
// again gives the same.
func FuzzNormalizeOrigin(f *testing.F) {
	for _, s := range []string{"https://app.example", "HTTP://127.0.0.2:80", "https://a.example/", "https://a.example;x",
		"https://user@a.example", "https://[::1]:443", "javascript:alert(1)", "https://a.example/p?q#f", "https://*.example", "//a.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, o string) {
		n, err := server.NormalizeOrigin(o)
		if err != nil {
			return
		}
		if !strings.HasPrefix(n, "http://") && !strings.HasPrefix(n, "https://") {
			t.Fatalf("%q -> %q", o, n)
		}
		host := n[strings.Index(n, "://")+3:]
		if host == "" || strings.ContainsAny(host, "/;, \t\r\n'\"*@?#") {
			t.Fatalf("%q -> %q: not a bare origin", o, n)
		}
		if again, err := server.NormalizeOrigin(n); err != nil || again != n {
			t.Fatalf("%q -> %q -> %q, %v", o, n, again, err)
		}
	})
}
