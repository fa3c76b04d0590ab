package registry_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

func TestServerPart(t *testing.T) {
	ctx := context.Background()
	s := registrytest.Open(t)
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
	if err := s.Verify(ctx); err != nil {
		t.Errorf("Verify: %v", err)
	}
}
