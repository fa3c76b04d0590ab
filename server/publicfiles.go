package server

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// A Mattermost plugin's public/ folder (icons, images its webapp shows) is
// served by Mattermost at /plugins/<id>/public/<file>, to anyone (its
// servePluginPublicRequest checks no session), from the plugin's installed
// files. mmtoolkit keeps a package's public/ files with the version and
// serves them there, so a plugin's webapp finds them where it would in
// Mattermost (zoom's and gitlab's app-bar icons are
// /plugins/<id>/public/app-bar-icon.png). A plugin mmtoolkit does not
// have, or a file none of its versions has, goes on to the plugin route
// (upstream's plugin, whose server serves its own public/ files).

// publicKind is the artifact kind of rel, a path inside public/.
func publicKind(rel string) string { return "public/" + rel }

// addPublicFiles adds the package's public/ files to a version's
// artifacts (content-addressed, counted against the version's size limits
// as every artifact is).
func addPublicFiles(pkg *pluginpkg.Package, files map[string]file) {
	for _, p := range bundler.PublicFiles(pkg) {
		files[publicKind(strings.TrimPrefix(p, "public/"))] = file{Data: pkg.Files[p], ContentType: distType(p)}
	}
}

// servePluginPublic is GET/HEAD /plugins/{id}/public/*: a public/ file of
// the plugin's highest version that has it; anything else is the plugin
// route's (servePluginRoute).
func (s *Server) servePluginPublic(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.servePluginRoute(w, r)
		return
	}
	id, file := chi.URLParam(r, "id"), chi.URLParam(r, "*")
	s.serveVersionFile(w, r, id, publicKind(file), file, func() { s.servePluginRoute(w, r) })
}
