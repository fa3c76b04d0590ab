package notify

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serving"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

const plug = "com.example.notify"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// store holds plug at versions (pushed in order, Certified unless levels
// says otherwise).
func store(t *testing.T, versions []string, levels map[string]registry.Certification) *registry.Bolt {
	t.Helper()
	st := registrytest.Open(t)
	for _, v := range versions {
		ver, blobs := registrytest.Version(plug, v, []byte(v))
		ver.Certification = registry.Certified
		if l, ok := levels[v]; ok {
			ver.Certification = l
		}
		if _, err := st.PutVersion(context.Background(), ver, blobs, registry.Pusher{UserID: "dev"}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func state(enabled bool, pin string) registry.TeamState {
	return registry.TeamState{TeamID: "t", PluginID: plug, Enabled: enabled, Version: pin}
}

// TestTeamStateChanged: what each kind of state change tells the team.
func TestTeamStateChanged(t *testing.T) {
	st := store(t, []string{"1.0.0", "1.1.0", "1.2.0-dev.1"}, map[string]registry.Certification{"1.1.0": registry.Unverified})
	for _, tc := range []struct {
		name          string
		min           registry.Certification
		before, after registry.TeamState
		want          Kind // "" = nothing
	}{
		{"enable", 0, state(false, ""), state(true, ""), Enabled},
		{"disable", 0, state(true, ""), state(false, ""), Disabled},
		{"disable keeping the pin", 0, state(true, "1.0.0"), state(false, "1.0.0"), Disabled},
		{"pin another version", 0, state(true, ""), state(true, "1.0.0"), Updated},
		{"pin of what it served", 0, state(true, "1.1.0"), state(true, ""), Previews},
		{"pin while disabled", 0, state(false, ""), state(false, "1.0.0"), ""},
		{"unpin to the same version under a minimum", registry.Certified, state(true, "1.0.0"), state(true, ""), Previews},
		{"unpin to a newer one", 0, state(true, "1.0.0"), state(true, ""), Updated},
		{"nothing changed", 0, state(true, ""), state(true, ""), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := New(st, serving.New(st, tc.min), quiet)
			e, ok := n.TeamStateChanged(context.Background(), changes.TeamStateChanged{
				TeamID: "t", Plugin: &registry.Plugin{ID: plug}, Before: tc.before, After: tc.after})
			if got := Kind(""); ok {
				got = e.Kind
				if e.TeamID != "t" || e.PluginID != plug {
					t.Errorf("event %+v", e)
				}
				if got != tc.want {
					t.Errorf("told %q, want %q", got, tc.want)
				}
			} else if tc.want != "" {
				t.Errorf("told nothing, want %q", tc.want)
			}
		})
	}
}

// TestVersionStored: plugin_updated goes to the teams that follow the
// latest and now serve the stored version, in team order; pinned teams,
// teams with the plugin disabled, and teams that do not serve the version
// (a prerelease, a version under the minimum) hear nothing.
func TestVersionStored(t *testing.T) {
	ctx := context.Background()
	st := store(t, []string{"1.0.0", "1.1.0", "1.2.0-dev.1", "1.3.0"}, map[string]registry.Certification{"1.3.0": registry.Unverified})
	for team, s := range map[string]registry.TeamState{
		"b-follows": {Enabled: true}, "a-follows": {Enabled: true}, "pinned": {Enabled: true, Version: "1.0.0"}, "off": {}} {
		s.TeamID, s.PluginID, s.UpdatedBy = team, plug, "admin"
		if _, err := st.SetTeamState(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	version := func(v string) *registry.Version {
		ver, err := st.Version(ctx, plug, v)
		if err != nil {
			t.Fatal(err)
		}
		return ver
	}
	told := func(n *Notifier, v string) []string {
		var out []string
		for _, e := range n.VersionStored(ctx, changes.VersionStored{Version: version(v)}) {
			if e.Kind != Updated || e.PluginID != plug {
				t.Errorf("event %+v", e)
			}
			out = append(out, e.TeamID)
		}
		return out
	}
	open := New(st, serving.New(st, registry.Unverified), quiet)
	if got := told(open, "1.3.0"); !slices.Equal(got, []string{"a-follows", "b-follows"}) {
		t.Errorf("1.3.0 without a minimum told %v", got)
	}
	if got := told(open, "1.2.0-dev.1"); len(got) != 0 {
		t.Errorf("a prerelease told %v", got)
	}
	certified := New(st, serving.New(st, registry.Certified), quiet)
	if got := told(certified, "1.3.0"); len(got) != 0 {
		t.Errorf("1.3.0 under the minimum told %v", got)
	}
	if got := told(certified, "1.1.0"); !slices.Equal(got, []string{"a-follows", "b-follows"}) {
		t.Errorf("1.1.0, the highest certified, told %v", got)
	}
}

// logStore is a store with a change log (as PostgreSQL's).
type logStore struct {
	*registry.Bolt
	rows []registry.Change
}

func (l *logStore) Changes(_ context.Context, after int64, limit int) ([]registry.Change, error) {
	var out []registry.Change
	for _, r := range l.rows {
		if r.ID > after && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

// TestStatesAsOf: a version another replica stored is judged against the
// team states as of its row: a team enabled after it (its own row tells
// it plugin_enabled) hears no plugin_updated for it; a row without the
// state before leaves the team out.
func TestStatesAsOf(t *testing.T) {
	ctx := context.Background()
	bolt := store(t, []string{"1.0.0", "1.1.0"}, nil)
	for _, team := range []string{"early", "late", "old-row"} {
		if _, err := bolt.SetTeamState(ctx, registry.TeamState{TeamID: team, PluginID: plug, Enabled: true, UpdatedBy: "a"}); err != nil {
			t.Fatal(err)
		}
	}
	row := func(id int64, payload any) registry.Change {
		b, _ := json.Marshal(payload)
		return registry.Change{ID: id, Kind: registry.ChangeTeamState, Payload: b}
	}
	ls := &logStore{Bolt: bolt, rows: []registry.Change{
		// After the version's row 10: "late" was enabled, "old-row" by a
		// binary that wrote no state before; another plugin's row.
		row(11, map[string]any{"team_id": "late", "plugin_id": plug, "enabled": true, "was_enabled": false}),
		row(12, map[string]any{"team_id": "old-row", "plugin_id": plug, "enabled": true}),
		row(13, map[string]any{"team_id": "early", "plugin_id": "com.example.other", "enabled": false, "was_enabled": true}),
		{ID: 14, Kind: registry.ChangeVersion, Payload: []byte(`{}`)},
	}}
	n := New(ls, serving.New(ls, registry.Unverified), quiet)
	v, _ := bolt.Version(ctx, plug, "1.1.0")
	var got []string
	for _, e := range n.VersionStored(ctx, changes.VersionStored{Version: v, AsOf: 10}) {
		got = append(got, e.TeamID)
	}
	if !slices.Equal(got, []string{"early"}) {
		t.Fatalf("a remote version told %v, want [early]", got)
	}
	// Stored here: the states now.
	got = nil
	for _, e := range n.VersionStored(ctx, changes.VersionStored{Version: v}) {
		got = append(got, e.TeamID)
	}
	if !slices.Equal(got, []string{"early", "late", "old-row"}) {
		t.Fatalf("a local version told %v", got)
	}
}

// TestSubscribe: the feed's team-state changes and stored versions reach
// tell as events, in the change's order; other changes tell nothing.
func TestSubscribe(t *testing.T) {
	ctx := context.Background()
	st := store(t, []string{"1.0.0"}, nil)
	if _, err := st.SetTeamState(ctx, registry.TeamState{TeamID: "t", PluginID: plug, Enabled: true, UpdatedBy: "a"}); err != nil {
		t.Fatal(err)
	}
	var feed changes.Feed
	var got []Event
	New(st, serving.New(st, registry.Unverified), quiet).Subscribe(&feed, func(_ context.Context, e Event) { got = append(got, e) })
	v, _ := st.Version(ctx, plug, "1.0.0")
	feed.Publish(ctx, changes.VersionStored{Version: v})
	feed.Publish(ctx, changes.TeamStateChanged{TeamID: "t", Plugin: &registry.Plugin{ID: plug}, Before: state(true, ""), After: state(false, "")})
	feed.Publish(ctx, changes.BlobsPruned{})
	want := []Event{{"t", plug, Updated}, {"t", plug, Disabled}}
	if !slices.Equal(got, want) {
		t.Fatalf("told %+v, want %+v", got, want)
	}
}
