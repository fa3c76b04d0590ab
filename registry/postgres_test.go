package registry_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

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
	again, err := registry.OpenPostgres(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
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
	s, err := registry.OpenPostgres(ctx, c.DSN("postgres"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
