package publish

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// sameAsLastBuild returns the developer's previous build when v, a
// prerelease they push, would serve exactly what it serves: the newest
// prerelease of the plugin, pushed by the same user, with byte-equal
// bundles and other served files (source maps aside, which follow from
// the bundles), the same plugin.json but for its version, the same host
// modules and level. A save that changed nothing a page or an app runs (a
// file saved unchanged, a README edit) then stores nothing: the push
// answers 200 unchanged with that version, as an identical re-push does.
// Any edit of a source the bundle is built from, a comment included, is
// a new build: the bundle names its source map by a hash of its sources.
// nil when v is a release or differs.
func sameAsLastBuild(ctx context.Context, st Store, v *registry.Version, by registry.Pusher) (*registry.Version, error) {
	if !slots.IsPrerelease(v.Version) {
		return nil, nil
	}
	p, err := st.Plugin(ctx, v.PluginID)
	if errors.Is(err, registry.ErrPluginNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	last := ""
	for i := len(p.Versions) - 1; i >= 0 && last == ""; i-- {
		if slots.IsPrerelease(p.Versions[i]) {
			last = p.Versions[i]
		}
	}
	if last == "" {
		return nil, nil
	}
	prev, err := st.Version(ctx, v.PluginID, last)
	if err != nil {
		return nil, err
	}
	if prev.PushedBy != by.UserID || prev.Certification != v.Certification || prev.Prebuilt != v.Prebuilt ||
		!slices.Equal(prev.HostModules, v.HostModules) || !sameServedFiles(prev.Artifacts, v.Artifacts) ||
		!sameManifestButVersion(prev.RawManifest, v.RawManifest) {
		return nil, nil
	}
	return prev, nil
}

// sameServedFiles compares two versions' artifacts by kind and content,
// source maps left out.
func sameServedFiles(a, b map[string]registry.Artifact) bool {
	isMap := func(kind string) bool { return kind == registry.WebMap || kind == registry.MobileMap }
	n := 0
	for kind, x := range a {
		if isMap(kind) {
			continue
		}
		n++
		if y, ok := b[kind]; !ok || y.SHA256 != x.SHA256 {
			return false
		}
	}
	for kind := range b {
		if !isMap(kind) {
			n--
		}
	}
	return n == 0
}

// sameManifestButVersion compares two plugin.json documents as JSON,
// their "version" left out.
func sameManifestButVersion(a, b []byte) bool {
	var x, y map[string]any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	delete(x, "version")
	delete(y, "version")
	return reflect.DeepEqual(x, y)
}
