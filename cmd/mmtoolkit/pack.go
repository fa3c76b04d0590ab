package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

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
	keep, err := packFiles(pkg)
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

// packFiles lists the files of pkg a server needs to rebuild it: the
// manifest and the files it names, the import graph of each entry, the
// package.json of every node_modules package in that graph (resolution
// reads it), tsconfig/jsconfig, and README/LICENSE files at the root.
func packFiles(pkg *pluginpkg.Package) ([]string, error) {
	keep := map[string]bool{"plugin.json": true}
	m := pkg.Manifest
	add := func(p string) {
		if _, ok := pkg.Files[p]; ok && p != "" {
			keep[p] = true
		}
	}
	add(m.IconPath)
	for _, s := range m.Screenshots {
		add(s)
	}
	for _, t := range []struct {
		on     bool
		target bundler.Target
	}{{m.Webapp != nil && m.Webapp.Entry != "", bundler.Web}, {m.Mobile != nil && m.Mobile.Entry != "", bundler.Mobile}} {
		if !t.on {
			continue
		}
		res, err := bundler.Build(pkg, t.target)
		if err != nil {
			return nil, err
		}
		for _, in := range res.Inputs {
			add(in)
			if root := nodeModuleRoot(in); root != "" {
				add(root + "/package.json")
			}
		}
	}
	if m.Webapp != nil && m.Webapp.BundlePath != "" {
		add(m.Webapp.BundlePath)
		add(m.Webapp.BundlePath + ".map")
	}
	for p := range pkg.Files {
		base := strings.ToLower(p)
		if !strings.Contains(p, "/") && (base == "tsconfig.json" || base == "jsconfig.json" ||
			strings.HasPrefix(base, "readme") || strings.HasPrefix(base, "license")) {
			add(p)
		}
	}
	out := make([]string, 0, len(keep))
	for p := range keep {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// nodeModuleRoot returns the package directory of a file under
// node_modules ("node_modules/@scope/name" or "node_modules/name"), or "".
func nodeModuleRoot(p string) string {
	i := strings.LastIndex(p, "node_modules/")
	if i < 0 {
		return ""
	}
	rest := strings.Split(p[i+len("node_modules/"):], "/")
	n := 1
	if strings.HasPrefix(rest[0], "@") {
		n = 2
	}
	if len(rest) <= n {
		return ""
	}
	return path.Join(p[:i+len("node_modules")], path.Join(rest[:n]...))
}
