package slots

import (
	"context"
	"fmt"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Mobile bundle formats.
const (
	FormatJS       = "js"
	FormatBytecode = "hbc"
)

// MobileQuery selects a team's mobile manifest: what the app runs on.
type MobileQuery struct {
	TeamID   string
	Platform Platform // IOS or Android
	// Runtime is the app's host runtime version, matched against each
	// plugin's mobile.runtime range.
	Runtime *pluginpkg.RuntimeVersion
	// Bytecode is the Hermes bytecode version the app runs; 0 asks for JS
	// only.
	Bytecode uint32
}

// MobileManifest is what a React Native app loads: the team's enabled
// plugins that have a mobile bundle compatible with the app's runtime.
// Its JSON bytes are what the server signs.
type MobileManifest struct {
	Team     string         `json:"team"`
	Platform Platform       `json:"platform"`
	Runtime  string         `json:"runtime"`
	Bytecode uint32         `json:"bytecode,omitempty"`
	Plugins  []MobilePlugin `json:"plugins"`
	// Skipped lists enabled plugins left out because their mobile.runtime
	// range does not accept Runtime, so an app can say why a plugin is
	// missing rather than fail silently.
	Skipped []Skipped `json:"skipped"`
}

// MobilePlugin is one plugin of a mobile manifest.
type MobilePlugin struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
	// Format is FormatBytecode when the app's bytecode version has a
	// compiled artifact, else FormatJS.
	Format string `json:"format"`
	URL    string `json:"url"`
	// SHA256 (hex) of the bytes at URL: the app checks it before it
	// evaluates anything.
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// BytecodeVersion is set when Format is FormatBytecode.
	BytecodeVersion uint32 `json:"bytecode_version,omitempty"`
	// Runtime is the plugin's mobile.runtime range ("" accepts any).
	Runtime string `json:"runtime,omitempty"`
	// Slots the plugin declared that exist on the platform.
	Slots []Fill `json:"slots"`
	// Preview marks a prerelease served to its developer alone (see
	// Plugin.Preview).
	Preview bool `json:"preview,omitempty"`
}

// Skipped is an enabled plugin a manifest leaves out, and why.
type Skipped struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	// Reason is "runtime": the plugin's Runtime range does not accept the
	// app's runtime version.
	Reason  string `json:"reason"`
	Runtime string `json:"runtime"`
}

// MobileSource is what building a mobile manifest reads; *registry.Bolt
// satisfies it.
type MobileSource interface {
	Source
	Bytecode(ctx context.Context, source string) ([]registry.Bytecode, error)
}

// IsMobile reports whether p is a platform with a mobile manifest.
func IsMobile(p Platform) bool { return p == IOS || p == Android }

// BuildMobile makes a team's mobile manifest: every plugin the team enabled
// (at its pinned version, else its latest; the same state as the web
// manifest) that has a mobile bundle whose mobile.runtime range accepts
// q.Runtime. Each entry points at the Hermes bytecode compiled for
// q.Bytecode when there is one, else at the JS bundle. Plugins come in id
// order, so the same state always gives the same bytes.
func BuildMobile(ctx context.Context, src MobileSource, q MobileQuery) (*MobileManifest, error) {
	if !IsMobile(q.Platform) {
		return nil, fmt.Errorf("slots: build mobile manifest: platform %q is not ios or android", q.Platform)
	}
	if q.Runtime == nil {
		return nil, fmt.Errorf("slots: build mobile manifest: no runtime version")
	}
	fail := func(err error) error {
		return fmt.Errorf("slots: build mobile manifest for team %s: %w", q.TeamID, err)
	}
	versions, err := enabledVersions(ctx, src, q.TeamID)
	if err != nil {
		return nil, fail(err)
	}
	m := &MobileManifest{Team: q.TeamID, Platform: q.Platform, Runtime: q.Runtime.String(), Bytecode: q.Bytecode,
		Plugins: []MobilePlugin{}, Skipped: []Skipped{}}
	for _, v := range versions {
		id := v.PluginID
		js, ok := v.Artifacts[registry.MobileJS]
		if !ok || v.Manifest.Mobile == nil {
			continue // a web-only plugin has nothing for the app
		}
		rng, err := pluginpkg.ParseRuntimeRange(v.Manifest.Mobile.Runtime)
		if err != nil {
			// Validated at push; a stored range that no longer parses
			// (a stricter parser) must not break the whole team.
			m.Skipped = append(m.Skipped, Skipped{ID: id, Version: v.Version, Reason: "runtime", Runtime: v.Manifest.Mobile.Runtime})
			continue
		}
		if !rng.Accepts(q.Runtime) {
			m.Skipped = append(m.Skipped, Skipped{ID: id, Version: v.Version, Reason: "runtime", Runtime: rng.String()})
			continue
		}
		mp := MobilePlugin{
			ID: id, Name: v.Manifest.Name, Version: v.Version,
			Format: FormatJS, URL: BundleURL(js.SHA256, "js"), SHA256: js.SHA256, Size: js.Size,
			Runtime: rng.String(),
			Slots:   []Fill{},
		}
		if q.Bytecode != 0 {
			bcs, err := src.Bytecode(ctx, js.SHA256)
			if err != nil {
				return nil, fail(err)
			}
			for _, bc := range bcs {
				if bc.BytecodeVersion == q.Bytecode && bc.Error == "" {
					mp.Format, mp.URL = FormatBytecode, BundleURL(bc.Artifact.SHA256, "hbc")
					mp.SHA256, mp.Size, mp.BytecodeVersion = bc.Artifact.SHA256, bc.Artifact.Size, bc.BytecodeVersion
				}
			}
		}
		for _, d := range v.Manifest.Slots {
			if sl, ok := Lookup(d.Slot); ok && sl.On(q.Platform) {
				mp.Slots = append(mp.Slots, Fill{Slot: d.Slot, PostType: d.PostType})
			}
		}
		m.Plugins = append(m.Plugins, mp)
	}
	return m, nil
}
