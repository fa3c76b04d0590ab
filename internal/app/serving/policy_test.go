package serving

import (
	"context"
	"errors"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

const (
	plug   = "com.example.policy"
	team   = "engineering"
	other  = "sales"
	nobody = "com.example.none"
)

// policyStore is a real store holding plug's versions: levels maps each
// version, pushed in the order given, to its certification.
func policyStore(t *testing.T, versions []string, levels map[string]registry.Certification) *registry.Bolt {
	t.Helper()
	ctx := context.Background()
	store := registrytest.Open(t)
	for _, v := range versions {
		ver, blobs := registrytest.Version(plug, v, []byte(plug+" "+v))
		ver.Certification = levels[v]
		if _, err := store.PutVersion(ctx, ver, blobs, registry.Pusher{UserID: "dev"}); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

func setState(t *testing.T, store *registry.Bolt, teamID string, enabled bool, pin string) {
	t.Helper()
	if _, err := store.SetTeamState(context.Background(), registry.TeamState{
		TeamID: teamID, PluginID: plug, Enabled: enabled, Version: pin, UpdatedBy: "admin"}); err != nil {
		t.Fatal(err)
	}
}

// TestTeamVersion runs the matrix of team states through the policy's
// questions: TeamVersion (with and without a preview), ServedVersion of
// the team's pin, and ServesAny. Every answer must be what slots.Served
// says over the store seen through the minimum, and a plugin not served
// must be a *NotServedError (an unknown one the store's
// ErrPluginNotFound), which the server answers 404 plugin_not_enabled.
func TestTeamVersion(t *testing.T) {
	unsigned := registry.Unverified
	for _, tc := range []struct {
		name     string
		versions []string
		levels   map[string]registry.Certification // default: Certified
		min      registry.Certification
		enabled  bool
		set      bool   // write a state (else never enabled)
		pin      string // the team's pin
		preview  string // the caller's preview
		plugin   string // default plug
		want     string // "" = not served
		// eff is ServedVersion of the pin, which ignores Enabled and the
		// preview; default want.
		eff string
	}{
		{name: "enabled follows the latest", versions: []string{"1.0.0", "1.1.0"}, set: true, enabled: true, want: "1.1.0"},
		{name: "never enabled", versions: []string{"1.0.0", "1.1.0"}, eff: "1.1.0"},
		{name: "disabled", versions: []string{"1.0.0", "1.1.0"}, set: true, eff: "1.1.0"},
		{name: "pinned", versions: []string{"1.0.0", "1.1.0"}, set: true, enabled: true, pin: "1.0.0", want: "1.0.0"},
		{name: "killed keeps the pin, serves nothing", versions: []string{"1.0.0", "1.1.0"}, set: true, pin: "1.0.0", eff: "1.0.0"},
		{name: "newer unsigned under the minimum", versions: []string{"1.0.0", "1.1.0"},
			levels: map[string]registry.Certification{"1.0.0": registry.Certified, "1.1.0": unsigned},
			min:    registry.Certified, set: true, enabled: true, want: "1.0.0"},
		{name: "no minimum serves the unsigned", versions: []string{"1.0.0", "1.1.0"},
			levels: map[string]registry.Certification{"1.0.0": registry.Certified, "1.1.0": unsigned},
			set:    true, enabled: true, want: "1.1.0"},
		{name: "pin below the minimum", versions: []string{"1.0.0", "1.1.0"},
			levels: map[string]registry.Certification{"1.0.0": unsigned, "1.1.0": registry.Certified},
			min:    registry.Certified, set: true, enabled: true, pin: "1.0.0"},
		{name: "community below official", versions: []string{"1.0.0"},
			levels: map[string]registry.Certification{"1.0.0": registry.Community},
			min:    registry.Official, set: true, enabled: true},
		{name: "prerelease newer than the release", versions: []string{"1.0.0", "1.0.1-dev.1733300000000"}, set: true, enabled: true, want: "1.0.0"},
		{name: "pinned prerelease", versions: []string{"1.0.0", "1.0.1-dev.1733300000000"}, set: true, enabled: true,
			pin: "1.0.1-dev.1733300000000", want: "1.0.1-dev.1733300000000"},
		{name: "only prereleases", versions: []string{"1.0.1-dev.1733300000000"}, set: true, enabled: true},
		{name: "preview where the team follows", versions: []string{"1.0.0", "1.0.1-dev.1733300000000"}, set: true, enabled: true,
			preview: "1.0.1-dev.1733300000000", want: "1.0.1-dev.1733300000000", eff: "1.0.0"},
		{name: "preview under a pin", versions: []string{"1.0.0", "1.0.1-dev.1733300000000"}, set: true, enabled: true,
			pin: "1.0.0", preview: "1.0.1-dev.1733300000000", want: "1.0.0"},
		{name: "preview where the team never enabled", versions: []string{"1.0.0", "1.0.1-dev.1733300000000"},
			preview: "1.0.1-dev.1733300000000", eff: "1.0.0"},
		{name: "preview where the team disabled", versions: []string{"1.0.0", "1.0.1-dev.1733300000000"}, set: true,
			preview: "1.0.1-dev.1733300000000", eff: "1.0.0"},
		{name: "preview below the minimum", versions: []string{"1.0.0", "1.0.1-dev.1733300000000"},
			levels: map[string]registry.Certification{"1.0.0": registry.Certified, "1.0.1-dev.1733300000000": unsigned},
			min:    registry.Certified, set: true, enabled: true, preview: "1.0.1-dev.1733300000000", eff: "1.0.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			levels := map[string]registry.Certification{}
			for _, v := range tc.versions {
				levels[v] = registry.Certified
			}
			for v, l := range tc.levels {
				levels[v] = l
			}
			store := policyStore(t, tc.versions, levels)
			if tc.set {
				setState(t, store, team, tc.enabled, tc.pin)
			}
			p := New(store, tc.min)

			// The answer the rule gives, asked directly.
			st := slots.Previewing(registry.TeamState{Enabled: tc.enabled, Version: tc.pin}, tc.preview)
			rule, err := slots.Served(ctx, slots.Certified(store, tc.min), plug, st)
			if tc.want == "" && !errors.Is(err, slots.ErrNotServed) || tc.want != "" && (err != nil || rule.Version != tc.want) {
				t.Fatalf("the table disagrees with slots.Served: %v, %v; want %q", rule, err, tc.want)
			}

			v, err := p.TeamVersion(ctx, team, plug, tc.preview)
			switch {
			case tc.want == "":
				var nse *NotServedError
				if !errors.As(err, &nse) || nse.PluginID != plug || !errors.Is(err, slots.ErrNotServed) {
					t.Fatalf("TeamVersion = %v, %v; want a *NotServedError for %s", v, err, plug)
				}
			case err != nil:
				t.Fatalf("TeamVersion: %v", err)
			case v.Version != tc.want:
				t.Fatalf("TeamVersion = %s, want %s", v.Version, tc.want)
			}

			tid, v, err := p.ServesAny(ctx, []string{other, team}, plug, tc.preview)
			switch {
			case tc.want == "":
				if !IsNotServed(err) {
					t.Fatalf("ServesAny = %s %v, %v; want not served", tid, v, err)
				}
			case err != nil:
				t.Fatalf("ServesAny: %v", err)
			case tid != team || v.Version != tc.want:
				t.Fatalf("ServesAny = %s %s, want %s %s", tid, v.Version, team, tc.want)
			}

			eff := tc.eff
			if eff == "" {
				eff = tc.want
			}
			got, err := p.ServedVersion(ctx, plug, tc.pin)
			if err != nil || got != eff {
				t.Fatalf("ServedVersion(%q) = %q, %v; want %q", tc.pin, got, err, eff)
			}
		})
	}
}

// TestNotServedUnknownPlugin: an unknown plugin is the store's
// ErrPluginNotFound (404 plugin_not_found), never "not enabled".
func TestNotServedUnknownPlugin(t *testing.T) {
	ctx := context.Background()
	store := policyStore(t, []string{"1.0.0"}, nil)
	setState(t, store, team, true, "")
	p := New(store, registry.Unverified)
	if _, err := p.TeamVersion(ctx, team, nobody, ""); !errors.Is(err, registry.ErrPluginNotFound) || IsNotServed(err) {
		t.Fatalf("TeamVersion of an unknown plugin: %v; want ErrPluginNotFound", err)
	}
	if _, _, err := p.ServesAny(ctx, []string{team}, nobody, ""); !errors.Is(err, registry.ErrPluginNotFound) {
		t.Fatalf("ServesAny of an unknown plugin: %v; want ErrPluginNotFound", err)
	}
	if _, _, err := p.ServesAny(ctx, nil, plug, ""); !IsNotServed(err) {
		t.Fatalf("ServesAny of no team: %v; want not served", err)
	}
	if v, err := p.ServedVersion(ctx, nobody, ""); v != "" || err != nil {
		t.Fatalf("ServedVersion of an unknown plugin = %q, %v; want none", v, err)
	}
}

// TestCheckEnable: with a minimum, enabling a pin below it, or following
// the latest of a plugin none of whose versions meets it, is a
// *TooLowError naming the version and the levels; without one, anything
// may be enabled.
func TestCheckEnable(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name         string
		levels       map[string]registry.Certification
		min          registry.Certification
		pin          string
		tooLow       string // the version refused, "" = allowed
		followLatest bool
		err          error
	}{
		{name: "no minimum", levels: map[string]registry.Certification{"1.0.0": registry.Unverified}, pin: "1.0.0"},
		{name: "pin at the minimum", levels: map[string]registry.Certification{"1.0.0": registry.Certified}, min: registry.Certified, pin: "1.0.0"},
		{name: "pin above the minimum", levels: map[string]registry.Certification{"1.0.0": registry.Official}, min: registry.Certified, pin: "1.0.0"},
		{name: "pin below the minimum", levels: map[string]registry.Certification{"1.0.0": registry.Community, "1.1.0": registry.Official},
			min: registry.Certified, pin: "1.0.0", tooLow: "1.0.0"},
		{name: "follow with an older certified version", levels: map[string]registry.Certification{"1.0.0": registry.Certified, "1.1.0": registry.Unverified},
			min: registry.Certified},
		{name: "follow with none certified", levels: map[string]registry.Certification{"1.0.0": registry.Community, "1.1.0": registry.Unverified},
			min: registry.Certified, tooLow: "1.1.0", followLatest: true},
		{name: "pin unknown", levels: map[string]registry.Certification{"1.0.0": registry.Certified},
			min: registry.Certified, pin: "9.9.9", err: registry.ErrVersionNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var versions []string
			for _, v := range []string{"1.0.0", "1.1.0"} {
				if _, ok := tc.levels[v]; ok {
					versions = append(versions, v)
				}
			}
			store := policyStore(t, versions, tc.levels)
			pl, err := store.Plugin(ctx, plug)
			if err != nil {
				t.Fatal(err)
			}
			err = New(store, tc.min).CheckEnable(ctx, pl, tc.pin)
			var tle *TooLowError
			switch {
			case tc.err != nil:
				if !errors.Is(err, tc.err) {
					t.Fatalf("CheckEnable: %v, want %v", err, tc.err)
				}
			case tc.tooLow == "":
				if err != nil {
					t.Fatalf("CheckEnable: %v, want allowed", err)
				}
			case !errors.As(err, &tle):
				t.Fatalf("CheckEnable: %v, want a *TooLowError", err)
			case tle.Version.Version != tc.tooLow || tle.Min != tc.min || tle.FollowLatest != tc.followLatest ||
				tle.Version.Certification != tc.levels[tc.tooLow]:
				t.Fatalf("CheckEnable refused %s (%s, min %s, follow %v); want %s (%s, min %s, follow %v)",
					tle.Version.Version, tle.Version.Certification, tle.Min, tle.FollowLatest,
					tc.tooLow, tc.levels[tc.tooLow], tc.min, tc.followLatest)
			}
		})
	}
}

// TestSourceHidesBelowMinimum: the manifests' source is the store seen
// through the minimum: a version below it does not exist there, and the
// plugin's latest is its highest version that meets it.
func TestSourceHidesBelowMinimum(t *testing.T) {
	ctx := context.Background()
	store := policyStore(t, []string{"1.0.0", "1.1.0"},
		map[string]registry.Certification{"1.0.0": registry.Certified, "1.1.0": registry.Unverified})
	src := New(store, registry.Certified).Source()
	if _, err := src.Version(ctx, plug, "1.1.0"); !errors.Is(err, registry.ErrVersionNotFound) {
		t.Fatalf("a version below the minimum: %v, want ErrVersionNotFound", err)
	}
	pl, err := src.Plugin(ctx, plug)
	if err != nil || pl.Latest != "1.0.0" {
		t.Fatalf("Plugin = %v, %v; want latest 1.0.0", pl, err)
	}
	if bc, err := src.Bytecode(ctx, "0123"); err != nil || len(bc) != 0 {
		t.Fatalf("Bytecode of an unknown blob = %v, %v", bc, err)
	}
	if got := New(store, registry.Unverified).Source(); got == nil {
		t.Fatal("no source without a minimum")
	} else if v, err := got.Version(ctx, plug, "1.1.0"); err != nil || v.Version != "1.1.0" {
		t.Fatalf("without a minimum: %v, %v", v, err)
	}
}

// TestSourceWithoutBytecode: a store that keeps no bytecode serves mobile
// manifests JS only (no bytecode, no error).
func TestSourceWithoutBytecode(t *testing.T) {
	store := policyStore(t, []string{"1.0.0"}, nil)
	src := New(struct{ slots.Source }{store}, registry.Unverified).Source()
	if bc, err := src.Bytecode(context.Background(), "0123"); err != nil || bc != nil {
		t.Fatalf("Bytecode = %v, %v; want none", bc, err)
	}
}

// TestPreviewSource: the source a developer's own manifests are built from
// serves their preview where the team enabled the plugin and follows its
// latest version, and the team's version elsewhere (a pin, a team that
// disabled it); a preview below the minimum certification is served to
// nobody, its developer included. The team's own source is unchanged.
func TestPreviewSource(t *testing.T) {
	ctx := context.Background()
	const dev, third = "1.0.1-dev.1733300000000", "support"
	for _, tc := range []struct {
		name string
		min  registry.Certification
		// want is what each team's manifest lists for the developer.
		want map[string]string
	}{
		{"no minimum", registry.Unverified, map[string]string{team: dev, other: "1.0.0"}},
		{"preview below the minimum", registry.Certified, map[string]string{team: "", other: "1.0.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := policyStore(t, []string{"1.0.0", dev},
				map[string]registry.Certification{"1.0.0": registry.Certified, dev: registry.Unverified})
			setState(t, store, team, true, "")
			setState(t, store, other, true, "1.0.0")
			setState(t, store, third, false, "")
			p := New(store, tc.min)
			for _, tid := range []string{team, other, third} {
				m, err := slots.Build(ctx, p.PreviewSource(map[string]string{plug: dev}), tid, slots.Web)
				if err != nil {
					t.Fatal(err)
				}
				got := ""
				for _, e := range m.Plugins {
					if e.ID == plug {
						got = e.Version
					}
				}
				if got != tc.want[tid] {
					t.Errorf("%s: the developer's manifest lists %q, want %q", tid, got, tc.want[tid])
				}
				// TeamVersion with the preview agrees with the manifest.
				v, err := p.TeamVersion(ctx, tid, plug, dev)
				if tc.want[tid] == "" && !IsNotServed(err) || tc.want[tid] != "" && (err != nil || v.Version != tc.want[tid]) {
					t.Errorf("%s: TeamVersion with the preview = %v, %v; the manifest lists %q", tid, v, err, tc.want[tid])
				}
				team, err := slots.Build(ctx, p.Source(), tid, slots.Web)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range team.Plugins {
					if e.Version == dev {
						t.Errorf("%s: the team's own manifest lists the preview", tid)
					}
				}
			}
		})
	}
}

// TestNotFollowed: a version reaches the teams following the latest (and
// may replace the server part Mattermost runs) unless it is a prerelease
// or below the minimum certification.
func TestNotFollowed(t *testing.T) {
	for _, tc := range []struct {
		version string
		level   registry.Certification
		min     registry.Certification
		want    string // "" = followed
	}{
		{"1.0.0", registry.Unverified, registry.Unverified, ""},
		{"1.0.0", registry.Certified, registry.Certified, ""},
		{"1.0.0", registry.Official, registry.Certified, ""},
		{"1.0.0", registry.Community, registry.Certified, "1.0.0 is community, below the server's minimum certification certified"},
		{"1.0.1-dev.1733300000000", registry.Official, registry.Unverified, "1.0.1-dev.1733300000000 is a prerelease, which never goes live to everyone"},
		{"2.0.0-rc.1", registry.Unverified, registry.Certified, "2.0.0-rc.1 is a prerelease, which never goes live to everyone"},
	} {
		got := New(nil, tc.min).NotFollowed(&registry.Version{PluginID: plug, Version: tc.version, Certification: tc.level})
		if got != tc.want {
			t.Errorf("%s (%s, min %s): %q, want %q", tc.version, tc.level, tc.min, got, tc.want)
		}
	}
}
