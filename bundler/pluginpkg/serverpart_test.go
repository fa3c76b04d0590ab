package pluginpkg_test

import (
	"bytes"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// TestDigestCoversServerPart: the server part is installed on Mattermost,
// so a change to an executable must change the package digest (and break
// a signature); an archive without one keeps the digest it always had.
func TestDigestCoversServerPart(t *testing.T) {
	read := func(exe string) *pluginpkg.Package {
		t.Helper()
		files := []entry{file("x/plugin.json", mattermostManifest), file("x/webapp/dist/main.js", "x"),
			file("x/assets/icon.svg", `<svg xmlns="http://www.w3.org/2000/svg"/>`)}
		if exe != "" {
			files = append(files, file("x/server/dist/plugin-linux-amd64", exe))
		}
		pkg, err := pluginpkg.ReadArchive(bytes.NewReader(tarGz(t, files...)), pluginpkg.Limits{}, knownSlots)
		if err != nil {
			t.Fatal(err)
		}
		return pkg
	}
	a, b, none := read("\x7fELF honest"), read("\x7fELF evil"), read("")
	if a.SHA256() == b.SHA256() {
		t.Error("two server parts, one digest: a signature would not cover the executables")
	}
	if string(a.Server["server/dist/plugin-linux-amd64"]) != "\x7fELF honest" || len(a.Files) != len(none.Files) {
		t.Errorf("server part %q, files %d (want %d: the executables are not webapp files)", a.Server, len(a.Files), len(none.Files))
	}
	withoutServer := *a
	withoutServer.Server = nil
	if withoutServer.SHA256() != none.SHA256() {
		t.Error("the digest of the files but the server part differs from the same package without one")
	}
}
