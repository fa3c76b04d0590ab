package registry_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

func TestBytecodeFollowsItsSource(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, s testStore) {
		js := []byte("module.exports = 1;")
		v := registrytest.Push(t, s, registry.Pusher{UserID: "dev"}, "p", "1.0.0", []byte("web"), []byte("{}"), js)
		src := v.Artifacts[registry.MobileJS].SHA256

		if got, err := s.Bytecode(ctx, src); err != nil || len(got) != 0 {
			t.Fatalf("before any put (no bucket yet): %v, %v", got, err)
		}
		hbc := []byte("\xc6\x1f\xbc\x03\xc1\x03\x19\x1f\x62\x00\x00\x00rest")
		good := registry.Bytecode{Source: src, BytecodeVersion: 98, Compiler: "hermes 1.0.0",
			Artifact: registry.Artifact{SHA256: registrytest.SHA256(hbc), Size: int64(len(hbc)), ContentType: "application/vnd.facebook.hermes-bytecode"}}

		tests := []struct {
			name string
			bc   registry.Bytecode
			blob []byte
			want error
		}{
			{"unknown source", func() registry.Bytecode { b := good; b.Source = registrytest.SHA256([]byte("x")); return b }(), hbc, registry.ErrBlobNotFound},
			{"blob mismatch", good, []byte("other bytes!!!!!!!!"), registry.ErrInvalid},
			{"no version", func() registry.Bytecode { b := good; b.BytecodeVersion = 0; return b }(), hbc, registry.ErrInvalid},
			{"failure with a blob", registry.Bytecode{Source: src, BytecodeVersion: 97, Error: "bad"}, hbc, registry.ErrInvalid},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if err := s.PutBytecode(ctx, tc.bc, tc.blob); !errors.Is(err, tc.want) {
					t.Fatalf("PutBytecode: %v, want %v", err, tc.want)
				}
			})
		}

		if err := s.PutBytecode(ctx, good, hbc); err != nil {
			t.Fatal(err)
		}
		failed := registry.Bytecode{Source: src, BytecodeVersion: 99, Error: "mobile.js:1:1: hermesc: nope"}
		if err := s.PutBytecode(ctx, failed, nil); err != nil {
			t.Fatal(err)
		}
		got, err := s.Bytecode(ctx, src)
		if err != nil || len(got) != 2 || got[0].BytecodeVersion != 98 || got[1].Error == "" || got[0].CreatedAt.IsZero() {
			t.Fatalf("Bytecode = %+v, %v", got, err)
		}
		if b, err := s.Blob(ctx, good.Artifact.SHA256); err != nil || string(b) != string(hbc) {
			t.Fatalf("bytecode blob: %q %v", b, err)
		}
		all, err := s.AllBytecode(ctx)
		if err != nil || len(all) != 2 {
			t.Fatalf("AllBytecode = %+v, %v", all, err)
		}
		if err := s.Verify(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// A file written before bytecode existed (no bucket) opens and reads.
func TestBytecodeOnOldFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	s, err := registry.Open(path, &registry.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.AllBytecode(context.Background())
	if err != nil || len(all) != 0 {
		t.Fatalf("AllBytecode on a fresh file: %v %v", all, err)
	}
	s.Close()
}
