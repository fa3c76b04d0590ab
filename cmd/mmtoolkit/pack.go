package main

import (
	"crypto/ed25519"
	"errors"
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
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return errUsage
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
	m, err := packDir(pos[0], tmp, stderr, key)
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
	pkg, files, err := packedFiles(dir, stderr)
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
	pkg, err := pluginpkg.ReadDir(dir, pluginpkg.Limits{}, slots.Known)
	if err != nil {
		return nil, nil, err
	}
	keep, err := bundler.PackFiles(pkg)
	var ce *bundler.CompileError
	if errors.As(err, &ce) {
		for _, d := range ce.Diagnostics {
			fmt.Fprintln(stderr, d.String())
		}
		return nil, nil, exitError(1)
	}
	if err != nil {
		return nil, nil, err
	}
	files := make(map[string][]byte, len(keep))
	for _, p := range keep {
		files[p] = pkg.Files[p]
	}
	return pkg, files, nil
}
