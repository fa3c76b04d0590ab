package pluginpkg

import "strings"

// Match reports whether a request's method and path (already cleaned, no
// query) is allowed by the route: the same method, and path segments equal
// to the pattern's literals, any one non-empty segment for {name}, and any
// remainder (even none) for a final *.
func (r ProxyRoute) Match(method, path string) bool {
	if !strings.EqualFold(r.Method, method) {
		return false
	}
	pat := strings.Split(strings.Trim(r.Path, "/"), "/")
	got := strings.Split(strings.Trim(path, "/"), "/")
	for i, seg := range pat {
		if seg == "*" && i == len(pat)-1 {
			return true
		}
		if i >= len(got) || got[i] == "" || got[i] == "." || got[i] == ".." {
			return false
		}
		if strings.HasPrefix(seg, "{") {
			continue
		}
		if seg != got[i] {
			return false
		}
	}
	return len(got) == len(pat)
}

// AllowsProxy reports whether the manifest declares a route that allows the
// request.
func (m *Manifest) AllowsProxy(method, path string) bool {
	for _, r := range m.Proxy {
		if r.Match(method, path) {
			return true
		}
	}
	return false
}
