package pluginpkg_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// Archive shapes that cost the server more than their size (issue #15, F01
// and F02): names that are long or deep, entries that are not files, and
// headers nobody reads. Each must be refused by a limit, with work and
// memory bounded by the limits rather than by the compression ratio. A
// future change of the readers must keep these passing.

// hostile writes a .tar.gz entry by entry straight into gzip (fastest
// level), so a test can build archives that unpack to hundreds of megabytes
// without holding the tar in memory.
type hostile struct {
	tb  testing.TB
	buf bytes.Buffer
	zw  *gzip.Writer
	tw  *tar.Writer
}

func newHostile(tb testing.TB) *hostile {
	tb.Helper()
	h := &hostile{tb: tb}
	h.zw, _ = gzip.NewWriterLevel(&h.buf, gzip.BestSpeed)
	h.tw = tar.NewWriter(h.zw)
	return h
}

func (h *hostile) add(hdr *tar.Header, body string) {
	h.tb.Helper()
	if hdr.Typeflag == 0 {
		hdr.Typeflag = tar.TypeReg
	}
	if hdr.Typeflag == tar.TypeReg {
		hdr.Size = int64(len(body))
	}
	if hdr.Mode == 0 {
		hdr.Mode = 0o644
	}
	if err := h.tw.WriteHeader(hdr); err != nil {
		h.tb.Fatalf("tar header %.40q: %v", hdr.Name, err)
	}
	if _, err := h.tw.Write([]byte(body)); err != nil {
		h.tb.Fatal(err)
	}
}

func (h *hostile) file(name, body string) { h.add(&tar.Header{Name: name}, body) }
func (h *hostile) dir(name string)        { h.add(&tar.Header{Name: name, Typeflag: tar.TypeDir}, "") }

func (h *hostile) bytes() []byte {
	h.tb.Helper()
	if err := h.tw.Close(); err != nil {
		h.tb.Fatal(err)
	}
	if err := h.zw.Close(); err != nil {
		h.tb.Fatal(err)
	}
	return h.buf.Bytes()
}

// readBounded reads data with lim and checks that it took at most maxAlloc
// bytes of allocation and maxTime (wall clock: generous, for a busy
// machine; the shapes these tests guard against took seconds to minutes).
func readBounded(t *testing.T, data []byte, lim pluginpkg.Limits, maxAlloc uint64, maxTime time.Duration) (*pluginpkg.Package, error) {
	t.Helper()
	var (
		pkg *pluginpkg.Package
		err error
	)
	start := time.Now()
	alloc := allocated(func() { pkg, err = pluginpkg.ReadArchive(bytes.NewReader(data), lim, knownSlots) })
	took := time.Since(start)
	t.Logf("%d-byte archive: %v, %.1f MiB allocated", len(data), took.Round(time.Millisecond), float64(alloc)/(1<<20))
	if alloc > maxAlloc {
		t.Errorf("allocated %.1f MiB, want at most %.1f MiB", float64(alloc)/(1<<20), float64(maxAlloc)/(1<<20))
	}
	if took > maxTime {
		t.Errorf("took %v, want at most %v", took, maxTime)
	}
	return pkg, err
}

// deepName is "d/d/d/.../d" of depth segments.
func deepName(depth int) string { return strings.TrimSuffix(strings.Repeat("d/", depth), "/") }

// TestDeepDirectoryNameIsCheap is F01: a 1 MiB directory name half a
// million segments deep compressed to about a kilobyte, and the reader
// recorded every parent of it, hashing each prefix: work in the square of
// the depth (11 s of CPU for 1.35 KB, 53 s for 4.7 KB). Now the name's
// length is checked before anything else, and a path is at most
// MaxPathDepth deep.
func TestDeepDirectoryNameIsCheap(t *testing.T) {
	tests := []struct {
		name  string
		entry string
		code  string
	}{
		{"1 MiB name", deepName(1<<19-512) + "/", pluginpkg.CodePathTooLong}, // archive/tar writes records under 1 MiB
		{"64 KiB name", deepName(1<<15) + "/", pluginpkg.CodePathTooLong},
		{"33 levels", deepName(33) + "/", pluginpkg.CodePathTooDeep},
		{"500 levels in 1000 bytes", deepName(500) + "/", pluginpkg.CodePathTooDeep},
		{"a 256-byte segment", "x/" + strings.Repeat("s", 256) + "/", pluginpkg.CodePathTooLong},
		{"1025 bytes", strings.Repeat("n", 1025), pluginpkg.CodePathTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHostile(t)
			h.file("plugin.json", manifest())
			h.file("webapp/index.tsx", entryTSX)
			// Four entries, as the 4.7 KB archive had: each alone cost
			// seconds before.
			for i := range 4 {
				h.dir(fmt.Sprintf("%d%s", i, tc.entry))
			}
			data := h.bytes()
			_, err := readBounded(t, data, pluginpkg.Limits{}, 16<<20, 2*time.Second)
			e := wantError(t, err, tc.code, "", "")
			if len(e.File) > 1024+3 || len(e.Message) > 600 {
				t.Errorf("the error echoes the name: file %d bytes, message %d bytes", len(e.File), len(e.Message))
			}
		})
	}
}

// TestPathWorkIsLinear: the work of an entry is bounded by the path limits,
// so an archive of many entries at the largest allowed shape (32 levels,
// 1,000 bytes) costs in proportion to its entries: twice the entries, about
// twice the allocation, and far below what the old reader spent on one deep
// name.
func TestPathWorkIsLinear(t *testing.T) {
	// Each file sits in its own 31-level tree, the most new directories one
	// path can add.
	seg := strings.Repeat("s", 26) // 32 segments of 31 bytes: 992 bytes
	build := func(files int) []byte {
		h := newHostile(t)
		h.file("plugin.json", manifest())
		h.file("webapp/index.tsx", entryTSX)
		for i := range files {
			parts := make([]string, 32)
			for j := range parts {
				parts[j] = fmt.Sprintf("%04d%s", i, seg)
			}
			h.file(strings.Join(parts, "/"), "x")
		}
		return h.bytes()
	}
	measure := func(files int) uint64 {
		data := build(files)
		var pkg *pluginpkg.Package
		var err error
		alloc := allocated(func() { pkg, err = pluginpkg.ReadArchive(bytes.NewReader(data), pluginpkg.Limits{}, knownSlots) })
		if err != nil {
			t.Fatalf("%d files at the depth limit: %v", files, err)
		}
		if len(pkg.Files) != files+2 {
			t.Fatalf("%d files, want %d", len(pkg.Files), files+2)
		}
		return alloc
	}
	small, large := measure(100), measure(200)
	t.Logf("100 deep files: %d KiB allocated, 200: %d KiB", small>>10, large>>10)
	if large > small*5/2 {
		t.Errorf("doubling the entries multiplied the allocation by %.2f", float64(large)/float64(small))
	}
	// 200 files of 32 levels make 6,600 entries: under the entry limit; 320
	// files are over it.
	_, err := pluginpkg.ReadArchive(bytes.NewReader(build(320)), pluginpkg.Limits{}, knownSlots)
	wantError(t, err, pluginpkg.CodeTooManyEntries, "", "")
}

// TestRealPathsPass: the limits leave room for what real packages hold: a
// Mattermost archive's top-level directory above node_modules paths as deep
// and long as the ones in this repository's own trees.
func TestRealPathsPass(t *testing.T) {
	paths := []string{
		"com.example.map/webapp/node_modules/@webassemblyjs/helper-module-context/node_modules/@webassemblyjs/ast/esm/transform/denormalize-type-references/index.js",
		"com.example.map/webapp/node_modules/react-native/ReactCommon/react/renderer/components/legacyviewmanagerinterop/platform/ios/react/renderer/components/legacyviewmanagerinterop/LegacyViewManagerInteropComponentDescriptor.mm",
		"com.example.map/webapp/node_modules/@babel/plugin-bugfix-safari-id-destructuring-collision-in-function-expression/lib/index.js",
		"com.example.map/" + deepName(30) + "/" + strings.Repeat("n", 255),
	}
	var entries []entry
	entries = append(entries, dir("com.example.map/"), file("com.example.map/plugin.json", manifest()), file("com.example.map/webapp/index.tsx", entryTSX))
	for _, p := range paths {
		entries = append(entries, file(p, "x"))
	}
	pkg, err := pluginpkg.ReadArchive(bytes.NewReader(tarGz(t, entries...)), pluginpkg.Limits{}, knownSlots)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkg.Files) != len(paths)+2 {
		t.Errorf("%d files, want %d", len(pkg.Files), len(paths)+2)
	}
}

// TestDirectoryEntriesCount is F02: directory entries counted against no
// limit (the 5,000 limit counted files), so 400,000 of them in 1.9 MB were
// accepted and kept. Every entry counts now, repeats and "./" included.
func TestDirectoryEntriesCount(t *testing.T) {
	tests := []struct {
		name string
		dir  func(i int) string
	}{
		{"distinct directories", func(i int) string { return fmt.Sprintf("d/%06d/", i) }},
		{"one directory repeated", func(int) string { return "d/" }},
		{"the root repeated", func(int) string { return "./" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHostile(t)
			h.file("plugin.json", manifest())
			h.file("webapp/index.tsx", entryTSX)
			for i := range 40_000 { // four times the limit; the report's 400,000 only take longer to build
				h.dir(tc.dir(i))
			}
			data := h.bytes()
			_, err := readBounded(t, data, pluginpkg.Limits{}, 64<<20, 5*time.Second) // 5 MiB; 25 under -race
			e := wantError(t, err, pluginpkg.CodeTooManyEntries, "", "")
			if e.Limit != 10_000 {
				t.Errorf("limit %d, want 10000", e.Limit)
			}
		})
	}
}

// TestLongNamesAreBounded is F02's other half: 400 files with long names
// (a 447 KB upload) made the server hold half a gigabyte of names. One name
// is now at most MaxPathBytes, and all of them MaxNameBytes (40 files of
// 1 MiB names show it: the old reader kept 40 MiB of them).
func TestLongNamesAreBounded(t *testing.T) {
	t.Run("1 MiB names", func(t *testing.T) {
		h := newHostile(t)
		h.file("plugin.json", manifest())
		h.file("webapp/index.tsx", entryTSX)
		for i := range 40 {
			h.file(fmt.Sprintf("%03d", i)+strings.Repeat("n", 1<<20-1024), "x")
		}
		_, err := readBounded(t, h.bytes(), pluginpkg.Limits{}, 16<<20, 5*time.Second)
		wantError(t, err, pluginpkg.CodePathTooLong, "", "")
	})
	t.Run("names adding up past the limit", func(t *testing.T) {
		h := newHostile(t)
		h.file("plugin.json", manifest())
		h.file("webapp/index.tsx", entryTSX)
		long := strings.Repeat("n", 240)
		for i := range 4000 { // 735-byte paths in one directory: 2 MiB at about the 2,850th
			h.file(fmt.Sprintf("a/%s/%s/%s/%04d%s", long, long, long, i, long[:6]), "")
		}
		_, err := readBounded(t, h.bytes(), pluginpkg.Limits{}, 64<<20, 5*time.Second)
		e := wantError(t, err, pluginpkg.CodeNamesTooLarge, "", "")
		if e.Limit != 2<<20 {
			t.Errorf("limit %d, want %d", e.Limit, 2<<20)
		}
	})
}

// TestHeadersNobodyReads: archive/tar parses a PAX record of up to 1 MiB
// before it returns the entry, and those bytes counted against no limit,
// so 300 entries with a 1 MiB comment each made 300 MiB of work and garbage
// from a few hundred kilobytes. The tar stream's headers now count: past
// the files' limit plus MaxNameBytes and 2 KiB an entry, the read stops.
func TestHeadersNobodyReads(t *testing.T) {
	h := newHostile(t)
	h.file("plugin.json", manifest())
	h.file("webapp/index.tsx", entryTSX)
	comment := strings.Repeat("c", 1<<20-64)
	for i := range 100 {
		h.add(&tar.Header{Name: fmt.Sprintf("f%03d.txt", i), Format: tar.FormatPAX, PAXRecords: map[string]string{"comment": comment}}, "x")
	}
	// archive/tar allocates about 3 MiB for each 1 MiB record; the 22 MiB
	// of headers allowed cost about 70 MiB (120 under -race), all 100 cost
	// 313 (300 cost 940).
	_, err := readBounded(t, h.bytes(), pluginpkg.Limits{MaxUnpackedBytes: 1 << 20}, 200<<20, 10*time.Second)
	wantError(t, err, pluginpkg.CodeUnpackedTooLarge, "", "")
}

// TestLinkTargetIsNotEchoed: a link is refused, and its 1 MiB target does
// not come back in the message.
func TestLinkTargetIsNotEchoed(t *testing.T) {
	h := newHostile(t)
	h.file("plugin.json", manifest())
	h.add(&tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: strings.Repeat("t", 1<<20-1024)}, "")
	_, err := pluginpkg.ReadArchive(bytes.NewReader(h.bytes()), pluginpkg.Limits{}, knownSlots)
	e := wantError(t, err, pluginpkg.CodeLinkEntry, "l", "")
	if len(e.Message) > 600 {
		t.Errorf("message of %d bytes", len(e.Message))
	}
}

// TestPrebuiltBundleLimit is issue #15 F09's package half: a prebuilt
// webapp.bundle_path was stored as it was, up to the 300 MiB unpacked
// limit. The bundle and its source map are each held to MaxBundleBytes
// (20 MiB by default).
func TestPrebuiltBundleLimit(t *testing.T) {
	if pluginpkg.DefaultLimits.MaxBundleBytes != 20<<20 {
		t.Errorf("default bundle limit %d, want 20 MiB", pluginpkg.DefaultLimits.MaxBundleBytes)
	}
	lim := pluginpkg.Limits{MaxBundleBytes: 1024}
	at, over := strings.Repeat("x", 1024), strings.Repeat("x", 1025)
	tests := []struct {
		name       string
		bundle     string
		sourceMap  string
		wantFile   string
		wantRefuse bool
	}{
		{"at the limit", at, at, "", false},
		{"bundle over", over, "", "x/webapp/dist/main.js", true},
		{"source map over", at, over, "x/webapp/dist/main.js.map", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			entries := []entry{file("x/plugin.json", mattermostManifest), file("x/assets/icon.svg", `<svg xmlns="http://www.w3.org/2000/svg"/>`),
				file("x/webapp/dist/main.js", tc.bundle)}
			if tc.sourceMap != "" {
				entries = append(entries, file("x/webapp/dist/main.js.map", tc.sourceMap))
			}
			_, err := pluginpkg.ReadArchive(bytes.NewReader(tarGz(t, entries...)), lim, knownSlots)
			if !tc.wantRefuse {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e := wantError(t, err, pluginpkg.CodeBundleTooLarge, strings.TrimPrefix(tc.wantFile, "x/"), "webapp.bundle_path")
			if e.Limit != 1024 {
				t.Errorf("limit %d, want 1024", e.Limit)
			}
		})
	}
}

// TestReserveSeesEveryKeptByte: Limits.Reserve is asked for each file's
// size before its bytes are read (the server part's too, kept since
// mmtoolkit installs it on the upstream Mattermost), and its error stops
// the read as it is.
func TestReserveSeesEveryKeptByte(t *testing.T) {
	data := tarGz(t, file("x/plugin.json", mattermostManifest), file("x/assets/icon.svg", `<svg xmlns="http://www.w3.org/2000/svg"/>`),
		file("x/server/dist/plugin-linux-amd64", strings.Repeat("E", 5000)), file("x/webapp/dist/main.js", strings.Repeat("j", 3000)))
	var reserved int64
	lim := pluginpkg.Limits{Reserve: func(n int64) error { reserved += n; return nil }}
	pkg, err := pluginpkg.ReadArchive(bytes.NewReader(data), lim, knownSlots)
	if err != nil {
		t.Fatal(err)
	}
	var kept int64
	for _, b := range pkg.Files {
		kept += int64(len(b))
	}
	for _, b := range pkg.Server {
		kept += int64(len(b))
	}
	if reserved != kept {
		t.Errorf("reserved %d bytes, kept %d", reserved, kept)
	}

	full := errors.New("budget full")
	lim.Reserve = func(n int64) error {
		if n >= 3000 {
			return full
		}
		return nil
	}
	if _, err := pluginpkg.ReadArchive(bytes.NewReader(data), lim, knownSlots); err != full {
		t.Errorf("error %v, want the Reserve error as it is", err)
	}
}

// TestManifestArraysAreBounded: plugin.json may be 1 MiB, and its slots
// reach every client's slot manifest and its routes every proxied call, so
// a manifest of tens of thousands of slots or routes, or one megabyte-long
// post type, cost every page of every team that enables the plugin. Each
// array and string is bounded; the error names the field and the limit.
func TestManifestArraysAreBounded(t *testing.T) {
	slots := func(n int) []any {
		var out []any
		for i := range n {
			out = append(out, map[string]any{"slot": "post_type", "post_type": fmt.Sprintf("custom_%d", i)})
		}
		return out
	}
	routes := func(n int) []any {
		var out []any
		for i := range n {
			out = append(out, map[string]any{"method": "GET", "path": fmt.Sprintf("/api/v4/r%d", i)})
		}
		return out
	}
	tests := []struct {
		name  string
		kv    []any
		field string
		limit int64
	}{
		{"257 slots", []any{"slots", slots(257)}, "slots", pluginpkg.MaxSlots},
		{"a 129-byte post type", []any{"slots", []any{map[string]any{"slot": "post_type", "post_type": "custom_" + strings.Repeat("p", 122)}}}, "slots[0].post_type", pluginpkg.MaxPostTypeLen},
		{"257 routes", []any{"proxy", routes(257)}, "proxy", pluginpkg.MaxProxyRoutes},
		{"a 513-byte route", []any{"proxy", []any{map[string]any{"method": "GET", "path": "/api/v4/" + strings.Repeat("r", 505)}}}, "proxy[0].path", pluginpkg.MaxProxyPathBytes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pluginpkg.ParseManifest([]byte(manifest(tc.kv...)), knownSlots)
			e := wantError(t, err, pluginpkg.CodeManifestInvalid, "", tc.field)
			if e.Limit != tc.limit {
				t.Errorf("limit %d, want %d", e.Limit, tc.limit)
			}
		})
	}
	// At the limits, a manifest is accepted.
	at := manifest("slots", append(slots(pluginpkg.MaxSlots-1), map[string]any{"slot": "post_type", "post_type": "custom_" + strings.Repeat("p", 121)}),
		"proxy", append(routes(pluginpkg.MaxProxyRoutes-1), map[string]any{"method": "GET", "path": "/api/v4/" + strings.Repeat("r", 504)}))
	if _, err := pluginpkg.ParseManifest([]byte(at), knownSlots); err != nil {
		t.Fatalf("at the limits: %v", err)
	}
}
