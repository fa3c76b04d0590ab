package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/server"
)

type pushResult struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Created bool   `json:"created"`
	Bundles map[string]struct {
		URL      string `json:"url"`
		Size     int64  `json:"size"`
		GzipSize int64  `json:"gzip_size"`
	} `json:"bundles"`
	Certified     bool     `json:"certified"`
	Certification string   `json:"certification"`
	SignerKey     string   `json:"signer_key"`
	BuildMS       float64  `json:"build_ms"`
	Warnings      []string `json:"warnings"`
	Slots         []struct {
		Slot     string `json:"slot"`
		PostType string `json:"post_type"`
	} `json:"slots"`
	// ServerPart is what happened to a Mattermost archive's server part
	// (docs/proxy.md, "Server part").
	ServerPart *struct {
		State   string `json:"state"`
		Version string `json:"version"`
		Size    int64  `json:"size"`
		Message string `json:"message"`
	} `json:"server_part"`
}

func cmdPush(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("push", "[flags] DIR|FILE.tar.gz",
		"Compiles and publishes a plugin. A directory is packed first (only the files its\n"+
			"entries import, as \"mmtoolkit pack\" does; node_modules/ is never listed, so a\n"+
			"repository after npm ci pushes as it is); a .tar.gz is sent as it is. A plugin.json\n"+
			"naming only webapp.bundle_path is pushed from its sources when webapp/src/index.* (or\n"+
			"--webapp-entry) exists, else with the built bundle. Compile\n"+
			"errors print as file:line:col: message and the command exits 1.\n\n"+
			"A signature goes with the package: the "+pluginpkg.SignatureFile+" inside it (mmtoolkit sign DIR,\n"+
			"pack --key), FILE.tar.gz.sig beside an archive, or --signature. The server stores the\n"+
			"version at the level it trusts the signing key for; unsigned is \"unverified\".", stderr)
	cf := addClientFlags(fs)
	watch := fs.Bool("watch", false, "push again on every change of DIR, until Ctrl-C (open pages update live;\ndev versions are pushed unsigned)")
	sigPath := fs.String("signature", "", "detached signature file to send (default FILE.tar.gz.sig beside an archive, if present)")
	src := addSourceFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := positional(fs, pos, "DIR|FILE.tar.gz"); err != nil {
		return err
	}
	if err := checkPluginPath(pos[0], true); err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	if *watch {
		return watchAndPush(c, pos[0], src.options(pos[0]), stdout, stderr)
	}
	oneShotGC()
	return pushOnce(c, &packer{signature: *sigPath, source: src.options(pos[0])}, pos[0], stdout, stderr)
}

// pushOnce packs (for a directory) and pushes, printing the outcome. The
// server's diagnostics are the ones printed, so what the terminal shows and
// what the developer's open page shows are the same.
func pushOnce(c *client, p *packer, path string, stdout, stderr io.Writer) error {
	archive, err := p.read(path)
	if err != nil {
		return err
	}
	if p.sourceEntry != "" {
		fmt.Fprintln(stderr, sourceEntryNote(p.sourceEntry))
	}
	sig, err := p.detachedSignature(path)
	if err != nil {
		return err
	}
	var hdr []string
	if sig != nil {
		hdr = []string{server.SignatureHeader, base64.StdEncoding.EncodeToString(sig)}
	}
	var res pushResult
	_, err = c.do("POST", "/api/v1/plugins", "application/gzip", bytes.NewReader(archive), &res, hdr...)
	var ae *apiError
	if errors.As(err, &ae) && len(ae.Diagnostics) > 0 {
		root := "" // an archive's paths are the archive's
		if isDir(path) {
			root = path
		}
		for _, d := range ae.Diagnostics {
			fmt.Fprintln(stderr, formatDiagnostic(root, d))
		}
		fmt.Fprintf(stderr, "push failed: %s\n", ae.Message)
		return exitError(1)
	}
	if errors.As(err, &ae) && ae.Status < 500 && ae.Code != "not_owner" && ae.Code != "version_conflict" && !isDir(path) {
		// The server read the archive: say which one.
		ae.Message = path + ": " + ae.Message
	}
	if err != nil {
		return err
	}
	p.last = &res // push --watch previews it (watch.go)
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	verb := "pushed"
	switch {
	case res.Certified:
		verb = "certified (identical content already pushed, now at a higher level):"
	case !res.Created:
		verb = "unchanged (identical content already pushed):"
	}
	var parts []string
	for _, k := range []string{"web", "mobile"} {
		if b, ok := res.Bundles[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %s", k, size(b.Size)))
		}
	}
	level := res.Certification
	if res.SignerKey != "" {
		level += ", key " + res.SignerKey
	}
	fmt.Fprintf(stdout, "%s %s@%s (%s): %s, built in %.0f ms\n", verb, res.ID, res.Version, level, strings.Join(parts, ", "), res.BuildMS)
	if sp := res.ServerPart; sp != nil {
		fmt.Fprintf(stdout, "server part (%s): %s\n", size(sp.Size), sp.Message)
	}
	return nil
}

// detachedSignature is the signature push sends beside the package: the
// --signature file, or for an archive FILE.sig when it exists.
func (p *packer) detachedSignature(path string) ([]byte, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() && p.signature == "" {
		return nil, nil // a directory's plugin.sig travels inside the archive
	}
	sig, _, err := detachedSignatureFor(path, p.signature)
	return sig, err
}

// formatDiagnostic prints d as file:line:col: message, the form editors
// and terminals jump to. The server names files from the plugin's root;
// for a directory pushed (dir) they are named from the working directory:
// "push hello" prints hello/webapp/index.tsx, "push ." webapp/index.tsx.
func formatDiagnostic(dir string, d diagnostic) string {
	if d.File == "" {
		return d.Text
	}
	return fmt.Sprintf("%s:%d:%d: %s", inDir(dir, d.File), d.Line, d.Column+1, d.Text)
}

// inDir names file, a slash path inside the plugin directory dir ("" for
// an archive), from the working directory: relative when that is shorter
// than the absolute path, as the go command prints paths (a directory far
// from the working directory keeps its absolute path, not ../../../..).
func inDir(dir, file string) string {
	if dir == "" || filepath.IsAbs(file) || strings.HasPrefix(file, "<") {
		return file // an archive's path, or esbuild's <stdin>-like names
	}
	p := filepath.Join(dir, filepath.FromSlash(file))
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, abs); err == nil && len(rel) < len(abs) {
			return rel
		}
	}
	return abs
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
