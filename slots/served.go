package slots

import (
	"context"
	"errors"
	"fmt"

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
// Effective of the team's pin when the team enabled the plugin, else
// ErrNotServed. Deciding by one function keeps the manifests and the
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

// Effective is the version a pin selects ("" follows the plugin's latest),
// enabled or not: what a team would serve once it enables the plugin. A
// plugin or version that src does not have is ErrNotServed; other errors
// are the source's.
func Effective(ctx context.Context, src Source, pluginID, pin string) (*registry.Version, error) {
	version := pin
	if version == "" {
		p, err := src.Plugin(ctx, pluginID)
		if errors.Is(err, registry.ErrPluginNotFound) {
			return nil, fmt.Errorf("%s: %w: %w", pluginID, err, ErrNotServed)
		}
		if err != nil {
			return nil, err
		}
		version = p.Latest
	}
	v, err := src.Version(ctx, pluginID, version)
	if errors.Is(err, registry.ErrVersionNotFound) || errors.Is(err, registry.ErrPluginNotFound) {
		return nil, fmt.Errorf("%s@%s: %w: %w", pluginID, version, err, ErrNotServed)
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}
