package pluginpkg_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// ReadFiles and ReadArchive of the same files give the same package.
func TestReadFilesMatchesReadArchive(t *testing.T) {
	files := samplePackageFiles()
	files["server/dist/plugin-linux-amd64"] = []byte("\x7fELF")
	var buf bytes.Buffer
	if err := pluginpkg.WriteArchiveLevel(&buf, files, 1); err != nil {
		t.Fatal(err)
	}
	fromArchive, err := pluginpkg.ReadArchive(&buf, pluginpkg.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fromFiles, err := pluginpkg.ReadFiles(files, pluginpkg.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fromFiles.SHA256() != fromArchive.SHA256() || !reflect.DeepEqual(fromFiles.Manifest, fromArchive.Manifest) ||
		!reflect.DeepEqual(fromFiles.Warnings, fromArchive.Warnings) || len(fromFiles.Files) != len(fromArchive.Files) {
		t.Fatalf("ReadFiles %s %v, ReadArchive %s %v", fromFiles.SHA256(), fromFiles.Warnings, fromArchive.SHA256(), fromArchive.Warnings)
	}
}

func TestReadFilesRules(t *testing.T) {
	for name, tc := range map[string]struct {
		path string
		code string
		lim  pluginpkg.Limits
	}{
		"traversal":   {path: "../x", code: pluginpkg.CodePathTraversal},
		"absolute":    {path: "/etc/passwd", code: pluginpkg.CodeAbsolutePath},
		"too many":    {path: "a/b.js", code: pluginpkg.CodeTooManyFiles, lim: pluginpkg.Limits{MaxFiles: 2}},
		"file is dir": {path: "webapp", code: pluginpkg.CodeDuplicateEntry},
	} {
		t.Run(name, func(t *testing.T) {
			files := samplePackageFiles()
			files[tc.path] = []byte("x")
			_, err := pluginpkg.ReadFiles(files, tc.lim, nil)
			var perr *pluginpkg.Error
			if !errors.As(err, &perr) || perr.Code != tc.code {
				t.Fatalf("got %v, want code %s", err, tc.code)
			}
		})
	}
}
