package registry_test

import (
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// TestAuditRecordsServedVersion: an enable or a disable of a team that
// follows the latest version writes the version it concerns (TeamState.Served,
// which the server decides) in the audit entry; before, the entry's version was
// the pin, empty for such a team, and the console's Version column was blank.
// Served is not stored with the state.
func TestAuditRecordsServedVersion(t *testing.T) {
	forEachStoreClock(t, func(t *testing.T, s testStore) {
		put(t, s, dev, "a.plugin", "1.0.0")
		put(t, s, dev, "a.plugin", "1.1.0")
		for _, st := range []registry.TeamState{
			{TeamID: "engineering", PluginID: "a.plugin", Enabled: true, UpdatedBy: "alice", Served: "1.1.0"},
			{TeamID: "engineering", PluginID: "a.plugin", Enabled: true, Version: "1.0.0", UpdatedBy: "alice", Served: "1.0.0"},
			{TeamID: "engineering", PluginID: "a.plugin", Enabled: false, Version: "1.0.0", UpdatedBy: "alice", Served: "1.0.0"},
			{TeamID: "sales", PluginID: "a.plugin", Enabled: true, UpdatedBy: "carol", Served: "1.1.0"},
			{TeamID: "sales", PluginID: "a.plugin", Enabled: false, UpdatedBy: "carol", Served: "1.1.0"},
		} {
			if _, err := s.SetTeamState(ctx, st); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		for _, e := range audit(t, s, registry.AuditFilter{PluginID: "a.plugin"}) {
			if e.Action != registry.ActionPush {
				got = append(got, e.TeamID+" "+e.Action+" "+e.Version)
			}
		}
		want := []string{
			"sales disable 1.1.0",
			"sales enable 1.1.0",
			"engineering disable 1.0.0",
			"engineering pin 1.0.0",
			"engineering enable 1.1.0",
		}
		if len(got) != len(want) {
			t.Fatalf("entries %q, want %q", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("entry %d = %q, want %q", i, got[i], want[i])
			}
		}
		states, err := s.TeamStates(ctx, "sales")
		if err != nil {
			t.Fatal(err)
		}
		if states["a.plugin"].Served != "" {
			t.Errorf("Served was stored: %+v", states["a.plugin"])
		}
	})
}
