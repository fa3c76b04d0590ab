package registry_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

func TestEncodingsFollowTheirBlob(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, s testStore) {
		v := registrytest.Push(t, s, registry.Pusher{UserID: "dev"}, "p", "1.0.0", []byte("console.log(1)"))
		sha := v.Artifacts[registry.WebJS].SHA256
		gz := registrytest.Gzip([]byte("console.log(1)"))
		enc := map[string]registry.Encoded{"gzip": {SHA256: registrytest.SHA256(gz), Size: int64(len(gz))}}

		if err := s.PutEncodings(ctx, registrytest.SHA256([]byte("nope")), enc, map[string][]byte{enc["gzip"].SHA256: gz}); !errors.Is(err, registry.ErrBlobNotFound) {
			t.Fatalf("encodings of a missing blob: %v", err)
		}
		if err := s.PutEncodings(ctx, sha, enc, map[string][]byte{enc["gzip"].SHA256: []byte("other")}); !errors.Is(err, registry.ErrBlobMismatch) {
			t.Fatalf("mismatched variant: %v", err)
		}
		if err := s.PutEncodings(ctx, sha, enc, map[string][]byte{enc["gzip"].SHA256: gz}); err != nil {
			t.Fatal(err)
		}
		all, err := s.AllEncodings(ctx)
		if err != nil || all[sha]["gzip"] != enc["gzip"] {
			t.Fatalf("all encodings: %v %v", all, err)
		}
		got, err := s.Blob(ctx, enc["gzip"].SHA256)
		if err != nil || string(got) != string(gz) {
			t.Fatalf("variant blob: %v", err)
		}
		if err := s.Verify(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
