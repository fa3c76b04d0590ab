package serving

import (
	"context"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// TestGenerationFollowsTheFeed publishes every kind of change to a feed a
// Generation subscribed to and checks which numbers move: every change a
// served answer depends on moves Served; all but a team's state move
// Plugins (the console's catalogue holds no team state); encodings,
// source maps, server parts and a failed Hermes compile move neither.
func TestGenerationFollowsTheFeed(t *testing.T) {
	v := &registry.Version{PluginID: plug, Version: "1.0.0"}
	for _, tc := range []struct {
		change         changes.Change
		served, plugin bool
	}{
		{changes.VersionStored{Version: v}, true, true},
		{changes.VersionStored{Version: v, AsOf: 7}, true, true},
		{changes.VersionCertified{Version: v}, true, true},
		{changes.BlobsPruned{SHAs: []string{"ab"}}, true, true},
		{changes.BytecodeStored{Bytecode: registry.Bytecode{BytecodeVersion: 96}}, true, true},
		{changes.BytecodeStored{Bytecode: registry.Bytecode{BytecodeVersion: 96, Error: "hermesc failed"}}, false, false},
		{changes.TeamStateChanged{TeamID: team, Plugin: &registry.Plugin{ID: plug}, After: registry.TeamState{Enabled: true}}, true, false},
		{changes.EncodingsStored{SHA: "ab"}, false, false},
		{changes.SourceMapStored{}, false, false},
		{changes.ServerPartChanged{}, false, false},
	} {
		var feed changes.Feed
		var g Generation
		g.Subscribe(&feed)
		served, plugins := g.Served(), g.Plugins()
		feed.Publish(context.Background(), tc.change)
		if moved := g.Served() != served; moved != tc.served {
			t.Errorf("%T %+v: Served moved %v, want %v", tc.change, tc.change, moved, tc.served)
		}
		if moved := g.Plugins() != plugins; moved != tc.plugin {
			t.Errorf("%T %+v: Plugins moved %v, want %v", tc.change, tc.change, moved, tc.plugin)
		}
	}
}

// TestGenerationNeverRepeats: a cache built at one number is never good
// again after any change, so numbers only grow, under concurrent changes
// too (run with -race).
func TestGenerationNeverRepeats(t *testing.T) {
	var g Generation
	const n = 200
	done := make(chan struct{})
	for range 2 {
		go func() {
			for range n {
				g.Changed()
				g.TeamStateChanged()
			}
			done <- struct{}{}
		}()
	}
	<-done
	<-done
	if got := g.Served(); got != 4*n {
		t.Fatalf("Served = %d after %d changes", got, 4*n)
	}
	if got := g.Plugins(); got != 2*n {
		t.Fatalf("Plugins = %d after %d changes of plugins", got, 2*n)
	}
}
