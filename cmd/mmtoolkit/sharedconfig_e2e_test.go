package main

import (
	"crypto/ed25519"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/internal/pgtest"
	"github.com/mmtoolkit/mmtoolkit/mobile"
)

// TestReplicasSignWithOneMobileKey: two `serve --store postgres://`
// replicas, each with a data directory (and so a mobile key file) of its
// own, sign mobile manifests with one key, the one the first stored; apps
// that pinned it accept either replica's answer.
func TestReplicasSignWithOneMobileKey(t *testing.T) {
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
	dataA, dataB := t.TempDir(), t.TempDir()
	a := startServerArgs(t, bin, "--data", dataA, "--store", dsn)
	b := startServerArgs(t, bin, "--data", dataB, "--store", dsn)

	keyID := func(url string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", url+"/api/v1/mobile/manifest?team=engineering&platform=ios&runtime=1.0.0", nil)
		req.Header.Set("Authorization", "Bearer "+login(t, url, "bob"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("mobile manifest from %s: %d", url, resp.StatusCode)
		}
		return resp.Header.Get(mobile.KeyIDHeader)
	}
	fileKeyID := func(data string) string {
		t.Helper()
		k, err := mobile.ReadKey(filepath.Join(data, mobile.DefaultKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		return mobile.KeyID(k.Public().(ed25519.PublicKey))
	}
	idA, idB := keyID(a.url), keyID(b.url)
	if idA == "" || idA != idB {
		t.Fatalf("replicas sign with keys %q and %q, want one", idA, idB)
	}
	if own := fileKeyID(dataB); own == idB {
		t.Fatalf("the second replica's own key file has the shared key's id %s: the test shows nothing", own)
	}
	if first := fileKeyID(dataA); first != idA {
		t.Errorf("the shared key is %s, the first replica's file has %s", idA, first)
	}
}
