// Package bundlertest makes plugin repositories on disk for tests and
// benchmarks of `mmtoolkit pack` and `push`.
package bundlertest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Repo describes a generated Mattermost plugin repository as it is after
// `npm ci`: a plugin.json naming only webapp.bundle_path (as every
// Mattermost plugin's does), sources under webapp/src/ that import their
// own folders by bare name (the starter template's resolve.modules), a
// stylesheet, an image, a package with an "exports" map and one with a
// "browser" field, and node_modules/ packages and tests the entry never
// reaches.
type Repo struct {
	// Components is the number of webapp/src/components/c<i>.tsx files the
	// entry imports (besides the entry, selectors, actions and utils).
	Components int
	// Unreachable is the number of files written under node_modules/ (and
	// tests) that nothing imports.
	Unreachable int
	// Library is the number of modules of node_modules/reallib, an npm
	// package (ES modules behind an "exports" map, about 1 KB each) the
	// components import from; 0 leaves it out.
	Library int
	// ID is the plugin id (default com.example.repo).
	ID string
}

// Write writes the repository into dir and returns the package paths
// `mmtoolkit pack` must send, sorted.
func (r Repo) Write(dir string) ([]string, error) {
	id := r.ID
	if id == "" {
		id = "com.example.repo"
	}
	files := map[string]string{
		"plugin.json": fmt.Sprintf(`{"id":%q,"name":"Repo","version":"1.0.0","min_server_version":"9.0.0",
  "server":{"executables":{"linux-amd64":"server/dist/plugin-linux-amd64"}},
  "webapp":{"bundle_path":"webapp/dist/main.js"}}`, id),
		"README.md":                     "# Repo\n",
		"LICENSE":                       "MIT\n",
		"Makefile":                      "all:\n",
		"server/plugin.go":              "package main\n",
		"webapp/package.json":           `{"name":"repo-webapp","private":true,"scripts":{"build":"webpack"}}`,
		"webapp/tsconfig.json":          `{"compilerOptions":{"jsx":"react-jsx","target":"es2020","strict":true}}`,
		"webapp/webpack.config.js":      "module.exports = {resolve: {modules: ['src', 'node_modules']}};\n",
		"webapp/src/manifest.ts":        fmt.Sprintf("export const id = %q;\n", id),
		"webapp/src/selectors/index.ts": "export const getCount = (s: any): number => s?.count ?? 0;\n",
		"webapp/src/actions.ts":         "export const bump = () => ({type: 'BUMP'});\n",
		"webapp/src/utils/format.ts":    "export function format(n: number): string { return '#' + n; }\n",
		"webapp/src/styles.css":         ".repo-root { color: rgb(1, 2, 3); background: url(./logo.png); }\n",
		"webapp/src/logo.png":           pngBytes,
		"webapp/src/index.test.tsx":     "test('never built', () => {});\n",
		"node_modules/pkg-exports/package.json": `{"name":"pkg-exports","version":"1.0.0","main":"./cjs/index.cjs",
  "exports":{".":{"import":"./esm/index.mjs","require":"./cjs/index.cjs"},"./feature":"./esm/feature.mjs","./package.json":"./package.json"}}`,
		"node_modules/pkg-exports/esm/index.mjs":   "export const viaExports = 'exports-esm';\n",
		"node_modules/pkg-exports/esm/feature.mjs": "export const feature = 'feature-esm';\n",
		"node_modules/pkg-exports/cjs/index.cjs":   "exports.viaExports = 'exports-cjs';\n",
		"node_modules/pkg-exports/LICENSE":         "MIT\n",
		"node_modules/pkg-browser/package.json":    `{"name":"pkg-browser","version":"1.0.0","main":"node.js","browser":"browser.js"}`,
		"node_modules/pkg-browser/node.js":         "module.exports = 'node';\n",
		"node_modules/pkg-browser/browser.js":      "module.exports = 'browser';\n",
	}
	var imports, uses strings.Builder
	for i := 0; i < r.Components; i++ {
		next, use := "", ""
		if i+1 < r.Components {
			next = fmt.Sprintf("import {C%d} from 'components/c%d';\n", i+1, i+1)
			use = fmt.Sprintf("<C%d state={props.state}/>", i+1)
		}
		files[fmt.Sprintf("webapp/src/components/c%d.tsx", i)] = fmt.Sprintf(
			"import {getCount} from 'selectors';\nimport {format} from 'utils/format';\n%s"+
				"export function C%d(props: {state: any}) { return <span data-c=%q>{format(getCount(props.state) + %d)}%s</span>; }\n",
			next, i, fmt.Sprint(i), i, use)
	}
	if r.Components > 0 {
		imports.WriteString("import {C0} from 'components/c0';\n")
		uses.WriteString("<C0 state={{count: 1}}/>")
	}
	files["webapp/src/index.tsx"] = `import {id} from './manifest';
import {bump} from 'actions';
import {getCount} from 'selectors';
import {viaExports} from 'pkg-exports';
import {feature} from 'pkg-exports/feature';
import browserOnly from 'pkg-browser';
import logo from './logo.png';
import './styles.css';
` + imports.String() + `
function Root() {
	return <div className="repo-root" data-env={process.env.NODE_ENV} data-global={String(typeof global)}>
		{viaExports} {feature} {browserOnly} {getCount({count: 2})} {bump().type}<img src={logo}/>` + uses.String() + `</div>;
}
(window as any).registerPlugin(id, {initialize(registry: any) { registry.registerRootComponent(Root); }});
`
	want := []string{
		"LICENSE", "README.md", "plugin.json",
		"node_modules/pkg-browser/browser.js", "node_modules/pkg-browser/package.json",
		"node_modules/pkg-exports/LICENSE", "node_modules/pkg-exports/esm/feature.mjs",
		"node_modules/pkg-exports/esm/index.mjs", "node_modules/pkg-exports/package.json",
		"webapp/package.json", "webapp/tsconfig.json",
		"webapp/src/actions.ts", "webapp/src/index.tsx", "webapp/src/logo.png", "webapp/src/manifest.ts",
		"webapp/src/selectors/index.ts", "webapp/src/styles.css",
	}
	if r.Components > 0 {
		want = append(want, "webapp/src/utils/format.ts")
	}
	for i := 0; i < r.Components; i++ {
		want = append(want, fmt.Sprintf("webapp/src/components/c%d.tsx", i))
	}
	if r.Library > 0 {
		files["node_modules/reallib/package.json"] = `{"name":"reallib","version":"4.2.0","type":"module","sideEffects":false,
  "exports":{".":"./index.js","./lib/*":"./lib/*.js","./package.json":"./package.json"}}`
		files["node_modules/reallib/LICENSE"] = "MIT\n"
		var index strings.Builder
		for m := 0; m < r.Library; m++ {
			fmt.Fprintf(&index, "export * from './lib/m%d.js';\n", m)
			var mod strings.Builder
			for f := 0; f < 8; f++ {
				fmt.Fprintf(&mod, "export function m%d_f%d(xs, k = %d) {\n  const out = [];\n  for (const x of xs) { if (typeof x === 'number') out.push(x * k + %d); else out.push(String(x).padStart(k, '-')); }\n  return out;\n}\n", m, f, f+1, m)
			}
			files[fmt.Sprintf("node_modules/reallib/lib/m%d.js", m)] = mod.String()
			want = append(want, fmt.Sprintf("node_modules/reallib/lib/m%d.js", m))
		}
		files["node_modules/reallib/index.js"] = index.String()
		want = append(want, "node_modules/reallib/LICENSE", "node_modules/reallib/index.js", "node_modules/reallib/package.json")
		for i := 0; i < r.Components; i++ {
			p := fmt.Sprintf("webapp/src/components/c%d.tsx", i)
			files[p] = fmt.Sprintf("import {m%d_f%d} from 'reallib';\n", i%r.Library, i%8) +
				strings.Replace(files[p], "{format(", fmt.Sprintf("{m%d_f%d([1, 'a']).join(',')}{format(", i%r.Library, i%8), 1)
		}
	}
	for p, body := range files {
		if err := writeFile(dir, p, body); err != nil {
			return nil, err
		}
	}
	// The unreachable rest: npm packages of 100 files each, as deep as npm
	// makes them, and a .git directory.
	const perPackage = 100
	for n := 0; n < r.Unreachable; n += perPackage {
		pkgDir := filepath.Join(dir, "node_modules", fmt.Sprintf("unused-%d", n/perPackage))
		if err := os.MkdirAll(filepath.Join(pkgDir, "lib", "deep"), 0o755); err != nil {
			return nil, err
		}
		for i := 0; i < perPackage && n+i < r.Unreachable; i++ {
			name := filepath.Join(pkgDir, "lib", fmt.Sprintf("f%d.js", i))
			if i%2 == 1 {
				name = filepath.Join(pkgDir, "lib", "deep", fmt.Sprintf("f%d.js", i))
			}
			if i == 0 {
				name = filepath.Join(pkgDir, "package.json")
			}
			if err := os.WriteFile(name, []byte("module.exports = 1;\n"), 0o644); err != nil {
				return nil, err
			}
		}
	}
	if err := writeFile(dir, ".git/HEAD", "ref: refs/heads/main\n"); err != nil {
		return nil, err
	}
	sort.Strings(want)
	return want, nil
}

func writeFile(dir, p, body string) error {
	full := filepath.Join(dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	return os.WriteFile(full, []byte(body), 0o644)
}

// pngBytes is a 1x1 PNG.
var pngBytes = string([]byte{
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
	0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
	0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
	0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
})
