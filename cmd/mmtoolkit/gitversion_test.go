package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGitVersion: a plugin.json without a version gets the one Mattermost's
// starter-template build gives it from git: the v-tag on HEAD, else the
// latest v-tag + "+<short hash>", else 0.0.0+<short hash>; outside git,
// an error that names --version.
func TestGitVersion(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed for this test (apt-get install -y git)")
	}
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com",
			"-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	raw := []byte(`{"id":"com.example.git","name":"Git","webapp":{"bundle_path":"webapp/dist/main.js"}}`)
	version := func() string {
		t.Helper()
		out, err := withGitVersion(dir)(raw)
		if err != nil {
			t.Fatal(err)
		}
		var m struct{ Version string }
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
		return m.Version
	}

	if _, err := withGitVersion(dir)(raw); !errors.Is(err, errNoVersion) || !strings.Contains(err.Error(), "--version") {
		t.Fatalf("outside git: %v", err)
	}
	git("init", "-q")
	if err := os.WriteFile(filepath.Join(dir, "plugin.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", ".")
	git("commit", "-q", "-m", "one")
	if v, h := version(), git("rev-parse", "--short", "HEAD"); v != "0.0.0+"+h {
		t.Errorf("no tags: %q, want 0.0.0+%s", v, h)
	}
	git("tag", "not-a-version")
	git("tag", "v2.7.1")
	if v := version(); v != "2.7.1" {
		t.Errorf("on a tag: %q, want 2.7.1", v)
	}
	git("commit", "-q", "--allow-empty", "-m", "two")
	if v, h := version(), git("rev-parse", "--short", "HEAD"); v != "2.7.1+"+h {
		t.Errorf("after a tag: %q, want 2.7.1+%s", v, h)
	}
	// A version in plugin.json is kept.
	out, err := withGitVersion(dir)([]byte(`{"id":"com.example.git","version":"1.0.0"}`))
	if err != nil || !strings.Contains(string(out), `"1.0.0"`) {
		t.Errorf("kept version: %s %v", out, err)
	}
}
