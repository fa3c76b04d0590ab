package plugins_test

import (
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/plugins"
)

// The built-in packages are read with a push's rules and compile for both
// targets: a reference plugin that stops compiling fails here, not at a
// user's first start.
func TestReferencePluginsCompile(t *testing.T) {
	pkgs, err := plugins.Packages()
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != len(plugins.Names) {
		t.Fatalf("%d packages for %d names", len(pkgs), len(plugins.Names))
	}
	for i, pkg := range pkgs {
		m := pkg.Manifest
		if want := "mmtoolkit." + plugins.Names[i]; m.ID != want {
			t.Errorf("plugins/%s has id %q, want %q", plugins.Names[i], m.ID, want)
		}
		if m.Webapp == nil || m.Webapp.Entry == "" || m.Mobile == nil || m.Mobile.Entry == "" {
			t.Errorf("%s: needs a webapp and a mobile entry", m.ID)
		}
		if len(m.Slots) == 0 {
			t.Errorf("%s declares no slots", m.ID)
		}
		if _, ok := pkg.Files["README.md"]; !ok {
			t.Errorf("%s has no README.md", m.ID)
		}
		for _, target := range []bundler.Target{bundler.Web, bundler.Mobile} {
			res, err := bundler.Build(pkg, target)
			if err != nil {
				t.Errorf("%s %s: %v", m.ID, target, err)
				continue
			}
			gz := gzipSize(t, res.JS)
			t.Logf("%s %s: %d bytes, %d gzip, esbuild %v", m.ID, target, len(res.JS), gz, res.Esbuild)
			// The map plugin carries its world geometry; issue #5 caps its
			// web bundle, data included, at 250 KB gzip.
			if m.ID == "mmtoolkit.map" && target == bundler.Web && gz >= 250_000 {
				t.Errorf("map web bundle is %d bytes gzip, over the 250 KB budget", gz)
			}
		}
	}
}

func gzipSize(t *testing.T, b []byte) int {
	t.Helper()
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}
