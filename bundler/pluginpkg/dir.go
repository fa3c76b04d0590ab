package pluginpkg

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ReadDir reads a plugin package from a directory on disk, with the same
// rules and result as ReadArchive of a .tar.gz of that directory's contents.
// .git is skipped. Links and special files inside the directory are rejected,
// not followed. MaxArchiveBytes does not apply.
//
// Problems with the contents are *Error; failures to read the disk are
// returned wrapped.
func ReadDir(dir string, lim Limits, known SlotCatalogue) (*Package, error) {
	lim = lim.withDefaults()
	// The directory itself may be reached through a link (say, a checkout
	// under a symlinked home); only links inside it are refused.
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("pluginpkg: read dir %s: %w", dir, err)
	}
	if fi, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("pluginpkg: read dir %s: %w", dir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("pluginpkg: read dir %s: not a directory", dir)
	}

	// First pass: names, types and sizes only, so that the limits and the
	// plugin root are settled before any content is read, and server
	// executables are never read at all.
	c := newCollector(lim)
	sizes := make(map[string]int64)
	err = filepath.WalkDir(root, func(full string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("pluginpkg: read dir %s: %w", dir, err)
		}
		if full == root {
			return nil
		}
		if d.Name() == ".git" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil // a worktree's .git file
		}
		rel, err := filepath.Rel(root, full)
		if err != nil {
			return fmt.Errorf("pluginpkg: read dir %s: %w", dir, err)
		}
		name := filepath.ToSlash(rel)
		p, err := c.clean(name)
		if err != nil {
			return err
		}
		mode := d.Type()
		switch {
		case mode.IsDir():
			return c.addDir(p)
		case mode&fs.ModeSymlink != 0:
			target, _ := os.Readlink(full)
			return &Error{Code: CodeLinkEntry, File: name,
				Message: fmt.Sprintf("%s is a symbolic link to %q; packages hold only regular files and directories, so replace the link with the file it points to", name, target)}
		case !mode.IsRegular():
			return &Error{Code: CodeDeviceEntry, File: name,
				Message: fmt.Sprintf("%s is %s; packages hold only regular files and directories, so remove it", name, modeKind(mode))}
		}
		fi, err := d.Info()
		if err != nil {
			return fmt.Errorf("pluginpkg: read dir %s: %w", dir, err)
		}
		if err := c.addFile(p, fi.Size()); err != nil {
			return err
		}
		sizes[p] = fi.Size()
		return nil
	})
	if err != nil {
		return nil, err
	}

	prefix := c.rootPrefix()
	for p, size := range sizes {
		if strings.HasPrefix(strings.TrimPrefix(p, prefix), serverDist) {
			c.skipped[p] = true
			continue
		}
		if err := c.reserve(size); err != nil {
			return nil, err
		}
		data, err := readFileSize(filepath.Join(root, filepath.FromSlash(p)), size)
		if err != nil {
			return nil, fmt.Errorf("pluginpkg: read dir %s: %w", dir, err)
		}
		c.files[p] = data
	}
	return c.assemble(known)
}

// readFileSize reads a file expected to hold size bytes. A file that changed
// size since it was counted is an error: the limits were checked against the
// old size.
func readFileSize(name string, size int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readEntry(f, size)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	var extra [1]byte
	if n, _ := f.Read(extra[:]); n > 0 {
		return nil, fmt.Errorf("read %s: file grew while being read", name)
	}
	return data, nil
}

func modeKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (fifo)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	default:
		return "a special file"
	}
}
