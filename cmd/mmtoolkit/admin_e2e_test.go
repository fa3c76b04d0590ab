package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestAdminCommands runs what the admin console does from the CLI against
// a real server: list and show plugins and versions, enable, pin, roll
// back, follow, read the audit log and the crash reports, the kill switch;
// with --json for scripts, and errors that name the command to run.
func TestAdminCommands(t *testing.T) {
	e := newCLIEnv(t)
	const id = "com.example.hello"
	e.ok("dev", "push", helloAt(t, "1.0.0"))

	out := e.ok("bob", "plugins")
	if !regexp.MustCompile(`(?m)^ID\s+NAME\s+LATEST\s+CERTIFICATION\s+VERSIONS\s+SLOTS$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^com\.example\.hello\s+Hello\s+1\.0\.0\s+unverified\s+1\s+post_type:custom_hello, channel_header_button$`).MatchString(out) {
		t.Errorf("plugins:\n%s", out)
	}
	var list struct{ Plugins []struct{ ID string } }
	if err := json.Unmarshal([]byte(e.ok("bob", "plugins", "--json")), &list); err != nil || len(list.Plugins) != 1 {
		t.Errorf("plugins --json: %v %+v", err, list)
	}
	if out := e.ok("bob", "plugins", "--search", "no such words"); out != "" {
		t.Errorf("plugins --search matched %q", out)
	}
	for args, want := range map[string]int{
		"--search greeting":               1, // in the description
		"--search hello --slot post_type": 1,
		"--slot app_bar":                  0,
		"--certification official":        0,
		"--certification unverified":      1,
	} {
		var got struct{ Plugins []struct{ ID string } }
		json.Unmarshal([]byte(e.ok("bob", append([]string{"plugins", "--json"}, strings.Fields(args)...)...)), &got)
		if len(got.Plugins) != want {
			t.Errorf("plugins %s: %d plugins, want %d", args, len(got.Plugins), want)
		}
	}

	e.ok("alice", "enable", "engineering", id)
	e.ok("dev", "push", helloAt(t, "1.1.0"))
	out = e.ok("alice", "versions", id)
	if !regexp.MustCompile(`(?m)^1\.1\.0\s+unverified\s+\S+ ago\s+\S+\s+[\d.]+ (B|KiB)\s+[\d.]+ (B|KiB)\s+latest$`).MatchString(out) {
		t.Errorf("versions:\n%s", out)
	}
	out = e.ok("alice", "plugins", "show", id)
	for _, want := range []string{"com.example.hello  Hello", "Latest:  1.1.0 (unverified)", "CRASHES", "TEAM", "engineering"} {
		if !strings.Contains(out, want) {
			t.Errorf("plugins show lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^engineering\s+enabled\s+1\.1\.0\s+follows latest$`).MatchString(out) {
		t.Errorf("plugins show: engineering's state:\n%s", out)
	}

	out = e.ok("alice", "rollback", "engineering", id)
	if !strings.Contains(out, "engineering: com.example.hello rolled back from 1.1.0 to 1.0.0, pinned (enabled") {
		t.Errorf("rollback: %s", out)
	}
	out = e.ok("alice", "follow", "engineering", id)
	if !strings.Contains(out, "follows the latest version, now 1.1.0") {
		t.Errorf("follow: %s", out)
	}
	out = e.ok("alice", "pin", "engineering", id, "1.0.0")
	if !strings.Contains(out, "engineering: com.example.hello pinned to 1.0.0 (enabled") {
		t.Errorf("pin: %s", out)
	}
	e.fails("alice", []string{`com.example.hello has no version 9.9.9: run "mmtoolkit versions com.example.hello"`}, "pin", "engineering", id, "9.9.9")
	e.fails("alice", []string{`no plugin has the id com.example.nope: run "mmtoolkit plugins"`}, "versions", "com.example.nope")
	e.fails("alice", []string{`no team nowhere`, `"mmtoolkit teams"`}, "follow", "nowhere", id)
	e.fails("bob", []string{"not_team_admin"}, "pin", "engineering", id, "1.0.0")
	e.fails("admin", []string{"has never served com.example.hello", `"mmtoolkit pin sales com.example.hello VERSION"`}, "rollback", "sales", id)

	out = e.ok("alice", "audit")
	if !regexp.MustCompile(`(?m)^\S+ \S+\s+alice\s+pin\s+com\.example\.hello\s+1\.0\.0\s+engineering\s+pinned 1\.0\.0$`).MatchString(out) ||
		strings.Contains(out, "push ") {
		t.Errorf("audit as alice (engineering's entries only):\n%s", out)
	}
	var audit struct {
		Entries []struct{ Action, Actor string }
	}
	if err := json.Unmarshal([]byte(e.ok("admin", "audit", "--plugin", id, "--person", "dev", "--json")), &audit); err != nil ||
		len(audit.Entries) != 2 || audit.Entries[0].Action != "push" {
		t.Errorf("audit --json: %v %+v", err, audit)
	}
	e.fails("bob", []string{"not_admin"}, "audit")

	// A crash report from bob's page, read by the admins.
	token := login(t, e.url, "bob")
	req, _ := http.NewRequest("POST", e.url+"/api/v1/plugins/"+id+"/errors",
		strings.NewReader(`{"version":"1.0.0","message":"TypeError: boom\n  at render","team_id":"engineering"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 202 {
		t.Fatalf("crash report: %v %v", err, resp)
	}
	out = e.ok("admin", "crashes")
	if !regexp.MustCompile(`(?m)^com\.example\.hello\s+1\.0\.0\s+1\s+1\s+no\s+`).MatchString(out) {
		t.Errorf("crashes:\n%s", out)
	}
	out = e.ok("alice", "crashes", id)
	if !strings.Contains(out, "TypeError: boom") || strings.Contains(out, "at render") {
		t.Errorf("crashes %s (the message's first line):\n%s", id, out)
	}
	e.fails("bob", []string{"not_admin"}, "crashes")

	if out := e.ok("alice", "disable", "engineering", id); !strings.Contains(out, "com.example.hello@1.0.0 disabled for team engineering") {
		t.Errorf("disable: %s", out)
	}
	e.ok("alice", "enable", "--team", "engineering", "--plugin", id)
	e.fails("alice", []string{"not_system_admin"}, "disable-everywhere", "--yes", id)
	out = e.ok("admin", "disable-everywhere", "--yes", id)
	if !strings.Contains(out, "com.example.hello disabled in 1 team(s): engineering") {
		t.Errorf("disable-everywhere: %s", out)
	}
	var teams struct {
		Teams []struct {
			Team    struct{ Name string }
			Plugins []struct {
				ID      string
				Enabled bool
			}
		}
	}
	if err := json.Unmarshal([]byte(e.ok("alice", "teams", "--json")), &teams); err != nil || len(teams.Teams) == 0 {
		t.Fatalf("teams --json: %v", err)
	}
	for _, p := range teams.Teams[0].Plugins {
		if p.ID == id && p.Enabled {
			t.Errorf("still enabled in %s after the kill switch", teams.Teams[0].Team.Name)
		}
	}
}

// serverPartArchive is server/testdata/serverpart as Mattermost's make
// dist archives it (one top-level directory, executables 0755), at version.
func serverPartArchive(t *testing.T, version string) string {
	t.Helper()
	root := filepath.Join("..", "..", "server", "testdata", "serverpart")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "README.md" || strings.HasPrefix(rel, "webapp/src/") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if rel == "plugin.json" {
			data = bytes.Replace(data, []byte(`"version": "1.0.0"`), []byte(`"version": "`+version+`"`), 1)
		}
		mode := int64(0o644)
		if strings.HasPrefix(rel, "server/dist/") {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "com.example.serverpart/" + rel, Mode: mode, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	tw.Close()
	zw.Close()
	out := filepath.Join(t.TempDir(), "serverpart-"+version+".tar.gz")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestServerPartCommand: the console's server part section as a command,
// for system admins: the versions that have one, what is installed, and a
// pin and an on/off switch (in the sandbox no Mattermost runs it, which it
// says).
func TestServerPartCommand(t *testing.T) {
	e := newCLIEnv(t)
	const id = "com.example.serverpart"
	e.ok("dev", "push", serverPartArchive(t, "1.0.0"))
	e.ok("dev", "push", serverPartArchive(t, "1.1.0"))
	out := e.ok("admin", "server-part", id)
	for _, want := range []string{"com.example.serverpart server part", "Versions:   1.1.0, 1.0.0", "Installs:   1.1.0 (follows the latest)", "Mattermost: not_installed: no Mattermost"} {
		if !strings.Contains(out, want) {
			t.Errorf("server-part lacks %q:\n%s", want, out)
		}
	}
	out = e.ok("admin", "server-part", id, "--pin", "1.0.0", "--disable")
	if !strings.Contains(out, "Installs:   1.0.0 (pinned), disabled") {
		t.Errorf("server-part --pin 1.0.0 --disable:\n%s", out)
	}
	var sp struct {
		Pin      string
		Disabled bool
	}
	if err := json.Unmarshal([]byte(e.ok("admin", "server-part", id, "--follow", "--json")), &sp); err != nil || sp.Pin != "" || !sp.Disabled {
		t.Errorf("server-part --follow --json (keeps it disabled): %v %+v", err, sp)
	}
	e.fails("alice", []string{"not_system_admin"}, "server-part", id)
	e.fails("admin", []string{`no plugin has the id com.example.nope: run "mmtoolkit plugins"`}, "server-part", "com.example.nope")
	e.ok("dev", "push", helloAt(t, "1.0.0"))
	e.fails("admin", []string{"no version of com.example.hello has a server part", "server_part_not_found"}, "server-part", "com.example.hello")
	if code, _, errOut := e.as("admin", "server-part", id, "--enable", "--disable"); code != 2 || !strings.Contains(errOut, "--enable and --disable: give one") {
		t.Errorf("--enable --disable: exit %d %s", code, errOut)
	}
}

// TestEmbedAppsCommand: the console's Embedding page as commands, for
// system admins: create (the secret printed once), list, show, update
// (what is not given stays), rotate the secret, revoke the tokens, delete
// (confirmed).
func TestEmbedAppsCommand(t *testing.T) {
	e := newCLIEnv(t)
	if code, out, errOut := e.as("admin", "embed-apps"); code != 0 || out != "" || !strings.Contains(errOut, "no embed apps") {
		t.Fatalf("embed-apps on a new server: %d %q %q", code, out, errOut)
	}
	out := e.ok("admin", "embed-apps", "create", "--name", "Shop", "--origin", "https://shop.example", "--team", "engineering")
	m := regexp.MustCompile(`(?m)^ID:\s+(\S+)$`).FindStringSubmatch(out)
	secret := regexp.MustCompile(`(?m)^Secret:\s+(mmts_\S+)$`).FindStringSubmatch(out)
	if m == nil || secret == nil || !strings.Contains(out, "created embed app") {
		t.Fatalf("create:\n%s", out)
	}
	id := m[1]
	if out := e.ok("admin", "embed-apps"); !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(id) + `\s+Shop\s+https://shop\.example\s+\S+\s+-$`).MatchString(out) {
		t.Errorf("list:\n%s", out)
	}
	out = e.ok("admin", "embed-apps", "update", id, "--origin", "https://a.example,https://b.example")
	if !strings.Contains(out, "Origins:  https://a.example, https://b.example") || !strings.Contains(out, "Name:     Shop") ||
		strings.Contains(out, "Teams:    -") {
		t.Errorf("update kept the name and teams and replaced the origins?\n%s", out)
	}
	var shown struct {
		Name    string
		Origins []string
		Secret  string
	}
	if err := json.Unmarshal([]byte(e.ok("admin", "embed-apps", "show", id, "--json")), &shown); err != nil ||
		shown.Name != "Shop" || len(shown.Origins) != 2 || shown.Secret != "" {
		t.Errorf("show --json: %v %+v", err, shown)
	}
	out = e.ok("admin", "embed-apps", "rotate-secret", id)
	if s := regexp.MustCompile(`(?m)^Secret:\s+(mmts_\S+)$`).FindStringSubmatch(out); s == nil || s[1] == secret[1] {
		t.Errorf("rotate-secret printed no new secret:\n%s", out)
	}
	if out := e.ok("admin", "embed-apps", "revoke-tokens", id); !strings.Contains(out, "revoked") {
		t.Errorf("revoke-tokens: %s", out)
	}
	if code, _, errOut := e.as("admin", "embed-apps", "delete", id); code != 2 || !strings.Contains(errOut, "--yes is required") {
		t.Errorf("delete without --yes off a terminal: %d %s", code, errOut)
	}
	if out := e.ok("admin", "embed-apps", "delete", id, "--yes"); !strings.Contains(out, "deleted") {
		t.Errorf("delete: %s", out)
	}
	e.fails("admin", []string{"no embed app " + id + `: run "mmtoolkit embed-apps"`}, "embed-apps", "show", id)
	e.fails("alice", []string{"embed_admin_required"}, "embed-apps")
	for args, want := range map[string]string{
		"create --name X":   "create needs --name and at least one --origin",
		"frobnicate":        `unknown subcommand "frobnicate"`,
		"show":              "missing APP",
		"rotate-secret a b": `unexpected argument "b"`,
	} {
		if code, _, errOut := e.as("admin", append([]string{"embed-apps"}, strings.Fields(args)...)...); code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("embed-apps %s: exit %d %q, want 2 and %q", args, code, errOut, want)
		}
	}
}
