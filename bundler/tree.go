package bundler

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// fileTree is a package's files indexed for module resolution: the set of
// files and the set of directories that hold them. Resolution only ever
// looks here, never at the real filesystem, so a package can neither read
// the server's files nor depend on what happens to be installed on it.
//
// A tree made by newDiskTree (`mmtoolkit pack` and `push` of a directory)
// is the exception, on the developer's machine: it answers from the
// plugin's directory, looking at one path at a time, so a repository with
// tens of thousands of files in node_modules/ costs only the stat calls
// the import graph makes, never a walk of the directory.
type fileTree struct {
	files map[string][]byte // clean package-relative path -> contents
	dirs  map[string]bool   // every directory holding a file; "" is the root

	disk *diskTree // nil for a package in memory
}

func newFileTree(files map[string][]byte) *fileTree {
	t := &fileTree{
		files: make(map[string][]byte, len(files)),
		dirs:  map[string]bool{"": true},
	}
	for name, data := range files {
		p, ok := cleanRel(name)
		if !ok {
			continue
		}
		t.files[p] = data
		for d := parentDir(p); !t.dirs[d]; d = parentDir(d) {
			t.dirs[d] = true
		}
	}
	return t
}

func (t *fileTree) isFile(p string) bool {
	if _, ok := t.files[p]; ok {
		return true
	}
	if t.disk == nil {
		return false
	}
	// A link or special file counts as present, so the import that reaches
	// it fails at load with a message saying why, not as "not found".
	k := t.disk.kind(p)
	return k == kindFile || k == kindLink || k == kindOther
}

func (t *fileTree) isDir(p string) bool {
	if t.dirs[p] {
		return true
	}
	return t.disk != nil && t.disk.kind(p) == kindDir
}

// read returns the contents of package file p.
func (t *fileTree) read(p string) ([]byte, bool) {
	if data, ok := t.files[p]; ok {
		return data, true
	}
	if t.disk == nil {
		return nil, false
	}
	return t.disk.read(p)
}

// whyUnreadable says why read failed for a file isFile reported.
func (t *fileTree) whyUnreadable(p string) string {
	if t.disk != nil {
		t.disk.mu.Lock()
		defer t.disk.mu.Unlock()
		if why, ok := t.disk.problems[p]; ok {
			if why == "a symbolic link" || why == "a special file" {
				return fmt.Sprintf("%s is %s; packages hold only regular files and directories, so replace it with the file it stands for", p, why)
			}
			return fmt.Sprintf("cannot read %s: %s", p, why)
		}
	}
	return fmt.Sprintf("%s is not in the package", p)
}

// filesIn lists the names of the regular files directly in dir.
func (t *fileTree) filesIn(dir string) []string {
	var out []string
	prefix := dir + "/"
	if dir == "" {
		prefix = ""
	}
	for p := range t.files {
		if rest, ok := strings.CutPrefix(p, prefix); ok && !strings.Contains(rest, "/") {
			out = append(out, rest)
		}
	}
	if t.disk != nil && t.disk.kind(dir) == kindDir {
		entries, _ := os.ReadDir(t.disk.full(dir))
		for _, e := range entries {
			if e.Type().IsRegular() {
				if _, ok := t.files[prefix+e.Name()]; !ok {
					out = append(out, e.Name())
				}
			}
		}
	}
	return out
}

// list calls fn for every file under dir ("" is the root), outside
// node_modules/, for context modules (context.go). A disk tree walks only
// that directory.
func (t *fileTree) list(dir string, fn func(p string)) {
	for p := range t.files {
		fn(p)
	}
	if t.disk != nil {
		t.disk.walk(dir, func(p string) {
			if _, ok := t.files[p]; !ok {
				fn(p)
			}
		})
	}
}

// cleanRel turns a package path as found in a manifest or a Files key into
// the clean form the tree uses ("webapp/index.tsx"). It reports false for
// paths that leave the package.
func cleanRel(p string) (string, bool) {
	p = strings.TrimLeft(p, "/")
	p = path.Clean(p)
	switch {
	case p == ".":
		return "", true
	case p == "..", strings.HasPrefix(p, "../"):
		return "", false
	}
	return p, true
}

// parentDir is path.Dir with the root spelled "" instead of ".".
func parentDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

// joinRel joins a package-relative directory and a relative path; it
// reports false when the result leaves the package.
func joinRel(dir, rel string) (string, bool) {
	return cleanRel(path.Join(dir, rel))
}

// inNodeModules reports whether a package path is npm code the plugin
// carries rather than the plugin's own source.
func inNodeModules(p string) bool {
	return strings.HasPrefix(p, "node_modules/") || strings.Contains(p, "/node_modules/")
}

type entryKind uint8

const (
	kindNone entryKind = iota
	kindFile
	kindDir
	kindLink  // a symbolic link: packages hold none (pluginpkg refuses them)
	kindOther // a device, fifo or socket
)

// maxDiskFileBytes bounds one file a disk tree reads: the package's
// unpacked limit would refuse anything larger anyway.
const maxDiskFileBytes = 300 << 20

// diskTree answers fileTree look-ups from a directory on disk, lazily: a
// path is stat'ed the first time resolution asks about it, a file read
// the first time it loads. Every answer is remembered, so a build sees one
// consistent tree even if the disk changes meanwhile.
type diskTree struct {
	root string // absolute, links resolved

	mu    sync.Mutex
	kinds map[string]entryKind
	data  map[string][]byte
	// problems are paths the import graph reached that a package cannot
	// hold (links, special files, unreadable or oversized files), with why.
	problems map[string]string
	stats    int // stat calls made, for tests and the benchmark
}

func newDiskTree(root string) (*diskTree, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, err
	}
	return &diskTree{root: abs, kinds: map[string]entryKind{"": kindDir}, data: map[string][]byte{}, problems: map[string]string{}}, nil
}

func (d *diskTree) full(p string) string { return filepath.Join(d.root, filepath.FromSlash(p)) }

// kind stats p once. A path under a link, a file or a missing directory is
// answered from its parent without a system call. .git never exists.
func (d *diskTree) kind(p string) entryKind {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.kindLocked(p)
}

func (d *diskTree) kindLocked(p string) entryKind {
	if k, ok := d.kinds[p]; ok {
		return k
	}
	if path.Base(p) == ".git" {
		d.kinds[p] = kindNone
		return kindNone
	}
	if parent := parentDir(p); parent != p && d.kindLocked(parent) != kindDir {
		d.kinds[p] = kindNone
		return kindNone
	}
	d.stats++
	k := kindNone
	if fi, err := os.Lstat(d.full(p)); err == nil {
		switch m := fi.Mode(); {
		case m.IsDir():
			k = kindDir
		case m.IsRegular():
			k = kindFile
		case m&fs.ModeSymlink != 0:
			k = kindLink
		default:
			k = kindOther
		}
	}
	if k == kindLink || k == kindOther {
		// Resolution may well have tried this path only as a candidate;
		// it becomes a problem only if something imports it (read).
		what := "a symbolic link"
		if k == kindOther {
			what = "a special file"
		}
		d.problems[p] = what
	}
	d.kinds[p] = k
	return k
}

// read returns p's contents, reading the file the first time.
func (d *diskTree) read(p string) ([]byte, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if data, ok := d.data[p]; ok {
		return data, true
	}
	if d.kindLocked(p) != kindFile {
		return nil, false
	}
	data, err := readBounded(d.full(p), maxDiskFileBytes)
	if err != nil {
		d.problems[p] = err.Error()
		return nil, false
	}
	d.data[p] = data
	return data, true
}

func readBounded(name string, max int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %d MiB", name, max>>20)
	}
	return data, nil
}

// walk lists the regular files under dir, skipping node_modules/ and .git,
// for a context module; a walk stops after maxContextWalk files.
func (d *diskTree) walk(dir string, fn func(p string)) {
	if d.kind(dir) != kindDir {
		return
	}
	n := 0
	errStop := errors.New("stop")
	filepath.WalkDir(d.full(dir), func(full string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if e.IsDir() && (e.Name() == "node_modules" || e.Name() == ".git") {
			return filepath.SkipDir
		}
		if !e.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(d.root, full)
		if err != nil {
			return nil
		}
		if n++; n > maxContextWalk {
			return errStop
		}
		fn(filepath.ToSlash(rel))
		return nil
	})
}

// maxContextWalk bounds the files a context module's directory walk looks
// at on disk (the generated module holds at most maxContextFiles).
const maxContextWalk = 20000

// problemsIn returns, sorted, what is wrong with the given files of the
// tree: links and special files the build reached, files it could not read.
func (d *diskTree) problemsIn(files []string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, f := range files {
		if why, ok := d.problems[f]; ok {
			out = append(out, f+": "+why)
		}
	}
	sort.Strings(out)
	return out
}
