package registry_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mmtoolkit/mmtoolkit/internal/pgtest"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

var (
	ctx   = context.Background()
	dev   = registry.Pusher{UserID: "dev"}
	other = registry.Pusher{UserID: "mallory"}
	admin = registry.Pusher{UserID: "admin", SystemAdmin: true}
)

// clock returns a clock that starts at a fixed instant and moves one second
// per call, so stamps are predictable and distinct.
func clock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func openClock(t *testing.T) *registry.Bolt {
	t.Helper()
	return registrytest.OpenOptions(t, &registry.Options{NoSync: true, Clock: clock()})
}

func put(t *testing.T, s registry.Store, by registry.Pusher, id, version string, blobs ...[]byte) registry.PutResult {
	t.Helper()
	v, b := registrytest.Version(id, version, blobs...)
	res, err := s.PutVersion(ctx, v, b, by)
	if err != nil {
		t.Fatalf("PutVersion(%s@%s): %v", id, version, err)
	}
	return res
}

func stats(t *testing.T, s interface {
	Stats(context.Context) (registry.Stats, error)
}) registry.Stats {
	t.Helper()
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func audit(t *testing.T, s registry.Store, f registry.AuditFilter) []registry.AuditEntry {
	t.Helper()
	entries, err := s.Audit(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func verify(t *testing.T, s registry.Store) {
	t.Helper()
	v, ok := s.(interface{ Verify(context.Context) error })
	if !ok {
		t.Fatalf("%T has no Verify", s)
	}
	if err := v.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPutGetRoundTrip(t *testing.T) {
	forEachStoreClock(t, func(t *testing.T, s testStore) {
		v, blobs := registrytest.Version("com.example.map", "1.2.0", []byte("web bundle"), []byte(`{"version":3}`), []byte("mobile bundle"))
		before := *v
		res, err := s.PutVersion(ctx, v, blobs, dev)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Created {
			t.Error("Created = false on first push")
		}
		if !reflect.DeepEqual(*v, before) {
			t.Error("PutVersion modified its argument")
		}
		want := time.Date(2024, 5, 1, 12, 0, 1, 0, time.UTC)
		if res.Version.PushedBy != "dev" || !res.Version.PushedAt.Equal(want) {
			t.Errorf("pushed by %q at %v, want dev at %v", res.Version.PushedBy, res.Version.PushedAt, want)
		}

		got, err := s.Version(ctx, "com.example.map", "1.2.0")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, res.Version) {
			t.Errorf("Version() = %+v\nPutResult.Version = %+v", got, res.Version)
		}
		if got.Manifest.Mobile == nil || got.Manifest.ID != "com.example.map" || string(got.RawManifest) != string(v.RawManifest) {
			t.Errorf("manifest not kept: %+v %s", got.Manifest, got.RawManifest)
		}
		for sha, data := range blobs {
			b, err := s.Blob(ctx, sha)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != string(data) {
				t.Errorf("Blob(%s) = %q, want %q", sha, b, data)
			}
		}

		p, err := s.Plugin(ctx, "com.example.map")
		if err != nil {
			t.Fatal(err)
		}
		wantPlugin := &registry.Plugin{ID: "com.example.map", Owner: "dev", CreatedAt: want, Versions: []string{"1.2.0"}, Latest: "1.2.0"}
		if !reflect.DeepEqual(p, wantPlugin) {
			t.Errorf("Plugin() = %+v, want %+v", p, wantPlugin)
		}
		if st := stats(t, s); st.Plugins != 1 || st.Versions != 1 || st.Blobs != 6 || st.AuditEntries != 1 {
			t.Errorf("Stats() = %+v", st)
		}
		verify(t, s)
	})
}

func TestNotFound(t *testing.T) {
	forEachStore(t, func(t *testing.T, s testStore) {
		put(t, s, dev, "a.plugin", "1.0.0")
		tests := []struct {
			name string
			call func() error
			want error
		}{
			{"plugin", func() error { _, err := s.Plugin(ctx, "nope"); return err }, registry.ErrPluginNotFound},
			{"version of unknown plugin", func() error { _, err := s.Version(ctx, "nope", "1.0.0"); return err }, registry.ErrPluginNotFound},
			{"version", func() error { _, err := s.Version(ctx, "a.plugin", "9.9.9"); return err }, registry.ErrVersionNotFound},
			{"blob", func() error { _, err := s.Blob(ctx, strings.Repeat("0", 64)); return err }, registry.ErrBlobNotFound},
			{"plugin team states", func() error { _, err := s.PluginTeamStates(ctx, "nope"); return err }, registry.ErrPluginNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.call()
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				if !strings.HasPrefix(err.Error(), "registry: ") {
					t.Errorf("err %q lacks context", err)
				}
			})
		}
		states, err := s.TeamStates(ctx, "never-touched")
		if err != nil || len(states) != 0 {
			t.Errorf("TeamStates(never-touched) = %v, %v; want empty, nil", states, err)
		}
	})
}

func TestBlobDedup(t *testing.T) {
	forEachStore(t, func(t *testing.T, s testStore) {
		bundle := []byte(strings.Repeat("shared bundle ", 1000))
		put(t, s, dev, "a.plugin", "1.0.0", bundle)
		first := stats(t, s)
		put(t, s, dev, "a.plugin", "1.1.0", bundle)
		put(t, s, dev, "b.plugin", "1.0.0", bundle)
		got := stats(t, s)
		if got.Blobs != 2 || got.Blobs != first.Blobs || got.BlobBytes != first.BlobBytes {
			t.Errorf("after three versions sharing a bundle: %+v, after the first: %+v; want 2 blobs stored once", got, first)
		}
		if got.Versions != 3 || got.Plugins != 2 {
			t.Errorf("Stats() = %+v, want 2 plugins, 3 versions", got)
		}

		// A caller may leave out blobs it knows are stored.
		v, _ := registrytest.Version("a.plugin", "1.2.0", bundle)
		if _, err := s.PutVersion(ctx, v, nil, dev); err != nil {
			t.Errorf("push naming only stored blobs: %v", err)
		}
		verify(t, s)
	})
}

func TestIdempotentRePush(t *testing.T) {
	forEachStoreClock(t, func(t *testing.T, s testStore) {
		first := put(t, s, dev, "a.plugin", "1.0.0")
		before := stats(t, s)
		again := put(t, s, dev, "a.plugin", "1.0.0")
		if again.Created {
			t.Error("Created = true on identical re-push")
		}
		if !reflect.DeepEqual(again.Version, first.Version) {
			t.Errorf("re-push returned %+v, want the stored %+v", again.Version, first.Version)
		}
		if n := len(audit(t, s, registry.AuditFilter{})); n != 1 {
			t.Errorf("%d audit entries after a re-push, want 1", n)
		}
		if after := stats(t, s); after != before {
			t.Errorf("re-push changed the store: %+v -> %+v", before, after)
		}
	})
}

func TestVersionConflict(t *testing.T) {
	forEachStore(t, func(t *testing.T, s testStore) {
		put(t, s, dev, "a.plugin", "1.0.0", []byte("one"))
		v, blobs := registrytest.Version("a.plugin", "1.0.0", []byte("two"))
		_, err := s.PutVersion(ctx, v, blobs, dev)
		if !errors.Is(err, registry.ErrVersionConflict) {
			t.Fatalf("err = %v, want ErrVersionConflict", err)
		}
		if want := "registry: put a.plugin@1.0.0: "; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("err = %q, want prefix %q", err, want)
		}
		if _, err := s.Blob(ctx, registrytest.SHA256([]byte("two"))); !errors.Is(err, registry.ErrBlobNotFound) {
			t.Errorf("conflicting push stored its blob: %v", err)
		}
	})
}

func TestOwnership(t *testing.T) {
	tests := []struct {
		name    string
		by      registry.Pusher
		wantErr error
		detail  string
	}{
		{"owner", dev, nil, ""},
		{"another user", other, registry.ErrNotOwner, ""},
		{"another user claiming the owner's name is still checked by id", registry.Pusher{UserID: "Dev"}, registry.ErrNotOwner, ""},
		{"system admin", admin, nil, "system admin push; owner is dev"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, s testStore) {
				put(t, s, dev, "a.plugin", "1.0.0")
				v, blobs := registrytest.Version("a.plugin", "1.1.0")
				_, err := s.PutVersion(ctx, v, blobs, tc.by)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				p, _ := s.Plugin(ctx, "a.plugin")
				if p.Owner != "dev" {
					t.Errorf("owner = %q, want dev (first pusher)", p.Owner)
				}
				entries := audit(t, s, registry.AuditFilter{})
				if tc.wantErr != nil {
					if len(p.Versions) != 1 || len(entries) != 1 {
						t.Errorf("refused push left versions %v and %d audit entries", p.Versions, len(entries))
					}
					return
				}
				if e := entries[0]; e.Actor != tc.by.UserID || e.Version != "1.1.0" || e.Detail != tc.detail {
					t.Errorf("audit entry %+v, want actor %s detail %q", e, tc.by.UserID, tc.detail)
				}
			})
		})
	}
}

func TestSemverOrdering(t *testing.T) {
	tests := []struct {
		name       string
		push       []string
		wantOrder  []string
		wantLatest string
	}{
		{"numeric not lexical", []string{"1.10.0", "1.9.0", "1.2.0"}, []string{"1.2.0", "1.9.0", "1.10.0"}, "1.10.0"},
		{"prerelease before release", []string{"2.0.0", "2.0.0-rc.1", "2.0.0-beta.2", "2.0.0-beta.10"}, []string{"2.0.0-beta.2", "2.0.0-beta.10", "2.0.0-rc.1", "2.0.0"}, "2.0.0"},
		{"latest is highest, not newest", []string{"3.0.0", "1.0.0"}, []string{"1.0.0", "3.0.0"}, "3.0.0"},
		{"prerelease can be highest", []string{"1.0.0", "1.1.0-alpha"}, []string{"1.0.0", "1.1.0-alpha"}, "1.1.0-alpha"},
		{"build metadata keeps a total order", []string{"1.0.0+b", "1.0.0+a", "0.9.0"}, []string{"0.9.0", "1.0.0+a", "1.0.0+b"}, "1.0.0+b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, s testStore) {
				for _, v := range tc.push {
					put(t, s, dev, "a.plugin", v)
				}
				p, err := s.Plugin(ctx, "a.plugin")
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(p.Versions, tc.wantOrder) || p.Latest != tc.wantLatest {
					t.Errorf("versions %v latest %s, want %v latest %s", p.Versions, p.Latest, tc.wantOrder, tc.wantLatest)
				}
				verify(t, s)
			})
		})
	}
}

func TestPutRejects(t *testing.T) {
	data := []byte("bundle")
	tests := []struct {
		name   string
		edit   func(v *registry.Version, blobs map[string][]byte)
		by     registry.Pusher
		want   error
		substr string
	}{
		{"missing blob", func(v *registry.Version, b map[string][]byte) { delete(b, registrytest.SHA256(data)) }, dev, registry.ErrMissingBlob, "web.js"},
		{"missing encoding blob", func(v *registry.Version, b map[string][]byte) {
			delete(b, v.Artifacts[registry.WebJS].Encodings["gzip"])
		}, dev, registry.ErrMissingBlob, "web.js gzip"},
		{"blob does not hash to its key", func(v *registry.Version, b map[string][]byte) { b[registrytest.SHA256(data)] = []byte("tampered") }, dev, registry.ErrBlobMismatch, "hashes to"},
		{"size differs from blob", func(v *registry.Version, b map[string][]byte) {
			a := v.Artifacts[registry.WebJS]
			a.Size++
			v.Artifacts[registry.WebJS] = a
		}, dev, registry.ErrInvalid, "size"},
		{"upper-case sha", func(v *registry.Version, b map[string][]byte) {
			a := v.Artifacts[registry.WebJS]
			a.SHA256 = strings.ToUpper(a.SHA256)
			v.Artifacts[registry.WebJS] = a
		}, dev, registry.ErrInvalid, "hex"},
		{"empty plugin id", func(v *registry.Version, b map[string][]byte) { v.PluginID, v.Manifest.ID = "", "" }, dev, registry.ErrInvalid, "plugin id"},
		{"version with v", func(v *registry.Version, b map[string][]byte) { v.Version, v.Manifest.Version = "v1.0.0", "" }, dev, registry.ErrInvalid, "semver"},
		{"short version", func(v *registry.Version, b map[string][]byte) { v.Version, v.Manifest.Version = "1.0", "" }, dev, registry.ErrInvalid, "semver"},
		{"manifest id differs", func(v *registry.Version, b map[string][]byte) { v.Manifest.ID = "other" }, dev, registry.ErrInvalid, "manifest id"},
		{"no package hash", func(v *registry.Version, b map[string][]byte) { v.PackageSHA256 = "" }, dev, registry.ErrInvalid, "package"},
		{"anonymous pusher", func(v *registry.Version, b map[string][]byte) {}, registry.Pusher{}, registry.ErrInvalid, "user id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, s testStore) {
				v, blobs := registrytest.Version("a.plugin", "1.0.0", data)
				tc.edit(v, blobs)
				_, err := s.PutVersion(ctx, v, blobs, tc.by)
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.substr) {
					t.Fatalf("err = %v, want %v mentioning %q", err, tc.want, tc.substr)
				}
				if st := stats(t, s); st.Plugins+st.Versions+st.Blobs != 0 || st.AuditEntries != 0 {
					t.Errorf("refused push left %+v", st)
				}
			})
		})
	}
	t.Run("nil version", func(t *testing.T) {
		forEachStore(t, func(t *testing.T, s testStore) {
			if _, err := s.PutVersion(ctx, nil, nil, dev); !errors.Is(err, registry.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	})
}

func TestTeamState(t *testing.T) {
	forEachStoreClock(t, func(t *testing.T, s testStore) {
		put(t, s, dev, "a.plugin", "1.0.0")
		put(t, s, dev, "a.plugin", "1.1.0")

		steps := []struct {
			name       string
			set        registry.TeamState
			wantErr    error
			wantAction string // "" means no new audit entry
			wantDetail string
		}{
			{"enable", registry.TeamState{Enabled: true}, nil, registry.ActionEnable, ""},
			{"pin", registry.TeamState{Enabled: true, Version: "1.0.0"}, nil, registry.ActionPin, "pinned 1.0.0"},
			{"same again writes nothing", registry.TeamState{Enabled: true, Version: "1.0.0"}, nil, "", ""},
			{"pin to missing version", registry.TeamState{Enabled: true, Version: "9.0.0"}, registry.ErrVersionNotFound, "", ""},
			{"follow latest", registry.TeamState{Enabled: true}, nil, registry.ActionPin, "follow latest"},
			{"disable and pin", registry.TeamState{Enabled: false, Version: "1.1.0"}, nil, registry.ActionDisable, "pinned 1.1.0"},
			{"unknown plugin", registry.TeamState{PluginID: "nope", Enabled: true}, registry.ErrPluginNotFound, "", ""},
			{"no actor", registry.TeamState{UpdatedBy: "-", Enabled: true}, registry.ErrInvalid, "", ""},
		}
		for _, step := range steps {
			t.Run(step.name, func(t *testing.T) {
				in := step.set
				in.TeamID = "engineering"
				if in.PluginID == "" {
					in.PluginID = "a.plugin"
				}
				switch in.UpdatedBy {
				case "":
					in.UpdatedBy = "alice"
				case "-":
					in.UpdatedBy = ""
				}
				before := audit(t, s, registry.AuditFilter{})
				got, err := s.SetTeamState(ctx, in)
				if !errors.Is(err, step.wantErr) {
					t.Fatalf("err = %v, want %v", err, step.wantErr)
				}
				after := audit(t, s, registry.AuditFilter{})
				if step.wantAction == "" {
					if len(after) != len(before) {
						t.Errorf("new audit entry %+v, want none", after[0])
					}
					return
				}
				if got.Enabled != in.Enabled || got.Version != in.Version || got.UpdatedBy != "alice" || got.UpdatedAt.IsZero() {
					t.Errorf("SetTeamState() = %+v", got)
				}
				e := after[0]
				if len(after) != len(before)+1 || e.Action != step.wantAction || e.Detail != step.wantDetail ||
					e.TeamID != "engineering" || e.Actor != "alice" || e.Version != in.Version || !e.At.Equal(got.UpdatedAt) {
					t.Errorf("audit entry %+v, want action %s detail %q", e, step.wantAction, step.wantDetail)
				}
				states, err := s.TeamStates(ctx, "engineering")
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(states["a.plugin"], got) {
					t.Errorf("TeamStates() = %+v, want %+v", states["a.plugin"], got)
				}
			})
		}

		if _, err := s.SetTeamState(ctx, registry.TeamState{TeamID: "sales", PluginID: "a.plugin", Enabled: true, UpdatedBy: "carol"}); err != nil {
			t.Fatal(err)
		}
		all, err := s.PluginTeamStates(ctx, "a.plugin")
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all["engineering"].Enabled || !all["sales"].Enabled {
			t.Errorf("PluginTeamStates() = %+v", all)
		}
		verify(t, s)
	})
}

func TestAuditOrderAndFilters(t *testing.T) {
	forEachStoreClock(t, func(t *testing.T, s testStore) {
		put(t, s, dev, "a.plugin", "1.0.0")
		put(t, s, other, "b.plugin", "1.0.0")
		for _, st := range []registry.TeamState{
			{TeamID: "engineering", PluginID: "a.plugin", Enabled: true, UpdatedBy: "alice"},
			{TeamID: "sales", PluginID: "a.plugin", Enabled: true, UpdatedBy: "carol"},
			{TeamID: "engineering", PluginID: "b.plugin", Enabled: true, UpdatedBy: "alice"},
		} {
			if _, err := s.SetTeamState(ctx, st); err != nil {
				t.Fatal(err)
			}
		}
		summary := func(entries []registry.AuditEntry) []string {
			var out []string
			for _, e := range entries {
				out = append(out, fmt.Sprintf("%d %s %s %s %s", e.Seq, e.Actor, e.Action, e.PluginID, e.TeamID))
			}
			return out
		}
		tests := []struct {
			name   string
			filter registry.AuditFilter
			want   []string
		}{
			{"all newest first", registry.AuditFilter{}, []string{
				"5 alice enable b.plugin engineering",
				"4 carol enable a.plugin sales",
				"3 alice enable a.plugin engineering",
				"2 mallory push b.plugin ",
				"1 dev push a.plugin ",
			}},
			{"actor", registry.AuditFilter{Actor: "alice"}, []string{"5 alice enable b.plugin engineering", "3 alice enable a.plugin engineering"}},
			{"plugin", registry.AuditFilter{PluginID: "a.plugin"}, []string{"4 carol enable a.plugin sales", "3 alice enable a.plugin engineering", "1 dev push a.plugin "}},
			{"team and plugin", registry.AuditFilter{TeamID: "engineering", PluginID: "a.plugin"}, []string{"3 alice enable a.plugin engineering"}},
			{"limit", registry.AuditFilter{Limit: 2}, []string{"5 alice enable b.plugin engineering", "4 carol enable a.plugin sales"}},
			{"no match", registry.AuditFilter{Actor: "nobody"}, nil},
			{"a prefix is not a match", registry.AuditFilter{Actor: "alic", TeamID: "engineer"}, nil},
			{"a value in another field is not a match", registry.AuditFilter{Actor: "engineering"}, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if got := summary(audit(t, s, tc.filter)); !slices.Equal(got, tc.want) {
					t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
				}
			})
		}
	})
}

func TestAuditLimits(t *testing.T) {
	forEachStore(t, func(t *testing.T, s testStore) {
		put(t, s, dev, "a.plugin", "1.0.0")
		for i := range registry.MaxAuditLimit + 5 {
			if _, err := s.SetTeamState(ctx, registry.TeamState{TeamID: "t", PluginID: "a.plugin", Enabled: i%2 == 0, UpdatedBy: "alice"}); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			limit, want int
		}{
			{0, registry.DefaultAuditLimit},
			{-1, registry.DefaultAuditLimit},
			{7, 7},
			{registry.MaxAuditLimit * 10, registry.MaxAuditLimit},
		}
		for _, tc := range tests {
			t.Run(fmt.Sprint(tc.limit), func(t *testing.T) {
				if got := len(audit(t, s, registry.AuditFilter{Limit: tc.limit})); got != tc.want {
					t.Errorf("%d entries, want %d", got, tc.want)
				}
			})
		}
	})
}

// TestReopen: what a store holds is there, the same, after closing and
// opening it again (bbolt: the file; PostgreSQL: the database).
func TestReopen(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			var open func() testStore
			switch kind {
			case "bolt":
				path := filepath.Join(t.TempDir(), "registry.db")
				open = func() testStore {
					s, err := registry.Open(path, nil)
					if err != nil {
						t.Fatal(err)
					}
					return s
				}
			case "postgres":
				dsn := pgtest.DB(t)
				open = func() testStore {
					s, err := registry.OpenPostgres(ctx, dsn, nil)
					if err != nil {
						t.Fatal(err)
					}
					return s
				}
			}
			s := open()
			put(t, s, dev, "a.plugin", "1.0.0")
			put(t, s, dev, "a.plugin", "1.1.0")
			put(t, s, other, "b.plugin", "0.1.0")
			if _, err := s.SetTeamState(ctx, registry.TeamState{TeamID: "engineering", PluginID: "a.plugin", Enabled: true, Version: "1.0.0", UpdatedBy: "alice"}); err != nil {
				t.Fatal(err)
			}
			wantPlugins, _ := s.Plugins(ctx)
			wantVersion, _ := s.Version(ctx, "a.plugin", "1.1.0")
			wantStates, _ := s.TeamStates(ctx, "engineering")
			wantAudit := audit(t, s, registry.AuditFilter{})
			wantStats := stats(t, s)
			if kind == "postgres" {
				wantStats.FileBytes = 0 // PostgreSQL's files are its own business
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			s = open()
			defer s.Close()
			gotPlugins, _ := s.Plugins(ctx)
			gotVersion, _ := s.Version(ctx, "a.plugin", "1.1.0")
			gotStates, _ := s.TeamStates(ctx, "engineering")
			checks := []struct {
				name      string
				got, want any
			}{
				{"plugins", gotPlugins, wantPlugins},
				{"version", gotVersion, wantVersion},
				{"team states", gotStates, wantStates},
				{"audit", audit(t, s, registry.AuditFilter{}), wantAudit},
				{"stats", func() registry.Stats {
					st := stats(t, s)
					if kind == "postgres" {
						st.FileBytes = 0
					}
					return st
				}(), wantStats},
			}
			for _, c := range checks {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s after reopen:\n%+v\nwant\n%+v", c.name, c.got, c.want)
				}
			}
			if len(gotPlugins) != 2 || gotPlugins[0].ID != "a.plugin" {
				t.Errorf("Plugins() = %+v, want a.plugin, b.plugin", gotPlugins)
			}
			// The sequence continues: no audit entry reuses a number.
			put(t, s, dev, "a.plugin", "1.2.0")
			if e := audit(t, s, registry.AuditFilter{Limit: 1})[0]; e.Seq != uint64(len(wantAudit)+1) {
				t.Errorf("seq after reopen = %d, want %d", e.Seq, len(wantAudit)+1)
			}
			verify(t, s)
		})
	}
}

func TestOpenLocked(t *testing.T) {
	s := registrytest.Open(t)
	start := time.Now()
	_, err := registry.Open(s.Path(), &registry.Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, registry.ErrLocked) {
		t.Fatalf("second Open: err = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), s.Path()) {
		t.Errorf("err %q does not name the file", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("second Open took %v", d)
	}
}

func TestOpenRefusesOtherSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		return b.Put([]byte("schema"), []byte("99"))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s, err := registry.Open(path, nil); err == nil || !strings.Contains(err.Error(), "schema") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open of a schema 99 file: err = %v, want a schema error", err)
	}
}

func TestClosed(t *testing.T) {
	forEachStore(t, func(t *testing.T, s testStore) {
		put(t, s, dev, "a.plugin", "1.0.0")
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		v, blobs := registrytest.Version("a.plugin", "1.1.0")
		calls := map[string]func() error{
			"PutVersion": func() error { _, err := s.PutVersion(ctx, v, blobs, dev); return err },
			"Plugin":     func() error { _, err := s.Plugin(ctx, "a.plugin"); return err },
			"Plugins":    func() error { _, err := s.Plugins(ctx); return err },
			"Version":    func() error { _, err := s.Version(ctx, "a.plugin", "1.0.0"); return err },
			"Blob":       func() error { _, err := s.Blob(ctx, v.Artifacts[registry.WebJS].SHA256); return err },
			"TeamStates": func() error { _, err := s.TeamStates(ctx, "t"); return err },
			"SetTeamState": func() error {
				_, err := s.SetTeamState(ctx, registry.TeamState{TeamID: "t", PluginID: "a.plugin", UpdatedBy: "a"})
				return err
			},
			"Audit":  func() error { _, err := s.Audit(ctx, registry.AuditFilter{}); return err },
			"Stats":  func() error { _, err := s.Stats(ctx); return err },
			"Verify": func() error { return s.Verify(ctx) },
		}
		for name, call := range calls {
			t.Run(name, func(t *testing.T) {
				if err := call(); !errors.Is(err, registry.ErrClosed) {
					t.Errorf("err = %v, want ErrClosed", err)
				}
			})
		}
	})
}

func TestCanceledContext(t *testing.T) {
	forEachStore(t, func(t *testing.T, s testStore) {
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		v, blobs := registrytest.Version("a.plugin", "1.0.0")
		if _, err := s.PutVersion(canceled, v, blobs, dev); !errors.Is(err, context.Canceled) {
			t.Errorf("PutVersion: err = %v, want context.Canceled", err)
		}
		if _, err := s.Plugins(canceled); !errors.Is(err, context.Canceled) {
			t.Errorf("Plugins: err = %v, want context.Canceled", err)
		}
		if st := stats(t, s); st.Versions != 0 {
			t.Errorf("canceled push stored something: %+v", st)
		}
	})
}

func TestVerifyFindsDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(tx *bolt.Tx) error
		want   string
	}{
		{"blob deleted", func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("blobs")).Delete([]byte(registrytest.SHA256([]byte("bundle"))))
		}, "missing"},
		{"blob changed", func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("blobs")).Put([]byte(registrytest.SHA256([]byte("bundle"))), []byte("BUNDLE"))
		}, "hashes to"},
		{"version deleted", func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("versions")).Bucket([]byte("a.plugin")).Delete([]byte("1.0.0"))
		}, "not stored"},
		{"audit entry deleted", func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("audit")).Delete([]byte{0, 0, 0, 0, 0, 0, 0, 1})
		}, "0 push audit entries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "registry.db")
			s, err := registry.Open(path, &registry.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			put(t, s, dev, "a.plugin", "1.0.0", []byte("bundle"))
			verify(t, s)
			s.Close()

			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(tc.damage); err != nil {
				t.Fatal(err)
			}
			db.Close()

			s, err = registry.Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.Verify(ctx)
			if !errors.Is(err, registry.ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify() = %v, want ErrCorrupt mentioning %q", err, tc.want)
			}
		})
	}
}

// TestConcurrentPut runs pushes, re-pushes of one shared version, team
// changes and reads from many goroutines; run it with -race.
func TestConcurrentPut(t *testing.T) {
	forEachStore(t, func(t *testing.T, s testStore) {
		const workers, perWorker = 16, 10
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			created int
		)
		shared, sharedBlobs := registrytest.Version("shared.plugin", "1.0.0")
		for w := range workers {
			wg.Go(func() {
				res, err := s.PutVersion(ctx, shared, sharedBlobs, dev)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if res.Created {
					created++
				}
				mu.Unlock()
				id := fmt.Sprintf("w%d.plugin", w%4) // four owners' plugins, shared by workers
				by := registry.Pusher{UserID: fmt.Sprintf("owner%d", w%4)}
				for i := range perWorker {
					v, blobs := registrytest.Version(id, fmt.Sprintf("%d.%d.0", w, i), []byte("common bundle"))
					if _, err := s.PutVersion(ctx, v, blobs, by); err != nil {
						t.Error(err)
						return
					}
					if _, err := s.SetTeamState(ctx, registry.TeamState{TeamID: fmt.Sprint("team", w), PluginID: id, Enabled: i%2 == 0, Version: v.Version, UpdatedBy: by.UserID}); err != nil {
						t.Error(err)
						return
					}
					if _, err := s.Plugins(ctx); err != nil {
						t.Error(err)
					}
					if _, err := s.Blob(ctx, registrytest.SHA256([]byte("common bundle"))); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if created != 1 {
			t.Errorf("%d goroutines created the shared version, want exactly 1", created)
		}
		st := stats(t, s)
		if want := 1 + workers*perWorker; st.Versions != want || st.Plugins != 5 || st.Blobs != 4 {
			t.Errorf("Stats() = %+v, want %d versions of 5 plugins sharing 4 blobs", st, want)
		}
		if n := len(audit(t, s, registry.AuditFilter{Actor: "owner0", Limit: registry.MaxAuditLimit})); n != 4*perWorker*2 {
			t.Errorf("%d audit entries by owner0, want %d", n, 4*perWorker*2)
		}
		verify(t, s)
	})
}
