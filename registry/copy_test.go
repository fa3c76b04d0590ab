package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// fillEveryKind writes a record of every kind bbolt holds into b: versions
// with blobs (one shared), a source map, team states (enabled, pinned), an
// audit log, precompressed variants, bytecode, a setting, KV entries in two
// scopes (one deleted, so a scope's revision counter is ahead of its keys),
// KV usage, crash health, an embed app with a token, a server part.
func fillEveryKind(t *testing.T, b *registry.Bolt) {
	t.Helper()
	ctx := context.Background()
	dev := registry.Pusher{UserID: "dev"}
	shared := []byte("window.registerPlugin('shared', {});\n")
	registrytest.Push(t, b, dev, "com.example.a", "1.0.0", shared)
	registrytest.Push(t, b, dev, "com.example.a", "1.1.0", []byte("window.registerPlugin('a', {v: 2});\n"))
	mobileJS := []byte("module.exports = 1;\n")
	registrytest.Push(t, b, dev, "com.example.b", "2.0.0", shared, []byte("{}"), mobileJS)
	m := []byte(`{"version":3,"sources":["a.tsx"],"mappings":""}`)
	if err := b.PutSourceMap(ctx, "com.example.a", "1.1.0", registry.WebJS,
		registry.Artifact{SHA256: registrytest.SHA256(m), Size: int64(len(m)), ContentType: "application/json"}, m); err != nil {
		t.Fatal(err)
	}
	for _, s := range []registry.TeamState{
		{TeamID: "team1", PluginID: "com.example.a", Enabled: true, UpdatedBy: "admin"},
		{TeamID: "team1", PluginID: "com.example.b", Enabled: true, Version: "2.0.0", UpdatedBy: "admin"},
		{TeamID: "team2", PluginID: "com.example.a", Enabled: false, Version: "1.0.0", UpdatedBy: "alice"},
	} {
		if _, err := b.SetTeamState(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	br := []byte("brotli bytes")
	if err := b.PutEncodings(ctx, registrytest.SHA256(shared), map[string]registry.Encoded{"br": {SHA256: registrytest.SHA256(br), Size: int64(len(br))}},
		map[string][]byte{registrytest.SHA256(br): br}); err != nil {
		t.Fatal(err)
	}
	hbc := []byte("hermes bytecode")
	if err := b.PutBytecode(ctx, registry.Bytecode{Source: registrytest.SHA256(mobileJS), BytecodeVersion: 96, Compiler: "hermes 1.0.0",
		Artifact: registry.Artifact{SHA256: registrytest.SHA256(hbc), Size: int64(len(hbc)), ContentType: "application/vnd.facebook.hermes-bytecode"}}, hbc); err != nil {
		t.Fatal(err)
	}
	if err := b.SetSetting(ctx, registry.SettingTrust, []byte(`{"min":"unverified"}`), "admin"); err != nil {
		t.Fatal(err)
	}
	for _, w := range []registry.KVWrite{
		{PluginID: "com.example.a", Scope: "team:team1", Key: "k1", Value: []byte("v1"), Actor: "bob"},
		{PluginID: "com.example.a", Scope: "team:team1", Key: "k2", Value: []byte("v2"), Actor: "bob"},
		{PluginID: "com.example.a", Scope: "user:carol", Key: "\x00binär", Value: []byte{0, 1, 2}, Actor: "carol"},
	} {
		if _, err := b.KVPut(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.KVDelete(ctx, registry.KVWrite{PluginID: "com.example.a", Scope: "team:team1", Key: "k1", Actor: "bob"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"bob", "carol", "dave"} {
		if _, err := b.ReportCrash(ctx, registry.CrashReport{PluginID: "com.example.a", Version: "1.1.0", UserID: u, Message: "boom " + u}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.CreateEmbedApp(ctx, registry.EmbedApp{ID: "app1", Name: "App", Origins: []string{"https://app.example"},
		Teams: []string{"team1"}, SecretHash: []byte("hash"), CreatedBy: "admin"}); err != nil {
		t.Fatal(err)
	}
	created := time.Now().UTC().Truncate(time.Millisecond)
	if err := b.PutEmbedToken(ctx, registry.EmbedToken{ID: "tok1", AppID: "app1", UserID: "u1", TeamID: "team1", Channels: []string{"c1"},
		Flow: "backend", Session: []byte("sealed"), SessionRef: "ref1", CreatedAt: created, ExpiresAt: created.Add(time.Hour)}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetServerPart(ctx, registry.ServerPart{PluginID: "com.example.b", Pin: "2.0.0", UpdatedBy: "admin"}, "pinned"); err != nil {
		t.Fatal(err)
	}
}

// everyKindStore is what snapshot reads: the methods both stores have.
type everyKindStore interface {
	testStore
	registry.KV
	registry.CrashLog
	KVUsage(ctx context.Context, user string) (keys, bytes int64, err error)
	EmbedApps(ctx context.Context) ([]registry.EmbedApp, error)
	EmbedToken(ctx context.Context, id string) (*registry.EmbedToken, error)
	ServerPart(ctx context.Context, pluginID string) (registry.ServerPart, error)
	AllEncodings(ctx context.Context) (map[string]map[string]registry.Encoded, error)
	AllBytecode(ctx context.Context) ([]registry.Bytecode, error)
	AllSettings(ctx context.Context) (map[string][]byte, error)
}

// snapshot is every answer of s about what fillEveryKind wrote, as JSON
// by question.
func snapshot(t *testing.T, st testStore) map[string]string {
	t.Helper()
	s, ok := st.(everyKindStore)
	if !ok {
		t.Fatalf("%T lacks a read method snapshot needs", st)
	}
	ctx := context.Background()
	out := map[string]string{}
	add := func(name string, v any, err error) {
		t.Helper()
		if err != nil {
			out[name] = "error: " + err.Error()
			return
		}
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = string(raw)
	}
	plugins, err := s.Plugins(ctx)
	add("plugins", plugins, err)
	for _, p := range plugins {
		for _, ver := range p.Versions {
			v, err := s.Version(ctx, p.ID, ver)
			add("version "+p.ID+" "+ver, v, err)
			for kind, a := range v.Artifacts {
				blob, err := s.Blob(ctx, a.SHA256)
				add("blob "+kind+" of "+p.ID+" "+ver, registrytest.SHA256(blob), err)
				for coding, sha := range a.Encodings {
					blob, err := s.Blob(ctx, sha)
					add("blob "+kind+" "+coding+" of "+p.ID+" "+ver, registrytest.SHA256(blob), err)
				}
			}
		}
		pts, err := s.PluginTeamStates(ctx, p.ID)
		add("plugin team states "+p.ID, pts, err)
		h, err := s.PluginHealth(ctx, p.ID)
		add("health "+p.ID, h, err)
		sp, err := s.ServerPart(ctx, p.ID)
		add("server part "+p.ID, sp, err)
	}
	for _, team := range []string{"team1", "team2"} {
		ts, err := s.TeamStates(ctx, team)
		add("team states "+team, ts, err)
	}
	audit, err := s.Audit(ctx, registry.AuditFilter{Limit: 1000})
	add("audit", audit, err)
	enc, err := s.AllEncodings(ctx)
	add("encodings", enc, err)
	bc, err := s.AllBytecode(ctx)
	add("bytecode", bc, err)
	for _, bcr := range bc {
		blob, err := s.Blob(ctx, bcr.Artifact.SHA256)
		add("bytecode blob "+bcr.Source, registrytest.SHA256(blob), err)
	}
	settings, err := s.AllSettings(ctx)
	add("settings", settings, err)
	for _, scope := range []string{"team:team1", "user:carol"} {
		l, err := s.KVList(ctx, "com.example.a", scope, "", "", 100)
		add("kv "+scope, l, err)
	}
	for _, u := range []string{"bob", "carol"} {
		keys, bytes, err := s.KVUsage(ctx, u)
		add("kv usage "+u, []int64{keys, bytes}, err)
	}
	apps, err := s.EmbedApps(ctx)
	add("embed apps", apps, err)
	tok, err := s.EmbedToken(ctx, "tok1")
	add("embed token", tok, err)
	stats, err := s.Stats(ctx)
	stats.FileBytes = 0
	add("stats", stats, err)
	return out
}

// TestCopyToPostgresCopiesEveryKind: after CopyToPostgres, the PostgreSQL
// store answers every read as the bbolt store does, and the next writes
// continue its sequences (audit seq, KV revisions); a second copy writes
// nothing.
func TestCopyToPostgresCopiesEveryKind(t *testing.T) {
	ctx := context.Background()
	src := registrytest.OpenOptions(t, &registry.Options{NoSync: true, Clock: clock()})
	fillEveryKind(t, src)
	dst := registrytest.OpenPostgres(t)

	rep, err := registry.CopyToPostgres(ctx, src, dst, registry.CopyOptions{Settings: map[string][]byte{
		registry.SettingMobileKey: []byte("key file bytes"),
		registry.SettingTrust:     []byte("not this: the source has one"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range rep.Kinds {
		if k.Copied == 0 || k.Present != 0 {
			t.Errorf("%s: copied %d, present %d; want every kind copied", k.Kind, k.Copied, k.Present)
		}
	}
	if err := dst.Verify(ctx); err != nil {
		t.Fatalf("Verify after the copy: %v", err)
	}
	want, got := snapshot(t, src), snapshot(t, dst)
	if got["settings"] == want["settings"] {
		t.Errorf("settings: the mobile key was not added: %s", got["settings"])
	}
	var settings map[string][]byte
	if err := json.Unmarshal([]byte(got["settings"]), &settings); err != nil {
		t.Fatal(err)
	}
	if string(settings[registry.SettingMobileKey]) != "key file bytes" || string(settings[registry.SettingTrust]) != `{"min":"unverified"}` {
		t.Errorf("settings after the copy: %q", settings)
	}
	delete(want, "settings")
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s:\n bolt     %s\n postgres %s", name, w, got[name])
		}
	}
	if len(got) != len(want)+1 {
		t.Errorf("postgres answered %d questions, bolt %d", len(got)-1, len(want))
	}

	// The sequences continue: the next audit entry and KV revision come
	// after the copied ones, as they would in bbolt.
	audit, _ := src.Audit(ctx, registry.AuditFilter{Limit: 1})
	st, err := dst.SetTeamState(ctx, registry.TeamState{TeamID: "team3", PluginID: "com.example.a", Enabled: true, UpdatedBy: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	next, _ := dst.Audit(ctx, registry.AuditFilter{Limit: 1})
	if next[0].Seq <= audit[0].Seq || next[0].TeamID != st.TeamID {
		t.Errorf("first audit entry after the copy: %+v, want seq after %d", next[0], audit[0].Seq)
	}
	e, err := dst.KVPut(ctx, registry.KVWrite{PluginID: "com.example.a", Scope: "team:team1", Key: "k3", Value: []byte("v3"), Actor: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := src.KVList(ctx, "com.example.a", "team:team1", "", "", 10)
	if e.Rev <= l[len(l)-1].Rev {
		t.Errorf("rev of the first put after the copy %d, want after the copied %d", e.Rev, l[len(l)-1].Rev)
	}
}

// TestCopyToPostgresAgainCopiesNothing: a second copy of the same source
// finds every record present and writes nothing; a source that differs
// from what the target holds fails with ErrCopyConflict and writes
// nothing either, not even its new records.
func TestCopyToPostgresAgainCopiesNothing(t *testing.T) {
	ctx := context.Background()
	src := registrytest.OpenOptions(t, &registry.Options{NoSync: true, Clock: clock()})
	fillEveryKind(t, src)
	dst := registrytest.OpenPostgres(t)
	first, err := registry.CopyToPostgres(ctx, src, dst, registry.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := registry.CopyToPostgres(ctx, src, dst, registry.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Copied() != 0 {
		t.Errorf("second copy wrote %d records: %+v", again.Copied(), again.Kinds)
	}
	for i, k := range again.Kinds {
		if k.Present != first.Kinds[i].Copied {
			t.Errorf("%s: present %d on the second copy, copied %d on the first", k.Kind, k.Present, first.Kinds[i].Copied)
		}
	}

	tests := []struct {
		name   string
		change func(t *testing.T, b *registry.Bolt)
	}{
		{"another team state", func(t *testing.T, b *registry.Bolt) {
			if _, err := b.SetTeamState(ctx, registry.TeamState{TeamID: "team1", PluginID: "com.example.a", Enabled: false, UpdatedBy: "admin"}); err != nil {
				t.Fatal(err)
			}
		}},
		{"another registry", func(t *testing.T, b *registry.Bolt) {}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			other := src
			if i == 1 {
				other = registrytest.OpenOptions(t, &registry.Options{NoSync: true, Clock: clock()})
				registrytest.Push(t, other, registry.Pusher{UserID: "mallory"}, "com.example.a", "1.0.0", []byte("other"))
			}
			tc.change(t, other)
			before := snapshot(t, dst)
			_, err := registry.CopyToPostgres(ctx, other, dst, registry.CopyOptions{})
			if !errors.Is(err, registry.ErrCopyConflict) {
				t.Fatalf("copy of a changed source: %v, want ErrCopyConflict", err)
			}
			after := snapshot(t, dst)
			if fmt.Sprint(before) != fmt.Sprint(after) {
				t.Errorf("a refused copy changed the target")
			}
		})
	}
}
