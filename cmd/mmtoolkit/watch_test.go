package main

import (
	"bytes"
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
// file:line:col and keeps watching, and pushes the fixed save.
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
	os.WriteFile(entry, good, 0o644)
	for deadline := time.Now().Add(10 * time.Second); strings.Count(out.String(), "pushed com.example.hello@1.0.1-dev.") < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("fixed save not pushed:\n%s", out.String())
		}
	}

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
