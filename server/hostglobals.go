package server

import (
	"path"
	"sort"
	"strings"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// prebuiltHostModules returns the host modules a prebuilt plugin's page
// must load before its bundle runs: those its bundle js may read, and
// those any other script of its webapp output directory may read, since a
// webpack bundle loads its chunks later (from /static/plugins/<id>/) and a
// chunk reading a missing global throws then. Each script is parsed
// (bundler.ReferencedHostModules), which answers every module when unsure.
func prebuiltHostModules(pkg *pluginpkg.Package, js []byte) []string {
	seen := map[string]bool{}
	for _, m := range bundler.ReferencedHostModules(js) {
		seen[m] = true
	}
	all := len(bundler.HostGlobals) - 1 // react-dom/client is folded into react-dom
	for _, p := range bundler.DistFiles(pkg) {
		if len(seen) >= all {
			break
		}
		if ext := strings.ToLower(path.Ext(p)); ext != ".js" && ext != ".mjs" {
			continue
		}
		for _, m := range bundler.ReferencedHostModules(pkg.Files[p]) {
			seen[m] = true
		}
	}
	out := make([]string, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}
