package server_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// loginConfig is the login page's #mmtoolkit-config (webapp.shellConfig).
func loginConfig(t *testing.T, e *env) map[string]any {
	t.Helper()
	r := e.do("", "GET", "/login", "", nil)
	if r.status != 200 {
		t.Fatalf("GET /login: %d %s", r.status, r.body)
	}
	m := regexp.MustCompile(`(?s)<script[^>]*id="mmtoolkit-config"[^>]*>(.*?)</script>`).FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("no config in the login page:\n%s", r.body)
	}
	var c map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(m[1]), &c); err != nil {
		t.Fatalf("config %s: %v", m[1], err)
	}
	return c
}

// TestLoginPageDemoUsersSandboxOnly: the sandbox's login page carries the
// demo users and their password (the page shows them); in front of a real
// Mattermost (an identity that is not the sandbox) it carries nothing about
// accounts.
func TestLoginPageDemoUsersSandboxOnly(t *testing.T) {
	t.Parallel()
	demo, ok := loginConfig(t, newEnv(t, server.Config{}))["demo"].(map[string]any)
	if !ok {
		t.Fatal("the sandbox's login page has no demo users")
	}
	if demo["password"] != sandbox.Password {
		t.Errorf("password %v", demo["password"])
	}
	users, _ := demo["users"].([]any)
	var names []string
	for _, u := range users {
		names = append(names, u.(map[string]any)["username"].(string))
		if u.(map[string]any)["username"] == "admin" && u.(map[string]any)["role"] != "system admin" {
			t.Errorf("admin: %v", u)
		}
	}
	if len(names) != 5 {
		t.Errorf("users %q", names)
	}

	// Another identity provider: the sandbox's users behind a type that
	// is only a server.Identity, as the upstream proxy is.
	upstream := newEnvWith(t, server.Config{}, func(sb *sandbox.Sandbox) server.Identity {
		return struct{ server.Identity }{sb}
	})
	if c := loginConfig(t, upstream); c["demo"] != nil {
		t.Errorf("demo users in front of a real Mattermost: %v", c["demo"])
	}
}
