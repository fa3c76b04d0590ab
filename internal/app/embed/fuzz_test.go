package embed_test

import (
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/internal/app/embed"
)

// FuzzNormalizeOrigin: an accepted origin is scheme://host[:port] with no
// character that could end or extend a CSP source list, and normalising it
// again gives the same.
func FuzzNormalizeOrigin(f *testing.F) {
	for _, s := range []string{"https://app.example", "HTTP://127.0.0.2:80", "https://a.example/", "https://a.example;x",
		"https://user@a.example", "https://[::1]:443", "javascript:alert(1)", "https://a.example/p?q#f", "https://*.example", "//a.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, o string) {
		n, err := embed.NormalizeOrigin(o)
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
		if again, err := embed.NormalizeOrigin(n); err != nil || again != n {
			t.Fatalf("%q -> %q -> %q, %v", o, n, again, err)
		}
	})
}

// FuzzWellFormed: whatever a client sends as a token or secret, the form
// check never panics and accepts exactly the prefix and 43 base64url
// characters.
func FuzzWellFormed(f *testing.F) {
	for _, s := range []string{"mmte_" + strings.Repeat("A", 43), "mmte_" + strings.Repeat("A", 42) + "=", "mmts_" + strings.Repeat("-", 43),
		"mmte_", "", "mmte_" + strings.Repeat("é", 22)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, prefix := range []string{embed.TokenPrefix, embed.SecretPrefix} {
			if !embed.WellFormed(s, prefix) {
				continue
			}
			rest, ok := strings.CutPrefix(s, prefix)
			if !ok || len(rest) != embed.RandomChars ||
				strings.Trim(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
				t.Fatalf("WellFormed(%q, %q)", s, prefix)
			}
		}
	})
}
