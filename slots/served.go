package slots

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/semver"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// ErrNotServed is returned when a team serves no version of a plugin: the
// team has not enabled it, the plugin or its pinned version is gone, or
// (through a source that applies a minimum certification) no version it
// selects meets the minimum.
var ErrNotServed = errors.New("plugin not served to the team")

// Served answers "which version of plugin pluginID does a team whose state
// of it is st serve?": the version its manifests list, the one every
// authorisation that depends on the plugin being usable in a team must
// decide by (events, KV rights, crash reports, plugin routes). It is
// Effective of the team's pin when the team enabled the plugin (a team
// that follows the latest version serves the newest release, never a
// prerelease), else ErrNotServed. Deciding by one function keeps the manifests and the
// permissions from disagreeing: before it, the KV store took write rights
// from a plugin's latest version while teams were served a pinned one.
//
// src decides what exists: the server passes a source that hides versions
// below its minimum certification and moves each plugin's latest to its
// highest certified version, so the minimum is applied here too.
func Served(ctx context.Context, src Source, pluginID string, st registry.TeamState) (*registry.Version, error) {
	if !st.Enabled {
		return nil, fmt.Errorf("%s: not enabled: %w", pluginID, ErrNotServed)
	}
	return Effective(ctx, src, pluginID, st.Version)
}

// Effective is the version a pin selects, enabled or not: what a team would
// serve once it enables the plugin. A pin selects exactly that version,
// prerelease or not. No pin ("") follows the plugin's newest *release*:
// prereleases (every `push --watch` build, 1.0.1-dev.<ms>) are previews
// for their developer (see the server's preview sessions) and never go
// live to teams that follow the latest version. A plugin with no release,
// or a version that src does not have, is ErrNotServed; other errors are
// the source's.
func Effective(ctx context.Context, src Source, pluginID, pin string) (*registry.Version, error) {
	if pin != "" {
		return version(ctx, src, pluginID, pin)
	}
	p, err := src.Plugin(ctx, pluginID)
	if errors.Is(err, registry.ErrPluginNotFound) {
		return nil, fmt.Errorf("%s: %w: %w", pluginID, err, ErrNotServed)
	}
	if err != nil {
		return nil, err
	}
	// Versions is in semver order. A source may hide versions (the
	// minimum certification): then the next lower release is served, as
	// it is when the highest one meets the minimum.
	for i := len(p.Versions) - 1; i >= 0; i-- {
		if IsPrerelease(p.Versions[i]) {
			continue
		}
		v, err := version(ctx, src, pluginID, p.Versions[i])
		if errors.Is(err, ErrNotServed) {
			continue
		}
		return v, err
	}
	return nil, fmt.Errorf("%s: %w: no release among %d versions (prereleases are previews; pin one to serve it)",
		pluginID, ErrNotServed, len(p.Versions))
}

func version(ctx context.Context, src Source, pluginID, version string) (*registry.Version, error) {
	v, err := src.Version(ctx, pluginID, version)
	if errors.Is(err, registry.ErrVersionNotFound) || errors.Is(err, registry.ErrPluginNotFound) {
		return nil, fmt.Errorf("%s@%s: %w: %w", pluginID, version, err, ErrNotServed)
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// IsPrerelease reports whether version is a semver prerelease
// ("1.0.1-dev.1733300000000", "2.0.0-rc.1"), which only a pin serves.
func IsPrerelease(version string) bool { return semver.Prerelease("v"+version) != "" }

// LatestRelease is the newest release among p's versions, the one a team
// that follows the latest version serves when no source hides it; "" when
// every version is a prerelease. It reads nothing.
func LatestRelease(p *registry.Plugin) string {
	for i := len(p.Versions) - 1; i >= 0; i-- {
		if !IsPrerelease(p.Versions[i]) {
			return p.Versions[i]
		}
	}
	return ""
}

// Previewing is the state st of a plugin as the developer who previews
// version of it sees it (push --watch; "" = no preview): pinned to the
// preview where the team enabled the plugin and follows its latest
// version, st unchanged elsewhere. A team that has not enabled the plugin
// does not get a preview (enabling stays the team admin's call), nor does
// a team whose admin pinned a version (a pin serves that version to
// everyone). The developer's variant of Served is Served of this state:
// one decision, with the preview as an explicit input.
func Previewing(st registry.TeamState, version string) registry.TeamState {
	if version != "" && Previewable(st) {
		st.Version = version
	}
	return st
}

// Previewable says whether a team's state of a plugin lets its developer's
// preview in: enabled, and following the latest version (no pin).
func Previewable(st registry.TeamState) bool { return st.Enabled && st.Version == "" }

// Certified is src seen through a minimum certification, the source every
// caller of Served on a server with a minimum passes (min
// registry.Unverified: src itself): versions below min do not exist, so a
// team following the latest serves its highest release that meets min
// when a newer unsigned one is pushed, and a team pinned to a version
// below min serves nothing until an admin picks another version. A
// plugin's Latest is its highest version that meets min (unchanged when
// none does).
func Certified(src MobileSource, min registry.Certification) MobileSource {
	if min == registry.Unverified {
		return src
	}
	return certifiedSource{src, min}
}

type certifiedSource struct {
	MobileSource
	min registry.Certification
}

func (c certifiedSource) Plugin(ctx context.Context, id string) (*registry.Plugin, error) {
	p, err := c.MobileSource.Plugin(ctx, id)
	if err != nil {
		return nil, err
	}
	for i := len(p.Versions) - 1; i >= 0; i-- {
		v, err := c.Version(ctx, id, p.Versions[i])
		if errors.Is(err, registry.ErrVersionNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		cp := *p
		cp.Latest = v.Version
		return &cp, nil
	}
	return p, nil // Version hides its latest
}

func (c certifiedSource) Version(ctx context.Context, pluginID, version string) (*registry.Version, error) {
	v, err := c.MobileSource.Version(ctx, pluginID, version)
	if err != nil {
		return nil, err
	}
	if !v.Certification.Meets(c.min) {
		return nil, fmt.Errorf("%s@%s is %s, below the minimum %s: %w", pluginID, version, v.Certification, c.min, registry.ErrVersionNotFound)
	}
	return v, nil
}
