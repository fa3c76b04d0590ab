package registry_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// TestSourceMapJoinsItsVersion: a version pushed with its bundle only gets
// its map later, in its own transaction; a version that has one keeps it;
// everything else about the version stays as pushed.
func TestSourceMapJoinsItsVersion(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, s testStore) {
		by := registry.Pusher{UserID: "dev"}
		v := registrytest.Push(t, s, by, "p", "1.0.0") // web.js only
		withMap := registrytest.Push(t, s, by, "p", "1.1.0", []byte("web"), []byte(`{"version":3}`))

		m := []byte(`{"version":3,"sources":["webapp/index.tsx"]}`)
		key := registrytest.SHA256([]byte("the build's key"))
		a := registry.Artifact{SHA256: registrytest.SHA256(m), Size: int64(len(m)), ContentType: "application/json", Key: key}

		for _, tc := range []struct {
			name            string
			plugin, version string
			bundle          string
			a               registry.Artifact
			blob            []byte
			want            error
		}{
			{"no map for its kind", "p", "1.0.0", registry.MobileHermes, a, m, registry.ErrInvalid},
			{"blob mismatch", "p", "1.0.0", registry.WebJS, a, []byte(`{"version":3,"sources":["other.tsx"]}`), registry.ErrInvalid},
			{"bytes mismatch", "p", "1.0.0", registry.WebJS, func() registry.Artifact { b := a; b.Size = 3; return b }(), []byte("{ }"), registry.ErrBlobMismatch},
			{"bad key", "p", "1.0.0", registry.WebJS, func() registry.Artifact { b := a; b.Key = "K"; return b }(), m, registry.ErrInvalid},
			{"no mobile bundle", "p", "1.0.0", registry.MobileJS, a, m, registry.ErrInvalid},
			{"unknown plugin", "q", "1.0.0", registry.WebJS, a, m, registry.ErrPluginNotFound},
			{"unknown version", "p", "9.0.0", registry.WebJS, a, m, registry.ErrVersionNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := s.PutSourceMap(ctx, tc.plugin, tc.version, tc.bundle, tc.a, tc.blob); !errors.Is(err, tc.want) {
					t.Fatalf("PutSourceMap: %v, want %v", err, tc.want)
				}
			})
		}
		if got, _ := s.Version(ctx, "p", "1.0.0"); !reflect.DeepEqual(got, v) {
			t.Fatalf("a refused map changed the version: %+v", got)
		}

		if err := s.PutSourceMap(ctx, "p", "1.0.0", registry.WebJS, a, m); err != nil {
			t.Fatal(err)
		}
		got, err := s.Version(ctx, "p", "1.0.0")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Artifacts[registry.WebMap], a) {
			t.Errorf("stored map artifact %+v, want %+v", got.Artifacts[registry.WebMap], a)
		}
		want := *v
		want.Artifacts = map[string]registry.Artifact{registry.WebJS: v.Artifacts[registry.WebJS], registry.WebMap: a}
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("the version changed beyond its map:\n got %+v\nwant %+v", got, &want)
		}
		if blob, err := s.Blob(ctx, a.SHA256); err != nil || string(blob) != string(m) {
			t.Errorf("map blob: %q, %v", blob, err)
		}

		// A version with a map keeps it.
		if err := s.PutSourceMap(ctx, "p", "1.1.0", registry.WebJS, a, m); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Version(ctx, "p", "1.1.0"); !reflect.DeepEqual(got, withMap) {
			t.Errorf("a version's map was replaced: %+v", got.Artifacts[registry.WebMap])
		}
	})
}
