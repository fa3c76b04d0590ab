package bundler

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeepNestingRejected: inputs that would exhaust esbuild's stack (and
// with it the whole server process) are compile errors instead. Several
// of these crash the test binary if the check is missing.
func TestDeepNestingRejected(t *testing.T) {
	tests := map[string]string{
		"brackets":    "window.x = " + strings.Repeat("[", 1_000_000) + strings.Repeat("]", 1_000_000) + ";\n",
		"assignments": "let a; window.x = " + strings.Repeat("a=", 400_000) + "1;\n",
		"arrows":      "window.x = " + strings.Repeat("a=>", 300_000) + "1;\n",
		"if":          "let a; " + strings.Repeat("if(a)", 300_000) + "a++;\n",
		"not":         "window.x = " + strings.Repeat("!", 500_000) + "1;\n",
		"jsx":         "window.x = " + strings.Repeat("<a>", 100_000) + strings.Repeat("</a>", 100_000) + ";\n",
		"labels":      strings.Repeat("a:", 300_000) + "window.x = 1;\n",
		"types":       "let x: " + strings.Repeat("A<", 200_000) + "B" + strings.Repeat(">", 200_000) + ";\n",
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			pkg := memPackage("index.tsx", "", map[string]string{"index.tsx": src})
			ce := compileError(t, pkg, Web)
			if len(ce.Diagnostics) != 1 || !strings.Contains(ce.Diagnostics[0].Text, "levels deep") {
				t.Errorf("diagnostics: %v", ce.Diagnostics)
			}
		})
	}
}

// TestNestingDepthOfRealCode: the estimate stays far below the limit on
// real code: the fixtures, the generated benchmark plugin, and (when
// installed) every file in bench/compile/node_modules, 45 MB of npm code
// including webpack, Babel and lodash.
func TestNestingDepthOfRealCode(t *testing.T) {
	check := func(name, src string) {
		t.Helper()
		if d := nestingDepth(src, maxNesting); d > maxNesting/5 {
			t.Errorf("%s: nesting estimate %d, too close to the limit %d", name, d, maxNesting)
		}
	}
	for name, src := range typicalPlugin() {
		check(name, src)
	}
	roots := []string{filepath.Join("testdata", "plugins"), filepath.Join("..", "bench", "compile", "node_modules")}
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch filepath.Ext(p) {
			case ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".json", ".css":
			default:
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			check(p, string(data))
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

func TestNestingDepth(t *testing.T) {
	tests := []struct {
		src      string
		min, max int
	}{
		{"a + b - c * d / e < f", 0, 1},
		{"a = b = c = d", 3, 3},
		{"f(g(h(x)))", 3, 6},
		{"const s = '((((((((((';", 1, 1},
		{"const s = `((((${ a = b }((((`;", 1, 4},
		{"// ((((((((((\n/* [[[[[[[ */ x", 0, 0},
		{"x = /[(((((/.test(y)", 1, 3},
		{"a = 1; b = 2; c = 3;", 1, 1},
		{"{a: 1, b: 2, c: 3}", 1, 3},
		{"!!!!!x", 5, 5},
		{"- - - x", 3, 3},
		{"if (a) if (b) if (c) x();", 3, 9},
	}
	for _, tc := range tests {
		if d := nestingDepth(tc.src, maxNesting); d < tc.min || d > tc.max {
			t.Errorf("nestingDepth(%q) = %d, want %d..%d", tc.src, d, tc.min, tc.max)
		}
	}
}

func FuzzNestingDepth(f *testing.F) {
	f.Add("const s = `((((${ a = b }((((`;")
	f.Add("x = /[(((((/.test(y) // ((")
	f.Fuzz(func(t *testing.T, src string) {
		if d := nestingDepth(src, maxNesting); d < 0 || d > len(src)+1 {
			t.Fatalf("nestingDepth(%q) = %d", src, d)
		}
	})
}
