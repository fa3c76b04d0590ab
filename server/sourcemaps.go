package server

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// sourceMaps builds the source maps a push left for after its answer.
//
// A plugin's first push (nothing cached for it) compiles its bundles
// without their source maps, about a quarter sooner, and commits the
// version (bundler.Cache.BuildDeferred). Each bundle already names its map
// by key (/bundles/<key>.map); the map is built here right after the
// answer, by the server's scheduler (kind scheduler.SourceMap, ahead of
// every other kind of background work), through the build cache, which leaves the plugin's
// esbuild context warm for its next push. Until it is stored, a request for
// the map waits for it, so devtools opened on a page that loaded the new
// bundle at once still find it.
//
// At most maxPendingMaps maps wait: a push finding them all taken builds its
// map with the bundle, as before, so a burst of pushes slows down rather
// than holding every package in memory. If the server stops before a map
// is stored, the version keeps its bundles and has no map (Close waits a
// few seconds for the queue to drain first).
type sourceMaps struct {
	s *Server

	mu       sync.Mutex
	byKey    map[string]*mapJob
	byBundle map[string]*mapJob // by the SHA-256 of the bundle it maps
	closed   bool

	max int // maxPendingMaps; tests lower it
	// hold, when set, delays the next build until it is closed (tests).
	hold atomic.Pointer[chan struct{}]
}

// maxPendingMaps bounds the source maps waiting to be built (each holds
// its package's files in memory).
const maxPendingMaps = 4

// defaultMapWait bounds how long a request for a map being built waits for
// it (Timing.MapWait).
const defaultMapWait = 30 * time.Second

// mapJob is one source map to build, for every version waiting for it
// (identical pushes of several versions share a key).
type mapJob struct {
	pkg    *pluginpkg.Package
	target bundler.Target
	key    string // bundler.Result.SourceMapKey
	bundle string // SHA-256 of the bundle
	// versions get the map once it is built; guarded by sourceMaps.mu.
	versions [][2]string
	ready    chan struct{} // closed when the job is done, map stored or not
}

func newSourceMaps(s *Server) *sourceMaps {
	return &sourceMaps{s: s, byKey: map[string]*mapJob{}, byBundle: map[string]*mapJob{}, max: maxPendingMaps}
}

// room reports whether a push may leave its maps for later.
func (m *sourceMaps) room() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.closed && len(m.byKey) < m.max
}

// add asks for the map of res, a bundle BuildDeferred built without it,
// stored as the blob bundle of a version just committed.
func (m *sourceMaps) add(pkg *pluginpkg.Package, res *bundler.Result, bundle, pluginID, version string) {
	key := res.SourceMapKey
	m.mu.Lock()
	defer m.mu.Unlock()
	if j, ok := m.byKey[key]; ok {
		j.versions = append(j.versions, [2]string{pluginID, version})
		return
	}
	if m.closed {
		m.s.log.Warn("source map not built: the server is stopping", "plugin", pluginID, "version", version, "target", res.Target)
		return
	}
	j := &mapJob{pkg: pkg, target: res.Target, key: key, bundle: bundle,
		versions: [][2]string{{pluginID, version}}, ready: make(chan struct{})}
	if !m.s.sched.Enqueue(scheduler.SourceMap, key, func(ctx context.Context) error { m.run(ctx, j); return nil }) {
		// The scheduler logged why (unreachable while room() is asked first).
		m.s.log.Warn("source map not built", "plugin", pluginID, "version", version, "target", res.Target)
		return
	}
	m.byKey[key], m.byBundle[bundle] = j, j
}

// pending returns the key of the map being built for a bundle, or "".
func (m *sourceMaps) pending(bundle string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if j, ok := m.byBundle[bundle]; ok {
		return j.key
	}
	return ""
}

// building reports whether the map named key is waiting or being built.
func (m *sourceMaps) building(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.byKey[key]
	return ok
}

// wait waits until the map named key is built, if it is being built; it
// returns false at once when it is not.
func (m *sourceMaps) wait(ctx context.Context, key string) bool {
	m.mu.Lock()
	j, ok := m.byKey[key]
	m.mu.Unlock()
	if !ok {
		return false
	}
	t := time.NewTimer(m.s.cfg.Timing.MapWait)
	defer t.Stop()
	select {
	case <-j.ready:
		return true
	case <-ctx.Done():
	case <-t.C:
	}
	return false
}

func (m *sourceMaps) idle() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byKey) == 0
}

// close stops taking maps and waits up to drain for those queued (the
// scheduler runs them first); Server.Close then closes the scheduler.
func (m *sourceMaps) close(drain time.Duration) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	jobs := make([]*mapJob, 0, len(m.byKey))
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
			m.s.log.Warn("stopping before every source map was built; those versions have none")
			return
		}
	}
}

// run is j's job on the scheduler, which ran Server.settled before it.
func (m *sourceMaps) run(ctx context.Context, j *mapJob) {
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
			m.s.log.Error("source map not built", "versions", j.versions, "target", j.target, "err", err)
		}
	}
	close(j.ready)
}

// forget ends j: a push with its key from now on is a new job. m.mu held.
func (m *sourceMaps) forget(j *mapJob) {
	delete(m.byKey, j.key)
	delete(m.byBundle, j.bundle)
}

// build makes j's map through the build cache, checks that it goes with
// the stored bundle, and stores it for every version waiting, forgetting j
// once none is left.
func (m *sourceMaps) build(ctx context.Context, j *mapJob) error {
	s := m.s
	if err := s.beginCompile(ctx); err != nil { // one of MaxCompiles, as a push
		return err
	}
	start := time.Now()
	res, err := s.buildCache.Build(j.pkg, j.target)
	s.endCompile()
	s.metrics.compile(j.target.String()+"_map", time.Since(start))
	if err != nil {
		return err
	}
	// The bundle is deterministic; a map for other code would mislead.
	if got := sum(res.JS); got != j.bundle || res.SourceMapKey != j.key || res.SourceMap == nil {
		return fmt.Errorf("the build for the map gave another bundle (%s, key %s; stored %s, key %s)", got, res.SourceMapKey, j.bundle, j.key)
	}
	a := registry.Artifact{SHA256: sum(res.SourceMap), Size: int64(len(res.SourceMap)), ContentType: typeMap, Key: j.key}
	stored, done := false, 0
	for {
		m.mu.Lock()
		versions := j.versions[done:]
		if len(versions) == 0 {
			// Indexed before j is forgotten, so a request waiting for the
			// map finds it when it wakes.
			if stored {
				s.changes.Publish(context.Background(), changes.SourceMapStored{Artifact: a}) // changes.go
			}
			m.forget(j)
			m.mu.Unlock()
			break
		}
		m.mu.Unlock()
		// A version pushed meanwhile with the same bundle joins j: the
		// loop stores the map for it too.
		for _, v := range versions {
			if err := s.store.PutSourceMap(context.Background(), v[0], v[1], bundleKind[j.target], a, res.SourceMap); err != nil {
				s.log.Error("source map not stored", "plugin", v[0], "version", v[1], "target", j.target, "err", err)
				continue
			}
			stored = true
		}
		done += len(versions)
	}
	if stored {
		s.compressor.Enqueue(a.SHA256, res.SourceMap, typeMap)
	}
	return nil
}
