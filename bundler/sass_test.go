package bundler

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// needSass skips without Dart Sass (`make sass`), except under CI=true,
// where a missing tool is a failure.
func needSass(t *testing.T) {
	t.Helper()
	if _, err := FindSass(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

var sassFiles = map[string]string{
	"webapp/index.tsx":                    "import './styles/main.scss';\nimport './plain.css';\n(window as any).registerPlugin('com.example.sass', {});\n",
	"webapp/plain.css":                    ".plain{color:red}",
	"webapp/styles/main.scss":             "@use 'vars';\n@import '~pkg-theme/theme';\n@font-face { font-family: Repo; src: url(./fonts/repo.woff2) format('woff2'); }\n.root { color: vars.$brand; background: url(../logo.png); .child { margin: vars.$gap * 2; } }\n",
	"webapp/styles/_vars.scss":            "$brand: #123456;\n$gap: 3px;\n",
	"webapp/styles/fonts/repo.woff2":      "wOF2",
	"webapp/logo.png":                     "\x89PNG\r\n\x1a\n",
	"webapp/styles/unused.scss":           ".unused{color:blue}",
	"node_modules/pkg-theme/package.json": `{"name":"pkg-theme","version":"1.0.0"}`,
	"node_modules/pkg-theme/_theme.scss":  ".theme { padding: 1px; }\n",
}

// TestSassCompiles: SCSS imports compile on the server through Dart Sass,
// with partials, @use namespaces, nesting and ~package imports, and the
// url()s of the result (images, fonts) inlined like a CSS file's.
func TestSassCompiles(t *testing.T) {
	needSass(t)
	pkg := memPackage("webapp/index.tsx", "", sassFiles)
	pkg.Manifest.ID = "com.example.sass"
	res, err := Build(pkg, Web)
	if err != nil {
		t.Fatal(err)
	}
	js := string(res.JS)
	for _, s := range []string{"#123456", ".root .child", "margin:6px", ".theme{padding:1px}", "data:image/png;base64,", "data:font/woff2", ".plain{"} {
		if !strings.Contains(js, s) {
			t.Errorf("bundle lacks %q:\n%.600s", s, js)
		}
	}
	for _, f := range []string{"webapp/styles/_vars.scss", "node_modules/pkg-theme/_theme.scss", "webapp/styles/main.scss"} {
		if !slices.Contains(res.Inputs, f) {
			t.Errorf("inputs lack %s: %q", f, res.Inputs)
		}
	}
}

// TestSassDiagnostic: a Sass error is a diagnostic at the stylesheet's
// file, line and column.
func TestSassDiagnostic(t *testing.T) {
	needSass(t)
	pkg := memPackage("webapp/index.tsx", "", map[string]string{
		"webapp/index.tsx": "import './a.scss';\n",
		"webapp/a.scss":    "@use 'b';\n.x { color: red; }\n",
		"webapp/_b.scss":   "\n.y {\n  color: $missing;\n}\n",
	})
	_, err := Build(pkg, Web)
	var ce *CompileError
	if !errors.As(err, &ce) || len(ce.Diagnostics) == 0 {
		t.Fatalf("err = %v", err)
	}
	d := ce.Diagnostics[0]
	if d.File != "webapp/_b.scss" || d.Line != 3 || !strings.Contains(d.Text, "Undefined variable") {
		t.Errorf("diagnostic %+v", d)
	}
}

// TestSassPackGraph: packing finds the stylesheets SCSS imports and the
// files its url()s name without running Sass, so `mmtoolkit pack` works on
// a machine without it.
func TestSassPackGraph(t *testing.T) {
	t.Setenv("MMTOOLKIT_SASS", "/nonexistent/sass") // would fail if called
	pkg := memPackage("webapp/index.tsx", "", sassFiles)
	got, err := PackFiles(pkg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"webapp/styles/main.scss", "webapp/styles/_vars.scss", "node_modules/pkg-theme/_theme.scss",
		"node_modules/pkg-theme/package.json", "webapp/styles/fonts/repo.woff2", "webapp/logo.png", "webapp/plain.css"} {
		if !slices.Contains(got, f) {
			t.Errorf("pack lacks %s: %q", f, got)
		}
	}
	if slices.Contains(got, "webapp/styles/unused.scss") {
		t.Error("pack keeps a stylesheet nothing imports")
	}
}

// FuzzSassGraph: whatever a stylesheet holds, packing finds its imports
// without panicking and keeps only files of the package.
func FuzzSassGraph(f *testing.F) {
	f.Add("@use 'vars';\n@import '~pkg-theme/theme', 'b';\n.a { background: url(../logo.png) }\n")
	f.Add("@forward \"x\" show y;\n@use 'sass:math';\n.a{b:url( 'x?y#z' )}")
	f.Add("@import '../../../../etc/passwd';\n@use '\x00';")
	f.Fuzz(func(t *testing.T, scss string) {
		files := map[string]string{
			"webapp/index.tsx":                   "import './a.scss';\n",
			"webapp/a.scss":                      scss,
			"webapp/_vars.scss":                  "$x: 1;\n",
			"webapp/b.scss":                      ".b{}",
			"logo.png":                           "\x89PNG\r\n\x1a\n",
			"node_modules/pkg-theme/_theme.scss": ".t{}",
		}
		pkg := memPackage("webapp/index.tsx", "", files)
		got, err := PackFiles(pkg)
		if err != nil {
			return // a diagnostic is fine
		}
		for _, p := range got {
			if _, ok := pkg.Files[p]; !ok {
				t.Fatalf("packed %q, not a file of the package", p)
			}
		}
	})
}

// TestSassIncludePaths: the starter template's sass-loader includePaths
// (node_modules/compass-mixins/lib and sass/, from the webapp folder) serve
// imports nothing else resolves, as Mattermost plugins' `@import
// 'compass/css3'` expects.
func TestSassIncludePaths(t *testing.T) {
	needSass(t)
	pkg := memPackage("webapp/src/index.tsx", "", map[string]string{
		"webapp/package.json":  `{"private":true}`,
		"webapp/src/index.tsx": "import './a.scss';\n",
		"webapp/src/a.scss":    "@import 'compass/css3';\n@import 'colors';\n.a { @include rounded(4px); color: $c; }\n",
		"webapp/node_modules/compass-mixins/lib/compass/_css3.scss": "@mixin rounded($r) { border-radius: $r; }\n",
		"webapp/sass/_colors.scss":                                  "$c: #abcdef;\n",
	})
	res, err := Build(pkg, Web)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.JS), "border-radius:4px") || !strings.Contains(string(res.JS), "#abcdef") {
		t.Errorf("bundle:\n%s", res.JS)
	}
}

// TestSassEndlessLoop: a stylesheet that never finishes compiling is a
// diagnostic after sassTimeout, and the next stylesheet compiles (on a new
// Dart Sass process: the old one, spinning, is stopped).
func TestSassEndlessLoop(t *testing.T) {
	needSass(t)
	old := sassTimeout
	sassTimeout = 2 * time.Second
	sassProc.mu.Lock()
	if sassProc.t != nil { // started with the old timeout
		go sassProc.t.Close()
		sassProc.t = nil
	}
	sassProc.mu.Unlock()
	t.Cleanup(func() { sassTimeout = old })
	_, err := Build(memPackage("index.ts", "", map[string]string{
		"index.ts":  "import './loop.scss';\n",
		"loop.scss": "$i: 0;\n@while $i >= 0 { $i: $i + 1; }\n",
	}), Web)
	var ce *CompileError
	if !errors.As(err, &ce) || !strings.Contains(ce.Error(), "still running") {
		t.Fatalf("err = %v", err)
	}
	res, err := Build(memPackage("index.ts", "", map[string]string{
		"index.ts": "import './ok.scss';\n",
		"ok.scss":  "$c: #0a0b0c;\n.ok { color: $c; }\n",
	}), Web)
	if err != nil || !strings.Contains(string(res.JS), "#0a0b0c") {
		t.Fatalf("after the timeout: %v", err)
	}
}

// TestSassStaysInPackage: a stylesheet cannot import the server's files:
// Dart Sass gets no load paths and no file importer, only the package.
func TestSassStaysInPackage(t *testing.T) {
	needSass(t)
	for _, imp := range []string{"@import 'file:///etc/hostname';", "@import '/etc/hostname';", "@import '../../../../../../etc/hostname';",
		"@use 'sass:meta';\n.y { @include meta.load-css('file:///etc/hostname'); }"} {
		_, err := Build(memPackage("index.ts", "", map[string]string{
			"index.ts": "import './a.scss';\n",
			"a.scss":   imp + "\n.x{color:red}",
		}), Web)
		var ce *CompileError
		if !errors.As(err, &ce) {
			t.Errorf("%s: err = %v, want a compile error", imp, err)
		}
	}
}
