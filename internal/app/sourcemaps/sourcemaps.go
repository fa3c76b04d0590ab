// Package sourcemaps builds the source maps a push left for after its
// answer.
//
// A plugin's first push (nothing cached for it) compiles its bundles
// without their source maps, about a quarter sooner, and commits the
// version (bundler.Cache.BuildDeferred). Each bundle already names its map
// by key (/bundles/<key>.map); the map is built here right after the
// answer, on the server's scheduler (kind scheduler.SourceMap, ahead of
// every other kind of background work), through the build cache, which
// leaves the plugin's esbuild context warm for its next push. A build
// takes one of the server's compile slots, as a push does. Until the map
// is stored, a request for it waits for it (Wait), so devtools opened on a
// page that loaded the new bundle at once still find it.
//
// At most MaxPending maps wait: a push finding them all taken builds its
// map with the bundle (Room), so a burst of pushes slows down rather than
// holding every package in memory. If the server stops before a map is
// stored, the version keeps its bundles and has no map (Close waits a few
// seconds for the maps queued first).
//
// The package imports no net/http: the server answers the map requests.
package sourcemaps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// MaxPending bounds the source maps waiting to be built (each holds its
// package's files in memory).
const MaxPending = 4

// DefaultWait bounds how long a request for a map being built waits for
// it when Config.Wait is 0.
const DefaultWait = 30 * time.Second

// TypeMap is a source map's content type.
const TypeMap = "application/json"

// Builder builds a target of a package with its source map
// (*bundler.Cache).
type Builder interface {
	Build(pkg *pluginpkg.Package, t bundler.Target) (*bundler.Result, error)
}

// Slots are the server's compile slots (*publish.Compiles).
type Slots interface {
	Begin(ctx context.Context) error
	End()
}

// Store keeps a version's source map (registry.SourceMaps).
type Store interface {
	PutSourceMap(ctx context.Context, pluginID, version, bundleKind string, a registry.Artifact, data []byte) error
}

// Compressor makes the variants of a stored map (*precompress.Compressor).
type Compressor interface {
	Enqueue(sha string, data []byte, contentType string)
}

// Config sets up Maps. Builder, Store, Scheduler and Feed are required.
type Config struct {
	Builder   Builder
	Slots     Slots // nil: builds take no slot
	Store     Store
	Scheduler *scheduler.Scheduler
	// Feed gets a changes.SourceMapStored for every map stored.
	Feed       *changes.Feed
	Compressor Compressor // nil: maps are served as they are
	Log        *slog.Logger
	// Wait bounds how long Wait waits; 0 is DefaultWait.
	Wait time.Duration
	// Took is told how long each build took, by target (the server's
	// metrics); nil: not told.
	Took func(t bundler.Target, d time.Duration)
}

// Maps are the source maps left for after their pushes.
type Maps struct {
	cfg Config

	mu       sync.Mutex
	byKey    map[string]*job
	byBundle map[string]*job // by the SHA-256 of the bundle it maps
	closed   bool
	max      int // MaxPending; SetMax

	// hold, when set, delays the next build until it is closed (Hold).
	hold atomic.Pointer[chan struct{}]
	// waiting counts the requests waiting in Wait (tests).
	waiting atomic.Int64
}

// job is one source map to build, for every version waiting for it
// (identical pushes of several versions share a key).
type job struct {
	pkg    *pluginpkg.Package
	target bundler.Target
	key    string // bundler.Result.SourceMapKey
	bundle string // SHA-256 of the bundle
	// versions get the map once it is built; guarded by Maps.mu.
	versions [][2]string
	ready    chan struct{} // closed when the job is done, map stored or not
}

// New returns Maps queueing their builds on cfg.Scheduler.
func New(cfg Config) *Maps {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Wait <= 0 {
		cfg.Wait = DefaultWait
	}
	return &Maps{cfg: cfg, byKey: map[string]*job{}, byBundle: map[string]*job{}, max: MaxPending}
}

// bundleKind is the artifact kind of each target's bundle.
var bundleKind = map[bundler.Target]string{bundler.Web: registry.WebJS, bundler.Mobile: registry.MobileJS}

// Room reports whether a push may leave its maps for later.
func (m *Maps) Room() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.closed && len(m.byKey) < m.max
}

// Add asks for the map of res, a bundle BuildDeferred built without it,
// stored as the blob bundle of a version just committed.
func (m *Maps) Add(pkg *pluginpkg.Package, res *bundler.Result, bundle, pluginID, version string) {
	key := res.SourceMapKey
	m.mu.Lock()
	defer m.mu.Unlock()
	if j, ok := m.byKey[key]; ok {
		j.versions = append(j.versions, [2]string{pluginID, version})
		return
	}
	if m.closed {
		m.cfg.Log.Warn("source map not built: the server is stopping", "plugin", pluginID, "version", version, "target", res.Target)
		return
	}
	j := &job{pkg: pkg, target: res.Target, key: key, bundle: bundle,
		versions: [][2]string{{pluginID, version}}, ready: make(chan struct{})}
	if !m.cfg.Scheduler.Enqueue(scheduler.SourceMap, key, func(ctx context.Context) error { m.run(ctx, j); return nil }) {
		// The scheduler logged why (unreachable while Room is asked first).
		m.cfg.Log.Warn("source map not built", "plugin", pluginID, "version", version, "target", res.Target)
		return
	}
	m.byKey[key], m.byBundle[bundle] = j, j
}

// Pending returns the key of the map being built for a bundle, or "".
func (m *Maps) Pending(bundle string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if j, ok := m.byBundle[bundle]; ok {
		return j.key
	}
	return ""
}

// Building reports whether the map named key is waiting or being built.
func (m *Maps) Building(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.byKey[key]
	return ok
}

// Wait waits until the map named key is built, if it is being built, for
// at most Config.Wait; it returns false at once when it is not, and when
// the wait or ctx ends first.
func (m *Maps) Wait(ctx context.Context, key string) bool {
	m.mu.Lock()
	j, ok := m.byKey[key]
	m.mu.Unlock()
	if !ok {
		return false
	}
	m.waiting.Add(1)
	defer m.waiting.Add(-1)
	t := time.NewTimer(m.cfg.Wait)
	defer t.Stop()
	select {
	case <-j.ready:
		return true
	case <-ctx.Done():
	case <-t.C:
	}
	return false
}

// Idle reports whether no map waits or is being built.
func (m *Maps) Idle() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byKey) == 0
}

// Close stops taking maps and waits up to drain for those queued (the
// scheduler runs them first); the server then closes the scheduler.
func (m *Maps) Close(drain time.Duration) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	jobs := make([]*job, 0, len(m.byKey))
	for _, j := range m.byKey {
		jobs = append(jobs, j)
	}
	m.mu.Unlock()
	t := time.NewTimer(drain)
	defer t.Stop()
	for _, j := range jobs {
		select {
		case <-j.ready:
		case <-t.C:
			m.cfg.Log.Warn("stopping before every source map was built; those versions have none")
			return
		}
	}
}

// Hold keeps the next builds from starting until release is called
// (tests: a map a request waits for).
func (m *Maps) Hold() (release func()) {
	h := make(chan struct{})
	m.hold.Store(&h)
	return sync.OnceFunc(func() { m.hold.Store(nil); close(h) })
}

// SetMax sets how many maps may wait (tests: 0 makes every push build its
// maps with its bundles).
func (m *Maps) SetMax(n int) {
	m.mu.Lock()
	m.max = n
	m.mu.Unlock()
}

// run is j's job on the scheduler, which ran its Before hook first.
func (m *Maps) run(ctx context.Context, j *job) {
	if h := m.hold.Load(); h != nil {
		select {
		case <-*h:
		case <-ctx.Done():
		}
	}
	err := ctx.Err() // stopping: the version keeps no map
	if err == nil {
		err = m.build(ctx, j)
	}
	if err != nil {
		m.mu.Lock()
		m.forget(j)
		m.mu.Unlock()
		if ctx.Err() == nil {
			m.cfg.Log.Error("source map not built", "versions", j.versions, "target", j.target, "err", err)
		}
	}
	close(j.ready)
}

// forget ends j: a push with its key from now on is a new job. m.mu held.
func (m *Maps) forget(j *job) {
	delete(m.byKey, j.key)
	delete(m.byBundle, j.bundle)
}

// build makes j's map through the build cache, checks that it goes with
// the stored bundle, and stores it for every version waiting, forgetting j
// once none is left.
func (m *Maps) build(ctx context.Context, j *job) error {
	if m.cfg.Slots != nil {
		if err := m.cfg.Slots.Begin(ctx); err != nil { // one of MaxCompiles, as a push
			return err
		}
	}
	start := time.Now()
	res, err := m.cfg.Builder.Build(j.pkg, j.target)
	if m.cfg.Slots != nil {
		m.cfg.Slots.End()
	}
	if m.cfg.Took != nil {
		m.cfg.Took(j.target, time.Since(start))
	}
	if err != nil {
		return err
	}
	// The bundle is deterministic; a map for other code would mislead.
	if got := sum(res.JS); got != j.bundle || res.SourceMapKey != j.key || res.SourceMap == nil {
		return fmt.Errorf("the build for the map gave another bundle (%s, key %s; stored %s, key %s)", got, res.SourceMapKey, j.bundle, j.key)
	}
	a := registry.Artifact{SHA256: sum(res.SourceMap), Size: int64(len(res.SourceMap)), ContentType: TypeMap, Key: j.key}
	stored, done := false, 0
	for {
		m.mu.Lock()
		versions := j.versions[done:]
		if len(versions) == 0 {
			// Indexed before j is forgotten, so a request waiting for the
			// map finds it when it wakes.
			if stored {
				m.cfg.Feed.Publish(context.Background(), changes.SourceMapStored{Artifact: a})
			}
			m.forget(j)
			m.mu.Unlock()
			break
		}
		m.mu.Unlock()
		// A version pushed meanwhile with the same bundle joins j: the
		// loop stores the map for it too.
		for _, v := range versions {
			if err := m.cfg.Store.PutSourceMap(context.Background(), v[0], v[1], bundleKind[j.target], a, res.SourceMap); err != nil {
				m.cfg.Log.Error("source map not stored", "plugin", v[0], "version", v[1], "target", j.target, "err", err)
				continue
			}
			stored = true
		}
		done += len(versions)
	}
	if stored && m.cfg.Compressor != nil {
		m.cfg.Compressor.Enqueue(a.SHA256, res.SourceMap, TypeMap)
	}
	return nil
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
