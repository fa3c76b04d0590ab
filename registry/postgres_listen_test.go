package registry_test

import (
	"context"
	"encoding/json"
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

// collector gathers what a follower delivers.
type collector struct {
	mu      sync.Mutex
	ids     []int64
	local   map[int64]bool
	resyncs int
	changed chan struct{}
}

func newCollector() *collector {
	return &collector{local: map[int64]bool{}, changed: make(chan struct{}, 1)}
}

func (c *collector) handle(b registry.FollowBatch) (int, error) {
	c.mu.Lock()
	for _, ch := range b.Changes {
		c.ids = append(c.ids, ch.ID)
		c.local[ch.ID] = ch.Local
	}
	if b.Resync {
		c.resyncs++
	}
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
	return len(b.Changes), nil
}

// waitFor waits until the collector has n rows.
func (c *collector) waitFor(t *testing.T, n int) []int64 {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		c.mu.Lock()
		got := append([]int64(nil), c.ids...)
		c.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-c.changed:
		case <-deadline:
			t.Fatalf("follower delivered %d rows %v, want %d", len(got), got, n)
		}
	}
}

func publish(t *testing.T, s *registry.Postgres, i int) {
	t.Helper()
	if err := s.PublishEvent(ctx, registry.ChangePluginEvent, json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
		t.Fatal(err)
	}
}

// A follower whose notification connection is killed (pg_terminate_backend)
// reconnects and delivers every row written meanwhile, once each, in id
// order; rows its own store wrote say Local.
func TestFollowerSurvivesTerminatedConnection(t *testing.T) {
	dsn := pgtest.DB(t)
	writer := registrytest.OpenPostgresDSN(t, dsn, nil)
	reader := registrytest.OpenPostgresDSN(t, dsn, nil)
	start, err := reader.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := newCollector()
	f := reader.Follow(start, c.handle)
	defer f.Close()

	publish(t, writer, 0)
	publish(t, reader, 1) // local to the follower's store
	c.waitFor(t, 2)

	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	// Kill the listener a few times, writing while it is down.
	n := 2
	for round := range 3 {
		var killed int
		deadline := time.Now().Add(30 * time.Second)
		for killed == 0 {
			if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE application_name = $1 AND datname = current_database()`, registry.FollowerApplicationName).Scan(&killed); err != nil {
				t.Fatal(err)
			}
			if killed == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("round %d: no follower connection to terminate", round)
				}
				time.Sleep(20 * time.Millisecond) // reconnecting with backoff
			}
		}
		for range 5 {
			publish(t, writer, n)
			n++
		}
	}
	got := c.waitFor(t, n)
	if len(got) != n {
		t.Fatalf("delivered %d rows, want %d: %v", len(got), n, got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("rows out of order or twice: %v", got)
		}
	}
	if f.Reconnects() < 1 {
		t.Errorf("Reconnects = %d after terminating its connection", f.Reconnects())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.local[got[0]] || !c.local[got[1]] {
		t.Errorf("Local: row by the other store %v, by its own %v; want false, true", c.local[got[0]], c.local[got[1]])
	}
	if c.resyncs != 0 {
		t.Errorf("%d resyncs with every row retained", c.resyncs)
	}
}

// A follower whose database stops reconnects when it is back, and delivers
// what was written after it started.
func TestFollowerSurvivesRestart(t *testing.T) {
	cl := pgtest.New(t)
	_, dsn, err := cl.CreateDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := registrytest.OpenPostgresDSN(t, dsn, nil)
	c := newCollector()
	f := s.Follow(0, c.handle)
	defer f.Close()
	publish(t, s, 0)
	c.waitFor(t, 1)
	if err := cl.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.PublishEvent(ctx, registry.ChangePluginEvent, json.RawMessage(`{}`)); !errors.Is(err, registry.ErrUnavailable) {
		t.Fatalf("publish while down: %v, want ErrUnavailable", err)
	}
	if err := cl.Restart(); err != nil {
		t.Fatal(err)
	}
	other := registrytest.OpenPostgresDSN(t, dsn, nil)
	publish(t, other, 1)
	got := c.waitFor(t, 2)
	if len(got) != 2 {
		t.Fatalf("rows %v, want 2", got)
	}
}

// CatchUp delivers a row committed before it was called without waiting
// for the notification.
func TestFollowerCatchUp(t *testing.T) {
	dsn := pgtest.DB(t)
	s := registrytest.OpenPostgresDSN(t, dsn, nil)
	other := registrytest.OpenPostgresDSN(t, dsn, nil)
	c := newCollector()
	f := s.Follow(0, c.handle)
	defer f.Close()
	for i := range 20 {
		publish(t, other, i)
		if err := f.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		c.mu.Lock()
		n := len(c.ids)
		c.mu.Unlock()
		if n != i+1 {
			t.Fatalf("after CatchUp of row %d: %d rows delivered", i+1, n)
		}
	}
}

// Event payloads are bounded.
func TestPublishEventBound(t *testing.T) {
	s := registrytest.OpenPostgresDSN(t, pgtest.DB(t), nil)
	big := make([]byte, registry.MaxPluginEventBytes+1)
	for i := range big {
		big[i] = ' '
	}
	big[0], big[len(big)-1] = '{', '}'
	if err := s.PublishEvent(context.Background(), registry.ChangePluginEvent, big); !errors.Is(err, registry.ErrEventTooLarge) {
		t.Fatalf("publish %d bytes: %v, want ErrEventTooLarge", len(big), err)
	}
}

// A follower that starts (or comes back) after the rows it had not read
// were swept says so: its first batch is a Resync.
func TestFollowerResyncsAfterSweptRows(t *testing.T) {
	s := registrytest.OpenPostgresDSN(t, pgtest.DB(t), nil)
	publish(t, s, 0)
	seen, err := s.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, s, 1)
	publish(t, s, 2)
	if _, err := s.DeleteChangesBefore(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	c := newCollector()
	f := s.Follow(seen, c.handle)
	defer f.Close()
	publish(t, s, 3)
	c.waitFor(t, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.resyncs != 1 {
		t.Fatalf("%d resyncs after the rows after %d were swept, want 1", c.resyncs, seen)
	}
}
