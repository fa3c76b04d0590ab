package bundler

import (
	"errors"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// PackFiles lists the files of pkg a server needs to rebuild it, what
// `mmtoolkit pack` and `push` send: plugin.json and the files it names
// (icon, screenshots, a prebuilt bundle and its map), the import graph of
// each entry (Result.Inputs: sources, the package.json and licence of every
// npm package drawn from, tsconfig files), and README/LICENSE/tsconfig files
// at the root. The web and mobile entries are built concurrently; a
// *CompileError of either is returned (web's first).
//
// The same files always give the same list, so a package pruned here has
// the same SHA-256 wherever it is pruned: the server's built-in packages
// and `mmtoolkit pack` of their directories agree.
//
// The builds only learn the import graph: without the source map and the
// printing-only minification, which do not change what loads, they take
// two thirds of a full build's time.
func PackFiles(pkg *pluginpkg.Package) ([]string, error) {
	return (*Cache)(nil).PackFiles(pkg)
}

// PackFiles is PackFiles through the cache (push --watch packs the same
// plugin after every save).
func (c *Cache) PackFiles(pkg *pluginpkg.Package) ([]string, error) {
	keep := map[string]bool{"plugin.json": true}
	m := pkg.Manifest
	add := func(p string) {
		if _, ok := pkg.Files[p]; ok && p != "" {
			keep[p] = true
		}
	}
	add(m.IconPath)
	for _, s := range m.Screenshots {
		add(s)
	}
	var targets []Target
	if m.Webapp != nil && m.Webapp.Entry != "" {
		targets = append(targets, Web)
	}
	if m.Mobile != nil && m.Mobile.Entry != "" {
		targets = append(targets, Mobile)
	}
	results := make([]*Result, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = c.build(pkg, t, true)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		var ce *CompileError
		if errors.As(err, &ce) {
			return nil, err
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, res := range results {
		for _, in := range res.Inputs {
			add(in)
			if root := NodeModuleRoot(in); root != "" {
				add(root + "/package.json")
			}
		}
	}
	if m.Webapp != nil && m.Webapp.BundlePath != "" {
		add(m.Webapp.BundlePath)
		add(m.Webapp.BundlePath + ".map")
	}
	for p := range pkg.Files {
		base := strings.ToLower(p)
		if !strings.Contains(p, "/") && (base == "tsconfig.json" || base == "jsconfig.json" ||
			strings.HasPrefix(base, "readme") || strings.HasPrefix(base, "license")) {
			add(p)
		}
	}
	out := make([]string, 0, len(keep))
	for p := range keep {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// NodeModuleRoot returns the package directory of a file under
// node_modules ("node_modules/@scope/name" or "node_modules/name"), or "".
func NodeModuleRoot(p string) string {
	i := strings.LastIndex(p, "node_modules/")
	if i < 0 {
		return ""
	}
	rest := strings.Split(p[i+len("node_modules/"):], "/")
	n := 1
	if strings.HasPrefix(rest[0], "@") {
		n = 2
	}
	if len(rest) <= n {
		return ""
	}
	return path.Join(p[:i+len("node_modules")], path.Join(rest[:n]...))
}
