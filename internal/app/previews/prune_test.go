package previews

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// pruneEnv is a store where dev pushed the release 1.0.0 and the
// prereleases 1.0.1-dev.1 to -dev.8 of plugin (each with its own bundle),
// and bob 1.0.1-bob.1 to -bob.3; Previews prune on a scheduler after the
// VersionStored changes of feed.
type pruneEnv struct {
	store  *registry.Bolt
	sched  *scheduler.Scheduler
	feed   changes.Feed
	p      *Previews
	clock  *fakeClock
	mu     sync.Mutex
	pruned []string // SHAs of changes.BlobsPruned
	last   *registry.Version
}

func newPruneEnv(t *testing.T, keep int) *pruneEnv {
	t.Helper()
	e := &pruneEnv{store: registrytest.Open(t), sched: scheduler.New(scheduler.Config{}), clock: newFakeClock()}
	t.Cleanup(e.sched.Close)
	dev := registry.Pusher{UserID: "dev"}
	registrytest.Push(t, e.store, dev, plugin, "1.0.0", []byte("release"))
	for i := 1; i <= 8; i++ {
		e.last = registrytest.Push(t, e.store, dev, plugin, fmt.Sprintf("1.0.1-dev.%d", i), fmt.Appendf(nil, "dev %d", i))
	}
	for i := 1; i <= 3; i++ {
		registrytest.Push(t, e.store, registry.Pusher{UserID: "bob", SystemAdmin: true}, plugin, fmt.Sprintf("1.0.1-bob.%d", i), fmt.Appendf(nil, "bob %d", i))
	}
	e.p = New(Config{Store: e.store, Log: quiet, Clock: e.clock, Pruner: e.store, Scheduler: e.sched, Feed: &e.feed, Keep: keep})
	e.p.SubscribePruning(&e.feed)
	changes.On(&e.feed, "test", func(_ context.Context, c changes.BlobsPruned) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.pruned = append(e.pruned, c.SHAs...)
	})
	return e
}

// stored publishes v as stored (asOf 0: here) and waits for the prune.
func (e *pruneEnv) stored(t *testing.T, v *registry.Version, asOf int64) {
	t.Helper()
	ctx := context.Background()
	e.feed.Publish(ctx, changes.VersionStored{Version: v, AsOf: asOf})
	if err := e.sched.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

func (e *pruneEnv) versions(t *testing.T) []string {
	t.Helper()
	p, err := e.store.Plugin(context.Background(), plugin)
	if err != nil {
		t.Fatal(err)
	}
	return p.Versions
}

var allVersions = []string{"1.0.0", "1.0.1-bob.1", "1.0.1-bob.2", "1.0.1-bob.3",
	"1.0.1-dev.1", "1.0.1-dev.2", "1.0.1-dev.3", "1.0.1-dev.4", "1.0.1-dev.5", "1.0.1-dev.6", "1.0.1-dev.7", "1.0.1-dev.8"}

func sortedVersions(vs []string) []string {
	out := slices.Clone(vs)
	slices.Sort(out)
	return out
}

// TestPruneKeepsNewestPinnedAndPreviewed: after a prerelease stored here,
// its developer's prereleases but the newest Keep go, except a version a
// team pins and one a lease shows; releases and another developer's
// prereleases stay; the collected blobs go out on the feed.
func TestPruneKeepsNewestPinnedAndPreviewed(t *testing.T) {
	e := newPruneEnv(t, 2)
	ctx := context.Background()
	if _, err := e.store.SetTeamState(ctx, registry.TeamState{TeamID: "t", PluginID: plugin, Enabled: true, Version: "1.0.1-dev.2", UpdatedBy: "admin"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.p.Take(ctx, Developer{ID: "dev"}, plugin, "1.0.1-dev.4", 0); err != nil {
		t.Fatal(err)
	}
	e.stored(t, e.last, 0)
	want := []string{"1.0.0", "1.0.1-bob.1", "1.0.1-bob.2", "1.0.1-bob.3", "1.0.1-dev.2", "1.0.1-dev.4", "1.0.1-dev.7", "1.0.1-dev.8"}
	if got := sortedVersions(e.versions(t)); !slices.Equal(got, want) {
		t.Errorf("after the prune: %v, want %v", got, want)
	}
	e.mu.Lock()
	pruned := slices.Clone(e.pruned)
	e.mu.Unlock()
	for _, n := range []int{1, 3, 5, 6} {
		sha := registrytest.SHA256(fmt.Appendf(nil, "dev %d", n))
		if !slices.Contains(pruned, sha) {
			t.Errorf("dev.%d's bundle %s is not in BlobsPruned %v", n, sha, pruned)
		}
	}
	// Nothing left to prune: nothing published.
	e.mu.Lock()
	e.pruned = nil
	e.mu.Unlock()
	e.stored(t, e.last, 0)
	if len(e.pruned) != 0 {
		t.Errorf("a prune of nothing published %v", e.pruned)
	}
}

// TestPruneSkips: nothing is pruned after a version another replica stored
// (it prunes), after a release, or with a negative Keep; Keep 0 is
// DefaultKeep.
func TestPruneSkips(t *testing.T) {
	for _, tc := range []struct {
		name    string
		keep    int
		asOf    int64
		release bool
		want    []string
	}{
		{"remote", 1, 7, false, allVersions},
		{"release", 1, 0, true, allVersions},
		{"keep every version", -1, 0, false, allVersions},
		{"default keep", 0, 0, false, slices.DeleteFunc(slices.Clone(allVersions), func(v string) bool {
			return v == "1.0.1-dev.1" || v == "1.0.1-dev.2" || v == "1.0.1-dev.3"
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newPruneEnv(t, tc.keep)
			v := e.last
			if tc.release {
				var err error
				if v, err = e.store.Version(context.Background(), plugin, "1.0.0"); err != nil {
					t.Fatal(err)
				}
			}
			e.stored(t, v, tc.asOf)
			if got := sortedVersions(e.versions(t)); !slices.Equal(got, tc.want) {
				t.Errorf("versions %v, want %v", got, tc.want)
			}
		})
	}
	if DefaultKeep != 5 {
		t.Errorf("DefaultKeep = %d: the default keep case above assumes 5", DefaultKeep)
	}
}

// TestPruneWithoutPruner: a store that cannot prune prunes nothing and
// needs no scheduler.
func TestPruneWithoutPruner(t *testing.T) {
	st := registrytest.Open(t)
	v := registrytest.Push(t, st, registry.Pusher{UserID: "dev"}, plugin, "1.0.1-dev.1")
	New(Config{Store: st, Log: quiet}).Prune(v) // a nil scheduler would panic if used
}
