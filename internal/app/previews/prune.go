package previews

import (
	"context"
	"time"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// DefaultKeep is Config.Keep's default: how many of each developer's
// newest prereleases of a plugin stay stored. push --watch stores one per
// save that changes a bundle; no team follows them (slots.Effective), so
// older ones only fill the store.
const DefaultKeep = 5

// Pruner is a store that can prune (*registry.Bolt).
type Pruner interface {
	PrunePrereleases(ctx context.Context, q registry.PruneQuery) (registry.PruneResult, error)
}

// PruneActor is who the prune audit entries name: the server itself.
const PruneActor = "mmtoolkit"

// pruneTimeout bounds one prune's transaction.
const pruneTimeout = time.Minute

// SubscribePruning prunes after every prerelease this process stores
// (changes.VersionStored on f): the replica that stored a version prunes,
// the others learn what went from the change log.
func (p *Previews) SubscribePruning(f *changes.Feed) {
	changes.On(f, "prerelease pruning", func(_ context.Context, c changes.VersionStored) {
		if !c.Remote() {
			p.Prune(c.Version)
		}
	})
}

// Prune asks the scheduler to prune after prerelease v was stored: its
// developer's prereleases of the plugin but the newest Config.Keep are
// removed (registry.PrunePrereleases: one transaction, one audit entry,
// unreferenced blobs collected), except versions a team pins and those a
// lease shows. The collected blobs go out on the feed
// (changes.BlobsPruned), so their URLs answer 404. A release, a negative
// Keep or no Pruner prunes nothing.
func (p *Previews) Prune(v *registry.Version) {
	keep := p.cfg.Keep
	if keep == 0 {
		keep = DefaultKeep
	}
	if keep < 0 || p.cfg.Pruner == nil || !slots.IsPrerelease(v.Version) {
		return
	}
	// Off the push's path, one at a time with the rest of the background
	// work; each push asks for its own prune.
	p.cfg.Scheduler.Enqueue(scheduler.Prune, v.PluginID+"@"+v.Version, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, pruneTimeout)
		defer cancel()
		res, err := p.cfg.Pruner.PrunePrereleases(ctx, registry.PruneQuery{PluginID: v.PluginID, PushedBy: v.PushedBy, Keep: keep,
			Protect: p.leases.shown(v.PluginID), Actor: PruneActor})
		if err != nil {
			p.log.Error("prune prereleases", "plugin", v.PluginID, "developer", v.PushedBy, "err", err)
			return nil
		}
		if len(res.Versions) == 0 {
			return nil
		}
		p.cfg.Feed.Publish(ctx, changes.BlobsPruned{SHAs: res.Collected})
		p.log.Info("pruned prereleases", "plugin", v.PluginID, "developer", v.PushedBy, "versions", len(res.Versions),
			"kept", keep, "blobs", res.Blobs, "bytes", res.BlobBytes)
		return nil
	})
}
