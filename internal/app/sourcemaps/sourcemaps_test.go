package sourcemaps_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler"
	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler/schedulertest"
	"github.com/mmtoolkit/mmtoolkit/internal/app/sourcemaps"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// builder builds a bundle and its map from the package's name; a name
// containing "other" builds another bundle than the one stored, "fail"
// fails.
type builder struct {
	mu     sync.Mutex
	builds int
	// started, when set, is told of each build before it runs, and the
	// build waits for proceed.
	started chan struct{}
	proceed chan struct{}
}

func bundle(name string, t bundler.Target) []byte { return []byte(name + "/" + t.String()) }

func (b *builder) Build(pkg *pluginpkg.Package, t bundler.Target) (*bundler.Result, error) {
	b.mu.Lock()
	b.builds++
	b.mu.Unlock()
	if b.started != nil {
		b.started <- struct{}{}
		<-b.proceed
	}
	name := pkg.Manifest.ID
	if strings.Contains(name, "fail") {
		return nil, errors.New("esbuild: out of memory")
	}
	js := bundle(name, t)
	if strings.Contains(name, "other") {
		js = append(js, '!')
	}
	return &bundler.Result{Target: t, JS: js, SourceMap: []byte(`{"version":3,"file":"` + name + `"}`), SourceMapKey: key(name, t)}, nil
}

func key(name string, t bundler.Target) string { return sum([]byte("key " + name + t.String())) }

type stored struct {
	plugin, version, kind string
	a                     registry.Artifact
}

type store struct {
	mu   sync.Mutex
	maps []stored
}

func (s *store) PutSourceMap(_ context.Context, pluginID, version, kind string, a registry.Artifact, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.SHA256 != sum(data) {
		return errors.New("artifact names other bytes")
	}
	s.maps = append(s.maps, stored{pluginID, version, kind, a})
	return nil
}

func (s *store) list() []stored {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.maps)
}

type slots struct {
	mu           sync.Mutex
	taken, given int
}

func (s *slots) Begin(ctx context.Context) error {
	s.mu.Lock()
	s.taken++
	s.mu.Unlock()
	return ctx.Err()
}
func (s *slots) End() { s.mu.Lock(); s.given++; s.mu.Unlock() }

type compressor struct {
	mu   sync.Mutex
	shas []string
}

func (c *compressor) Enqueue(sha string, _ []byte, contentType string) {
	c.mu.Lock()
	c.shas = append(c.shas, sha+" "+contentType)
	c.mu.Unlock()
}

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

type env struct {
	b     *builder
	store *store
	slots *slots
	comp  *compressor
	log   *logBuf
	sched *scheduler.Scheduler
	maps  *sourcemaps.Maps

	mu   sync.Mutex
	told []registry.Artifact
}

func newEnv(t *testing.T, b *builder, wait time.Duration) *env {
	t.Helper()
	e := &env{b: b, store: &store{}, slots: &slots{}, comp: &compressor{}, log: &logBuf{}}
	log := slog.New(slog.NewTextHandler(e.log, nil))
	e.sched = scheduler.New(scheduler.Config{Log: log})
	feed := &changes.Feed{}
	changes.On(feed, "test", func(_ context.Context, c changes.SourceMapStored) {
		e.mu.Lock()
		e.told = append(e.told, c.Artifact)
		e.mu.Unlock()
	})
	e.maps = sourcemaps.New(sourcemaps.Config{Builder: b, Slots: e.slots, Store: e.store, Scheduler: e.sched, Feed: feed,
		Compressor: e.comp, Log: log, Wait: wait})
	t.Cleanup(func() { e.maps.Close(time.Second); e.sched.Close() })
	return e
}

// add leaves plugin name@version's map of target t for later.
func (e *env) add(name, version string, t bundler.Target) string {
	pkg := &pluginpkg.Package{Manifest: pluginpkg.Manifest{ID: name}}
	res := &bundler.Result{Target: t, JS: bundle(name, t), SourceMapKey: key(name, t)}
	e.maps.Add(pkg, res, sum(res.JS), name, version)
	return res.SourceMapKey
}

func (e *env) wait(t *testing.T) {
	t.Helper()
	schedulertest.WaitIdle(t, e.sched)
}

// TestMapIsBuiltAndStored: a map left for later is built through the
// builder in a compile slot, stored for its version under its bundle's
// kind, told on the feed, given variants; meanwhile it is pending under
// its bundle and its key, and a request waits for it.
func TestMapIsBuiltAndStored(t *testing.T) {
	t.Parallel()
	b := &builder{started: make(chan struct{}), proceed: make(chan struct{})}
	e := newEnv(t, b, time.Minute)
	k := e.add("com.example.a", "1.0.0", bundler.Mobile)
	js := sum(bundle("com.example.a", bundler.Mobile))
	if e.maps.Pending(js) != k || !e.maps.Building(k) || e.maps.Idle() {
		t.Fatalf("before the build: pending %q, building %v, idle %v", e.maps.Pending(js), e.maps.Building(k), e.maps.Idle())
	}
	waited := make(chan bool)
	go func() { waited <- e.maps.Wait(context.Background(), k) }()
	<-b.started
	for deadline := time.Now().Add(30 * time.Second); e.maps.Waiting() == 0; runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatal("the request never waited")
		}
	}
	close(b.proceed)
	if !<-waited {
		t.Fatal("Wait gave up on a map that was built")
	}
	e.wait(t)
	got := e.store.list()
	if len(got) != 1 || got[0].plugin != "com.example.a" || got[0].version != "1.0.0" || got[0].kind != registry.MobileJS ||
		got[0].a.Key != k || got[0].a.ContentType != sourcemaps.TypeMap {
		t.Fatalf("stored %+v", got)
	}
	e.mu.Lock()
	told := slices.Clone(e.told)
	e.mu.Unlock()
	if len(told) != 1 || told[0].SHA256 != got[0].a.SHA256 || told[0].Key != k {
		t.Fatalf("told %+v, stored %+v", told, got[0].a)
	}
	if !slices.Equal(e.comp.shas, []string{got[0].a.SHA256 + " " + sourcemaps.TypeMap}) || e.slots.taken != 1 || e.slots.given != 1 {
		t.Fatalf("compressed %v, slots taken %d given %d", e.comp.shas, e.slots.taken, e.slots.given)
	}
	if e.maps.Pending(js) != "" || e.maps.Building(k) || !e.maps.Idle() || e.maps.Wait(context.Background(), k) {
		t.Fatal("a stored map is still pending")
	}
}

// TestVersionsShareAMap: versions pushed with the same bundle while its
// map waits get the one map, built once.
func TestVersionsShareAMap(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &builder{}, time.Minute)
	release := e.maps.Hold()
	e.add("com.example.a", "1.0.0", bundler.Web)
	e.add("com.example.a", "1.0.1", bundler.Web)
	release()
	e.wait(t)
	var versions []string
	for _, s := range e.store.list() {
		versions = append(versions, s.version)
	}
	if !slices.Equal(versions, []string{"1.0.0", "1.0.1"}) || e.b.builds != 1 {
		t.Fatalf("stored for %v in %d builds, want both versions in one", versions, e.b.builds)
	}
}

// TestRoomIsBounded: at most MaxPending maps wait; then a push builds its
// maps with its bundles. SetMax(0) leaves no room.
func TestRoomIsBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &builder{}, time.Minute)
	release := e.maps.Hold()
	defer release()
	for i := range sourcemaps.MaxPending {
		if !e.maps.Room() {
			t.Fatalf("no room after %d maps", i)
		}
		e.add("com.example.p"+string(rune('a'+i)), "1.0.0", bundler.Web)
	}
	if e.maps.Room() {
		t.Fatalf("room with %d maps waiting", sourcemaps.MaxPending)
	}
	release()
	e.wait(t)
	if !e.maps.Room() {
		t.Fatal("no room once the maps were built")
	}
	e.maps.SetMax(0)
	if e.maps.Room() {
		t.Fatal("room with SetMax(0)")
	}
}

// TestWrongBundleIsNotStored: a build that gives another bundle than the
// one stored stores no map (it would mislead), nor does a failed build;
// both are logged and forgotten, so a later push asks again.
func TestWrongBundleIsNotStored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &builder{}, time.Minute)
	other := e.add("com.example.other", "1.0.0", bundler.Web)
	fail := e.add("com.example.fail", "1.0.0", bundler.Web)
	e.wait(t)
	if got := e.store.list(); len(got) != 0 {
		t.Fatalf("stored %+v", got)
	}
	if e.maps.Building(other) || e.maps.Building(fail) || !e.maps.Idle() {
		t.Fatal("a failed map is still pending")
	}
	log := e.log.String()
	if !strings.Contains(log, "the build for the map gave another bundle") || !strings.Contains(log, "out of memory") {
		t.Errorf("log: %s", log)
	}
}

// TestWaitIsBounded: a request for a map still being built gives up after
// Config.Wait, or with its context.
func TestWaitIsBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &builder{}, 20*time.Millisecond)
	release := e.maps.Hold()
	defer release()
	k := e.add("com.example.a", "1.0.0", bundler.Web)
	if e.maps.Wait(context.Background(), k) {
		t.Fatal("Wait returned true for a map held back")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if e.maps.Wait(ctx, k) {
		t.Fatal("Wait returned true with its context ended")
	}
	if e.maps.Wait(context.Background(), "unknown") {
		t.Fatal("Wait returned true for a map nobody builds")
	}
}

// TestCloseDrainsThenStops: Close waits for the maps queued, and a map
// left after it is not taken.
func TestCloseDrainsThenStops(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &builder{}, time.Minute)
	release := e.maps.Hold()
	e.add("com.example.a", "1.0.0", bundler.Web)
	closed := make(chan struct{})
	go func() { e.maps.Close(time.Minute); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned with a map queued")
	case <-time.After(50 * time.Millisecond):
	}
	release()
	<-closed
	if got := e.store.list(); len(got) != 1 {
		t.Fatalf("stored %+v, want the queued map", got)
	}
	if e.maps.Room() {
		t.Fatal("room after Close")
	}
	e.add("com.example.b", "1.0.0", bundler.Web)
	if !e.maps.Idle() || !strings.Contains(e.log.String(), "the server is stopping") {
		t.Fatal("a map was taken after Close")
	}
}
