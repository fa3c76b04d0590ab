package server_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/server"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

func builtin(t *testing.T, id, version string) *pluginpkg.Package {
	t.Helper()
	pkg, err := pluginpkg.ReadArchive(bytes.NewReader(archive(t, helloPlugin(id, version))), pluginpkg.Limits{}, slots.Known)
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

func TestPreinstall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	ctx := context.Background()
	eng, sales := e.teams["engineering"], e.teams["sales"]

	res, err := e.srv.Preinstall(ctx, []*pluginpkg.Package{builtin(t, "mmtoolkit.a", "1.0.0")}, []string{eng, sales})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || !res[0].Installed || !res[0].Published || len(res[0].EnabledFor) != 2 {
		t.Fatalf("first start: %+v", res)
	}
	for _, team := range []string{"engineering", "sales"} {
		user := map[string]string{"engineering": "bob", "sales": "carol"}[team]
		r := e.do(user, "GET", "/api/v1/manifest?team="+team+"&platform=web", "", nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"mmtoolkit.a"`) {
			t.Fatalf("%s manifest after preinstall: %d %s", team, r.status, r.body)
		}
	}
	p, err := e.store.Plugin(ctx, "mmtoolkit.a")
	if err != nil || p.Owner != server.BuiltinActor {
		t.Fatalf("owner: %+v %v", p, err)
	}

	// An admin disables it for sales; a restart (same binary) changes nothing.
	if r := e.do("admin", "PUT", "/api/v1/teams/sales/plugins/mmtoolkit.a", "application/json", strings.NewReader(`{"enabled":false}`)); r.status != 200 {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	res, err = e.srv.Preinstall(ctx, []*pluginpkg.Package{builtin(t, "mmtoolkit.a", "1.0.0")}, []string{eng, sales})
	if err != nil || res[0].Installed || res[0].Published || len(res[0].EnabledFor) != 0 {
		t.Fatalf("second start: %+v %v", res, err)
	}
	// A newer binary publishes its newer version and still leaves sales alone.
	res, err = e.srv.Preinstall(ctx, []*pluginpkg.Package{builtin(t, "mmtoolkit.a", "1.1.0")}, []string{eng, sales})
	if err != nil || res[0].Installed || !res[0].Published || len(res[0].EnabledFor) != 0 {
		t.Fatalf("upgrade: %+v %v", res, err)
	}
	states, _ := e.store.PluginTeamStates(ctx, "mmtoolkit.a")
	if !states[eng].Enabled || states[sales].Enabled {
		t.Fatalf("team states after upgrade: %+v", states)
	}
	if r := e.do("bob", "GET", "/api/v1/manifest?team=engineering&platform=web", "", nil); !strings.Contains(string(r.body), `"1.1.0"`) {
		t.Fatalf("engineering follows latest: %s", r.body)
	}
	entries, _ := e.store.Audit(ctx, registry.AuditFilter{Actor: server.BuiltinActor})
	if len(entries) != 4 { // push 1.0.0, enable x2, push 1.1.0
		t.Fatalf("audit of the built-in actor: %+v", entries)
	}

	// In front of a real Mattermost: installed, enabled nowhere.
	res, err = e.srv.Preinstall(ctx, []*pluginpkg.Package{builtin(t, "mmtoolkit.b", "1.0.0")}, nil)
	if err != nil || !res[0].Installed || len(res[0].EnabledFor) != 0 {
		t.Fatalf("upstream mode: %+v %v", res, err)
	}

	// A built-in package that does not compile stops the start with its diagnostics.
	bad := helloPlugin("mmtoolkit.c", "1.0.0")
	bad["webapp/index.tsx"] = "export const = ;"
	pkg, err := pluginpkg.ReadArchive(bytes.NewReader(archive(t, bad)), pluginpkg.Limits{}, slots.Known)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Preinstall(ctx, []*pluginpkg.Package{pkg}, nil); err == nil || !strings.Contains(err.Error(), "webapp/index.tsx:1:") {
		t.Fatalf("broken built-in: %v", err)
	}
}
