package bundler

import (
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/bep/godartsass/v2"
	"github.com/evanw/esbuild/pkg/api"
)

// SassRelPath is where `make sass` installs the pinned Dart Sass (npm
// sass-embedded-linux-x64, bundler/sass/package.json), relative to the
// project root.
const SassRelPath = "bundler/sass/node_modules/sass-embedded-linux-x64/dart-sass/sass"

// ErrNoSass means no Dart Sass was found: .scss and .sass imports are then
// compile errors naming the file.
var ErrNoSass = errors.New("bundler: Dart Sass not found (make sass installs it at " + SassRelPath + ")")

// FindSass returns the Dart Sass to run: $MMTOOLKIT_SASS when set, else
// the pinned install under a project root (the directories above the
// running binary, then the working directory), else sass on PATH. Like
// hermesc, it is found, never downloaded.
func FindSass() (string, error) {
	return findTool(os.Getenv("MMTOOLKIT_SASS"), "MMTOOLKIT_SASS", SassRelPath, ErrNoSass)
}

// sassProc is the one Dart Sass process of this binary, started at the
// first stylesheet and kept: starting the Dart VM costs about 300 ms, a
// compile over the running process a millisecond or two. godartsass
// multiplexes concurrent compiles over it. A process that died is started
// again at the next compile.
var sassProc struct {
	mu  sync.Mutex
	t   *godartsass.Transpiler
	err error // the last failure to find or start it
}

func sassTranspiler() (*godartsass.Transpiler, error) {
	sassProc.mu.Lock()
	defer sassProc.mu.Unlock()
	if sassProc.t != nil && !sassProc.t.IsShutDown() {
		return sassProc.t, nil
	}
	bin, err := FindSass()
	if err != nil {
		return nil, err
	}
	t, err := godartsass.Start(godartsass.Options{DartSassEmbeddedFilename: bin, Timeout: sassTimeout})
	if err != nil {
		return nil, fmt.Errorf("bundler: start Dart Sass %s: %w", bin, err)
	}
	sassProc.t = t
	return t, nil
}

// sassTimeout bounds one stylesheet's compile: Sass is a programming
// language (@while, recursion), and a package is outside input. A compile
// over it stops the Dart Sass process, whose loop would otherwise spin on;
// the next compile starts another. A variable for tests.
var sassTimeout = 10 * time.Second

// stopSass stops t after a compile over sassTimeout, if it is still the
// process in use.
func stopSass(t *godartsass.Transpiler) {
	sassProc.mu.Lock()
	if sassProc.t == t {
		sassProc.t = nil
	}
	sassProc.mu.Unlock()
	go t.Close()
}

func isSass(ext string) bool { return ext == ".scss" || ext == ".sass" }

// sassScheme is the URL scheme of package files in Dart Sass's eyes:
// "pkg:/webapp/src/a.scss". Dart Sass resolves a relative @use/@import
// against the importing file's URL first, so relative imports arrive here
// already joined.
const sassScheme = "pkg:/"

// compileSass compiles package stylesheet p (SCSS, or the indented syntax
// for .sass) to CSS, its @use, @forward and @import resolved inside the
// package as sass-loader does: relative first (with Sass's partial and
// index rules), then node_modules/ ("~pkg/x" or "pkg/x"). Every file read
// counts as loaded, for Result.Inputs.
func (b *build) compileSass(p, src string) api.OnLoadResult {
	t, err := sassTranspiler()
	if err != nil {
		return api.OnLoadResult{Errors: []api.Message{{Text: fmt.Sprintf(
			"cannot compile %s: the server has no Sass compiler (%v); compile it to .css and import that, or ask the server's operator to run `make sass`", p, err)}}}
	}
	syntax := godartsass.SourceSyntaxSCSS
	if path.Ext(p) == ".sass" {
		syntax = godartsass.SourceSyntaxSASS
	}
	imp := &sassImporter{b: b, from: p}
	res, err := t.Execute(godartsass.Args{
		Source: src, URL: sassScheme + p, SourceSyntax: syntax,
		OutputStyle: godartsass.OutputStyleExpanded, ImportResolver: imp,
		// Mattermost plugins carry Bootstrap-era SCSS: @import and
		// global functions warn on every compile, to no one.
		SilenceDeprecations:           []string{"import", "global-builtin", "color-functions", "slash-div", "mixed-decls"},
		SilenceDependencyDeprecations: true,
	})
	if err != nil {
		var se godartsass.SassError
		if errors.As(err, &se) {
			msg := api.Message{Text: "Sass: " + se.Message}
			file := strings.TrimPrefix(se.Span.Url, sassScheme)
			if data, ok := b.tree.read(file); ok && se.Span.Url != "" {
				line, col := lineCol(data, se.Span.Start.Offset)
				msg.Location = &api.Location{File: nsPkg + ":/" + file, Line: line, Column: col, LineText: se.Span.Context}
			} else if se.Span.Url == "" || file == p {
				line, col := lineCol([]byte(src), se.Span.Start.Offset)
				msg.Location = &api.Location{File: nsPkg + ":/" + p, Line: line, Column: col}
			}
			return api.OnLoadResult{Errors: []api.Message{msg}}
		}
		if strings.Contains(err.Error(), "timeout") {
			stopSass(t)
			return api.OnLoadResult{Errors: []api.Message{{Text: fmt.Sprintf(
				"cannot compile %s: Sass was still running after %v (an endless @while or recursion?); simplify the stylesheet", p, sassTimeout)}}}
		}
		return api.OnLoadResult{Errors: []api.Message{{Text: fmt.Sprintf("cannot compile %s: %v", p, err)}}}
	}
	css := res.CSS
	loader := api.LoaderCSS
	if strings.HasSuffix(p, ".module.scss") || strings.HasSuffix(p, ".module.sass") {
		loader = api.LoaderLocalCSS // CSS modules, as css-loader's auto mode
	}
	return api.OnLoadResult{Contents: &css, Loader: loader, ResolveDir: jailDir(0)}
}

// sassImporter resolves and loads the stylesheets one Sass compile asks for.
type sassImporter struct {
	b    *build
	from string // the stylesheet being compiled
}

func (i *sassImporter) CanonicalizeURL(url string) (string, error) {
	if rest, ok := strings.CutPrefix(url, sassScheme); ok {
		if f, ok := i.b.sassFile(rest); ok {
			return sassScheme + f, nil
		}
		return "", nil // not a package file: Dart Sass tries the URL as written next
	}
	if strings.Contains(url, ":") {
		return "", nil // sass:math and the like are Dart Sass's own
	}
	if !strings.HasPrefix(url, "~") {
		// Relative to the stylesheet being compiled: Dart Sass joins a
		// relative URL with the importing file's own URL only for files
		// this importer loaded, not for the one compiled.
		if f, ok := i.b.sassFile(path.Join(parentDir(i.from), url)); ok {
			return sassScheme + f, nil
		}
	}
	if !strings.HasPrefix(url, "~") {
		// The starter template's sassOptions.includePaths, relative to
		// the webapp folder: compass-mixins' library, then sass/.
		for _, base := range []string{"node_modules/compass-mixins/lib", "sass"} {
			if f, ok := i.b.sassFile(path.Join(i.b.res.webRoot, base, url)); ok {
				return sassScheme + f, nil
			}
		}
	}
	spec := strings.TrimPrefix(url, "~")
	// A bare name: a stylesheet of an npm package, by Sass's rules
	// inside the package directory, else as the package resolves it.
	name, sub := splitPackageName(spec)
	if name != "" {
		i.b.res.mu.Lock()
		for d := parentDir(i.from); ; d = parentDir(d) {
			if path.Base(d) != "node_modules" {
				dir := path.Join(d, "node_modules", name)
				if i.b.tree.isDir(dir) {
					if f, ok := i.b.sassFile(path.Join(dir, sub)); ok {
						i.b.res.mu.Unlock()
						return sassScheme + f, nil
					}
					if sub == "." {
						if pj := i.b.res.packageJSONAt(dir); pj != nil {
							for _, field := range []string{"sass", "style"} {
								if m, ok := pj.mainFields[field]; ok {
									if f, ok := i.b.sassFile(path.Join(dir, m)); ok {
										i.b.res.mu.Unlock()
										return sassScheme + f, nil
									}
								}
							}
						}
					}
				}
			}
			if d == "" {
				break
			}
		}
		i.b.res.mu.Unlock()
	}
	return "", fmt.Errorf("cannot resolve %q from %s: no such stylesheet in the package or its node_modules/", url, i.from)
}

func (i *sassImporter) Load(url string) (godartsass.Import, error) {
	p := strings.TrimPrefix(url, sassScheme)
	data, ok := i.b.tree.read(p)
	if !ok {
		return godartsass.Import{}, errors.New(i.b.tree.whyUnreadable(p))
	}
	i.b.mu.Lock()
	i.b.loaded[p] = true
	i.b.mu.Unlock()
	syntax := godartsass.SourceSyntaxSCSS
	switch path.Ext(p) {
	case ".sass":
		syntax = godartsass.SourceSyntaxSASS
	case ".css":
		syntax = godartsass.SourceSyntaxCSS
	}
	return godartsass.Import{Content: string(data), SourceSyntax: syntax}, nil
}

// sassFile finds the package file a Sass import of p names, by Sass's
// rules: p itself; p.scss, p.sass, p.css; the partials _p.scss, _p.sass;
// then p/index.* and p/_index.*.
func (b *build) sassFile(p string) (string, bool) {
	p, ok := cleanRel(p)
	if !ok {
		return "", false
	}
	if ext := path.Ext(p); (isSass(ext) || ext == ".css") && b.tree.isFile(p) {
		return p, true
	}
	dir, base := parentDir(p), path.Base(p)
	for _, cand := range []string{p + ".scss", p + ".sass", path.Join(dir, "_"+base+".scss"), path.Join(dir, "_"+base+".sass"), p + ".css",
		path.Join(p, "index.scss"), path.Join(p, "_index.scss"), path.Join(p, "index.sass"), path.Join(p, "_index.sass")} {
		if b.tree.isFile(cand) {
			return cand, true
		}
	}
	return "", false
}

// sassImportRef finds the URLs of @use, @forward and @import rules.
var sassImportRef = regexp.MustCompile(`@(?:use|forward|import)\s+((?:["'][^"']+["']\s*,?\s*)+)`)
var sassQuoted = regexp.MustCompile(`["']([^"']+)["']`)

// sassGraph is what a graph build (pack) makes of a stylesheet: its
// imports found by their rules and resolved as compileSass resolves them,
// every file reached counted as loaded, and no CSS. Packing then needs no
// Sass compiler on the developer's machine; the server compiles.
func (b *build) sassGraph(p, src string) api.OnLoadResult {
	seen := map[string]bool{p: true}
	queue := []string{p}
	var errs []api.Message
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		text := src
		if f != p {
			data, _ := b.tree.read(f)
			text = string(data)
		}
		imp := &sassImporter{b: b, from: f}
		for _, m := range sassImportRef.FindAllStringSubmatch(text, -1) {
			for _, q := range sassQuoted.FindAllStringSubmatch(m[1], -1) {
				u := q[1]
				if strings.HasPrefix(u, "sass:") || isRemoteURL(u) || strings.HasSuffix(u, ".css") && strings.HasPrefix(u, "http") {
					continue
				}
				c, err := imp.CanonicalizeURL(sassScheme + path.Join(parentDir(f), u))
				if c == "" && err == nil {
					c, err = imp.CanonicalizeURL(u)
				}
				if err != nil {
					errs = append(errs, api.Message{Text: err.Error()})
					continue
				}
				g := strings.TrimPrefix(c, sassScheme)
				if !seen[g] {
					seen[g] = true
					b.mu.Lock()
					b.loaded[g] = true
					b.mu.Unlock()
					queue = append(queue, g)
				}
			}
		}
		// url() in any stylesheet of the graph: Sass leaves them as
		// written, and the compiled CSS resolves them from p, so keep the
		// file they name from there (and from their own file, harmlessly).
		for _, u := range cssURLs(text) {
			for _, dir := range []string{parentDir(p), parentDir(f)} {
				if g, ok := joinRel(dir, strings.SplitN(strings.SplitN(u, "?", 2)[0], "#", 2)[0]); ok && b.tree.isFile(g) {
					b.mu.Lock()
					b.loaded[g] = true
					b.mu.Unlock()
				}
			}
		}
	}
	if len(errs) > 0 {
		return api.OnLoadResult{Errors: errs}
	}
	empty := ""
	return api.OnLoadResult{Contents: &empty, Loader: api.LoaderCSS, ResolveDir: jailDir(0)}
}

var cssURLRef = regexp.MustCompile(`url\(\s*["']?([^"')]+)["']?\s*\)`)

// cssURLs lists the relative URLs url() in a stylesheet names.
func cssURLs(text string) []string {
	var out []string
	for _, m := range cssURLRef.FindAllStringSubmatch(text, -1) {
		u := strings.TrimSpace(m[1])
		if isRemoteURL(u) || strings.HasPrefix(u, "/") || strings.HasPrefix(u, "#") || strings.Contains(u, "$") || strings.Contains(u, "#{") {
			continue
		}
		out = append(out, u)
	}
	return out
}
