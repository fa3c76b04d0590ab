package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/mod/semver"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// packer makes the archive push sends. For a directory it keeps the files
// the import graph reaches (as pack does). When the sources do not compile
// it still sends them, so the server reports the diagnostics (to the
// terminal and, as plugin_build_failed, to the developer's open pages): the
// plugin's own files, and the node_modules files of the last good build.
type packer struct {
	// dev gives every push its own prerelease version above the one in
	// plugin.json (push --watch), since versions are immutable.
	dev      bool
	lastKeep []string
	// signature is a detached signature file to send (push --signature).
	signature string
	// cache, when set, keeps the esbuild context of the last pack.
	cache *bundler.Cache
}

// oneShotGC sets the garbage collector up for a command that packs once
// and exits, as esbuild's own command does for a build: no collection
// until the heap nears 1 GiB. The packing build of a typical plugin
// allocates about 90 MB and the process ends moments later; collecting
// meanwhile costs a sixth of its time. GOGC or GOMEMLIMIT in the
// environment win.
func oneShotGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(1 << 30)
	debug.SetGCPercent(-1)
}

func (p *packer) read(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return os.ReadFile(path)
	}
	pkg, err := pluginpkg.ReadDir(path, pluginpkg.Limits{}, slots.Known)
	if err != nil {
		return nil, err
	}
	if p.dev {
		if err := setVersion(pkg, devVersion(pkg.Manifest.Version, time.Now())); err != nil {
			return nil, err
		}
	}
	keep, err := p.cache.PackFiles(pkg)
	var ce *bundler.CompileError
	switch {
	case errors.As(err, &ce):
		keep = append([]string{}, p.lastKeep...)
		for f := range pkg.Files {
			if !strings.HasPrefix(f, "node_modules/") && !strings.Contains(f, "/node_modules/") {
				keep = append(keep, f)
			}
		}
	case err != nil:
		return nil, err
	default:
		p.lastKeep = nil
		for _, f := range keep {
			if strings.Contains(f, "node_modules/") {
				p.lastKeep = append(p.lastKeep, f)
			}
		}
	}
	files := make(map[string][]byte, len(keep))
	for _, f := range keep {
		if data, ok := pkg.Files[f]; ok {
			files[f] = data
		}
	}
	// The directory's plugin.sig goes with a package that builds, so the
	// server checks it (and refuses it if the files changed since signing).
	// A dev push rewrites the version, and sources that do not compile are
	// sent whole for their diagnostics: neither is what was signed.
	if pkg.Signature != nil && !p.dev && err == nil {
		files[pluginpkg.SignatureFile] = pkg.Signature
	}
	var buf bytes.Buffer
	// Packed to upload at once: speed over size (pluginpkg.WriteArchiveLevel).
	if err := pluginpkg.WriteArchiveLevel(&buf, files, gzip.BestSpeed); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// devVersion is a prerelease of the next patch version, unique per push:
// 1.2.0 becomes 1.2.1-dev.<unix ms>. It sorts above 1.2.0, so teams that
// follow the latest version get it, and below the real 1.2.1.
func devVersion(base string, now time.Time) string {
	var major, minor, patch int
	fmt.Sscanf(semver.Canonical("v"+base), "v%d.%d.%d", &major, &minor, &patch)
	return fmt.Sprintf("%d.%d.%d-dev.%d", major, minor, patch+1, now.UnixMilli())
}

// setVersion rewrites the version in the package's plugin.json.
func setVersion(pkg *pluginpkg.Package, v string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(pkg.Files["plugin.json"], &m); err != nil {
		return err
	}
	m["version"], _ = json.Marshal(v)
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	pkg.Files["plugin.json"], pkg.Manifest.Version = raw, v
	return nil
}
