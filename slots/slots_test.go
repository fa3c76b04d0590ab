package slots

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

func TestCatalogueHasTheSpecSlots(t *testing.T) {
	for _, name := range []string{
		"post_type", "call_button", "channel_header_button", "app_center", "app_bar", "main_menu", "root",
		"right_hand_sidebar", "post_dropdown_menu", "slash_command_hook", "message_will_be_posted_hook",
		"websocket_event", "reducer", "translations",
	} {
		s, ok := Lookup(name)
		if !ok {
			t.Errorf("slot %s missing", name)
			continue
		}
		if len(s.Platforms) == 0 || len(s.RegistryMethods) == 0 || s.Description == "" || !s.On(Web) {
			t.Errorf("slot %s incomplete: %+v", name, s)
		}
	}
	if Known("nowhere") {
		t.Error("unknown slot is known")
	}
}

func TestBuildFollowsTeamState(t *testing.T) {
	ctx := context.Background()
	store := registrytest.Open(t)
	by := registry.Pusher{UserID: "dev"}
	for _, v := range []string{"1.0.0", "1.2.0", "1.10.0"} {
		ver, blobs := registrytest.Version("com.example.a", v, []byte("bundle "+v))
		ver.Manifest.Slots = []pluginpkg.SlotDecl{{Slot: "post_type", PostType: "custom_a"}, {Slot: "root"}}
		if _, err := store.PutVersion(ctx, ver, blobs, by); err != nil {
			t.Fatal(err)
		}
	}
	registrytest.Push(t, store, by, "com.example.b", "0.1.0")

	set := func(team, id string, enabled bool, version string) {
		t.Helper()
		if _, err := store.SetTeamState(ctx, registry.TeamState{TeamID: team, PluginID: id, Enabled: enabled, Version: version, UpdatedBy: "alice"}); err != nil {
			t.Fatal(err)
		}
	}
	set("t1", "com.example.a", true, "")
	set("t1", "com.example.b", false, "")
	set("t2", "com.example.a", true, "1.2.0")

	tests := []struct {
		team     string
		want     []string // id@version
		wantSlot int
	}{
		{"t1", []string{"com.example.a@1.10.0"}, 2},
		{"t2", []string{"com.example.a@1.2.0"}, 2},
		{"t3", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.team, func(t *testing.T) {
			m, err := Build(ctx, store, tt.team, Web)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range m.Plugins {
				got = append(got, p.ID+"@"+p.Version)
				if len(p.Slots) != tt.wantSlot || p.Bundle.Integrity == "" || p.Bundle.Size == 0 {
					t.Errorf("entry %+v", p)
				}
			}
			if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
				t.Fatalf("plugins %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := Build(ctx, store, "t1", IOS); err == nil {
		t.Error("Build accepted a mobile platform")
	}
}

// A prebuilt bundle's page gets the icon fonts (it may draw Font Awesome or
// compass-icons glyphs), a compiled one only what it lists; each module
// once, and the stored version is not changed.
func TestBuildGivesPrebuiltBundlesTheIconFonts(t *testing.T) {
	ctx := context.Background()
	store := registrytest.Open(t)
	by := registry.Pusher{UserID: "dev"}
	for _, p := range []struct {
		id       string
		prebuilt bool
		mods     []string
	}{
		{"com.example.compiled", false, []string{"react"}},
		{"com.example.prebuilt", true, []string{"react", "react-bootstrap"}},
		{"com.example.prebuilt.icons", true, []string{"icons"}},
	} {
		ver, blobs := registrytest.Version(p.id, "1.0.0", []byte("bundle "+p.id))
		ver.Prebuilt, ver.HostModules = p.prebuilt, p.mods
		if _, err := store.PutVersion(ctx, ver, blobs, by); err != nil {
			t.Fatal(err)
		}
		if _, err := store.SetTeamState(ctx, registry.TeamState{TeamID: "t1", PluginID: p.id, Enabled: true, UpdatedBy: "alice"}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // the second build must not see the first one's append
		m, err := Build(ctx, store, "t1", Web)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, p := range m.Plugins {
			got[p.ID] = strings.Join(p.HostModules, ",")
		}
		want := map[string]string{
			"com.example.compiled":       "react",
			"com.example.prebuilt":       "react,react-bootstrap,icons",
			"com.example.prebuilt.icons": "icons",
		}
		if !maps.Equal(got, want) {
			t.Fatalf("host modules %v, want %v", got, want)
		}
	}
}
