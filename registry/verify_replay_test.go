package registry_test

import (
	"context"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// TestVerifyReplaysPinsFromDetail: team audit entries name the version a
// change concerns (TeamState.Served for a team following the latest), not
// the pin; Verify replays the pin from their Detail, so a store whose teams
// enabled, pinned, followed and disabled a plugin verifies.
func TestVerifyReplaysPinsFromDetail(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, s testStore) {
		dev := registry.Pusher{UserID: "dev"}
		registrytest.Push(t, s, dev, "a.plugin", "1.0.0")
		registrytest.Push(t, s, dev, "a.plugin", "1.1.0")
		for _, st := range []registry.TeamState{
			{TeamID: "t1", PluginID: "a.plugin", Enabled: true, Served: "1.1.0"},
			{TeamID: "t1", PluginID: "a.plugin", Enabled: true, Version: "1.0.0", Served: "1.0.0"},
			{TeamID: "t1", PluginID: "a.plugin", Enabled: false, Version: "1.0.0", Served: "1.0.0"},
			{TeamID: "t1", PluginID: "a.plugin", Enabled: true, Version: "", Served: "1.1.0"},
			{TeamID: "t2", PluginID: "a.plugin", Enabled: true, Served: "1.1.0"},
			{TeamID: "t2", PluginID: "a.plugin", Enabled: false, Served: "1.1.0"},
		} {
			st.UpdatedBy = "alice"
			if _, err := s.SetTeamState(ctx, st); err != nil {
				t.Fatal(err)
			}
			if err := s.Verify(ctx); err != nil {
				t.Fatalf("after %+v: %v", st, err)
			}
		}
	})
}
