package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// TestVariantsMissingAtStartAreMade: a store whose bundles have no
// precompressed variants (a restart interrupted the compressor) gets them
// made at the next start.
func TestVariantsMissingAtStartAreMade(t *testing.T) {
	t.Parallel()
	store := registrytest.Open(t)
	js := []byte(strings.Repeat("console.log('a plugin bundle');\n", 100))
	h := sha256.Sum256(js)
	sha := hex.EncodeToString(h[:])
	v := &registry.Version{PluginID: "com.example.old", Version: "1.0.0", PackageSHA256: sha,
		Artifacts: map[string]registry.Artifact{registry.WebJS: {SHA256: sha, Size: int64(len(js)), ContentType: "text/javascript; charset=utf-8"}}}
	v.Manifest.ID, v.Manifest.Name, v.Manifest.Version = "com.example.old", "Old", "1.0.0"
	if _, err := store.PutVersion(context.Background(), v, map[string][]byte{sha: js}, registry.Pusher{UserID: "dev"}); err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Open(filepath.Join(t.TempDir(), "sandbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	srv, err := server.New(store, sb, server.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	for deadline := time.Now().Add(10 * time.Second); !srv.Idle(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("compressor never finished")
		}
	}
	req, _ := http.NewRequest("GET", hs.URL+"/bundles/"+sha+".js", nil)
	req.Header.Set("Accept-Encoding", "br")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "br" {
		t.Fatalf("after restart: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	all, _ := store.AllEncodings(context.Background())
	if _, ok := all[sha]["gzip"]; !ok {
		t.Fatalf("variants not persisted: %v", all)
	}
}
