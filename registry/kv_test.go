package registry_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

func rev(n uint64) *uint64 { return &n }

// kvTestStore is what the KV tests call: both stores have it.
type kvTestStore interface {
	testStore
	registry.KV
	KVUsage(ctx context.Context, user string) (keys, bytes int64, err error)
}

var (
	_ kvTestStore = (*registry.Bolt)(nil)
	_ kvTestStore = (*registry.Postgres)(nil)
)

// verifyIfAble runs the store's Verify when it has one.
func verifyIfAble(t *testing.T, s any) {
	t.Helper()
	if v, ok := s.(interface{ Verify(context.Context) error }); ok {
		if err := v.Verify(ctx); err != nil {
			t.Errorf("verify: %v", err)
		}
	}
}

func TestKV(t *testing.T) {
	forEachStore(t, func(t *testing.T, st testStore) {
		s := st.(kvTestStore)
		w := func(key, val string, ifRev *uint64) registry.KVWrite {
			return registry.KVWrite{PluginID: "p", Scope: "team:t1", Key: key, Value: []byte(val), IfRev: ifRev, Actor: "u1", MaxKeys: 3}
		}
		if _, err := s.KVGet(ctx, "p", "team:t1", "a"); !errors.Is(err, registry.ErrKVNotFound) {
			t.Fatalf("get missing: %v", err)
		}
		a, err := s.KVPut(ctx, w("a", "1", rev(0)))
		if err != nil || a.Rev == 0 || string(a.Value) != "1" || a.UpdatedBy != "u1" {
			t.Fatalf("create: %+v %v", a, err)
		}
		if got, err := s.KVGet(ctx, "p", "team:t1", "a"); err != nil || got.Key != "a" || got.Rev != a.Rev || !got.UpdatedAt.Equal(a.UpdatedAt) {
			t.Fatalf("read back %+v %v, wrote %+v", got, err, a)
		}
		if _, err := s.KVPut(ctx, w("a", "2", rev(0))); !errors.Is(err, registry.ErrKVConflict) {
			t.Fatalf("create-only over an existing key: %v", err)
		}
		if _, err := s.KVPut(ctx, w("a", "2", rev(a.Rev+7))); !errors.Is(err, registry.ErrKVConflict) {
			t.Fatalf("stale revision: %v", err)
		}
		a2, err := s.KVPut(ctx, w("a", "2", rev(a.Rev)))
		if err != nil || a2.Rev <= a.Rev {
			t.Fatalf("compare-and-set: %+v %v", a2, err)
		}
		if got, _ := s.KVGet(ctx, "p", "team:t1", "a"); string(got.Value) != "2" {
			t.Fatalf("after CAS: %q", got.Value)
		}
		// Scopes and plugins are separate.
		if _, err := s.KVGet(ctx, "p", "team:t2", "a"); !errors.Is(err, registry.ErrKVNotFound) {
			t.Errorf("scope leak: %v", err)
		}
		if _, err := s.KVGet(ctx, "q", "team:t1", "a"); !errors.Is(err, registry.ErrKVNotFound) {
			t.Errorf("plugin leak: %v", err)
		}
		for _, k := range []string{"b/1", "b/2"} {
			if _, err := s.KVPut(ctx, w(k, k, nil)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.KVPut(ctx, w("c", "x", nil)); !errors.Is(err, registry.ErrKVTooManyKeys) {
			t.Fatalf("fourth key: %v", err)
		}
		if _, err := s.KVPut(ctx, w("a", "3", nil)); err != nil {
			t.Fatalf("overwrite at the key limit: %v", err)
		}
		list, err := s.KVList(ctx, "p", "team:t1", "b/", "", 0)
		if err != nil || len(list) != 2 || list[0].Key != "b/1" || list[1].Key != "b/2" {
			t.Fatalf("list prefix: %+v %v", list, err)
		}
		page, _ := s.KVList(ctx, "p", "team:t1", "", "a", 1)
		if len(page) != 1 || page[0].Key != "b/1" {
			t.Fatalf("list after: %+v", page)
		}
		if err := s.KVDelete(ctx, w("b/1", "", rev(1))); !errors.Is(err, registry.ErrKVConflict) {
			t.Fatalf("delete with stale rev: %v", err)
		}
		if err := s.KVDelete(ctx, w("b/1", "", nil)); err != nil {
			t.Fatal(err)
		}
		if err := s.KVDelete(ctx, w("b/1", "", nil)); !errors.Is(err, registry.ErrKVNotFound) {
			t.Fatalf("delete twice: %v", err)
		}
		if err := s.KVDelete(ctx, registry.KVWrite{PluginID: "p", Scope: "team:none", Key: "a", Actor: "u1"}); !errors.Is(err, registry.ErrKVNotFound) {
			t.Fatalf("delete in a scope never written: %v", err)
		}
		// A deleted key's room is free again, and revisions never go back.
		c, err := s.KVPut(ctx, w("c", "x", rev(0)))
		if err != nil || c.Rev <= a2.Rev {
			t.Fatalf("a key in the room a delete made: %+v %v", c, err)
		}
		verifyIfAble(t, s)
	})
}

// TestKVListOrdersBytes: keys list in byte order (for UTF-8, code point
// order), a prefix ends where its bytes do, and an empty scope lists as an
// empty, non-nil slice.
func TestKVListOrdersBytes(t *testing.T) {
	forEachStore(t, func(t *testing.T, st testStore) {
		s := st.(kvTestStore)
		keys := []string{"B", "a", "ab", "aÿ", "aÿÿ", "aÿb", "a/1", "a0", "b", "é", "\U0010ffff", "\U0010ffff\U0010ffff", "a\U0010ffff"}
		for _, k := range keys {
			if _, err := s.KVPut(ctx, registry.KVWrite{PluginID: "p", Scope: "s", Key: k, Value: []byte(`1`), Actor: "u"}); err != nil {
				t.Fatalf("put %q: %v", k, err)
			}
		}
		list := func(prefix, after string, limit int) string {
			t.Helper()
			es, err := s.KVList(ctx, "p", "s", prefix, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range es {
				out = append(out, strconv.QuoteToASCII(e.Key))
			}
			return fmt.Sprint(out)
		}
		for _, tc := range []struct {
			prefix, after string
			limit         int
			want          string
		}{
			{"", "", 0, `["B" "a" "a/1" "a0" "ab" "a\u00ff" "a\u00ffb" "a\u00ff\u00ff" "a\U0010ffff" "b" "\u00e9" "\U0010ffff" "\U0010ffff\U0010ffff"]`},
			{"a", "", 0, `["a" "a/1" "a0" "ab" "a\u00ff" "a\u00ffb" "a\u00ff\u00ff" "a\U0010ffff"]`},
			{"aÿ", "", 0, `["a\u00ff" "a\u00ffb" "a\u00ff\u00ff"]`},
			{"aÿ", "aÿ", 0, `["a\u00ffb" "a\u00ff\u00ff"]`},
			{"\U0010ffff", "", 0, `["\U0010ffff" "\U0010ffff\U0010ffff"]`},
			{"a", "a0", 2, `["ab" "a\u00ff"]`},
			{"a", "z", 0, `[]`},
			{"c", "", 0, `[]`},
		} {
			if got := list(tc.prefix, tc.after, tc.limit); got != tc.want {
				t.Errorf("list prefix %q after %q limit %d = %s, want %s", tc.prefix, tc.after, tc.limit, got, tc.want)
			}
		}
		if es, err := s.KVList(ctx, "p", "empty", "", "", 0); err != nil || es == nil || len(es) != 0 {
			t.Errorf("empty scope: %#v %v", es, err)
		}
	})
}

// TestKVConcurrentWrites: compare-and-set and the key bound hold when
// writers race (on PostgreSQL, writers on separate connections, as
// replicas are): of N increments by compare-and-set none is lost, and N
// writers of new keys into a scope bounded at 5 keys make exactly 5.
func TestKVConcurrentWrites(t *testing.T) {
	forEachStore(t, func(t *testing.T, st testStore) {
		s := st.(kvTestStore)
		const writers, rounds = 4, 5
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for done := 0; done < rounds; {
					cur, err := s.KVGet(ctx, "p", "s", "counter")
					var ifRev uint64
					n := 0
					switch {
					case err == nil:
						ifRev = cur.Rev
						n, _ = strconv.Atoi(string(cur.Value))
					case !errors.Is(err, registry.ErrKVNotFound):
						errs <- err
						return
					}
					_, err = s.KVPut(ctx, registry.KVWrite{PluginID: "p", Scope: "s", Key: "counter", Value: []byte(strconv.Itoa(n + 1)),
						IfRev: &ifRev, Actor: fmt.Sprint("u", w)})
					switch {
					case err == nil:
						done++
					case !errors.Is(err, registry.ErrKVConflict):
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		got, err := s.KVGet(ctx, "p", "s", "counter")
		if err != nil || string(got.Value) != strconv.Itoa(writers*rounds) {
			t.Fatalf("counter = %q (%v), want %d: a compare-and-set was lost", got.Value, err, writers*rounds)
		}

		const bound, racers = 5, 12
		var ok sync.WaitGroup
		var mu sync.Mutex
		made, refused, size := 0, 0, int64(0)
		ok.Add(racers)
		for i := range racers {
			go func() {
				defer ok.Done()
				key := fmt.Sprint("k", i)
				_, err := s.KVPut(ctx, registry.KVWrite{PluginID: "p", Scope: "bounded", Key: key, Value: []byte("1"), Actor: "u", MaxKeys: bound})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					made++
					size += int64(len(key) + 1)
				case errors.Is(err, registry.ErrKVTooManyKeys):
					refused++
				default:
					t.Error(err)
				}
			}()
		}
		ok.Wait()
		if made != bound || refused != racers-bound {
			t.Fatalf("%d keys made, %d refused; want %d and %d", made, refused, bound, racers-bound)
		}
		if keys, bytes, err := s.KVUsage(ctx, "u"); err != nil || keys != bound || bytes != size {
			t.Fatalf("usage %d keys %d bytes (%v), want %d and %d", keys, bytes, err, bound, size)
		}
	})
}

// BenchmarkKVPut: one put (overwriting one of 100 keys) on each store; on
// PostgreSQL a transaction of a few statements and the change row.
func BenchmarkKVPut(b *testing.B) {
	for _, kind := range storeKinds {
		b.Run(kind, func(b *testing.B) {
			var s kvTestStore = registrytest.Open(b)
			if kind == "postgres" {
				s = registrytest.OpenPostgres(b)
			}
			ctx := context.Background()
			for i := 0; b.Loop(); i++ {
				if _, err := s.KVPut(ctx, registry.KVWrite{PluginID: "p", Scope: "user:u", Key: fmt.Sprint(i % 100), Value: []byte("v"), Actor: "u"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
