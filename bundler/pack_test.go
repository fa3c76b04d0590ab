package bundler

import (
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// TestPackedPackageCompiles: what PackFiles keeps compiles on its own,
// including a "browser" file map (vfile's lib/minpath.js ->
// lib/minpath.browser.js): the resolver must find the file it replaces to
// apply the map, so pack keeps it too. It failed on the server when pack
// kept only the replacement (mattermost-plugin-jira's micromark, vfile,
// parse-entities, unist-util-visit-parents).
func TestPackedPackageCompiles(t *testing.T) {
	full := memPackage("index.ts", "", map[string]string{
		"index.ts":                                  "import {path} from 'vfile';\nimport decode from 'entities/decode.js';\nimport gone from 'entities/server-only';\nconsole.log(path, decode, gone);\n",
		"node_modules/vfile/package.json":           `{"name":"vfile","main":"index.js","browser":{"./lib/minpath.js":"./lib/minpath.browser.js"}}`,
		"node_modules/vfile/index.js":               "export {path} from './lib/minpath';\n",
		"node_modules/vfile/lib/minpath.js":         "export const path = 'node';\n",
		"node_modules/vfile/lib/minpath.browser.js": "export const path = 'browser';\n",
		"node_modules/entities/package.json":        `{"name":"entities","browser":{"./decode.js":"./decode.browser.js","./server-only.js":false}}`,
		"node_modules/entities/decode.js":           "export default 'node';\n",
		"node_modules/entities/decode.browser.js":   "export default 'browser';\n",
		"node_modules/entities/server-only.js":      "export default 'server';\n",
	})
	keep, err := PackFiles(full)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, p := range keep {
		files[p] = full.Files[p]
	}
	packed := &pluginpkg.Package{Manifest: full.Manifest, RawManifest: full.RawManifest, Files: files}
	if _, err := Build(packed, Web); err != nil {
		t.Fatalf("the packed files %q do not compile: %v", keep, err)
	}
}

// TestPackKeepsPublicFolder: the package's public/ folder travels with it
// (Mattermost serves it at /plugins/<id>/public/; zoom's and gitlab's
// webapps show their app-bar icon from there), though no import reaches
// it; node_modules inside it does not.
func TestPackKeepsPublicFolder(t *testing.T) {
	full := memPackage("index.ts", "", map[string]string{
		"index.ts":                       "console.log('hi');\n",
		"public/app-bar-icon.png":        "png",
		"public/docs/guide.svg":          "<svg/>",
		"public/node_modules/x/index.js": "junk",
		"server/main.go":                 "package main",
	})
	keep, err := PackFiles(full)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, p := range keep {
		got[p] = true
	}
	for _, p := range []string{"public/app-bar-icon.png", "public/docs/guide.svg"} {
		if !got[p] {
			t.Errorf("%s not kept: %q", p, keep)
		}
	}
	for _, p := range []string{"public/node_modules/x/index.js", "server/main.go"} {
		if got[p] {
			t.Errorf("%s kept: %q", p, keep)
		}
	}
	if want := []string{"public/app-bar-icon.png", "public/docs/guide.svg"}; len(PublicFiles(full)) != 2 {
		t.Errorf("PublicFiles: %q, want %q", PublicFiles(full), want)
	}
}
