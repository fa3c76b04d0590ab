package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/mobile"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// BenchmarkMobileManifest measures what a mobile manifest request costs
// the server past authentication: "cached" is every request while nothing
// changed (a map lookup: the body was signed once), "rebuilt" a request
// after each change (build + JSON + SHA-256 + ed25519 signature), "sign"
// the signature alone. 20 enabled plugins.
func BenchmarkMobileManifest(b *testing.B) {
	store := registrytest.Open(b)
	for i := 0; i < 20; i++ {
		id := fmt.Sprintf("com.example.p%02d", i)
		v, blobs := registrytest.Version(id, "1.0.0", []byte("w"+id), []byte("{}"), []byte("m"+id))
		v.Manifest.Slots = []pluginpkg.SlotDecl{{Slot: "post_type", PostType: "custom_" + id[12:]}}
		if _, err := store.PutVersion(context.Background(), v, blobs, registry.Pusher{UserID: "dev"}); err != nil {
			b.Fatal(err)
		}
		if _, err := store.SetTeamState(context.Background(), registry.TeamState{TeamID: "t", PluginID: id, Enabled: true, UpdatedBy: "a"}); err != nil {
			b.Fatal(err)
		}
	}
	key, _ := mobile.GenerateKey()
	s, err := New(store, nil, Config{MobileKey: key, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rt, _ := pluginpkg.ParseRuntimeVersion("1.0.0")
	k := mobileManifestKey{teamID: "t", platform: slots.IOS, runtime: rt.String()}
	ctx := context.Background()
	m, err := s.mobile.manifest(ctx, k, rt)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("manifest body: %d bytes", len(m.body))

	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := s.mobile.manifest(ctx, k, rt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rebuilt", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			s.changed()
			if _, err := s.mobile.manifest(ctx, k, rt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sign", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			mobile.Sign(key, m.body)
		}
	})
}
