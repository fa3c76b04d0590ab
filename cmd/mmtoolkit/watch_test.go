package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, buf *syncBuffer, want string, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !strings.Contains(buf.String(), want); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %v; output:\n%s", want, timeout, buf.String())
		}
	}
}

// TestPushWatch: push --watch pushes at once, prints compile errors as
// file:line:col and keeps watching, and pushes the fixed save (which, as
// it restores the first build's sources, the server stores nothing of).
func TestPushWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "mmtoolkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	srv := startServer(t, bin, t.TempDir())
	dir := t.TempDir()
	copyDir(t, filepath.Join("..", "..", "docs", "examples", "hello"), dir)

	cmd := exec.Command(bin, "push", "--watch", dir)
	cmd.Env = append(os.Environ(), "MMTOOLKIT_SERVER="+srv.url, "MMTOOLKIT_USER=dev", "MMTOOLKIT_PASSWORD=mmtoolkit", "MMTOOLKIT_TOKEN=")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor(t, &out, "pushed com.example.hello@1.0.1-dev.", 10*time.Second)

	entry := filepath.Join(dir, "webapp", "index.tsx")
	good, _ := os.ReadFile(entry)
	os.WriteFile(entry, append(append([]byte{}, good...), "\nconst broken = 1 +;\n"...), 0o644)
	waitFor(t, &out, "webapp/index.tsx:", 10*time.Second)

	// The server's diagnostics, the same ones the page overlay shows.
	waitFor(t, &out, "push failed: the web entry does not compile", 10*time.Second)
	// The fix restores the first build's sources: pushed, and the server
	// finds its bundles equal to that build's.
	os.WriteFile(entry, good, 0o644)
	waitFor(t, &out, "its bundles equal the last build's: nothing stored", 10*time.Second)

	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Ctrl-C: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("push --watch did not stop on Ctrl-C")
	}
}

// helloServed is what user's web manifest for engineering serves of
// com.example.hello: its version and whether it is marked preview.
func helloServed(t *testing.T, url, token string) (string, bool) {
	t.Helper()
	var m struct {
		Plugins []struct {
			ID, Version string
			Preview     bool
		}
	}
	getJSON(t, url+"/api/v1/manifest?team=engineering", token, &m)
	for _, p := range m.Plugins {
		if p.ID == "com.example.hello" {
			return p.Version, p.Preview
		}
	}
	return "", false
}

// waitServed polls until user's manifest serves want (a version prefix)
// with the given preview mark.
func waitServed(t *testing.T, url, token, want string, preview bool, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		v, p := helloServed(t, url, token)
		if strings.HasPrefix(v, want) && p == preview {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("manifest serves %q (preview %v) after %v, want %s* (preview %v)", v, p, timeout, want, preview)
		}
	}
}

// TestPushWatchPreview: the builds of push --watch reach the developer's
// own pages, marked preview, and nobody else's; a save without a change
// in contents pushes nothing, one that changes no bundle stores nothing;
// stopping the watch ends the preview, and so does the server when a
// killed watch stops renewing it.
func TestPushWatchPreview(t *testing.T) {
	bin := buildBinary(t)
	srv := startServer(t, bin, t.TempDir())
	dir := t.TempDir()
	copyDir(t, filepath.Join("..", "..", "docs", "examples", "hello"), dir)
	env := func(user string) []string {
		return append(os.Environ(), "MMTOOLKIT_SERVER="+srv.url, "MMTOOLKIT_USER="+user, "MMTOOLKIT_PASSWORD=mmtoolkit", "MMTOOLKIT_TOKEN=", "MMTOOLKIT_PREVIEW_TTL=2")
	}
	run := func(user string, args ...string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env(user)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run("dev", "push", dir)
	run("alice", "enable", "--team", "engineering", "--plugin", "com.example.hello")
	devToken, bobToken := login(t, srv.url, "dev"), login(t, srv.url, "bob")
	versions := func() int {
		var p struct{ Versions []json.RawMessage }
		getJSON(t, srv.url+"/api/v1/plugins/com.example.hello", devToken, &p)
		return len(p.Versions)
	}

	watch := func() (*exec.Cmd, *syncBuffer) {
		cmd := exec.Command(bin, "push", "--watch", dir)
		cmd.Env = env("dev")
		out := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		// "pushed", or for a second watch over the same sources
		// "unchanged": the server keeps the first build.
		waitFor(t, out, " com.example.hello@1.0.1-dev.", 20*time.Second)
		waitFor(t, out, "preview: your own pages serve each build", 10*time.Second)
		return cmd, out
	}
	cmd, out := watch()
	waitServed(t, srv.url, devToken, "1.0.1-dev.", true, 5*time.Second)
	if v, p := helloServed(t, srv.url, bobToken); v != "1.0.0" || p {
		t.Errorf("bob's manifest serves %q (preview %v) during dev's watch, want 1.0.0", v, p)
	}
	stored := versions()

	// Saved without a change: nothing pushed.
	entry := filepath.Join(dir, "webapp", "index.tsx")
	later := time.Now().Add(time.Minute)
	os.Chtimes(entry, later, later)
	waitFor(t, out, "saved without a change in any file's contents: nothing pushed", 10*time.Second)
	// A file no bundle is built from: pushed, nothing stored.
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("# hello\n"), 0o644)
	waitFor(t, out, "its bundles equal the last build's: nothing stored", 20*time.Second)
	if n := versions(); n != stored {
		t.Errorf("%d versions stored after saves that changed no bundle, want %d", n, stored)
	}
	if v, p := helloServed(t, srv.url, bobToken); v != "1.0.0" || p {
		t.Errorf("bob's manifest serves %q (preview %v), want 1.0.0", v, p)
	}

	// Ctrl-C ends the preview at once.
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Ctrl-C: %v\n%s", err, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("push --watch did not stop on Ctrl-C")
	}
	if !strings.Contains(out.String(), "preview ended") {
		t.Errorf("no \"preview ended\" in:\n%s", out.String())
	}
	if v, p := helloServed(t, srv.url, devToken); v != "1.0.0" || p {
		t.Errorf("dev's manifest serves %q (preview %v) after the watch stopped, want 1.0.0", v, p)
	}

	// A watch killed outright: its lease runs out (TTL 2 s here).
	cmd, _ = watch()
	waitServed(t, srv.url, devToken, "1.0.1-dev.", true, 5*time.Second)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	waitServed(t, srv.url, devToken, "1.0.0", false, 10*time.Second)
}
