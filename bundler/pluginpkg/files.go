package pluginpkg

import (
	"sort"
)

// ReadFiles reads a plugin package held in memory as slash-separated paths
// (relative to the plugin root) and their contents, with the rules and
// result of ReadArchive on a .tar.gz of the same files, without the archive:
// the binary's built-in packages start this way. Server executables are
// kept apart in Package.Server, as in an archive.
func ReadFiles(files map[string][]byte, lim Limits, known SlotCatalogue) (*Package, error) {
	lim = lim.withDefaults()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names) // errors name the same file whatever the map's order
	c := newCollector(lim)
	c.keepServer = true
	for _, name := range names {
		p, err := c.clean(name)
		if err != nil {
			return nil, err
		}
		if err := c.addFile(p, int64(len(files[name]))); err != nil {
			return nil, err
		}
		c.files[p] = files[name] // kept now, so a later path inside it is refused
	}
	return c.assemble(known)
}
