package pluginpkg_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

func samplePackageFiles() map[string][]byte {
	return map[string][]byte{
		"plugin.json":                    []byte(manifest("icon_path", "assets/icon.svg")),
		"webapp/index.tsx":               []byte(entryTSX),
		"assets/icon.svg":                []byte("<svg/>"),
		"node_modules/left-pad/index.js": []byte("module.exports = s => s"),
		"empty":                          {},
		"deep/" + strings.Repeat("n", 120) + "/x.js": []byte("long name"),
	}
}

func TestWriteArchiveDeterministic(t *testing.T) {
	var first, second bytes.Buffer
	if err := pluginpkg.WriteArchive(&first, samplePackageFiles()); err != nil {
		t.Fatal(err)
	}
	if err := pluginpkg.WriteArchive(&second, samplePackageFiles()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatal("same files gave different archives")
	}

	// Framing: plugin.json first, fixed metadata, no gzip name or time.
	zr, err := gzip.NewReader(bytes.NewReader(first.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header name %q mtime %v", zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
		if hdr.Mode != 0o644 || hdr.Uid != 0 || hdr.Gid != 0 || hdr.Uname != "" || hdr.Gname != "" || hdr.ModTime.Unix() != 0 {
			t.Errorf("%s: header %+v", hdr.Name, hdr)
		}
	}
	want := []string{"plugin.json", "assets/icon.svg", "deep/" + strings.Repeat("n", 120) + "/x.js", "empty", "node_modules/left-pad/index.js", "webapp/index.tsx"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("order = %q, want %q", names, want)
	}
}

func TestWriteArchiveRoundTrip(t *testing.T) {
	files := samplePackageFiles()
	var buf bytes.Buffer
	if err := pluginpkg.WriteArchive(&buf, files); err != nil {
		t.Fatal(err)
	}
	pkg, err := pluginpkg.ReadArchive(&buf, pluginpkg.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pkg.Files, files) {
		t.Errorf("round trip changed files: %v", pkg.Files)
	}
}

func TestWriteArchiveRejectsBadPaths(t *testing.T) {
	for _, p := range []string{"/abs", "../up", "a/../b", "./a", "a//b", "", "dir/"} {
		if err := pluginpkg.WriteArchive(io.Discard, map[string][]byte{p: nil}); err == nil {
			t.Errorf("WriteArchive accepted %q", p)
		}
	}
	if err := pluginpkg.WriteArchive(io.Discard, map[string][]byte{"a": nil, "a/b": nil}); err == nil {
		t.Error("WriteArchive accepted a file inside a file")
	}
}

func TestSHA256(t *testing.T) {
	files := samplePackageFiles()
	// The same files framed differently: another order, a top-level
	// directory, timestamps and names in the headers.
	var entries []entry
	for p, b := range files {
		entries = append(entries, file("pkg/"+p, string(b)))
	}
	other, err := pluginpkg.ReadArchive(bytes.NewReader(tarGz(t, entries...)), pluginpkg.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := pluginpkg.WriteArchive(&buf, files); err != nil {
		t.Fatal(err)
	}
	pkg, err := pluginpkg.ReadArchive(&buf, pluginpkg.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pkg.SHA256() != other.SHA256() {
		t.Error("same files, different digests")
	}
	if len(pkg.SHA256()) != 64 {
		t.Errorf("digest %q", pkg.SHA256())
	}

	// Moving bytes between a name and contents must change the digest.
	a := &pluginpkg.Package{Files: map[string][]byte{"ab": []byte("c")}}
	b := &pluginpkg.Package{Files: map[string][]byte{"a": []byte("bc")}}
	c := &pluginpkg.Package{Files: map[string][]byte{"ab": []byte("d")}}
	if a.SHA256() == b.SHA256() || a.SHA256() == c.SHA256() {
		t.Error("different files, same digest")
	}
}
