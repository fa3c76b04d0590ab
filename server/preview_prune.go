package server

import (
	"context"
	"time"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// DefaultKeepPrereleases is Config.KeepPrereleases' default: how many of
// each developer's newest prereleases of a plugin stay stored. push
// --watch stores one per save that changes a bundle; no team follows them
// (slots.Effective), so older ones only fill the store.
const DefaultKeepPrereleases = 5

// prereleasePruner is what the server needs of a store that can prune
// (*registry.Bolt).
type prereleasePruner interface {
	PrunePrereleases(ctx context.Context, q registry.PruneQuery) (registry.PruneResult, error)
}

// pruneActor is who the prune audit entries name: the server itself.
const pruneActor = "mmtoolkit"

// prunePrereleases runs after a prerelease v is stored: its developer's
// prereleases of the plugin but the newest Config.KeepPrereleases are
// removed (registry.PrunePrereleases: one transaction, one audit entry,
// unreferenced blobs collected), except versions a team pins and those a
// preview session shows. The server then forgets the collected blobs, so
// their URLs answer 404; their files under Config.BlobFiles go at the
// next start, as files of unknown blobs do.
func (s *Server) prunePrereleases(v *registry.Version) {
	keep := s.cfg.KeepPrereleases
	if keep == 0 {
		keep = DefaultKeepPrereleases
	}
	store, ok := s.store.(prereleasePruner)
	if keep < 0 || !ok || !slots.IsPrerelease(v.Version) {
		return
	}
	// Off the push's path, one at a time with the rest of the background
	// work (internal/app/scheduler); each push asks for its own prune.
	s.sched.Enqueue(scheduler.Prune, v.PluginID+"@"+v.Version, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		res, err := store.PrunePrereleases(ctx, registry.PruneQuery{PluginID: v.PluginID, PushedBy: v.PushedBy, Keep: keep,
			Protect: s.previews.pinned()[v.PluginID], Actor: pruneActor})
		if err != nil {
			s.log.Error("prune prereleases", "plugin", v.PluginID, "developer", v.PushedBy, "err", err)
			return nil
		}
		if len(res.Versions) == 0 {
			return nil
		}
		s.changes.Publish(ctx, changes.BlobsPruned{SHAs: res.Collected}) // changes.go
		s.log.Info("pruned prereleases", "plugin", v.PluginID, "developer", v.PushedBy, "versions", len(res.Versions),
			"kept", keep, "blobs", res.Blobs, "bytes", res.BlobBytes)
		return nil
	})
}
