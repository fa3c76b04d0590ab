package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/bundlertest"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// TestPackRepositoryAfterNpmCI: pack of a Mattermost plugin repository as
// it is after `npm ci` (50,000 files in node_modules/ the entry never
// reaches, tests, .git, a plugin.json naming only webapp.bundle_path, bare
// imports of src/ folders) sends exactly the import graph, built from
// webapp/src/index.tsx, without listing node_modules/.
func TestPackRepositoryAfterNpmCI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want, err := bundlertest.Repo{Components: 5, Unreachable: 50000}.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var buf, stderr bytes.Buffer
	if _, err := packDir(dir, &buf, &stderr, nil); err != nil {
		t.Fatalf("pack: %v\n%s", err, stderr.String())
	}
	elapsed := time.Since(start)
	// A walk of the directory alone takes longer than this on a busy
	// machine; the import graph of 25 files takes well under a second.
	if elapsed > 20*time.Second {
		t.Errorf("pack took %v", elapsed)
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
	if !reflect.DeepEqual(got, want) {
		t.Errorf("packed files\n got %q\nwant %q", got, want)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(pkg.Files["plugin.json"], &m); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	json.Compact(&compact, m["webapp"])
	if compact.String() != `{"entry":"webapp/src/index.tsx"}` {
		t.Errorf("webapp section sent: %s", m["webapp"])
	}
	if _, ok := m["server"]; !ok {
		t.Error("the server section was dropped; it is sent as written")
	}

	// The package compiles as sent.
	res, err := bundler.Build(pkg, bundler.Web)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"exports-esm", "feature-esm", "browser", ".repo-root{", "data:image/png;base64,", `"production"`} {
		if !bytes.Contains(res.JS, []byte(s)) {
			t.Errorf("bundle lacks %q", s)
		}
	}
	if bytes.Contains(res.JS, []byte("exports-cjs")) {
		t.Error("the import of pkg-exports took the require condition")
	}
}

// TestPackRepositoryLookups: packing asks the disk about the paths the
// import graph can name, not about every file: the number of stat calls
// does not grow with node_modules/.
func TestPackRepositoryLookups(t *testing.T) {
	t.Parallel()
	var stats [2]int
	for i, unreachable := range []int{0, 5000} {
		dir := t.TempDir()
		if _, err := (bundlertest.Repo{Components: 3, Unreachable: unreachable}).Write(dir); err != nil {
			t.Fatal(err)
		}
		pd, err := (*bundler.Cache)(nil).PackDir(dir, bundler.DirOptions{Known: slots.Known})
		if err != nil {
			t.Fatal(err)
		}
		stats[i] = pd.Stats
	}
	if stats[0] != stats[1] || stats[0] > 500 {
		t.Errorf("stat calls: %d without node_modules files, %d with 5,000", stats[0], stats[1])
	}
}

// TestPackPrebuiltKeepsDist: --prebuilt sends the built bundle and the rest
// of its output directory (chunks, images, fonts), not the sources.
func TestPackPrebuiltKeepsDist(t *testing.T) {
	dir := t.TempDir()
	if _, err := (bundlertest.Repo{}).Write(dir); err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string]string{
		"webapp/dist/main.js":         "window.registerPlugin('com.example.repo', {});",
		"webapp/dist/main.js.map":     "{}",
		"webapp/dist/123.js":          "/* chunk */",
		"webapp/dist/files/font.woff": "wOFF",
	})
	pd, err := (*bundler.Cache)(nil).PackDir(dir, bundler.DirOptions{Known: slots.Known, Prebuilt: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for p := range pd.Files {
		got = append(got, p)
	}
	sort.Strings(got)
	want := []string{"LICENSE", "README.md", "plugin.json", "webapp/dist/123.js", "webapp/dist/files/font.woff", "webapp/dist/main.js", "webapp/dist/main.js.map"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("files\n got %q\nwant %q", got, want)
	}
	if pd.SourceEntry != "" {
		t.Errorf("source entry %q with --prebuilt", pd.SourceEntry)
	}
	// Without --prebuilt the sources win over the built bundle.
	pd, err = (*bundler.Cache)(nil).PackDir(dir, bundler.DirOptions{Known: slots.Known})
	if err != nil {
		t.Fatal(err)
	}
	if pd.SourceEntry != "webapp/src/index.tsx" || pd.Files["webapp/dist/main.js"] != nil || pd.Files["webapp/dist/123.js"] != nil {
		t.Errorf("default with both a bundle and sources: entry %q, dist sent: %v", pd.SourceEntry, pd.Files["webapp/dist/main.js"] != nil)
	}
}

// TestPackBundlePathWithoutSources: a plugin.json naming a bundle that is
// not built, without sources at the default place, says how to go on.
func TestPackBundlePathWithoutSources(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"plugin.json":         `{"id":"com.example.nosrc","name":"N","version":"1.0.0","webapp":{"bundle_path":"webapp/dist/main.js"}}`,
		"webapp/app/main.tsx": "(window as any).registerPlugin('com.example.nosrc', {});\n",
	})
	_, err := (*bundler.Cache)(nil).PackDir(dir, bundler.DirOptions{Known: slots.Known})
	var pe *pluginpkg.Error
	if !errorsAs(err, &pe) || pe.Code != pluginpkg.CodeEntryMissing || !bytes.Contains([]byte(pe.Message), []byte("--webapp-entry")) {
		t.Fatalf("err = %v", err)
	}
	pd, err := (*bundler.Cache)(nil).PackDir(dir, bundler.DirOptions{Known: slots.Known, WebappEntry: "webapp/app/main.tsx"})
	if err != nil {
		t.Fatal(err)
	}
	if pd.Package.Manifest.Webapp.Entry != "webapp/app/main.tsx" {
		t.Errorf("manifest sent: %+v", pd.Package.Manifest.Webapp)
	}
	_ = os.Remove
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// TestPackUnpackedArchiveFolder: a folder holding one folder with the
// plugin (an unpacked Mattermost archive) packs that plugin, as ReadDir
// takes the archive's single top-level directory for the root.
func TestPackUnpackedArchiveFolder(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"com.example.top/plugin.json":      `{"id":"com.example.top","name":"T","version":"1.0.0","webapp":{"entry":"webapp/index.ts"}}`,
		"com.example.top/webapp/index.ts":  "(window as any).registerPlugin('com.example.top', {});\n",
		"com.example.top/webapp/unused.ts": "export {};\n",
	})
	pd, err := (*bundler.Cache)(nil).PackDir(dir, bundler.DirOptions{Known: slots.Known})
	if err != nil {
		t.Fatal(err)
	}
	if len(pd.Files) != 2 || pd.Files["webapp/index.ts"] == nil || pd.Files["plugin.json"] == nil {
		t.Errorf("files: %d", len(pd.Files))
	}
}

// TestPackStarterTemplateLayout: the Mattermost starter template's
// repository as cloned: plugin.json without a version (its build takes it
// from git tags) and webapp/src/index.tsx importing the manifest.ts its
// build generates (gitignored). --version supplies the one, plugin.json
// stands in for the other.
func TestPackStarterTemplateLayout(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"plugin.json": `{"id":"com.example.starter","name":"Starter","min_server_version":"6.2.1",
			"server":{"executables":{"linux-amd64":"server/dist/plugin-linux-amd64"}},"webapp":{"bundle_path":"webapp/dist/main.js"}}`,
		"webapp/package.json":  `{"private":true}`,
		"webapp/tsconfig.json": `{"compilerOptions":{"baseUrl":"./src","jsx":"react"}}`,
		"webapp/src/index.tsx": "import manifest from 'manifest';\nimport type {PluginRegistry} from 'types/mattermost-webapp';\n" +
			"class Plugin { public async initialize(registry: PluginRegistry) {} }\n(window as any).registerPlugin(manifest.id, new Plugin());\n",
		"webapp/src/types/mattermost-webapp/index.d.ts": "export interface PluginRegistry {}\n",
	})
	var stderr bytes.Buffer
	_, _, err := packedFilesWith(dir, &stderr, bundler.DirOptions{})
	var pe *pluginpkg.Error
	if !errorsAs(err, &pe) || pe.Field != "version" || !strings.Contains(pe.Message, "--version") {
		t.Fatalf("without --version: %v", err)
	}
	fs := flag.NewFlagSet("pack", flag.ContinueOnError)
	src := addSourceFlags(fs)
	if err := fs.Parse([]string{"--version", "2.0.1"}); err != nil {
		t.Fatal(err)
	}
	pkg, files, err := packedFilesWith(dir, &stderr, src.options(dir))
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if pkg.Manifest.Version != "2.0.1" || pkg.Manifest.Webapp.Entry != "webapp/src/index.tsx" {
		t.Errorf("manifest sent: %+v", pkg.Manifest)
	}
	if len(files) != 4 { // plugin.json, index.tsx, package.json, tsconfig.json
		t.Errorf("files sent: %d", len(files))
	}
	res, err := bundler.Build(pkg, bundler.Web)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(res.JS, []byte("com.example.starter")) {
		t.Errorf("the generated manifest's id is not in the bundle:\n%s", res.JS)
	}
}
