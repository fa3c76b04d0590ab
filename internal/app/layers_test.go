package app

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/mmtoolkit/mmtoolkit/"

// imports returns the packages the non-test Go files of dir (and of every
// directory below it) import, by importing directory.
func imports(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out[filepath.Dir(path)] = append(out[filepath.Dir(path)], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLayers checks the direction of the layers: the application layer
// (internal/app/...) imports neither net/http nor the HTTP edge (server,
// apiv4-proxy), and the domain packages import neither net/http nor the
// application layer. A change that needs one of these imports is putting a
// rule in the wrong layer.
func TestLayers(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, tc := range []struct {
		dir       string
		forbidden []string // import paths, or prefixes ending in "/"
	}{
		{".", []string{"net/http", "net/http/", module + "server", module + "apiv4-proxy", module + "webapp", module + "cmd/"}},
		{filepath.Join(root, "registry"), []string{"net/http", module + "internal/app/", module + "server"}},
		{filepath.Join(root, "bundler"), []string{"net/http", module + "internal/app/", module + "server"}},
		{filepath.Join(root, "slots"), []string{"net/http", module + "internal/app/", module + "server"}},
		{filepath.Join(root, "identity"), []string{"net/http", module + "internal/app/", module + "server"}},
	} {
		found := imports(t, tc.dir)
		if len(found) == 0 {
			t.Fatalf("%s: no Go files read", tc.dir)
		}
		for dir, imps := range found {
			for _, imp := range imps {
				for _, f := range tc.forbidden {
					if imp == f || (strings.HasSuffix(f, "/") && strings.HasPrefix(imp, f)) {
						t.Errorf("%s imports %s: the layering forbids it (see this package's doc)", dir, imp)
					}
				}
			}
		}
	}
}
