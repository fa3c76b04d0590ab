package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/server"
)

func TestCrashReportsFlagAVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	e.push("dev", helloPlugin("com.example.flaky", "1.0.0"))
	// Reports are taken for plugins the reporter's teams serve.
	for _, team := range []string{"engineering", "sales"} {
		if r := e.setTeam("admin", team, "com.example.flaky", `{"enabled":true}`); r.status != 200 {
			t.Fatal(r.status, string(r.body))
		}
	}
	report := func(user, body string) response {
		t.Helper()
		return e.do(user, "POST", "/api/v1/plugins/com.example.flaky/errors", "application/json", strings.NewReader(body))
	}
	crash := `{"version":"1.0.0","message":"TypeError: x is undefined","stack":"at Hello","slot":"post_type"}`
	var last map[string]any
	for i := 0; i < 10; i++ {
		user := []string{"bob", "alice", "carol"}[i%3]
		r := report(user, crash)
		if r.status != 202 {
			t.Fatalf("report %d: %d %s", i, r.status, r.body)
		}
		last = r.json(t)
	}
	if last["flagged"] != true || last["crashes"].(float64) != 10 {
		t.Fatalf("after 10 crashes from 3 users: %v", last)
	}
	h := e.do("admin", "GET", "/api/v1/plugins/com.example.flaky/errors", "", nil)
	if h.status != 200 || !strings.Contains(string(h.body), `"flagged":true`) || !strings.Contains(string(h.body), "TypeError") {
		t.Fatalf("health: %d %s", h.status, h.body)
	}
	if strings.Contains(string(h.body), "user_ids") {
		t.Errorf("health leaks the reporting users' list: %s", h.body)
	}
	// Still enabled and re-enabled: nothing is disabled automatically.
	if r := e.setTeam("alice", "engineering", "com.example.flaky", `{"enabled":true}`); r.status != 200 {
		t.Fatalf("enable a flagged plugin: %d", r.status)
	}

	for _, tt := range []struct {
		user, body, code string
		status           int
	}{
		{"bob", `{"version":"9.9.9","message":"x"}`, "version_not_found", 404},
		{"bob", `{"message":"x"}`, "bad_request", 400},
		{"bob", `nope`, "bad_request", 400},
	} {
		if r := report(tt.user, tt.body); r.status != tt.status || r.errorCode(t) != tt.code {
			t.Errorf("%s: %d %s", tt.body, r.status, r.body)
		}
	}
	if r := e.do("bob", "GET", "/api/v1/plugins/com.example.flaky/errors", "", nil); r.status != 403 || r.errorCode(t) != "not_admin" {
		t.Errorf("member reads health: %d %s", r.status, r.body)
	}
	limited := false
	for i := 0; i < 20 && !limited; i++ {
		limited = report("dev", fmt.Sprintf(`{"version":"1.0.0","message":"m%d"}`, i)).status == 429
	}
	if !limited {
		t.Error("crash reports are not rate limited")
	}
}
