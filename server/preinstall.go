package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// BuiltinActor is the pusher and actor recorded for what the server does
// by itself: publishing the plugins built into the binary.
const BuiltinActor = "mmtoolkit"

// PreinstallResult says what Preinstall did with one built-in plugin.
type PreinstallResult struct {
	ID, Version string
	// Installed: the plugin was new to this store.
	Installed bool
	// Published: this version was new (first start, or a binary upgrade).
	Published bool
	// EnabledFor lists the team ids it was enabled for (new plugins only).
	EnabledFor []string
}

// Preinstall publishes the plugins built into the binary (the reference
// plugins), at every start: a version the store already holds is a cheap
// no-op, and a newer binary brings its newer versions. Only a plugin the
// store has never seen is enabled, for enableTeams; after that the admins'
// choices stand (a plugin they disabled stays disabled across upgrades, and
// one they pinned stays pinned). The actor is BuiltinActor.
//
// A built-in package that does not compile is an error: the binary is
// broken, and serving without it would hide that.
func (s *Server) Preinstall(ctx context.Context, pkgs []*pluginpkg.Package, enableTeams []string) ([]PreinstallResult, error) {
	by := registry.Pusher{UserID: BuiltinActor, SystemAdmin: true}
	var out []PreinstallResult
	for _, pkg := range pkgs {
		m := pkg.Manifest
		res := PreinstallResult{ID: m.ID, Version: m.Version}
		_, err := s.store.Plugin(ctx, m.ID)
		switch {
		case errors.Is(err, registry.ErrPluginNotFound):
			res.Installed = true
		case err != nil:
			return out, err
		}
		put, err := s.publishBuiltin(ctx, pkg, by)
		if err != nil {
			// A compile error lists its diagnostics as file:line:col.
			return out, fmt.Errorf("built-in plugin %s %s: %w", m.ID, m.Version, err)
		}
		res.Published = put.Created
		if res.Installed {
			for _, team := range enableTeams {
				st := registry.TeamState{TeamID: team, PluginID: m.ID, Enabled: true, UpdatedBy: BuiltinActor}
				if _, err := s.store.SetTeamState(ctx, st); err != nil {
					return out, fmt.Errorf("enable built-in plugin %s for team %s: %w", m.ID, team, err)
				}
				res.EnabledFor = append(res.EnabledFor, team)
			}
		}
		out = append(out, res)
	}
	s.changed()
	return out, nil
}
