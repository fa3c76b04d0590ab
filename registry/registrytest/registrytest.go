// Package registrytest builds real registry stores and valid versions for
// tests of registry and of the packages that use it.
package registrytest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/internal/pgtest"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Open returns a store on a real bbolt file in t.TempDir(), closed by
// t.Cleanup. It skips fsync: a test process that dies loses its temp dir
// anyway.
func Open(t testing.TB) *registry.Bolt {
	t.Helper()
	return OpenOptions(t, &registry.Options{NoSync: true})
}

// OpenOptions is Open with options, e.g. a fixed Clock for golden output.
func OpenOptions(t testing.TB, opts *registry.Options) *registry.Bolt {
	t.Helper()
	path := filepath.Join(t.TempDir(), "registry.db")
	s, err := registry.Open(path, opts)
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("registrytest: %v", err)
		}
	})
	return s
}

// OpenPostgres returns a store on a fresh database of the test binary's
// throwaway PostgreSQL cluster (internal/pgtest: started on first use; the
// package's TestMain must call pgtest.Main), closed and dropped by
// t.Cleanup. Without PostgreSQL it skips t, or fails it under CI=true.
func OpenPostgres(t testing.TB) *registry.Postgres {
	t.Helper()
	return OpenPostgresOptions(t, nil)
}

// OpenPostgresOptions is OpenPostgres with options (NoSync and LockTimeout
// are bbolt's and ignored).
func OpenPostgresOptions(t testing.TB, opts *registry.Options) *registry.Postgres {
	t.Helper()
	return OpenPostgresDSN(t, pgtest.DB(t), opts)
}

// OpenPostgresDSN is OpenPostgresOptions on a database the test made
// itself (pgtest.DB, a cluster's pgtest.New), for tests that open several
// stores on one database or also connect to it: the store is closed by
// t.Cleanup, before the database's own clean-up registered earlier.
func OpenPostgresDSN(t testing.TB, dsn string, opts *registry.Options) *registry.Postgres {
	t.Helper()
	s, err := registry.OpenPostgres(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("registrytest: %v", err)
		}
	})
	return s
}

// artifactKinds is the order in which Version turns blobs into artifacts.
var artifactKinds = []string{registry.WebJS, registry.WebMap, registry.MobileJS, registry.MobileMap, registry.MobileHermes}

var contentTypes = map[string]string{
	registry.WebJS:        "text/javascript; charset=utf-8",
	registry.WebMap:       "application/json",
	registry.MobileJS:     "text/javascript; charset=utf-8",
	registry.MobileMap:    "application/json",
	registry.MobileHermes: "application/octet-stream",
}

// Version builds a valid version of plugin id and the blobs (SHA-256 hex ->
// bytes) PutVersion needs for it. blobs become the artifacts web.js, web.map,
// mobile.js, mobile.map and mobile.hbc in that order; with none, web.js is a
// small bundle calling window.registerPlugin(id). Every artifact gets a gzip
// encoding. The result is deterministic, so building it twice with the same
// arguments gives an idempotent re-push and other blobs a conflict.
func Version(id, version string, blobs ...[]byte) (*registry.Version, map[string][]byte) {
	if len(blobs) == 0 {
		blobs = [][]byte{[]byte(fmt.Sprintf("window.registerPlugin(%q, {initialize() {}});\n", id))}
	}
	if len(blobs) > len(artifactKinds) {
		panic(fmt.Sprintf("registrytest.Version: %d blobs, at most %d artifact kinds", len(blobs), len(artifactKinds)))
	}
	m := pluginpkg.Manifest{
		ID:      id,
		Name:    id,
		Version: version,
		Webapp:  &pluginpkg.Webapp{Entry: "webapp/index.tsx"},
	}
	if len(blobs) > 2 {
		m.Mobile = &pluginpkg.Mobile{Entry: "mobile/index.tsx"}
	}
	raw, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	v := &registry.Version{
		PluginID:    id,
		Version:     version,
		Manifest:    m,
		RawManifest: raw,
		Artifacts:   map[string]registry.Artifact{},
	}
	out := map[string][]byte{}
	pkg := sha256.New()
	fmt.Fprintf(pkg, "%s\x00%s\x00", id, version)
	for i, data := range blobs {
		kind := artifactKinds[i]
		gz := Gzip(data)
		a := registry.Artifact{
			SHA256:       SHA256(data),
			Size:         int64(len(data)),
			ContentType:  contentTypes[kind],
			Encodings:    map[string]string{"gzip": SHA256(gz)},
			EncodedSizes: map[string]int64{"gzip": int64(len(gz))},
		}
		v.Artifacts[kind] = a
		out[a.SHA256] = data
		out[a.Encodings["gzip"]] = gz
		fmt.Fprintf(pkg, "%s=%s\x00", kind, a.SHA256)
	}
	v.PackageSHA256 = hex.EncodeToString(pkg.Sum(nil))
	return v, out
}

// Push builds a version with Version and stores it as by, failing the test
// on error.
func Push(t testing.TB, s registry.Store, by registry.Pusher, id, version string, blobs ...[]byte) *registry.Version {
	t.Helper()
	v, b := Version(id, version, blobs...)
	res, err := s.PutVersion(context.Background(), v, b, by)
	if err != nil {
		t.Fatalf("registrytest: push: %v", err)
	}
	return res.Version
}

// SHA256 is the key the registry stores data under.
func SHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Gzip compresses data deterministically (no name, no modification time).
func Gzip(data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}
