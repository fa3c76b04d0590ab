// Command contractgen writes the TypeScript side of the contracts the Go
// server owns and the webapp and mobile hosts read: the slot catalogue
// (slots.Catalogue), the web and mobile manifests (slots.Manifest,
// slots.MobileManifest, mobile.SignatureHeader), Mattermost's client
// manifest of GET /api/v4/plugins/webapp (server/compat.go), the events of
// /api/v1/websocket and their payloads (server/events.go, server/push.go),
// the crash report body (server/crashes.go), the shell page's config
// (webapp/webapp.go) and the host modules (bundler.HostGlobals,
// bundler.MobileHostModules). contracts.go lists them.
//
// Before it, each was copied by hand into TypeScript with nothing checking
// that the copies agreed (the mobile manifest's copy had lost preview).
// Now the Go declaration is the one source: types are read from the Go
// source (so unexported wire types of the HTTP edge and their doc comments
// come along), data by reflection. The output goes to
// webapp/src/generated/ and mobile/src/generated/, each file headed
// "Code generated ... DO NOT EDIT."; the hosts import it.
//
// Run it with `go generate ./slots` (slots/generate.go). The unit suite's
// TestGeneratedFilesAreCurrent regenerates in memory and fails, naming the
// file and this command, when a committed file is not what the Go side
// generates.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	root := flag.String("root", "", "the repository root (default: the directory of the go.mod above the working directory)")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(root string) error {
	if root == "" {
		var err error
		if root, err = findRoot(); err != nil {
			return err
		}
	}
	files, err := generate(root, currentInputs())
	if err != nil {
		return err
	}
	return write(root, files)
}

// findRoot is the directory of the nearest go.mod at or above the working
// directory: go generate runs the command in the package's directory.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("contractgen: no go.mod above the working directory; pass -root")
		}
		dir = up
	}
}

// write puts files under root, rewriting only those that changed (so a
// no-op run leaves the webapp's build inputs alone), and removes generated
// files no contract produces any more.
func write(root string, files map[string][]byte) error {
	for _, dir := range generatedDirs(files) {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			return err
		}
		for _, name := range strays(root, dir, files) {
			if err := os.Remove(filepath.Join(root, filepath.FromSlash(name))); err != nil {
				return err
			}
		}
	}
	for p, b := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if old, err := os.ReadFile(full); err == nil && bytes.Equal(old, b) {
			continue
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// strays are the files of a generated directory that no contract
// generates.
func strays(root, dir string, files map[string][]byte) []string {
	ents, _ := os.ReadDir(filepath.Join(root, filepath.FromSlash(dir)))
	var out []string
	for _, e := range ents {
		if p := dir + "/" + e.Name(); files[p] == nil {
			out = append(out, p)
		}
	}
	return out
}

// stale compares the generated files with those under root and says, for
// each that differs, is missing or should not be there, what to do.
func stale(root string, files map[string][]byte) []string {
	var out []string
	for p, b := range files {
		old, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		switch {
		case err != nil:
			out = append(out, fmt.Sprintf("%s is missing: run `%s` and commit it", p, command))
		case !bytes.Equal(old, b):
			out = append(out, fmt.Sprintf("%s is not what the Go side generates (%s): run `%s` and commit it; "+
				"edit the Go declaration it names, never the generated file", p, firstDiff(old, b), command))
		}
	}
	for _, dir := range generatedDirs(files) {
		for _, p := range strays(root, dir, files) {
			out = append(out, fmt.Sprintf("%s is in a generated directory but no contract generates it: run `%s` (it removes it), "+
				"or put hand-written code outside %s/", p, command, dir))
		}
	}
	sort.Strings(out)
	return out
}

// firstDiff names the first line where have and want differ.
func firstDiff(have, want []byte) string {
	h, w := strings.Split(string(have), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(h) || i < len(w); i++ {
		var a, b string
		if i < len(h) {
			a = h[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d is %q, generated %q", i+1, a, b)
		}
	}
	return "same lines"
}
