package pluginpkg

import "testing"

func TestProxyRouteMatch(t *testing.T) {
	for _, tt := range []struct {
		method, pattern, reqMethod, path string
		want                             bool
	}{
		{"POST", "/api/v4/posts", "POST", "/api/v4/posts", true},
		{"POST", "/api/v4/posts", "post", "/api/v4/posts", true},
		{"POST", "/api/v4/posts", "GET", "/api/v4/posts", false},
		{"POST", "/api/v4/posts", "POST", "/api/v4/posts/x", false},
		{"POST", "/api/v4/posts", "POST", "/api/v4/post", false},
		{"PUT", "/api/v4/posts/{post_id}/patch", "PUT", "/api/v4/posts/abc/patch", true},
		{"PUT", "/api/v4/posts/{post_id}/patch", "PUT", "/api/v4/posts//patch", false},
		{"PUT", "/api/v4/posts/{post_id}/patch", "PUT", "/api/v4/posts/../patch", false},
		{"GET", "/api/v4/channels/*", "GET", "/api/v4/channels", true},
		{"GET", "/api/v4/channels/*", "GET", "/api/v4/channels/a/posts", true},
		{"GET", "/api/v4/channels/*", "GET", "/api/v4/users/me", false},
	} {
		r := ProxyRoute{Method: tt.method, Path: tt.pattern}
		if got := r.Match(tt.reqMethod, tt.path); got != tt.want {
			t.Errorf("%s %s matches %s %s = %v, want %v", tt.method, tt.pattern, tt.reqMethod, tt.path, got, tt.want)
		}
	}
}
