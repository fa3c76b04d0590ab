package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/mattermosttest"
)

// TestServerPartE2E: `serve --upstream` in front of a stand-in Mattermost
// with its plugin API, and `push` of a Mattermost archive as make dist
// builds it. A system admin's push installs the server part and the
// command says so; a developer's push needs --upstream-admin-token, which
// is never printed.
func TestServerPartE2E(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "mmtoolkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	mm := mattermosttest.New(t)
	plugins := mattermosttest.PluginAdmin(mm)
	admin := mm.Token(mm.AddUser("admin", "system_user system_admin"))
	dev := mm.Token(mm.AddUser("dev", ""))
	operator := mm.Token(mm.AddUser("operator", "system_user system_admin"))

	archive := filepath.Join(t.TempDir(), "com.example.serverpart-1.0.0.tar.gz")
	writeFixtureArchive(t, filepath.Join("..", "..", "server", "testdata", "serverpart"), archive, "com.example.serverpart")
	push := func(url, token string) (string, error) {
		cmd := exec.Command(bin, "push", archive)
		cmd.Env = append(cmd.Environ(), "MMTOOLKIT_SERVER="+url, "MMTOOLKIT_TOKEN="+token, "MMTOOLKIT_USER=", "MMTOOLKIT_PASSWORD=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	// Without an admin token, a developer's push stores nothing.
	a := startServerArgs(t, bin, "--data", t.TempDir(), "--upstream", mm.URL())
	if out, err := push(a.url, dev); err == nil || !strings.Contains(out, "upstream_admin_required") {
		t.Fatalf("developer's push without an admin token: %v\n%s", err, out)
	}
	out, err := push(a.url, admin)
	if err != nil || !strings.Contains(out, "server part (") || !strings.Contains(out, "installed and enabled on Mattermost") {
		t.Fatalf("admin's push: %v\n%s", err, out)
	}
	if p, ok := mm.Plugin("com.example.serverpart"); !ok || !p.Enabled || p.Manifest.Version != "1.0.0" {
		t.Fatalf("Mattermost has %+v (%v)", p, ok)
	}

	// With the operator's token (from the environment), a developer's push
	// of another id installs it; the token is printed nowhere.
	mm.RemovePlugin("com.example.serverpart")
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--reference-plugins=false", "--data", t.TempDir(), "--upstream", mm.URL())
	cmd.Env = append(cmd.Environ(), "MMTOOLKIT_UPSTREAM_ADMIN_TOKEN="+operator)
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	var url, banner string
	for url == "" && sc.Scan() {
		banner += sc.Text() + "\n"
		if m := regexp.MustCompile(`serving on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
		}
	}
	for !strings.Contains(banner, "server parts of pushed plugins") && sc.Scan() { // the mode lines follow
		banner += sc.Text() + "\n"
	}
	go io.Copy(io.Discard, stdout)
	if url == "" || !strings.Contains(banner, "operator's admin token") {
		t.Fatalf("start-up:\n%s", banner)
	}
	out, err = push(url, dev)
	if err != nil || !strings.Contains(out, "installed and enabled on Mattermost") {
		t.Fatalf("developer's push with the operator's token: %v\n%s", err, out)
	}
	if strings.Contains(banner+out+stderr.String(), operator) {
		t.Error("the operator's token was printed")
	}
	if calls := plugins.Calls(); len(calls) == 0 {
		t.Error("no plugin API calls")
	}
}

// writeFixtureArchive archives dir as the starter template's make dist
// does: one top-level directory named id, server/dist executable.
func writeFixtureArchive(t *testing.T, dir, out, id string) {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "README.md" || strings.HasPrefix(rel, "webapp/src/") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		mode := int64(0o644)
		if strings.HasPrefix(rel, "server/dist/") {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: id + "/" + rel, Mode: mode, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}
