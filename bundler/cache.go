package bundler

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// Cache makes re-pushing a plugin after an edit cheap: it keeps the esbuild
// contexts of recent builds, and esbuild's context remembers the parsed
// form of every module it loaded, keyed by path, contents and options
// (plugin-loaded files included). Building the same plugin again re-parses
// only the files whose contents changed; resolution, linking and printing
// run as in a cold build, so the output is byte-for-byte what Build gives.
//
// A context belongs to one plugin id, target, entry and tsconfig (the
// options esbuild fixes when it creates the context): a push that changes
// any of those starts a new context. A context serves one build at a time:
// a build takes its context out of the cache and puts it back when done,
// so a second build of the same plugin meanwhile gets a context of its own
// (the first one back is kept, the other dropped). A context holds the parsed modules of
// its plugin, about ten times the size of their source: 30 MB for a typical
// plugin (300 KB of its own source plus 2.7 MB of npm code). So the cache
// keeps at most max contexts whose builds loaded at most maxBytes of source
// in all, least recently used dropped first, and drops a context unused
// for idle.
//
// A Cache is safe for concurrent use. Make one with NewCache; a nil *Cache
// builds every time cold.
type Cache struct {
	max      int
	maxBytes int64
	idle     time.Duration

	mu      sync.Mutex
	lru     *list.List // of *cachedContext, most recently used in front
	entries map[cacheKey]*list.Element
	bytes   int64 // source loaded by the contexts in lru
	closed  bool
	stop    chan struct{}
	done    chan struct{}
}

type cacheKey struct {
	plugin string
	target Target
	entry  string
	graph  bool
	// options is a digest of what else esbuild fixes at context creation:
	// the raw tsconfig.
	options [sha256.Size]byte
}

// cachedContext is one esbuild context and the build its plugin callbacks
// currently serve.
type cachedContext struct {
	key      cacheKey
	ctx      api.BuildContext
	cur      *build // set for the duration of a Rebuild
	loads    *loadMemo
	bytes    int64 // source its last build loaded
	lastUsed time.Time
}

// The bounds of a server's build cache (server.Config.BuildCache): at most
// 4 contexts holding at most 8 MiB of loaded source, each dropped after 10
// minutes without a push. A context takes about eleven times its source in
// memory (30 MB for the typical plugin's 2.7 MB), so such a cache holds at
// most about 90 MB, and a plugin with more source than the bound is always
// built cold.
const (
	DefaultCacheContexts       = 4
	DefaultCacheBytes    int64 = 8 << 20
	DefaultCacheIdle           = 10 * time.Minute
)

// NewDefaultCache is NewCache with the default bounds.
func NewDefaultCache() *Cache {
	return NewCache(DefaultCacheContexts, DefaultCacheBytes, DefaultCacheIdle)
}

// NewCache returns a cache keeping at most max idle contexts, whose last
// builds loaded at most maxBytes of source in all, each for at most idle
// after its last build. max < 1 or maxBytes < 1 keeps none (every build is
// cold); idle <= 0 never expires contexts by age.
func NewCache(max int, maxBytes int64, idle time.Duration) *Cache {
	if maxBytes < 1 {
		max = 0
	}
	c := &Cache{max: max, maxBytes: maxBytes, idle: idle, lru: list.New(), entries: map[cacheKey]*list.Element{},
		stop: make(chan struct{}), done: make(chan struct{})}
	if idle > 0 && max > 0 {
		go c.expire()
	} else {
		close(c.done)
	}
	return c
}

// Build is Build through the cache: the same result, byte for byte,
// faster when the cache holds a context for this plugin, target, entry and
// tsconfig.
func (c *Cache) Build(pkg *pluginpkg.Package, t Target) (*Result, error) {
	return c.build(pkg, t, false)
}

// BuildDeferred is Build, except that when the cache holds no context for
// the plugin (a first push, or one after the context expired) it builds the
// bundle without its source map, which is about a quarter of a cold build,
// and leaves Result.SourceMap nil. The bundle is byte for byte Build's, its
// sourceMappingURL naming Result.SourceMapKey either way, so the map can be
// made later by Build, which also leaves a context for the next push.
func (c *Cache) BuildDeferred(pkg *pluginpkg.Package, t Target) (*Result, error) {
	return c.buildMode(pkg, t, false, true)
}

// build is Build, or with graph a build for the import graph only (see
// build.graph); a nil Cache builds cold.
func (c *Cache) build(pkg *pluginpkg.Package, t Target, graph bool) (*Result, error) {
	return c.buildMode(pkg, t, graph, false)
}

// buildMode is build; with deferMap, a build that would start a context
// builds without the source map instead.
func (c *Cache) buildMode(pkg *pluginpkg.Package, t Target, graph, deferMap bool) (*Result, error) {
	return c.buildOn(pkg, nil, t, graph, deferMap)
}

// buildOn is buildMode over pkg.Files backed by disk (nil: pkg.Files only).
func (c *Cache) buildOn(pkg *pluginpkg.Package, disk *diskTree, t Target, graph, deferMap bool) (*Result, error) {
	entry := entryOf(pkg, t)
	if entry == "" {
		return nil, fmt.Errorf("bundler: %s build of %s: %w", t, pkg.Manifest.ID, ErrNoEntry)
	}
	b, err := newBuild(pkg, disk, t, entry)
	if err != nil {
		return nil, err
	}
	b.graph = graph
	if c == nil || c.max < 1 {
		b.noMap = deferMap
		return b.run()
	}
	key := cacheKey{plugin: pkg.Manifest.ID, target: t, entry: b.entry, graph: graph}
	if b.ts != nil {
		key.options = sha256.Sum256([]byte(b.ts.raw))
	}

	cc := c.take(key)
	if cc == nil && deferMap {
		b.noMap = true
		return b.run()
	}
	if cc == nil {
		cc = &cachedContext{key: key, loads: &loadMemo{files: map[string]loadedFile{}}}
		o := b.options()
		o.Plugins = []api.Plugin{{Name: "mmtoolkit", Setup: func(pb api.PluginBuild) {
			setupPlugin(pb, func() *build { return cc.cur })
		}}}
		ctx, cerr := api.Context(o)
		if cerr != nil {
			// Options esbuild refuses: Build reports them as a build
			// would.
			return b.run()
		}
		cc.ctx = ctx
	}
	cc.cur = b
	b.loads = cc.loads
	start := time.Now()
	out := cc.ctx.Rebuild()
	elapsed := time.Since(start)
	cc.cur = nil
	cc.loads.keep(b.loaded)
	cc.bytes = b.loadedBytes()
	c.put(cc)
	return b.finish(out, elapsed)
}

// take removes key's context from the cache, or returns nil.
func (c *Cache) take(key cacheKey) *cachedContext {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil
	}
	return c.removeLocked(el)
}

// put returns cc to the cache as the most recently used context, dropping
// the least recently used beyond max, or cc itself when another build of
// the same key returned first or the cache is closed.
func (c *Cache) put(cc *cachedContext) {
	cc.lastUsed = time.Now()
	var drop []*cachedContext
	c.mu.Lock()
	if _, taken := c.entries[cc.key]; taken || c.closed || cc.bytes > c.maxBytes {
		drop = append(drop, cc)
	} else {
		c.entries[cc.key] = c.lru.PushFront(cc)
		c.bytes += cc.bytes
		for c.lru.Len() > c.max || c.bytes > c.maxBytes {
			drop = append(drop, c.removeLocked(c.lru.Back()))
		}
	}
	c.mu.Unlock()
	for _, d := range drop {
		d.ctx.Dispose()
	}
}

func (c *Cache) removeLocked(el *list.Element) *cachedContext {
	cc := el.Value.(*cachedContext)
	c.lru.Remove(el)
	delete(c.entries, cc.key)
	c.bytes -= cc.bytes
	return cc
}

// Len is the number of idle contexts the cache holds.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// expire drops contexts idle for longer than c.idle.
func (c *Cache) expire() {
	defer close(c.done)
	tick := time.NewTicker(max(c.idle/4, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-tick.C:
			c.dropIdle(now)
		}
	}
}

func (c *Cache) dropIdle(now time.Time) {
	var drop []*cachedContext
	c.mu.Lock()
	for el := c.lru.Back(); el != nil; {
		prev := el.Prev()
		if cc := el.Value.(*cachedContext); now.Sub(cc.lastUsed) > c.idle {
			drop = append(drop, c.removeLocked(el))
		} else {
			break // the rest were used more recently
		}
		el = prev
	}
	c.mu.Unlock()
	for _, d := range drop {
		d.ctx.Dispose()
	}
}

// Close drops every context; builds still running finish, and their
// contexts are dropped when they do. Close is idempotent.
func (c *Cache) Close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	var drop []*cachedContext
	for c.lru.Len() > 0 {
		drop = append(drop, c.removeLocked(c.lru.Back()))
	}
	c.mu.Unlock()
	close(c.stop)
	<-c.done
	for _, d := range drop {
		d.ctx.Dispose()
	}
}

// loadMemo remembers, per package file, what build.prepare made of it
// (contents with source map comments defanged and context imports
// rewritten, loader, resolve directory), so a rebuild skips that work for
// every file whose bytes did not change.
type loadMemo struct {
	mu    sync.Mutex
	files map[string]loadedFile
}

type loadedFile struct {
	data []byte
	out  api.OnLoadResult
}

func (m *loadMemo) get(p string, data []byte) (api.OnLoadResult, bool) {
	m.mu.Lock()
	f, ok := m.files[p]
	m.mu.Unlock()
	if !ok || !bytes.Equal(f.data, data) {
		return api.OnLoadResult{}, false
	}
	return f.out, true
}

func (m *loadMemo) put(p string, data []byte, out api.OnLoadResult) {
	m.mu.Lock()
	m.files[p] = loadedFile{data, out}
	m.mu.Unlock()
}

// keep forgets the files the last build did not load.
func (m *loadMemo) keep(loaded map[string]bool) {
	m.mu.Lock()
	for p := range m.files {
		if !loaded[p] {
			delete(m.files, p)
		}
	}
	m.mu.Unlock()
}
