package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPackKeepsExactlyTheImportGraph: pack includes the manifest, what it
// names, the files the entries reach (with their node_modules package.json)
// and nothing else.
func TestPackKeepsExactlyTheImportGraph(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"plugin.json": `{"id":"com.example.pack","name":"Pack","version":"1.0.0","icon_path":"assets/icon.svg",
			"webapp":{"entry":"webapp/index.tsx"},"slots":[{"slot":"root"}]}`,
		"assets/icon.svg":                      `<svg/>`,
		"README.md":                            "# Pack",
		"webapp/index.tsx":                     "import {greet} from './greet';\nimport left from 'left-pad';\nimport './style.css';\n(window as any).registerPlugin('com.example.pack', {initialize(){ console.log(greet(left('x', 3))); }});\n",
		"webapp/greet.ts":                      "export const greet = (s: string) => 'hi ' + s;\n",
		"webapp/style.css":                     ".x{color:red}",
		"webapp/unused.ts":                     "export const unused = 1;\n",
		"webapp/greet.test.ts":                 "test('x', () => {});\n",
		"node_modules/left-pad/package.json":   `{"name":"left-pad","main":"index.js"}`,
		"node_modules/left-pad/index.js":       "module.exports = (s, n) => s.padStart(n);\n",
		"node_modules/left-pad/README.md":      "docs",
		"node_modules/unused-dep/package.json": `{"name":"unused-dep","main":"index.js"}`,
		"node_modules/unused-dep/index.js":     "module.exports = 1;\n",
	})
	var buf bytes.Buffer
	if _, err := packDir(dir, &buf, os.Stderr); err != nil {
		t.Fatal(err)
	}
	pkg, err := pluginpkg.ReadArchive(bytes.NewReader(buf.Bytes()), pluginpkg.Limits{}, slots.Known)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for p := range pkg.Files {
		got = append(got, p)
	}
	sort.Strings(got)
	want := []string{
		"README.md", "assets/icon.svg",
		"node_modules/left-pad/index.js", "node_modules/left-pad/package.json",
		"plugin.json", "webapp/greet.ts", "webapp/index.tsx", "webapp/style.css",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("packed files:\n got %v\nwant %v", got, want)
	}

	// Deterministic: packing again gives the same bytes.
	var again bytes.Buffer
	if _, err := packDir(dir, &again, os.Stderr); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("pack is not deterministic")
	}
}

func TestNodeModuleRoot(t *testing.T) {
	for in, want := range map[string]string{
		"node_modules/a/index.js":                "node_modules/a",
		"node_modules/@s/b/lib/x.js":             "node_modules/@s/b",
		"node_modules/a/node_modules/c/index.js": "node_modules/a/node_modules/c",
		"webapp/index.tsx":                       "",
		"node_modules/a":                         "",
	} {
		if got := nodeModuleRoot(in); got != want {
			t.Errorf("nodeModuleRoot(%q) = %q, want %q", in, got, want)
		}
	}
}
