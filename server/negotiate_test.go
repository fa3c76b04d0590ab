package server

import (
	"net/url"
	"strings"
	"testing"
)

var both = map[string]string{"gzip": "g", "br": "b"}

func TestNegotiate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		accept string
		avail  map[string]string
		want   string
	}{
		{"", both, ""},
		{"gzip", both, "gzip"},
		{"GZIP", both, "gzip"},
		{"gzip, br", both, "br"},
		{"br;q=0, gzip", both, "gzip"},
		{"br;q=0.0, gzip;q=0.5", both, "gzip"},
		{"*", both, "br"},
		{"*;q=0, gzip", both, "gzip"},
		{"br", map[string]string{"gzip": "g"}, ""},
		{"identity", both, ""},
		{"gzip;q=0", both, ""},
	} {
		if got := negotiate(tt.accept, tt.avail); got != tt.want {
			t.Errorf("negotiate(%q) = %q, want %q", tt.accept, got, tt.want)
		}
	}
}

func TestEtagMatch(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		header string
		want   bool
	}{
		{`"abc"`, true}, {`W/"abc"`, true}, {`"x", "abc"`, true}, {`*`, true}, {`"abcd"`, false}, {``, false},
	} {
		if got := etagMatch(tt.header, `"abc"`); got != tt.want {
			t.Errorf("etagMatch(%q) = %v", tt.header, got)
		}
	}
}

// FuzzNegotiate: Accept-Encoding is outside input; whatever it says, the
// answer is a coding we have, or identity.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"gzip", "br;q=0, gzip", "*;q=0.5", "gzip;q=", ";;,,", "br;q=1e400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		got := negotiate(accept, both)
		if got != "" && both[got] == "" {
			t.Fatalf("negotiate(%q) = %q, not available", accept, got)
		}
		if got != "" && !strings.Contains(strings.ToLower(accept), got) && !strings.Contains(accept, "*") {
			t.Fatalf("negotiate(%q) = %q, which the client never named", accept, got)
		}
		etagMatch(accept, `"x"`)
	})
}

func TestQueryParam(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ raw, want string }{
		{"team=engineering&platform=web", "engineering"},
		{"platform=web&team=sales", "sales"},
		{"team=a%20b", "a b"},
		{"team=&team=x", ""},
		{"teams=x", ""},
		{"", ""},
	} {
		if got := queryParam(tt.raw, "team"); got != tt.want {
			t.Errorf("queryParam(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

// FuzzQueryParam: the hand-rolled parser agrees with net/url on every query
// net/url accepts (keys written plainly, as clients send "team").
func FuzzQueryParam(f *testing.F) {
	for _, s := range []string{"team=engineering&platform=web", "team=a%20b", "a=1&team=%zz", "team=x+y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		vals, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		for _, kv := range strings.Split(raw, "&") {
			if k, _, _ := strings.Cut(kv, "="); strings.ContainsAny(k, "%+") {
				return
			}
		}
		if got, want := queryParam(raw, "team"), vals.Get("team"); got != want {
			t.Fatalf("queryParam(%q) = %q, net/url says %q", raw, got, want)
		}
	})
}
