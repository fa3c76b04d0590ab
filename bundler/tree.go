package bundler

import (
	"path"
	"strings"
)

// fileTree is a package's files indexed for module resolution: the set of
// files and the set of directories that hold them. Resolution only ever
// looks here, never at the real filesystem, so a package can neither read
// the server's files nor depend on what happens to be installed on it.
type fileTree struct {
	files map[string][]byte // clean package-relative path -> contents
	dirs  map[string]bool   // every directory holding a file; "" is the root
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
	_, ok := t.files[p]
	return ok
}

func (t *fileTree) isDir(p string) bool { return t.dirs[p] }

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
