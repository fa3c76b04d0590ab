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
// path relative to the server's working directory may reach the disk.
func TestComputedImportsNeverReadDisk(t *testing.T) {
	pkg := memPackage("index.ts", "", map[string]string{
		"index.ts": "const d = '../';\n" +
			"export function load(y: string) {\n" +
			"  return [require(d + d + d + d + d + d + d + d + 'etc/' + y), require('../../../../../../../../etc/' + y),\n" +
			"          import(`./testdata/golden/${y}.txt`), require('./' + y)];\n" +
			"}\n",
	})
	ce := compileError(t, pkg, Web)
	if len(ce.Diagnostics) != 3 { // the two "../" spellings are one glob
		t.Errorf("want one diagnostic per computed import, got %v", ce.Diagnostics)
	}
	for _, d := range ce.Diagnostics {
		if d.File != "index.ts" || !strings.Contains(d.Text, "the path is computed at run time") {
			t.Errorf("diagnostic %q does not explain the computed import", d)
		}
		for _, leak := range []string{"passwd", "hostname", "golden", "\x00"} {
			if strings.Contains(d.Text, leak) && !strings.Contains(d.Text, "testdata/golden/**") {
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
