// Package plugins holds the reference plugins mmtoolkit ships, each a plugin
// package as a developer would push it (plugin.json, webapp/, mobile/,
// README.md): video calls (mmtoolkit.video), map posts (mmtoolkit.map) and
// the app center (mmtoolkit.appcenter). The binary embeds them, and serve
// preinstalls them with server.Preinstall: enabled for every team in the
// sandbox, installed and disabled in front of a real Mattermost.
//
// They use only the public plugin contract (webapp/sdk, mobile/src), so
// each is also a model to copy.
package plugins

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// all: keeps every file, as `mmtoolkit push plugins/<name>` would send it.
//
//go:embed all:video all:map all:appcenter
var files embed.FS

// Names are the reference plugins' directories, in the order they install.
var Names = []string{"video", "map", "appcenter"}

// Files returns the package in directory name as path -> contents.
func Files(name string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := fs.WalkDir(files, name, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, name+"/")
		out[rel] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("plugins: read embedded %s: %w", name, err)
	}
	return out, nil
}

// Packages reads every reference plugin with the rules of a push
// (pluginpkg.ReadFiles is ReadArchive without the archive) and keeps the
// files `mmtoolkit pack` would (bundler.PackFiles), so a built-in package
// is held to exactly what a developer's is, and has the SHA-256 of
// `mmtoolkit pack plugins/<name>`: pushing that directory unchanged onto a
// server that preinstalled it is an idempotent 200, not a conflict.
func Packages() ([]*pluginpkg.Package, error) {
	pkgs := make([]*pluginpkg.Package, len(Names))
	errs := make([]error, len(Names))
	var wg sync.WaitGroup
	for i, name := range Names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pkgs[i], errs[i] = read(name)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return pkgs, nil
}

func read(name string) (*pluginpkg.Package, error) {
	all, err := Files(name)
	if err != nil {
		return nil, err
	}
	pkg, err := pluginpkg.ReadFiles(all, pluginpkg.Limits{}, slots.Known)
	if err != nil {
		return nil, fmt.Errorf("plugins: %s: %w", name, err)
	}
	keep, err := bundler.PackFiles(pkg)
	if err != nil {
		return nil, fmt.Errorf("plugins: %s: %w", name, err)
	}
	files := make(map[string][]byte, len(keep))
	for _, p := range keep {
		files[p] = all[p]
	}
	if sig, ok := all[pluginpkg.SignatureFile]; ok {
		files[pluginpkg.SignatureFile] = sig
	}
	pkg, err = pluginpkg.ReadFiles(files, pluginpkg.Limits{}, slots.Known)
	if err != nil {
		return nil, fmt.Errorf("plugins: %s: %w", name, err)
	}
	return pkg, nil
}
