package slots

import (
	"context"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// pushMobile stores a version with web and mobile bundles, the given
// mobile.runtime range and slots.
func pushMobile(t *testing.T, store *registry.Bolt, id, version, runtime string, decl ...pluginpkg.SlotDecl) *registry.Version {
	t.Helper()
	v, blobs := registrytest.Version(id, version, []byte("web "+id+version), []byte("{}"), []byte("mobile "+id+version))
	v.Manifest.Mobile.Runtime = runtime
	v.Manifest.Slots = decl
	res, err := store.PutVersion(context.Background(), v, blobs, registry.Pusher{UserID: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	return res.Version
}

func TestBuildMobile(t *testing.T) {
	ctx := context.Background()
	store := registrytest.Open(t)
	slots := []pluginpkg.SlotDecl{{Slot: "post_type", PostType: "custom_a"}, {Slot: "root"}, {Slot: "call_button"}, {Slot: "app_bar"}}
	a1 := pushMobile(t, store, "com.example.a", "1.0.0", "", slots...)
	a2 := pushMobile(t, store, "com.example.a", "2.0.0", ">=2.0.0 <3.0.0", slots...)
	c := pushMobile(t, store, "com.example.c", "1.0.0", "^1.0.0")
	registrytest.Push(t, store, registry.Pusher{UserID: "dev"}, "com.example.webonly", "1.0.0")
	registrytest.Push(t, store, registry.Pusher{UserID: "dev"}, "com.example.off", "1.0.0", []byte("w"), []byte("{}"), []byte("m"))

	hbc := []byte("\xc6\x1f\xbc\x03\xc1\x03\x19\x1f\x62\x00\x00\x00bytecode")
	bc := registry.Bytecode{Source: a2.Artifacts[registry.MobileJS].SHA256, BytecodeVersion: 98,
		Artifact: registry.Artifact{SHA256: registrytest.SHA256(hbc), Size: int64(len(hbc)), ContentType: "application/vnd.facebook.hermes-bytecode"}}
	if err := store.PutBytecode(ctx, bc, hbc); err != nil {
		t.Fatal(err)
	}
	failed := registry.Bytecode{Source: c.Artifacts[registry.MobileJS].SHA256, BytecodeVersion: 98, Error: "mobile.js:1:1: hermesc: no"}
	if err := store.PutBytecode(ctx, failed, nil); err != nil {
		t.Fatal(err)
	}
	for _, s := range []registry.TeamState{
		{TeamID: "t1", PluginID: "com.example.a", Enabled: true},
		{TeamID: "t1", PluginID: "com.example.c", Enabled: true},
		{TeamID: "t1", PluginID: "com.example.webonly", Enabled: true},
		{TeamID: "t2", PluginID: "com.example.a", Enabled: true, Version: "1.0.0"},
	} {
		s.UpdatedBy = "alice"
		if _, err := store.SetTeamState(ctx, s); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name     string
		team     string
		runtime  string
		bytecode uint32
		want     []string // id@version/format
		skipped  []string // id@version
	}{
		{"runtime 2 takes a 2.0.0 and skips c", "t1", "2.1.0", 0, []string{"com.example.a@2.0.0/js"}, []string{"com.example.c@1.0.0"}},
		{"runtime 1 skips a 2.0.0", "t1", "1.4.0", 0, []string{"com.example.c@1.0.0/js"}, []string{"com.example.a@2.0.0"}},
		{"matching bytecode", "t1", "2.0.0", 98, []string{"com.example.a@2.0.0/hbc"}, []string{"com.example.c@1.0.0"}},
		{"other bytecode falls back to JS", "t1", "2.0.0", 99, []string{"com.example.a@2.0.0/js"}, []string{"com.example.c@1.0.0"}},
		{"failed bytecode falls back to JS", "t1", "1.0.0", 98, []string{"com.example.c@1.0.0/js"}, []string{"com.example.a@2.0.0"}},
		{"pinned version with an empty range takes any runtime", "t2", "9.9.9", 98, []string{"com.example.a@1.0.0/js"}, nil},
		{"a team that enabled nothing", "t3", "1.0.0", 0, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt, err := pluginpkg.ParseRuntimeVersion(tc.runtime)
			if err != nil {
				t.Fatal(err)
			}
			m, err := BuildMobile(ctx, store, MobileQuery{TeamID: tc.team, Platform: IOS, Runtime: rt, Bytecode: tc.bytecode})
			if err != nil {
				t.Fatal(err)
			}
			var got, skipped []string
			for _, p := range m.Plugins {
				got = append(got, p.ID+"@"+p.Version+"/"+p.Format)
				if p.Size == 0 || len(p.SHA256) != 64 || !strings.HasSuffix(p.URL, p.SHA256+"."+p.Format) {
					t.Errorf("entry %+v", p)
				}
				if p.Format == FormatBytecode && p.BytecodeVersion != tc.bytecode {
					t.Errorf("bytecode entry %+v for app bytecode %d", p, tc.bytecode)
				}
				if p.ID == "com.example.a" {
					var names []string
					for _, f := range p.Slots {
						names = append(names, f.Slot)
					}
					if strings.Join(names, ",") != "post_type,call_button" {
						t.Errorf("slots %v: want only the mobile ones, in declaration order", names)
					}
				}
			}
			for _, s := range m.Skipped {
				skipped = append(skipped, s.ID+"@"+s.Version)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") || strings.Join(skipped, " ") != strings.Join(tc.skipped, " ") {
				t.Fatalf("plugins %v skipped %v; want %v skipped %v", got, skipped, tc.want, tc.skipped)
			}
		})
	}
	_ = a1

	rt, _ := pluginpkg.ParseRuntimeVersion("1.0.0")
	if _, err := BuildMobile(ctx, store, MobileQuery{TeamID: "t1", Platform: Web, Runtime: rt}); err == nil {
		t.Error("a web mobile manifest was built")
	}
}
