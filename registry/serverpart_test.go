package registry_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// serverPartStore is what the server part tests call: both stores have it.
type serverPartStore interface {
	testStore
	registry.ServerParts
}

var (
	_ serverPartStore = (*registry.Bolt)(nil)
	_ serverPartStore = (*registry.Postgres)(nil)
)

func TestServerPart(t *testing.T) {
	forEachStore(t, func(t *testing.T, st testStore) { testServerPart(t, st.(serverPartStore)) })
}

func testServerPart(t *testing.T, s serverPartStore) {
	by := registry.Pusher{UserID: "u1"}
	registrytest.Push(t, s, by, "com.example.x", "1.0.0", []byte("a"))
	registrytest.Push(t, s, by, "com.example.x", "2.0.0", []byte("b"))

	got, err := s.ServerPart(ctx, "com.example.x")
	if err != nil || got != (registry.ServerPart{PluginID: "com.example.x"}) {
		t.Fatalf("before any change: %+v, %v; want the zero state (follow latest, enabled)", got, err)
	}
	for _, tc := range []struct {
		name string
		in   registry.ServerPart
		want error
	}{
		{"pin", registry.ServerPart{PluginID: "com.example.x", Pin: "1.0.0", UpdatedBy: "admin"}, nil},
		{"disable", registry.ServerPart{PluginID: "com.example.x", Pin: "1.0.0", Disabled: true, UpdatedBy: "admin"}, nil},
		{"pin a missing version", registry.ServerPart{PluginID: "com.example.x", Pin: "9.0.0", UpdatedBy: "admin"}, registry.ErrVersionNotFound},
		{"unknown plugin", registry.ServerPart{PluginID: "com.example.none", UpdatedBy: "admin"}, registry.ErrPluginNotFound},
		{"no actor", registry.ServerPart{PluginID: "com.example.x"}, registry.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := s.SetServerPart(ctx, tc.in, tc.name)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			back, _ := s.ServerPart(ctx, tc.in.PluginID)
			if back != out || back.Pin != tc.in.Pin || back.Disabled != tc.in.Disabled || back.UpdatedAt.IsZero() {
				t.Errorf("stored %+v, returned %+v", back, out)
			}
		})
	}
	entries, _ := s.Audit(ctx, registry.AuditFilter{PluginID: "com.example.x"})
	n := 0
	for _, e := range entries {
		if e.Action == registry.ActionServerPart {
			n++
		}
	}
	// Setting the same state again writes nothing.
	if _, err := s.SetServerPart(ctx, registry.ServerPart{PluginID: "com.example.x", Pin: "1.0.0", Disabled: true, UpdatedBy: "other"}, "again"); err != nil {
		t.Fatal(err)
	}
	again, _ := s.Audit(ctx, registry.AuditFilter{PluginID: "com.example.x"})
	if n != 2 || len(again) != len(entries) {
		t.Errorf("%d server_part audit entries (want 2); %d entries after an unchanged set, %d before", n, len(again), len(entries))
	}
	verifyIfAble(t, s)
}

// TestServerPartConcurrentSetsAuditOnce: replicas setting one plugin's
// server part to the same state at once write it, and its audit entry,
// once: each compares against what the other committed.
func TestServerPartConcurrentSetsAuditOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, st testStore) {
		s := st.(serverPartStore)
		registrytest.Push(t, s, registry.Pusher{UserID: "u1"}, "com.example.x", "1.0.0", []byte("a"))
		if _, err := s.SetServerPart(ctx, registry.ServerPart{PluginID: "com.example.x", Pin: "1.0.0", UpdatedBy: "admin"}, "pin"); err != nil {
			t.Fatal(err)
		}
		const n = 6
		errs := make(chan error, n)
		for i := range n {
			go func() {
				_, err := s.SetServerPart(ctx, registry.ServerPart{PluginID: "com.example.x", Pin: "1.0.0", Disabled: true,
					UpdatedBy: fmt.Sprint("admin", i)}, "kill switch")
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		entries, err := s.Audit(ctx, registry.AuditFilter{PluginID: "com.example.x"})
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for _, e := range entries {
			if e.Action == registry.ActionServerPart {
				got++
			}
		}
		if got != 2 {
			t.Fatalf("%d server_part audit entries for a pin and %d identical sets, want 2", got, n)
		}
	})
}
