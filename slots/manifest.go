package slots

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Manifest is a team's slot manifest for one platform: the plugins its
// admins enabled, each with the bundle to load and the slots it fills.
type Manifest struct {
	Team     string   `json:"team"`
	Platform Platform `json:"platform"`
	Plugins  []Plugin `json:"plugins"`
}

// Plugin is one enabled plugin in a manifest.
type Plugin struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
	Bundle  Bundle `json:"bundle"`
	// Slots the plugin declared that exist on the manifest's platform.
	Slots []Fill `json:"slots"`
	// HostModules the bundle imports, so the host loads libraries only
	// some plugins need (react-bootstrap, react-intl, ...) on demand.
	HostModules []string `json:"host_modules"`
	// Preview marks a prerelease served to its developer alone, in place
	// of the team's version, while their preview session holds (push
	// --watch); the host shows it with a "preview" marker.
	Preview bool `json:"preview,omitempty"`
}

// Bundle says where a bundle is and how to check it.
type Bundle struct {
	URL string `json:"url"`
	// Integrity is the Subresource Integrity value ("sha256-<base64>").
	Integrity string `json:"integrity"`
	Size      int64  `json:"size"`
}

// Fill is one slot a plugin fills.
type Fill struct {
	Slot     string `json:"slot"`
	PostType string `json:"post_type,omitempty"`
}

// Source is what building a manifest reads; registry.Store satisfies it.
type Source interface {
	TeamStates(ctx context.Context, teamID string) (map[string]registry.TeamState, error)
	Plugin(ctx context.Context, id string) (*registry.Plugin, error)
	Version(ctx context.Context, pluginID, version string) (*registry.Version, error)
}

// Build makes the web manifest of a team: every plugin the team enabled, at
// its pinned version or else its latest, in plugin id order (stable, so the
// same state always gives the same bytes and ETag). It reads only the
// team's own states and the plugins they enable, so its cost follows the
// team's plugins, not the size of the registry.
func Build(ctx context.Context, src Source, teamID string, platform Platform) (*Manifest, error) {
	if platform != Web {
		return nil, fmt.Errorf("slots: build manifest: platform %q is not web", platform)
	}
	versions, err := enabledVersions(ctx, src, teamID)
	if err != nil {
		return nil, fmt.Errorf("slots: build manifest for team %s: %w", teamID, err)
	}
	m := &Manifest{Team: teamID, Platform: platform, Plugins: []Plugin{}}
	for _, v := range versions {
		id := v.PluginID
		a, ok := v.Artifacts[registry.WebJS]
		if !ok {
			continue // a mobile-only plugin has nothing for the web
		}
		mp := Plugin{
			ID: id, Name: v.Manifest.Name, Version: v.Version,
			Bundle:      Bundle{URL: BundleURL(a.SHA256, "js"), Integrity: Integrity(a.SHA256), Size: a.Size},
			Slots:       []Fill{},
			HostModules: v.HostModules,
		}
		if mp.HostModules == nil {
			mp.HostModules = []string{}
		}
		if v.Prebuilt && !slices.Contains(mp.HostModules, bundler.IconsModule) {
			// A bundle built outside mmtoolkit may use Mattermost's icon
			// fonts in ways no reading of it can rule out: its page gets
			// them (a style sheet, never a missing glyph). Here rather than
			// at push, so versions stored before the rule get them too.
			mp.HostModules = append(slices.Clip(mp.HostModules), bundler.IconsModule)
		}
		for _, d := range v.Manifest.Slots {
			if sl, ok := Lookup(d.Slot); ok && sl.On(platform) {
				mp.Slots = append(mp.Slots, Fill{Slot: d.Slot, PostType: d.PostType})
			}
		}
		m.Plugins = append(m.Plugins, mp)
	}
	return m, nil
}

// enabledVersions returns the version each plugin the team enabled serves
// (Served: pinned, else latest), in plugin id order (stable, so the same state
// always gives the same bytes and ETag). It reads only the team's own
// states and the plugins they enable, so its cost follows the team's
// plugins, not the size of the registry. Plugins or versions gone from the
// store are left out.
func enabledVersions(ctx context.Context, src Source, teamID string) ([]*registry.Version, error) {
	states, err := src.TeamStates(ctx, teamID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(states))
	for id, st := range states {
		if st.Enabled {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	out := make([]*registry.Version, 0, len(ids))
	for _, id := range ids {
		v, err := Served(ctx, src, id, states[id])
		if errors.Is(err, ErrNotServed) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// BundleURL is where the server serves an artifact: immutable, by hash.
func BundleURL(sha256Hex, ext string) string { return "/bundles/" + sha256Hex + "." + ext }

// Integrity is the Subresource Integrity value of a hex SHA-256.
func Integrity(sha256Hex string) string {
	raw, err := hex.DecodeString(sha256Hex)
	if err != nil {
		return ""
	}
	return "sha256-" + base64.StdEncoding.EncodeToString(raw)
}
