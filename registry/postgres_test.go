package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mmtoolkit/mmtoolkit/internal/pgtest"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// Replicas starting at once on a new database apply each migration once:
// the runner takes an advisory lock in every migration's transaction.
func TestPostgresMigratesOnceAcrossReplicas(t *testing.T) {
	dsn := pgtest.DB(t)
	const replicas = 4
	var wg sync.WaitGroup
	stores := make([]*registry.Postgres, replicas)
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = registry.OpenPostgres(ctx, dsn, &registry.Options{MaxConns: 2})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	got, err := stores[0].SchemaVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0] != 1 {
		t.Fatalf("schema versions %v, want 1 first", got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Errorf("schema versions %v: applied twice or out of order", got)
		}
	}
	// Reopening applies nothing more.
	again := registrytest.OpenPostgresDSN(t, dsn, nil)
	if v, _ := again.SchemaVersions(ctx); len(v) != len(got) {
		t.Errorf("after reopening: %v, before %v", v, got)
	}
}

// A database migrated by a newer binary is refused, as bbolt refuses
// another schema version: this binary cannot know what it means.
func TestPostgresRefusesNewerSchema(t *testing.T) {
	dsn := pgtest.DB(t)
	s, err := registry.OpenPostgres(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')`); err != nil {
		t.Fatal(err)
	}
	_, err = registry.OpenPostgres(ctx, dsn, nil)
	if err == nil || !strings.Contains(err.Error(), "9999") || !strings.Contains(err.Error(), "newer mmtoolkit") {
		t.Fatalf("open = %v, want a refusal naming migration 9999", err)
	}
}

// A database that is down is ErrUnavailable, at open and on calls of an
// open store, and the store works again once it is back.
func TestPostgresUnavailable(t *testing.T) {
	c := pgtest.New(t)
	s := registrytest.OpenPostgresDSN(t, c.DSN("postgres"), nil)
	put(t, s, dev, "a.plugin", "1.0.0")
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Plugin(ctx, "a.plugin"); !errors.Is(err, registry.ErrUnavailable) {
		t.Errorf("read while down: %v, want ErrUnavailable", err)
	}
	v, b := registrytest.Version("a.plugin", "1.1.0")
	if _, err := s.PutVersion(ctx, v, b, dev); !errors.Is(err, registry.ErrUnavailable) {
		t.Errorf("write while down: %v, want ErrUnavailable", err)
	}
	if _, err := registry.OpenPostgres(ctx, c.DSN("postgres"), nil); !errors.Is(err, registry.ErrUnavailable) {
		t.Errorf("open while down: %v, want ErrUnavailable", err)
	}
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	p, err := s.Plugin(ctx, "a.plugin")
	if err != nil || p.Latest != "1.0.0" {
		t.Fatalf("after restart: %+v, %v", p, err)
	}
	put(t, s, dev, "a.plugin", "1.1.0")
}

// The address is never echoed back: it may carry a password.
func TestPostgresBadDSN(t *testing.T) {
	_, err := registry.OpenPostgres(context.Background(), "postgres://user:s3cret@[bad", nil)
	if !errors.Is(err, registry.ErrInvalid) || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v, want ErrInvalid without the password", err)
	}
}

// TestPostgresVerifyFindsDamage: Verify on PostgreSQL reports what breaks
// the store's invariants, as TestVerifyFindsDamage does for bbolt.
func TestPostgresVerifyFindsDamage(t *testing.T) {
	bundle := registrytest.SHA256([]byte("bundle"))
	source := registrytest.SHA256(registrytest.Gzip([]byte("bundle"))) // bytecode of a blob that is not the bundle
	tests := []struct {
		name   string
		damage string
		want   string
	}{
		{"blob deleted", `DELETE FROM blobs WHERE sha256 = '` + bundle + `'`, "missing"},
		{"blob changed", `UPDATE blobs SET data = 'BUNDLE' WHERE sha256 = '` + bundle + `'`, "hashes to"},
		{"blob size column wrong", `UPDATE blobs SET size = 7, data = 'bundle!' WHERE sha256 = '` + bundle + `'`, "record says 6"},
		{"version deleted", `DELETE FROM versions WHERE plugin_id = 'a.plugin'`, "not stored"},
		{"audit entry deleted", `DELETE FROM audit WHERE action = 'push'`, "0 push audit entries"},
		{"state changed behind the log", `UPDATE team_states SET record = '{"team_id":"t","plugin_id":"a.plugin","enabled":false}'`, "its audit entries say enabled=true"},
		{"toggle logged but not stored", `DELETE FROM team_states`, "no stored state"},
		{"plugin list out of step", `UPDATE plugins SET record = '{"id":"a.plugin","owner":"dev","versions":[],"latest":""}'`, "lists versions"},
		{"bytecode blob deleted", `DELETE FROM blobs WHERE sha256 = '` + registrytest.SHA256([]byte("hbc")) + `'`, "bytecode " + source + "/96: blob"},
		{"bytecode under another version", `UPDATE bytecode SET bytecode_version = 97`, "record says source"},
		{"failed compile names a blob", `UPDATE bytecode SET record = '{"source":"` + source + `","bytecode_version":96,"artifact":{"sha256":"x"},"error":"no"}'`, "a failed compile names blob"},
		{"encodings of a missing variant", `INSERT INTO encodings VALUES ('` + bundle + `', '{"gzip":{"sha256":"` + registrytest.SHA256([]byte("gz")) + `","size":2}}')`, "encoding gzip of " + bundle + ": blob"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dsn := pgtest.DB(t)
			s, err := registry.OpenPostgres(ctx, dsn, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			put(t, s, dev, "a.plugin", "1.0.0", []byte("bundle"))
			if _, err := s.SetTeamState(ctx, registry.TeamState{TeamID: "t", PluginID: "a.plugin", Enabled: true, UpdatedBy: "alice"}); err != nil {
				t.Fatal(err)
			}
			hbc := []byte("hbc")
			if err := s.PutBytecode(ctx, registry.Bytecode{Source: source, BytecodeVersion: 96,
				Artifact: registry.Artifact{SHA256: registrytest.SHA256(hbc), Size: int64(len(hbc))}}, hbc); err != nil {
				t.Fatal(err)
			}
			verify(t, s)
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, tc.damage); err != nil {
				t.Fatal(err)
			}
			err = s.Verify(ctx)
			if !errors.Is(err, registry.ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify() = %v, want ErrCorrupt mentioning %q", err, tc.want)
			}
		})
	}
}

// TestPostgresKilledMidPushLeavesNothing: a push whose connection dies in
// the middle of its transaction (after its blobs, version and plugin rows
// are written, while it waits to append its audit entry) leaves no half
// version: no plugin, version, blob, audit entry or change row, and the
// store verifies. The session is ended with pg_terminate_backend, as the
// database sees a replica SIGKILLed mid-push.
func TestPostgresKilledMidPushLeavesNothing(t *testing.T) {
	dsn := pgtest.DB(t)
	s := registrytest.OpenPostgresDSN(t, dsn, nil)
	put(t, s, dev, "a.plugin", "1.0.0", []byte("first bundle"))
	before := stats(t, s)
	lastChange, err := s.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Hold the audit table so the push blocks right before its audit
	// entry, with everything else of its transaction written.
	holder, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	htx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := htx.Exec(ctx, `LOCK TABLE audit IN EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	big := []byte(strings.Repeat("a large bundle that is written before the audit entry\n", 20000))
	v, blobs := registrytest.Version("b.plugin", "1.0.0", big, []byte(`{"version":3}`))
	done := make(chan error, 1)
	go func() {
		_, err := s.PutVersion(ctx, v, blobs, dev)
		done <- err
	}()

	// Wait until the push is blocked on the lock with its rows written,
	// then end its session. (From another connection: inside the holder's
	// transaction pg_stat_activity is one snapshot.)
	watcher, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close(ctx)
	var pid int32
	for {
		err := watcher.QueryRow(ctx, `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO audit%'`).Scan(&pid)
		if err == nil {
			break
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			t.Fatalf("the push finished while the audit table was held: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	var killed bool
	if err := watcher.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&killed); err != nil || !killed {
		t.Fatalf("pg_terminate_backend: %v %v", killed, err)
	}
	if err := htx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	err = <-done
	if !errors.Is(err, registry.ErrUnavailable) {
		t.Errorf("the killed push returned %v, want ErrUnavailable", err)
	}

	if _, err := s.Plugin(ctx, "b.plugin"); !errors.Is(err, registry.ErrPluginNotFound) {
		t.Errorf("plugin of the killed push: %v, want ErrPluginNotFound", err)
	}
	if _, err := s.Blob(ctx, registrytest.SHA256(big)); !errors.Is(err, registry.ErrBlobNotFound) {
		t.Errorf("blob of the killed push: %v, want ErrBlobNotFound", err)
	}
	if after := stats(t, s); after.Plugins != before.Plugins || after.Versions != before.Versions ||
		after.Blobs != before.Blobs || after.AuditEntries != before.AuditEntries {
		t.Errorf("after the killed push: %+v, before %+v", after, before)
	}
	if changes, err := s.Changes(ctx, lastChange, 0); err != nil || len(changes) != 0 {
		t.Errorf("change rows of the killed push: %v %v", changes, err)
	}
	verify(t, s)

	// The store goes on: the same push, again, succeeds.
	if _, err := s.PutVersion(ctx, v, blobs, dev); err != nil {
		t.Fatalf("the push again: %v", err)
	}
	verify(t, s)
}

// TestPostgresChangesCommitInIDOrder: a reader that follows the change log
// by asking for the rows after the last id it saw, while writers commit
// concurrently, sees every row: ids commit in id order (writers take the
// log's lock before appending), so a row can never appear below an id the
// reader has passed. Without the lock, a writer that took id N and
// committed after the writer of N+1 would be skipped.
func TestPostgresChangesCommitInIDOrder(t *testing.T) {
	s := registrytest.OpenPostgres(t)
	for i := range 4 {
		put(t, s, dev, fmt.Sprintf("p%d.plugin", i), "1.0.0")
	}
	start, err := s.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const writers, perWriter = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				// Different plugins and teams: no row lock orders them.
				_, err := s.SetTeamState(ctx, registry.TeamState{TeamID: fmt.Sprint("team", w), PluginID: fmt.Sprintf("p%d.plugin", w%4),
					Enabled: i%2 == 0, UpdatedBy: "alice"})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	writing := make(chan struct{})
	go func() { wg.Wait(); close(writing) }()

	var seen []int64
	last := start
	for done := false; !done; {
		select {
		case <-writing:
			done = true // one more read after the last commit
		default:
		}
		batch, err := s.Changes(ctx, last, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range batch {
			seen = append(seen, c.ID)
			last = c.ID
		}
		if done && len(batch) == 7 {
			done = false // more to read
		}
	}
	all, err := s.Changes(ctx, start, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers*perWriter {
		t.Fatalf("%d change rows, want %d", len(all), writers*perWriter)
	}
	if len(seen) != len(all) {
		t.Fatalf("the follower saw %d of %d change rows", len(seen), len(all))
	}
	for i, c := range all {
		if seen[i] != c.ID {
			t.Fatalf("the follower saw %d at position %d, the log has %d", seen[i], i, c.ID)
		}
		if c.Kind != registry.ChangeTeamState {
			t.Errorf("change %d is %q, want %q", c.ID, c.Kind, registry.ChangeTeamState)
		}
	}
}

// TestPostgresChangeRetention: rows older than the bound go, newer stay.
func TestPostgresChangeRetention(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	s := registrytest.OpenPostgresOptions(t, &registry.Options{Clock: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	put(t, s, dev, "a.plugin", "1.0.0")
	mu.Lock()
	now = now.Add(2 * registry.ChangeRetention)
	mu.Unlock()
	put(t, s, dev, "a.plugin", "1.1.0")
	n, err := s.DeleteChangesBefore(ctx, now.Add(-registry.ChangeRetention))
	if err != nil || n != 1 {
		t.Fatalf("DeleteChangesBefore = %d, %v; want 1", n, err)
	}
	left, err := s.Changes(ctx, 0, 0)
	if err != nil || len(left) != 1 {
		t.Fatalf("left %+v, %v", left, err)
	}
	var p registry.ChangeVersionPayload
	if err := json.Unmarshal(left[0].Payload, &p); err != nil || p.Version != "1.1.0" || left[0].Kind != registry.ChangeVersion {
		t.Errorf("the row left is %s %s, want the push of 1.1.0", left[0].Kind, left[0].Payload)
	}
}
