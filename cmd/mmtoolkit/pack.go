package main

import (
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/mobile"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

func cmdPack(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("pack", "[flags] DIR",
		"Writes DIR as <id>-<version>.tar.gz holding plugin.json, the files it names, and\n"+
			"exactly the source and node_modules files its entries import, with its signature\n"+
			"("+pluginpkg.SignatureFile+": made now with --key, or the one `mmtoolkit sign DIR` wrote). The\n"+
			"archive is deterministic: the same files (and key) always give the same bytes.", stderr)
	out := fs.String("o", "", "output file (default <id>-<version>.tar.gz in the current directory)")
	keyPath := fs.String("key", "", "sign the package with this private key (mmtoolkit keygen --purpose package)")
	src := addSourceFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := positional(fs, pos, "DIR"); err != nil {
		return err
	}
	if err := checkPluginPath(pos[0], false); err != nil {
		return err
	}
	oneShotGC()
	var key ed25519.PrivateKey
	if *keyPath != "" {
		if key, err = mobile.ReadKey(*keyPath); err != nil {
			return err
		}
	}
	tmp, err := os.CreateTemp(".", ".mmtoolkit-pack-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	m, err := packDirWith(pos[0], tmp, stderr, key, src.options(pos[0]))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	name := *out
	if name == "" {
		name = m.ID + "-" + m.Version + ".tar.gz"
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return err
	}
	fmt.Fprintln(stdout, name)
	return nil
}

// packDir writes the package in dir to w, keeping only the files a build
// needs, with its signature (made with key, or the directory's own
// plugin.sig, which must still match), and returns its manifest. Compile
// errors are printed to stderr.
func packDir(dir string, w io.Writer, stderr io.Writer, key ed25519.PrivateKey) (*pluginpkg.Manifest, error) {
	return packDirWith(dir, w, stderr, key, bundler.DirOptions{})
}

// packDirWith is packDir with the source options of the command line.
func packDirWith(dir string, w io.Writer, stderr io.Writer, key ed25519.PrivateKey, o bundler.DirOptions) (*pluginpkg.Manifest, error) {
	pkg, files, err := packedFilesWith(dir, stderr, o)
	if err != nil {
		return nil, err
	}
	sig, err := signatureFor(files, pkg.Signature, key, dir)
	if err != nil {
		return nil, err
	}
	if sig != nil {
		files[pluginpkg.SignatureFile] = sig
	}
	if err := pluginpkg.WriteArchive(w, files); err != nil {
		return nil, err
	}
	return &pkg.Manifest, nil
}

// packedFiles reads the package in dir and returns the files pack keeps
// (without plugin.sig). Compile errors are printed to stderr.
func packedFiles(dir string, stderr io.Writer) (*pluginpkg.Package, map[string][]byte, error) {
	return packedFilesWith(dir, stderr, bundler.DirOptions{})
}

// packedFilesWith is packedFiles with the source options of the command
// line. The directory is never listed (bundler.PackDir): only plugin.json,
// what it names and what the entries import are read, and the package
// limits apply to those.
func packedFilesWith(dir string, stderr io.Writer, o bundler.DirOptions) (*pluginpkg.Package, map[string][]byte, error) {
	o.Known = slots.Known
	pd, err := (*bundler.Cache)(nil).PackDir(dir, o)
	var ce *bundler.CompileError
	if errors.As(err, &ce) {
		for _, d := range ce.Diagnostics {
			fmt.Fprintln(stderr, formatDiagnostic(dir, diagnostic{File: d.File, Line: d.Line, Column: d.Column, Text: d.Text}))
		}
		return nil, nil, exitError(1)
	}
	if err != nil {
		return nil, nil, err
	}
	if pd.SourceEntry != "" {
		fmt.Fprintln(stderr, sourceEntryNote(pd.SourceEntry))
	}
	pd.Package.Signature = pd.Signature
	return pd.Package, pd.Files, nil
}

// sourceEntryNote tells the developer that the sources, not the built
// bundle plugin.json names, are what was sent.
func sourceEntryNote(entry string) string {
	return "webapp: built from " + entry + " (plugin.json names webapp.bundle_path; --prebuilt sends the built bundle instead)"
}

// sourceFlags are the flags of pack and push that choose what of a plugin
// repository is sent.
type sourceFlags struct {
	webappEntry *string
	prebuilt    *bool
	version     *string
}

func addSourceFlags(fs *flag.FlagSet) sourceFlags {
	return sourceFlags{
		webappEntry: fs.String("webapp-entry", "", "build the web bundle from this source file of DIR (default for a plugin.json naming\nonly webapp.bundle_path: webapp/src/index.tsx, .ts, .jsx or .js when it exists)"),
		prebuilt:    fs.Bool("prebuilt", false, "send webapp.bundle_path's built bundle and its output directory, not the sources"),
		version:     fs.String("version", "", "the version to send in plugin.json (Mattermost's starter template leaves it out\nof plugin.json and fills it from git tags at build time, as push and pack do by\ndefault: the v-tag on HEAD, else the latest v-tag + \"+<hash>\")"),
	}
}

// options are the packing options for the plugin folder dir. Without
// --version, a plugin.json that has no version gets the one Mattermost's
// build would give it from git (gitVersion).
func (f sourceFlags) options(dir string) bundler.DirOptions {
	o := bundler.DirOptions{WebappEntry: *f.webappEntry, Prebuilt: *f.prebuilt}
	if v := *f.version; v != "" {
		o.Rewrite = func(raw []byte) ([]byte, error) { return withManifestVersion(raw, v) }
	} else {
		o.Rewrite = withGitVersion(dir)
	}
	return o
}
