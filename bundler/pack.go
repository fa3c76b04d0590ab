package bundler

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
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
	return c.packFiles(pkg, nil)
}

// packFiles is PackFiles over pkg.Files backed by disk (nil: pkg.Files
// only).
func (c *Cache) packFiles(pkg *pluginpkg.Package, disk *diskTree) ([]string, error) {
	keep := map[string]bool{"plugin.json": true}
	m := pkg.Manifest
	tree := newFileTree(pkg.Files)
	tree.disk = disk
	add := func(p string) {
		if p != "" && tree.isFile(p) {
			keep[p] = true
		}
	}
	add(m.IconPath)
	for _, s := range m.Screenshots {
		add(s)
	}
	for _, p := range publicFiles(tree) {
		keep[p] = true // served at /plugins/<id>/public/, as Mattermost does
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
			results[i], errs[i] = c.buildOn(pkg, disk, t, true, false)
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
		// The rest of webpack's output directory: chunks, images and fonts
		// the bundle loads from /static/plugins/<id>/ at run time.
		for _, p := range distFiles(tree, m.Webapp.BundlePath) {
			add(p)
		}
	}
	for _, p := range tree.filesIn("") {
		base := strings.ToLower(p)
		if base == "tsconfig.json" || base == "jsconfig.json" ||
			strings.HasPrefix(base, "readme") || strings.HasPrefix(base, "license") {
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

// maxDistFiles bounds the files kept from a prebuilt bundle's directory.
const maxDistFiles = 1000

// distFiles lists the files of a prebuilt bundle's output directory
// (webapp/dist/ for webapp/dist/main.js) and its subdirectories, the
// bundle and its map excepted, at most maxDistFiles, sorted. A bundle at
// the package root has no output directory of its own: none.
func distFiles(tree *fileTree, bundle string) []string {
	dir := parentDir(bundle)
	if dir == "" {
		return nil
	}
	seen := map[string]bool{}
	tree.list(dir, func(p string) {
		if strings.HasPrefix(p, dir+"/") && p != bundle && p != bundle+".map" && !inNodeModules(p) {
			seen[p] = true
		}
	})
	out := sortedKeys(seen)
	if len(out) > maxDistFiles {
		out = out[:maxDistFiles]
	}
	return out
}

// DistFiles lists the files of a prebuilt package's webapp output
// directory besides its bundle and map (see distFiles): what the server
// stores with the version and serves under /static/plugins/<id>/.
func DistFiles(pkg *pluginpkg.Package) []string {
	if pkg.Manifest.Webapp == nil || pkg.Manifest.Webapp.BundlePath == "" {
		return nil
	}
	return distFiles(newFileTree(pkg.Files), pkg.Manifest.Webapp.BundlePath)
}

// DirOptions steer PackDir.
type DirOptions struct {
	// WebappEntry is the source entry to build the web bundle from
	// (push --webapp-entry): it replaces the manifest's webapp section.
	// Empty: a plugin.json naming only webapp.bundle_path is pushed from
	// the first of DefaultWebappEntries that exists, when one does.
	WebappEntry string
	// Prebuilt sends a webapp.bundle_path plugin's built bundle (and the
	// rest of its output directory) instead of its sources.
	Prebuilt bool
	// Also names files to send when they exist, even outside the import
	// graph (push --watch: the node_modules files of the last good build,
	// when the sources no longer compile).
	Also []string
	// Rewrite, when set, changes plugin.json before anything else reads it
	// (push --watch gives every push its own prerelease version).
	Rewrite func(raw []byte) ([]byte, error)
	// Limits are the package limits the files sent must pass.
	Limits pluginpkg.Limits
	// Known is the slot catalogue (slots.Known).
	Known pluginpkg.SlotCatalogue
}

// DefaultWebappEntries are where a Mattermost plugin repository keeps its
// webapp's source entry (the starter template's webapp/src/index.tsx).
var DefaultWebappEntries = []string{"webapp/src/index.tsx", "webapp/src/index.ts", "webapp/src/index.jsx", "webapp/src/index.js"}

// PackedDir is what `mmtoolkit pack` and `push` send of a directory.
type PackedDir struct {
	// Package is the package as sent, read back with pluginpkg.ReadFiles:
	// the package limits were checked against these files, not against
	// the directory.
	Package *pluginpkg.Package
	// Files are the files sent (plugin.json included, plugin.sig not).
	Files map[string][]byte
	// Signature is the directory's plugin.sig, nil when there is none.
	Signature []byte
	// SourceEntry is set when plugin.json named webapp.bundle_path and the
	// web bundle is built from this source entry instead: the plugin.json
	// sent names it as webapp.entry.
	SourceEntry string
	// Stats counts the file system look-ups resolution made.
	Stats int
}

// PackDir reads the plugin in directory dir the way `mmtoolkit pack` and
// `push` send it: plugin.json, the files it names, the import graph of its
// entries (PackFiles), README/LICENSE/tsconfig at the root. It never lists
// the directory: plugin.json comes first, then each import is resolved by
// looking at the paths it could name, so the node_modules/ of a repository
// after `npm ci` (tens of thousands of files), its tests, .git and build
// output cost nothing. The limits of o.Limits apply to the files sent.
//
// A compile error is returned as a *CompileError together with the
// PackedDir of the plugin's own sources (every loadable file under each
// entry's webapp directory, outside node_modules/), plus o.Also, so that
// push can still send them for the server to report.
func (c *Cache) PackDir(dir string, o DirOptions) (*PackedDir, error) {
	disk, err := newDiskTree(dir)
	if err != nil {
		return nil, fmt.Errorf("bundler: read dir %s: %w", dir, err)
	}
	tree := &fileTree{files: map[string][]byte{}, dirs: map[string]bool{"": true}, disk: disk}
	raw, ok := tree.read("plugin.json")
	if !ok {
		// An unpacked Mattermost archive: one folder holding the plugin.
		if entries, err := os.ReadDir(disk.root); err == nil && len(entries) == 1 && entries[0].IsDir() && entries[0].Name() != "node_modules" {
			if _, err := os.Stat(filepath.Join(disk.root, entries[0].Name(), "plugin.json")); err == nil {
				return c.PackDir(filepath.Join(disk.root, entries[0].Name()), o)
			}
		}
		return nil, &pluginpkg.Error{Code: pluginpkg.CodeManifestMissing,
			Message: fmt.Sprintf("%s is a directory without plugin.json: run the command on the plugin's root directory, the one holding plugin.json", dir)}
	}
	if o.Rewrite != nil {
		if raw, err = o.Rewrite(raw); err != nil {
			return nil, err
		}
	}
	lim := o.Limits
	if lim.MaxManifestBytes == 0 {
		lim.MaxManifestBytes = pluginpkg.DefaultLimits.MaxManifestBytes
	}
	if int64(len(raw)) > lim.MaxManifestBytes {
		return nil, &pluginpkg.Error{Code: pluginpkg.CodeManifestTooLarge, File: "plugin.json", Limit: lim.MaxManifestBytes,
			Message: fmt.Sprintf("plugin.json is %d bytes, over the %d-byte limit", len(raw), lim.MaxManifestBytes)}
	}
	m, err := pluginpkg.ParseManifest(raw, o.Known)
	var pe *pluginpkg.Error
	if errors.As(err, &pe) && pe.Field == "version" && !strings.Contains(pe.Message, "--version") {
		pe.Message += " (the Mattermost starter template's build fills it from git tags: give it with --version)"
	}
	if err != nil {
		return nil, err
	}
	out := &PackedDir{}
	if entry, err := sourceEntry(tree, m, o); err != nil {
		return nil, err
	} else if entry != "" {
		if raw, err = withWebappEntry(raw, entry); err != nil {
			return nil, err
		}
		out.SourceEntry = entry
	}

	// The small package the builds start from: the manifest and what it
	// names. Everything else comes from disk as resolution reaches it.
	small := map[string][]byte{"plugin.json": raw}
	m2, err := pluginpkg.ParseManifest(raw, o.Known)
	if err != nil {
		return nil, err
	}
	named := []string{m2.IconPath}
	named = append(named, m2.Screenshots...)
	if m2.Webapp != nil {
		named = append(named, m2.Webapp.Entry, m2.Webapp.BundlePath)
	}
	if m2.Mobile != nil {
		named = append(named, m2.Mobile.Entry)
	}
	for _, p := range named {
		if c, ok := cleanRel(p); ok && c != "" {
			if data, ok := tree.read(c); ok {
				small[c] = data
			}
		}
	}
	pkg, err := pluginpkg.ReadFiles(small, o.Limits, o.Known)
	if errors.As(err, &pe) && pe.Code == pluginpkg.CodeEntryMissing && pe.Field == "webapp.bundle_path" {
		pe.Message += fmt.Sprintf("; to push the sources instead, put the entry at %s or give --webapp-entry", DefaultWebappEntries[0])
	}
	if err != nil {
		return nil, err
	}
	if sig, ok := tree.read(pluginpkg.SignatureFile); ok {
		out.Signature = sig
	}

	keep, err := c.packFiles(pkg, disk)
	var ce *CompileError
	if errors.As(err, &ce) {
		keep = ownSources(disk, pkg)
	} else if err != nil {
		return nil, err
	}
	out.Stats = disk.statCount()
	files := make(map[string][]byte, len(keep)+len(o.Also))
	for _, p := range append(keep, o.Also...) {
		if data, ok := small[p]; ok {
			files[p] = data
			continue
		}
		data, ok := tree.read(p)
		if !ok {
			if slices.Contains(keep, p) {
				return nil, fmt.Errorf("bundler: %s", tree.whyUnreadable(p))
			}
			continue
		}
		files[p] = data
	}
	out.Files = files
	sent, rerr := pluginpkg.ReadFiles(files, o.Limits, o.Known)
	if rerr != nil {
		return nil, rerr
	}
	out.Package = sent
	if ce != nil {
		return out, err
	}
	return out, nil
}

// sourceEntry is the webapp source entry that replaces the manifest's
// webapp section, or "" to keep it.
func sourceEntry(tree *fileTree, m *pluginpkg.Manifest, o DirOptions) (string, error) {
	if o.WebappEntry != "" {
		p, ok := cleanRel(o.WebappEntry)
		if !ok || !tree.isFile(p) {
			return "", &pluginpkg.Error{Code: pluginpkg.CodeEntryMissing, File: o.WebappEntry, Field: "webapp.entry",
				Message: fmt.Sprintf("--webapp-entry %s is not a file of the plugin directory; give the path from the directory holding plugin.json", o.WebappEntry)}
		}
		return p, nil
	}
	if m.Webapp == nil || m.Webapp.BundlePath == "" || o.Prebuilt {
		return "", nil
	}
	for _, p := range DefaultWebappEntries {
		if tree.isFile(p) {
			return p, nil
		}
	}
	return "", nil // no sources: the built bundle goes, as it is
}

// withWebappEntry rewrites plugin.json's webapp section to {"entry": entry},
// keeping every other field as it was.
func withWebappEntry(raw []byte, entry string) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	w, err := json.Marshal(map[string]string{"entry": entry})
	if err != nil {
		return nil, err
	}
	doc["webapp"] = w
	return json.MarshalIndent(doc, "", "  ")
}

// maxOwnSources bounds the files ownSources sends.
const maxOwnSources = 2000

// ownSources lists plugin.json, the files the manifest names and the
// loadable files under each entry's webapp directory outside
// node_modules/ (tests and build output included: the server compiles only
// what the entry imports): what push sends of sources that do not compile,
// so the server reports the diagnostics.
func ownSources(disk *diskTree, pkg *pluginpkg.Package) []string {
	set := map[string]bool{}
	for p := range pkg.Files {
		set[p] = true
	}
	tree := newFileTree(pkg.Files)
	for _, t := range []Target{Web, Mobile} {
		entry := entryOf(pkg, t)
		if entry == "" {
			continue
		}
		disk.walk(webpackRoot(tree, entry), func(p string) {
			if len(set) < maxOwnSources && loadable(path.Ext(p)) || path.Base(p) == "package.json" ||
				path.Base(p) == "tsconfig.json" || path.Base(p) == "jsconfig.json" {
				set[p] = true
			}
		})
	}
	return sortedKeys(set)
}

// statCount is how many paths were stat'ed.
func (d *diskTree) statCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

// maxPublicFiles bounds the files kept from a package's public/ folder.
const maxPublicFiles = 1000

// publicFiles lists the files of the package's public/ folder (outside
// node_modules), at most maxPublicFiles, sorted: what Mattermost serves at
// /plugins/<id>/public/ and a plugin's webapp links to (app-bar icons).
func publicFiles(tree *fileTree) []string {
	seen := map[string]bool{}
	tree.list("public", func(p string) {
		_, inMemory := tree.files[p]
		regular := inMemory || (tree.disk != nil && tree.disk.kind(p) == kindFile) // links are left out, not refused
		if strings.HasPrefix(p, "public/") && !inNodeModules(p) && regular {
			seen[p] = true
		}
	})
	out := sortedKeys(seen)
	if len(out) > maxPublicFiles {
		out = out[:maxPublicFiles]
	}
	return out
}

// PublicFiles lists the package's public/ files (see publicFiles): what
// the server stores with the version and serves under
// /plugins/<id>/public/.
func PublicFiles(pkg *pluginpkg.Package) []string {
	return publicFiles(newFileTree(pkg.Files))
}
