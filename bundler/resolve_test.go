package bundler

import (
	"encoding/json"
	"strings"
	"testing"
)

// resolveTree is one package exercising Node's resolution rules; each case
// below resolves one specifier in it.
var resolveTree = map[string]string{
	"tsconfig.json":             `{"compilerOptions": {"baseUrl": "src", "paths": {"@app/*": ["app/*", "fallback/*"], "exact": ["app/exact.ts"]}}}`,
	"src/index.tsx":             "",
	"src/util.ts":               "",
	"src/esm.ts":                "",
	"src/dir/index.ts":          "",
	"src/withpkg/package.json":  `{"main": "./lib/main.js"}`,
	"src/withpkg/lib/main.js":   "",
	"src/app/exact.ts":          "",
	"src/app/thing.tsx":         "",
	"src/fallback/other.ts":     "",
	"src/components/button.tsx": "",
	"src/style.css":             "",
	"src/local.css":             "",
	"src/img/a.png":             "",
	"package.json":              `{"name": "plugin", "imports": {"#internal/*": "./src/app/*.tsx", "#dep": "cond"}}`,
	"node_modules/cond/package.json": `{"name": "cond", "exports": {
		".": {"react-native": "./rn.js", "browser": {"import": "./browser.mjs", "require": "./browser.cjs"}, "default": "./node.js"},
		"./sub/*.js": "./lib/*.js",
		"./sub/private/*": null,
		"./styles.css": {"style": "./dist/styles.css"},
		"./package.json": "./package.json"}}`,
	"node_modules/cond/rn.js":                       "",
	"node_modules/cond/browser.mjs":                 "",
	"node_modules/cond/browser.cjs":                 "",
	"node_modules/cond/node.js":                     "",
	"node_modules/cond/lib/a.js":                    "",
	"node_modules/cond/dist/styles.css":             "",
	"node_modules/fields/package.json":              `{"main": "main.js", "module": "module.js", "react-native": "rn.js"}`,
	"node_modules/fields/main.js":                   "",
	"node_modules/fields/module.js":                 "",
	"node_modules/fields/rn.js":                     "",
	"node_modules/plain/index.js":                   "",
	"node_modules/plain/deep/file.js":               "",
	"node_modules/single.js":                        "",
	"node_modules/@sc/pkg/package.json":             `{"main": "dist"}`,
	"node_modules/@sc/pkg/dist/index.js":            "",
	"node_modules/events/package.json":              `{"main": "events.js"}`,
	"node_modules/events/events.js":                 "",
	"node_modules/swap/package.json":                `{"main": "index.js", "browser": {"./server.js": "./client.js", "crypto": false, "stream": "readable-stream"}, "sideEffects": ["*.css", "./polyfill.js"]}`,
	"node_modules/swap/index.js":                    "",
	"node_modules/swap/server.js":                   "",
	"node_modules/swap/client.js":                   "",
	"node_modules/swap/polyfill.js":                 "",
	"node_modules/swap/x.css":                       "",
	"node_modules/readable-stream/index.js":         "",
	"node_modules/bootstrap/dist/css/bootstrap.css": "",
}

func TestResolve(t *testing.T) {
	files := map[string][]byte{}
	for k, v := range resolveTree {
		files[k] = []byte(v)
	}
	tree := newFileTree(files)
	ts, err := loadTSConfig(tree, "src/index.tsx")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		target   Target
		importer string
		spec     string
		kind     importKind
		want     string // "ns:path", "external:path" or "error:substring"
	}{
		{"relative with extension probing", Web, "src/index.tsx", "./util", kindImport, "pkg:src/util.ts"},
		{"relative exact", Web, "src/index.tsx", "./util.ts", kindImport, "pkg:src/util.ts"},
		{"TypeScript .js spelling", Web, "src/index.tsx", "./esm.js", kindImport, "pkg:src/esm.ts"},
		{"directory index", Web, "src/index.tsx", "./dir", kindImport, "pkg:src/dir/index.ts"},
		{"directory package.json main", Web, "src/index.tsx", "./withpkg", kindImport, "pkg:src/withpkg/lib/main.js"},
		{"parent directory", Web, "src/dir/index.ts", "../util", kindImport, "pkg:src/util.ts"},
		{"missing relative", Web, "src/index.tsx", "./nope", kindImport, "error:cannot resolve \"./nope\""},
		{"outside the package", Web, "src/index.tsx", "../../x", kindImport, "error:outside the package"},
		{"absolute path", Web, "src/index.tsx", "/etc/passwd", kindImport, "error:absolute paths"},
		{"windows absolute path", Web, "src/index.tsx", `C:\x.js`, kindImport, "error:absolute paths"},
		{"remote URL", Web, "src/index.tsx", "https://cdn.example.com/x.js", kindImport, "error:URLs"},
		{"tsconfig paths exact", Web, "src/index.tsx", "exact", kindImport, "pkg:src/app/exact.ts"},
		{"tsconfig paths pattern", Web, "src/index.tsx", "@app/thing", kindImport, "pkg:src/app/thing.tsx"},
		{"tsconfig paths second target", Web, "src/index.tsx", "@app/other", kindImport, "pkg:src/fallback/other.ts"},
		{"tsconfig baseUrl", Web, "src/index.tsx", "components/button", kindImport, "pkg:src/components/button.tsx"},
		{"no tsconfig paths for npm code", Web, "node_modules/plain/index.js", "components/button", kindImport, "error:cannot resolve \"components/button\""},
		{"host module", Web, "src/index.tsx", "react", kindImport, "host:react"},
		{"host module subpath", Web, "src/index.tsx", "react-dom/client", kindImport, "host:react-dom/client"},
		{"jsx runtime shim", Web, "src/index.tsx", "react/jsx-runtime", kindImport, "host:react/jsx-runtime"},
		{"host module from npm code", Web, "node_modules/plain/index.js", "redux", kindRequire, "host:redux"},
		{"mobile host module", Mobile, "src/index.tsx", "react-native", kindImport, "external:react-native"},
		{"mobile react-native subpath", Mobile, "src/index.tsx", "react-native/Libraries/Image/resolveAssetSource", kindImport, "external:react-native/Libraries/Image/resolveAssetSource"},
		{"mobile has no react-dom", Mobile, "src/index.tsx", "react-dom", kindImport, "error:not a host module (react, react/jsx-runtime"},
		{"exports browser import", Web, "src/index.tsx", "cond", kindImport, "pkg:node_modules/cond/browser.mjs"},
		{"exports browser require", Web, "src/index.tsx", "cond", kindRequire, "pkg:node_modules/cond/browser.cjs"},
		{"exports react-native first for mobile", Mobile, "src/index.tsx", "cond", kindImport, "pkg:node_modules/cond/rn.js"},
		{"exports pattern", Web, "src/index.tsx", "cond/sub/a.js", kindImport, "pkg:node_modules/cond/lib/a.js"},
		{"exports null", Web, "src/index.tsx", "cond/sub/private/x", kindImport, "error:does not export \"./sub/private/x\""},
		{"exports unlisted", Web, "src/index.tsx", "cond/node.js", kindImport, "error:does not export \"./node.js\""},
		{"exports style condition from CSS", Web, "src/style.css", "cond/styles.css", kindCSS, "pkg:node_modules/cond/dist/styles.css"},
		{"main fields: module before main", Web, "src/index.tsx", "fields", kindImport, "pkg:node_modules/fields/module.js"},
		{"main fields: react-native for mobile", Mobile, "src/index.tsx", "fields", kindImport, "pkg:node_modules/fields/rn.js"},
		{"index.js fallback", Web, "src/index.tsx", "plain", kindImport, "pkg:node_modules/plain/index.js"},
		{"package subpath without exports", Web, "src/index.tsx", "plain/deep/file", kindImport, "pkg:node_modules/plain/deep/file.js"},
		{"node_modules file", Web, "src/index.tsx", "single", kindImport, "pkg:node_modules/single.js"},
		{"scoped package, main is a directory", Web, "src/index.tsx", "@sc/pkg", kindImport, "pkg:node_modules/@sc/pkg/dist/index.js"},
		{"polyfill beats built-in", Web, "src/index.tsx", "events", kindImport, "pkg:node_modules/events/events.js"},
		{"built-in", Web, "src/index.tsx", "crypto", kindImport, "error:Node.js built-in"},
		{"node: built-in", Web, "src/index.tsx", "node:events", kindImport, "error:Node.js built-in"},
		{"browser map file", Web, "node_modules/swap/index.js", "./server", kindRequire, "pkg:node_modules/swap/client.js"},
		{"browser map false", Web, "node_modules/swap/index.js", "crypto", kindRequire, "empty:crypto"},
		{"browser map module", Web, "node_modules/swap/index.js", "stream", kindRequire, "pkg:node_modules/readable-stream/index.js"},
		{"browser map is per package", Web, "src/index.tsx", "crypto", kindImport, "error:Node.js built-in"},
		{"package imports", Web, "src/index.tsx", "#internal/thing", kindImport, "pkg:src/app/thing.tsx"},
		{"package imports to a package", Web, "src/index.tsx", "#dep", kindImport, "pkg:node_modules/cond/browser.mjs"},
		{"package imports missing", Web, "src/index.tsx", "#nope", kindImport, "error:not in the \"imports\" field"},
		{"CSS relative without ./", Web, "src/style.css", "local.css", kindCSS, "pkg:src/local.css"},
		{"CSS ~ node_modules", Web, "src/style.css", "~bootstrap/dist/css/bootstrap.css", kindCSS, "pkg:node_modules/bootstrap/dist/css/bootstrap.css"},
		{"CSS bare falls back to node_modules", Web, "src/style.css", "bootstrap/dist/css/bootstrap.css", kindCSS, "pkg:node_modules/bootstrap/dist/css/bootstrap.css"},
		{"CSS url relative", Web, "src/style.css", "img/a.png", kindURL, "pkg:src/img/a.png"},
		{"CSS url missing", Web, "src/style.css", "img/nope.png", kindURL, "error:no file src/img/nope.png"},
		{"CSS url server path", Web, "src/style.css", "/static/logo.png", kindURL, "external:/static/logo.png"},
		{"CSS url data", Web, "src/style.css", "data:image/png;base64,AAAA", kindURL, "external:data:image/png;base64,AAAA"},
		{"CSS url fragment", Web, "src/style.css", "#gradient", kindURL, "external:#gradient"},
		{"entry", Web, "", "src/index.tsx", kindEntry, "pkg:src/index.tsx"},
		{"entry with ./", Web, "", "./src/index.tsx", kindEntry, "pkg:src/index.tsx"},
		{"unknown package", Web, "src/index.tsx", "left-pad", kindImport, "error:not in the package's node_modules/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newResolver(tree, tc.target, ts)
			res, err := r.resolve(tc.spec, tc.importer, tc.kind)
			var got string
			switch {
			case err != nil:
				got = "error:" + err.Error()
			case res.external:
				got = "external:" + res.path
			default:
				got = res.namespace + ":" + res.path
			}
			if strings.HasPrefix(tc.want, "error:") {
				if !strings.HasPrefix(got, "error:") || !strings.Contains(got, strings.TrimPrefix(tc.want, "error:")) {
					t.Errorf("resolve(%q from %q) = %s, want an error containing %q", tc.spec, tc.importer, got, strings.TrimPrefix(tc.want, "error:"))
				}
				return
			}
			if got != tc.want {
				t.Errorf("resolve(%q from %q) = %s, want %s", tc.spec, tc.importer, got, tc.want)
			}
		})
	}
}

func TestSideEffects(t *testing.T) {
	files := map[string][]byte{}
	for k, v := range resolveTree {
		files[k] = []byte(v)
	}
	r := newResolver(newFileTree(files), Web, nil)
	tests := []struct {
		spec string
		want bool // noSideEffects
	}{
		{"./index.js", true},
		{"./polyfill.js", false},
		{"./x.css", false},
	}
	for _, tc := range tests {
		res, err := r.resolve(tc.spec, "node_modules/swap/index.js", kindImport)
		if err != nil {
			t.Fatal(err)
		}
		if res.noSideEffects != tc.want {
			t.Errorf("%s: noSideEffects = %v, want %v", tc.spec, res.noSideEffects, tc.want)
		}
	}
}

func TestSplitPackageName(t *testing.T) {
	tests := []struct{ spec, name, sub string }{
		{"lodash", "lodash", "."},
		{"lodash/debounce", "lodash", "./debounce"},
		{"@mattermost/types/posts", "@mattermost/types", "./posts"},
		{"@mattermost/client", "@mattermost/client", "."},
		{"@scope", "", ""},
		{"@scope/", "", ""},
	}
	for _, tc := range tests {
		if name, sub := splitPackageName(tc.spec); name != tc.name || sub != tc.sub {
			t.Errorf("splitPackageName(%q) = %q, %q; want %q, %q", tc.spec, name, sub, tc.name, tc.sub)
		}
	}
}

func TestStripJSONC(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": 1, // c` + "\n" + `}`, `{"a": 1}`},
		{`{"a": "// not a comment", /* x */ "b": [1, 2,],}`, `{"a":"// not a comment","b":[1,2]}`},
		{`{"a": "\"/*"}`, `{"a":"\"/*"}`},
		{"\xef\xbb\xbf{}", `{}`},
	}
	for _, tc := range tests {
		var v any
		if err := json.Unmarshal(stripJSONC([]byte(tc.in)), &v); err != nil {
			t.Errorf("stripJSONC(%q) is not JSON: %v (%q)", tc.in, err, stripJSONC([]byte(tc.in)))
			continue
		}
		got, _ := json.Marshal(v)
		var w any
		_ = json.Unmarshal([]byte(tc.want), &w)
		want, _ := json.Marshal(w)
		if string(got) != string(want) {
			t.Errorf("stripJSONC(%q) = %s, want %s", tc.in, got, want)
		}
	}
}

func TestGlobRegexp(t *testing.T) {
	tests := []struct {
		glob, path string
		want       bool
	}{
		{"*.css", "dist/a.css", true},
		{"*.css", "a.css", true},
		{"./src/polyfill.js", "src/polyfill.js", true},
		{"./src/polyfill.js", "polyfill.js", false},
		{"src/**/*.js", "src/a/b/c.js", true},
		{"src/**/*.js", "src/c.js", true},
		{"src/*.js", "src/a/c.js", false},
	}
	for _, tc := range tests {
		re, err := globRegexp(tc.glob)
		if err != nil {
			t.Fatal(err)
		}
		if got := re.MatchString(tc.path); got != tc.want {
			t.Errorf("glob %q matches %q = %v, want %v", tc.glob, tc.path, got, tc.want)
		}
	}
}

// FuzzPackageJSON feeds arbitrary package.json files to the resolver: npm
// metadata is outside input and must never crash a push.
func FuzzPackageJSON(f *testing.F) {
	for _, k := range []string{"node_modules/cond/package.json", "node_modules/swap/package.json", "node_modules/fields/package.json", "package.json"} {
		f.Add(resolveTree[k], "x/sub")
	}
	f.Add(`{"exports": {"./*": ["./a/*", null, {"browser": "./b/*"}]}}`, "x/y/z")
	f.Fuzz(func(t *testing.T, pj, sub string) {
		files := map[string][]byte{
			"node_modules/x/package.json": []byte(pj),
			"node_modules/x/index.js":     nil,
			"node_modules/x/a/y/z.js":     nil,
			"package.json":                []byte(pj),
			"index.js":                    nil,
		}
		for _, target := range []Target{Web, Mobile} {
			r := newResolver(newFileTree(files), target, nil)
			for _, spec := range []string{"x", sub, "#" + sub, "./" + sub} {
				for _, kind := range []importKind{kindImport, kindRequire, kindCSS} {
					_, _ = r.resolve(spec, "index.js", kind)
				}
			}
		}
	})
}

// FuzzTSConfig feeds arbitrary tsconfig.json files to the loader.
func FuzzTSConfig(f *testing.F) {
	f.Add(resolveTree["tsconfig.json"])
	f.Add(`{"extends": "./tsconfig.json", "compilerOptions": {"jsx": "react", // c
	}}`)
	f.Add(`{"extends": ["a", "./b"], "compilerOptions": {"paths": {"*": ["*"]}, "baseUrl": "../.."}}`)
	f.Fuzz(func(t *testing.T, cfg string) {
		files := map[string][]byte{"tsconfig.json": []byte(cfg), "b.json": []byte(cfg), "src/index.ts": nil}
		tree := newFileTree(files)
		ts, err := loadTSConfig(tree, "src/index.ts")
		if err != nil || ts == nil {
			return
		}
		r := newResolver(tree, Web, ts)
		_, _ = r.resolve("anything/here", "src/index.ts", kindImport)
	})
}

// TestTSConfigExtendsBounded: extends cycles and fan-outs end in a
// diagnostic, not in unbounded work.
func TestTSConfigExtendsBounded(t *testing.T) {
	fan := `{"extends": [` + strings.Repeat(`"./b.json",`, 50) + `"./b.json"]}`
	tests := map[string]map[string][]byte{
		"cycle": {"tsconfig.json": []byte(`{"extends": "./a.json"}`), "a.json": []byte(`{"extends": "./tsconfig.json"}`)},
		"fan-out": {
			"tsconfig.json": []byte(fan),
			"b.json":        []byte(strings.ReplaceAll(fan, "b.json", "c.json")),
			"c.json":        []byte(strings.ReplaceAll(fan, "b.json", "d.json")),
			"d.json":        []byte(`{}`),
		},
	}
	for name, files := range tests {
		files["index.ts"] = nil
		if _, err := loadTSConfig(newFileTree(files), "index.ts"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestResolveSourceModules: bare imports of the plugin's own folders
// resolve as the starter template's webpack resolve.modules ['src',
// 'node_modules', __dirname] resolves them, host modules first, npm code
// never looking into the plugin's src/.
func TestResolveSourceModules(t *testing.T) {
	files := map[string]string{
		"plugin.json":                          `{}`,
		"webapp/package.json":                  `{"name": "webapp"}`,
		"webapp/src/index.tsx":                 "",
		"webapp/src/selectors/index.ts":        "",
		"webapp/src/actions.ts":                "",
		"webapp/src/components/a/view.tsx":     "",
		"webapp/src/components/a/src/local.ts": "",
		"webapp/src/react.ts":                  "",
		"webapp/src/lodash.ts":                 "",
		"webapp/i18n/en.json":                  "{}",
		"webapp/node_modules/lodash/index.js":  "",
		"webapp/node_modules/dep/index.js":     "",
		"webapp/node_modules/actions/index.js": "",
		"src/outside.ts":                       "",
	}
	tree := newFileTree(map[string][]byte{})
	for p, b := range files {
		tree.files[p] = []byte(b)
		for d := parentDir(p); !tree.dirs[d]; d = parentDir(d) {
			tree.dirs[d] = true
		}
	}
	tests := []struct {
		spec, importer, want string
	}{
		{"selectors", "webapp/src/index.tsx", "webapp/src/selectors/index.ts"},
		{"actions", "webapp/src/components/a/view.tsx", "webapp/src/actions.ts"}, // src/ before node_modules/, as webpack
		{"local", "webapp/src/components/a/view.tsx", "webapp/src/components/a/src/local.ts"},
		{"components/a/view", "webapp/src/index.tsx", "webapp/src/components/a/view.tsx"},
		{"lodash", "webapp/src/index.tsx", "webapp/src/lodash.ts"},
		{"i18n/en.json", "webapp/src/index.tsx", "webapp/i18n/en.json"}, // the webapp folder itself, last
		{"dep", "webapp/src/index.tsx", "webapp/node_modules/dep/index.js"},
		{"actions", "webapp/node_modules/dep/index.js", "webapp/node_modules/actions/index.js"}, // npm code: no src/
		{"react", "webapp/src/index.tsx", "host:react"},                                         // externals win
		{"outside", "webapp/src/index.tsx", ""},                                                 // never above the webapp folder
	}
	for _, tc := range tests {
		r := newResolver(tree, Web, nil)
		r.webRoot = webpackRoot(tree, "webapp/src/index.tsx")
		res, err := r.resolve(tc.spec, tc.importer, kindImport)
		got := res.path
		if res.namespace == nsHost || res.namespace == nsManifest {
			got = res.namespace + ":" + res.path
		}
		if err != nil {
			got = ""
		}
		if got != tc.want {
			t.Errorf("%q from %s = %q (%v), want %q", tc.spec, tc.importer, got, err, tc.want)
		}
	}
	if root := webpackRoot(tree, "webapp/src/index.tsx"); root != "webapp" {
		t.Errorf("webpackRoot = %q", root)
	}
}

// TestGeneratedManifest: the starter template imports webapp/src/manifest.ts,
// which its `make` generates from plugin.json and .gitignore keeps out of
// the repository; without it the import is plugin.json, and a manifest the
// plugin carries wins.
func TestGeneratedManifest(t *testing.T) {
	files := map[string]string{
		"webapp/package.json": `{"name":"w"}`,
		"webapp/src/index.tsx": "import manifest from 'manifest';\nimport {version} from './manifest';\n" +
			"(window as any).registerPlugin(manifest.id, {v: version});\n",
	}
	pkg := memPackage("webapp/src/index.tsx", "", files)
	pkg.RawManifest = []byte(`{"id":"com.example.generated","name":"G","version":"3.1.4","webapp":{"entry":"webapp/src/index.tsx"}}`)
	res, err := Build(pkg, Web)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.JS), "com.example.generated") || !strings.Contains(string(res.JS), "3.1.4") {
		t.Errorf("bundle lacks the manifest's fields:\n%s", res.JS)
	}
	// Through tsconfig paths too, as the GitHub plugin imports it.
	files["webapp/tsconfig.json"] = `{"compilerOptions": {"baseUrl": ".", "paths": {"@/*": ["src/*"]}}}`
	files["webapp/src/other.ts"] = "import m from '@/manifest';\nexport const other = m.name;\n"
	files["webapp/src/index.tsx"] += "import {other} from './other';\nconsole.log(other);\n"
	pkg = memPackage("webapp/src/index.tsx", "", files)
	pkg.RawManifest = []byte(`{"id":"com.example.generated","name":"Generated-Name","version":"3.1.4"}`)
	if res, err = Build(pkg, Web); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.JS), "Generated-Name") {
		t.Errorf("@/manifest through tsconfig paths:\n%s", res.JS)
	}
	files["webapp/src/manifest.ts"] = "export default {id: 'carried'};\nexport const version = 'carried-v';\n"
	res, err = Build(memPackage("webapp/src/index.tsx", "", files), Web)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.JS), "carried-v") {
		t.Errorf("the plugin's own manifest.ts was not used:\n%s", res.JS)
	}
}
