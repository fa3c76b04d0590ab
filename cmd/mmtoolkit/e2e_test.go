package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// TestEndToEnd builds the binary, serves on loopback with a temp data dir,
// pushes with the CLI, reads manifests as members of two teams, checks the
// bundle against its integrity, then SIGKILLs the server during a burst of
// pushes and finds every stored version complete after a restart.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "mmtoolkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := t.TempDir()
	srv := startServer(t, bin, data)

	cli := func(user string, args ...string) (string, string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "MMTOOLKIT_SERVER="+srv.url, "MMTOOLKIT_USER="+user, "MMTOOLKIT_PASSWORD=mmtoolkit", "MMTOOLKIT_TOKEN=")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}

	example := filepath.Join("..", "..", "docs", "examples", "hello")
	out, errOut, err := cli("dev", "push", example)
	if err != nil || !strings.Contains(out, "pushed com.example.hello@1.0.0") {
		t.Fatalf("push: %v\n%s\n%s", err, out, errOut)
	}
	if out, errOut, err := cli("bob", "enable", "--team", "engineering", "--plugin", "com.example.hello"); err == nil {
		t.Fatalf("bob (not a team admin) enabled a plugin: %s %s", out, errOut)
	} else if !strings.Contains(errOut, "not_team_admin") {
		t.Errorf("bob's error does not say why: %s", errOut)
	}
	if out, errOut, err := cli("alice", "enable", "--team", "engineering", "--plugin", "com.example.hello"); err != nil ||
		!strings.Contains(out, "enabled for team engineering") {
		t.Fatalf("enable: %v\n%s\n%s", err, out, errOut)
	}
	if out, _, err := cli("bob", "teams"); err != nil || !strings.Contains(out, "com.example.hello@1.0.0") {
		t.Errorf("teams: %v %s", err, out)
	}

	bob, carol := login(t, srv.url, "bob"), login(t, srv.url, "carol")
	var m struct {
		Plugins []struct {
			ID     string
			Bundle struct{ URL, Integrity string }
		}
	}
	getJSON(t, srv.url+"/api/v1/manifest?team=engineering&platform=web", bob, &m)
	if len(m.Plugins) != 1 || m.Plugins[0].ID != "com.example.hello" {
		t.Fatalf("engineering manifest: %+v", m)
	}
	bundle := get(t, srv.url+m.Plugins[0].Bundle.URL, "")
	sum := sha256.Sum256(bundle)
	if got := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); got != m.Plugins[0].Bundle.Integrity {
		t.Fatalf("bundle integrity %s, manifest says %s", got, m.Plugins[0].Bundle.Integrity)
	}
	var sales struct{ Plugins []any }
	getJSON(t, srv.url+"/api/v1/manifest?team=sales&platform=web", carol, &sales)
	if len(sales.Plugins) != 0 {
		t.Fatalf("sales sees engineering's plugin: %+v", sales)
	}

	// A compile error prints file:line:col and exits 1.
	broken := t.TempDir()
	copyDir(t, example, broken)
	os.WriteFile(filepath.Join(broken, "webapp", "index.tsx"), []byte("import React from 'react';\nconst x = 1 +;\n"), 0o644)
	raw, _ := os.ReadFile(filepath.Join(broken, "plugin.json"))
	os.WriteFile(filepath.Join(broken, "plugin.json"), regexp.MustCompile(`"version":\s*"[^"]*"`).ReplaceAll(raw, []byte(`"version": "1.0.9"`)), 0o644)
	_, errOut, err = cli("dev", "push", broken)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !regexp.MustCompile(`webapp/index\.tsx:2:\d+: `).MatchString(errOut) {
		t.Fatalf("compile error: %v\n%s", err, errOut)
	}

	// A burst of pushes, killed in the middle.
	devToken := login(t, srv.url, "dev")
	archives := make([][]byte, 40)
	for i := range archives {
		archives[i] = packVersion(t, bin, example, fmt.Sprintf("1.1.%d", i))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]bool{}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(archives); i += 4 {
				req, _ := http.NewRequest("POST", srv.url+"/api/v1/plugins", bytes.NewReader(archives[i]))
				req.Header.Set("Authorization", "Bearer "+devToken)
				req.Header.Set("Content-Type", "application/gzip")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the server was killed
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					mu.Lock()
					acked[fmt.Sprintf("1.1.%d", i)] = true
					mu.Unlock()
				}
			}
		}(w)
	}
	time.Sleep(150 * time.Millisecond)
	srv.kill(t)
	wg.Wait()

	// The store opens and is consistent on its own...
	st, err := registry.Open(filepath.Join(data, "registry.db"), nil)
	if err != nil {
		t.Fatalf("store after SIGKILL: %v", err)
	}
	if err := st.Verify(context.Background()); err != nil {
		t.Fatalf("store after SIGKILL: %v", err)
	}
	st.Close()

	// ...and the restarted server serves every version, complete.
	srv = startServer(t, bin, data)
	devToken = login(t, srv.url, "dev")
	var detail struct {
		Versions []struct {
			Version string
			Bundles map[string]struct{ URL, SHA256 string }
		}
	}
	getJSON(t, srv.url+"/api/v1/plugins/com.example.hello", devToken, &detail)
	stored := map[string]bool{}
	for _, v := range detail.Versions {
		stored[v.Version] = true
		for kind, b := range v.Bundles {
			body := get(t, srv.url+b.URL, "")
			if s := sha256.Sum256(body); fmt.Sprintf("%x", s) != b.SHA256 {
				t.Errorf("%s %s: served bytes do not match their hash", v.Version, kind)
			}
		}
		if _, ok := v.Bundles["web"]; !ok {
			t.Errorf("version %s has no web bundle", v.Version)
		}
	}
	for v := range acked {
		if !stored[v] {
			t.Errorf("version %s was acknowledged (201) but is gone after the restart", v)
		}
	}
	t.Logf("burst: %d pushes acknowledged before SIGKILL, %d versions stored", len(acked), len(stored)-1)
}

type serverProc struct {
	cmd *exec.Cmd
	url string
}

func startServer(t *testing.T, bin, data string) *serverProc {
	t.Helper()
	return startServerArgs(t, bin, "--data", data)
}

func (p *serverProc) kill(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

func login(t *testing.T, url, user string) string {
	t.Helper()
	resp, err := http.Post(url+"/api/v4/users/login", "application/json",
		strings.NewReader(`{"login_id":"`+user+`","password":"mmtoolkit"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("login %s: %v %v", user, err, resp)
	}
	resp.Body.Close()
	return resp.Header.Get("Token")
}

func get(t *testing.T, url, token string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return body
}

func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	if err := json.Unmarshal(get(t, url, token), v); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// packVersion packs a copy of dir with another version, with the CLI.
func packVersion(t *testing.T, bin, dir, version string) []byte {
	t.Helper()
	tmp := t.TempDir()
	copyDir(t, dir, tmp)
	mf := filepath.Join(tmp, "plugin.json")
	raw, _ := os.ReadFile(mf)
	raw = regexp.MustCompile(`"version":\s*"[^"]*"`).ReplaceAll(raw, []byte(`"version": "`+version+`"`))
	os.WriteFile(mf, raw, 0o644)
	out := filepath.Join(t.TempDir(), "p.tar.gz")
	if b, err := exec.Command(bin, "pack", "-o", out, tmp).CombinedOutput(); err != nil {
		t.Fatalf("pack: %v %s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
