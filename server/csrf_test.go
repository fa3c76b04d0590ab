package server_test

import (
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// A session cookie is ambient: a page on another site can make the browser
// send it with a form post. State-changing requests that rely on the cookie
// alone must carry X-Requested-With, which cross-site forms cannot set.
func TestCookieWritesNeedTheCSRFHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	e.push("dev", helloPlugin("com.example.csrf", "1.0.0"))
	e.setTeam("alice", "engineering", "com.example.csrf", `{"enabled":true}`) // the KV store answers where it is served
	cookie := "MMAUTHTOKEN=" + e.tokens["bob"]
	put := func(hdr ...string) response {
		return e.do("", "PUT", "/api/v1/plugins/com.example.csrf/kv/user/k", "text/plain", strings.NewReader(`1`),
			append([]string{"Cookie", cookie}, hdr...)...)
	}

	if r := put(); r.status != 403 || r.errorCode(t) != "csrf_header_missing" {
		t.Fatalf("cookie write without the header: %d %s", r.status, r.body)
	}
	if r := put("X-Requested-With", "fetch"); r.status != 403 {
		t.Fatalf("another X-Requested-With value: %d %s", r.status, r.body)
	}
	if r := put("X-Requested-With", "XMLHttpRequest"); r.status != 200 {
		t.Fatalf("cookie write with the header: %d %s", r.status, r.body)
	}
	// Reads are not refused, and a bearer token is not ambient.
	if r := e.do("", "GET", "/api/v1/plugins/com.example.csrf/kv/user/k", "", nil, "Cookie", cookie); r.status != 200 {
		t.Fatalf("cookie read: %d %s", r.status, r.body)
	}
	if r := e.do("bob", "DELETE", "/api/v1/plugins/com.example.csrf/kv/user/k", "", nil); r.status != 204 && r.status != 200 {
		t.Fatalf("bearer write: %d %s", r.status, r.body)
	}

	// The sandbox Mattermost answers as Mattermost does: 401 session_expired.
	r := e.do("", "POST", "/api/v4/posts", "application/json", strings.NewReader(`{"channel_id":"x","message":"hi"}`), "Cookie", cookie)
	if r.status != 401 || !strings.Contains(string(r.body), "CSRF") {
		t.Fatalf("sandbox cookie post without the header: %d %s", r.status, r.body)
	}
}
