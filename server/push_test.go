package server_test

import (
	"bytes"
	"fmt"
	"math/rand"
	"net/http"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/server"
)

func TestPushCreatesThenIsIdempotentThenConflicts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	files := helloPlugin("com.example.hello", "1.0.0")

	first := e.push("dev", files)
	if first.status != http.StatusCreated {
		t.Fatalf("first push: %d %s", first.status, first.body)
	}
	body := first.json(t)
	if body["id"] != "com.example.hello" || body["version"] != "1.0.0" || body["created"] != true {
		t.Errorf("push answer: %s", first.body)
	}
	bundles := body["bundles"].(map[string]any)
	for _, k := range []string{"web", "mobile"} {
		b, ok := bundles[k].(map[string]any)
		if !ok {
			t.Fatalf("no %s bundle in %s", k, first.body)
		}
		if !strings.HasPrefix(b["integrity"].(string), "sha256-") || b["size"].(float64) <= 0 {
			t.Errorf("%s bundle: %v", k, b)
		}
	}
	// A first push answers before its source maps are built: they are
	// pending, named by the URL each bundle's sourceMappingURL gives.
	for _, k := range []string{"web", "mobile"} {
		m, ok := bundles[k+"_map"].(map[string]any)
		if !ok || m["pending"] != true {
			t.Fatalf("%s_map in the push answer: %v, want it pending", k, m)
		}
		js := e.do("", "GET", bundles[k].(map[string]any)["url"].(string), "", nil)
		if want := "\n//# sourceMappingURL=" + strings.TrimPrefix(m["url"].(string), "/bundles/") + "\n"; !strings.HasSuffix(string(js.body), want) {
			t.Errorf("%s bundle does not end with %q", k, want)
		}
	}
	if slots := body["slots"].([]any); len(slots) != 2 {
		t.Errorf("slots: %v", slots)
	}
	if _, ok := body["build_ms"].(float64); !ok {
		t.Errorf("no build_ms: %s", first.body)
	}

	again := e.push("dev", files)
	if again.status != http.StatusOK || again.json(t)["created"] != false {
		t.Fatalf("identical re-push: %d %s", again.status, again.body)
	}
	if again.json(t)["package_sha256"] != body["package_sha256"] {
		t.Errorf("re-push names another package")
	}

	files["webapp/style.css"] = `.hello { color: blue; }`
	conflict := e.push("dev", files)
	if conflict.status != http.StatusConflict || conflict.errorCode(t) != "version_conflict" {
		t.Fatalf("changed content, same version: %d %s", conflict.status, conflict.body)
	}
	// Nothing of the conflicting push was stored.
	if got := e.do("dev", "GET", "/api/v1/plugins/com.example.hello", "", nil); !bytes.Contains(got.body, []byte(`"versions":["1.0.0"]`)) {
		t.Errorf("versions after conflict: %s", got.body)
	}
}

func TestPushOwnership(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	if r := e.push("dev", helloPlugin("com.example.owned", "1.0.0")); r.status != http.StatusCreated {
		t.Fatalf("dev push: %d %s", r.status, r.body)
	}
	r := e.push("bob", helloPlugin("com.example.owned", "1.1.0"))
	if r.status != http.StatusForbidden || r.errorCode(t) != "not_owner" {
		t.Fatalf("bob pushes dev's id: %d %s", r.status, r.body)
	}
	if r := e.push("admin", helloPlugin("com.example.owned", "1.1.0")); r.status != http.StatusCreated {
		t.Fatalf("system admin pushes: %d %s", r.status, r.body)
	}
	if r := e.push("dev", helloPlugin("com.example.owned", "1.2.0")); r.status != http.StatusCreated {
		t.Fatalf("owner pushes again: %d %s", r.status, r.body)
	}
}

func TestPushCompileErrorIsDiagnostics(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	files := helloPlugin("com.example.broken", "1.0.0")
	files["webapp/index.tsx"] = "import React from 'react';\nconst x = 1 +;\n"
	r := e.push("dev", files)
	if r.status != http.StatusUnprocessableEntity || r.errorCode(t) != "compile_error" {
		t.Fatalf("compile error: %d %s", r.status, r.body)
	}
	diags := r.json(t)["error"].(map[string]any)["diagnostics"].([]any)
	if len(diags) == 0 {
		t.Fatalf("no diagnostics: %s", r.body)
	}
	d := diags[0].(map[string]any)
	if d["file"] != "webapp/index.tsx" || d["line"].(float64) != 2 || d["text"] == "" {
		t.Errorf("diagnostic: %v", d)
	}
	if _, ok := d["column"].(float64); !ok {
		t.Errorf("diagnostic has no column: %v", d)
	}
	// Nothing stored.
	if r := e.do("dev", "GET", "/api/v1/plugins/com.example.broken", "", nil); r.status != http.StatusNotFound {
		t.Errorf("a failed push stored something: %d %s", r.status, r.body)
	}

	files = helloPlugin("com.example.unresolved", "1.0.0")
	files["webapp/index.tsx"] = "import moment from 'moment';\nconsole.log(moment);\n"
	r = e.push("dev", files)
	if r.status != http.StatusUnprocessableEntity || !bytes.Contains(r.body, []byte("moment")) {
		t.Fatalf("unresolved import: %d %s", r.status, r.body)
	}
}

func TestPushRejectsBadPackages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{Limits: pluginpkg.Limits{MaxArchiveBytes: 64 << 10, MaxFiles: 5, MaxManifestBytes: 4 << 10}})
	many := map[string]string{"plugin.json": `{"id":"com.x.y","name":"y","version":"1.0.0","webapp":{"entry":"i.js"}}`, "i.js": "1"}
	for i := 0; i < 6; i++ {
		many[fmt.Sprintf("f%d.js", i)] = "1"
	}
	valid := archive(t, helloPlugin("com.example.ok", "1.0.0"))
	noise := make([]byte, 200<<10) // random: does not compress into 64 KiB
	rand.New(rand.NewSource(1)).Read(noise)
	tests := []struct {
		name        string
		contentType string
		body        []byte
		status      int
		code        string
	}{
		{"not gzip", "application/gzip", []byte("hello"), 400, pluginpkg.CodeBadArchive},
		{"no manifest", "application/gzip", archive(t, map[string]string{"webapp/index.js": "x"}), 400, pluginpkg.CodeManifestMissing},
		{"bad manifest", "application/gzip", archive(t, map[string]string{"plugin.json": `{"id":"x"}`}), 400, pluginpkg.CodeManifestInvalid},
		{"manifest syntax", "application/gzip", archive(t, map[string]string{"plugin.json": `{"id":`}), 400, pluginpkg.CodeManifestSyntax},
		{"unknown slot", "application/gzip", archive(t, map[string]string{
			"plugin.json": `{"id":"com.x.y","name":"y","version":"1.0.0","webapp":{"entry":"i.js"},"slots":[{"slot":"nowhere"}]}`,
			"i.js":        "1"}), 400, pluginpkg.CodeManifestInvalid},
		{"post type without custom_", "application/gzip", archive(t, map[string]string{
			"plugin.json": `{"id":"com.x.y","name":"y","version":"1.0.0","webapp":{"entry":"i.js"},"slots":[{"slot":"post_type","post_type":"map"}]}`,
			"i.js":        "1"}), 400, pluginpkg.CodeManifestInvalid},
		{"entry missing", "application/gzip", archive(t, map[string]string{
			"plugin.json": `{"id":"com.x.y","name":"y","version":"1.0.0","webapp":{"entry":"webapp/index.tsx"}}`}), 400, pluginpkg.CodeEntryMissing},
		{"traversal", "application/gzip", rawTar(t, "../evil.js", "plugin.json"), 400, pluginpkg.CodePathTraversal},
		{"absolute path", "application/gzip", rawTar(t, "/etc/evil.js"), 400, pluginpkg.CodeAbsolutePath},
		{"duplicate entry", "application/gzip", rawTar(t, "plugin.json", "plugin.json"), 400, pluginpkg.CodeDuplicateEntry},
		{"over the archive limit", "application/gzip", archive(t, map[string]string{
			"plugin.json": `{"id":"com.x.y","name":"y","version":"1.0.0","webapp":{"entry":"i.js"}}`,
			"i.js":        "1", "noise.bin": string(noise)}), 413, pluginpkg.CodeArchiveTooLarge},
		{"wrong media type", "application/json", valid, 415, "unsupported_media_type"},
		{"broken multipart", "multipart/form-data; boundary=x", []byte("not a form"), 400, "bad_multipart"},
		{"too many files", "application/gzip", archive(t, many), 413, pluginpkg.CodeTooManyFiles},
		{"manifest too large", "application/gzip", archive(t, map[string]string{
			"plugin.json": `{"id":"com.x.y","name":"y","version":"1.0.0","description":"` + strings.Repeat("d", 5000) + `"}`}), 413, pluginpkg.CodeManifestTooLarge},
		{"symlink", "application/gzip", linkTar(t), 400, pluginpkg.CodeLinkEntry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("dev", "POST", "/api/v1/plugins", tt.contentType, bytes.NewReader(tt.body))
			if r.status != tt.status || r.errorCode(t) != tt.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
		})
	}
}

func TestPushMultipart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	ct, body := multipartBody(t, "plugin", archive(t, helloPlugin("com.example.multi", "1.0.0")))
	if r := e.do("dev", "POST", "/api/v1/plugins", ct, body); r.status != http.StatusCreated {
		t.Fatalf("multipart push: %d %s", r.status, r.body)
	}
	ct, body = multipartBody(t, "file", archive(t, helloPlugin("com.example.multi", "1.0.1")))
	r := e.do("dev", "POST", "/api/v1/plugins", ct, body)
	if r.status != http.StatusBadRequest || r.errorCode(t) != "plugin_field_missing" {
		t.Fatalf("multipart without plugin field: %d %s", r.status, r.body)
	}
}

func TestPushPrebuiltMattermostBundle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	// As a Mattermost plugin archive ships: one top-level directory, a
	// webpack-built bundle reading host globals, and server binaries.
	bundle := `(()=>{var e=window.React,t=window["ReactDOM"];window.registerPlugin("com.mattermost.demo",{initialize(r){r.registerRootComponent(()=>e.createElement("b",null,"demo"))}})})();`
	files := map[string]string{
		"com.mattermost.demo/plugin.json": `{"id":"com.mattermost.demo","name":"Demo","version":"0.9.0",
			"server":{"executables":{"linux-amd64":"server/dist/plugin-linux-amd64"}},
			"webapp":{"bundle_path":"webapp/dist/main.js"}}`,
		"com.mattermost.demo/webapp/dist/main.js":            bundle,
		"com.mattermost.demo/server/dist/plugin-linux-amd64": "\x7fELF binary",
	}
	r := e.push("dev", files)
	if r.status != http.StatusCreated {
		t.Fatalf("prebuilt push: %d %s", r.status, r.body)
	}
	body := r.json(t)
	// The server binaries are kept as its server part, not installed:
	// there is no Mattermost behind the sandbox (serverpart_test.go).
	if sp, _ := body["server_part"].(map[string]any); body["prebuilt"] != true || sp["state"] != "not_installed" {
		t.Errorf("want prebuilt with its server part kept, not installed: %s", r.body)
	}
	if mods := body["host_modules"].([]any); len(mods) != 2 || mods[0] != "react" || mods[1] != "react-dom" {
		t.Errorf("host modules from globals: %v", mods)
	}
	url := body["bundles"].(map[string]any)["web"].(map[string]any)["url"].(string)
	got := e.do("", "GET", url, "", nil)
	if got.status != 200 || string(got.body) != bundle {
		t.Fatalf("prebuilt bundle not served unchanged: %d %q", got.status, got.body)
	}
}

func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	for _, tt := range []struct {
		auth, code string
	}{{"", "unauthenticated"}, {"Bearer nope", "invalid_token"}} {
		r := e.do("", "GET", "/api/v1/plugins", "", nil, "Authorization", tt.auth)
		if r.status != http.StatusUnauthorized || r.errorCode(t) != tt.code {
			t.Errorf("auth %q: %d %s", tt.auth, r.status, r.body)
		}
	}
	// The MMAUTHTOKEN cookie works like the header, as in Mattermost.
	r := e.do("", "GET", "/api/v1/plugins", "", nil, "Cookie", "MMAUTHTOKEN="+e.tokens["bob"])
	if r.status != http.StatusOK {
		t.Errorf("cookie auth: %d %s", r.status, r.body)
	}
}
