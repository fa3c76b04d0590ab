package registry_test

import (
	"context"
	"os"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/internal/pgtest"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// The registry's tests run against both stores: one suite, two
// implementations. A test of the store's behaviour takes its store from
// forEachStore, which runs it as a subtest per store ("bolt", "postgres");
// the PostgreSQL store comes from a throwaway cluster the test binary
// starts on first use (internal/pgtest), a fresh database per subtest.
// Without PostgreSQL the "postgres" subtests skip, or fail under CI=true.
// Tests of what only one store has (bbolt's file lock, schema migrations)
// open that store directly.

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// testStore is what the suite calls on a store: every interface both
// stores implement. A test of a method outside it asserts the interface it
// needs on the store it is given.
type testStore interface {
	registry.Store
	registry.Encodings
	registry.SourceMaps
	registry.Bytecodes
	registry.Settings
	Stats(ctx context.Context) (registry.Stats, error)
	Verify(ctx context.Context) error
	PrunePrereleases(ctx context.Context, q registry.PruneQuery) (registry.PruneResult, error)
}

var (
	_ testStore = (*registry.Bolt)(nil)
	_ testStore = (*registry.Postgres)(nil)
)

// storeKinds are the implementations the suite runs against.
var storeKinds = []string{"bolt", "postgres"}

// forEachStore runs fn as a subtest per store, each on a new empty store
// with fsync off and the real clock.
func forEachStore(t *testing.T, fn func(t *testing.T, s testStore)) {
	t.Helper()
	forEachStoreOptions(t, func() *registry.Options { return &registry.Options{NoSync: true} }, fn)
}

// forEachStoreClock is forEachStore with each store on its own clock()
// (a fixed start, one second per call), for predictable stamps.
func forEachStoreClock(t *testing.T, fn func(t *testing.T, s testStore)) {
	t.Helper()
	forEachStoreOptions(t, func() *registry.Options { return &registry.Options{NoSync: true, Clock: clock()} }, fn)
}

// forEachStoreOptions is forEachStore with the options opts returns, called
// once per store.
func forEachStoreOptions(t *testing.T, opts func() *registry.Options, fn func(t *testing.T, s testStore)) {
	t.Helper()
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			fn(t, openStore(t, kind, opts()))
		})
	}
}

// openStore opens a new empty store of the kind, closed when t ends.
func openStore(t *testing.T, kind string, opts *registry.Options) testStore {
	t.Helper()
	switch kind {
	case "bolt":
		return registrytest.OpenOptions(t, opts)
	case "postgres":
		return registrytest.OpenPostgresOptions(t, opts)
	}
	t.Fatalf("unknown store kind %q", kind)
	return nil
}
