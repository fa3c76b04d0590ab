package bundler

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// withFiles returns a copy of pkg with files changed (nil removes one).
func withFiles(pkg *pluginpkg.Package, files map[string]string) *pluginpkg.Package {
	cp := *pkg
	cp.Files = make(map[string][]byte, len(pkg.Files))
	for k, v := range pkg.Files {
		cp.Files[k] = v
	}
	for k, v := range files {
		if v == "\x00" {
			delete(cp.Files, k)
			continue
		}
		cp.Files[k] = []byte(v)
	}
	return &cp
}

// sameAsCold builds pkg through c and cold, and fails unless both give
// the same result (or the same compile error).
func sameAsCold(t *testing.T, c *Cache, pkg *pluginpkg.Package, target Target, step string) {
	t.Helper()
	got, gotErr := c.Build(pkg, target)
	want, wantErr := Build(pkg, target)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%s: cached build error %v, cold build error %v", step, gotErr, wantErr)
	}
	if wantErr != nil {
		var g, w *CompileError
		if !errors.As(gotErr, &g) || !errors.As(wantErr, &w) || !reflect.DeepEqual(g.Diagnostics, w.Diagnostics) {
			t.Fatalf("%s: cached build error\n%v\ncold build error\n%v", step, gotErr, wantErr)
		}
		return
	}
	if !bytes.Equal(got.JS, want.JS) {
		t.Fatalf("%s: cached bundle differs from the cold one:\n%s", step, diffLines(string(want.JS), string(got.JS)))
	}
	if !bytes.Equal(got.SourceMap, want.SourceMap) {
		t.Fatalf("%s: cached source map differs from the cold one", step)
	}
	if !reflect.DeepEqual(got.HostModules, want.HostModules) || !reflect.DeepEqual(got.Inputs, want.Inputs) ||
		!reflect.DeepEqual(got.Warnings, want.Warnings) {
		t.Fatalf("%s: cached host modules/inputs/warnings %v %v %v, cold %v %v %v", step,
			got.HostModules, got.Inputs, got.Warnings, want.HostModules, want.Inputs, want.Warnings)
	}
}

// A plugin edited push after push through one cached context builds, at
// every step, exactly what a cold build of that step builds: edits, new
// and removed modules, CSS, npm code, a compile error and its fix, a
// tsconfig change (a new context), context imports.
func TestCacheRebuildMatchesColdBuild(t *testing.T) {
	c := NewCache(4, 1<<30, time.Minute)
	defer c.Close()

	pkg := loadFixture(t, "deps")
	sameAsCold(t, c, pkg, Web, "first build")
	sameAsCold(t, c, pkg, Web, "same package again")
	if c.Len() != 1 {
		t.Fatalf("cache holds %d contexts, want 1", c.Len())
	}
	entry := string(pkg.Files["webapp/index.tsx"])
	pkg = withFiles(pkg, map[string]string{"webapp/index.tsx": entry + "\nexport const edited = 1;\n"})
	sameAsCold(t, c, pkg, Web, "entry edited")
	pkg = withFiles(pkg, map[string]string{
		"webapp/extra.ts":  "export const extra = (n: number) => n * 2;\n",
		"webapp/extra.css": ".extra { color: red }\n",
		"webapp/index.tsx": entry + "\nimport './extra.css';\nimport {extra} from './extra';\nexport const more = extra(21);\n",
	})
	sameAsCold(t, c, pkg, Web, "module and stylesheet added")
	pkg = withFiles(pkg, map[string]string{"webapp/extra.css": ".extra { color: blue }\n"})
	sameAsCold(t, c, pkg, Web, "stylesheet edited")
	pkg = withFiles(pkg, map[string]string{"webapp/extra.ts": "export const extra = (n: number) => n *;\n"})
	sameAsCold(t, c, pkg, Web, "syntax error")
	pkg = withFiles(pkg, map[string]string{"webapp/extra.ts": "export const extra = (n: number) => n * 3;\n"})
	sameAsCold(t, c, pkg, Web, "syntax error fixed")
	pkg = withFiles(pkg, map[string]string{"webapp/index.tsx": entry, "webapp/extra.ts": "\x00", "webapp/extra.css": "\x00"})
	sameAsCold(t, c, pkg, Web, "module removed")
	pkg = withFiles(pkg, map[string]string{"webapp/index.tsx": entry + "\nimport {missing} from './nowhere';\nexport const m = missing;\n"})
	sameAsCold(t, c, pkg, Web, "import of a missing file")
	if c.Len() != 1 {
		t.Fatalf("cache holds %d contexts after editing one plugin, want 1", c.Len())
	}

	// tsconfig is fixed when a context is made: a change makes another.
	paths := loadFixture(t, "paths")
	sameAsCold(t, c, paths, Web, "paths fixture")
	ts := strings.Replace(string(paths.Files["tsconfig.json"]), `"compilerOptions": {`, `"compilerOptions": {"jsx": "react",`, 1)
	paths = withFiles(paths, map[string]string{"tsconfig.json": ts})
	sameAsCold(t, c, paths, Web, "tsconfig edited")

	ctxPkg := loadFixture(t, "context")
	sameAsCold(t, c, ctxPkg, Web, "context imports")
	ctxPkg = withFiles(ctxPkg, map[string]string{"webapp/src/i18n/it.json": `{"hello": "ciao"}`})
	sameAsCold(t, c, ctxPkg, Web, "file added under a context import")
	if c.Len() != 4 {
		t.Fatalf("cache holds %d contexts, want 4 (deps, paths twice, context)", c.Len())
	}
}

func TestCacheMobile(t *testing.T) {
	c := NewCache(4, 1<<30, time.Minute)
	defer c.Close()
	pkg := loadFixture(t, "mobile")
	sameAsCold(t, c, pkg, Mobile, "mobile")
	for f, data := range pkg.Files {
		if strings.HasSuffix(f, ".tsx") {
			pkg = withFiles(pkg, map[string]string{f: string(data) + "\nexport const edited = 2;\n"})
			break
		}
	}
	sameAsCold(t, c, pkg, Mobile, "mobile edited")
	if _, err := c.Build(pkg, Web); !errors.Is(err, ErrNoEntry) && pkg.Manifest.Webapp == nil {
		t.Errorf("web build of a mobile-only plugin: %v, want ErrNoEntry", err)
	}
}

func numbered(id string, n int) *pluginpkg.Package {
	pkg := memPackage("index.tsx", "", map[string]string{
		"index.tsx": fmt.Sprintf("import {n} from './n';\nexport default () => <b>{n + %d}</b>;\n", n),
		"n.ts":      "export const n = 1;\n",
	})
	pkg.Manifest.ID = id
	return pkg
}

func (c *Cache) keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for el := c.lru.Front(); el != nil; el = el.Next() {
		out = append(out, el.Value.(*cachedContext).key.plugin)
	}
	return out
}

// The cache keeps at most max contexts, least recently used out first,
// and drops contexts idle for too long.
func TestCacheBounds(t *testing.T) {
	c := NewCache(2, 1<<30, time.Hour)
	defer c.Close()
	for _, id := range []string{"a", "b", "a", "c"} {
		if _, err := c.Build(numbered(id, 1), Web); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.keys(); !reflect.DeepEqual(got, []string{"c", "a"}) {
		t.Fatalf("cache holds %v, want [c a] (b least recently used)", got)
	}
	c.dropIdle(time.Now().Add(59 * time.Minute))
	if c.Len() != 2 {
		t.Fatalf("contexts used a minute ago were dropped")
	}
	c.dropIdle(time.Now().Add(61 * time.Minute))
	if c.Len() != 0 {
		t.Fatalf("cache holds %v after an hour idle, want none", c.keys())
	}
	// A dropped context is not used again: building works, cold.
	sameAsCold(t, c, numbered("a", 2), Web, "after expiry")

	// The source bound: each numbered plugin loads about 80 bytes.
	small := NewCache(4, 150, time.Hour)
	defer small.Close()
	for _, id := range []string{"a", "b"} {
		sameAsCold(t, small, numbered(id, 1), Web, "bytes bound "+id)
	}
	if got := small.keys(); !reflect.DeepEqual(got, []string{"b"}) {
		t.Fatalf("cache bounded to 150 bytes of source holds %v, want [b]", got)
	}
	tiny := NewCache(4, 10, time.Hour)
	defer tiny.Close()
	sameAsCold(t, tiny, numbered("a", 1), Web, "bigger than the bound")
	if tiny.Len() != 0 {
		t.Fatal("a cache bounded to 10 bytes of source kept an 80-byte plugin's context")
	}

	var none *Cache
	sameAsCold(t, none, numbered("a", 4), Web, "nil cache")
	if none.Len() != 0 {
		t.Fatal("a nil cache holds contexts")
	}
	none.Close()

	off := NewCache(0, 1<<30, time.Hour)
	defer off.Close()
	sameAsCold(t, off, numbered("a", 3), Web, "cache off")
	if off.Len() != 0 {
		t.Fatal("a cache of size 0 kept a context")
	}
}

// The idle timer runs on its own.
func TestCacheExpiresOnItsOwn(t *testing.T) {
	c := NewCache(2, 1<<30, 50*time.Millisecond)
	defer c.Close()
	if _, err := c.Build(numbered("a", 1), Web); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); c.Len() > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("an idle context was never dropped")
		}
	}
}

// Builds of one plugin and of several run concurrently (go test -race):
// each gets a context of its own, every result is what a cold build
// gives, and the cache stays within its bound.
func TestCacheConcurrent(t *testing.T) {
	c := NewCache(3, 1<<30, time.Minute)
	want := map[string][]byte{}
	for _, id := range []string{"a", "b", "c", "d"} {
		for n := 0; n < 3; n++ {
			want[fmt.Sprint(id, n)] = mustBuild(t, numbered(id, n), Web).JS
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 12; i++ {
				id, n := string(rune('a'+(g+i)%4)), (g*i)%3
				res, err := c.Build(numbered(id, n), Web)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(res.JS, want[fmt.Sprint(id, n)]) {
					errs <- fmt.Errorf("plugin %s version %d: bundle differs from a cold build", id, n)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if c.Len() > 3 {
		t.Errorf("cache holds %d contexts, bound 3", c.Len())
	}
	c.Close()
	c.Close()
	if c.Len() != 0 {
		t.Error("Close left contexts")
	}
	// A closed cache still builds; it keeps nothing.
	sameAsCold(t, c, numbered("a", 1), Web, "after Close")
	if c.Len() != 0 {
		t.Error("a closed cache kept a context")
	}
}

// Packing builds only for the import graph (no source map, no printing
// minification); what loads must be exactly what the full build loads,
// and a package must fail in both or in neither.
func TestGraphBuildLoadsWhatTheFullBuildLoads(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("testdata", "plugins"))
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]*pluginpkg.Package{"small": generatedPackage(smallPlugin())}
	for _, e := range entries {
		pkgs[e.Name()] = loadFixture(t, e.Name())
	}
	if typical, err := loadTypical(); err == nil {
		pkgs["typical"] = typical
	}
	pkgs["broken"] = memPackage("index.tsx", "", map[string]string{"index.tsx": "import './a';\nexport const x = ;\n", "a.ts": "export {};\n"})
	pkgs["unresolved"] = memPackage("index.tsx", "", map[string]string{"index.tsx": "import 'left-pad';\n"})
	for name, pkg := range pkgs {
		for _, target := range []Target{Web, Mobile} {
			full, fullErr := Build(pkg, target)
			graph, graphErr := (*Cache)(nil).build(pkg, target, true)
			if errors.Is(fullErr, ErrNoEntry) && errors.Is(graphErr, ErrNoEntry) {
				continue
			}
			if (fullErr == nil) != (graphErr == nil) {
				t.Errorf("%s %s: full build error %v, graph build error %v", name, target, fullErr, graphErr)
				continue
			}
			if fullErr != nil {
				continue
			}
			if !reflect.DeepEqual(full.Inputs, graph.Inputs) || !reflect.DeepEqual(full.HostModules, graph.HostModules) {
				t.Errorf("%s %s: graph build loaded %v (hosts %v), full build %v (hosts %v)", name, target,
					graph.Inputs, graph.HostModules, full.Inputs, full.HostModules)
			}
			if graph.SourceMap != nil {
				t.Errorf("%s %s: a graph build made a source map", name, target)
			}
		}
	}
}

// TestBuildDeferred checks the push's quick path: without a cached context
// the bundle comes without its map, byte for byte the full build's (its
// sourceMappingURL names the same key), and a later Build makes that map
// and leaves a context, through which the next BuildDeferred builds both.
func TestBuildDeferred(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		target  Target
	}{{"css", Web}, {"deps", Web}, {"context", Web}, {"mobile", Mobile}} {
		t.Run(tc.fixture, func(t *testing.T) {
			pkg := loadFixture(t, tc.fixture)
			full := mustBuild(t, pkg, tc.target)

			quick, err := (*Cache)(nil).BuildDeferred(pkg, tc.target)
			if err != nil {
				t.Fatal(err)
			}
			if quick.SourceMap != nil {
				t.Error("a cold BuildDeferred returned a source map")
			}
			if !bytes.Equal(quick.JS, full.JS) {
				t.Fatalf("the bundle without its map differs from the full build's:\n%s", diffLines(string(full.JS), string(quick.JS)))
			}
			if quick.SourceMapKey != full.SourceMapKey || !reflect.DeepEqual(quick.Inputs, full.Inputs) ||
				!reflect.DeepEqual(quick.HostModules, full.HostModules) {
				t.Errorf("key/inputs/host modules %s %v %v, full build %s %v %v", quick.SourceMapKey, quick.Inputs,
					quick.HostModules, full.SourceMapKey, full.Inputs, full.HostModules)
			}

			c := NewCache(4, 64<<20, 0)
			defer c.Close()
			first, err := c.BuildDeferred(pkg, tc.target)
			if err != nil || first.SourceMap != nil || c.Len() != 0 {
				t.Fatalf("first BuildDeferred through a cache: map %v, err %v, %d contexts kept (want no map, none kept)",
					first != nil && first.SourceMap != nil, err, c.Len())
			}
			later, err := c.Build(pkg, tc.target) // what the server does after answering the push
			if err != nil || !bytes.Equal(later.JS, first.JS) || !bytes.Equal(later.SourceMap, full.SourceMap) || c.Len() != 1 {
				t.Fatalf("Build after BuildDeferred: same bundle %v, same map %v, err %v, %d contexts", err == nil && bytes.Equal(later.JS, first.JS),
					err == nil && bytes.Equal(later.SourceMap, full.SourceMap), err, c.Len())
			}
			warm, err := c.BuildDeferred(pkg, tc.target)
			if err != nil || warm.SourceMap == nil || !bytes.Equal(warm.JS, full.JS) {
				t.Fatalf("BuildDeferred with a context cached: err %v, map %v, same bundle %v", err, warm != nil && warm.SourceMap != nil,
					err == nil && bytes.Equal(warm.JS, full.JS))
			}
		})
	}
}

// TestSourceMapKey checks that the key changes with what the map is made
// of: a comment-only edit leaves the code alone but changes the map's
// sourcesContent, so it must change the key (and so the bundle's URL of
// its map); the same package gives the same key.
func TestSourceMapKey(t *testing.T) {
	pkg := loadFixture(t, "css")
	a := mustBuild(t, pkg, Web)
	if b := mustBuild(t, pkg, Web); b.SourceMapKey != a.SourceMapKey {
		t.Fatal("two builds of one package name different maps")
	}
	src := string(pkg.Files["webapp/index.tsx"])
	edited := mustBuild(t, withFiles(pkg, map[string]string{"webapp/index.tsx": "// a comment only\n" + src}), Web)
	code := func(js []byte) []byte { return js[:bytes.LastIndex(js, []byte("\n//# sourceMappingURL="))] }
	if !bytes.Equal(code(edited.JS), code(a.JS)) {
		t.Fatal("test premise: a comment changed the code")
	}
	if bytes.Equal(edited.SourceMap, a.SourceMap) || edited.SourceMapKey == a.SourceMapKey {
		t.Errorf("a comment-only edit: map changed %v, key changed %v; want both", !bytes.Equal(edited.SourceMap, a.SourceMap),
			edited.SourceMapKey != a.SourceMapKey)
	}
}
