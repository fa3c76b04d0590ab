package server

import (
	"encoding/json"
	"net/http"
	"path"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"
	"golang.org/x/mod/semver"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// mattermostClientManifest is one entry of Mattermost's GET
// /api/v4/plugins/webapp: model.Manifest.ClientManifest(), the whole
// manifest with name blanked, description and server dropped and
// bundle_path rewritten under /static/, then settings_schema dropped by
// the handler. The fields, their order and their omitempty are
// Mattermost's (server/public/model/manifest.go), so a client (or another
// plugin's presence check) reading state.plugins.plugins finds what it
// would on Mattermost: the icon, the links, and above all props, which
// plugins use to advertise data to each other.
type mattermostClientManifest struct {
	ID               string          `json:"id"`
	Name             string          `json:"name"`
	HomepageURL      string          `json:"homepage_url,omitempty"`
	SupportURL       string          `json:"support_url,omitempty"`
	ReleaseNotesURL  string          `json:"release_notes_url,omitempty"`
	IconPath         string          `json:"icon_path,omitempty"`
	Version          string          `json:"version"`
	MinServerVersion string          `json:"min_server_version,omitempty"`
	Webapp           *clientWebapp   `json:"webapp,omitempty"`
	Props            json.RawMessage `json:"props,omitempty"`
}

type clientWebapp struct {
	BundlePath string `json:"bundle_path"`
}

// clientManifest is Mattermost's client manifest of version v, whose web
// bundle has SHA-256 sha.
func clientManifest(v *registry.Version, sha string) mattermostClientManifest {
	m := &v.Manifest
	out := mattermostClientManifest{
		ID: v.PluginID, HomepageURL: m.HomepageURL, SupportURL: m.SupportURL, ReleaseNotesURL: m.ReleaseNotesURL,
		IconPath: m.IconPath, Version: v.Version, MinServerVersion: m.MinServerVersion,
		Webapp: &clientWebapp{BundlePath: "/static/" + v.PluginID + "/" + mattermostBundleName(v.PluginID, sha)},
	}
	if len(m.Props) > 0 && string(m.Props) != "null" {
		out.Props = m.Props
	}
	return out
}

// mattermostBundleName is the file name Mattermost gives an activated
// bundle: <id>_<16 hex>_bundle.js. Mattermost's hex is an FNV-64a of the
// file, used only to bust caches; ours is the start of its SHA-256.
func mattermostBundleName(id, sha string) string { return id + "_" + sha[:16] + "_bundle.js" }

// serveMattermostWebapp is GET /api/v4/plugins/webapp, as Mattermost answers
// it, so Mattermost's own webapp loads the plugins enabled for the
// requester's team from mmtoolkit: the team named by ?team= or the
// X-Mmtoolkit-Team header, else every team the user belongs to. Mattermost
// serves this without a session; without one, the list is empty.
func (s *Server) serveMattermostWebapp(w http.ResponseWriter, r *http.Request) {
	out := []mattermostClientManifest{}
	token := apiv4proxy.TokenFromRequest(r)
	if token == "" {
		writeJSON(w, http.StatusOK, out)
		return
	}
	who, err := s.identity.Authenticate(r.Context(), token)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var teams []string
	if ref := firstNonEmpty(r.Header.Get(teamHeader), queryParam(r.URL.RawQuery, "team")); ref != "" {
		t, err := s.identity.Team(r.Context(), who, ref)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !who.CanReadTeam(t.ID) {
			s.writeError(w, r, errorf(http.StatusForbidden, "not_team_member", "you are not a member of team %s", t.Name))
			return
		}
		teams = []string{t.ID}
	} else {
		for tid := range who.Members {
			teams = append(teams, tid)
		}
	}
	byID := map[string]slots.Plugin{}
	for _, tid := range teams {
		m, err := s.manifest(r.Context(), manifestKey{tid, slots.Web})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		for _, p := range m.manifest.Plugins {
			// In several teams at different versions: Mattermost has one
			// list, so the highest wins.
			if cur, ok := byID[p.ID]; !ok || semverLess(cur.Version, p.Version) {
				byID[p.ID] = p
			}
		}
	}
	for _, p := range byID {
		sha := strings.TrimSuffix(strings.TrimPrefix(p.Bundle.URL, "/bundles/"), ".js")
		v, err := s.store.Version(r.Context(), p.ID, p.Version)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out = append(out, clientManifest(v, sha))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// serveMattermostStatic is GET /static/plugins/{id}/{file}: the bundle a
// Mattermost client manifest names, served like /bundles/ (immutable,
// precompressed). Mattermost's webapp turns /static/ into /static/plugins/.
// Any other path is a file of a prebuilt plugin's webapp output directory
// (serveDistFile): the chunks, images and fonts webpack's runtime loads
// from the public path real plugins set, window.basename +
// "/static/plugins/<id>/".
func (s *Server) serveMattermostStatic(w http.ResponseWriter, r *http.Request) {
	id, file := chi.URLParam(r, "id"), chi.URLParam(r, "*")
	if file == "" {
		file = chi.URLParam(r, "file") // the route's one-segment form
	}
	if strings.Contains(file, "/") || !isBundleName(id, file) {
		s.serveDistFile(w, r, id, file)
		return
	}
	if name, ok := strings.CutSuffix(file, ".map"); ok && len(name) == 64 {
		// The bundle's sourceMappingURL, resolved next to it.
		s.serveArtifact(w, r, name, "map")
		return
	}
	rest, ok := strings.CutPrefix(file, id+"_")
	hash, ok2 := strings.CutSuffix(rest, "_bundle.js")
	if !ok || !ok2 || len(hash) != 16 {
		writeErrorBody(w, errorf(http.StatusNotFound, "bundle_not_found",
			"no bundle %s: bundle paths come from GET /api/v4/plugins/webapp", file))
		return
	}
	sha, found := s.artifactByPrefix(hash)
	if !found {
		writeErrorBody(w, errorf(http.StatusNotFound, "bundle_not_found",
			"no bundle %s: bundle paths come from GET /api/v4/plugins/webapp", file))
		return
	}
	s.serveArtifact(w, r, sha, "js")
}

// artifactByPrefix finds the JavaScript artifact whose SHA-256 starts with
// prefix (16 hex digits: collisions are not a practical concern).
func (s *Server) artifactByPrefix(prefix string) (string, bool) {
	s.artifactsMu.RLock()
	defer s.artifactsMu.RUnlock()
	sha, ok := s.byPrefix[prefix]
	return sha, ok
}

// semverLess compares plugin versions (valid semver, no "v").
func semverLess(a, b string) bool { return semver.Compare("v"+a, "v"+b) < 0 }

// isBundleName reports whether file is a name GET /api/v4/plugins/webapp
// hands out: <id>_<16 hex>_bundle.js, or a source map <64 hex>.map.
func isBundleName(id, file string) bool {
	if name, ok := strings.CutSuffix(file, ".map"); ok && len(name) == 64 {
		return true
	}
	rest, ok := strings.CutPrefix(file, id+"_")
	hash, ok2 := strings.CutSuffix(rest, "_bundle.js")
	return ok && ok2 && len(hash) == 16
}

// distKind is the artifact kind of a file of a prebuilt plugin's webapp
// output directory, rel being its path inside that directory.
func distKind(rel string) string { return "dist/" + rel }

// addDistFiles adds the files of a prebuilt package's webapp output
// directory besides its bundle (chunks, images, fonts) to a version's
// artifacts, content-addressed like every artifact: their bytes count
// against the version's size limits as the bundle's do.
func addDistFiles(pkg *pluginpkg.Package, files map[string]file) {
	if pkg.Manifest.Webapp == nil || pkg.Manifest.Webapp.BundlePath == "" {
		return
	}
	dir := path.Dir(pkg.Manifest.Webapp.BundlePath) + "/"
	for _, p := range bundler.DistFiles(pkg) {
		files[distKind(strings.TrimPrefix(p, dir))] = file{data: pkg.Files[p], contentType: distType(p)}
	}
}

// distTypes are the content types of the files webpack writes next to a
// bundle; anything else is served as bytes.
var distTypes = map[string]string{
	".js": typeJS, ".mjs": typeJS, ".map": typeMap, ".json": "application/json",
	".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8",
	".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
	".webp": "image/webp", ".avif": "image/avif", ".ico": "image/x-icon", ".bmp": "image/bmp",
	".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf",
	".eot": "application/vnd.ms-fontobject", ".wasm": "application/wasm",
	".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".wav": "audio/wav", ".mp4": "video/mp4", ".webm": "video/webm",
}

func distType(p string) string {
	if t, ok := distTypes[strings.ToLower(path.Ext(p))]; ok {
		return t
	}
	return "application/octet-stream"
}

// serveDistFile serves file of plugin id's webapp output directory, from
// the highest version of the plugin that has it (Mattermost serves its one
// active version; a chunk URL carries no version). The bytes are stored
// content-addressed; the URL is not, as webpack's runtime names it, so
// the answer is revalidated (no-cache, the SHA-256 as ETag: a 304 costs
// no body) unless the name carries that content's hash, as webpack's
// [contenthash] names do, when it is immutable.
func (s *Server) serveDistFile(w http.ResponseWriter, r *http.Request, id, file string) {
	s.serveVersionFile(w, r, id, distKind(file), file, func() {
		w.Header().Set("Cache-Control", "no-cache")
		writeErrorBody(w, errorf(http.StatusNotFound, "file_not_found",
			"plugin %s has no file %s: /static/plugins/<id>/ serves the files of a prebuilt plugin's webapp output directory", id, file))
	})
}

// serveVersionFile serves the artifact kind of plugin id (a file named
// file in its URL) from the highest version that has it, as serveDistFile
// describes; notFound answers when no version has it.
func (s *Server) serveVersionFile(w http.ResponseWriter, r *http.Request, id, kind, file string, notFound func()) {
	if file == "" || strings.Contains(file, "..") || strings.HasPrefix(file, "/") {
		notFound()
		return
	}
	a, found := s.pathFileOf(id, kind) // with its precompressed variants
	if !found {
		notFound()
		return
	}
	h := w.Header()
	etag := `"` + a.SHA256 + `"`
	h["Cache-Control"] = noCache
	if hashedName(file, a.SHA256) {
		h["Cache-Control"] = immutable
	}
	h["Etag"] = []string{etag}
	h["Vary"] = varyEncoding
	h["X-Content-Type-Options"] = nosniff
	h["Access-Control-Allow-Origin"] = anyOrigin
	if a.ContentType == "image/svg+xml" {
		h["Content-Security-Policy"] = svgPolicy
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	coding, blobSHA := "", a.SHA256
	if c := negotiate(r.Header.Get("Accept-Encoding"), a.Encodings); c != "" {
		coding, blobSHA = c, a.Encodings[c]
	}
	body, err := s.bundles.get(r.Context(), s.store, blobSHA)
	if err != nil {
		delete(h, "Etag")
		s.writeError(w, r, err)
		return
	}
	h["Content-Type"] = []string{a.ContentType}
	if coding != "" {
		h["Content-Encoding"] = []string{coding}
	}
	h["Content-Length"] = body.clen
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body.body)
}

// hashedName reports whether a file's base name carries a content hash:
// the first 8 hex digits of its SHA-256, or a run of 16 or more hex digits
// (webpack's [contenthash], which is not a SHA-256 of the bytes). Such a
// name changes whenever the content does, so it can be cached for good.
func hashedName(file, sha string) bool {
	base := path.Base(file)
	if strings.Contains(base, sha[:8]) {
		return true
	}
	run := 0
	for i := 0; i < len(base); i++ {
		c := base[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'f' {
			if run++; run >= 16 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}
