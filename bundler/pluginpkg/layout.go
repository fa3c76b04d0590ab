package pluginpkg

import (
	"encoding/json"
	"fmt"
	"math"
	"path"
	"sort"
	"strings"
)

// This file holds what ReadArchive and ReadDir share: turning entry names into
// package paths, the per-entry limits, the plugin-root rule and the final
// assembly of a Package. Sharing it is what makes the two readers agree.

// withDefaults fills zero (or negative) fields from DefaultLimits, so callers
// can override one limit without restating the others.
func (l Limits) withDefaults() Limits {
	if l.MaxArchiveBytes <= 0 {
		l.MaxArchiveBytes = DefaultLimits.MaxArchiveBytes
	}
	if l.MaxUnpackedBytes <= 0 {
		l.MaxUnpackedBytes = DefaultLimits.MaxUnpackedBytes
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultLimits.MaxFiles
	}
	if l.MaxManifestBytes <= 0 {
		l.MaxManifestBytes = DefaultLimits.MaxManifestBytes
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultLimits.MaxEntries
	}
	if l.MaxNameBytes <= 0 {
		l.MaxNameBytes = DefaultLimits.MaxNameBytes
	}
	if l.MaxPathBytes <= 0 {
		l.MaxPathBytes = DefaultLimits.MaxPathBytes
	}
	if l.MaxPathDepth <= 0 {
		l.MaxPathDepth = DefaultLimits.MaxPathDepth
	}
	if l.MaxBundleBytes <= 0 {
		l.MaxBundleBytes = DefaultLimits.MaxBundleBytes
	}
	return l
}

// maxHeaderBytes is what the tar stream may hold beyond the files' bytes:
// one 512-byte header and the padding of each entry, a PAX or GNU long-name
// record beside it, and the names. archive/tar reads a PAX record of up to
// 1 MiB before returning the entry it describes, so without this bound an
// archive of records nobody reads (a 1 MiB comment on every entry) would
// cost decompression work and memory that no limit counts.
func (l Limits) maxHeaderBytes() int64 {
	return min(l.MaxNameBytes, math.MaxInt64/2) + min(int64(l.MaxEntries), math.MaxInt64/4096)*2048
}

// serverDist is where Mattermost's build puts server executables. Files under
// it are dropped even before plugin.json has been read, because in a real
// archive they come first and weigh tens of megabytes.
const serverDist = "server/dist/"

// cleanName turns an archive entry name (or a path relative to a directory
// being read) into a slash-separated package path. It rejects absolute names
// and any ".." segment. Backslashes are not separators (tar names are
// slash-separated), but a name is still rejected if it would escape when
// unpacked on Windows, so "a\..\b" counts as traversal and "\x" as absolute.
// An empty result means the name designates the root itself ("./").
func cleanName(name string) (string, error) {
	if name == "" {
		return "", &Error{Code: CodeBadArchive, Message: "an entry has an empty name; rebuild the archive with tar or `mmtoolkit pack`"}
	}
	if isAbs(name) {
		return "", &Error{Code: CodeAbsolutePath, File: name,
			Message: fmt.Sprintf("entry name %q is absolute; every path must be relative to the plugin root (pack the plugin from inside its directory)", name)}
	}
	for _, seg := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == ".." {
			return "", &Error{Code: CodePathTraversal, File: name,
				Message: fmt.Sprintf("entry name %q has a \"..\" segment; every path must stay inside the plugin root", name)}
		}
	}
	segs := strings.Split(name, "/")
	kept := segs[:0]
	for _, s := range segs {
		if s != "" && s != "." {
			kept = append(kept, s)
		}
	}
	return strings.Join(kept, "/"), nil
}

// isAbs reports whether name is absolute on Unix or Windows: "/x", "\x",
// "\\server\share" or a drive letter ("C:\x", "C:/x", "C:x").
func isAbs(name string) bool {
	if name[0] == '/' || name[0] == '\\' {
		return true
	}
	if len(name) >= 2 && name[1] == ':' {
		c := name[0]
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	return false
}

// formatBytes prints a limit the way people set it.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

// clean turns an entry name into a package path (cleanName), first checking
// the limits of one name: its length before any work that grows with it,
// then its depth and segments. Every later step (parents, maps) then costs
// at most MaxPathDepth lookups of at most MaxPathBytes each, so an entry's
// work is bounded whatever its name.
func (c *collector) clean(name string) (string, error) {
	if len(name) > c.lim.MaxPathBytes {
		return "", &Error{Code: CodePathTooLong, File: shorten(name), Limit: int64(c.lim.MaxPathBytes),
			Message: fmt.Sprintf("an entry name is %d bytes, over the %d-byte limit (it starts %q); shorten the path", len(name), c.lim.MaxPathBytes, shorten(name))}
	}
	p, err := cleanName(name)
	if err != nil {
		return "", err
	}
	depth := 0
	for rest := p; rest != ""; depth++ {
		var seg string
		seg, rest, _ = strings.Cut(rest, "/")
		if len(seg) > MaxSegmentBytes {
			return "", &Error{Code: CodePathTooLong, File: p, Limit: MaxSegmentBytes,
				Message: fmt.Sprintf("%s has a file or directory name of %d bytes, over the %d-byte limit; shorten it", shorten(p), len(seg), MaxSegmentBytes)}
		}
	}
	if depth > c.lim.MaxPathDepth {
		return "", &Error{Code: CodePathTooDeep, File: p, Limit: int64(c.lim.MaxPathDepth),
			Message: fmt.Sprintf("%s is %d directories deep, over the %d limit; flatten the package's layout", shorten(p), depth, c.lim.MaxPathDepth)}
	}
	return p, nil
}

// shorten keeps error messages and fields small when they name an entry
// whose name is itself the problem.
func shorten(name string) string {
	const keep = 64
	if len(name) <= keep {
		return name
	}
	return strings.ToValidUTF8(name[:keep], "") + "..."
}

// count adds one entry to the entry limit, and nameBytes (the bytes of a
// name the collector is about to keep) to the name limit. It is called
// before anything about the entry is kept.
func (c *collector) count(p string, nameBytes int) error {
	c.nEntries++
	if c.nEntries > c.lim.MaxEntries {
		return &Error{Code: CodeTooManyEntries, File: shorten(p), Limit: int64(c.lim.MaxEntries),
			Message: fmt.Sprintf("the package has more than the %d-entry limit, files and directories counted (reached at %s); remove files the plugin does not use (`mmtoolkit pack` includes only what the import graph reaches)", c.lim.MaxEntries, shorten(p))}
	}
	c.nameBytes += int64(nameBytes)
	if c.nameBytes > c.lim.MaxNameBytes {
		return &Error{Code: CodeNamesTooLarge, File: shorten(p), Limit: c.lim.MaxNameBytes,
			Message: fmt.Sprintf("the package's paths add up to more than %s (reached at %s); shorten the paths or remove files the plugin does not use", formatBytes(c.lim.MaxNameBytes), shorten(p))}
	}
	return nil
}

// reserve charges n bytes about to be kept to Limits.Reserve.
func (c *collector) reserve(n int64) error {
	if c.lim.Reserve == nil {
		return nil
	}
	return c.lim.Reserve(n)
}

// collector accumulates entries in the order a reader meets them, enforcing
// the per-entry rules and limits as it goes. Paths are archive paths: the
// plugin root is only known once every entry has been seen.
type collector struct {
	lim Limits

	files   map[string][]byte // kept regular files
	skipped map[string]bool   // regular files whose bytes were not kept (server executables)
	dirs    map[string]bool   // explicit and implied directories

	// keepServer keeps the server executables' bytes (Package.Server)
	// instead of dropping them: an archive or a file set may carry a
	// Mattermost server part; a directory being packed never does.
	keepServer bool

	nFiles    int
	size      int64
	nEntries  int   // see Limits.MaxEntries
	nameBytes int64 // see Limits.MaxNameBytes

	// Plugin-root tracking (Mattermost's rule): while every entry so far sits
	// under the same top-level directory, that directory may be the root.
	any   bool
	top   string
	multi bool // the archive root is the plugin root
}

func newCollector(lim Limits) *collector {
	return &collector{
		lim:     lim,
		files:   make(map[string][]byte),
		skipped: make(map[string]bool),
		dirs:    make(map[string]bool),
	}
}

func (c *collector) isFile(p string) bool {
	_, kept := c.files[p]
	return kept || c.skipped[p]
}

// notice updates the plugin-root tracking with entry p.
func (c *collector) notice(p string, isDir bool) {
	first, _, nested := strings.Cut(p, "/")
	switch {
	case !c.any:
		c.any, c.top = true, first
	case first != c.top:
		c.multi = true
	}
	if !isDir && !nested {
		c.multi = true // a file at the top level: no single root directory
	}
}

// checkParents rejects p when one of its parent directories is a file, and
// records the parents as directories, each counted as an entry. It walks up
// from the nearest parent and stops at the first directory already known:
// that one's own parents were recorded (and checked) when it was, and a
// file can never later take a directory's path. So each directory is looked
// at about once, however many entries sit under it.
func (c *collector) checkParents(p string) error {
	for i := strings.LastIndexByte(p, '/'); i >= 0; i = strings.LastIndexByte(p[:i], '/') {
		parent := p[:i]
		if c.dirs[parent] {
			return nil
		}
		if c.isFile(parent) {
			return &Error{Code: CodeDuplicateEntry, File: p,
				Message: fmt.Sprintf("%s is a file, so %s cannot be inside it; each path may appear once", parent, p)}
		}
		// A parent is a prefix of p: its map key shares p's bytes.
		if err := c.count(parent, 0); err != nil {
			return err
		}
		c.dirs[parent] = true
	}
	return nil
}

// addDir records a directory entry. Repeating a directory is harmless and
// allowed; a directory where a file is (or the reverse) is not.
func (c *collector) addDir(p string) error {
	// A repeated directory (or "./") costs no memory but still a header's
	// work, so it counts as an entry too.
	kept := 0
	if p != "" && !c.dirs[p] && !c.isFile(p) {
		kept = len(p)
	}
	if err := c.count(p, kept); err != nil {
		return err
	}
	if p == "" {
		return nil // "./": the root itself
	}
	if c.isFile(p) {
		return &Error{Code: CodeDuplicateEntry, File: p,
			Message: fmt.Sprintf("%s is both a file and a directory; each path may appear once", p)}
	}
	if err := c.checkParents(p); err != nil {
		return err
	}
	c.dirs[p] = true
	c.notice(p, true)
	return nil
}

// addFile records a regular file of the given size, enforcing duplicates and
// the file-count and unpacked-size limits before any of its bytes are read.
func (c *collector) addFile(p string, size int64) error {
	if p == "" {
		return &Error{Code: CodeBadArchive, Message: "a file entry names the root directory; rebuild the archive with tar or `mmtoolkit pack`"}
	}
	if c.isFile(p) {
		return &Error{Code: CodeDuplicateEntry, File: p,
			Message: fmt.Sprintf("%s appears twice; each path may appear once (rebuild the archive from a clean directory)", p)}
	}
	if c.dirs[p] {
		return &Error{Code: CodeDuplicateEntry, File: p,
			Message: fmt.Sprintf("%s is both a directory and a file; each path may appear once", p)}
	}
	if err := c.count(p, len(p)); err != nil {
		return err
	}
	if err := c.checkParents(p); err != nil {
		return err
	}
	if c.nFiles+1 > c.lim.MaxFiles {
		return &Error{Code: CodeTooManyFiles, File: p, Limit: int64(c.lim.MaxFiles),
			Message: fmt.Sprintf("the package has more than the %d-file limit (reached at %s); remove files the plugin does not use (`mmtoolkit pack` includes only what the import graph reaches)", c.lim.MaxFiles, p)}
	}
	if size < 0 || size > c.lim.MaxUnpackedBytes-c.size {
		return &Error{Code: CodeUnpackedTooLarge, File: p, Limit: c.lim.MaxUnpackedBytes,
			Message: fmt.Sprintf("%s (%d bytes) takes the unpacked package over the %s limit; remove server executables, source maps and node_modules files the plugin does not import", p, size, formatBytes(c.lim.MaxUnpackedBytes))}
	}
	c.nFiles++
	c.size += size
	c.notice(p, false)
	return nil
}

// keepWhileStreaming decides, before plugin.json is known and before the
// plugin root is certain, whether to hold the bytes of file p (already added).
// It guesses that an archive whose entries so far share one top-level
// directory keeps doing so, which holds for every Mattermost archive.
// assemble checks the guess and fails loudly if it was wrong. node_modules is
// never a plugin root, and npm has a package named "server".
func (c *collector) keepWhileStreaming(p string) bool {
	if c.keepServer {
		return true
	}
	rel := p
	if !c.multi {
		if c.top == "node_modules" {
			return true
		}
		rel = strings.TrimPrefix(p, c.top+"/")
	}
	return !strings.HasPrefix(rel, serverDist)
}

// rootPrefix is the archive path prefix of the plugin root: the single
// top-level directory if there is one (Mattermost's rule), else "".
func (c *collector) rootPrefix() string {
	if c.any && !c.multi {
		return c.top + "/"
	}
	return ""
}

// serverSection is the part of Mattermost's manifest "server" field that
// names files mmtoolkit ignores.
type serverSection struct {
	Executables map[string]string `json:"executables"`
	Executable  string            `json:"executable"`
}

// serverPaths lists the package paths the manifest's server section names.
// Validate has already checked that the section decodes.
func serverPaths(m *Manifest) map[string]bool {
	out := make(map[string]bool)
	if len(m.Server) == 0 {
		return out
	}
	var s serverSection
	if json.Unmarshal(m.Server, &s) != nil {
		return out
	}
	add := func(p string) {
		if p == "" {
			return
		}
		if c, err := cleanName(p); err == nil && c != "" {
			out[c] = true
		}
	}
	for _, p := range s.Executables {
		add(p)
	}
	add(s.Executable)
	return out
}

// assemble strips the plugin root, reads and validates plugin.json, moves
// server executables to Package.Server (or, when the reader did not keep
// them, drops them with a warning) and checks that the files the manifest
// names exist.
func (c *collector) assemble(known SlotCatalogue) (*Package, error) {
	prefix := c.rootPrefix()
	files := make(map[string][]byte, len(c.files))
	for p, data := range c.files {
		files[strings.TrimPrefix(p, prefix)] = data
	}

	raw, ok := files["plugin.json"]
	if !ok {
		return nil, manifestMissing(files, prefix)
	}
	if int64(len(raw)) > c.lim.MaxManifestBytes {
		return nil, &Error{Code: CodeManifestTooLarge, File: "plugin.json", Limit: c.lim.MaxManifestBytes,
			Message: fmt.Sprintf("plugin.json is %d bytes, over the %s limit; keep large data in separate files", len(raw), formatBytes(c.lim.MaxManifestBytes))}
	}
	m, err := ParseManifest(raw, known)
	if err != nil {
		if e, ok := err.(*Error); ok && e.File == "" {
			e.File = "plugin.json"
		}
		return nil, err
	}

	exec := serverPaths(m)
	isServer := func(p string) bool { return strings.HasPrefix(p, serverDist) || exec[p] }
	var dropped []string
	var server map[string][]byte
	for p, data := range files {
		if isServer(p) {
			delete(files, p)
			if c.keepServer {
				if server == nil {
					server = map[string][]byte{}
				}
				server[p] = data
				continue
			}
			dropped = append(dropped, p)
		}
	}
	for ap := range c.skipped {
		p := strings.TrimPrefix(ap, prefix)
		if !isServer(p) {
			// keepWhileStreaming guessed the root wrong and the bytes are gone.
			return nil, &Error{Code: CodeBadArchive, File: ap,
				Message: fmt.Sprintf("%s was taken for a server executable and dropped before the archive showed that its root is not %s/; put plugin.json first in the archive (`mmtoolkit pack` does)", ap, c.top)}
		}
		dropped = append(dropped, p)
	}

	pkg := &Package{
		Manifest:    *m,
		RawManifest: append([]byte(nil), raw...),
		Files:       files,
		Server:      server,
	}
	if sig, ok := files[SignatureFile]; ok {
		if len(sig) > MaxSignatureBytes {
			return nil, &Error{Code: CodeSignatureMalformed, File: SignatureFile, Limit: MaxSignatureBytes,
				Message: fmt.Sprintf("%s is %d bytes, over the %s limit of a signature file; write it with `mmtoolkit sign`", SignatureFile, len(sig), formatBytes(MaxSignatureBytes))}
		}
		delete(files, SignatureFile)
		pkg.Signature = sig
	}
	if len(dropped) > 0 {
		sort.Strings(dropped)
		pkg.Warnings = append(pkg.Warnings, serverWarning(dropped))
	}
	if err := c.checkBundle(m, files); err != nil {
		return nil, err
	}

	for _, ref := range referencedFiles(m) {
		if _, ok := files[ref.path]; ok {
			continue
		}
		msg := fmt.Sprintf("%s names %s, which is not in the package; add the file or fix the path (paths are relative to the plugin root)", ref.field, ref.path)
		if isServer(ref.path) {
			msg = fmt.Sprintf("%s names %s, which is ignored as a server executable; move the file out of server/", ref.field, ref.path)
		}
		return nil, &Error{Code: CodeEntryMissing, File: ref.path, Field: ref.field, Message: msg}
	}
	if err := checkImages(m, files); err != nil {
		return nil, err
	}
	return pkg, nil
}

// checkBundle holds a prebuilt bundle (webapp.bundle_path) and its source
// map to MaxBundleBytes: they are stored and served byte for byte, where a
// compiled bundle is made by the server from sources under the other limits.
func (c *collector) checkBundle(m *Manifest, files map[string][]byte) error {
	if m.Webapp == nil || m.Webapp.BundlePath == "" {
		return nil
	}
	for _, p := range []string{m.Webapp.BundlePath, m.Webapp.BundlePath + ".map"} {
		if n := int64(len(files[p])); n > c.lim.MaxBundleBytes {
			return &Error{Code: CodeBundleTooLarge, File: p, Field: "webapp.bundle_path", Limit: c.lim.MaxBundleBytes,
				Message: fmt.Sprintf("%s is %s, over the %s limit of a prebuilt bundle file; build it for production (minified, no inline source map), split it into chunks, or push the sources with webapp.entry", p, formatSize(n), formatBytes(c.lim.MaxBundleBytes))}
		}
	}
	return nil
}

// formatSize prints a measured size, rounded.
func formatSize(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}

// serverWarning lists a few of the paths ReadDir left out: enough to
// recognise them.
func serverWarning(dropped []string) string {
	const show = 5
	list := strings.Join(dropped[:min(show, len(dropped))], ", ")
	if n := len(dropped) - show; n > 0 {
		list += fmt.Sprintf(", and %d more", n)
	}
	return "server executables left out (" + list + "): a folder carries no server part; push the archive `make dist` builds to install it on Mattermost"
}

// manifestMissing explains where plugin.json should have been.
func manifestMissing(files map[string][]byte, prefix string) error {
	for _, name := range []string{"plugin.yaml", "plugin.yml"} {
		if _, ok := files[name]; ok {
			return &Error{Code: CodeManifestMissing, File: prefix + name,
				Message: fmt.Sprintf("%s is not supported yet; convert it to plugin.json (same fields, JSON syntax)", name)}
		}
	}
	var found []string
	for p := range files {
		if path.Base(p) == "plugin.json" {
			found = append(found, prefix+p)
		}
	}
	if len(found) > 0 {
		sort.Strings(found)
		return &Error{Code: CodeManifestMissing, File: found[0],
			Message: fmt.Sprintf("found %s, but plugin.json must be at the plugin root (the archive root, or its single top-level directory)", found[0])}
	}
	return &Error{Code: CodeManifestMissing,
		Message: "no plugin.json at the plugin root; put the manifest at the archive root or inside its single top-level directory"}
}

type fileRef struct{ field, path string }

// referencedFiles lists the package files the manifest names.
func referencedFiles(m *Manifest) []fileRef {
	var refs []fileRef
	if m.Webapp != nil {
		if m.Webapp.Entry != "" {
			refs = append(refs, fileRef{"webapp.entry", m.Webapp.Entry})
		}
		if m.Webapp.BundlePath != "" {
			refs = append(refs, fileRef{"webapp.bundle_path", m.Webapp.BundlePath})
		}
	}
	if m.Mobile != nil && m.Mobile.Entry != "" {
		refs = append(refs, fileRef{"mobile.entry", m.Mobile.Entry})
	}
	if m.IconPath != "" {
		refs = append(refs, fileRef{"icon_path", m.IconPath})
	}
	for i, p := range m.Screenshots {
		refs = append(refs, fileRef{fmt.Sprintf("screenshots[%d]", i), p})
	}
	return refs
}

// next is the index of the '/' after the one at i in p, or -1.
func next(p string, i int) int {
	j := strings.IndexByte(p[i+1:], '/')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}
