package pluginpkg_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// archiveCase is one ReadArchive case. A case with code "" must succeed;
// files then lists every path the package must hold, exactly.
type archiveCase struct {
	name    string
	data    []byte
	lim     pluginpkg.Limits
	code    string
	file    string // expected Error.File, if set
	field   string // expected Error.Field, if set
	msg     string // a substring the message must contain
	files   []string
	server  []string // Package.Server's paths
	warning string   // a substring of the single expected warning
	big     bool     // too big to seed the fuzzer with
}

const entryTSX = "export default function Plugin() { return null }\n"

// mattermostManifest is the manifest of a plugin built from Mattermost's
// starter template, with a prebuilt web bundle and server executables.
const mattermostManifest = `{
  "id": "com.example.x",
  "name": "Example",
  "version": "0.1.0-rc.1+build.7",
  "min_server_version": "6.2.1",
  "icon_path": "assets/icon.svg",
  "server": {
    "executables": {
      "linux-amd64": "server/dist/plugin-linux-amd64",
      "darwin-arm64": "server/dist/plugin-darwin-arm64",
      "windows-amd64": "server/dist/plugin-windows-amd64.exe"
    }
  },
  "webapp": {"bundle_path": "webapp/dist/main.js"},
  "settings_schema": {"header": "", "settings": []}
}`

// randomBytes is incompressible data, so that compressed sizes are known.
func randomBytes(n int) string {
	b := make([]byte, n)
	rand.New(rand.NewSource(1)).Read(b)
	return string(b)
}

func archiveCases(tb testing.TB) []archiveCase {
	tb.Helper()
	valid := manifest()
	web := file("webapp/index.tsx", entryTSX)
	tarOf := func(entries ...entry) []byte { return tarGz(tb, entries...) }
	whole := tarOf(file("plugin.json", valid), web)

	cases := []archiveCase{
		{name: "root layout", data: whole, files: []string{"plugin.json", "webapp/index.tsx"}},
		{
			name:  "single top-level directory is the root",
			data:  tarOf(dir("com.example.map/"), file("com.example.map/plugin.json", valid), dir("com.example.map/webapp/"), file("com.example.map/webapp/index.tsx", entryTSX)),
			files: []string{"plugin.json", "webapp/index.tsx"},
		},
		{
			name:  "dot-slash prefixes and doubled slashes",
			data:  tarOf(dir("./"), file("./plugin.json", valid), file("././webapp//index.tsx", entryTSX)),
			files: []string{"plugin.json", "webapp/index.tsx"},
		},
		{
			name: "mattermost archive with server executables",
			data: tarOf(
				dir("com.example.x/"),
				dir("com.example.x/server/"),
				dir("com.example.x/server/dist/"),
				file("com.example.x/server/dist/plugin-linux-amd64", randomBytes(32<<10)),
				file("com.example.x/server/dist/plugin-darwin-arm64", randomBytes(1024)),
				file("com.example.x/server/dist/plugin-windows-amd64.exe", "MZ"),
				file("com.example.x/plugin.json", mattermostManifest),
				file("com.example.x/webapp/dist/main.js", "(function(){})()"),
				file("com.example.x/assets/icon.svg", "<svg/>"),
			),
			files:  []string{"assets/icon.svg", "plugin.json", "webapp/dist/main.js"},
			server: []string{"server/dist/plugin-darwin-arm64", "server/dist/plugin-linux-amd64", "server/dist/plugin-windows-amd64.exe"},
		},
		{
			name: "executable named by the manifest outside server/dist",
			data: tarOf(
				file("plugin.json", manifest("server", map[string]any{"executable": "./server/plugin.exe"})),
				file("server/plugin.exe", "MZ"),
				file("server/README.md", "kept"),
				web,
			),
			files:  []string{"plugin.json", "server/README.md", "webapp/index.tsx"},
			server: []string{"server/plugin.exe"},
		},
		{
			name:  "npm package named server in node_modules is kept",
			data:  tarOf(file("node_modules/server/dist/index.js", "module.exports = 1"), file("plugin.json", valid), web),
			files: []string{"node_modules/server/dist/index.js", "plugin.json", "webapp/index.tsx"},
		},
		{
			name:  "pax and gnu long names",
			data:  tarOf(file("plugin.json", valid), web, file("node_modules/"+strings.Repeat("p", 150)+"/index.js", "x"), entry{name: "assets/" + strings.Repeat("g", 120) + ".svg", body: "y", format: tar.FormatGNU}),
			files: []string{"assets/" + strings.Repeat("g", 120) + ".svg", "node_modules/" + strings.Repeat("p", 150) + "/index.js", "plugin.json", "webapp/index.tsx"},
		},
		{
			name:  "pax global header is ignored",
			data:  tarOf(entry{name: "pax_global_header", global: true}, file("plugin.json", valid), web, file("empty.txt", "")),
			files: []string{"empty.txt", "plugin.json", "webapp/index.tsx"},
		},
		{
			name:  "mobile only with icon",
			data:  tarOf(file("plugin.json", manifest("webapp", nil, "mobile", map[string]any{"entry": "mobile/index.ts"}, "icon_path", "icon.svg")), file("mobile/index.ts", "x"), file("icon.svg", "<svg/>")),
			files: []string{"icon.svg", "mobile/index.ts", "plugin.json"},
		},

		// Limits.
		{
			name: "archive over the compressed limit",
			data: tarOf(file("plugin.json", valid), web, file("blob", randomBytes(16<<10))),
			lim:  pluginpkg.Limits{MaxArchiveBytes: 8 << 10},
			code: pluginpkg.CodeArchiveTooLarge, msg: "8 KiB limit",
		},
		{
			name: "unpacked over the limit",
			data: tarOf(file("plugin.json", valid), web, file("a", strings.Repeat("a", 600)), file("b", strings.Repeat("b", 600))),
			lim:  pluginpkg.Limits{MaxUnpackedBytes: 1200},
			code: pluginpkg.CodeUnpackedTooLarge, file: "b", msg: "1200 bytes limit",
		},
		{
			name: "server executables count against the unpacked limit",
			data: tarOf(file("x/server/dist/plugin-linux-amd64", strings.Repeat("z", 2000)), file("x/plugin.json", valid)),
			lim:  pluginpkg.Limits{MaxUnpackedBytes: 1000},
			code: pluginpkg.CodeUnpackedTooLarge, file: "x/server/dist/plugin-linux-amd64",
		},
		{
			name: "too many files",
			data: tarOf(file("plugin.json", valid), web, file("a", ""), file("b", "")),
			lim:  pluginpkg.Limits{MaxFiles: 3},
			code: pluginpkg.CodeTooManyFiles, file: "b", msg: "3-file limit",
		},
		{
			name: "directories are not counted as files",
			data: tarOf(dir("webapp/"), dir("assets/"), dir("assets/x/"), file("plugin.json", valid), web),
			lim:  pluginpkg.Limits{MaxFiles: 2}, files: []string{"plugin.json", "webapp/index.tsx"},
		},

		// Entry names and types.
		{name: "absolute unix path", data: tarOf(file("plugin.json", valid), file("/etc/passwd", "x")), code: pluginpkg.CodeAbsolutePath, file: "/etc/passwd"},
		{name: "absolute windows path", data: tarOf(file(`C:\evil.exe`, "x")), code: pluginpkg.CodeAbsolutePath, file: `C:\evil.exe`},
		{name: "absolute drive slash path", data: tarOf(file("c:/evil", "x")), code: pluginpkg.CodeAbsolutePath},
		{name: "absolute backslash path", data: tarOf(file(`\evil`, "x")), code: pluginpkg.CodeAbsolutePath},
		{name: "dot-dot prefix", data: tarOf(file("../evil", "x")), code: pluginpkg.CodePathTraversal, file: "../evil"},
		{name: "dot-dot inside", data: tarOf(file("a/../../evil", "x")), code: pluginpkg.CodePathTraversal},
		{name: "dot-dot directory", data: tarOf(dir("a/../")), code: pluginpkg.CodePathTraversal},
		{name: "backslash dot-dot", data: tarOf(file(`a\..\..\evil`, "x")), code: pluginpkg.CodePathTraversal},
		{name: "symlink", data: tarOf(file("plugin.json", valid), entry{name: "webapp/index.tsx", typ: tar.TypeSymlink, link: "/etc/passwd"}), code: pluginpkg.CodeLinkEntry, file: "webapp/index.tsx"},
		{name: "hard link", data: tarOf(file("plugin.json", valid), entry{name: "copy.json", typ: tar.TypeLink, link: "plugin.json"}), code: pluginpkg.CodeLinkEntry, file: "copy.json"},
		{name: "character device", data: tarOf(entry{name: "dev/null", typ: tar.TypeChar}), code: pluginpkg.CodeDeviceEntry, file: "dev/null"},
		{name: "block device", data: tarOf(entry{name: "sda", typ: tar.TypeBlock}), code: pluginpkg.CodeDeviceEntry},
		{name: "fifo", data: tarOf(entry{name: "pipe", typ: tar.TypeFifo}), code: pluginpkg.CodeDeviceEntry},
		{name: "contiguous file type", data: tarOf(entry{name: "cont", typ: tar.TypeCont}), code: pluginpkg.CodeDeviceEntry},
		{name: "duplicate file", data: tarOf(file("plugin.json", valid), file("plugin.json", valid)), code: pluginpkg.CodeDuplicateEntry, file: "plugin.json"},
		{name: "duplicate after cleaning", data: tarOf(file("./a.js", "1"), file("a.js", "2")), code: pluginpkg.CodeDuplicateEntry, file: "a.js"},
		{name: "file then directory", data: tarOf(file("a", "1"), dir("a/")), code: pluginpkg.CodeDuplicateEntry},
		{name: "file inside a file", data: tarOf(file("a", "1"), file("a/b", "2")), code: pluginpkg.CodeDuplicateEntry, file: "a/b"},
		{name: "directory then file", data: tarOf(dir("a/"), file("a", "1")), code: pluginpkg.CodeDuplicateEntry},
		{name: "repeated directory is fine", data: tarOf(dir("webapp/"), dir("webapp/"), file("plugin.json", valid), web), files: []string{"plugin.json", "webapp/index.tsx"}},

		// Framing.
		{name: "empty input", data: nil, code: pluginpkg.CodeBadArchive},
		{name: "not gzip", data: []byte("PK\x03\x04 this is a zip"), code: pluginpkg.CodeBadArchive, msg: "not gzip"},
		{name: "gzip but not tar", data: gz(tb, []byte(strings.Repeat("hello, world\n", 100))), code: pluginpkg.CodeBadArchive},
		{name: "gzip of nothing", data: gz(tb, nil), code: pluginpkg.CodeBadArchive},
		{name: "truncated gzip", data: whole[:len(whole)/2], code: pluginpkg.CodeBadArchive, msg: "truncated"},
		{name: "truncated gzip trailer", data: whole[:len(whole)-4], code: pluginpkg.CodeBadArchive},
		{name: "tar without end marker", data: gz(tb, buildTar(tb, []entry{file("plugin.json", valid), web}, false)), code: pluginpkg.CodeBadArchive, msg: "end-of-archive"},
		{name: "garbage after gzip", data: append(append([]byte(nil), whole...), "garbage"...), code: pluginpkg.CodeBadArchive},
		{name: "bad gzip checksum", data: flipByte(whole, len(whole)-6), code: pluginpkg.CodeBadArchive},
		{
			// Server executables are kept, so a wrong early guess of the
			// root (webapp/) loses nothing.
			name:  "server/dist under a directory that turns out not to be the root",
			data:  tarOf(file("webapp/server/dist/x.js", "x"), file("plugin.json", valid), web),
			files: []string{"plugin.json", "webapp/index.tsx", "webapp/server/dist/x.js"},
		},

		// Manifest.
		{name: "no manifest", data: tarOf(web), code: pluginpkg.CodeManifestMissing},
		{name: "plugin.yaml", data: tarOf(file("plugin.yaml", "id: x"), web), code: pluginpkg.CodeManifestMissing, msg: "not supported yet"},
		{name: "manifest not at the root", data: tarOf(file("a/plugin.json", valid), file("b/x", "")), code: pluginpkg.CodeManifestMissing, file: "a/plugin.json"},
		{name: "manifest too large", data: whole, lim: pluginpkg.Limits{MaxManifestBytes: 16}, code: pluginpkg.CodeManifestTooLarge, file: "plugin.json", msg: "16 bytes limit"},
		{name: "manifest syntax", data: tarOf(file("plugin.json", "{\n  \"id\": \"com.example.map\",\n  oops\n}"), web), code: pluginpkg.CodeManifestSyntax, file: "plugin.json", msg: "line 3"},
		{name: "manifest invalid", data: tarOf(file("plugin.json", manifest("id", "x")), web), code: pluginpkg.CodeManifestInvalid, file: "plugin.json", field: "id"},
		{name: "unknown slot", data: tarOf(file("plugin.json", manifest("slots", []any{map[string]any{"slot": "nope"}})), web), code: pluginpkg.CodeManifestInvalid, field: "slots[0].slot"},
		{name: "webapp entry missing", data: tarOf(file("plugin.json", valid)), code: pluginpkg.CodeEntryMissing, file: "webapp/index.tsx", field: "webapp.entry"},
		{name: "bundle path missing", data: tarOf(file("plugin.json", manifest("webapp", map[string]any{"bundle_path": "webapp/dist/main.js"}))), code: pluginpkg.CodeEntryMissing, field: "webapp.bundle_path"},
		{name: "mobile entry missing", data: tarOf(file("plugin.json", manifest("mobile", map[string]any{"entry": "mobile/index.tsx"})), web), code: pluginpkg.CodeEntryMissing, file: "mobile/index.tsx", field: "mobile.entry"},
		{name: "icon missing", data: tarOf(file("plugin.json", manifest("icon_path", "assets/icon.svg")), web), code: pluginpkg.CodeEntryMissing, field: "icon_path"},
		{name: "bundle under server/dist", data: tarOf(file("plugin.json", manifest("webapp", map[string]any{"bundle_path": "server/dist/main.js"})), file("server/dist/main.js", "x")), code: pluginpkg.CodeEntryMissing, msg: "server executable"},
	}

	// SPEC's default file limit, with the 5,001st file crossing it.
	many := []entry{file("plugin.json", valid)}
	for i := 1; i <= 5000; i++ {
		many = append(many, file(fmt.Sprintf("f/%04d", i), ""))
	}
	cases = append(cases, archiveCase{name: "5001 files", data: tarOf(many...), code: pluginpkg.CodeTooManyFiles, file: "f/5000", msg: "5000-file limit", big: true})
	return cases
}

func flipByte(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0xff
	return c
}

func TestReadArchive(t *testing.T) {
	for _, tc := range archiveCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			pkg, err := pluginpkg.ReadArchive(bytes.NewReader(tc.data), tc.lim, knownSlots)
			if tc.code != "" {
				e := wantError(t, err, tc.code, tc.file, tc.field)
				if tc.msg != "" && !strings.Contains(e.Message, tc.msg) {
					t.Errorf("message %q does not contain %q", e.Message, tc.msg)
				}
				switch tc.code {
				case pluginpkg.CodeArchiveTooLarge, pluginpkg.CodeUnpackedTooLarge, pluginpkg.CodeTooManyFiles, pluginpkg.CodeManifestTooLarge:
					if e.Limit == 0 {
						t.Errorf("Limit not set on %s", e.Code)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadArchive: %v", err)
			}
			var got []string
			for p := range pkg.Files {
				got = append(got, p)
			}
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(tc.files, "\n") {
				t.Errorf("files:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.files, "\n"))
			}
			if !bytes.Equal(pkg.RawManifest, pkg.Files["plugin.json"]) {
				t.Error("RawManifest differs from Files[plugin.json]")
			}
			var server []string
			for p := range pkg.Server {
				server = append(server, p)
			}
			sort.Strings(server)
			if strings.Join(server, "\n") != strings.Join(tc.server, "\n") {
				t.Errorf("server part:\n%s\nwant:\n%s", strings.Join(server, "\n"), strings.Join(tc.server, "\n"))
			}
			switch {
			case tc.warning == "" && len(pkg.Warnings) > 0:
				t.Errorf("unexpected warnings %q", pkg.Warnings)
			case tc.warning != "" && (len(pkg.Warnings) != 1 || !strings.Contains(pkg.Warnings[0], tc.warning)):
				t.Errorf("warnings = %q, want one containing %q", pkg.Warnings, tc.warning)
			}
		})
	}
}

func TestReadArchiveMattermostManifest(t *testing.T) {
	data := tarGz(t, file("com.example.x/plugin.json", mattermostManifest), file("com.example.x/webapp/dist/main.js", "x"), file("com.example.x/assets/icon.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"))
	pkg, err := pluginpkg.ReadArchive(bytes.NewReader(data), pluginpkg.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := pkg.Manifest
	if m.ID != "com.example.x" || m.Version != "0.1.0-rc.1+build.7" || m.Webapp.BundlePath != "webapp/dist/main.js" || len(m.SettingsSchema) == 0 {
		t.Errorf("manifest = %+v", m)
	}
	if len(pkg.Warnings) != 0 {
		t.Errorf("warnings = %q; the manifest names executables that are not in the archive", pkg.Warnings)
	}
}

// zeroReader is an endless stream of zeros.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// streamArchive writes a .tar.gz holding files of the given sizes (all
// zeros) into a pipe from a goroutine, so the test never holds the archive.
// The returned stop ends the writer and waits for it.
func streamArchive(t *testing.T, sizes ...int64) (io.Reader, func()) {
	t.Helper()
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
		tw := tar.NewWriter(zw)
		for i, size := range sizes {
			if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("f%d", i), Size: size, Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
				pw.CloseWithError(err)
				return
			}
			if _, err := io.CopyN(tw, zeroReader{}, size); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		tw.Close()
		zw.Close()
		pw.Close()
	}()
	return pr, func() {
		pr.CloseWithError(errors.New("test done"))
		<-done
	}
}

// allocated runs f and returns the bytes it allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestReadArchiveGzipBomb(t *testing.T) {
	tests := []struct {
		name  string
		sizes []int64
		lim   pluginpkg.Limits
		file  string
	}{
		// Stopped by the header: the claimed size is over the limit.
		{name: "one 400 MB file", sizes: []int64{400 << 20}, file: "f0"},
		// Stopped after streaming: each file fits, their sum does not.
		{name: "files adding up", sizes: []int64{4 << 20, 4 << 20, 4 << 20}, lim: pluginpkg.Limits{MaxUnpackedBytes: 10 << 20}, file: "f2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, stop := streamArchive(t, tc.sizes...)
			defer stop()
			var err error
			start := time.Now()
			alloc := allocated(func() { _, err = pluginpkg.ReadArchive(r, tc.lim, nil) })
			wantError(t, err, pluginpkg.CodeUnpackedTooLarge, tc.file, "")
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
			// The generator's gzip writer allocates too; the point is that
			// nothing near the bomb's size was allocated.
			if alloc > 64<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
		})
	}
}

// A header may claim any size; the reader must not allocate it up front.
func TestReadArchiveLyingHeader(t *testing.T) {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	if err := tw.WriteHeader(&tar.Header{Name: "huge", Size: 250 << 20, Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte("only a little"))
	tw.Flush()
	data := gz(t, raw.Bytes())
	var err error
	alloc := allocated(func() { _, err = pluginpkg.ReadArchive(bytes.NewReader(data), pluginpkg.Limits{}, nil) })
	wantError(t, err, pluginpkg.CodeBadArchive, "huge", "")
	if alloc > 8<<20 {
		t.Errorf("allocated %d MiB for a 13-byte file", alloc>>20)
	}
}

// An endless compressed stream is stopped by the archive limit.
func TestReadArchiveEndlessStream(t *testing.T) {
	r := io.MultiReader(bytes.NewReader(tarGz(t, file("plugin.json", manifest()))[:100]), zeroReader{})
	_, err := pluginpkg.ReadArchive(r, pluginpkg.Limits{MaxArchiveBytes: 1 << 20}, nil)
	// The zeros are not valid deflate data, so this is either error; what
	// matters is that it returns.
	var e *pluginpkg.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}

	big := tarGz(t, file("plugin.json", manifest()), file("webapp/index.tsx", entryTSX), file("blob", randomBytes(2<<20)))
	_, err = pluginpkg.ReadArchive(io.MultiReader(bytes.NewReader(big), zeroReader{}), pluginpkg.Limits{MaxArchiveBytes: 1 << 20}, nil)
	wantError(t, err, pluginpkg.CodeArchiveTooLarge, "", "")
}

// Limits at the top of int64 must not overflow the arithmetic.
func TestReadArchiveHugeLimits(t *testing.T) {
	data := tarGz(t, file("plugin.json", manifest()), file("webapp/index.tsx", entryTSX))
	lim := pluginpkg.Limits{MaxArchiveBytes: math.MaxInt64, MaxUnpackedBytes: math.MaxInt64, MaxFiles: math.MaxInt, MaxManifestBytes: math.MaxInt64}
	if _, err := pluginpkg.ReadArchive(bytes.NewReader(data), lim, nil); err != nil {
		t.Fatal(err)
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

// A failing source is not the user's archive's fault: it comes back wrapped,
// not as an *Error.
func TestReadArchiveReadError(t *testing.T) {
	data := tarGz(t, file("plugin.json", manifest()), file("webapp/index.tsx", entryTSX))
	cause := errors.New("connection reset")
	for _, cut := range []int{0, 5, len(data) / 2} {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			r := io.MultiReader(bytes.NewReader(data[:cut]), failingReader{cause})
			_, err := pluginpkg.ReadArchive(r, pluginpkg.Limits{}, nil)
			if !errors.Is(err, cause) {
				t.Fatalf("err = %v, want it to wrap %v", err, cause)
			}
			var e *pluginpkg.Error
			if errors.As(err, &e) {
				t.Errorf("got *Error %v for a read failure", e)
			}
		})
	}
}
