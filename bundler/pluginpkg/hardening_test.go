package pluginpkg_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// Bad input of issue #8 not already pinned by the archive and manifest
// tables (docs/hardening.md lists every case and where it is tested).

// TestTenThousandFiles: an archive of 10,000 files under the default
// limits stops at the 5,001st with too_many_files, quickly and without
// reading the rest.
func TestTenThousandFiles(t *testing.T) {
	entries := []entry{file("plugin.json", manifest()), file("webapp/index.tsx", "export {};")}
	for i := range 10_000 {
		entries = append(entries, file(fmt.Sprintf("f/%05d.js", i), "1"))
	}
	data := tarGz(t, entries...)
	start := time.Now()
	var err error
	alloc := allocated(func() { _, err = pluginpkg.ReadArchive(bytes.NewReader(data), pluginpkg.Limits{}, knownSlots) })
	e := wantError(t, err, pluginpkg.CodeTooManyFiles, "f/04998.js", "")
	if e.Limit != 5000 {
		t.Errorf("limit %d, want 5000", e.Limit)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if alloc > 32<<20 {
		t.Errorf("allocated %d MiB", alloc>>20)
	}
}

// TestHugeName: a name of 1 MB is refused by the name rule (256
// characters), naming the field; one of 1 MiB makes plugin.json pass its
// own 1 MiB limit and is refused before it is parsed.
func TestHugeName(t *testing.T) {
	_, err := pluginpkg.ParseManifest([]byte(manifest("name", strings.Repeat("n", 1_000_000))), knownSlots)
	e := wantError(t, err, pluginpkg.CodeManifestInvalid, "", "name")
	if len(e.Message) > 1024 {
		t.Errorf("the message quotes the name: %d bytes", len(e.Message))
	}

	huge := manifest("name", strings.Repeat("n", 1<<20))
	_, err = pluginpkg.ReadArchive(bytes.NewReader(tarGz(t, file("plugin.json", huge), file("webapp/index.tsx", ""))), pluginpkg.Limits{}, knownSlots)
	wantError(t, err, pluginpkg.CodeManifestTooLarge, "plugin.json", "")
}

// TestTruncatedAtEveryBoundary cuts a valid archive at many points, inside
// the gzip header, entries and the trailer: each is bad_archive (or, once
// the cut leaves a whole tar and gzip stream, not an error at all), never a
// panic, a hang or a partial package.
func TestTruncatedAtEveryBoundary(t *testing.T) {
	whole := tarGz(t, file("plugin.json", manifest()), file("webapp/index.tsx", strings.Repeat("export const a = 1;\n", 200)))
	for cut := 0; cut < len(whole); cut += 1 + cut/16 {
		pkg, err := pluginpkg.ReadArchive(bytes.NewReader(whole[:cut]), pluginpkg.Limits{}, knownSlots)
		if err == nil {
			t.Fatalf("cut at %d of %d: a package with %d files", cut, len(whole), len(pkg.Files))
		}
		wantError(t, err, pluginpkg.CodeBadArchive, "", "")
	}
}
