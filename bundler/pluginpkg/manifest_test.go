package pluginpkg_test

import (
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

type manifestCase struct {
	name  string
	json  string
	code  string // "" means valid
	field string
	msg   string
	check func(t *testing.T, m *pluginpkg.Manifest)
}

func slots(decls ...map[string]any) []any {
	out := make([]any, len(decls))
	for i, d := range decls {
		out[i] = d
	}
	return out
}

func route(method, path string) map[string]any { return map[string]any{"method": method, "path": path} }

func manifestCases() []manifestCase {
	bad := pluginpkg.CodeManifestInvalid
	web := func(kv ...string) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	return []manifestCase{
		// Valid manifests, and how they are normalised.
		{name: "minimal", json: manifest()},
		{name: "spec example", json: `{
  "id": "com.example.map", "name": "Map", "version": "1.2.0",
  "description": "...", "icon_path": "assets/icon.svg", "min_server_version": "5.38.0",
  "webapp": { "entry": "webapp/index.tsx" },
  "mobile": { "entry": "mobile/index.tsx" },
  "slots": [ { "slot": "post_type", "post_type": "custom_map_location" } ],
  "proxy": [ { "method": "POST", "path": "/api/v4/posts" } ],
  "settings_schema": { "settings": [] }
}`},
		{name: "id is lower-cased", json: manifest("id", "Com.Example.MAP"), check: func(t *testing.T, m *pluginpkg.Manifest) {
			if m.ID != "com.example.map" {
				t.Errorf("ID = %q", m.ID)
			}
		}},
		{name: "prerelease and build", json: manifest("version", "2.0.0-beta.1+exp.sha.5114f85")},
		{name: "unknown fields allowed", json: manifest("release_notes_url", "https://example.com/notes", "props", map[string]any{"a": 1}, "requiredConfiguration", true, "server", nil)},
		{name: "proxy normalised", json: manifest("proxy", []any{route("get", "/api/v4/users/{user_id}/teams"), route("Delete", "/api/v4/posts/*")}), check: func(t *testing.T, m *pluginpkg.Manifest) {
			if m.Proxy[0].Method != "GET" || m.Proxy[1].Method != "DELETE" {
				t.Errorf("methods = %q, %q", m.Proxy[0].Method, m.Proxy[1].Method)
			}
		}},
		{name: "leading dot-slash removed", json: manifest("webapp", web("bundle_path", "./webapp/dist/main.js"), "icon_path", "./icon.svg"), check: func(t *testing.T, m *pluginpkg.Manifest) {
			if m.Webapp.BundlePath != "webapp/dist/main.js" || m.IconPath != "icon.svg" {
				t.Errorf("paths = %q, %q", m.Webapp.BundlePath, m.IconPath)
			}
		}},
		{name: "several post types", json: manifest("slots", slots(map[string]any{"slot": "post_type", "post_type": "custom_a"}, map[string]any{"slot": "post_type", "post_type": "custom_b"}, map[string]any{"slot": "app_bar"}))},
		{name: "every entry extension", json: manifest("webapp", web("entry", "a.mjs"), "mobile", web("entry", "b.cjs"))},
		{name: "server section", json: manifest("server", map[string]any{"executables": map[string]any{"linux-amd64": "server/dist/plugin-linux-amd64"}, "executable": "server/dist/plugin"})},

		// Syntax.
		{name: "empty", json: "", code: pluginpkg.CodeManifestSyntax, msg: "empty"},
		{name: "not json", json: "id: com.example.map", code: pluginpkg.CodeManifestSyntax, msg: "line 1"},
		{name: "syntax error position", json: "{\n\"id\": \"a\",\n\"name\": }", code: pluginpkg.CodeManifestSyntax, msg: "line 3, column 9"},
		{name: "trailing data", json: manifest() + "{}", code: pluginpkg.CodeManifestSyntax},
		{name: "wrong type", json: `{"id": 3}`, code: pluginpkg.CodeManifestSyntax, field: "id", msg: "number"},
		{name: "wrong nested type", json: `{"webapp": {"entry": ["a.ts"]}}`, code: pluginpkg.CodeManifestSyntax, field: "webapp.entry"},
		{name: "array", json: `[]`, code: pluginpkg.CodeManifestSyntax},

		// Mattermost's rules.
		{name: "id missing", json: manifest("id", nil), code: bad, field: "id"},
		{name: "id too short", json: manifest("id", "ab"), code: bad, field: "id", msg: "3 to 190"},
		{name: "id too long", json: manifest("id", strings.Repeat("a", 191)), code: bad, field: "id"},
		{name: "id punctuation", json: manifest("id", "com.example-map_2")},
		{name: "id 190 chars", json: manifest("id", strings.Repeat("a", 190))},
		{name: "id characters", json: manifest("id", "com.example/map"), code: bad, field: "id"},
		{name: "id space", json: manifest("id", "com example"), code: bad, field: "id"},
		{name: "name missing", json: manifest("name", nil), code: bad, field: "name"},
		{name: "name blank", json: manifest("name", "  \t"), code: bad, field: "name"},
		{name: "name too long", json: manifest("name", strings.Repeat("é", 257)), code: bad, field: "name"},
		{name: "version missing", json: manifest("version", nil), code: bad, field: "version"},
		{name: "version v prefix", json: manifest("version", "v1.2.0"), code: bad, field: "version", msg: "1.2.0"},
		{name: "version two parts", json: manifest("version", "1.2"), code: bad, field: "version"},
		{name: "version leading zero", json: manifest("version", "1.02.0"), code: bad, field: "version"},
		{name: "version words", json: manifest("version", "latest"), code: bad, field: "version"},
		{name: "min server version", json: manifest("min_server_version", "5.x"), code: bad, field: "min_server_version"},
		{name: "homepage not http", json: manifest("homepage_url", "javascript:alert(1)"), code: bad, field: "homepage_url"},
		{name: "support url relative", json: manifest("support_url", "/support"), code: bad, field: "support_url"},
		{name: "release notes no host", json: manifest("release_notes_url", "https://"), code: bad, field: "release_notes_url"},
		{name: "description too long", json: manifest("description", strings.Repeat("d", 4097)), code: bad, field: "description"},
		{name: "icon absolute", json: manifest("icon_path", "/etc/icon.svg"), code: bad, field: "icon_path"},
		{name: "icon traversal", json: manifest("icon_path", "../icon.svg"), code: bad, field: "icon_path"},
		{name: "server wrong shape", json: manifest("server", map[string]any{"executables": "plugin"}), code: bad, field: "server"},

		// mmtoolkit's rules.
		{name: "neither webapp nor mobile", json: manifest("webapp", nil), code: bad, field: "webapp", msg: "client plugins"},
		{name: "webapp empty", json: manifest("webapp", web()), code: bad, field: "webapp"},
		{name: "webapp both", json: manifest("webapp", web("entry", "a.ts", "bundle_path", "b.js")), code: bad, field: "webapp"},
		{name: "entry extension", json: manifest("webapp", web("entry", "webapp/index.vue")), code: bad, field: "webapp.entry", msg: ".tsx"},
		{name: "entry traversal", json: manifest("webapp", web("entry", "webapp/../../x.ts")), code: bad, field: "webapp.entry"},
		{name: "entry absolute", json: manifest("webapp", web("entry", "/x.ts")), code: bad, field: "webapp.entry"},
		{name: "entry unclean", json: manifest("webapp", web("entry", "webapp//x.ts")), code: bad, field: "webapp.entry"},
		{name: "entry backslash", json: manifest("webapp", web("entry", `webapp\x.ts`)), code: bad, field: "webapp.entry"},
		{name: "bundle path extension", json: manifest("webapp", web("bundle_path", "webapp/dist/main.ts")), code: bad, field: "webapp.bundle_path"},
		{name: "bundle path traversal", json: manifest("webapp", web("bundle_path", "../main.js")), code: bad, field: "webapp.bundle_path"},
		{name: "mobile entry missing", json: manifest("mobile", web()), code: bad, field: "mobile.entry"},
		{name: "mobile entry extension", json: manifest("mobile", web("entry", "mobile/index.swift")), code: bad, field: "mobile.entry"},
		{name: "slot unknown", json: manifest("slots", slots(map[string]any{"slot": "app_bar"}, map[string]any{"slot": "sidebar_magic"})), code: bad, field: "slots[1].slot", msg: "sidebar_magic"},
		{name: "slot empty", json: manifest("slots", slots(map[string]any{})), code: bad, field: "slots[0].slot"},
		{name: "post type prefix", json: manifest("slots", slots(map[string]any{"slot": "post_type", "post_type": "map_location"})), code: bad, field: "slots[0].post_type", msg: "custom_"},
		{name: "post type missing", json: manifest("slots", slots(map[string]any{"slot": "post_type"})), code: bad, field: "slots[0].post_type"},
		{name: "post type bare prefix", json: manifest("slots", slots(map[string]any{"slot": "post_type", "post_type": "custom_"})), code: bad, field: "slots[0].post_type"},
		{name: "post type on another slot", json: manifest("slots", slots(map[string]any{"slot": "post_type", "post_type": "custom_a"}, map[string]any{"slot": "app_bar"}, map[string]any{"slot": "root", "post_type": "custom_b"})), code: bad, field: "slots[2].post_type"},
		{name: "duplicate slot", json: manifest("slots", slots(map[string]any{"slot": "app_bar"}, map[string]any{"slot": "app_bar"})), code: bad, field: "slots[1]"},
		{name: "duplicate post type", json: manifest("slots", slots(map[string]any{"slot": "post_type", "post_type": "custom_a"}, map[string]any{"slot": "post_type", "post_type": "custom_a"})), code: bad, field: "slots[1]"},
		{name: "proxy method", json: manifest("proxy", []any{route("CONNECT", "/api/v4/posts")}), code: bad, field: "proxy[0].method"},
		{name: "proxy method missing", json: manifest("proxy", []any{route("", "/api/v4/posts")}), code: bad, field: "proxy[0].method"},
		{name: "proxy outside api", json: manifest("proxy", []any{route("GET", "/plugins/x")}), code: bad, field: "proxy[0].path"},
		{name: "proxy api v3", json: manifest("proxy", []any{route("GET", "/api/v3/users")}), code: bad, field: "proxy[0].path"},
		{name: "proxy bare prefix", json: manifest("proxy", []any{route("GET", "/api/v4/")}), code: bad, field: "proxy[0].path"},
		{name: "proxy traversal", json: manifest("proxy", []any{route("GET", "/api/v4/posts"), route("GET", "/api/v4/users/../system/ping")}), code: bad, field: "proxy[1].path"},
		{name: "proxy query", json: manifest("proxy", []any{route("GET", "/api/v4/users?page=1")}), code: bad, field: "proxy[0].path"},
		{name: "proxy star not last", json: manifest("proxy", []any{route("GET", "/api/v4/*/posts")}), code: bad, field: "proxy[0].path"},
		{name: "proxy percent", json: manifest("proxy", []any{route("GET", "/api/v4/%2e%2e/x")}), code: bad, field: "proxy[0].path"},
		{name: "proxy bad param", json: manifest("proxy", []any{route("GET", "/api/v4/users/{user-id}")}), code: bad, field: "proxy[0].path"},
		{name: "proxy trailing slash", json: manifest("proxy", []any{route("GET", "/api/v4/users/")}), code: bad, field: "proxy[0].path"},
	}
}

func TestParseManifest(t *testing.T) {
	for _, tc := range manifestCases() {
		t.Run(tc.name, func(t *testing.T) {
			m, err := pluginpkg.ParseManifest([]byte(tc.json), knownSlots)
			if tc.code != "" {
				e := wantError(t, err, tc.code, "", tc.field)
				if tc.msg != "" && !strings.Contains(e.Message, tc.msg) {
					t.Errorf("message %q does not contain %q", e.Message, tc.msg)
				}
				if tc.code == pluginpkg.CodeManifestInvalid && !strings.HasPrefix(e.Message, e.Field) {
					t.Errorf("message %q does not name field %q", e.Message, e.Field)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseManifest: %v", err)
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

func TestValidateNilCatalogue(t *testing.T) {
	m, err := pluginpkg.ParseManifest([]byte(manifest("slots", slots(map[string]any{"slot": "anything_at_all"}))), nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Slots = append(m.Slots, pluginpkg.SlotDecl{})
	wantError(t, m.Validate(nil), pluginpkg.CodeManifestInvalid, "", "slots[1].slot")
}
