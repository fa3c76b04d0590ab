package pluginpkg_test

import (
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// FuzzProxyRouteMatch: a proxy route pattern that validation accepts
// matches a clean /api/v4/ path exactly when a plain reading of the pattern
// does (literal segments equal, {name} one segment, a final * any rest),
// and a pattern without * never lets a dot segment through, whatever the
// path. The server only asks about clean paths; this checks the matcher
// does not rely on it where it need not.
func FuzzProxyRouteMatch(f *testing.F) {
	for _, s := range [][4]string{
		{"GET", "/api/v4/users/{user_id}/teams", "GET", "/api/v4/users/abc/teams"},
		{"POST", "/api/v4/posts", "post", "/api/v4/posts"},
		{"DELETE", "/api/v4/posts/*", "DELETE", "/api/v4/posts"},
		{"PUT", "/api/v4/posts/{id}/patch", "PUT", "/api/v4/posts/../users/patch"},
		{"GET", "/api/v4/channels/*", "GET", "/api/v4/channels/x/../../../system"},
		{"GET", "/api/v4/users/{a}", "GET", "/api/v4/users/"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, method, pattern, reqMethod, reqPath string) {
		m := pluginpkg.Manifest{ID: "com.example.fuzz", Name: "Fuzz", Version: "1.0.0",
			Webapp: &pluginpkg.Webapp{Entry: "index.ts"}, Proxy: []pluginpkg.ProxyRoute{{Method: method, Path: pattern}}}
		if err := m.Validate(nil); err != nil {
			(pluginpkg.ProxyRoute{Method: method, Path: pattern}).Match(reqMethod, reqPath) // must not panic
			return
		}
		r := m.Proxy[0]
		got := m.AllowsProxy(reqMethod, reqPath)
		if path.Clean(reqPath) == reqPath && strings.HasPrefix(reqPath, "/api/v4/") {
			if want := strings.EqualFold(r.Method, reqMethod) && patternRegexp(r.Path).MatchString(reqPath); got != want {
				t.Fatalf("%s %s against %s %s: %v, want %v", reqMethod, reqPath, r.Method, r.Path, got, want)
			}
		}
		if got && !strings.HasSuffix(r.Path, "*") {
			for _, seg := range strings.Split(reqPath, "/") {
				if seg == "." || seg == ".." {
					t.Fatalf("%s %s passed %s with a dot segment", reqMethod, reqPath, r.Path)
				}
			}
		}
	})
}

// patternRegexp reads a route pattern plainly.
func patternRegexp(p string) *regexp.Regexp {
	var b strings.Builder
	// (?s): a final * takes any rest, newlines included (a path may carry
	// a decoded %0A).
	b.WriteString("(?s)^")
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, seg := range segs {
		switch {
		case seg == "*" && i == len(segs)-1:
			b.WriteString("(/.*)?")
		case strings.HasPrefix(seg, "{"):
			b.WriteString("/[^/]+")
		default:
			b.WriteString("/" + regexp.QuoteMeta(seg))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
