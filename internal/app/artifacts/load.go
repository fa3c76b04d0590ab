package artifacts

import (
	"context"
	"fmt"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Store is what Load reads of the registry.
type Store interface {
	Plugins(ctx context.Context) ([]*registry.Plugin, error)
	Version(ctx context.Context, pluginID, version string) (*registry.Version, error)
	AllEncodings(ctx context.Context) (map[string]map[string]registry.Encoded, error)
}

// Scanned is what Load saw of the stored versions besides their artifacts:
// start-up reads every version once, and the background work that needs a
// look at every version takes it from here instead of reading them again.
type Scanned struct {
	// MobileJS are the stored mobile bundles: the Hermes compiler queues
	// those without bytecode for its version.
	MobileJS []MobileBundle
	// Mapless names the versions (id@version) whose compiled bundle has no
	// source map (MissingSourceMap): the server stopped before building it.
	Mapless []string
}

// MobileBundle is a stored mobile bundle.
type MobileBundle struct {
	SHA256 string
	Plugin string // id@version, for logs
}

// Load learns every stored artifact and its precompressed variants, so a
// bundle request finds them without scanning versions. It adds to what
// the index holds (a replica that missed changes loads again; versions
// pruned meanwhile stay until a restart).
func (x *Index) Load(ctx context.Context, st Store) (Scanned, error) {
	var out Scanned
	plugins, err := st.Plugins(ctx)
	if err != nil {
		return out, fmt.Errorf("artifacts: load: %w", err)
	}
	for _, p := range plugins {
		for _, v := range p.Versions {
			ver, err := st.Version(ctx, p.ID, v)
			if err != nil {
				return Scanned{}, fmt.Errorf("artifacts: load %s@%s: %w", p.ID, v, err)
			}
			x.AddVersion(ver)
			if a, ok := ver.Artifacts[registry.MobileJS]; ok {
				out.MobileJS = append(out.MobileJS, MobileBundle{SHA256: a.SHA256, Plugin: p.ID + "@" + v})
			}
			if MissingSourceMap(ver, registry.WebJS) || MissingSourceMap(ver, registry.MobileJS) {
				out.Mapless = append(out.Mapless, p.ID+"@"+v)
			}
		}
	}
	all, err := st.AllEncodings(ctx)
	if err != nil {
		return Scanned{}, fmt.Errorf("artifacts: load encodings: %w", err)
	}
	for sha, enc := range all {
		x.AddEncodings(sha, enc)
	}
	return out, nil
}

// MissingSourceMap reports whether v's compiled bundle of kind bundle has
// no source map: one left for after the push, being built or lost to a
// stop. A prebuilt Mattermost bundle may come without one.
func MissingSourceMap(v *registry.Version, bundle string) bool {
	_, hasBundle := v.Artifacts[bundle]
	_, hasMap := v.Artifacts[registry.SourceMapOf[bundle]]
	return hasBundle && !hasMap && !(bundle == registry.WebJS && v.Prebuilt)
}
