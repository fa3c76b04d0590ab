package pluginpkg_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// writeDir writes files under a new temporary directory and returns it.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, body := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func byteFiles(files map[string]string) map[string][]byte {
	out := make(map[string][]byte, len(files))
	for p, body := range files {
		out[p] = []byte(body)
	}
	return out
}

// ReadDir of a directory and ReadArchive of an archive of its contents give
// the same Package.
func TestReadDirMatchesReadArchive(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
	}{
		{name: "root layout", files: map[string]string{
			"plugin.json":           manifest("icon_path", "assets/icon.svg"),
			"webapp/index.tsx":      entryTSX,
			"webapp/empty.ts":       "",
			"assets/icon.svg":       "<svg/>",
			"node_modules/x/a.js":   "module.exports = 1",
			"node_modules/x/b.json": "{}",
		}},
		{name: "mattermost layout", files: map[string]string{
			"com.example.x/plugin.json":                    mattermostManifest,
			"com.example.x/server/dist/plugin-linux-amd64": randomBytes(4096),
			"com.example.x/webapp/dist/main.js":            "(function(){})()",
			"com.example.x/assets/icon.svg":                "<svg/>",
		}},
		{name: "server dist at root", files: map[string]string{
			"plugin.json":                  manifest(),
			"webapp/index.tsx":             entryTSX,
			"server/dist/plugin-linux-arm": "ELF",
			"server/main.go":               "package main",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fromDir, err := pluginpkg.ReadDir(writeDir(t, tc.files), pluginpkg.Limits{}, knownSlots)
			if err != nil {
				t.Fatalf("ReadDir: %v", err)
			}
			var buf bytes.Buffer
			if err := pluginpkg.WriteArchive(&buf, byteFiles(tc.files)); err != nil {
				t.Fatal(err)
			}
			fromArchive, err := pluginpkg.ReadArchive(&buf, pluginpkg.Limits{}, knownSlots)
			if err != nil {
				t.Fatalf("ReadArchive: %v", err)
			}
			// The same files but for the server part: an archive keeps it
			// (Package.Server), a folder being packed leaves it out with
			// a warning.
			var wantServer []string
			for p := range tc.files {
				if strings.Contains(p, "server/dist/") {
					wantServer = append(wantServer, p[strings.Index(p, "server/dist/"):])
				}
			}
			var gotServer []string
			for p := range fromArchive.Server {
				gotServer = append(gotServer, p)
			}
			sort.Strings(wantServer)
			sort.Strings(gotServer)
			if !reflect.DeepEqual(gotServer, wantServer) {
				t.Errorf("ReadArchive kept server part %q, want %q", gotServer, wantServer)
			}
			if len(wantServer) > 0 && len(fromDir.Warnings) != 1 {
				t.Errorf("ReadDir warnings %q, want one naming the server executables left out", fromDir.Warnings)
			}
			fromArchive.Server, fromArchive.Warnings = nil, fromDir.Warnings
			if !reflect.DeepEqual(fromDir, fromArchive) {
				t.Errorf("ReadDir:\n%+v\nReadArchive:\n%+v", fromDir, fromArchive)
			}
			if fromDir.SHA256() != fromArchive.SHA256() {
				t.Error("digests differ")
			}
		})
	}
}

func TestReadDir(t *testing.T) {
	valid := map[string]string{"plugin.json": manifest(), "webapp/index.tsx": entryTSX}

	t.Run("git directory is skipped", func(t *testing.T) {
		root := writeDir(t, map[string]string{
			"plugin.json": manifest(), "webapp/index.tsx": entryTSX,
			".git/HEAD": "ref: refs/heads/main", ".git/objects/ab/cd": "x",
			"vendor/.git": "gitdir: ../.git/modules/vendor",
		})
		pkg, err := pluginpkg.ReadDir(root, pluginpkg.Limits{MaxFiles: 2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(pkg.Files) != 2 {
			t.Errorf("files = %v", len(pkg.Files))
		}
	})

	t.Run("symlink", func(t *testing.T) {
		root := writeDir(t, valid)
		if err := os.Symlink("/etc/passwd", filepath.Join(root, "webapp", "secret.ts")); err != nil {
			t.Skip("symlinks unavailable:", err)
		}
		_, err := pluginpkg.ReadDir(root, pluginpkg.Limits{}, nil)
		wantError(t, err, pluginpkg.CodeLinkEntry, "webapp/secret.ts", "")
	})

	t.Run("symlinked root is followed", func(t *testing.T) {
		root := writeDir(t, valid)
		link := filepath.Join(t.TempDir(), "link")
		if err := os.Symlink(root, link); err != nil {
			t.Skip("symlinks unavailable:", err)
		}
		if _, err := pluginpkg.ReadDir(link, pluginpkg.Limits{}, nil); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("too many files", func(t *testing.T) {
		files := map[string]string{"a": "", "b": "", "c": ""}
		for p, b := range valid {
			files[p] = b
		}
		_, err := pluginpkg.ReadDir(writeDir(t, files), pluginpkg.Limits{MaxFiles: 4}, nil)
		wantError(t, err, pluginpkg.CodeTooManyFiles, "", "")
	})

	t.Run("unpacked too large", func(t *testing.T) {
		files := map[string]string{"server/dist/plugin": randomBytes(4096)}
		for p, b := range valid {
			files[p] = b
		}
		_, err := pluginpkg.ReadDir(writeDir(t, files), pluginpkg.Limits{MaxUnpackedBytes: 4096}, nil)
		wantError(t, err, pluginpkg.CodeUnpackedTooLarge, "", "")
	})

	t.Run("manifest missing", func(t *testing.T) {
		_, err := pluginpkg.ReadDir(writeDir(t, map[string]string{"webapp/index.tsx": entryTSX}), pluginpkg.Limits{}, nil)
		wantError(t, err, pluginpkg.CodeManifestMissing, "", "")
	})

	t.Run("not a directory", func(t *testing.T) {
		root := writeDir(t, valid)
		for _, p := range []string{filepath.Join(root, "plugin.json"), filepath.Join(root, "missing")} {
			_, err := pluginpkg.ReadDir(p, pluginpkg.Limits{}, nil)
			if err == nil {
				t.Fatalf("ReadDir(%s) succeeded", p)
			}
			var e *pluginpkg.Error
			if reflect.TypeOf(err) == reflect.TypeOf(e) {
				t.Errorf("ReadDir(%s): a disk problem came back as *Error: %v", p, err)
			}
		}
	})
}
