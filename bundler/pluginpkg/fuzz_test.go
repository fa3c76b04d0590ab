package pluginpkg_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"path"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// fuzzLimits are small so that the fuzzer explores limits, not memory.
var fuzzLimits = pluginpkg.Limits{
	MaxArchiveBytes:  1 << 20,
	MaxUnpackedBytes: 1 << 20,
	MaxFiles:         64,
	MaxManifestBytes: 16 << 10,
}

// FuzzReadArchive feeds archives to ReadArchive. An input that does not start
// with the gzip magic is compressed first, so that mutations reach the tar
// reader and the entry rules instead of dying on a gzip checksum.
func FuzzReadArchive(f *testing.F) {
	for _, tc := range archiveCases(f) {
		if tc.big {
			continue
		}
		f.Add(tc.data)
	}
	f.Add(buildTar(f, []entry{file("plugin.json", manifest()), file("webapp/index.tsx", entryTSX)}, true))
	f.Add(buildTar(f, []entry{dir("x/"), file("x/plugin.json", mattermostManifest), file("x/server/dist/plugin-linux-amd64", "ELF"), file("x/webapp/dist/main.js", "x"), file("x/assets/icon.svg", "x")}, true))

	f.Fuzz(func(t *testing.T, data []byte) {
		if !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			data = gz(t, data)
		}
		pkg, err := pluginpkg.ReadArchive(bytes.NewReader(data), fuzzLimits, knownSlots)
		if err != nil {
			var e *pluginpkg.Error
			if !errors.As(err, &e) {
				t.Fatalf("error is not *Error: %v", err)
			}
			if e.Code == "" || e.Message == "" {
				t.Fatalf("incomplete error %+v", e)
			}
			return
		}
		checkPackage(t, pkg)
	})
}

// checkPackage asserts what every accepted package satisfies.
func checkPackage(t *testing.T, pkg *pluginpkg.Package) {
	t.Helper()
	var total int64
	for p, b := range pkg.Files {
		if p == "" || strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) || (len(p) > 1 && p[1] == ':') {
			t.Errorf("absolute or empty path %q", p)
		}
		for _, seg := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
			if seg == ".." {
				t.Errorf("path %q escapes", p)
			}
		}
		if strings.HasPrefix(p, "server/dist/") {
			t.Errorf("server executable %q kept", p)
		}
		if len(p) > pluginpkg.DefaultLimits.MaxPathBytes || strings.Count(p, "/") >= pluginpkg.DefaultLimits.MaxPathDepth {
			t.Errorf("path %.80q is over the path limits", p)
		}
		total += int64(len(b))
	}
	if total > fuzzLimits.MaxUnpackedBytes || len(pkg.Files) > fuzzLimits.MaxFiles {
		t.Errorf("%d files, %d bytes: over the limits", len(pkg.Files), total)
	}
	if !bytes.Equal(pkg.RawManifest, pkg.Files["plugin.json"]) {
		t.Error("RawManifest is not Files[plugin.json]")
	}
	if err := pkg.Manifest.Validate(knownSlots); err != nil {
		t.Errorf("accepted manifest does not validate: %v", err)
	}
}

// FuzzReadArchiveEntries builds well-formed tars from a list of entries, so
// that the fuzzer explores the entry rules (names, types, layouts, server
// executables) rather than tar and gzip checksums. Each line of spec is a
// tar type flag followed by the entry name; a file's contents are its name,
// except files named plugin.json, which hold manifest.
func FuzzReadArchiveEntries(f *testing.F) {
	valid := []byte(manifest())
	f.Add("0plugin.json\n0webapp/index.tsx", valid)
	f.Add("5x/\n0x/plugin.json\n0x/server/dist/plugin-linux-amd64\n0x/webapp/dist/main.js\n0x/assets/icon.svg", []byte(mattermostManifest))
	f.Add("0x/server/dist/a\n0plugin.json\n0webapp/index.tsx", valid)
	f.Add("0node_modules/server/dist/a.js\n0plugin.json\n0webapp/index.tsx", valid)
	f.Add("0./plugin.json\n0.//webapp//index.tsx\n5./", valid)
	f.Add("0plugin.json\n0webapp/index.tsx\n0webapp/index.tsx", valid)
	f.Add("0plugin.json\n2webapp/index.tsx", valid)
	f.Add("0plugin.json\n0webapp/index.tsx/x", valid)
	f.Add("0plugin.json\n0../webapp/index.tsx", valid)
	f.Add("0plugin.json\n0C:\\webapp\\index.tsx", valid)
	f.Add("0a/plugin.json\n0b/webapp/index.tsx", valid)
	f.Add("0plugin.json\n0webapp/index.tsx\n5"+strings.Repeat("d/", 40), valid)
	f.Add("0plugin.json\n0webapp/index.tsx\n5d/\n5d/\n5./\n5./", valid)
	f.Add("0plugin.json\n0webapp/index.tsx\n0"+strings.Repeat("n", 300), valid)
	f.Add("0plugin.json\n0mobile/index.ts\n0icon.svg", []byte(manifest("webapp", nil, "mobile", map[string]any{"entry": "mobile/index.ts"}, "icon_path", "icon.svg")))

	f.Fuzz(func(t *testing.T, spec string, manifest []byte) {
		data, err := specArchive(spec, manifest)
		if err != nil {
			t.Skip("tar writer refuses:", err)
		}
		pkg, err := pluginpkg.ReadArchive(bytes.NewReader(data), fuzzLimits, knownSlots)
		if err != nil {
			var e *pluginpkg.Error
			if !errors.As(err, &e) || e.Code == "" || e.Message == "" {
				t.Fatalf("error is not a complete *Error: %v", err)
			}
			return
		}
		checkPackage(t, pkg)
	})
}

// specArchive builds FuzzReadArchiveEntries' archive.
func specArchive(spec string, manifest []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, line := range strings.Split(spec, "\n") {
		if line == "" {
			continue
		}
		typ, name := line[0], line[1:]
		if typ == tar.TypeXGlobalHeader || typ == tar.TypeXHeader || typ == tar.TypeGNULongName || typ == tar.TypeGNULongLink {
			continue // the tar writer makes these itself
		}
		body := []byte(name)
		if path.Base(name) == "plugin.json" {
			body = manifest
		}
		hdr := &tar.Header{Typeflag: typ, Name: name, Mode: 0o644, Linkname: "target"}
		if typ == tar.TypeReg || typ == tar.TypeGNUSparse {
			hdr.Typeflag = tar.TypeReg
			hdr.Size = int64(len(body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write(body); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// FuzzValidate sets the fields Validate checks directly, so that the fuzzer
// explores the rules rather than JSON syntax. Validating twice must give the
// same result (normalisation is idempotent), and an accepted manifest must
// survive a JSON round trip.
func FuzzValidate(f *testing.F) {
	f.Add("com.example.map", "Map", "1.2.0", "webapp/index.tsx", "", "", "post_type", "custom_x", "get", "/api/v4/users/{id}/*")
	f.Add("Com.Example", "X", "1.0.0-rc.1+b", "", "./webapp/dist/main.js", "mobile/index.ts", "app_bar", "", "Delete", "/api/v4/posts")
	f.Add("ab", " ", "v1.2", "/x.ts", "x.js", "", "nope", "custom_", "CONNECT", "/api/v4/../x?y")

	f.Fuzz(func(t *testing.T, id, name, version, entry, bundle, mobile, slot, postType, method, route string) {
		m := fuzzManifest(id, name, version, entry, bundle, mobile, slot, postType, method, route)
		err := m.Validate(knownSlots)
		if err != nil {
			var e *pluginpkg.Error
			if !errors.As(err, &e) || e.Code != pluginpkg.CodeManifestInvalid || e.Field == "" {
				t.Fatalf("Validate error %v is not a manifest_invalid *Error with a field", err)
			}
			return
		}
		data, err := json.Marshal(&m)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Validate(knownSlots); err != nil {
			t.Fatalf("second Validate: %v", err)
		}
		again, err := json.Marshal(&m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, again) {
			t.Fatalf("Validate is not idempotent:\n%s\n%s", data, again)
		}
		if _, err := pluginpkg.ParseManifest(data, knownSlots); err != nil {
			t.Fatalf("ParseManifest(%s): %v", data, err)
		}
	})
}

// fuzzManifest builds FuzzValidate's manifest.
func fuzzManifest(id, name, version, entry, bundle, mobile, slot, postType, method, route string) pluginpkg.Manifest {
	m := pluginpkg.Manifest{
		ID: id, Name: name, Version: version,
		Slots: []pluginpkg.SlotDecl{{Slot: slot, PostType: postType}},
		Proxy: []pluginpkg.ProxyRoute{{Method: method, Path: route}},
	}
	if entry != "" || bundle != "" {
		m.Webapp = &pluginpkg.Webapp{Entry: entry, BundlePath: bundle}
	}
	if mobile != "" {
		m.Mobile = &pluginpkg.Mobile{Entry: mobile}
	}
	return m
}

// FuzzParseManifest checks that ParseManifest never panics, fails only with
// *Error, and that what it accepts survives a JSON round trip unchanged.
func FuzzParseManifest(f *testing.F) {
	for _, tc := range manifestCases() {
		f.Add([]byte(tc.json))
	}
	f.Add([]byte(mattermostManifest))

	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := pluginpkg.ParseManifest(data, knownSlots)
		if err != nil {
			var e *pluginpkg.Error
			if !errors.As(err, &e) {
				t.Fatalf("error is not *Error: %v", err)
			}
			if e.Code != pluginpkg.CodeManifestSyntax && e.Code != pluginpkg.CodeManifestInvalid {
				t.Fatalf("code %s from ParseManifest", e.Code)
			}
			return
		}
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		m2, err := pluginpkg.ParseManifest(again, knownSlots)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", again, err)
		}
		// Compare encodings: json.RawMessage fields come back compacted.
		again2, err := json.Marshal(m2)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if !bytes.Equal(again, again2) {
			t.Errorf("round trip changed the manifest:\n%s\n%s", again, again2)
		}
	})
}
