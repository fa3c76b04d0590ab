package registry_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// TestKVQuotaPerActor: usage is the keys and bytes (key + value) of the
// entries a user wrote last, over every plugin and scope; taking over a
// key moves it to the new writer, a delete releases it, a refused write
// changes nothing, and a write that does not grow the usage passes over
// the bound.
func TestKVQuotaPerActor(t *testing.T) {
	ctx := context.Background()
	s := registrytest.Open(t)
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
