package bundler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// TestBuildRuns builds each fixture plugin and executes the bundle in node,
// as the webapp (window globals, registerPlugin) or the mobile host
// (new Function with a host require) would, then compares what the plugin
// registered and rendered.
func TestBuildRuns(t *testing.T) {
	tests := []struct {
		fixture string
		target  Target
		want    string // harness output
		check   func(t *testing.T, res *Result)
	}{
		{
			fixture: "classic",
			target:  Web,
			want: `{"plugins":["com.example.classic"],"registrations":[{"method":"registerRootComponent","rendered":[
				{"tag":"h1","className":"title","children":["Hello classic"]},
				{"tag":"p","children":["classic runtime"]}]}]}`,
			check: func(t *testing.T, res *Result) {
				// tsconfig "jsx": "react" means React.createElement, no runtime.
				if !bytes.Contains(res.JS, []byte("createElement")) || bytes.Contains(res.SourceMap, []byte("jsx-runtime")) {
					t.Error("classic JSX should compile to createElement without the jsx runtime")
				}
			},
		},
		{
			fixture: "automatic",
			target:  Web,
			want: `{"plugins":["com.example.automatic"],"registrations":[{"method":"registerRootComponent","rendered":[
				{"tag":"ul","className":"list","children":[
					{"tag":"li","data-active":false,"children":["a",{"tag":"b","children":["!"]}]},
					{"tag":"li","data-active":true,"children":["b",{"tag":"b","children":["!"]}]},
					{"tag":"li","data-active":false,"children":["c",{"tag":"b","children":["!"]}]}]},
				{"tag":"span","key":"after-spread","title":"spread","children":["tail"]}]}]}`,
			check: func(t *testing.T, res *Result) {
				if !bytes.Contains(res.SourceMap, []byte(`"mmtoolkit-host/react/jsx-runtime"`)) {
					t.Error("automatic JSX should go through the jsx-runtime shim")
				}
			},
		},
		{
			fixture: "typed",
			target:  Web,
			want: `{"plugins":["com.example.typed"],"registrations":[{"method":"registerPostTypeComponent","args":["custom_typed"],"rendered":[
				{"tag":"div","className":"post-high","children":["hello"," ","2"," ","x","no props"]}]}]}`,
		},
		{
			fixture: "webpack",
			target:  Web,
			want: `{"plugins":["com.example.webpack"],"global":{"env":"production","sameGlobal":true},"registrations":[
				{"method":"registerChannelHeaderButtonAction","args":["Webpack style"]},
				{"method":"registerRootComponent","rendered":[{"tag":"span","className":"badge","children":["COM.EXAMPLE.WEBPACK@2.1.0!"]}]}]}`,
		},
		{
			fixture: "css",
			target:  Web,
			want: `{"plugins":["com.example.css"],"registrations":[{"method":"registerRootComponent","rendered":[
				{"tag":"button","className":"o","children":[{"tag":"img","src":"data:image/svg+xml,<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>%0A"},"go"]}]}],
				"styles":[{"attrs":{"data-mmtoolkit-plugin":"com.example.css"},
				"css":".mmtoolkit-css-base{margin:0}.mmtoolkit-css-plugin{color:var(--center-channel-color);background:url('data:image/svg+xml,<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>%0A') no-repeat}.o{font-weight:700}"}]}`,
			check: func(t *testing.T, res *Result) {
				if !bytes.HasPrefix(res.JS, []byte(`(()=>{if(typeof document>"u")return;`)) {
					t.Error("the CSS injection should be the bundle's first line")
				}
			},
		},
		{
			fixture: "paths",
			target:  Web,
			want: `{"plugins":["com.example.paths"],"registrations":[{"method":"registerRootComponent","rendered":[
				{"tag":"em","children":["VIA PATHS"]}]}]}`,
		},
		{
			fixture: "emotion",
			target:  Web,
			want: `{"plugins":["com.example.emotion"],"registrations":[{"method":"registerRootComponent","rendered":[
				{"tag":"h2","data-emotion":"color: hotpink","children":["styled"]}]}]}`,
		},
		{
			fixture: "deps",
			target:  Web,
			want: `{"plugins":["com.example.deps"],"registrations":[{"method":"registerRootComponent","rendered":[{"tag":"ul","children":[
				{"tag":"li","key":"tiny from browser without fs","children":["tiny from browser without fs"]},
				{"tag":"li","key":"esm module field","children":["esm module field"]},
				{"tag":"li","key":"exports import condition","children":["exports import condition"]},
				{"tag":"li","key":"exports pattern","children":["exports pattern"]}]}]}]}`,
			check: func(t *testing.T, res *Result) {
				// esm-only says "sideEffects": false: its unused module goes.
				if bytes.Contains(res.JS, []byte("UNUSED_SIDE_EFFECT")) {
					t.Error(`a module of a "sideEffects": false package was kept although unused`)
				}
			},
		},
		{
			fixture: "nested",
			target:  Web,
			want: `{"plugins":["com.example.nested"],"registrations":[{"method":"registerRootComponent","rendered":[
				{"tag":"p","children":["a uses b@2, entry uses b@1"]}]}]}`,
		},
		{
			fixture: "context",
			target:  Web,
			want: `{"plugins":["com.example.context"],"registrations":[
				{"method":"registerTranslations","translations":{"de":{"hello":"Hallo"},"fr":{"hello":"Bonjour"},
					"xx":"error: Cannot find module './i18n/xx.json'"}},
				{"method":"registerRootComponent","rendered":[{"tag":"div","className":"weather","children":["sunny"]}]},
				{"method":"registerRightHandSidebarComponent","args":["missing"],"rendered":[{"tag":"i","children":["MODULE_NOT_FOUND"]}]}]}`,
			check: func(t *testing.T, res *Result) {
				// Both panels are in the bundle (either may be asked for);
				// the README next to the translations is not.
				for _, f := range []string{"webapp/src/panels/news.jsx", "webapp/src/panels/weather.jsx", "webapp/src/i18n/de.json"} {
					if !slices.Contains(res.Inputs, f) {
						t.Errorf("Inputs lack %s: %q", f, res.Inputs)
					}
				}
				if slices.Contains(res.Inputs, "webapp/src/i18n/README.md") {
					t.Error("the context import pulled in README.md")
				}
			},
		},
		{
			fixture: "mobile",
			target:  Mobile,
			want: `{"plugins":["(module.exports.default)"],"registrations":[{"method":"registerPostTypeComponent","args":["custom_mobile"],"rendered":[
				{"tag":"View","children":[{"tag":"Text","children":["> hello"]}]}]}]}`,
			check: func(t *testing.T, res *Result) {
				for _, s := range []string{"?.", "??", "window"} {
					if bytes.Contains(res.JS, []byte(s)) {
						t.Errorf("mobile bundle contains %q; want ES2019 for Hermes and no browser globals", s)
					}
				}
				for _, m := range []string{`require("react-native")`, `require("react/jsx-runtime")`} {
					if !bytes.Contains(res.JS, []byte(m)) {
						t.Errorf("mobile bundle lacks %s", m)
					}
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			res := mustBuild(t, loadFixture(t, tc.fixture), tc.target)
			if res.Target != tc.target {
				t.Errorf("Result.Target = %s, want %s", res.Target, tc.target)
			}
			if len(res.Warnings) > 0 {
				t.Errorf("unexpected warnings: %v", res.Warnings)
			}
			if tc.check != nil {
				tc.check(t, res)
			}
			mode := "web"
			if tc.target == Mobile {
				mode = "mobile"
			}
			got := canonicalJSON(t, runBundle(t, mode, res.JS))
			if want := canonicalJSON(t, tc.want); got != want {
				t.Errorf("the bundle rendered something else (-want +got):\n%s", diffLines(want, got))
			}
		})
	}
}

// TestHostModulesAndInputs pins what a build reports about its imports.
func TestHostModulesAndInputs(t *testing.T) {
	tests := []struct {
		fixture    string
		target     Target
		hosts      []string
		inputs     []string
		notInInput []string
	}{
		{
			fixture: "webpack", target: Web,
			hosts:  []string{"prop-types", "react", "react-redux"},
			inputs: []string{"plugin.json", "webapp/package.json", "webapp/src/index.js", "webapp/src/legacy.js"},
		},
		{
			fixture: "deps", target: Web,
			hosts: []string{"react"},
			inputs: []string{
				"node_modules/@scope/multi/dist/extra.js", "node_modules/@scope/multi/dist/feature.mjs", "node_modules/@scope/multi/package.json",
				"node_modules/esm-only/dist/index.mjs", "node_modules/esm-only/dist/unused.mjs", "node_modules/esm-only/dist/used.mjs", "node_modules/esm-only/package.json",
				// lib/node.js is not loaded, but the "browser" map that
				// swaps it for lib/browser.js applies only once the
				// resolver has found it: a packed package needs it.
				"node_modules/tiny/LICENSE", "node_modules/tiny/lib/browser.js", "node_modules/tiny/lib/index.js", "node_modules/tiny/lib/node.js",
				"node_modules/tiny/package.json",
				"webapp/index.tsx",
			},
			notInInput: []string{"node_modules/tiny/README.md", "node_modules/@scope/multi/dist/feature.cjs"},
		},
		{
			fixture: "paths", target: Web,
			hosts: []string{"react"},
			inputs: []string{"tsconfig.base.json", "tsconfig.json", "webapp/src/components/foo.tsx", "webapp/src/index.tsx",
				"webapp/src/utils/config.ts", "webapp/src/utils/strings.ts"},
		},
		{
			fixture: "classic", target: Web,
			hosts:  []string{"react"},
			inputs: []string{"tsconfig.json", "webapp/index.tsx"},
		},
		{
			fixture: "mobile", target: Mobile,
			hosts:  []string{"react-native", "react/jsx-runtime"},
			inputs: []string{"mobile/index.tsx"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			res := mustBuild(t, loadFixture(t, tc.fixture), tc.target)
			if !reflect.DeepEqual(res.HostModules, tc.hosts) {
				t.Errorf("HostModules = %q, want %q", res.HostModules, tc.hosts)
			}
			if !reflect.DeepEqual(res.Inputs, tc.inputs) {
				t.Errorf("Inputs = %q, want %q", res.Inputs, tc.inputs)
			}
		})
	}
}

// TestHostModuleBeatsNodeModules: a plugin that carries react in
// node_modules (as every plugin repository does, for its tests) still uses
// the host's, or there would be two Reacts on the page.
func TestHostModuleBeatsNodeModules(t *testing.T) {
	pkg := memPackage("index.jsx", "", map[string]string{
		"index.jsx":                         "import React from 'react';\nimport {createRoot} from 'react-dom/client';\nwindow.registerPlugin('x', {initialize(r) { r.registerRootComponent(() => <p>{typeof createRoot}</p>); }});\n",
		"node_modules/react/package.json":   `{"main": "index.js"}`,
		"node_modules/react/index.js":       "throw new Error('bundled react');",
		"node_modules/react-dom/client.js":  "throw new Error('bundled react-dom');",
		"node_modules/react-dom/index.js":   "throw new Error('bundled react-dom');",
		"node_modules/react/jsx-runtime.js": "throw new Error('bundled jsx-runtime');",
	})
	res := mustBuild(t, pkg, Web)
	if want := []string{"index.jsx"}; !reflect.DeepEqual(res.Inputs, want) {
		t.Errorf("Inputs = %q, want %q", res.Inputs, want)
	}
	if want := []string{"react", "react-dom/client"}; !reflect.DeepEqual(res.HostModules, want) {
		t.Errorf("HostModules = %q, want %q", res.HostModules, want)
	}
	if !bytes.Contains(res.JS, []byte("window.ReactDOM")) || !bytes.Contains(res.JS, []byte("window.React")) {
		t.Errorf("bundle does not read the host globals:\n%s", res.JS)
	}
}

// TestDeterministic: the same package gives byte-identical bundles and
// maps, also when built concurrently; bundle hashes are content addresses.
func TestDeterministic(t *testing.T) {
	fixtures := []struct {
		name   string
		target Target
	}{{"css", Web}, {"deps", Web}, {"webpack", Web}, {"paths", Web}, {"mobile", Mobile}}
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			pkg := loadFixture(t, f.name)
			first := mustBuild(t, pkg, f.target)
			const n = 6
			results := make([]*Result, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i], _ = Build(pkg, f.target)
				}()
			}
			wg.Wait()
			for i, r := range results {
				if r == nil {
					t.Fatalf("concurrent build %d failed", i)
				}
				if !bytes.Equal(r.JS, first.JS) || !bytes.Equal(r.SourceMap, first.SourceMap) {
					t.Fatalf("build %d differs from the first build", i)
				}
				if !reflect.DeepEqual(r.Inputs, first.Inputs) || !reflect.DeepEqual(r.HostModules, first.HostModules) {
					t.Fatalf("build %d reports other inputs or host modules", i)
				}
			}
		})
	}
}

// TestSourceMap checks what devtools rely on: package-relative sources with
// their content, a sourceMappingURL naming the map's key, and mappings
// that still point at the right line after the CSS injection line.
func TestSourceMap(t *testing.T) {
	pkg := loadFixture(t, "css")
	res := mustBuild(t, pkg, Web)

	var m struct {
		Version        int      `json:"version"`
		Sources        []string `json:"sources"`
		SourcesContent []string `json:"sourcesContent"`
		Mappings       string   `json:"mappings"`
	}
	if err := json.Unmarshal(res.SourceMap, &m); err != nil {
		t.Fatalf("source map is not JSON: %v", err)
	}
	if m.Version != 3 || len(m.Sources) != len(m.SourcesContent) {
		t.Fatalf("version %d, %d sources, %d contents", m.Version, len(m.Sources), len(m.SourcesContent))
	}
	idx := -1
	for i, s := range m.Sources {
		if strings.Contains(s, ":") || strings.HasPrefix(s, "/") {
			t.Errorf("source %q is not package-relative", s)
		}
		if s == "webapp/index.tsx" {
			idx = i
			if m.SourcesContent[i] != string(pkg.Files["webapp/index.tsx"]) {
				t.Error("sourcesContent of webapp/index.tsx is not the file")
			}
		}
	}
	if idx < 0 {
		t.Fatalf("webapp/index.tsx missing from sources %q", m.Sources)
	}

	if len(res.SourceMapKey) != 64 || strings.Trim(res.SourceMapKey, "0123456789abcdef") != "" {
		t.Errorf("SourceMapKey %q is not 64 hex digits", res.SourceMapKey)
	}
	wantTail := "\n//# sourceMappingURL=" + res.SourceMapKey + ".map\n"
	if !bytes.HasSuffix(res.JS, []byte(wantTail)) {
		t.Errorf("bundle does not end with %q", wantTail)
	}

	// The generated position of the "go" literal must map back to line 5 of
	// webapp/index.tsx, which holds it.
	genLine, genCol := findGenerated(t, res.JS, `"go"`)
	src, line, _, ok := lookupMapping(t, m.Mappings, genLine, genCol)
	if !ok || src != idx || line != 4 {
		t.Errorf(`"go" at generated %d:%d maps to source %d line %d (ok=%v), want %d line 4 (0-based)`, genLine, genCol, src, line, ok, idx)
	}
}

func findGenerated(t *testing.T, js []byte, needle string) (line, col int) {
	t.Helper()
	for i, l := range strings.Split(string(js), "\n") {
		if c := strings.Index(l, needle); c >= 0 {
			return i, c
		}
	}
	t.Fatalf("%s not in bundle", needle)
	return 0, 0
}

// lookupMapping decodes source map VLQ mappings and returns the segment
// covering generated line:col (0-based).
func lookupMapping(t *testing.T, mappings string, genLine, genCol int) (src, line, col int, ok bool) {
	t.Helper()
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var s, l, c int
	for li, lineStr := range strings.Split(mappings, ";") {
		gc := 0
		for _, seg := range strings.Split(lineStr, ",") {
			if seg == "" {
				continue
			}
			var fields []int
			for i := 0; i < len(seg); {
				v, shift := 0, 0
				for {
					d := strings.IndexByte(b64, seg[i])
					i++
					v |= (d & 31) << shift
					shift += 5
					if d&32 == 0 {
						break
					}
				}
				if v&1 == 1 {
					v = -(v >> 1)
				} else {
					v >>= 1
				}
				fields = append(fields, v)
			}
			gc += fields[0]
			if len(fields) >= 4 {
				s, l, c = s+fields[1], l+fields[2], c+fields[3]
			}
			if li == genLine && gc <= genCol {
				src, line, col, ok = s, l, c, true
			}
		}
		if li == genLine {
			return
		}
	}
	return
}

// TestBuildErrorsGolden compiles broken plugins and compares the
// diagnostics, as `mmtoolkit push` prints them, with
// testdata/golden/<name>.txt. UPDATE_GOLDEN=1 rewrites the files.
func TestBuildErrorsGolden(t *testing.T) {
	tests := []struct {
		name   string
		target Target
		pkg    *pluginpkg.Package
	}{
		{"unresolved-package", Web, memPackage("webapp/index.tsx", "", map[string]string{
			"webapp/index.tsx": "import React from 'react';\n\nimport {debounce} from 'lodash';\n\nexport default debounce;\n",
		})},
		{"unresolved-in-node-modules", Web, memPackage("index.ts", "", map[string]string{
			"index.ts":                       "import pad from 'pads';\nconsole.log(pad('x'));\n",
			"node_modules/pads/package.json": `{"main": "lib/pad.js"}`,
			"node_modules/pads/lib/pad.js":   "module.exports = require('left-pad');\n",
		})},
		{"unresolved-relative", Web, memPackage("webapp/index.tsx", "", map[string]string{
			"webapp/index.tsx": "import {a} from './components/missing';\nconsole.log(a);\n",
		})},
		{"two-errors", Web, memPackage("index.ts", "", map[string]string{
			"index.ts": "import 'moment';\nimport './b';\n",
			"b.ts":     "export const b = require('uuid');\n",
		})},
		{"syntax-error", Web, memPackage("webapp/index.tsx", "", map[string]string{
			"webapp/index.tsx": "import {x} from './x';\nconsole.log(x);\n",
			"webapp/x.ts":      "export const x = 1;\nexport const y = ;\n",
		})},
		{"unclosed-jsx", Web, memPackage("webapp/index.tsx", "", map[string]string{
			"webapp/index.tsx": "const A = () => (\n    <div>\n        <span>hi</span>\n);\nexport default A;\n",
		})},
		{"node-builtin", Web, memPackage("webapp/index.tsx", "", map[string]string{
			"webapp/index.tsx": "import fs from 'fs';\nimport {readFile} from 'node:fs/promises';\nimport path from 'path';\nconsole.log(fs, readFile, path);\n",
		})},
		{"absolute-path", Web, memPackage("webapp/index.tsx", "", map[string]string{
			"webapp/index.tsx": "import secrets from '/etc/passwd';\nimport up from '../../outside';\nconsole.log(secrets, up);\n",
		})},
		{"not-exported", Web, memPackage("index.js", "", map[string]string{
			"index.js":                        "import x from 'multi/internal/secret';\nconsole.log(x);\n",
			"node_modules/multi/package.json": `{"exports": {".": "./index.js", "./internal/*": null}}`,
			"node_modules/multi/index.js":     "export default 1;\n",
		})},
		{"missing-export", Web, memPackage("index.ts", "", map[string]string{
			"index.ts": "import {nope} from './a';\nconsole.log(nope);\n",
			"a.ts":     "export const yes = 1;\n",
		})},
		{"less", Web, memPackage("index.tsx", "", map[string]string{
			"index.tsx":  "import './style.less';\n",
			"style.less": "@c: red; .a { color: @c; }\n",
		})},
		{"missing-entry", Web, memPackage("webapp/nope.tsx", "", map[string]string{
			"webapp/index.tsx": "export {};\n",
		})},
		{"bad-tsconfig", Web, memPackage("index.ts", "", map[string]string{
			"index.ts":      "export {};\n",
			"tsconfig.json": "{\n  // comment\n  \"compilerOptions\": {\n    \"jsx\": \"react\"\n    \"strict\": true\n  }\n}\n",
		})},
		{"mobile-web-only-module", Mobile, memPackage("", "mobile/index.tsx", map[string]string{
			"mobile/index.tsx": "import {createPortal} from 'react-dom';\nexport default createPortal;\n",
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ce := compileError(t, tc.pkg, tc.target)
			var b strings.Builder
			for _, d := range ce.Diagnostics {
				b.WriteString(d.String())
				b.WriteString("\n")
			}
			checkGolden(t, filepath.Join("testdata", "golden", tc.name+".txt"), b.String())
		})
	}
}

func checkGolden(t *testing.T, file, got string) {
	t.Helper()
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (-want +got; UPDATE_GOLDEN=1 rewrites it):\n%s", file, diffLines(string(want), got))
	}
}

// TestDiagnosticLocation pins the structured fields the HTTP API returns
// for the two commonest mistakes.
func TestDiagnosticLocation(t *testing.T) {
	tests := []struct {
		name   string
		pkg    *pluginpkg.Package
		want   Diagnostic
		prefix bool // want.Text is a prefix of the text
	}{
		{
			name: "unresolved import",
			pkg: memPackage("webapp/index.tsx", "", map[string]string{
				"webapp/index.tsx": "import React from 'react';\n\nimport {debounce} from 'lodash';\n\nexport default debounce(() => React, 1);\n",
			}),
			want: Diagnostic{File: "webapp/index.tsx", Line: 3, Column: 23,
				Text: `cannot resolve "lodash": not in the package's node_modules/ and not a host module (react, react/jsx-runtime, react-dom, react-dom/client, redux, react-redux, prop-types, react-intl, react-router-dom, react-bootstrap, luxon)`},
		},
		{
			name: "syntax error",
			pkg: memPackage("webapp/index.tsx", "", map[string]string{
				"webapp/index.tsx": "import {x} from './x';\nconsole.log(x);\n",
				"webapp/x.ts":      "export const x = 1;\nexport const y = ;\n",
			}),
			want:   Diagnostic{File: "webapp/x.ts", Line: 2, Column: 17, Text: `Unexpected ";"`},
			prefix: true,
		},
		{
			name: "node built-in",
			pkg: memPackage("a.ts", "", map[string]string{
				"a.ts": "import fs from 'fs';\nfs.readFileSync('/etc/passwd');\n",
			}),
			want:   Diagnostic{File: "a.ts", Line: 1, Column: 15, Text: `cannot import "fs": it is a Node.js built-in module`},
			prefix: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ce := compileError(t, tc.pkg, Web)
			if len(ce.Diagnostics) != 1 {
				t.Fatalf("got %d diagnostics, want 1: %v", len(ce.Diagnostics), ce.Diagnostics)
			}
			d := ce.Diagnostics[0]
			if tc.prefix && strings.HasPrefix(d.Text, tc.want.Text) {
				d.Text = tc.want.Text
			}
			if d != tc.want {
				t.Errorf("diagnostic\n got %#v\nwant %#v", d, tc.want)
			}
		})
	}
}

func TestNoEntry(t *testing.T) {
	webOnly := memPackage("index.js", "", map[string]string{"index.js": "export {};\n"})
	if _, err := Build(webOnly, Mobile); !errors.Is(err, ErrNoEntry) {
		t.Errorf("mobile build of a web-only plugin: err = %v, want ErrNoEntry", err)
	}
	prebuilt := memPackage("", "", map[string]string{"main.js": "window.registerPlugin('x', {});\n"})
	prebuilt.Manifest.Webapp = &pluginpkg.Webapp{BundlePath: "main.js"}
	if _, err := Build(prebuilt, Web); !errors.Is(err, ErrNoEntry) {
		t.Errorf("web build of a prebuilt bundle: err = %v, want ErrNoEntry", err)
	}
	if _, err := Inputs(prebuilt); !errors.Is(err, ErrNoEntry) {
		t.Errorf("Inputs of a prebuilt bundle: err = %v, want ErrNoEntry", err)
	}
}

func TestInputsUnion(t *testing.T) {
	pkg := memPackage("webapp/index.tsx", "mobile/index.tsx", map[string]string{
		"webapp/index.tsx": "import {label} from '../shared/label';\nimport './style.css';\nexport default label;\n",
		"webapp/style.css": ".a{color:red}\n",
		"mobile/index.tsx": "import {label} from '../shared/label';\nimport {Text} from 'react-native';\nexport default () => <Text>{label}</Text>;\n",
		"shared/label.ts":  "export const label = 'shared';\n",
		"unused.ts":        "export const nobody = 1;\n",
		"README.md":        "# not code\n",
	})
	got, err := Inputs(pkg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"mobile/index.tsx", "shared/label.ts", "webapp/index.tsx", "webapp/style.css"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Inputs = %q, want %q", got, want)
	}
}

// TestMobileCSSWarns: CSS means nothing to React Native; a shared file that
// imports it still builds, with a warning saying the CSS was left out.
func TestMobileCSSWarns(t *testing.T) {
	pkg := memPackage("", "index.tsx", map[string]string{
		"index.tsx": "import './style.css';\nexport default {};\n",
		"style.css": ".a{color:red}\n",
	})
	res := mustBuild(t, pkg, Mobile)
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Text, "CSS has no effect in a mobile bundle") {
		t.Fatalf("warnings = %v", res.Warnings)
	}
	if bytes.Contains(res.JS, []byte("color")) {
		t.Error("CSS reached the mobile bundle")
	}
}

// TestWarningsAreDiagnostics: esbuild's warnings come back located in the
// plugin's files.
func TestWarningsAreDiagnostics(t *testing.T) {
	pkg := memPackage("index.ts", "", map[string]string{
		"index.ts": "export const o = {\n  a: 1,\n  a: 2,\n};\n",
	})
	res := mustBuild(t, pkg, Web)
	if len(res.Warnings) == 0 {
		t.Fatal("want a warning")
	}
	for _, w := range res.Warnings {
		if w.File != "index.ts" || w.Line == 0 {
			t.Errorf("warning not located in index.ts: %#v", w)
		}
	}
}

// TestUnknownFileIsNeverRead: specifiers that name things outside the
// package never reach the disk, even when the disk has them.
func TestUnknownFileIsNeverRead(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.js")
	if err := os.WriteFile(secret, []byte("export default 'leaked';\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pkg := memPackage("index.js", "", map[string]string{
		"index.js": fmt.Sprintf("import s from %q;\nconsole.log(s);\n", secret),
	})
	ce := compileError(t, pkg, Web)
	if !regexp.MustCompile(`absolute paths are not allowed`).MatchString(ce.Error()) {
		t.Errorf("error = %v", ce)
	}
}

// TestBigJSON: a large .json module (moment-timezone's data is 700 KB)
// works through default, named and require() access, keeps characters that
// need escaping in a script, and invalid JSON is reported where it breaks.
func TestBigJSON(t *testing.T) {
	var zones strings.Builder
	zones.WriteString("{\n  \"version\": \"2026a\",\n  \"zones\": [\n")
	for i := range 1500 {
		if i > 0 {
			zones.WriteString(",\n")
		}
		fmt.Fprintf(&zones, "    {\"name\": \"Zone/%d\", \"offset\": %d, \"note\": \"line\\u2028sep </script>\"}", i, i%24)
	}
	zones.WriteString("\n  ]\n}\n")
	pkg := memPackage("index.jsx", "", map[string]string{
		"index.jsx": `import data from './zones.json';
import {version} from './zones.json';
const again = require('./zones.json');
window.registerPlugin('com.example.json', {
    initialize(registry) {
        registry.registerRootComponent(() => <p title={data.zones[1499].note}>{version + ' ' + again.zones.length + ' ' + (again === data)}</p>);
    },
});
`,
		"zones.json": zones.String(),
	})
	res := mustBuild(t, pkg, Web)
	got := canonicalJSON(t, runBundle(t, "web", res.JS))
	want := canonicalJSON(t, `{"plugins":["com.example.json"],"registrations":[{"method":"registerRootComponent",
		"rendered":[{"tag":"p","title":"line\u2028sep </script>","children":["2026a 1500 true"]}]}]}`)
	if got != want {
		t.Errorf("(-want +got):\n%s", diffLines(want, got))
	}

	pkg.Files["zones.json"] = []byte(strings.Replace(zones.String(), `"offset": 7,`, `"offset": 7,,`, 1))
	ce := compileError(t, pkg, Web)
	if d := ce.Diagnostics[0]; d.File != "zones.json" || d.Line != 11 {
		t.Errorf("diagnostic for invalid JSON: %v", d)
	}
}

// TestInvalidUTF8: a source that is not UTF-8 (a Latin-1 file in an old
// npm package) builds, as with webpack, instead of hanging esbuild.
func TestInvalidUTF8(t *testing.T) {
	pkg := memPackage("index.js", "", map[string]string{
		"index.js":  "import './latin1';\nwindow.x = \"caf\xe9 \xf5\xf5\";\n",
		"latin1.js": "// \xa9 1999 Somebody\nwindow.y = 1;\n",
	})
	done := make(chan error, 1)
	go func() {
		_, err := Build(pkg, Web)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Build hangs on invalid UTF-8")
	}
}
