package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox"
	"github.com/mmtoolkit/mmtoolkit/internal/pgtest"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// replicaEnv is one replica of a fleet: a server on its own store (its own
// pool, as another process would have) of one shared database.
type replicaEnv struct {
	*env
	pg *registry.Postgres
}

// newFleet starts n servers on the database at dsn, sharing one sandbox
// (the Mattermost they front): a token works on each.
func newFleet(t *testing.T, dsn string, n int) []*replicaEnv {
	t.Helper()
	return newFleetConfig(t, dsn, n, server.Config{})
}

// newFleetConfig is newFleet with a configuration (Upstream and Logger are
// set here).
func newFleetConfig(t *testing.T, dsn string, n int, cfg server.Config) []*replicaEnv {
	t.Helper()
	sb, err := sandbox.Open(filepath.Join(t.TempDir(), "sandbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	out := make([]*replicaEnv, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { // at once, as replicas of a deployment start
			defer wg.Done()
			pg, err := registry.OpenPostgres(context.Background(), dsn, &registry.Options{MaxConns: 4})
			if err != nil {
				errs[i] = err
				return
			}
			cfg := cfg
			cfg.Upstream, cfg.Logger = sb.Handler(), slog.New(slog.NewTextHandler(io.Discard, nil))
			srv, err := server.New(pg, sb, cfg)
			if err != nil {
				pg.Close()
				errs[i] = err
				return
			}
			out[i] = &replicaEnv{env: &env{t: t, srv: srv, tokens: map[string]string{}, teams: map[string]string{}}, pg: pg}
		}()
	}
	wg.Wait()
	for i, r := range out {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		hs := httptest.NewServer(r.srv)
		t.Cleanup(func() { hs.Close(); r.srv.Close(); r.pg.Close() })
		r.url = hs.URL
	}
	for _, u := range []string{"admin", "dev", "alice", "bob", "carol"} {
		resp := out[0].do("", "POST", "/api/v4/users/login", "application/json",
			strings.NewReader(`{"login_id":"`+u+`","password":"mmtoolkit"}`))
		if resp.status != 200 {
			t.Fatalf("login %s: %d %s", u, resp.status, resp.body)
		}
		for _, r := range out {
			r.tokens[u] = resp.header.Get("Token")
		}
	}
	for _, r := range out {
		for _, name := range []string{"engineering", "sales"} {
			r.teams[name] = sandbox.SeedID("team", name)
		}
	}
	return out
}

// eventually polls cond until it holds, failing after a minute.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not after a minute: %s", what)
		}
	}
}

// manifestVersion is the version of plugin id the team's manifest on r
// serves, "" when none.
func manifestVersion(t *testing.T, r *replicaEnv, user, team, id string) string {
	t.Helper()
	m := r.do(user, "GET", "/api/v1/manifest?team="+team, "", nil)
	if m.status != 200 {
		t.Fatalf("manifest on a replica: %d %s", m.status, m.body)
	}
	var body struct {
		Plugins []struct{ ID, Version string }
	}
	json.Unmarshal(m.body, &body)
	for _, p := range body.Plugins {
		if p.ID == id {
			return p.Version
		}
	}
	return ""
}

// Three replicas: a push answered by replica A is servable from B at once;
// a toggle reaches websocket clients of B and C; a new version, a pin and a
// plugin's custom event made through A reach B's client; B's manifests
// follow.
func TestReplicasShareChanges(t *testing.T) {
	fleet := newFleet(t, pgtest.DB(t), 3)
	a, b, c := fleet[0], fleet[1], fleet[2]
	bob, _ := b.dial("bob")  // engineering, on B
	bobC, _ := c.dial("bob") // another page of bob's, on C

	push := a.push("dev", helloPlugin("com.example.hello", "1.0.0"))
	if push.status != http.StatusCreated {
		t.Fatalf("push on A: %d %s", push.status, push.body)
	}
	bundles := push.json(t)["bundles"].(map[string]any)
	for _, k := range []string{"web", "mobile"} {
		url := bundles[k].(map[string]any)["url"].(string)
		if r := b.do("", "GET", url, "", nil); r.status != 200 {
			t.Fatalf("%s bundle on B right after A's 201: %d %s", k, r.status, r.body)
		}
	}

	if r := a.setTeam("alice", "engineering", "com.example.hello", `{"enabled":true}`); r.status != 200 {
		t.Fatal(string(r.body))
	}
	m := readWS(t, bob, 30*time.Second)
	if m == nil || m.Event != "plugin_enabled" || !strings.Contains(string(m.Data), `"version":"1.0.0"`) {
		t.Fatalf("bob on B after the toggle on A: %+v", m)
	}
	if m := readWS(t, bobC, 30*time.Second); m == nil || m.Event != "plugin_enabled" {
		t.Fatalf("bob on C after the toggle on A: %+v", m)
	}
	if v := manifestVersion(t, b, "bob", "engineering", "com.example.hello"); v != "1.0.0" {
		t.Fatalf("B's manifest after the event: version %q", v)
	}

	if r := a.push("dev", helloPlugin("com.example.hello", "1.1.0")); r.status != http.StatusCreated {
		t.Fatal(string(r.body))
	}
	if m := readWS(t, bob, 30*time.Second); m == nil || m.Event != "plugin_updated" || !strings.Contains(string(m.Data), `"version":"1.1.0"`) {
		t.Fatalf("bob on B after a push on A: %+v", m)
	}
	if v := manifestVersion(t, b, "bob", "engineering", "com.example.hello"); v != "1.1.0" {
		t.Fatalf("B's manifest after the push on A: version %q", v)
	}
	// A pin is an update, as on the replica that took it.
	if r := a.setTeam("alice", "engineering", "com.example.hello", `{"enabled":true,"version":"1.0.0"}`); r.status != 200 {
		t.Fatal(string(r.body))
	}
	if m := readWS(t, bob, 30*time.Second); m == nil || m.Event != "plugin_updated" || !strings.Contains(string(m.Data), `"version":"1.0.0"`) {
		t.Fatalf("bob on B after a pin on A: %+v", m)
	}

	r := a.do("alice", "POST", "/api/v1/plugins/com.example.hello/events", "application/json",
		strings.NewReader(`{"event":"ring","team_id":"engineering","data":{"from":"alice"}}`))
	if r.status != http.StatusAccepted {
		t.Fatalf("event on A: %d %s", r.status, r.body)
	}
	if m := readWS(t, bob, 30*time.Second); m == nil || m.Event != "custom_com.example.hello_ring" || string(m.Data) != `{"from":"alice"}` {
		t.Fatalf("bob on B after a custom event on A: %+v", m)
	}

	if r := a.setTeam("alice", "engineering", "com.example.hello", `{"enabled":false}`); r.status != 200 {
		t.Fatal(string(r.body))
	}
	if m := readWS(t, bob, 30*time.Second); m == nil || m.Event != "plugin_disabled" {
		t.Fatalf("bob on B after disabling on A: %+v", m)
	}
	if v := manifestVersion(t, b, "bob", "engineering", "com.example.hello"); v != "" {
		t.Fatalf("B's manifest after disabling on A: version %q", v)
	}
	if st := b.srv.Replica(); !st.Following || st.Applied == 0 {
		t.Errorf("B's replica stats: %+v", st)
	}
	metrics := string(b.do("", "GET", "/metrics", "", nil).body)
	for _, line := range []string{"mmtoolkit_replica_listening 1\n", "mmtoolkit_store_statements_total "} {
		if !strings.Contains(metrics, line) {
			t.Errorf("B's /metrics lacks %q", line)
		}
	}
}

// When nothing changed, the hot path (manifest revalidations, bundles)
// sends the database nothing; a change from another replica costs the
// rebuild's reads once.
func TestReplicaHotPathMakesNoQueries(t *testing.T) {
	fleet := newFleet(t, pgtest.DB(t), 2)
	a, b := fleet[0], fleet[1]
	push := a.push("dev", helloPlugin("com.example.hello", "1.0.0"))
	if push.status != http.StatusCreated {
		t.Fatal(string(push.body))
	}
	a.setTeam("alice", "engineering", "com.example.hello", `{"enabled":true}`)
	eventually(t, "B serves the plugin", func() bool {
		return manifestVersion(t, b, "bob", "engineering", "com.example.hello") == "1.0.0"
	})
	url := push.json(t)["bundles"].(map[string]any)["web"].(map[string]any)["url"].(string)
	first := b.do("bob", "GET", "/api/v1/manifest?team=engineering", "", nil)
	b.do("", "GET", url, "", nil)
	etag := first.header.Get("ETag")
	// Nothing changes from here on: A's background work (variants, maps)
	// is done and B has applied every change row it wrote.
	a.waitIdle()
	b.waitIdle()
	last, err := a.pg.LastChange(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "B applied every change", func() bool { return b.srv.Replica().LastChange >= last })
	b.do("", "GET", url, "", nil, "Accept-Encoding", "gzip") // the variant's bytes, cached

	before := b.pg.Statements()
	const n = 200
	for range n {
		if r := b.do("bob", "GET", "/api/v1/manifest?team=engineering", "", nil, "If-None-Match", etag); r.status != http.StatusNotModified {
			t.Fatalf("revalidation: %d", r.status)
		}
		if r := b.do("", "GET", url, "", nil, "Accept-Encoding", "gzip"); r.status != 200 {
			t.Fatalf("bundle: %d", r.status)
		}
	}
	if got := b.pg.Statements() - before; got != 0 {
		t.Fatalf("%d manifest and %d bundle requests sent %d statements to the database, want 0", n, n, got)
	}
	// The counter counts: a toggle elsewhere makes B read once.
	a.setTeam("alice", "engineering", "com.example.hello", `{"enabled":false}`)
	eventually(t, "B drops the plugin", func() bool {
		return manifestVersion(t, b, "bob", "engineering", "com.example.hello") == ""
	})
	if b.pg.Statements() == before {
		t.Error("rebuilding B's manifest after a change sent no statement: the counter counts nothing")
	}
}

// Background work happens once per blob across the fleet: replicas that
// start together on a registry whose bundles have no precompressed
// variants compress each blob once between them.
func TestBackgroundWorkOncePerFleet(t *testing.T) {
	dsn := pgtest.DB(t)
	seed, err := registry.OpenPostgres(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	const versions = 6
	want := map[string]bool{}
	for i := range versions {
		js := []byte(fmt.Sprintf("window.registerPlugin('p%d', {initialize() {}});\n%s", i, bytes.Repeat([]byte("// padding that compresses\n"), 200)))
		v, blobs := registrytest.Version(fmt.Sprintf("com.example.p%d", i), "1.0.0", js)
		for kind, a := range v.Artifacts {
			for _, sha := range a.Encodings {
				delete(blobs, sha)
			}
			a.Encodings, a.EncodedSizes = nil, nil
			v.Artifacts[kind] = a
			want[a.SHA256] = true
		}
		if _, err := seed.PutVersion(context.Background(), v, blobs, registry.Pusher{UserID: "dev"}); err != nil {
			t.Fatal(err)
		}
	}
	seed.Close()

	fleet := newFleet(t, dsn, 3)
	eventually(t, "every replica idle with every blob compressed", func() bool {
		for _, r := range fleet {
			if !r.srv.Idle() {
				return false
			}
		}
		all, err := fleet[0].pg.AllEncodings(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for sha := range want {
			if len(all[sha]) == 0 {
				return false
			}
		}
		return true
	})
	var total uint64
	for _, r := range fleet {
		total += r.srv.Compressions()
	}
	if total != uint64(len(want)) {
		t.Fatalf("%d compressions for %d blobs across 3 replicas, want one each", total, len(want))
	}
}

// PostgreSQL stopping: writes answer 503 store_unavailable with
// Retry-After, the cached hot path keeps serving, and when PostgreSQL is
// back both recover by themselves, changes crossing replicas again.
func TestStoreUnavailableAndBack(t *testing.T) {
	cl := pgtest.New(t)
	_, dsn, err := cl.CreateDB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fleet := newFleet(t, dsn, 2)
	a, b := fleet[0], fleet[1]
	push := a.push("dev", helloPlugin("com.example.hello", "1.0.0"))
	if push.status != http.StatusCreated {
		t.Fatal(string(push.body))
	}
	a.setTeam("alice", "engineering", "com.example.hello", `{"enabled":true}`)
	eventually(t, "B serves the plugin", func() bool {
		return manifestVersion(t, b, "bob", "engineering", "com.example.hello") == "1.0.0"
	})
	url := push.json(t)["bundles"].(map[string]any)["web"].(map[string]any)["url"].(string)
	for _, r := range fleet {
		r.waitIdle()
	}
	last, err := a.pg.LastChange(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "B applied every change", func() bool { return b.srv.Replica().LastChange >= last })
	for _, r := range fleet { // what the pages asked for, cached
		r.do("", "GET", url, "", nil)
		manifestVersion(t, r, "bob", "engineering", "com.example.hello")
	}

	if err := cl.Stop(); err != nil {
		t.Fatal(err)
	}
	for i, r := range fleet {
		if v := manifestVersion(t, r, "bob", "engineering", "com.example.hello"); v != "1.0.0" {
			t.Errorf("replica %d manifest with PostgreSQL down: version %q", i, v)
		}
		if got := r.do("", "GET", url, "", nil); got.status != 200 {
			t.Errorf("replica %d bundle with PostgreSQL down: %d %s", i, got.status, got.body)
		}
		got := r.setTeam("alice", "engineering", "com.example.hello", `{"enabled":false}`)
		if got.status != http.StatusServiceUnavailable || got.errorCode(t) != "store_unavailable" || got.header.Get("Retry-After") == "" {
			t.Errorf("replica %d toggle with PostgreSQL down: %d %v %s", i, got.status, got.header, got.body)
		}
	}

	if err := cl.Restart(); err != nil {
		t.Fatal(err)
	}
	bob, _ := b.dial("bob")
	eventually(t, "a toggle on A succeeds again", func() bool {
		return a.setTeam("alice", "engineering", "com.example.hello", `{"enabled":false}`).status == 200
	})
	if m := readWS(t, bob, 30*time.Second); m == nil || m.Event != "plugin_disabled" {
		t.Fatalf("bob on B after the toggle on A, PostgreSQL back: %+v", m)
	}
	eventually(t, "B's manifest follows", func() bool {
		return manifestVersion(t, b, "bob", "engineering", "com.example.hello") == ""
	})
}

// A developer's preview lease taken on one replica holds on every other:
// their manifest on B serves the prerelease, everyone else's the release;
// ending it on B ends it on A.
func TestPreviewCrossesReplicas(t *testing.T) {
	fleet := newFleet(t, pgtest.DB(t), 2)
	a, b := fleet[0], fleet[1]
	if r := a.push("dev", helloPlugin(helloID, "1.0.0")); r.status != http.StatusCreated {
		t.Fatal(string(r.body))
	}
	if r := a.setTeam("alice", "engineering", helloID, `{"enabled":true}`); r.status != 200 {
		t.Fatal(string(r.body))
	}
	if r := a.push("dev", helloPlugin(helloID, devV1)); r.status != http.StatusCreated {
		t.Fatal(string(r.body))
	}
	if r := a.preview("dev", devV1, 0); r.status != 200 {
		t.Fatalf("preview on A: %d %s", r.status, r.body)
	}
	eventually(t, "dev's manifest on B serves the preview", func() bool {
		return manifestVersion(t, b, "dev", "engineering", helloID) == devV1
	})
	if v := manifestVersion(t, b, "bob", "engineering", helloID); v != "1.0.0" {
		t.Fatalf("bob's manifest on B during dev's preview: %q", v)
	}
	if r := b.do("dev", "DELETE", "/api/v1/plugins/"+helloID+"/preview", "", nil); r.status != http.StatusNoContent {
		t.Fatalf("end the preview on B: %d %s", r.status, r.body)
	}
	eventually(t, "dev's manifest on A back to the release", func() bool {
		return manifestVersion(t, a, "dev", "engineering", helloID) == "1.0.0"
	})
}

// The owner quota counts versions pushed through other replicas: B, which
// counted the owner's usage before A stored a version, counts it again.
func TestOwnerQuotaCountsOtherReplicasPushes(t *testing.T) {
	// One version's stored bytes (its bundles and maps), on bbolt.
	probe := newEnv(t, server.Config{})
	if r := probe.push("dev", helloPlugin(helloID, "1.0.0")); r.status != http.StatusCreated {
		t.Fatal(string(r.body))
	}
	probe.waitIdle()
	v, err := probe.store.Version(context.Background(), helloID, "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, a := range v.Artifacts {
		size += a.Size
	}
	// Room for two versions, not three.
	fleet := newFleetConfig(t, pgtest.DB(t), 2, server.Config{OwnerQuotaBytes: size * 5 / 2})
	a, b := fleet[0], fleet[1]
	if r := b.push("dev", helloPlugin(helloID, "1.0.0")); r.status != http.StatusCreated {
		t.Fatal(string(r.body))
	}
	b.waitIdle()
	if r := a.push("dev", helloPlugin(helloID, "1.1.0")); r.status != http.StatusCreated {
		t.Fatal(string(r.body))
	}
	a.waitIdle()
	last, err := a.pg.LastChange(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "B applied every change", func() bool { return b.srv.Replica().LastChange >= last })
	if r := b.push("dev", helloPlugin(helloID, "1.2.0")); r.status != http.StatusInsufficientStorage || r.errorCode(t) != "storage_quota_exceeded" {
		t.Fatalf("a third version through B: %d %s, want 507 storage_quota_exceeded", r.status, r.body)
	}
}

// hermesCompiles is how many bundles r compiled to Hermes bytecode, from
// its /metrics.
func hermesCompiles(t *testing.T, r *replicaEnv) int {
	t.Helper()
	body := string(r.do("", "GET", "/metrics", "", nil).body)
	_, rest, ok := strings.Cut(body, `mmtoolkit_compile_duration_seconds_count{target="hermes"} `)
	if !ok {
		return 0
	}
	var n int
	fmt.Sscanf(rest, "%d", &n)
	return n
}

// Hermes bytecode too is compiled once per bundle across the fleet.
func TestBytecodeOncePerFleet(t *testing.T) {
	hc := hermesc(t)
	dsn := pgtest.DB(t)
	seed, err := registry.OpenPostgres(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	const versions = 4
	var sources []string
	for i := range versions {
		web := []byte(fmt.Sprintf("window.registerPlugin('p%d', {initialize() {}});\n", i))
		mobileJS := []byte(fmt.Sprintf("var plugin%d = {initialize: function () { return %d; }};\n", i, i))
		v, blobs := registrytest.Version(fmt.Sprintf("com.example.p%d", i), "1.0.0", web, []byte("{}"), mobileJS)
		if _, err := seed.PutVersion(context.Background(), v, blobs, registry.Pusher{UserID: "dev"}); err != nil {
			t.Fatal(err)
		}
		sources = append(sources, v.Artifacts[registry.MobileJS].SHA256)
	}
	seed.Close()

	fleet := newFleetConfig(t, dsn, 3, server.Config{Hermesc: hc})
	eventually(t, "every replica idle with every bundle compiled", func() bool {
		for _, r := range fleet {
			if !r.srv.Idle() {
				return false
			}
		}
		for _, sha := range sources {
			bcs, err := fleet[0].pg.Bytecode(context.Background(), sha)
			if err != nil {
				t.Fatal(err)
			}
			if len(bcs) == 0 {
				return false
			}
		}
		return true
	})
	total := 0
	for _, r := range fleet {
		total += hermesCompiles(t, r)
	}
	if total != versions {
		t.Fatalf("%d Hermes compiles for %d mobile bundles across 3 replicas, want one each", total, versions)
	}
}
