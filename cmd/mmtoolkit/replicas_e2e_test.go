package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/mmtoolkit/mmtoolkit/internal/fleet"
	"github.com/mmtoolkit/mmtoolkit/internal/pgtest"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// TestReplicasBehindNginx runs the PostgreSQL mode as it is deployed:
// three `serve --store postgres://` replicas behind nginx on loopback, in
// front of a Mattermost (a sandbox server stands in for it, so the three
// agree on users and teams). A push through the first and a toggle through
// the second reach a websocket client of the third, and every answer
// through nginx agrees; the first replica SIGKILLed in the middle of pushes
// leaves no half version and the others keep serving without an error;
// PostgreSQL stopped: what needs it is answered 503 with Retry-After, and
// once it is back the replicas recover by themselves, websocket events
// included.
func TestReplicasBehindNginx(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary, PostgreSQL and nginx")
	}
	if _, err := fleet.FindNginx(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	pg := pgtest.New(t)
	dsn := pg.DSN("postgres")
	bin := filepath.Join(t.TempDir(), "mmtoolkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	mm := startServer(t, bin, t.TempDir()) // the Mattermost
	var replicas []*serverProc
	var backends []string
	for range 3 {
		r := startServerArgs(t, bin, "--data", t.TempDir(), "--store", dsn, "--upstream", mm.url)
		replicas = append(replicas, r)
		backends = append(backends, strings.TrimPrefix(r.url, "http://"))
	}
	lb, err := fleet.StartNginx(backends, fleet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lb.Stop)
	r1, r2, r3 := replicas[0], replicas[1], replicas[2]

	cli := func(server, user string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "MMTOOLKIT_SERVER="+server, "MMTOOLKIT_USER="+user, "MMTOOLKIT_PASSWORD=mmtoolkit", "MMTOOLKIT_TOKEN=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	bob, alice := login(t, lb.URL, "bob"), login(t, lb.URL, "alice")
	events := dialEvents(t, r3.url, bob)

	// A push through the first, a toggle through the second: the third's
	// client hears of both.
	hello := filepath.Join("..", "..", "docs", "examples", "hello")
	if out, err := cli(r1.url, "dev", "push", hello); err != nil {
		t.Fatalf("push through replica 1: %v\n%s", err, out)
	}
	if out, err := cli(r2.url, "alice", "enable", "--team", "engineering", "--plugin", "com.example.hello"); err != nil {
		t.Fatalf("enable through replica 2: %v\n%s", err, out)
	}
	events.want(t, "plugin_enabled", `"1.0.0"`)
	// A push answered 201 by replica 1 is servable by the others at once:
	// its bundle, read from replicas 2 and 3 right after the answer.
	pkg := filepath.Join(t.TempDir(), "hello-1.1.0.tar.gz")
	if out, err := cli(r1.url, "dev", "pack", "-o", pkg, helloVersion(t, "1.1.0")); err != nil {
		t.Fatalf("pack: %v\n%s", err, out)
	}
	web := pushPackage(t, r1.url, login(t, lb.URL, "dev"), pkg)
	for _, r := range []*serverProc{r2, r3} {
		sum := sha256.Sum256(get(t, r.url+web.URL, bob))
		if got := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); got != web.Integrity {
			t.Errorf("the new bundle from %s right after the 201: %s, want %s", r.url, got, web.Integrity)
		}
	}
	events.want(t, "plugin_updated", `"1.1.0"`)
	// Each replica's manifest lists it once it has read the change row
	// (tens of milliseconds); then every answer through nginx agrees.
	for _, r := range replicas {
		waitManifest(t, r.url, bob, "1.1.0")
	}
	for range 9 {
		checkManifest(t, lb.URL, bob, "1.1.0")
	}

	// Replica 1 killed in the middle of pushes: no half version, and the
	// others answer every request meanwhile.
	var readErrs atomic.Int64
	var reads atomic.Int64
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for _, url := range []string{lb.URL, r2.url, r3.url} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", url+"/api/v1/manifest?team=engineering&platform=web", nil)
				req.Header.Set("Authorization", "Bearer "+bob)
				resp, err := http.DefaultClient.Do(req)
				reads.Add(1)
				if err != nil || resp.StatusCode != 200 {
					readErrs.Add(1)
					if err == nil {
						body, _ := io.ReadAll(resp.Body)
						t.Logf("%s during the kill: %d %s", url, resp.StatusCode, body)
					} else {
						t.Logf("%s during the kill: %v", url, err)
					}
				}
				if resp != nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	var pushes sync.WaitGroup
	first := make(chan string, 8)
	var pushed sync.Map // versions whose push was answered
	for i := range 6 {
		version := fmt.Sprintf("2.0.%d", i)
		dir := helloVersion(t, version)
		pushes.Add(1)
		go func() {
			defer pushes.Done()
			if _, err := cli(r1.url, "dev", "push", dir); err == nil {
				pushed.Store(version, true)
				first <- version
			}
		}()
	}
	// Kill replica 1 inside a push's transaction when one is seen (only
	// replica 1 takes pushes now: a write of versions or blobs in progress
	// is one of its pushes), else as soon as one push was answered, with
	// the others in flight.
	inTx := make(chan string, 1)
	watchCtx, stopWatch := context.WithCancel(context.Background())
	go func() {
		conn, err := pgx.Connect(watchCtx, dsn)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		for watchCtx.Err() == nil {
			var q string
			err := conn.QueryRow(watchCtx, `SELECT query FROM pg_stat_activity
				WHERE pid <> pg_backend_pid() AND xact_start IS NOT NULL AND (query LIKE 'INSERT INTO versions%' OR query LIKE 'INSERT INTO blobs%') LIMIT 1`).Scan(&q)
			if err == nil {
				inTx <- q
				return
			}
		}
	}()
	select {
	case q := <-inTx:
		t.Logf("killing replica 1 inside a push's transaction (%.40s...), pushes in flight", q)
	case v := <-first:
		t.Logf("first push answered (%s): killing replica 1 with the others in flight", v)
	case <-time.After(2 * time.Minute):
		t.Fatal("no push answered in 2 minutes")
	}
	r1.kill(t)
	stopWatch()
	pushes.Wait()
	// The survivors keep serving a while after the kill too.
	for n := reads.Load(); reads.Load() < n+30; {
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	readers.Wait()
	if n := readErrs.Load(); n > 0 {
		t.Errorf("%d of %d reads failed while replica 1 died", n, reads.Load())
	}
	st, err := registry.OpenPostgres(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Verify(context.Background()); err != nil {
		t.Errorf("the database after the kill: %v", err)
	}
	p, err := st.Plugin(context.Background(), "com.example.hello")
	if err != nil {
		t.Fatal(err)
	}
	var answered []string
	pushed.Range(func(v, _ any) bool { answered = append(answered, v.(string)); return true })
	t.Logf("stored after the kill: %v; pushes answered: %v; %d reads, none failed", p.Versions, answered, reads.Load())
	for _, v := range p.Versions {
		if _, ok := pushed.Load(v); !ok && strings.HasPrefix(v, "2.0.") {
			t.Logf("version %s was committed though its push got no answer (the kill came after the commit)", v)
		}
		var info struct {
			Versions []struct {
				Version string
				Bundles map[string]struct{ URL, Integrity string }
			}
		}
		getJSON(t, r2.url+"/api/v1/plugins/com.example.hello", bob, &info)
		for _, iv := range info.Versions {
			if iv.Version != v {
				continue
			}
			b := iv.Bundles["web"]
			sum := sha256.Sum256(get(t, lb.URL+b.URL, bob))
			if got := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); got != b.Integrity {
				t.Errorf("version %s: web bundle %s does not match its integrity", v, b.URL)
			}
		}
	}
	pushed.Range(func(v, _ any) bool {
		if !strings.Contains(strings.Join(p.Versions, " "), v.(string)) {
			t.Errorf("version %s was answered 201 but is not stored", v)
		}
		return true
	})

	// PostgreSQL stopped: a write is 503 with Retry-After, a cached read
	// still served; started again: the replicas recover by themselves.
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	toggle := func(url string, enabled bool) *http.Response {
		req, _ := http.NewRequest("PUT", url+"/api/v1/teams/engineering/plugins/com.example.hello", strings.NewReader(fmt.Sprintf(`{"enabled":%t}`, enabled)))
		req.Header.Set("Authorization", "Bearer "+alice)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		return resp
	}
	if resp := toggle(r2.url, false); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		body, _ := io.ReadAll(resp.Body)
		t.Errorf("a toggle with PostgreSQL down: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	checkManifest(t, r3.url, bob, "") // cached: no database round trip
	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		resp := toggle(r2.url, false)
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			body, _ := io.ReadAll(resp.Body)
			t.Fatalf("replica 2 did not recover a minute after PostgreSQL came back: %d %s", resp.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Replica 3 heard of it: its listening connection came back.
	events.want(t, "plugin_disabled", "com.example.hello")
}

// helloVersion is a copy of docs/examples/hello with another version.
func helloVersion(t *testing.T, version string) string {
	t.Helper()
	dir := t.TempDir()
	copyDir(t, filepath.Join("..", "..", "docs", "examples", "hello"), dir)
	manifest := filepath.Join(dir, "plugin.json")
	raw, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.Replace(string(raw), `"version": "1.0.0"`, `"version": "`+version+`"`, 1))
	if err := os.WriteFile(manifest, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// pushPackage posts a package to url as token's user, wants 201, and
// returns the new version's web bundle.
func pushPackage(t *testing.T, url, token, pkg string) (web struct{ URL, Integrity string }) {
	t.Helper()
	body, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", url+"/api/v1/plugins", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Bundles map[string]struct{ URL, Integrity string }
	}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &out) != nil || out.Bundles["web"].URL == "" {
		t.Fatalf("push to %s: %d %s", url, resp.StatusCode, raw)
	}
	return out.Bundles["web"]
}

// waitManifest waits up to 10 s for url's manifest of engineering to
// serve hello at version.
func waitManifest(t *testing.T, url, token, version string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var m struct {
			Plugins []struct{ ID, Version string }
		}
		getJSON(t, url+"/api/v1/manifest?team=engineering&platform=web", token, &m)
		if len(m.Plugins) == 1 && m.Plugins[0].Version == version {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's manifest still %+v 10 s after the push of %s", url, m, version)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkManifest reads engineering's web manifest as token at url, wants
// hello at version (any, when ""), and checks its bundle against its
// integrity through the same url.
func checkManifest(t *testing.T, url, token, version string) {
	t.Helper()
	var m struct {
		Plugins []struct {
			ID, Version string
			Bundle      struct{ URL, Integrity string }
		}
	}
	getJSON(t, url+"/api/v1/manifest?team=engineering&platform=web", token, &m)
	if len(m.Plugins) != 1 || m.Plugins[0].ID != "com.example.hello" || (version != "" && m.Plugins[0].Version != version) {
		t.Fatalf("manifest through %s: %+v, want com.example.hello %s", url, m, version)
	}
	sum := sha256.Sum256(get(t, url+m.Plugins[0].Bundle.URL, token))
	if got := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); got != m.Plugins[0].Bundle.Integrity {
		t.Fatalf("bundle through %s: %s, manifest says %s", url, got, m.Plugins[0].Bundle.Integrity)
	}
}

// eventStream is a websocket client of /api/v1/websocket whose messages
// arrive on a channel (a read deadline would spoil a gorilla connection).
type eventStream struct {
	msgs chan wsEvent
}

type wsEvent struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

func dialEvents(t *testing.T, url, token string) *eventStream {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/api/v1/websocket",
		http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatalf("websocket to %s: %v %v", url, err, resp)
	}
	t.Cleanup(func() { c.Close() })
	s := &eventStream{msgs: make(chan wsEvent, 256)}
	go func() {
		defer close(s.msgs)
		for {
			var m wsEvent
			if err := c.ReadJSON(&m); err != nil {
				return
			}
			s.msgs <- m
		}
	}()
	s.want(t, "hello", "")
	return s
}

// want waits up to 30 s for an event named event whose data holds text,
// skipping others.
func (s *eventStream) want(t *testing.T, event, text string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	var seen []string
	for {
		select {
		case m, ok := <-s.msgs:
			if !ok {
				t.Fatalf("websocket closed waiting for %s %s (saw %v)", event, text, seen)
			}
			if m.Event == event && strings.Contains(string(m.Data), text) {
				return
			}
			seen = append(seen, m.Event)
		case <-timeout:
			t.Fatalf("no %s with %s in 30 s (saw %v)", event, text, seen)
		}
	}
}
