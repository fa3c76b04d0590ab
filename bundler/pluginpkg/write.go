package pluginpkg

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// archiveTime is the modification time of every entry WriteArchive writes:
// fixed so that the same files always give the same bytes.
var archiveTime = time.Unix(0, 0).UTC()

// WriteArchive writes files (slash-separated paths relative to the plugin
// root) as a deterministic .tar.gz: the same files always give the same
// bytes, whatever the map's order, the clock or the user. Entries are sorted
// with plugin.json first, so that a reader knows the archive's layout from
// its first entry; no directory entries are written.
//
// A path ReadArchive would reject (absolute, "..", a file that is also a
// directory) is an error, so WriteArchive never produces a package that
// cannot be read back.
//
// It compresses with gzip.BestCompression: what `mmtoolkit pack` writes is
// written once and shared. WriteArchiveLevel picks another level.
func WriteArchive(w io.Writer, files map[string][]byte) error {
	return WriteArchiveLevel(w, files, gzip.BestCompression)
}

// WriteArchiveLevel is WriteArchive with a gzip level. A push that packs a
// directory only to upload it at once uses gzip.BestSpeed: on a 660 KB
// source file level 9 costs 260 ms and level 1 6 ms, for a 25% larger
// upload. The same files and level always give the same bytes.
func WriteArchiveLevel(w io.Writer, files map[string][]byte, level int) error {
	paths, err := sortedPaths(files)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(w, level)
	if err != nil {
		return fmt.Errorf("pluginpkg: write archive: %w", err)
	}
	tw := tar.NewWriter(zw)
	for _, p := range paths {
		data := files[p]
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     p,
			Size:     int64(len(data)),
			Mode:     0o644,
			ModTime:  archiveTime,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("pluginpkg: write archive: %s: %w", p, err)
		}
		if _, err := tw.Write(data); err != nil {
			return fmt.Errorf("pluginpkg: write archive: %s: %w", p, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("pluginpkg: write archive: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("pluginpkg: write archive: %w", err)
	}
	return nil
}

// sortedPaths checks the paths of files and returns them in archive order.
func sortedPaths(files map[string][]byte) ([]string, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		c, err := cleanName(p)
		if err != nil {
			return nil, fmt.Errorf("pluginpkg: write archive: %w", err)
		}
		if c != p || c == "" {
			return nil, fmt.Errorf("pluginpkg: write archive: %q is not a clean relative path", p)
		}
		for i := strings.IndexByte(p, '/'); i >= 0; i = next(p, i) {
			if _, ok := files[p[:i]]; ok {
				return nil, fmt.Errorf("pluginpkg: write archive: %q is a file, so %q cannot be inside it", p[:i], p)
			}
		}
		paths = append(paths, p)
	}
	sort.Slice(paths, func(i, j int) bool {
		if (paths[i] == "plugin.json") != (paths[j] == "plugin.json") {
			return paths[i] == "plugin.json"
		}
		return paths[i] < paths[j]
	})
	return paths, nil
}

// SHA256 is a hex digest of the package's contents, independent of how the
// archive was framed (order, timestamps, compression): two pushes of the same
// files have the same digest, which tells an identical re-push from a
// conflicting one. Each file contributes its path and contents, both
// length-prefixed so that no two different packages hash the same stream.
// The server part (Package.Server) counts like any file: a signature that
// let its executables change would let anyone who can push put code into
// the Mattermost behind mmtoolkit.
func (p *Package) SHA256() string {
	paths := make([]string, 0, len(p.Files)+len(p.Server))
	for name := range p.Files {
		paths = append(paths, name)
	}
	for name := range p.Server {
		paths = append(paths, name) // never also in Files
	}
	sort.Strings(paths)
	h := sha256.New()
	var n [8]byte
	for _, name := range paths {
		data, ok := p.Files[name]
		if !ok {
			data = p.Server[name]
		}
		binary.BigEndian.PutUint64(n[:], uint64(len(name)))
		h.Write(n[:])
		io.WriteString(h, name)
		binary.BigEndian.PutUint64(n[:], uint64(len(data)))
		h.Write(n[:])
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))
}
