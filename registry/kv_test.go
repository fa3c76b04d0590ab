package registry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

func rev(n uint64) *uint64 { return &n }

func TestKV(t *testing.T) {
	ctx := context.Background()
	s := registrytest.Open(t)
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
	if err := s.Verify(ctx); err != nil {
		t.Fatalf("verify with kv data: %v", err)
	}
}

func BenchmarkKVPut(b *testing.B) {
	s := registrytest.Open(b)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if _, err := s.KVPut(ctx, registry.KVWrite{PluginID: "p", Scope: "user:u", Key: fmt.Sprint(i % 100), Value: []byte("v"), Actor: "u"}); err != nil {
			b.Fatal(err)
		}
	}
}
