package bundler

import (
	"errors"
	"sort"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// Inputs returns the package files that the web and the mobile entries
// reach (the union of both builds' Result.Inputs, sorted): what
// `mmtoolkit pack` puts in an archive besides plugin.json and the assets
// the manifest names. It compiles both bundles to find them, so a plugin
// that does not compile is reported here, before anything is packed.
// A target without an entry is skipped; ErrNoEntry means there is neither.
func Inputs(pkg *pluginpkg.Package) ([]string, error) {
	set := map[string]bool{}
	built := false
	for _, t := range []Target{Web, Mobile} {
		res, err := (*Cache)(nil).build(pkg, t, true)
		if errors.Is(err, ErrNoEntry) {
			continue
		}
		if err != nil {
			return nil, err
		}
		built = true
		for _, f := range res.Inputs {
			set[f] = true
		}
	}
	if !built {
		return nil, ErrNoEntry
	}
	files := make([]string, 0, len(set))
	for f := range set {
		files = append(files, f)
	}
	sort.Strings(files)
	return files, nil
}
