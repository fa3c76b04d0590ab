package bundler

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// loadFixture reads testdata/plugins/<name> into an in-memory package, the
// shape pluginpkg's readers produce: every file keyed by its slash path,
// the manifest decoded from plugin.json.
func loadFixture(t testing.TB, name string) *pluginpkg.Package {
	t.Helper()
	pkg, err := readDirPackage(filepath.Join("testdata", "plugins", name))
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

func readDirPackage(root string) (*pluginpkg.Package, error) {
	pkg := &pluginpkg.Package{Files: map[string][]byte{}}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		pkg.Files[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		return nil, err
	}
	pkg.RawManifest = pkg.Files["plugin.json"]
	if err := json.Unmarshal(pkg.RawManifest, &pkg.Manifest); err != nil {
		return nil, err
	}
	return pkg, nil
}

// memPackage builds a package from inline sources; webEntry and mobileEntry
// may be empty.
func memPackage(webEntry, mobileEntry string, files map[string]string) *pluginpkg.Package {
	pkg := &pluginpkg.Package{
		Manifest: pluginpkg.Manifest{ID: "com.example.test", Name: "Test", Version: "1.0.0"},
		Files:    map[string][]byte{},
	}
	if webEntry != "" {
		pkg.Manifest.Webapp = &pluginpkg.Webapp{Entry: webEntry}
	}
	if mobileEntry != "" {
		pkg.Manifest.Mobile = &pluginpkg.Mobile{Entry: mobileEntry}
	}
	for name, src := range files {
		pkg.Files[name] = []byte(src)
	}
	pkg.RawManifest, _ = json.Marshal(pkg.Manifest)
	pkg.Files["plugin.json"] = pkg.RawManifest
	return pkg
}

func mustBuild(t testing.TB, pkg *pluginpkg.Package, target Target) *Result {
	t.Helper()
	res, err := Build(pkg, target)
	if err != nil {
		t.Fatalf("Build(%s, %s): %v", pkg.Manifest.ID, target, err)
	}
	return res
}

// compileError builds pkg expecting a *CompileError.
func compileError(t *testing.T, pkg *pluginpkg.Package, target Target) *CompileError {
	t.Helper()
	res, err := Build(pkg, target)
	if err == nil {
		t.Fatalf("Build succeeded, want a compile error; bundle:\n%s", res.JS)
	}
	ce, ok := err.(*CompileError)
	if !ok {
		t.Fatalf("Build error is %T (%v), want *CompileError", err, err)
	}
	if ce.Target != target {
		t.Errorf("CompileError.Target = %s, want %s", ce.Target, target)
	}
	return ce
}

// nodeBinary finds node for the tests that execute bundles. Outside CI a
// machine without node skips them; under CI=true that is a failure, so a
// green CI always means the bundles ran.
func nodeBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("node"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/node"); err == nil {
		return "/usr/bin/node"
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("node is required to execute bundles (CI=true): install Node.js 20+")
	}
	t.Skip("node not found: skipping bundle execution (set up Node.js 20+ to run it)")
	return ""
}

// runBundle executes js with testdata/harness.js in mode "web" or "mobile"
// and returns what the harness printed, decoded.
func runBundle(t *testing.T, mode string, js []byte) map[string]any {
	t.Helper()
	node := nodeBinary(t)
	file := filepath.Join(t.TempDir(), "bundle.js")
	if err := os.WriteFile(file, js, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("testdata", "harness.js"), mode, file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("running the %s bundle in node: %v\n%s", mode, err, stderr.String())
	}
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("harness output is not JSON: %v\n%s", err, stdout.String())
	}
	return out
}

// canonicalJSON re-encodes a JSON text so two texts compare by content.
func canonicalJSON(t *testing.T, v any) string {
	t.Helper()
	if s, ok := v.(string); ok {
		var x any
		if err := json.Unmarshal([]byte(s), &x); err != nil {
			t.Fatalf("bad expected JSON %q: %v", s, err)
		}
		v = x
	}
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// diffLines is a small line diff for golden and JSON mismatches: enough to
// spot the changed line without a dependency.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl == gl {
			b.WriteString("  " + wl + "\n")
			continue
		}
		if i < len(w) {
			b.WriteString("- " + wl + "\n")
		}
		if i < len(g) {
			b.WriteString("+ " + gl + "\n")
		}
	}
	return b.String()
}
