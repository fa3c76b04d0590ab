package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
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
	// last is the server's answer to the last push that went through:
	// push --watch previews its version (watch.go).
	last *pushResult
	// signature is a detached signature file to send (push --signature).
	signature string
	// cache, when set, keeps the esbuild context of the last pack.
	cache *bundler.Cache
	// source chooses what of a plugin repository is sent (--webapp-entry,
	// --prebuilt).
	source bundler.DirOptions
	// sourceEntry is the webapp source entry the last read built from in
	// place of plugin.json's webapp.bundle_path ("" when it did not).
	sourceEntry string
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
	o := p.source
	o.Known, o.Also = slots.Known, p.lastKeep
	if p.dev {
		set := o.Rewrite // --version, if given, is the base of the dev version
		o.Rewrite = func(raw []byte) ([]byte, error) {
			if set != nil {
				var err error
				if raw, err = set(raw); err != nil {
					return nil, err
				}
			}
			return withDevVersion(raw, time.Now())
		}
	}
	pd, err := p.cache.PackDir(path, o)
	if pd != nil {
		p.sourceEntry = pd.SourceEntry
	}
	var ce *bundler.CompileError
	switch {
	case errors.As(err, &ce):
		// pd holds the plugin's own sources and the node_modules files of
		// the last good build.
	case err != nil:
		return nil, err
	default:
		p.lastKeep = nil
		for f := range pd.Files {
			if strings.Contains(f, "node_modules/") {
				p.lastKeep = append(p.lastKeep, f)
			}
		}
		sort.Strings(p.lastKeep)
	}
	files := pd.Files
	// The directory's plugin.sig goes with a package that builds, so the
	// server checks it (and refuses it if the files changed since signing).
	// A dev push rewrites the version, and sources that do not compile are
	// sent whole for their diagnostics: neither is what was signed.
	if pd.Signature != nil && !p.dev && err == nil {
		files[pluginpkg.SignatureFile] = pd.Signature
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

// withDevVersion rewrites the version in plugin.json to devVersion's.
func withDevVersion(raw []byte, now time.Time) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	var base string
	if err := json.Unmarshal(m["version"], &base); err != nil {
		return nil, fmt.Errorf("plugin.json has no version; give one with --version: %w", err)
	}
	return withManifestVersion(raw, devVersion(base, now))
}

// withVersion sets the version in plugin.json.
func withManifestVersion(raw []byte, v string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	m["version"], _ = json.Marshal(v)
	return json.MarshalIndent(m, "", "  ")
}
