package bundler

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// workDir is the directory esbuild believes it works in. It does not exist:
// every module comes from the package in memory through the plugin below,
// and output is not written. esbuild only checks whether the entry's
// directory exists under it (it does not); jail.go closes the two paths
// on which esbuild would read the disk on its own.
const workDir = "/plugin"

// Build compiles the entry of pkg for target t (webapp.entry for Web,
// mobile.entry for Mobile).
//
// It returns ErrNoEntry when the manifest names no entry for t, and a
// *CompileError when the source does not compile, including an import that
// is neither a file of the package nor a host module. Build reads only
// pkg.Files, never the filesystem, and is safe to call concurrently.
//
// The web bundle is an IIFE targeting ES2020; host modules come from window
// globals (HostGlobals) and react/jsx-runtime is a shim over
// window.React.createElement. CSS imported anywhere is injected with a
// <style data-mmtoolkit-plugin="<id>"> tag by a line prepended to the
// bundle. Images and fonts are inlined as data: URLs, so a web plugin is
// always one .js file.
//
// The mobile bundle is a CommonJS module body targeting ES2019 (what
// current Hermes accepts; classes are kept, which bytecode 98 and later
// handle). The host evaluates it as
//
//	const module = {exports: {}};
//	new Function("require", "module", "exports", js)(hostRequire, module, module.exports);
//
// where hostRequire(name) returns the host's module for each name in
// Result.HostModules (a subset of MobileHostModules plus react-native/*
// subpaths). The entry's exports end up on module.exports: `export default
// plugin` is module.exports.default. The bundler adds no reference to
// window or document (CSS imports are dropped with a warning); `global` is
// compiled to globalThis, and __DEV__, if used, is read from the host's
// global as in any React Native app.
//
// In both, require() and import() of a computed path shaped like
// `./dir/${name}.ext` or './dir/' + name + '.ext' cover the package files
// the pattern matches, as webpack's context modules do (context.go). Other
// computed paths that start with ./ or ../ are compile errors, since
// resolving them would mean listing directories; computed paths that do
// not are left alone and throw when called, as in any esbuild bundle.
//
// Both bundles are minified, end with a sourceMappingURL comment naming
// "<SourceMapKey>.map", and keep legal comments (licences of bundled
// npm code) at the end of the file. Building the same package twice gives
// byte-identical JS and source maps.
func Build(pkg *pluginpkg.Package, t Target) (*Result, error) {
	var cold *Cache // a nil Cache builds cold
	return cold.build(pkg, t, false)
}

func entryOf(pkg *pluginpkg.Package, t Target) string {
	switch {
	case t == Web && pkg.Manifest.Webapp != nil:
		return pkg.Manifest.Webapp.Entry
	case t == Mobile && pkg.Manifest.Mobile != nil:
		return pkg.Manifest.Mobile.Entry
	}
	return ""
}

// build is the state of one Build call.
type build struct {
	pkg    *pluginpkg.Package
	target Target
	entry  string
	tree   *fileTree
	ts     *tsconfig
	res    *resolver
	// graph builds only to learn the import graph (Result.Inputs, for
	// packing): no source map, no printing-only minification. Which
	// files load does not depend on those options.
	graph bool
	// noMap builds the bundle without its source map (BuildDeferred): the
	// same bundle, byte for byte, about a quarter sooner.
	noMap bool
	// loads, when set, remembers what prepare made of each file, for the
	// next build of a cached context.
	loads *loadMemo

	mu     sync.Mutex
	loaded map[string]bool // package files esbuild loaded
}

func newBuild(pkg *pluginpkg.Package, disk *diskTree, t Target, entry string) (*build, error) {
	tree := newFileTree(pkg.Files)
	tree.disk = disk
	entryPath, ok := cleanRel(entry)
	// esbuild expands an entry point holding "*" as a glob on the disk.
	if !ok || strings.ContainsRune(entryPath, '*') {
		return nil, &CompileError{Target: t, Diagnostics: []Diagnostic{{
			File: "plugin.json", Text: fmt.Sprintf("entry %q must be a file inside the package, without \"*\"", entry)}}}
	}
	ts, err := loadTSConfig(tree, entryPath)
	if err != nil {
		if d, ok := err.(*tsconfigDiagnostic); ok {
			return nil, &CompileError{Target: t, Diagnostics: []Diagnostic{d.Diagnostic}}
		}
		return nil, fmt.Errorf("bundler: %s build: tsconfig: %w", t, err)
	}
	b := &build{
		pkg: pkg, target: t, entry: entryPath, tree: tree, ts: ts,
		res:    newResolver(tree, t, ts),
		loaded: map[string]bool{},
	}
	b.res.webRoot = webpackRoot(tree, entryPath)
	// A missing entry is a mistake in plugin.json: say so there, at the
	// line naming it, rather than as a location-less esbuild error.
	if _, err := b.res.resolve(entryPath, "", kindEntry); err != nil {
		field := "webapp.entry"
		if t == Mobile {
			field = "mobile.entry"
		}
		d := Diagnostic{File: "plugin.json", Line: 1,
			Text: fmt.Sprintf("%s %q is not a file of the package", field, entry)}
		if quoted, err := json.Marshal(entry); err == nil {
			if i := bytes.Index(pkg.RawManifest, quoted); i >= 0 {
				d.Line, d.Column = lineCol(pkg.RawManifest, i)
			}
		}
		return nil, &CompileError{Target: t, Diagnostics: []Diagnostic{d}}
	}
	return b, nil
}

func (b *build) options() api.BuildOptions {
	o := api.BuildOptions{
		EntryPoints:       []string{b.entry},
		Bundle:            true,
		Write:             false,
		AbsWorkingDir:     workDir,
		Outfile:           workDir + "/out.js",
		Sourcemap:         api.SourceMapExternal,
		SourcesContent:    api.SourcesContentInclude,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		LegalComments:     api.LegalCommentsEndOfFile,
		LogLevel:          api.LogLevelSilent,
		// The automatic runtime, like Babel's preset-react with runtime
		// "automatic": files that never import React still work, and files
		// that do (classic style) compile the same. tsconfig "jsx": "react"
		// switches to React.createElement.
		JSX: api.JSXAutomatic,
		// webpack compatibility: Mattermost plugins and the npm code they
		// carry were written against webpack's defines.
		Define: map[string]string{
			"global":               "globalThis",
			"process.env.NODE_ENV": `"production"`,
		},
		Plugins: []api.Plugin{{Name: "mmtoolkit", Setup: func(pb api.PluginBuild) { setupPlugin(pb, func() *build { return b }) }}},
	}
	if b.target == Mobile {
		o.Format = api.FormatCommonJS
		o.Platform = api.PlatformNeutral
		o.Target = api.ES2019
	} else {
		o.Format = api.FormatIIFE
		o.Platform = api.PlatformBrowser
		o.Target = api.ES2020
	}
	if b.ts != nil {
		o.TsconfigRaw = b.ts.raw
	}
	if b.graph || b.noMap {
		o.Sourcemap = api.SourceMapNone
		o.SourcesContent = api.SourcesContentExclude
	}
	if b.graph {
		o.MinifyWhitespace = false
		o.MinifyIdentifiers = false
	}
	return o
}

// setupPlugin installs the resolver and loaders of the build cur returns
// (a cached context serves one build after another). Every import ends
// here, so esbuild's own resolver, which reads the disk, never runs.
func setupPlugin(pb api.PluginBuild, cur func() *build) {
	pb.OnResolve(api.OnResolveOptions{Filter: ".*"}, func(args api.OnResolveArgs) (api.OnResolveResult, error) {
		b := cur()
		if err := checkSpecifier(args.Path); err != nil {
			return api.OnResolveResult{Errors: []api.Message{{Text: err.Error()}}}, nil
		}
		if strings.HasPrefix(args.Path, contextScheme) {
			return api.OnResolveResult{Path: args.Path, Namespace: nsContext}, nil
		}
		var res resolved
		var err error
		if args.Namespace == nsContext {
			res, err = b.res.resolveFile(args.Path)
		} else {
			importer := ""
			if args.Namespace == nsPkg {
				importer = strings.TrimPrefix(args.Importer, "/")
			}
			res, err = b.res.resolve(args.Path, importer, kindOf(args.Kind))
		}
		if err != nil {
			return api.OnResolveResult{Errors: []api.Message{{Text: err.Error()}}}, nil
		}
		out := api.OnResolveResult{Path: res.path, Namespace: res.namespace, External: res.external}
		if res.namespace == nsPkg {
			out.Path = "/" + res.path
		}
		if res.noSideEffects {
			out.SideEffects = api.SideEffectsFalse
		}
		return out, nil
	})
	pb.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: nsPkg}, func(args api.OnLoadArgs) (api.OnLoadResult, error) {
		return cur().loadFile(args)
	})
	pb.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: nsHost}, func(args api.OnLoadArgs) (api.OnLoadResult, error) {
		src := hostModuleSource(args.Path)
		return api.OnLoadResult{Contents: &src, Loader: api.LoaderJS}, nil
	})
	pb.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: nsContext}, func(args api.OnLoadArgs) (api.OnLoadResult, error) {
		spec, ok := parseContextSpec(args.Path)
		if !ok {
			return api.OnLoadResult{Errors: []api.Message{{Text: fmt.Sprintf("cannot resolve %q", args.Path)}}}, nil
		}
		src, err := contextModule(cur().tree, spec)
		if err != nil {
			return api.OnLoadResult{Errors: []api.Message{{Text: err.Error()}}}, nil
		}
		return api.OnLoadResult{Contents: &src, Loader: api.LoaderJS}, nil
	})
	pb.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: nsManifest}, func(args api.OnLoadArgs) (api.OnLoadResult, error) {
		src := string(cur().pkg.RawManifest)
		return api.OnLoadResult{Contents: &src, Loader: api.LoaderJSON}, nil
	})
	pb.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: nsEmpty}, func(args api.OnLoadArgs) (api.OnLoadResult, error) {
		src := ""
		return api.OnLoadResult{Contents: &src, Loader: api.LoaderJS}, nil
	})
}

func kindOf(k api.ResolveKind) importKind {
	switch k {
	case api.ResolveEntryPoint:
		return kindEntry
	case api.ResolveJSRequireCall, api.ResolveJSRequireResolve:
		return kindRequire
	case api.ResolveCSSImportRule, api.ResolveCSSComposesFrom:
		return kindCSS
	case api.ResolveCSSURLToken:
		return kindURL
	}
	return kindImport
}

// loadable reports whether loadFile has a loader for files with ext.
func loadable(ext string) bool {
	ext = strings.ToLower(ext)
	return isScript(ext) || dataURLExts[ext] || ext == ".json" || ext == ".css" || isSass(ext) || ext == ".txt" || ext == ".md" || ext == ".html"
}

func isScript(ext string) bool {
	switch ext {
	case ".tsx", ".ts", ".mts", ".cts", ".jsx", ".js", ".mjs", ".cjs":
		return true
	}
	return false
}

// dataURLExts are assets inlined as data: URLs (webpack's url-loader), so a
// plugin's images and fonts travel inside its one bundle.
var dataURLExts = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true,
	".avif": true, ".svg": true, ".ico": true, ".bmp": true,
	".woff": true, ".woff2": true, ".ttf": true, ".otf": true, ".eot": true,
}

func (b *build) loadFile(args api.OnLoadArgs) (api.OnLoadResult, error) {
	p := strings.TrimPrefix(args.Path, "/")
	data, ok := b.tree.read(p)
	if !ok {
		// The resolver hands out only files of the tree; on disk (pack),
		// one may be a link or unreadable.
		return api.OnLoadResult{Errors: []api.Message{{Text: b.tree.whyUnreadable(p)}}}, nil
	}
	b.mu.Lock()
	b.loaded[p] = true
	b.mu.Unlock()
	if b.loads == nil || isSass(strings.ToLower(path.Ext(p))) {
		// A stylesheet's CSS depends on the partials it imports too, so
		// it is never remembered by its own bytes alone.
		return b.prepare(p, data), nil
	}
	if out, ok := b.loads.get(p, data); ok {
		return out, nil
	}
	out := b.prepare(p, data)
	b.loads.put(p, data, out)
	return out, nil
}

// prepare makes the contents and loader esbuild gets for package file p.
// It depends only on p, data and the build's target.
func (b *build) prepare(p string, data []byte) api.OnLoadResult {
	ext := strings.ToLower(path.Ext(p))
	src := string(data)
	if !dataURLExts[ext] {
		if !utf8.ValidString(src) {
			// esbuild 0.28.2 loops forever quoting invalid UTF-8 into
			// sourcesContent; webpack decodes sources as UTF-8 with
			// replacement characters, so do that.
			src = strings.ToValidUTF8(src, "\uFFFD")
		}
		if ext != ".json" {
			src = defangSourceMapComments(src)
		}
	}
	if len(src) > safeDepthBytes && !dataURLExts[ext] && nestingDepth(src, maxNesting) > maxNesting {
		return api.OnLoadResult{Errors: []api.Message{{Text: fmt.Sprintf(
			"cannot compile %s: it nests brackets, operators or JSX more than %d levels deep, more than the compiler can take; split the expression or the data", p, maxNesting)}}}
	}
	if isScript(ext) && mayHaveComputedImport(src) {
		src = rewriteContextImports(src, p)
	}
	out := api.OnLoadResult{Contents: &src, ResolveDir: moduleJail(src)}
	switch {
	case ext == ".tsx":
		out.Loader = api.LoaderTSX
	case ext == ".ts" || ext == ".mts" || ext == ".cts":
		out.Loader = api.LoaderTS
	case ext == ".jsx":
		out.Loader = api.LoaderJSX
	case ext == ".js" && !inNodeModules(p):
		// Mattermost's babel-loader compiles JSX in .js files of the
		// plugin; npm code is plain JS.
		out.Loader = api.LoaderJSX
	case ext == ".js" || ext == ".mjs" || ext == ".cjs":
		out.Loader = api.LoaderJS
	case ext == ".json":
		out.Loader = api.LoaderJSON
	case ext == ".css" && b.target == Mobile:
		out.Loader = api.LoaderEmpty
		out.Warnings = []api.Message{{Text: fmt.Sprintf("%s: CSS has no effect in a mobile bundle; it is left out", p)}}
	case strings.HasSuffix(p, ".module.css"):
		out.Loader = api.LoaderLocalCSS
	case ext == ".css":
		out.Loader = api.LoaderCSS
	case dataURLExts[ext]:
		out.Loader = api.LoaderDataURL
	case ext == ".txt" || ext == ".md" || ext == ".html":
		out.Loader = api.LoaderText
	case isSass(ext) && b.target == Mobile:
		out.Loader = api.LoaderEmpty
		out.Warnings = []api.Message{{Text: fmt.Sprintf("%s: CSS has no effect in a mobile bundle; it is left out", p)}}
	case isSass(ext) && b.graph:
		return b.sassGraph(p, src)
	case isSass(ext):
		return b.compileSass(p, src)
	case ext == ".less":
		return api.OnLoadResult{Errors: []api.Message{{Text: fmt.Sprintf(
			"cannot load %s: .less needs a preprocessor the server does not run; compile it to .css and import that", p)}}}
	default:
		return api.OnLoadResult{Errors: []api.Message{{Text: fmt.Sprintf(
			"cannot load %s: no loader for %q files (sources: .tsx .ts .jsx .js .mjs .cjs .json; styles: .css; assets: images and fonts)", p, ext)}}}
	}
	return out
}

func (b *build) run() (*Result, error) {
	start := time.Now()
	out := api.Build(b.options())
	return b.finish(out, time.Since(start))
}

// finish turns esbuild's output into the Result: source paths made
// package-relative, CSS injected, the sourceMappingURL comment added.
func (b *build) finish(out api.BuildResult, elapsed time.Duration) (*Result, error) {
	if len(out.Errors) > 0 {
		return nil, &CompileError{Target: b.target, Diagnostics: b.diagnostics(out.Errors)}
	}
	var js, jsMap, css []byte
	for _, f := range out.OutputFiles {
		switch path.Base(f.Path) {
		case "out.js":
			js = f.Contents
		case "out.js.map":
			jsMap = f.Contents
		case "out.css":
			css = f.Contents
		}
	}
	if js == nil || (jsMap == nil && !b.graph && !b.noMap) {
		return nil, fmt.Errorf("bundler: %s build of %s: esbuild returned no bundle", b.target, b.entry)
	}
	if b.graph {
		return &Result{Target: b.target, JS: js, HostModules: sortedKeys(b.res.hosts), Inputs: b.inputs(),
			Warnings: b.diagnostics(out.Warnings), Esbuild: elapsed}, nil
	}
	if jsMap != nil {
		jsMap = rewriteSources(jsMap)
	}
	if css = bytes.TrimSpace(stripCSSMapComment(css)); len(css) > 0 && b.target == Web {
		// One line in front of the bundle; ";" in front of the mappings
		// moves every mapping down that line.
		js = append(append(cssInjection(b.pkg.Manifest.ID, css), '\n'), js...)
		if jsMap != nil {
			jsMap = shiftMappings(jsMap)
		}
	}
	key := b.sourceMapKey(js)
	js = append(js, "\n//# sourceMappingURL="+key+".map\n"...)

	return &Result{
		Target:       b.target,
		JS:           js,
		SourceMap:    jsMap,
		SourceMapKey: key,
		HostModules:  sortedKeys(b.res.hosts),
		Inputs:       b.inputs(),
		Warnings:     b.diagnostics(out.Warnings),
		Esbuild:      elapsed,
	}, nil
}

// sourceMapKey names a bundle's source map before the map exists, so the
// bundle's sourceMappingURL is the same whether the map was built with it
// or later (BuildDeferred): the SHA-256 of the bundle's code (sourceMappingURL
// comment excepted) and of every package file esbuild loaded, path and bytes,
// which is what a map is made of, with the esbuild version that maps them.
// The same key therefore always names the same map.
func (b *build) sourceMapKey(code []byte) string {
	b.mu.Lock()
	loaded := sortedKeys(b.loaded)
	b.mu.Unlock()
	h := sha256.New()
	io.WriteString(h, "mmtoolkit source map 1\x00"+esbuildVersion()+"\x00"+b.target.String()+"\x00")
	sum := sha256.Sum256(code)
	h.Write(sum[:])
	for _, f := range loaded {
		io.WriteString(h, f+"\x00")
		data, _ := b.tree.read(f)
		sum = sha256.Sum256(data)
		h.Write(sum[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// esbuildVersion is the version of the esbuild module this binary was
// built with ("" when the build information is missing, as in some tests).
var esbuildVersion = sync.OnceValue(func() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == "github.com/evanw/esbuild" {
				return m.Version
			}
		}
	}
	return ""
})

// stripCSSMapComment drops the "/*# sourceMappingURL=out.css.map */" that
// esbuild ends the CSS with when it writes a source map, so the CSS put in
// the bundle is the same with and without one.
func stripCSSMapComment(css []byte) []byte {
	css = bytes.TrimRight(css, " \n")
	if i := bytes.LastIndex(css, []byte("/*# sourceMappingURL=")); i >= 0 && bytes.HasSuffix(css, []byte("*/")) &&
		!bytes.Contains(css[i+2:len(css)-2], []byte("*/")) {
		return css[:i]
	}
	return css
}

// loadedBytes is the size of the package files esbuild loaded.
func (b *build) loadedBytes() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	var n int64
	for f := range b.loaded {
		data, _ := b.tree.read(f)
		n += int64(len(data))
	}
	return n
}

// inputs are the files esbuild loaded, plus the package.json and tsconfig
// files that steered resolution: `mmtoolkit pack` must keep those too, or
// the packed plugin would resolve differently (or not at all). The loaded
// set is what esbuild's metafile "inputs" would list, recorded in OnLoad
// instead: decoding the metafile of a typical plugin costs milliseconds
// per push for nothing new.
func (b *build) inputs() []string {
	set := map[string]bool{}
	b.mu.Lock()
	for f := range b.loaded {
		set[f] = true
	}
	b.mu.Unlock()
	b.res.mu.Lock()
	for f := range b.res.consulted {
		set[f] = true
	}
	b.res.mu.Unlock()
	if b.ts != nil {
		for _, f := range b.ts.files {
			set[f] = true
		}
	}
	// The licence of every npm package the bundle draws from travels with
	// it: a package shared by `mmtoolkit pack` must carry its third-party
	// code's terms (the bundle keeps their legal comments too).
	pkgDirs := map[string]bool{}
	for f := range set {
		if path.Base(f) == "package.json" && strings.Contains(f, "node_modules/") {
			pkgDirs[path.Dir(f)] = true
		}
	}
	for dir := range pkgDirs {
		for _, name := range b.tree.filesIn(dir) {
			if isLicence(name) {
				set[dir+"/"+name] = true
			}
		}
	}
	return sortedKeys(set)
}

// isLicence reports whether a file name is a licence or notice file, as npm
// names them (LICENSE, LICENCE.md, license.txt, COPYING, NOTICE, ...).
func isLicence(base string) bool {
	u := strings.ToUpper(base)
	for _, p := range []string{"LICENSE", "LICENCE", "COPYING", "NOTICE"} {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// diagnostics converts esbuild's messages, turning its module paths back
// into package-relative file names.
func (b *build) diagnostics(msgs []api.Message) []Diagnostic {
	if len(msgs) == 0 {
		return nil
	}
	ds := make([]Diagnostic, 0, len(msgs))
	for _, m := range msgs {
		if strings.Contains(m.Text, `\x00`) || strings.ContainsRune(m.Text, 0) {
			// esbuild failing to list a jailDir (see jail.go): the import
			// that caused it has its own diagnostic.
			continue
		}
		d := Diagnostic{Text: b.cleanText(m.Text)}
		if isGlobFailure(m.Text) {
			d.Text += ": the path is computed at run time in a way the bundler does not follow; " +
				"write it as `./dir/${name}.ext` or './dir/' + name + '.ext' (one name, the files in the package), " +
				"or import each file with a literal path"
		}
		if m.Location != nil {
			d.File = b.displayFile(m.Location.File)
			d.Line, d.Column = m.Location.Line, m.Location.Column
		}
		for _, n := range m.Notes {
			if n.Text == "" || strings.HasPrefix(n.Text, "The plugin \"mmtoolkit\"") {
				continue
			}
			note := b.cleanText(n.Text)
			if n.Location != nil {
				note = Diagnostic{File: b.displayFile(n.Location.File), Line: n.Location.Line, Column: n.Location.Column, Text: note}.String()
			}
			d.Text += "\n  note: " + note
		}
		ds = append(ds, d)
	}
	return ds
}

// isGlobFailure recognises esbuild's error for require/import with a
// computed path, which it turns into a directory glob.
func isGlobFailure(text string) bool {
	return (strings.HasPrefix(text, `Could not resolve require("`) || strings.HasPrefix(text, `Could not resolve import("`)) &&
		strings.Contains(text, "*")
}

func (b *build) displayFile(f string) string {
	switch {
	case strings.HasPrefix(f, nsPkg+":/"):
		return strings.TrimPrefix(f, nsPkg+":/")
	case f == "<tsconfig.json>" && b.ts != nil:
		return b.ts.file
	}
	return f
}

func (b *build) cleanText(s string) string {
	return strings.ReplaceAll(s, `"`+nsPkg+`:/`, `"`)
}

// rewriteSources makes the source map's "sources" package-relative
// ("webapp/index.tsx", not "pkg:/webapp/index.tsx"), so browser devtools
// show the plugin's own tree. Host shims read "mmtoolkit-host/react".
//
// Only the "sources" array is decoded and re-encoded: the map can hold
// megabytes of sourcesContent, and a full round trip would cost more than
// the rest of the post-processing.
func rewriteSources(m []byte) []byte {
	key := []byte(`"sources": [`)
	i := bytes.Index(m, key)
	if i < 0 {
		return m
	}
	start := i + len(key) - 1
	dec := json.NewDecoder(bytes.NewReader(m[start:]))
	var sources []string
	if err := dec.Decode(&sources); err != nil {
		return m
	}
	end := start + int(dec.InputOffset())
	for j, s := range sources {
		switch {
		case strings.HasPrefix(s, nsPkg+":/"):
			sources[j] = strings.TrimPrefix(s, nsPkg+":/")
		case strings.HasPrefix(s, nsHost+":"):
			sources[j] = "mmtoolkit-host/" + strings.TrimPrefix(s, nsHost+":")
		case strings.HasPrefix(s, nsManifest+":"):
			sources[j] = "mmtoolkit-generated/plugin.json"
		case strings.HasPrefix(s, nsEmpty+":"):
			sources[j] = "mmtoolkit-empty/" + strings.TrimPrefix(s, nsEmpty+":")
		case strings.HasPrefix(s, nsContext+":"):
			if c, ok := parseContextSpec(strings.TrimPrefix(s, nsContext+":")); ok {
				sources[j] = "mmtoolkit-context/" + path.Join(parentDir(c.Importer), c.Prefix+"*"+c.Suffix)
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(sources); err != nil {
		return m
	}
	out := make([]byte, 0, len(m)+16)
	out = append(out, m[:start]...)
	out = append(out, bytes.TrimSpace(buf.Bytes())...)
	return append(out, m[end:]...)
}

// shiftMappings moves every mapping of a source map one generated line
// down, for the line cssInjection puts in front of the bundle.
func shiftMappings(m []byte) []byte {
	key := []byte(`"mappings": "`)
	i := bytes.Index(m, key)
	if i < 0 {
		return m
	}
	at := i + len(key)
	out := make([]byte, 0, len(m)+1)
	out = append(out, m[:at]...)
	out = append(out, ';')
	return append(out, m[at:]...)
}
