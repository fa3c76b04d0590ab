package server_test

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// bigPlugin is helloPlugin with about 300 KB of incompressible data in its
// web bundle, so both the bundle and its gzip variant are served from files.
func bigPlugin(t *testing.T, id, version string) map[string]string {
	t.Helper()
	files := helloPlugin(id, version)
	noise := make([]byte, 150<<10)
	rand.Read(noise)
	files["webapp/index.tsx"] += "\n(window as any).__noise = '" + hex.EncodeToString(noise) + "';\n"
	return files
}

func TestBundlesFromFiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "blobs")
	e := newEnv(t, server.Config{BlobFiles: dir})
	r := e.push("dev", bigPlugin(t, "com.example.big", "1.0.0"))
	if r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	url := r.json(t)["bundles"].(map[string]any)["web"].(map[string]any)["url"].(string)
	sha := strings.TrimSuffix(strings.TrimPrefix(url, "/bundles/"), ".js")
	e.waitIdle() // the gzip and brotli variants

	// The first answers come from memory and leave files behind. (Without
	// an Accept-Encoding, Go's transport would ask for gzip.)
	plainMem := e.do("", "GET", url, "", nil, "Accept-Encoding", "identity")
	gzMem := e.do("", "GET", url, "", nil, "Accept-Encoding", "gzip")
	e.waitIdle()
	if e.srv.BlobFilesSent() != 0 {
		t.Fatalf("%d answers from files before any file existed", e.srv.BlobFilesSent())
	}
	if data, err := os.ReadFile(filepath.Join(dir, sha)); err != nil || !bytes.Equal(data, plainMem.body) {
		t.Fatalf("no file with the bundle's bytes for %s: %v", sha, err)
	}

	plain := e.do("", "GET", url, "", nil, "Accept-Encoding", "identity")
	gz := e.do("", "GET", url, "", nil, "Accept-Encoding", "gzip")
	head := e.do("", "HEAD", url, "", nil, "Accept-Encoding", "gzip")
	if got := e.srv.BlobFilesSent(); got != 3 {
		t.Fatalf("answers from files: %d, want 3", got)
	}
	for _, c := range []struct {
		name     string
		mem, fil response
	}{{"identity", plainMem, plain}, {"gzip", gzMem, gz}} {
		if c.fil.status != 200 || !bytes.Equal(c.fil.body, c.mem.body) {
			t.Errorf("%s from a file: %d, %d bytes, want the %d bytes served from memory", c.name, c.fil.status, len(c.fil.body), len(c.mem.body))
		}
		for _, h := range []string{"Content-Length", "Content-Encoding", "Content-Type", "Etag", "Cache-Control", "Vary", "Access-Control-Allow-Origin"} {
			if c.fil.header.Get(h) != c.mem.header.Get(h) {
				t.Errorf("%s %s: %q from a file, %q from memory", c.name, h, c.fil.header.Get(h), c.mem.header.Get(h))
			}
		}
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.body))
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := io.ReadAll(zr); !bytes.Equal(data, plain.body) {
		t.Error("the gzip file does not decode to the bundle")
	}
	if head.status != 200 || len(head.body) != 0 || head.header.Get("Content-Length") != gz.header.Get("Content-Length") {
		t.Errorf("HEAD: %d, %d body bytes, Content-Length %q", head.status, len(head.body), head.header.Get("Content-Length"))
	}

	// A file deleted under the server: the bundle is served from memory and
	// its file written again.
	if err := os.Remove(filepath.Join(dir, sha)); err != nil {
		t.Fatal(err)
	}
	if again := e.do("", "GET", url, "", nil, "Accept-Encoding", "identity"); again.status != 200 || !bytes.Equal(again.body, plain.body) {
		t.Fatalf("after the file was deleted: %d, %d bytes", again.status, len(again.body))
	}
	e.do("", "GET", url, "", nil, "Accept-Encoding", "identity") // from memory, asking for the file again
	e.waitIdle()
	if _, err := os.Stat(filepath.Join(dir, sha)); err != nil {
		t.Errorf("the file was not written again: %v", err)
	}
}

func TestBlobFilesDropStaleFilesAtStart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "blobs")
	e := newEnv(t, server.Config{BlobFiles: dir})
	r := e.push("dev", bigPlugin(t, "com.example.big", "1.0.0"))
	url := r.json(t)["bundles"].(map[string]any)["web"].(map[string]any)["url"].(string)
	sha := strings.TrimSuffix(strings.TrimPrefix(url, "/bundles/"), ".js")
	e.waitIdle()
	want := e.do("", "GET", url, "", nil, "Accept-Encoding", "identity").body
	e.waitIdle()
	e.srv.Close()

	// What a crash and an operator can leave: a file cut short, a temporary
	// file, a file of no known blob.
	os.WriteFile(filepath.Join(dir, sha), want[:1000], 0o644)
	os.WriteFile(filepath.Join(dir, ".tmp-123"), want, 0o644)
	os.WriteFile(filepath.Join(dir, strings.Repeat("a", 64)), []byte("x"), 0o644)
	srv, err := server.New(e.store, nil, server.Config{BlobFiles: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		var names []string
		for _, f := range left {
			names = append(names, f.Name())
		}
		t.Errorf("stale files kept: %v", names)
	}
}
