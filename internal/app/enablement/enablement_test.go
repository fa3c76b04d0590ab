package enablement

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serving"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

const plug = "com.example.teams"

// newService is a Service over a real store holding plug at versions
// (pushed in order, at the levels given, Certified by default), with the
// minimum min, and the changes it publishes.
func newService(t *testing.T, min registry.Certification, versions []string, levels map[string]registry.Certification) (*Service, *registry.Bolt, *[]changes.TeamStateChanged) {
	t.Helper()
	ctx := context.Background()
	store := registrytest.Open(t)
	for _, v := range versions {
		ver, blobs := registrytest.Version(plug, v, []byte(plug+" "+v))
		ver.Certification = registry.Certified
		if l, ok := levels[v]; ok {
			ver.Certification = l
		}
		if _, err := store.PutVersion(ctx, ver, blobs, registry.Pusher{UserID: "dev"}); err != nil {
			t.Fatal(err)
		}
	}
	var feed changes.Feed
	var got []changes.TeamStateChanged
	changes.On(&feed, "test", func(_ context.Context, c changes.TeamStateChanged) { got = append(got, c) })
	return New(store, serving.New(store, min), &feed), store, &got
}

func pin(v string) *string { return &v }

// TestSetPublishesEachChange: every Set is one stored state, with its
// audit entry, and one TeamStateChanged carrying the state before and
// after; a pin is kept when the version is nil and dropped by "latest".
func TestSetPublishesEachChange(t *testing.T) {
	ctx := context.Background()
	s, store, got := newService(t, registry.Unverified, []string{"1.0.0", "1.1.0"}, nil)
	steps := []struct {
		enabled bool
		version *string
		pin     string // the stored pin after
		served  string // the audit entry's version (the one the change concerns)
	}{
		{true, nil, "", "1.1.0"},
		{true, pin("1.0.0"), "1.0.0", "1.0.0"},
		{false, nil, "1.0.0", "1.0.0"},
		{true, pin(Latest), "", "1.1.0"},
	}
	for i, step := range steps {
		st, p, err := s.Set(ctx, "admin", "t1", plug, step.enabled, step.version)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if p.ID != plug || st.Enabled != step.enabled || st.Version != step.pin || st.UpdatedBy != "admin" {
			t.Fatalf("step %d: state %+v, want enabled %v pin %q", i, st, step.enabled, step.pin)
		}
		if len(*got) != i+1 {
			t.Fatalf("step %d: %d changes published, want %d", i, len(*got), i+1)
		}
		c := (*got)[i]
		if c.TeamID != "t1" || c.After.Enabled != step.enabled || c.After.Version != step.pin {
			t.Fatalf("step %d: published %+v", i, c)
		}
		if i > 0 && (c.Before.Enabled != steps[i-1].enabled || c.Before.Version != steps[i-1].pin) {
			t.Fatalf("step %d: before %+v, want the previous step's state", i, c.Before)
		}
	}
	states, err := store.TeamStates(ctx, "t1")
	if err != nil || !states[plug].Enabled || states[plug].Version != "" {
		t.Fatalf("stored %+v, %v", states[plug], err)
	}
	audit, err := store.Audit(ctx, registry.AuditFilter{PluginID: plug, TeamID: "t1"})
	if err != nil || len(audit) != len(steps) {
		t.Fatalf("%d audit entries for the team, want %d (%v)", len(audit), len(steps), err)
	}
	for i, e := range audit { // newest first
		if want := steps[len(steps)-1-i].served; e.Version != want {
			t.Errorf("audit entry %q names version %q, want %q", e.Action, e.Version, want)
		}
	}
}

// TestSetRefusesWhatThePolicyRefuses: enabling a pin below the minimum
// certification is a *serving.TooLowError and stores and publishes
// nothing; an unknown plugin is the store's ErrPluginNotFound; disabling
// is always allowed.
func TestSetRefusesWhatThePolicyRefuses(t *testing.T) {
	ctx := context.Background()
	s, store, got := newService(t, registry.Certified, []string{"1.0.0", "1.1.0"},
		map[string]registry.Certification{"1.0.0": registry.Unverified})
	var low *serving.TooLowError
	if _, _, err := s.Set(ctx, "admin", "t1", plug, true, pin("1.0.0")); !errors.As(err, &low) {
		t.Fatalf("enable a pin below the minimum: %v, want *serving.TooLowError", err)
	}
	if states, _ := store.TeamStates(ctx, "t1"); len(states) != 0 || len(*got) != 0 {
		t.Fatalf("a refused change stored %v and published %d changes", states, len(*got))
	}
	if _, _, err := s.Set(ctx, "admin", "t1", "com.example.none", true, nil); !errors.Is(err, registry.ErrPluginNotFound) {
		t.Fatalf("unknown plugin: %v", err)
	}
	if _, _, err := s.Set(ctx, "admin", "t1", plug, false, pin("1.0.0")); err != nil {
		t.Fatalf("disable with a pin below the minimum: %v", err)
	}
}

// TestDisableEverywhere: the kill switch disables the plugin in every
// team that has it enabled, in team id order, keeping each pin, and
// leaves teams that had it disabled alone.
func TestDisableEverywhere(t *testing.T) {
	ctx := context.Background()
	s, store, got := newService(t, registry.Unverified, []string{"1.0.0", "1.1.0"}, nil)
	for _, tc := range []struct {
		team    string
		enabled bool
		version *string
	}{{"t3", true, nil}, {"t1", true, pin("1.0.0")}, {"t2", false, nil}} {
		if _, _, err := s.Set(ctx, "admin", tc.team, plug, tc.enabled, tc.version); err != nil {
			t.Fatal(err)
		}
	}
	*got = nil
	done, err := s.DisableEverywhere(ctx, "root", plug)
	if err != nil || !slices.Equal(done, []string{"t1", "t3"}) {
		t.Fatalf("disabled %v (%v), want [t1 t3]", done, err)
	}
	if len(*got) != 2 || (*got)[0].TeamID != "t1" || (*got)[1].TeamID != "t3" {
		t.Fatalf("published %+v, want t1 then t3", *got)
	}
	states, err := store.PluginTeamStates(ctx, plug)
	if err != nil {
		t.Fatal(err)
	}
	for team, st := range states {
		if st.Enabled {
			t.Errorf("%s still enabled", team)
		}
	}
	if states["t1"].Version != "1.0.0" {
		t.Errorf("t1 lost its pin: %+v", states["t1"])
	}
	if _, err := s.DisableEverywhere(ctx, "root", "com.example.none"); !errors.Is(err, registry.ErrPluginNotFound) {
		t.Fatalf("unknown plugin: %v", err)
	}
}

// TestRollback: a team pins the version it served before the current
// one; a team that served one version only, or never served the plugin,
// gets *NoPreviousVersionError saying which.
func TestRollback(t *testing.T) {
	ctx := context.Background()
	s, store, _ := newService(t, registry.Unverified, []string{"1.0.0"}, nil)
	var none *NoPreviousVersionError
	if _, _, _, _, err := s.Rollback(ctx, "admin", "t1", plug); !errors.As(err, &none) || !none.Never {
		t.Fatalf("never served: %v", err)
	}
	if _, _, err := s.Set(ctx, "admin", "t1", plug, true, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, _, _, err := s.Rollback(ctx, "admin", "t1", plug); !errors.As(err, &none) || none.Never || none.Current != "1.0.0" {
		t.Fatalf("served only 1.0.0: %v", err)
	}
	ver, blobs := registrytest.Version(plug, "1.1.0", []byte("1.1.0"))
	if _, err := store.PutVersion(ctx, ver, blobs, registry.Pusher{UserID: "dev"}); err != nil {
		t.Fatal(err)
	}
	// The team follows the latest: it serves 1.1.0 now, which its audit
	// shows only after a change of its state (a push is not one).
	if _, _, err := s.Set(ctx, "admin", "t1", plug, true, nil); err != nil {
		t.Fatal(err)
	}
	st, _, from, to, err := s.Rollback(ctx, "admin", "t1", plug)
	if err != nil || from != "1.1.0" || to != "1.0.0" || st.Version != "1.0.0" || !st.Enabled {
		t.Fatalf("rollback: %+v from %q to %q (%v), want 1.1.0 -> pinned 1.0.0, enabled", st, from, to, err)
	}
	history, err := s.ServedHistory(ctx, "t1", &registry.Plugin{ID: plug})
	if err != nil || !slices.Equal(history, []string{"1.0.0", "1.1.0", "1.0.0"}) {
		t.Fatalf("history %v (%v)", history, err)
	}
}
