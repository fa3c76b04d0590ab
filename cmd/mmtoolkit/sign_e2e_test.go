package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/mobile"
)

// TestSignPackPushEndToEnd drives the CLI the way a publisher and an
// operator do: keygen a package key, trust it on a server, sign a plugin
// directory, pack it (twice: the same bytes; pack --key gives them too),
// push the one .tar.gz, and get the level back. Then the failures: a file
// changed after signing, a key the server does not trust, a version below
// the server's minimum. Finally the same archive pushed to a second, fresh
// server reproduces every bundle byte for byte.
func TestSignPackPushEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Setenv("MMTOOLKIT_REFERENCE_PLUGINS", "false") // not needed here; faster start
	bin := filepath.Join(t.TempDir(), "mmtoolkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(server, user string, args ...string) (string, string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "MMTOOLKIT_SERVER="+server, "MMTOOLKIT_USER="+user, "MMTOOLKIT_PASSWORD=mmtoolkit", "MMTOOLKIT_TOKEN=", "MMTOOLKIT_SIGNING_KEY=")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	must := func(out, errOut string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatalf("%v\nstdout: %s\nstderr: %s", err, out, errOut)
		}
		return out
	}

	// Keys: the certifier's (trusted) and a stranger's.
	keys, stranger := t.TempDir(), t.TempDir()
	out := must(run("", "", "keygen", "--purpose", "package", "-o", keys))
	key, pub := filepath.Join(keys, packageKeyFile), filepath.Join(keys, packagePubKeyFile)
	priv, err := mobile.ReadKey(key)
	if err != nil {
		t.Fatal(err)
	}
	fp := pluginpkg.KeyFingerprint(priv.Public().(ed25519.PublicKey))
	if !strings.Contains(out, fp) || !strings.Contains(out, "--trust certified="+pub) {
		t.Errorf("keygen output does not say how to use the key: %s", out)
	}
	must(run("", "", "keygen", "--purpose", "package", "-o", stranger))

	srv := startServerArgs(t, bin, "--data", t.TempDir(), "--trust", "certified="+pub, "--min-certification", "community")

	// sign DIR writes DIR/plugin.sig; pack carries it, deterministically.
	dir := t.TempDir()
	copyDir(t, filepath.Join("..", "..", "docs", "examples", "hello"), dir)
	out = must(run("", "", "sign", dir, "--key", key))
	if !strings.Contains(out, "signed com.example.hello@1.0.0") || !strings.Contains(out, fp) {
		t.Errorf("sign output: %s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, pluginpkg.SignatureFile)); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	a, b := filepath.Join(work, "a.tar.gz"), filepath.Join(work, "b.tar.gz")
	must(run("", "", "pack", dir, "-o", a))
	must(run("", "", "pack", "-o", b, dir))
	archive, _ := os.ReadFile(a)
	if again, _ := os.ReadFile(b); !bytes.Equal(archive, again) || len(archive) == 0 {
		t.Fatal("pack twice: different bytes")
	}
	// pack --key on an unsigned copy gives the very same archive.
	unsigned := t.TempDir()
	copyDir(t, filepath.Join("..", "..", "docs", "examples", "hello"), unsigned)
	c := filepath.Join(work, "c.tar.gz")
	must(run("", "", "pack", unsigned, "--key", key, "-o", c))
	if withKey, _ := os.ReadFile(c); !bytes.Equal(archive, withKey) {
		t.Error("pack --key and sign-then-pack give different archives")
	}
	pkg, err := pluginpkg.ReadArchive(bytes.NewReader(archive), pluginpkg.Limits{}, nil)
	if err != nil || pkg.Signature == nil {
		t.Fatalf("the packed archive carries no signature: %v", err)
	}

	// push the one file: stored as certified.
	out = must(run(srv.url, "dev", "push", a))
	if !strings.Contains(out, "pushed com.example.hello@1.0.0 (certified, key "+fp+")") {
		t.Errorf("push output: %s", out)
	}

	// The signed directory pushed as it is: the same package, same level.
	if out := must(run(srv.url, "dev", "push", dir)); !strings.Contains(out, "unchanged (identical content already pushed): com.example.hello@1.0.0 (certified, key "+fp+")") {
		t.Errorf("push of the signed directory: %s", out)
	}

	// A file changed after signing: pack refuses the stale signature, and
	// a push of the directory is refused by the server.
	bump(t, dir, "1.0.1")
	if _, errOut, err := run("", "", "pack", dir, "-o", filepath.Join(work, "stale.tar.gz")); err == nil || !strings.Contains(errOut, "no longer matches") {
		t.Errorf("pack with a stale plugin.sig: %v %s", err, errOut)
	}
	if _, errOut, err := run(srv.url, "dev", "push", dir); err == nil || !strings.Contains(errOut, "signature_mismatch") {
		t.Errorf("push of a changed, signed directory: %v %s", err, errOut)
	}

	// A key the server does not trust (detached, beside the archive).
	bump(t, unsigned, "1.0.2")
	d := filepath.Join(work, "d.tar.gz")
	must(run("", "", "pack", unsigned, "-o", d))
	must(run("", "", "sign", d, "--key", filepath.Join(stranger, packageKeyFile)))
	if _, errOut, err := run(srv.url, "dev", "push", d); err == nil || !strings.Contains(errOut, "signature_untrusted_key") {
		t.Errorf("push signed by an untrusted key: %v %s", err, errOut)
	}
	// --signature picks another detached signature: the trusted one.
	good := filepath.Join(work, "d.good.sig")
	must(run("", "", "sign", d, "--key", key, "-o", good))
	if out := must(run(srv.url, "dev", "push", d, "--signature", good)); !strings.Contains(out, "(certified, key ") {
		t.Errorf("push --signature: %s", out)
	}

	// Below the minimum (community): an unsigned version is stored as
	// unverified, and enabling it is refused.
	bump(t, unsigned, "1.0.3")
	e := filepath.Join(work, "e.tar.gz")
	must(run("", "", "pack", unsigned, "-o", e))
	if out := must(run(srv.url, "dev", "push", e)); !strings.Contains(out, "(unverified)") {
		t.Errorf("unsigned push: %s", out)
	}
	if _, errOut, err := run(srv.url, "alice", "enable", "--team", "engineering", "--plugin", "com.example.hello", "--version", "1.0.3"); err == nil || !strings.Contains(errOut, "certification_too_low") {
		t.Errorf("enable an unverified version under min community: %v %s", err, errOut)
	}
	must(run(srv.url, "alice", "enable", "--team", "engineering", "--plugin", "com.example.hello", "--version", "1.0.0"))

	// The same archive on a second, fresh server: the same bundles.
	other := startServerArgs(t, bin, "--data", t.TempDir())
	if _, errOut, err := run(other.url, "dev", "push", a); err == nil || !strings.Contains(errOut, "signature_untrusted_key") {
		t.Errorf("a server that trusts no key accepted a signed package: %v %s", err, errOut)
	}
	other = startServerArgs(t, bin, "--data", t.TempDir(), "--trust", "community="+pub)
	if out := must(run(other.url, "dev", "push", a)); !strings.Contains(out, "(community, key ") {
		t.Errorf("second server: %s", out)
	}
	first, second := bundleHashes(t, srv.url, "1.0.0"), bundleHashes(t, other.url, "1.0.0")
	for _, kind := range []string{"web", "web_map", "mobile", "mobile_map"} {
		if first[kind] == "" || first[kind] != second[kind] {
			t.Errorf("%s: %s on the first server, %s on the second", kind, first[kind], second[kind])
		}
	}
	t.Logf("reproduced on a fresh server: %v", first)
}

// bump rewrites the version in dir/plugin.json.
func bump(t *testing.T, dir, version string) {
	t.Helper()
	mf := filepath.Join(dir, "plugin.json")
	raw, _ := os.ReadFile(mf)
	raw = regexp.MustCompile(`"version":\s*"[^"]*"`).ReplaceAll(raw, []byte(`"version": "`+version+`"`))
	if err := os.WriteFile(mf, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// bundleHashes fetches every bundle of a version from a server and returns
// the SHA-256 of the bytes served, by kind, after checking each against the
// hash the API reports.
func bundleHashes(t *testing.T, url, version string) map[string]string {
	t.Helper()
	token := login(t, url, "dev")
	var detail struct {
		Versions []struct {
			Version string
			Bundles map[string]struct {
				URL, SHA256 string
				Pending     bool
			}
		}
	}
	// A first push's source maps are built after its answer: wait for them.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		getJSON(t, url+"/api/v1/plugins/com.example.hello", token, &detail)
		pending := false
		for _, v := range detail.Versions {
			for _, b := range v.Bundles {
				pending = pending || b.Pending
			}
		}
		if !pending || time.Now().After(deadline) {
			break
		}
	}
	out := map[string]string{}
	for _, v := range detail.Versions {
		if v.Version != version {
			continue
		}
		for kind, b := range v.Bundles {
			sum := sha256.Sum256(get(t, url+b.URL, ""))
			if got := hex.EncodeToString(sum[:]); got != b.SHA256 {
				t.Errorf("%s %s: served bytes hash to %s, API says %s", url, kind, got, b.SHA256)
			}
			out[kind] = b.SHA256
		}
	}
	return out
}
