package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/mobile"
	"github.com/mmtoolkit/mmtoolkit/registry"
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
	if _, err := packDir(dir, &buf, os.Stderr, nil); err != nil {
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
	if _, err := packDir(dir, &again, os.Stderr, nil); err != nil {
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
		if got := bundler.NodeModuleRoot(in); got != want {
			t.Errorf("NodeModuleRoot(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestParseInterspersed: flags may follow the package path, as in
// "sign DIR --key K"; "--" ends the flags.
func TestParseInterspersed(t *testing.T) {
	for _, tc := range []struct {
		args []string
		key  string
		pos  []string
	}{
		{[]string{"dir", "--key", "k"}, "k", []string{"dir"}},
		{[]string{"--key", "k", "dir"}, "k", []string{"dir"}},
		{[]string{"a", "-key=k", "b"}, "k", []string{"a", "b"}},
		{[]string{"--", "--key", "dir"}, "", []string{"--key", "dir"}},
		{[]string{"a", "--", "-x"}, "", []string{"a", "-x"}},
	} {
		fs := newFlags("t", "", "", io.Discard)
		key := fs.String("key", "", "")
		pos, err := parseInterspersed(fs, tc.args)
		if err != nil || *key != tc.key || !reflect.DeepEqual(pos, tc.pos) {
			t.Errorf("%q: key %q pos %q err %v; want %q %q", tc.args, *key, pos, err, tc.key, tc.pos)
		}
	}
}

// TestTrustFlag reads LEVEL=FILE with a keygen .pub or a PEM public key,
// and refuses what would be a mistake.
func TestTrustFlag(t *testing.T) {
	dir := t.TempDir()
	priv, _ := mobile.GenerateKey()
	keyPath, pubPath := filepath.Join(dir, "k.key"), filepath.Join(dir, "k.pub")
	if err := mobile.WriteKey(keyPath, pubPath, priv); err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(priv.Public())
	pemPath := filepath.Join(dir, "k.pem")
	os.WriteFile(pemPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644)

	var tf trustFlag
	for _, v := range []string{"certified=" + pubPath, "Official=" + pemPath} {
		if err := tf.Set(v); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
	}
	if len(tf.keys) != 2 || tf.keys[0].Level != registry.Certified || tf.keys[1].Level != registry.Official ||
		!tf.keys[0].Key.Equal(priv.Public()) || !tf.keys[1].Key.Equal(priv.Public()) {
		t.Fatalf("keys: %+v", tf.keys)
	}
	for v, want := range map[string]string{
		"certified":                  "LEVEL=PUBLIC_KEY_FILE",
		"gold=" + pubPath:            "unknown certification level",
		"unverified=" + pubPath:      "needs no key",
		"certified=" + keyPath:       "is a private key",
		"certified=" + dir + "/nope": "no such file",
	} {
		if err := tf.Set(v); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", v, err, want)
		}
	}
}
