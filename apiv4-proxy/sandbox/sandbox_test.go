package sandbox

import (
	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"

	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func openSandbox(t *testing.T) (*Sandbox, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sandbox.db")
	sb, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb, path
}

func TestSandboxRolesMatchTheSpec(t *testing.T) {
	sb, _ := openSandbox(t)
	ctx := context.Background()
	eng, _ := sb.Team(ctx, nil, "engineering")
	sales, _ := sb.Team(ctx, nil, "Sales") // names are case-insensitive, as Mattermost's
	for _, tt := range []struct {
		user                         string
		sysadmin                     bool
		readEng, adminEng, readSales bool
	}{
		{"admin", true, true, true, true},
		{"dev", false, true, false, false},
		{"alice", false, true, true, false},
		{"bob", false, true, false, false},
		{"carol", false, false, false, true},
	} {
		token, _, err := sb.Login(ctx, tt.user, Password)
		if err != nil {
			t.Fatal(err)
		}
		id, err := sb.Authenticate(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if id.User.SystemAdmin() != tt.sysadmin || id.CanAccessTeam(eng.ID) != tt.readEng ||
			id.CanAdminTeam(eng.ID) != tt.adminEng || id.CanAccessTeam(sales.ID) != tt.readSales {
			t.Errorf("%s: roles wrong: %+v", tt.user, id)
		}
	}
	if _, _, err := sb.Login(ctx, "bob", "wrong"); !errors.Is(err, apiv4proxy.ErrBadCredentials) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := sb.Team(ctx, nil, "nope"); !errors.Is(err, apiv4proxy.ErrTeamNotFound) {
		t.Errorf("unknown team: %v", err)
	}
}

func TestSessionsSurviveRestartAndLogout(t *testing.T) {
	sb, path := openSandbox(t)
	ctx := context.Background()
	token, _, _ := sb.Login(ctx, "bob@example.com", Password)
	sb.Close()
	sb2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer sb2.Close()
	if _, err := sb2.Authenticate(ctx, token); err != nil {
		t.Fatalf("token lost across restart: %v", err)
	}
	sb2.Logout(ctx, token)
	if _, err := sb2.Authenticate(ctx, token); !errors.Is(err, apiv4proxy.ErrInvalidToken) {
		t.Fatalf("token works after logout: %v", err)
	}
}

// TestSandboxHTTPMatchesMattermost checks statuses and field names against
// the real Mattermost responses in shared/reference/mattermost-api-samples.
func TestSandboxHTTPMatchesMattermost(t *testing.T) {
	sb, _ := openSandbox(t)
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()

	do := func(method, path, token, body string) (int, http.Header, []byte) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}
	keys := func(b []byte) []string {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			var arr []map[string]any
			if err := json.Unmarshal(b, &arr); err != nil || len(arr) == 0 {
				t.Fatalf("not JSON: %s", b)
			}
			m = arr[0]
		}
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return ks
	}
	has := func(got []string, want ...string) {
		t.Helper()
		set := map[string]bool{}
		for _, k := range got {
			set[k] = true
		}
		for _, w := range want {
			if !set[w] {
				t.Errorf("missing field %q in %v", w, got)
			}
		}
	}
	appError := []string{"id", "message", "detailed_error", "request_id", "status_code"}

	st, _, body := do("POST", "/api/v4/users/login", "", `{"login_id":"bob","password":"bad"}`)
	if st != 401 {
		t.Fatalf("bad password: %d", st)
	}
	has(keys(body), appError...)
	st, hdr, body := do("POST", "/api/v4/users/login", "", `{"login_id":"bob","password":"mmtoolkit"}`)
	token := hdr.Get("Token")
	if st != 200 || token == "" || len(token) != 26 {
		t.Fatalf("login: %d token %q", st, token)
	}
	user := []string{"id", "create_at", "update_at", "delete_at", "username", "email", "nickname", "first_name", "last_name", "roles", "notify_props", "locale", "timezone"}
	has(keys(body), user...)
	if st, _, body := do("GET", "/api/v4/users/me", "", ""); st != 401 || !strings.Contains(string(body), "UserRequired") {
		t.Errorf("me without token: %d %s", st, body)
	}
	if st, _, _ := do("GET", "/api/v4/users/me", "nope", ""); st != 401 {
		t.Errorf("me with bad token: %d", st)
	}
	_, _, body = do("GET", "/api/v4/users/me", token, "")
	has(keys(body), user...)
	team := []string{"id", "create_at", "update_at", "delete_at", "display_name", "name", "description", "email", "type", "company_name", "allowed_domains", "invite_id", "allow_open_invite", "scheme_id", "group_constrained", "policy_id"}
	_, _, body = do("GET", "/api/v4/users/me/teams", token, "")
	has(keys(body), team...)
	_, _, body = do("GET", "/api/v4/users/me/teams/members", token, "")
	has(keys(body), "team_id", "user_id", "roles", "delete_at", "scheme_guest", "scheme_user", "scheme_admin", "explicit_roles")
	if st, _, body := do("GET", "/api/v4/teams/name/engineering", token, ""); st != 200 {
		t.Errorf("team by name: %d", st)
	} else {
		has(keys(body), team...)
	}
	if st, _, body := do("GET", "/api/v4/teams/name/sales", token, ""); st != 403 {
		t.Errorf("bob reads sales: %d %s", st, body)
	}
	if st, _, body := do("GET", "/api/v4/teams/name/nope", token, ""); st != 404 {
		t.Errorf("missing team: %d %s", st, body)
	} else {
		has(keys(body), appError...)
	}
}
