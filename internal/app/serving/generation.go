package serving

import (
	"context"
	"sync/atomic"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
)

// A Generation numbers the states of the registry that served answers are
// built from. Every cache of them (web and mobile manifests, Mattermost's
// merged plugin lists, the console's catalogue) stores the number it was
// built at and is good while the number has not moved: invalidating is one
// atomic add, whatever the number of cached entries, and a cache never
// needs to be told by name. Before it, a team's state change was announced
// to the manifests and to the console's catalogue by two calls, and a
// change the one path forgot left the other stale.
//
// There are two numbers because one cache depends on less: the console's
// catalogue describes plugins and their versions, not what a team serves,
// so a team enabling a plugin (Served moves) leaves it valid (Plugins does
// not move), where rebuilding it would read every plugin's version again.
//
// The zero Generation is ready; it is safe for concurrent use.
type Generation struct {
	served  atomic.Uint64
	plugins atomic.Uint64
}

// Served is the number every cache of what a team is served compares
// against: it moves on every change (Apply).
func (g *Generation) Served() uint64 { return g.served.Load() }

// Plugins is the number a cache of plugins and versions alone compares
// against: it moves on every change but a team's state.
func (g *Generation) Plugins() uint64 { return g.plugins.Load() }

// Changed moves both numbers: anything served may differ (a version stored
// or pruned outside the feed, caches rebuilt after missed changes).
func (g *Generation) Changed() {
	g.plugins.Add(1)
	g.served.Add(1)
}

// TeamStateChanged moves Served only: a team's state of a plugin changed,
// which no plugin or version description depends on.
func (g *Generation) TeamStateChanged() { g.served.Add(1) }

// Apply moves the numbers c makes stale: a version stored, a version's
// certification raised (a minimum level may now let it into manifests),
// blobs pruned (versions gone), Hermes bytecode stored (mobile manifests
// point at it; a failed compile changes nothing), and a team's state
// (TeamStateChanged). Other changes (encodings, source maps, server parts)
// change no served answer.
func (g *Generation) Apply(c changes.Change) {
	switch c := c.(type) {
	case changes.VersionStored, changes.VersionCertified, changes.BlobsPruned:
		g.Changed()
	case changes.BytecodeStored:
		if c.Bytecode.Error == "" {
			g.Changed()
		}
	case changes.TeamStateChanged:
		g.TeamStateChanged()
	}
}

// Subscribe makes g follow feed: every change published to it is Applied,
// in the feed's order among the other subscribers (subscribe g after what
// the caches read, such as the artifact index, and before what announces
// the change to clients, so a client told of a change fetches a manifest
// built after it).
func (g *Generation) Subscribe(feed *changes.Feed) {
	feed.Subscribe("serving generation", func(_ context.Context, c changes.Change) { g.Apply(c) })
}
