package registry_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mmtoolkit/mmtoolkit/internal/pgtest"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// TestPostgresStatementTimeout: a write stuck behind a lock is cancelled
// after Options.StatementTimeout, as ErrUnavailable (the server answers 503
// and the client retries), writes nothing, and frees its connection.
func TestPostgresStatementTimeout(t *testing.T) {
	dsn := pgtest.DB(t)
	s := registrytest.OpenPostgresDSN(t, dsn, &registry.Options{StatementTimeout: 300 * time.Millisecond, MaxConns: 2})
	put(t, s, dev, "a.plugin", "1.0.0")

	_, tx := holdPluginLock(t, dsn, "a.plugin")
	start := time.Now()
	v, b := registrytest.Version("a.plugin", "1.1.0")
	_, err := s.PutVersion(ctx, v, b, dev)
	if !errors.Is(err, registry.ErrUnavailable) {
		t.Fatalf("a push behind a held lock: %v, want ErrUnavailable after the statement timeout", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the push gave up after %v", took)
	}
	tx.Rollback(ctx)
	p, err := s.Plugin(ctx, "a.plugin")
	if err != nil || len(p.Versions) != 1 {
		t.Fatalf("after the timed-out push: %+v %v", p, err)
	}
	put(t, s, dev, "a.plugin", "1.1.0") // the connections are free again
}

// TestPostgresPoolIsBounded: however many calls run at once, a store holds
// at most Options.MaxConns connections.
func TestPostgresPoolIsBounded(t *testing.T) {
	dsn := pgtest.DB(t)
	s := registrytest.OpenPostgresDSN(t, dsn, &registry.Options{MaxConns: 3})
	put(t, s, dev, "a.plugin", "1.0.0")
	watcher, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close(ctx)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range 20 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.SetTeamState(ctx, registry.TeamState{TeamID: fmt.Sprint("t", i), PluginID: "a.plugin", Enabled: n%2 == 0, UpdatedBy: "alice"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	most := 0
	for range 50 {
		var n int
		if err := watcher.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'mmtoolkit'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		most = max(most, n)
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if most == 0 || most > 3 {
		t.Errorf("the store held up to %d connections, want 1 to 3", most)
	}
}

// TestPostgresPruneRacesPushOfSharedBlob: a prune collecting a blob and a
// push of another plugin naming that blob without sending it (it is stored)
// run at once, again and again. Whatever the interleaving, the push either
// stores its version with the blob kept, or fails with ErrMissingBlob; the
// store never holds a version naming a blob that is gone (Verify).
func TestPostgresPruneRacesPushOfSharedBlob(t *testing.T) {
	s := registrytest.OpenPostgres(t)
	admin := registry.Pusher{UserID: "admin", SystemAdmin: true}
	stored, missing := 0, 0
	for round := range 30 {
		bundle := []byte(fmt.Sprintf("bundle of round %d", round))
		for i := 1; i <= 2; i++ {
			b := bundle
			if i == 2 {
				b = []byte(fmt.Sprintf("newest build of round %d", round))
			}
			registrytest.Push(t, s, dev, "x.plugin", fmt.Sprintf("1.0.%d-dev.%d", round, i), b)
		}
		v, _ := registrytest.Version("y.plugin", fmt.Sprintf("1.0.%d", round), bundle)
		var wg sync.WaitGroup
		var pushErr, pruneErr error
		wg.Go(func() { _, pushErr = s.PutVersion(ctx, v, nil, admin) })
		wg.Go(func() {
			_, pruneErr = s.PrunePrereleases(ctx, registry.PruneQuery{PluginID: "x.plugin", PushedBy: "dev", Keep: 1, Actor: "mmtoolkit"})
		})
		wg.Wait()
		if pruneErr != nil {
			t.Fatal(pruneErr)
		}
		switch {
		case pushErr == nil:
			stored++
			if _, err := s.Blob(ctx, v.Artifacts[registry.WebJS].SHA256); err != nil {
				t.Fatalf("round %d: the push stored a version whose blob the prune took: %v", round, err)
			}
		case errors.Is(pushErr, registry.ErrMissingBlob):
			missing++
		default:
			t.Fatal(pushErr)
		}
	}
	t.Logf("30 races: %d pushes stored with the blob kept, %d refused for a blob the prune had taken", stored, missing)
	if err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestPostgresDSNTunes: pool_max_conns and statement_timeout in the
// store's address apply when Options do not say otherwise.
func TestPostgresDSNTunes(t *testing.T) {
	dsn := pgtest.DB(t)
	s := registrytest.OpenPostgresDSN(t, dsn+"&pool_max_conns=2&statement_timeout=300", nil)
	put(t, s, dev, "a.plugin", "1.0.0")
	holder, _ := holdPluginLock(t, dsn, "a.plugin")
	// Many pushes behind the held lock: each times out after 300 ms (not
	// the default minute), and no more than 2 connections wait at once.
	var wg sync.WaitGroup
	errs := make([]error, 6)
	start := time.Now()
	for i := range errs {
		wg.Go(func() {
			v, b := registrytest.Version("a.plugin", fmt.Sprintf("1.%d.0", i+1))
			_, errs[i] = s.PutVersion(ctx, v, b, dev)
		})
	}
	most := 0
	for range 20 {
		var n int
		if err := holder.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'mmtoolkit'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		most = max(most, n)
		time.Sleep(10 * time.Millisecond)
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, registry.ErrUnavailable) {
			t.Errorf("push %d behind the lock: %v, want ErrUnavailable", i, err)
		}
	}
	if took := time.Since(start); took > 50*time.Second {
		t.Errorf("six pushes behind a lock took %v: the address's statement_timeout was not applied", took)
	}
	if most > 2 {
		t.Errorf("%d connections, the address says pool_max_conns=2", most)
	}
}

// holdPluginLock locks plugin id's row (FOR UPDATE) in a transaction on a
// connection of its own to dsn, as a replica mid-push holds it, until the
// test rolls the transaction back or ends. Queries on the returned
// connection run inside that transaction.
func holdPluginLock(t *testing.T, dsn, id string) (*pgx.Conn, pgx.Tx) {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(ctx) })
	if _, err := tx.Exec(ctx, `SELECT 1 FROM plugins WHERE id = $1 FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	return conn, tx
}
