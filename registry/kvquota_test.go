package registry_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// TestKVQuotaPerActor: usage is the keys and bytes (key + value) of the
// entries a user wrote last, over every plugin and scope; taking over a
// key moves it to the new writer, a delete releases it, a refused write
// changes nothing, and a write that does not grow the usage passes over
// the bound.
func TestKVQuotaPerActor(t *testing.T) {
	forEachStore(t, func(t *testing.T, st testStore) { testKVQuotaPerActor(t, st.(kvTestStore)) })
}

func testKVQuotaPerActor(t *testing.T, s kvTestStore) {
	put := func(actor, plugin, scope, key, val string) error {
		_, err := s.KVPut(ctx, registry.KVWrite{PluginID: plugin, Scope: scope, Key: key, Value: []byte(val),
			Actor: actor, MaxActorKeys: 3, MaxActorBytes: 20})
		return err
	}
	usage := func(user string, keys, bytes int64) {
		t.Helper()
		k, b, err := s.KVUsage(ctx, user)
		if err != nil || k != keys || b != bytes {
			t.Fatalf("usage of %s = %d keys %d bytes (%v), want %d, %d", user, k, b, err, keys, bytes)
		}
	}
	for _, w := range [][3]string{{"p1", "user:u1", "a"}, {"p2", "user:u1", "a"}, {"p1", "team:t", "b"}} {
		if err := put("u1", w[0], w[1], w[2], "1"); err != nil {
			t.Fatal(err)
		}
	}
	usage("u1", 3, 6)
	if err := put("u1", "p3", "user:u1", "c", "1"); !errors.Is(err, registry.ErrKVQuota) {
		t.Fatalf("fourth key: %v", err)
	}
	usage("u1", 3, 6) // the refused write charged nothing
	if err := put("u1", "p1", "user:u1", "a", "12"); err != nil {
		t.Fatalf("growing a held key within the bytes: %v", err)
	}
	usage("u1", 3, 7)
	if err := put("u1", "p1", "user:u1", "a", "1234567890123456"); !errors.Is(err, registry.ErrKVQuota) {
		t.Fatalf("over the bytes: %v", err)
	}
	// u2 takes over the team key: it moves to u2.
	if err := put("u2", "p1", "team:t", "b", "22"); err != nil {
		t.Fatal(err)
	}
	usage("u1", 2, 5)
	usage("u2", 1, 3)
	if err := s.KVDelete(ctx, registry.KVWrite{PluginID: "p2", Scope: "user:u1", Key: "a", Actor: "u1"}); err != nil {
		t.Fatal(err)
	}
	usage("u1", 1, 3)
	// Over the bound (as after lowering it), shrinking still passes.
	if _, err := s.KVPut(ctx, registry.KVWrite{PluginID: "p1", Scope: "user:u1", Key: "a", Value: []byte("1"),
		Actor: "u1", MaxActorKeys: 1, MaxActorBytes: 1}); err != nil {
		t.Fatalf("a shrinking write over the bound: %v", err)
	}
	usage("u1", 1, 2)
}

// TestKVQuotaConcurrentTakeovers: two users taking over each other's keys
// at once (each write moves a key's charge from one user to the other)
// neither deadlock for good nor lose a charge: at the end each user's
// usage is what the keys they wrote last add up to.
func TestKVQuotaConcurrentTakeovers(t *testing.T) {
	forEachStore(t, func(t *testing.T, st testStore) {
		s := st.(kvTestStore)
		const keys, rounds = 4, 6
		errs := make(chan error, 2)
		for _, actor := range []string{"u1", "u2"} {
			go func() {
				for r := range rounds {
					for k := range keys {
						if _, err := s.KVPut(ctx, registry.KVWrite{PluginID: "p", Scope: fmt.Sprint("s", k), Key: "k",
							Value: []byte(strings.Repeat("x", 1+r)), Actor: actor, MaxActorKeys: 100, MaxActorBytes: 1000}); err != nil {
							errs <- err
							return
						}
					}
				}
				errs <- nil
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		want := map[string][2]int64{}
		for k := range keys {
			e, err := s.KVGet(ctx, "p", fmt.Sprint("s", k), "k")
			if err != nil {
				t.Fatal(err)
			}
			w := want[e.UpdatedBy]
			want[e.UpdatedBy] = [2]int64{w[0] + 1, w[1] + int64(len("k")+len(e.Value))}
		}
		for _, u := range []string{"u1", "u2"} {
			k, b, err := s.KVUsage(ctx, u)
			if err != nil || k != want[u][0] || b != want[u][1] {
				t.Errorf("usage of %s = %d keys %d bytes (%v), want %v", u, k, b, err, want[u])
			}
		}
	})
}
