package main

import (
	"bufio"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestUpstreamMode runs two servers: A in sandbox mode stands in for a real
// Mattermost, and B fronts it with --upstream. Everything a user does on B
// (log in, push, enable, read manifests, API v4) must work with identity,
// teams and roles that come from A over HTTP, exactly as against Mattermost.
func TestUpstreamMode(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "mmtoolkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	a := startServer(t, bin, t.TempDir())
	b := startServerArgs(t, bin, "--data", t.TempDir(), "--upstream", a.url)

	// Login and API v4 pass through to the upstream.
	bob := login(t, b.url, "bob")
	var me struct{ Username string }
	getJSON(t, b.url+"/api/v4/users/me", bob, &me)
	if me.Username != "bob" {
		t.Fatalf("users/me through the proxy: %+v", me)
	}

	cli := func(user string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(cmd.Environ(), "MMTOOLKIT_SERVER="+b.url, "MMTOOLKIT_USER="+user, "MMTOOLKIT_PASSWORD=mmtoolkit", "MMTOOLKIT_TOKEN=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	example := filepath.Join("..", "..", "docs", "examples", "hello")
	if out, err := cli("dev", "push", example); err != nil || !strings.Contains(out, "pushed com.example.hello@1.0.0") {
		t.Fatalf("push through upstream identity: %v %s", err, out)
	}
	// Roles come from the upstream: bob is a member, alice the team admin.
	if out, err := cli("bob", "enable", "--team", "engineering", "--plugin", "com.example.hello"); err == nil || !strings.Contains(out, "not_team_admin") {
		t.Fatalf("bob enabled: %v %s", err, out)
	}
	if out, err := cli("alice", "enable", "--team", "engineering", "--plugin", "com.example.hello"); err != nil {
		t.Fatalf("alice enable: %v %s", err, out)
	}
	var m struct{ Plugins []struct{ ID string } }
	getJSON(t, b.url+"/api/v1/manifest?team=engineering", bob, &m)
	if len(m.Plugins) != 1 {
		t.Fatalf("bob's manifest via upstream identity: %+v", m)
	}
	carol := login(t, b.url, "carol")
	req, _ := http.NewRequest("GET", b.url+"/api/v1/manifest?team=engineering", nil)
	req.Header.Set("Authorization", "Bearer "+carol)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 4 {
		t.Fatalf("carol read engineering's manifest through B: %d", resp.StatusCode)
	}
	// A bad token is refused by the upstream's judgement.
	req, _ = http.NewRequest("GET", b.url+"/api/v1/plugins", nil)
	req.Header.Set("Authorization", "Bearer nope")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad token: %d", resp.StatusCode)
	}

	// The upstream goes away: a clear 502, and no hang.
	a.kill(t)
	req, _ = http.NewRequest("GET", b.url+"/api/v4/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+bob)
	start := time.Now()
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "upstream_unavailable") || time.Since(start) > 5*time.Second {
		t.Fatalf("upstream down: %d %s after %v", resp.StatusCode, body, time.Since(start))
	}
}

// startServerArgs starts `serve --addr 127.0.0.1:0` with more flags,
// without the reference plugins unless args ask for them (the last
// --reference-plugins wins).
func startServerArgs(t *testing.T, bin string, args ...string) *serverProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--reference-plugins=false"}, args...)...)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	re := regexp.MustCompile(`serving on (http://\S+)`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, stdout)
			return &serverProc{cmd: cmd, url: m[1]}
		}
	}
	t.Fatal("server did not print its URL")
	return nil
}
