package bundler

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
)

// importKind is how a module is imported; it picks the "import" or
// "require" export condition and whether CSS's relative-first rules apply.
type importKind int

const (
	kindEntry   importKind = iota
	kindImport             // import statement, dynamic import()
	kindRequire            // require(), require.resolve()
	kindCSS                // @import and composes in CSS
	kindURL                // url() in CSS
)

// Namespaces of the modules the resolver hands to esbuild.
const (
	nsPkg     = "pkg"     // a file of the package; path "/" + package-relative path
	nsHost    = "host"    // a web host module read from a window global
	nsEmpty   = "empty"   // a module a "browser" map replaced with false
	nsContext = "context" // a generated context module (context.go)
	// nsManifest is the starter template's generated webapp/src/manifest.ts
	// when it was not generated (see generatedManifest).
	nsManifest = "manifest"
)

// resolved is where an import goes.
type resolved struct {
	path          string // package-relative file (nsPkg), module name otherwise
	namespace     string
	external      bool // left as require(path) for the mobile host
	noSideEffects bool
}

// resolver implements Node's module resolution over a fileTree, with the
// host modules of the target taken out first (they are webpack externals in
// a Mattermost build, so they win even over a copy in node_modules/).
//
// esbuild calls plugins from many goroutines; one mutex guards the caches.
// Resolution is map look-ups, cheap next to parsing, so holding the lock for
// a whole resolution costs nothing measurable and keeps the code simple.
type resolver struct {
	tree   *fileTree
	target Target
	ts     *tsconfig // nil when the entry has no tsconfig.json/jsconfig.json
	// webRoot is the plugin's webapp directory (webpackRoot): bare imports
	// of the plugin's own code are tried against its src/ and itself, as
	// the starter template's webpack resolve.modules does.
	webRoot string

	mu   sync.Mutex
	pkgs map[string]*packageJSON // dir -> package.json (nil: none)
	// consulted are files that steered resolution without being loaded:
	// package.json files, and files a "browser" map replaced (the
	// resolver must find them to apply the map, so a packed package needs
	// them too).
	consulted map[string]bool
	hosts     map[string]bool // host modules imported
}

func newResolver(tree *fileTree, t Target, ts *tsconfig) *resolver {
	return &resolver{
		tree:      tree,
		target:    t,
		ts:        ts,
		pkgs:      map[string]*packageJSON{},
		consulted: map[string]bool{},
		hosts:     map[string]bool{},
	}
}

// probeExts are tried, in order, after an extensionless import, as the
// Mattermost starter template's webpack resolve.extensions plus what esbuild
// and Node add.
var probeExts = []string{".tsx", ".ts", ".jsx", ".js", ".mjs", ".cjs", ".json", ".css"}

// tsExtFor lets "./foo.js" name foo.ts, the spelling TypeScript's ESM mode
// requires in imports.
var tsExtFor = map[string][]string{
	".js":  {".ts", ".tsx"},
	".jsx": {".tsx"},
	".mjs": {".mts"},
	".cjs": {".cts"},
}

// nodeBuiltins are Node.js core modules. A package that carries a browser
// polyfill of the same name (events, buffer, util, ...) in node_modules/
// gets the polyfill, as with webpack 5; otherwise importing one is an error.
var nodeBuiltins = map[string]bool{
	"assert": true, "async_hooks": true, "buffer": true, "child_process": true,
	"cluster": true, "console": true, "constants": true, "crypto": true,
	"dgram": true, "diagnostics_channel": true, "dns": true, "domain": true,
	"events": true, "fs": true, "http": true, "http2": true, "https": true,
	"inspector": true, "module": true, "net": true, "os": true, "path": true,
	"perf_hooks": true, "process": true, "punycode": true, "querystring": true,
	"readline": true, "repl": true, "stream": true, "string_decoder": true,
	"sys": true, "timers": true, "tls": true, "trace_events": true, "tty": true,
	"url": true, "util": true, "v8": true, "vm": true, "wasi": true,
	"worker_threads": true, "zlib": true,
}

// resolveError is a problem with one import; its text becomes a Diagnostic
// located at the import.
type resolveError struct{ text string }

func (e *resolveError) Error() string { return e.text }

func errorf(format string, args ...any) error {
	return &resolveError{text: fmt.Sprintf(format, args...)}
}

// resolveFile resolves the package-absolute path ("/webapp/i18n/de.json")
// a generated context module imports.
func (r *resolver) resolveFile(p string) (resolved, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := cleanRel(p)
	if !ok || !r.tree.isFile(f) {
		return resolved{}, errorf("%s is not a file of the package", p)
	}
	return r.finish(f)
}

// resolve finds where spec, imported from the package file importer ("" for
// the entry point), goes.
func (r *resolver) resolve(spec, importer string, kind importKind) (resolved, error) {
	r.mu.Lock()
	defer r.mu.Unlock()

	if kind == kindEntry {
		p, ok := cleanRel(spec)
		if ok {
			if f, found := r.loadAsFileOrDirectory(p); found {
				return r.finish(f)
			}
		}
		return resolved{}, errorf("entry %q is not a file of the package", spec)
	}

	dir := parentDir(importer)
	isCSS := kind == kindCSS || kind == kindURL
	switch {
	case isRemoteURL(spec):
		if isCSS {
			return resolved{path: spec, external: true}, nil
		}
		return resolved{}, errorf("cannot import %q: plugins cannot load code from URLs; put it in the package", spec)
	case isCSS && (strings.HasPrefix(spec, "/") || strings.HasPrefix(spec, "#")):
		// url(/static/...) is a URL on the Mattermost server, not a file.
		return resolved{path: spec, external: true}, nil
	case strings.HasPrefix(spec, "/") || strings.HasPrefix(spec, "file:") || isWindowsAbs(spec):
		return resolved{}, errorf("cannot import %q: absolute paths are not allowed; plugins import only files inside their package", spec)
	case isRelative(spec):
		return r.resolveRelative(spec, dir)
	case isCSS:
		// In CSS "foo.css" is relative; "~pkg/x.css" is webpack's spelling of
		// a node_modules import, and a plain bare name falls back to one.
		if strings.HasPrefix(spec, "~") {
			return r.resolveBare(strings.TrimPrefix(spec, "~"), importer, kind)
		}
		res, relErr := r.resolveRelative("./"+spec, dir)
		if relErr == nil {
			return res, nil
		}
		if res, err := r.resolveBare(spec, importer, kind); err == nil {
			return res, nil
		}
		return resolved{}, relErr // a missing file next to the stylesheet is the likelier mistake
	case strings.HasPrefix(spec, "#"):
		return r.resolvePackageImports(spec, importer, kind)
	}
	return r.resolveBare(spec, importer, kind)
}

func isRelative(spec string) bool {
	return spec == "." || spec == ".." || strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../")
}

func isRemoteURL(spec string) bool {
	for _, p := range []string{"http://", "https://", "//", "data:"} {
		if strings.HasPrefix(spec, p) {
			return true
		}
	}
	return false
}

func isWindowsAbs(spec string) bool {
	return len(spec) > 2 && spec[1] == ':' && (spec[2] == '/' || spec[2] == '\\')
}

func (r *resolver) resolveRelative(spec, dir string) (resolved, error) {
	p, ok := joinRel(dir, spec)
	if !ok {
		return resolved{}, errorf("cannot import %q: it points outside the package", spec)
	}
	f, found := r.loadAsFileOrDirectory(p)
	if !found && r.generatedManifest(p) {
		return resolved{path: "manifest", namespace: nsManifest}, nil
	}
	if !found {
		return resolved{}, errorf("cannot resolve %q: no file %s, %s.{tsx,ts,jsx,js,json,css,...} or %s/index.* in the package",
			spec, displayRel(p), displayRel(p), displayRel(p))
	}
	return r.finish(f)
}

func displayRel(p string) string {
	if p == "" {
		return "."
	}
	return p
}

// resolveBare resolves a package name, host modules first.
func (r *resolver) resolveBare(spec, importer string, kind importKind) (resolved, error) {
	if res, ok := r.hostModule(spec); ok {
		return res, nil
	}
	dir := parentDir(importer)

	// A "browser" map in the importer's package may swap the module.
	if pj := r.nearestPackageJSON(dir); pj != nil && pj.browserModules != nil {
		if repl, ok := pj.browserModules[spec]; ok {
			return r.replace(pj, spec, repl, kind)
		}
	}

	// tsconfig paths and baseUrl serve the plugin's own source only, as in
	// tsc and esbuild.
	if r.ts != nil && !inNodeModules(importer) {
		if f, ok := r.ts.resolve(r, spec); ok {
			if f == generatedManifestFile {
				return resolved{path: "manifest", namespace: nsManifest}, nil
			}
			return r.finish(f)
		}
	}

	own := !inNodeModules(importer) && importer != ""
	if own {
		if f, ok := r.sourceModule(spec, dir); ok {
			return r.finish(f)
		}
	}

	name, sub := splitPackageName(spec)
	if name == "" {
		return resolved{}, errorf("cannot resolve %q: not a valid package name", spec)
	}
	var hint string
	for d := dir; ; d = parentDir(d) {
		if path.Base(d) != "node_modules" {
			pkgDir := path.Join(d, "node_modules", name)
			f, found, err := r.loadPackage(pkgDir, name, sub, kind)
			if err != nil {
				return resolved{}, err
			}
			if found {
				return r.finish(f)
			}
			if r.tree.isDir(pkgDir) && hint == "" {
				hint = fmt.Sprintf(" (%s/ exists but has no file for %q)", pkgDir, sub)
			}
		}
		if d == "" {
			break
		}
	}

	if own && spec == "manifest" && r.generatedManifest(path.Join(r.webRoot, "src", "manifest")) {
		return resolved{path: "manifest", namespace: nsManifest}, nil
	}

	// The last of the starter template's resolve.modules: the webapp
	// directory itself (path.resolve(__dirname)).
	if own && !strings.HasPrefix(spec, "node:") {
		if p, ok := joinRel(r.webRoot, spec); ok && (r.webRoot == "" || strings.HasPrefix(p, r.webRoot+"/")) {
			if f, found := r.loadAsFileOrDirectory(p); found && !inNodeModules(f) {
				return r.finish(f)
			}
		}
	}

	if strings.HasPrefix(spec, "node:") || nodeBuiltins[name] {
		return resolved{}, errorf("cannot import %q: it is a Node.js built-in module, and plugins run in %s, not Node.js; use a package that works there and carry it in node_modules/",
			spec, r.runsIn())
	}
	if hint != "" {
		return resolved{}, errorf("cannot resolve %q: not found in the package's node_modules/%s", spec, hint)
	}
	return resolved{}, errorf("cannot resolve %q: not in the package's node_modules/ and not a host module (%s)",
		spec, strings.Join(r.hostModuleNames(), ", "))
}

// sourceModule resolves a bare import of the plugin's own code as
// webpack's resolve.modules: ['src', ...] does: "selectors" imported from
// webapp/src/components/x.tsx is webapp/src/components/src/selectors,
// webapp/src/src/selectors, webapp/src/selectors, ... whichever exists
// first, walking up like node_modules/. Every Mattermost plugin made from
// the starter template imports its src/ folders this way. Only the
// webapp directory and the folders inside it are searched, never above it.
func (r *resolver) sourceModule(spec, dir string) (string, bool) {
	if strings.HasPrefix(spec, "node:") || strings.HasPrefix(spec, "@") {
		return "", false
	}
	for d := dir; ; d = parentDir(d) {
		if d == r.webRoot || strings.HasPrefix(d, r.webRoot+"/") || r.webRoot == "" {
			src := path.Join(d, "src")
			if r.tree.isDir(src) {
				if p, ok := joinRel(src, spec); ok && strings.HasPrefix(p, src+"/") {
					if f, found := r.loadAsFileOrDirectory(p); found {
						return f, true
					}
				}
			}
		}
		if d == "" || d == r.webRoot {
			return "", false
		}
	}
}

// generatedManifestFile is what tsconfig resolution returns for the
// generated manifest (tsconfig paths such as "@/*": ["src/*"] lead there).
const generatedManifestFile = "\x00manifest"

// generatedManifest reports whether p (an import's path without
// extension) is the webapp/src/manifest.ts that the Mattermost starter
// template's `make` generates from plugin.json and .gitignore leaves out of
// the repository, and the package does not hold it: it is then plugin.json
// itself (the JSON loader gives the default export and a named export per
// field, as the generated `export default manifest` and the older
// `export const id` both did). A manifest the plugin carries wins.
func (r *resolver) generatedManifest(p string) bool {
	return p == path.Join(r.webRoot, "src", "manifest") && r.tree.isDir(path.Join(r.webRoot, "src")) && !r.tree.isDir(p)
}

// webpackRoot is the directory a plugin's webpack config would sit in,
// which its resolve.modules are relative to: the nearest directory at or
// above the entry holding a package.json or webpack config, below the
// package root ("webapp" for webapp/src/index.tsx); else the entry's
// directory, or its parent when that is named src.
func webpackRoot(tree *fileTree, entry string) string {
	for d := parentDir(entry); d != ""; d = parentDir(d) {
		if inNodeModules(d + "/") {
			break
		}
		if tree.isFile(d+"/package.json") || tree.isFile(d+"/webpack.config.js") {
			return d
		}
	}
	d := parentDir(entry)
	if path.Base(d) == "src" {
		return parentDir(d)
	}
	return d
}

func (r *resolver) runsIn() string {
	if r.target == Mobile {
		return "React Native"
	}
	return "the browser"
}

// splitPackageName splits "@scope/name/sub/path" into "@scope/name" and
// "./sub/path" ("." for the package itself).
func splitPackageName(spec string) (name, sub string) {
	parts := strings.SplitN(spec, "/", 3)
	n := 1
	if strings.HasPrefix(spec, "@") {
		if len(parts) < 2 || parts[1] == "" {
			return "", ""
		}
		n = 2
	}
	if len(parts) < n {
		return "", ""
	}
	name = strings.Join(parts[:n], "/")
	if rest := strings.TrimPrefix(spec[len(name):], "/"); rest != "" {
		return name, "./" + rest
	}
	if name == "" || name == "." || name == ".." {
		return "", ""
	}
	return name, "."
}

// hostModule resolves spec when the host provides it.
func (r *resolver) hostModule(spec string) (resolved, bool) {
	if r.target == Mobile {
		for _, m := range MobileHostModules {
			if spec == m {
				r.hosts[spec] = true
				return resolved{path: spec, external: true}, true
			}
		}
		if strings.HasPrefix(spec, "react-native/") {
			r.hosts[spec] = true
			return resolved{path: spec, external: true}, true
		}
		return resolved{}, false
	}
	if _, ok := HostGlobals[spec]; ok {
		r.hosts[spec] = true
		return resolved{path: spec, namespace: nsHost}, true
	}
	if spec == "react/jsx-runtime" || spec == "react/jsx-dev-runtime" {
		// The runtime shim reads window.React: the host module is react.
		r.hosts["react"] = true
		return resolved{path: spec, namespace: nsHost}, true
	}
	return resolved{}, false
}

func (r *resolver) hostModuleNames() []string {
	if r.target == Mobile {
		return append(append([]string(nil), MobileHostModules...), "react-native/*")
	}
	// The order of Mattermost's webpack externals, then any others.
	names := []string{"react", "react/jsx-runtime", "react-dom", "react-dom/client", "redux", "react-redux",
		"prop-types", "react-intl", "react-router-dom", "react-bootstrap"}
	var more []string
	for n := range HostGlobals {
		if !slices.Contains(names, n) {
			more = append(more, n)
		}
	}
	sort.Strings(more)
	return append(names, more...)
}

// conditions are the export conditions that apply to an import, as webpack
// sets them for a production web build (Metro's for mobile).
func (r *resolver) conditions(kind importKind) map[string]bool {
	c := map[string]bool{"default": true, "production": true, "module": true, "browser": true}
	if kind == kindRequire {
		c["require"] = true
	} else {
		c["import"] = true
	}
	if kind == kindCSS || kind == kindURL {
		c["style"] = true
	}
	if r.target == Mobile {
		c["react-native"] = true
	}
	return c
}

// mainFieldOrder is webpack's resolve.mainFields for web; Metro's for mobile.
func (r *resolver) mainFieldOrder() []string {
	if r.target == Mobile {
		return []string{"react-native", "browser", "module", "main"}
	}
	return []string{"browser", "module", "main"}
}

// loadPackage resolves subpath sub of the package at pkgDir. found is false
// when nothing there matches, so the caller goes on to the next
// node_modules/ up the tree, as Node does.
func (r *resolver) loadPackage(pkgDir, name, sub string, kind importKind) (string, bool, error) {
	if !r.tree.isDir(pkgDir) {
		if sub == "." {
			// node_modules/foo.js answers "foo" in Node.
			f, ok := r.loadAsFile(pkgDir)
			return f, ok, nil
		}
		return "", false, nil
	}
	pj := r.packageJSONAt(pkgDir)
	if pj != nil && pj.exports != nil {
		f, err := r.packageExports(pj, name, sub, kind)
		return f, err == nil, err
	}
	if sub == "." {
		f, ok := r.loadAsDirectory(pkgDir)
		return f, ok, nil
	}
	f, ok := r.loadAsFileOrDirectory(path.Join(pkgDir, sub))
	return f, ok, nil
}

// finish applies the "browser" file map and the "sideEffects" flag of the
// package that holds file f.
func (r *resolver) finish(f string) (resolved, error) {
	pj := r.nearestPackageJSON(parentDir(f))
	if pj != nil && pj.browserFiles != nil {
		if repl, ok := pj.browserFiles[f]; ok {
			r.consulted[f] = true
			if repl == nil {
				return resolved{path: f, namespace: nsEmpty}, nil
			}
			return r.replace(pj, f, repl, kindImport)
		}
	}
	res := resolved{path: f, namespace: nsPkg}
	if pj != nil {
		res.noSideEffects = !pj.hasSideEffects(f)
	}
	return res, nil
}

// plain is file f with its package's "sideEffects" flag but without
// consulting "browser" maps again: replacements apply once, so maps that
// point at each other cannot loop.
func (r *resolver) plain(f string) resolved {
	res := resolved{path: f, namespace: nsPkg}
	if pj := r.nearestPackageJSON(parentDir(f)); pj != nil {
		res.noSideEffects = !pj.hasSideEffects(f)
	}
	return res
}

// replace applies one "browser" map entry of pj to what.
func (r *resolver) replace(pj *packageJSON, what string, repl *string, kind importKind) (resolved, error) {
	if repl == nil {
		return resolved{path: what, namespace: nsEmpty}, nil
	}
	if isRelative(*repl) {
		p, ok := joinRel(pj.dir, *repl)
		if !ok {
			return resolved{}, errorf("cannot resolve %q: the \"browser\" field of %s/package.json points outside the package", what, pj.dir)
		}
		f, found := r.loadAsFileOrDirectory(p)
		if !found {
			return resolved{}, errorf("cannot resolve %q: the \"browser\" field of %s/package.json names %s, which is not in the package", what, pj.dir, p)
		}
		return r.plain(f), nil
	}
	if *repl == what {
		return resolved{}, errorf("cannot resolve %q: its \"browser\" field maps it to itself", what)
	}
	// A module replaced by another module ("buffer": "buffer/"): resolve
	// that from the package's directory, without the browser map again.
	name, sub := splitPackageName(*repl)
	for d := pj.dir; ; d = parentDir(d) {
		if path.Base(d) != "node_modules" {
			f, found, err := r.loadPackage(path.Join(d, "node_modules", name), name, sub, kind)
			if err != nil {
				return resolved{}, err
			}
			if found {
				return r.plain(f), nil
			}
		}
		if d == "" {
			break
		}
	}
	if res, ok := r.hostModule(*repl); ok {
		return res, nil
	}
	return resolved{}, errorf("cannot resolve %q: the \"browser\" field of %s/package.json maps it to %q, which is not in node_modules/", what, pj.dir, *repl)
}

func (r *resolver) loadAsFileOrDirectory(p string) (string, bool) {
	if f, ok := r.loadAsFile(p); ok {
		return f, true
	}
	return r.loadAsDirectory(p)
}

func (r *resolver) loadAsFile(p string) (string, bool) {
	if p != "" && r.tree.isFile(p) {
		return p, true
	}
	for _, ext := range probeExts {
		if r.tree.isFile(p + ext) {
			return p + ext, true
		}
	}
	ext := path.Ext(p)
	for _, alt := range tsExtFor[ext] {
		if f := strings.TrimSuffix(p, ext) + alt; r.tree.isFile(f) {
			return f, true
		}
	}
	return "", false
}

// loadAsDirectory is Node's LOAD_AS_DIRECTORY: the package.json main
// fields, then index files.
func (r *resolver) loadAsDirectory(dir string) (string, bool) {
	if !r.tree.isDir(dir) {
		return "", false
	}
	if pj := r.packageJSONAt(dir); pj != nil {
		for _, field := range r.mainFieldOrder() {
			m, ok := pj.mainFields[field]
			if !ok {
				continue
			}
			p, ok := joinRel(dir, m)
			if !ok {
				continue
			}
			if f, ok := r.loadAsFile(p); ok {
				return f, true
			}
			if f, ok := r.loadIndex(p); ok {
				return f, true
			}
		}
	}
	return r.loadIndex(dir)
}

func (r *resolver) loadIndex(dir string) (string, bool) {
	for _, ext := range probeExts {
		if f := path.Join(dir, "index"+ext); r.tree.isFile(f) {
			return f, true
		}
	}
	return "", false
}

// errNotExported marks a subpath a package's "exports" does not offer.
var errNotExported = errors.New("not exported")

// packageExports implements Node's PACKAGE_EXPORTS_RESOLVE for pj.
func (r *resolver) packageExports(pj *packageJSON, name, sub string, kind importKind) (string, error) {
	exports := *pj.exports
	conds := r.conditions(kind)
	var target string
	var err error
	if exports.kind == jsonObject && len(exports.obj) > 0 && strings.HasPrefix(exports.obj[0].key, ".") {
		target, err = r.exportsMapResolve(pj.dir, exports, sub, conds, false)
	} else if sub == "." {
		target, err = r.exportsTarget(pj.dir, exports, "", conds, false)
	} else {
		err = errNotExported
	}
	if err == errNotExported {
		return "", errorf("cannot resolve %q: package %q does not export %q (see the \"exports\" field of %s/package.json)",
			joinSpec(name, sub), name, sub, pj.dir)
	}
	if err != nil {
		return "", err
	}
	if r.tree.isFile(target) {
		return target, nil
	}
	if path.Ext(target) == "" {
		// Node wants the exact file; old packages omit the extension and
		// webpack forgives them, so we do too.
		if f, ok := r.loadAsFile(target); ok {
			return f, nil
		}
	}
	return "", errorf("cannot resolve %q: package %q exports %q as %s, which is not in the package",
		joinSpec(name, sub), name, sub, target)
}

func joinSpec(name, sub string) string {
	if sub == "." {
		return name
	}
	return name + strings.TrimPrefix(sub, ".")
}

// exportsMapResolve matches key against the keys of an "exports" or
// "imports" map: an exact key, else the "*" pattern with the longest prefix.
func (r *resolver) exportsMapResolve(dir string, m jsonValue, key string, conds map[string]bool, imports bool) (string, error) {
	if v, ok := m.get(key); ok && !strings.Contains(key, "*") {
		return r.exportsTarget(dir, v, "", conds, imports)
	}
	best, bestKey, bestMatch := -1, "", ""
	for i, mem := range m.obj {
		star := strings.IndexByte(mem.key, '*')
		if star < 0 {
			continue
		}
		prefix, suffix := mem.key[:star], mem.key[star+1:]
		if len(key) < len(prefix)+len(suffix) || !strings.HasPrefix(key, prefix) || !strings.HasSuffix(key, suffix) || key == prefix {
			continue
		}
		if best < 0 || patternKeyLess(mem.key, bestKey) {
			best, bestKey, bestMatch = i, mem.key, key[len(prefix):len(key)-len(suffix)]
		}
	}
	if best < 0 {
		return "", errNotExported
	}
	return r.exportsTarget(dir, m.obj[best].value, bestMatch, conds, imports)
}

// patternKeyLess is Node's PATTERN_KEY_COMPARE: the longer prefix wins, then
// the longer key.
func patternKeyLess(a, b string) bool {
	pa, pb := strings.IndexByte(a, '*'), strings.IndexByte(b, '*')
	if pa != pb {
		return pa > pb
	}
	return len(a) > len(b)
}

// exportsTarget is Node's PACKAGE_TARGET_RESOLVE. It returns a
// package-relative path, or for "imports" targets that are package names,
// "bare:" followed by the name.
func (r *resolver) exportsTarget(dir string, t jsonValue, match string, conds map[string]bool, imports bool) (string, error) {
	switch t.kind {
	case jsonString:
		s := strings.ReplaceAll(t.str, "*", match)
		if !strings.HasPrefix(t.str, "./") {
			if imports && !strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "../") {
				return "bare:" + s, nil
			}
			return "", errorf("invalid target %q in the \"exports\" field of %s/package.json", t.str, dir)
		}
		p, ok := joinRel(dir, s)
		if !ok || (dir != "" && p != dir && !strings.HasPrefix(p, dir+"/")) {
			return "", errorf("invalid target %q in the \"exports\" field of %s/package.json: it leaves the package", t.str, dir)
		}
		return p, nil
	case jsonArray:
		var lastErr error = errNotExported
		for _, e := range t.arr {
			p, err := r.exportsTarget(dir, e, match, conds, imports)
			if err == nil {
				return p, nil
			}
			lastErr = err
		}
		return "", lastErr
	case jsonObject:
		for _, m := range t.obj {
			if m.key == "default" || conds[m.key] {
				p, err := r.exportsTarget(dir, m.value, match, conds, imports)
				if err == errNotExported {
					continue // a null or unmatched branch: try the next condition
				}
				return p, err
			}
		}
	}
	return "", errNotExported
}

// resolvePackageImports resolves a "#name" import through the "imports"
// field of the importer's package.
func (r *resolver) resolvePackageImports(spec, importer string, kind importKind) (resolved, error) {
	pj := r.nearestPackageJSON(parentDir(importer))
	if pj == nil || pj.imports == nil || pj.imports.kind != jsonObject {
		return resolved{}, errorf("cannot resolve %q: no \"imports\" field in the importing package's package.json", spec)
	}
	target, err := r.exportsMapResolve(pj.dir, *pj.imports, spec, r.conditions(kind), true)
	if err == errNotExported {
		return resolved{}, errorf("cannot resolve %q: not in the \"imports\" field of %s", spec, path.Join(pj.dir, "package.json"))
	}
	if err != nil {
		return resolved{}, err
	}
	if bare, ok := strings.CutPrefix(target, "bare:"); ok {
		return r.resolveBare(bare, path.Join(pj.dir, "package.json"), kind)
	}
	f, ok := r.loadAsFile(target)
	if !ok {
		return resolved{}, errorf("cannot resolve %q: %s maps it to %s, which is not in the package", spec, path.Join(pj.dir, "package.json"), target)
	}
	return r.finish(f)
}
