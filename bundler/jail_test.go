package bundler

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestComputedImportsNeverReadDisk: require/import with a computed path
// make esbuild list directories itself (see jail.go). Neither a climb out
// of the package with "../" (spelled with inlined constants too) nor a
// path relative to the server's working directory may reach the disk,
// whether the bundler rewrites the call (context.go) or leaves it.
func TestComputedImportsNeverReadDisk(t *testing.T) {
	pkg := memPackage("index.ts", "", map[string]string{
		"index.ts": "const d = '../';\n" +
			"export function load(y: string) {\n" +
			"  return [require(d + d + d + d + d + d + d + d + 'etc/' + y), require('../../../../../../../../etc/' + y),\n" +
			"          import(`./testdata/golden/${y}.txt`), require(y + '.txt')];\n" +
			"}\n",
	})
	ce := compileError(t, pkg, Web)
	want := []string{
		"index.ts:3:19: Could not resolve require(\"../../../../../../../../etc/**/*\"): the path is computed at run time",
		"index.ts:3:72: cannot import \"../../../../../../../../etc/*\": it points outside the package",
	}
	if len(ce.Diagnostics) != len(want) {
		t.Fatalf("diagnostics: %v", ce.Diagnostics)
	}
	for i, d := range ce.Diagnostics {
		if !strings.HasPrefix(d.String(), want[i]) {
			t.Errorf("diagnostic %d = %q, want it to start with %q", i, d, want[i])
		}
		for _, leak := range []string{"passwd", "hostname", "X11", "\x00"} {
			if strings.Contains(d.Text, leak) {
				t.Errorf("diagnostic %q mentions %q from the disk", d, leak)
			}
		}
	}
}

// TestSourceMapCommentsNeverReadDisk: source map comments in a package's
// files could name server files (relative, file:// or an inline map's
// file:// sources); none of them may end up in the output.
func TestSourceMapCommentsNeverReadDisk(t *testing.T) {
	dir := t.TempDir()
	secretMap := filepath.Join(dir, "secret.js.map")
	secretSrc := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(secretMap, []byte(`{"version":3,"sources":["x.ts"],"sourcesContent":["SECRET-MAP"],"mappings":"AAAA"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secretSrc, []byte("SECRET-SOURCE"), 0o644); err != nil {
		t.Fatal(err)
	}
	inline := fmt.Sprintf(`{"version":3,"sources":["file://%s"],"sourcesContent":[null],"mappings":"AAAA"}`, secretSrc)
	climb := strings.Repeat("../", 40) + strings.TrimPrefix(secretMap, "/")
	pkg := memPackage("index.js", "", map[string]string{
		"index.js":  "import './a';\nimport './b';\nimport './c.css';\nwindow.x = 1;\n//# sourceMappingURL=file://" + secretMap + "\n",
		"a.js":      "window.a = 1;\n//# sourceMappingURL=data:application/json," + inline + "\n",
		"b.js":      "window.b = 1;\n//@ sourceMappingURL=" + climb + "\n",
		"c.css":     ".c { color: red }\n/*# sourceMappingURL=file://" + secretMap + " */\n",
		"README.md": "not imported\n",
	})
	res := mustBuild(t, pkg, Web)
	for _, out := range [][]byte{res.JS, res.SourceMap, []byte(fmt.Sprint(res.Warnings))} {
		if bytes.Contains(out, []byte("SECRET")) {
			t.Fatalf("a file from the disk reached the output:\n%s", out)
		}
	}
	if len(res.Warnings) > 0 {
		t.Errorf("warnings: %v", res.Warnings)
	}
}

func TestJailDir(t *testing.T) {
	for _, n := range []int{0, 1, 62, 63, 1000, 1 << 20} {
		p := jailDir(n)
		levels := strings.Count(p, "\x00")
		if levels < n+2 {
			t.Errorf("jailDir(%d) has %d levels", n, levels)
		}
		climbed := filepath.Clean(p + "/" + strings.Repeat("../", n) + "etc")
		if !strings.ContainsRune(climbed, 0) {
			t.Errorf("jailDir(%d) escaped by %d levels: %q", n, n, climbed)
		}
	}
	if jailDir(10) != jailDir(20) {
		t.Error("jailDir does not share paths of one size class")
	}
}

// TestEntryIsNeverAGlob: esbuild expands "*" in entry points on the disk.
func TestEntryIsNeverAGlob(t *testing.T) {
	for _, entry := range []string{"*.tsx", "webapp/*", "../../etc/*", "/etc/passwd"} {
		pkg := memPackage(entry, "", map[string]string{"*.tsx": "export {};\n", "webapp/*": "export {};\n"})
		ce := compileError(t, pkg, Web)
		if len(ce.Diagnostics) != 1 || ce.Diagnostics[0].File != "plugin.json" {
			t.Errorf("entry %q: %v", entry, ce)
		}
	}
}

func TestMayHaveComputedImport(t *testing.T) {
	tests := []struct {
		src  string
		want bool
	}{
		{"", false},
		{"import React from 'react';\nimport {a} from \"./a\";\nimport * as b from './b';\nimport './c.css';\n", false},
		{"import type {X} from './x';\nexport {y} from './y';\n", false},
		{"const a = require('./a');\nconst b = require(\"b\");\nrequire.resolve(x);\n", false},
		{"const x = await import('./lazy');\nimport(/* webpackChunkName: \"x\" */ './x');\n", false},
		{"import('./x', {with: {type: 'json'}});\n", false},
		{"const required = 1; myrequire(x); obj.require(x); x.import(y); const imported = 2;\n", false},
		{"const m = import.meta.url;\n", false},
		{"require('./' + name)", true},
		{"require(`./locales/${lang}.json`)", true},
		{"import(`./locales/${lang}.json`)", true},
		{"import('./locales/' + lang)", true},
		{"require(base + name)", true},
		{"(require)('./' + x)", true},
		{"require!('./' + x)", true},
		{"require<any>('./' + x)", true},
		{"var r = require;", true},
		{"typeof require === 'function'", true},
		{"require /* c */ ( /* d */ './a' /* e */ )", false},
		{"require // c\n('./a')", false},
		{"require\u00a0('./' + x)", true},
		{"import\u00a0('./' + x)", true},
		{"import<!--\n('./' + x)", true},
		{"requ\\u0069re('./' + x)", true},
		{"require('./a\\'b' + x)", true},
		{"require('unterminated", true},
		{"// require(x + y) in a comment counts too\n", true},
		{"/** Used to import `jQuery` into templates; actions that require the posts. */", false},
		{"(require as any)('./' + x)", true},
		{"(require satisfies Function)('./' + x)", true},
		{"require\n-->\n('./' + x)", true},
	}
	for _, tc := range tests {
		if got := mayHaveComputedImport(tc.src); got != tc.want {
			t.Errorf("mayHaveComputedImport(%q) = %v, want %v", tc.src, got, tc.want)
		}
	}
}

// FuzzComputedImportJail: whatever a module holds, if esbuild finds a
// computed import in it, the module got the deep jail. Checked by building:
// a glob that escapes the jail would list the package's real directory
// (bundler/, the test's working directory) and resolve files there.
func FuzzComputedImportJail(f *testing.F) {
	f.Add("require('./' + x)")
	f.Add("(require)('./t' + x)")
	f.Add("import(`./${x}`)")
	f.Fuzz(func(t *testing.T, src string) {
		if mayHaveComputedImport(src) {
			return // deep jail: safe by construction (TestJailDir)
		}
		pkg := memPackage("index.js", "", map[string]string{"index.js": src})
		res, err := Build(pkg, Web)
		if err == nil && len(res.Inputs) > 1 {
			t.Fatalf("a module judged free of computed imports reached other files: %q", res.Inputs)
		}
		if ce, ok := err.(*CompileError); ok {
			for _, d := range ce.Diagnostics {
				if isGlobFailure(d.Text) {
					t.Fatalf("esbuild found a computed import in a module judged free of them: %q: %v", src, d)
				}
			}
		}
	})
}
