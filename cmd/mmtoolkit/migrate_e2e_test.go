package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/internal/pgtest"
	"github.com/mmtoolkit/mmtoolkit/mobile"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// TestMigrateThenServeFromPostgres: a registry served from bbolt with data
// of every kind the API writes (pushes, the reference plugins, team states,
// KV, a crash report, an embed app, the audit log), migrated with
// `mmtoolkit migrate`, then served with --store from PostgreSQL, answers
// every question as before; a second migrate copies nothing; a migrate
// while serve holds the file says to stop it.
func TestMigrateThenServeFromPostgres(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	pg := pgtest.New(t)
	dsn := pg.DSN("postgres")
	bin := filepath.Join(t.TempDir(), "mmtoolkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := t.TempDir()
	srv := startServerArgs(t, bin, "--data", data, "--reference-plugins=true")

	cli := func(user string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "MMTOOLKIT_SERVER="+srv.url, "MMTOOLKIT_USER="+user, "MMTOOLKIT_PASSWORD=mmtoolkit", "MMTOOLKIT_TOKEN=", "MMTOOLKIT_STORE=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, c := range [][]string{
		{"dev", "push", filepath.Join("..", "..", "docs", "examples", "hello")},
		{"alice", "enable", "--team", "engineering", "--plugin", "com.example.hello"},
		{"admin", "embed-apps", "create", "--name", "Intranet", "--origin", "https://intranet.example", "--team", "engineering"},
	} {
		if out, err := cli(c[0], c[1:]...); err != nil {
			t.Fatalf("%s: %v\n%s", c, err, out)
		}
	}
	send := func(url, method, path, token, body string) {
		t.Helper()
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
		}
	}
	bob := login(t, srv.url, "bob")
	send(srv.url, "PUT", "/api/v1/plugins/com.example.hello/kv/user/greeting", bob, `{"hello":"world"}`)
	send(srv.url, "PUT", "/api/v1/plugins/com.example.hello/kv/team:engineering/motd", login(t, srv.url, "alice"), `"welcome"`)
	send(srv.url, "POST", "/api/v1/plugins/com.example.hello/errors", bob, `{"version":"1.0.0","message":"boom","team_id":"engineering"}`)

	waitSourceMaps(t, srv.url, bob)
	before := apiAnswers(t, srv.url)
	srv.cmd.Process.Signal(syscall.SIGTERM)
	srv.cmd.Wait()

	migrate := func() string {
		t.Helper()
		out, err := exec.Command(bin, "migrate", "--from", data, "--to", dsn).CombinedOutput()
		if err != nil {
			t.Fatalf("migrate: %v\n%s", err, out)
		}
		return string(out)
	}
	out := migrate()
	t.Logf("mmtoolkit migrate:\n%s", out)
	for _, kind := range []string{"plugins", "versions", "blobs", "team states", "audit entries", "settings", "kv entries", "crash health", "embed apps"} {
		if !regexp.MustCompile(`(?m)^  ` + kind + ` +[1-9]\d* `).MatchString(out) {
			t.Errorf("migrate copied no %s:\n%s", kind, out)
		}
	}
	if strings.Contains(out, "mmtoolkit@") || strings.Contains(out, "password") {
		t.Errorf("migrate printed a secret:\n%s", out)
	}
	// The data directory's mobile key is the registry's shared key, in the
	// form serve --store shares it, so replicas sign as the bbolt server did.
	st, err := registry.OpenPostgres(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	shared, err := st.Setting(context.Background(), registry.SettingMobileKey)
	st.Close()
	key, kerr := mobile.ReadKey(filepath.Join(data, mobile.DefaultKeyFile))
	if err != nil || kerr != nil {
		t.Fatalf("shared mobile key: %v; key file: %v", err, kerr)
	}
	if want, _ := mobile.MarshalKey(key); !bytes.Equal(shared, want) {
		t.Errorf("shared mobile key %q, want the key file's %q", shared, want)
	}
	if again := migrate(); !strings.Contains(again, "nothing to copy") {
		t.Errorf("second migrate:\n%s", again)
	}
	raw, err := exec.Command(bin, "migrate", "--json", "--from", data, "--to", dsn).Output()
	if err != nil {
		t.Fatalf("migrate --json: %v", err)
	}
	var rep struct {
		To    string
		Kinds []struct {
			Kind            string
			Copied, Present int
		}
	}
	if err := json.Unmarshal(raw, &rep); err != nil || len(rep.Kinds) == 0 || rep.To != dsn {
		t.Fatalf("migrate --json: %v %s", err, raw)
	}
	for _, k := range rep.Kinds {
		if k.Copied != 0 || (k.Kind == "plugins" && k.Present == 0) {
			t.Errorf("third migrate, %s: copied %d, present %d", k.Kind, k.Copied, k.Present)
		}
	}

	pgsrv := startServerArgs(t, bin, "--data", data, "--reference-plugins=true", "--store", dsn)
	after := apiAnswers(t, pgsrv.url)
	// Precompressed sizes are a cache the server fills in the background
	// after a push: present or not depending on when it was asked.
	derived := regexp.MustCompile(`,"(gzip|br)_size":\d+`)
	for q, want := range before {
		want = derived.ReplaceAllString(want, "")
		got := derived.ReplaceAllString(strings.ReplaceAll(after[q], pgsrv.url, srv.url), "")
		if got != want {
			t.Errorf("%s:\n bbolt      %s\n postgres   %s", q, want, got)
		}
	}

	// serve holds the bbolt file: migrate refuses and says what to do.
	pgsrv.kill(t)
	bsrv := startServerArgs(t, bin, "--data", data)
	defer bsrv.kill(t)
	locked, err := exec.Command(bin, "migrate", "--from", data, "--to", dsn).CombinedOutput()
	if err == nil || !strings.Contains(string(locked), "stop the mmtoolkit serve") {
		t.Errorf("migrate of a file in use: %v\n%s", err, locked)
	}
}

// apiAnswers asks the server at url what the console, the CLI and the
// hosts read, as the sandbox's users, and returns the answers by question.
// Bundles are answered by their SHA-256.
func apiAnswers(t *testing.T, url string) map[string]string {
	t.Helper()
	tokens := map[string]string{}
	for _, u := range []string{"admin", "bob", "carol", "dev"} {
		tokens[u] = login(t, url, u)
	}
	out := map[string]string{}
	for _, q := range []struct{ user, path string }{
		{"bob", "/api/v1/manifest?team=engineering&platform=web"},
		{"bob", "/api/v1/mobile/manifest?team=engineering&platform=ios&runtime=1.0.0"},
		{"carol", "/api/v1/manifest?team=sales&platform=web"},
		{"dev", "/api/v1/plugins"},
		{"dev", "/api/v1/plugins/com.example.hello"},
		{"admin", "/api/v1/audit?limit=1000"},
		{"admin", "/api/v1/crashes"},
		{"admin", "/api/v1/embed/apps"},
		{"bob", "/api/v1/plugins/com.example.hello/kv/user/greeting"},
		{"bob", "/api/v1/plugins/com.example.hello/kv/team:engineering"},
	} {
		body := get(t, url+q.path, tokens[q.user])
		out[q.user+" "+q.path] = string(body)
		if strings.HasPrefix(q.path, "/api/v1/manifest") && strings.Contains(q.path, "web") {
			var m struct {
				Plugins []struct {
					ID     string
					Bundle struct{ URL string }
				}
			}
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			for _, p := range m.Plugins {
				sum := sha256.Sum256(get(t, url+p.Bundle.URL, tokens[q.user]))
				out["bundle "+p.ID] = hex.EncodeToString(sum[:])
			}
		}
	}
	// The mobile manifest is signed with the same key (migrate copied it).
	req, _ := http.NewRequest("GET", url+"/api/v1/mobile/manifest?team=engineering&platform=ios&runtime=1.0.0", nil)
	req.Header.Set("Authorization", "Bearer "+tokens["bob"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out["mobile key id"] = resp.Header.Get("X-Mmtoolkit-Key-Id")
	if out["mobile key id"] == "" {
		t.Error("no X-Mmtoolkit-Key-Id")
	}
	if len(bytes.TrimSpace([]byte(out["bob /api/v1/plugins/com.example.hello/kv/user/greeting"]))) == 0 {
		t.Fatal("no KV answer")
	}
	return out
}

// waitSourceMaps waits until no version of any plugin has a source map
// still being built in the background (its bundle says "pending").
func waitSourceMaps(t *testing.T, url, token string) {
	t.Helper()
	var list struct{ Plugins []struct{ ID string } }
	getJSON(t, url+"/api/v1/plugins", token, &list)
	deadline := time.Now().Add(2 * time.Minute)
	for _, p := range list.Plugins {
		for bytes.Contains(get(t, url+"/api/v1/plugins/"+p.ID, token), []byte(`"pending":true`)) {
			if time.Now().After(deadline) {
				t.Fatalf("source maps of %s still pending after 2 minutes", p.ID)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
