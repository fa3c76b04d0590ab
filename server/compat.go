package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/slots"
	"github.com/mmtoolkit/mmtoolkit/webapp/console"
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

// serveMattermostWebapp is GET /api/v4/plugins/webapp, as Mattermost
// answers it, so Mattermost's own webapp loads the plugins enabled for the
// requester's current team (currentTeam) from mmtoolkit. In front of a
// Mattermost (Config.Fronting) the answer is Mattermost's own list,
// entries as it gives them, plus mmtoolkit's (serveMergedWebapp); in the
// sandbox it is mmtoolkit's alone. Mattermost serves this without a
// session; without one, the sandbox's list is empty.
func (s *Server) serveMattermostWebapp(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Fronting {
		s.serveMergedWebapp(w, r)
		return
	}
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
	tid, err := s.currentTeam(r, who)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if out, err = s.teamClientManifests(r.Context(), tid, s.previews.Of(who.User.ID)); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// teamClientManifests are the client manifests of the plugins team tid's
// web manifest serves (certification minimum applied), by id; none for
// "" (a user in no team). pins are the requester's previews (serving.Policy.PreviewSource):
// nil for the team's own list.
func (s *Server) teamClientManifests(ctx context.Context, tid string, pins map[string]string) ([]mattermostClientManifest, error) {
	out := []mattermostClientManifest{}
	if tid == "" {
		return out, nil
	}
	var (
		m   *cachedManifest
		err error
	)
	if pins != nil {
		m, err = s.previewManifest(ctx, manifestKey{tid, slots.Web}, pins)
	} else {
		m, err = s.manifest(ctx, manifestKey{tid, slots.Web})
	}
	if err != nil {
		return nil, err
	}
	for _, p := range m.manifest.Plugins {
		sha := strings.TrimSuffix(strings.TrimPrefix(p.Bundle.URL, "/bundles/"), ".js")
		v, err := s.store.Version(ctx, p.ID, p.Version)
		if err != nil {
			return nil, err
		}
		out = append(out, clientManifest(v, sha))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// serveMattermostStatic is GET /static/plugins/{id}/{file}: the bundle a
// Mattermost client manifest names, served like /bundles/ (immutable,
// precompressed). Mattermost's webapp turns /static/ into /static/plugins/.
// Any other path is a file of a prebuilt plugin's webapp output directory
// (serveDistFile): the chunks, images and fonts webpack's runtime loads
// from the public path real plugins set, window.basename +
// "/static/plugins/<id>/".
//
// In front of a Mattermost, a file mmtoolkit does not have is asked of
// Mattermost, unchanged: its own plugins' bundles and their directories,
// and its copy of a plugin both sides have.
func (s *Server) serveMattermostStatic(w http.ResponseWriter, r *http.Request) {
	id, file := chi.URLParam(r, "id"), chi.URLParam(r, "*")
	if file == "" {
		file = chi.URLParam(r, "file") // the route's one-segment form
	}
	if s.cfg.Fronting && !s.hasStaticFile(id, file) {
		s.forward(w, r, r.URL.EscapedPath())
		return
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
		writeErrorBody(w, errorf(http.StatusNotFound, CodeBundleNotFound,
			"no bundle %s: bundle paths come from GET /api/v4/plugins/webapp", file))
		return
	}
	sha, found := s.index.ByPrefix(hash)
	if !found {
		writeErrorBody(w, errorf(http.StatusNotFound, CodeBundleNotFound,
			"no bundle %s: bundle paths come from GET /api/v4/plugins/webapp", file))
		return
	}
	s.serveArtifact(w, r, sha, "js")
}

// hasStaticFile reports whether serveMattermostStatic has file of plugin
// id to serve: a bundle or source map name it handed out, or a file of a
// prebuilt plugin's output directory.
func (s *Server) hasStaticFile(id, file string) bool {
	if !strings.Contains(file, "/") && isBundleName(id, file) {
		if name, ok := strings.CutSuffix(file, ".map"); ok && len(name) == 64 {
			return true // our bundles' source maps (built after the push: serveArtifact waits)
		}
		hash := strings.TrimSuffix(strings.TrimPrefix(file, id+"_"), "_bundle.js")
		_, ok := s.index.ByPrefix(hash)
		return ok
	}
	if file == "" || strings.Contains(file, "..") || strings.HasPrefix(file, "/") {
		return false
	}
	_, ok := s.index.PathFile(id, distKind(file))
	return ok
}

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
		files[distKind(strings.TrimPrefix(p, dir))] = file{Data: pkg.Files[p], ContentType: distType(p)}
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
		writeErrorBody(w, errorf(http.StatusNotFound, CodeFileNotFound,
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
	a, found := s.index.PathFile(id, kind) // with its precompressed variants
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

// PluginConflict says which entry GET /api/v4/plugins/webapp keeps for a
// plugin id that both the Mattermost behind mmtoolkit and the user's
// current team in mmtoolkit serve (serve --plugin-conflict).
type PluginConflict string

const (
	// ConflictMmtoolkit keeps mmtoolkit's entry (the default): a team
	// admin enabled that version for that team, a narrower and more
	// recent choice than the one Mattermost makes for the whole server.
	// Teams that did not enable it still get Mattermost's.
	ConflictMmtoolkit PluginConflict = "mmtoolkit"
	// ConflictUpstream keeps Mattermost's entry: what Mattermost runs
	// wins, and mmtoolkit adds only plugins Mattermost does not have.
	ConflictUpstream PluginConflict = "upstream"
)

// ParsePluginConflict reads a --plugin-conflict value ("" is the default).
func ParsePluginConflict(v string) (PluginConflict, error) {
	switch c := PluginConflict(strings.ToLower(strings.TrimSpace(v))); c {
	case "":
		return ConflictMmtoolkit, nil
	case ConflictMmtoolkit, ConflictUpstream:
		return c, nil
	}
	return "", fmt.Errorf("plugin conflict rule %q: use %q (mmtoolkit's entry wins) or %q (Mattermost's wins)", v, ConflictMmtoolkit, ConflictUpstream)
}

// DefaultPluginListTTL is how long a merged plugin list may be served
// without asking Mattermost again (Config.PluginListTTL).
const DefaultPluginListTTL = 5 * time.Second

// maxListBytes bounds the Mattermost plugin list read for a merge (a
// hundred plugins is a few tens of KiB).
const maxListBytes = 4 << 20

// maxCachedLists bounds the merged lists kept (one per user and team):
// past it the cache starts again empty.
const maxCachedLists = 20000

// webappLists caches merged plugin lists per user and team. An entry is
// good while the server's generation (serving.Generation.Served: every
// push, team toggle, kill, certification change) and the upstream
// generation (bumped when Mattermost's plugins are known to change:
// upstreamPluginsChanged) are those it was built at, and its TTL has not
// run out: the TTL bounds how stale Mattermost's side can be when nothing
// told us of a change.
type webappLists struct {
	m     sync.Map // webappListKey -> *mergedList
	n     atomic.Int64
	upGen atomic.Uint64
	// ids are the plugin ids of the last Mattermost list read, with when.
	ids atomic.Pointer[upstreamIDs]
}

type webappListKey struct{ user, team string }

type mergedList struct {
	gen, upGen uint64
	expires    time.Time
	header     http.Header
	body       []byte
}

type upstreamIDs struct {
	at  time.Time
	ids map[string]bool
}

// upstreamPluginsChanged drops every merged list and what is known of
// Mattermost's plugin ids: call it when Mattermost says its plugins
// changed (its plugin_enabled and plugin_disabled websocket events).
func (s *Server) upstreamPluginsChanged() {
	s.webappLists.upGen.Add(1)
	s.webappLists.ids.Store(nil)
}

func (s *Server) pluginListTTL() time.Duration {
	if s.cfg.PluginListTTL == 0 {
		return DefaultPluginListTTL
	}
	return s.cfg.PluginListTTL
}

// serveMergedWebapp is GET /api/v4/plugins/webapp in front of a
// Mattermost: Mattermost's answer, asked with the caller's credentials,
// then mmtoolkit's plugins for the caller's current team. Mattermost's
// entries are passed byte for byte, in its order; mmtoolkit's follow, by
// id. An id on both sides keeps one entry, as Config.PluginConflict says.
// Without a session (or with one Mattermost would not accept: Mattermost
// ignores a bad token on this route), and whenever Mattermost does not
// answer 200 with a JSON array, Mattermost's answer is passed unchanged.
func (s *Server) serveMergedWebapp(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var who *identity.Identity
	if token := apiv4proxy.TokenFromRequest(r); token != "" {
		id, err := s.identity.Authenticate(ctx, token)
		if err != nil && !errors.Is(err, apiv4proxy.ErrInvalidToken) {
			s.writeError(w, r, err)
			return
		}
		who = id
	}
	if who == nil {
		s.forward(w, r, r.URL.EscapedPath())
		return
	}
	tid, err := s.currentTeam(r, who)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	key := webappListKey{who.User.ID, tid}
	gen, upGen, now := s.gen.Served(), s.webappLists.upGen.Load(), time.Now()
	// A developer's previews (preview.go) are in their list alone: built
	// for each of their requests, never cached (the cache follows the
	// generation, which a preview does not change), so the list cached
	// before the preview is theirs again when it ends.
	pins := s.previews.Of(who.User.ID)
	if v, ok := s.webappLists.m.Load(key); ok && pins == nil {
		if c := v.(*mergedList); c.gen == gen && c.upGen == upGen && now.Before(c.expires) {
			c.write(w, r)
			return
		}
	}
	up := s.askUpstream(r, true)
	var body []byte
	var upIDs map[string]bool
	ok := up.status == http.StatusOK && !up.failed
	if ok {
		ours, err := s.teamClientManifests(ctx, tid, pins)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		entries := make([]ourEntry, len(ours))
		for i, m := range ours {
			b, err := json.Marshal(m)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			entries[i] = ourEntry{m.ID, b}
		}
		body, upIDs, ok = mergeWebappList(up.body, entries, s.cfg.PluginConflict)
		if !ok {
			s.writeError(w, r, errorf(http.StatusBadGateway, CodeUpstreamBadResponse,
				"Mattermost answered GET /api/v4/plugins/webapp with something other than a JSON list: check the Mattermost server at --upstream"))
			return
		}
	}
	if !ok {
		up.write(w)
		return
	}
	s.webappLists.ids.Store(&upstreamIDs{at: now, ids: upIDs})
	h := up.header.Clone()
	for _, k := range []string{"Content-Length", "Content-Encoding", "Set-Cookie", "Date", "Etag", "Last-Modified", "X-Request-Id"} {
		delete(h, k)
	}
	h["Content-Type"] = []string{"application/json"}
	h["Cache-Control"] = []string{"no-store"} // per user and team
	c := &mergedList{gen: gen, upGen: upGen, expires: now.Add(s.pluginListTTL()), header: h, body: body}
	if s.pluginListTTL() > 0 && pins == nil {
		if s.webappLists.n.Add(1) > maxCachedLists {
			s.webappLists.m.Clear()
			s.webappLists.n.Store(1)
		}
		s.webappLists.m.Store(key, c)
	}
	if id := up.header["X-Request-Id"]; id != nil {
		w.Header()["X-Request-Id"] = id // this answer's; a cached one has none
	}
	c.write(w, r)
}

// ourEntry is one of mmtoolkit's client manifests, serialised.
type ourEntry struct {
	id   string
	json []byte
}

// mergeWebappList is the merged list: Mattermost's entries (upstream is
// its answer's body) byte for byte and in its order, then ours, one entry
// per id as rule says (ConflictUpstream keeps Mattermost's, anything else
// ours). It also returns Mattermost's ids. ok is false when upstream is not
// a JSON list.
func mergeWebappList(upstream []byte, ours []ourEntry, rule PluginConflict) (body []byte, upIDs map[string]bool, ok bool) {
	var entries []json.RawMessage
	if json.Unmarshal(upstream, &entries) != nil || entries == nil {
		return nil, nil, false
	}
	upIDs = make(map[string]bool, len(entries))
	entryIDs := make([]string, len(entries))
	for i, e := range entries {
		var head struct {
			ID string `json:"id"`
		}
		json.Unmarshal(e, &head) // an entry that is no object has no id
		upIDs[head.ID], entryIDs[i] = true, head.ID
	}
	ourIDs := make(map[string]bool, len(ours))
	for _, o := range ours {
		ourIDs[o.id] = true
	}
	body = make([]byte, 0, len(upstream)+len(ours)*256)
	body = append(body, '[')
	add := func(b []byte) {
		if len(body) > 1 {
			body = append(body, ',')
		}
		body = append(body, b...)
	}
	for i, e := range entries {
		if rule != ConflictUpstream && entryIDs[i] != "" && ourIDs[entryIDs[i]] {
			continue
		}
		add(e)
	}
	for _, o := range ours {
		if rule == ConflictUpstream && upIDs[o.id] {
			continue
		}
		add(o.json)
	}
	return append(body, ']'), upIDs, true
}

func (c *mergedList) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range c.header {
		h[k] = v
	}
	h["Content-Length"] = []string{strconv.Itoa(len(c.body))}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(c.body)
	}
}

// upstreamAnswer is an answer of Mattermost read whole.
type upstreamAnswer struct {
	status int
	header http.Header
	body   []byte
	failed bool // the body was over maxListBytes: status is the proxy's 502
}

func (a *upstreamAnswer) Header() http.Header { return a.header }
func (a *upstreamAnswer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}
func (a *upstreamAnswer) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	if len(a.body)+len(b) > maxListBytes {
		a.failed = true
		return 0, errors.New("answer over the plugin list limit")
	}
	a.body = append(a.body, b...)
	return len(b), nil
}

// write passes the answer on unchanged.
func (a *upstreamAnswer) write(w http.ResponseWriter) {
	if a.failed {
		writeErrorBody(w, errorf(http.StatusBadGateway, CodeUpstreamBadResponse,
			"Mattermost's plugin list is over %d MiB: check the Mattermost server at --upstream", maxListBytes>>20))
		return
	}
	h := w.Header()
	for k, v := range a.header {
		h[k] = v
	}
	h["Content-Length"] = []string{strconv.Itoa(len(a.body))}
	w.WriteHeader(a.status)
	w.Write(a.body)
}

// askUpstream sends GET /api/v4/plugins/webapp to Mattermost through the
// proxy, with r's credentials when withCredentials (else none: the list
// needs no session), uncompressed, and reads the answer whole.
func (s *Server) askUpstream(r *http.Request, withCredentials bool) *upstreamAnswer {
	r2 := r.Clone(context.WithValue(r.Context(), chi.RouteCtxKey, nil))
	r2.Method, r2.Body, r2.ContentLength = http.MethodGet, http.NoBody, 0
	r2.URL = &url.URL{Path: "/api/v4/plugins/webapp"}
	r2.RequestURI = ""
	for _, h := range append([]string{teamHeader, "Accept-Encoding", "If-None-Match", "If-Modified-Since", "Range"}, spoofable...) {
		r2.Header.Del(h)
	}
	if !withCredentials {
		r2.Header.Del("Authorization")
		r2.Header.Del("Cookie")
	}
	a := &upstreamAnswer{header: http.Header{}}
	s.cfg.Upstream.ServeHTTP(a, r2)
	if a.status == 0 {
		a.status = http.StatusOK
	}
	return a
}

// upstreamHasPlugin reports whether Mattermost's plugin list (as last read
// within the list TTL, else read now without credentials) has id.
func (s *Server) upstreamHasPlugin(r *http.Request, id string) bool {
	if known := s.webappLists.ids.Load(); known != nil && time.Since(known.at) < max(s.pluginListTTL(), time.Second) {
		return known.ids[id]
	}
	a := s.askUpstream(r, false)
	var entries []struct {
		ID string `json:"id"`
	}
	if a.status != http.StatusOK || json.Unmarshal(a.body, &entries) != nil {
		return false
	}
	ids := make(map[string]bool, len(entries))
	for _, e := range entries {
		ids[e.ID] = true
	}
	s.webappLists.ids.Store(&upstreamIDs{at: time.Now(), ids: ids})
	return ids[id]
}

// MattermostPlugins is the console's list of the plugins the Mattermost in
// front of which mmtoolkit runs has itself (console.MattermostSource): its
// GET /api/v4/plugins/webapp, asked without credentials (Mattermost lists
// the same to everyone), so plugins without a webapp are not among them.
// Nil in the sandbox.
func (c *consoleAdapter) MattermostPlugins(ctx context.Context) ([]console.MattermostPlugin, error) {
	s := c.s
	if !s.cfg.Fronting {
		return nil, nil
	}
	r := (&http.Request{Method: http.MethodGet, URL: &url.URL{}, Header: http.Header{}, RemoteAddr: "127.0.0.1:0"}).WithContext(ctx)
	a := s.askUpstream(r, false)
	var entries []struct {
		ID      string `json:"id"`
		Version string `json:"version"`
	}
	if a.failed || a.status != http.StatusOK || json.Unmarshal(a.body, &entries) != nil {
		return nil, fmt.Errorf("GET /api/v4/plugins/webapp: status %d", a.status)
	}
	out := make([]console.MattermostPlugin, 0, len(entries))
	for _, e := range entries {
		out = append(out, console.MattermostPlugin{ID: e.ID, Version: e.Version, Here: s.hasPlugin(ctx, e.ID)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// PluginConflict is the rule the console shows (console.MattermostSource).
func (c *consoleAdapter) PluginConflict() string { return string(c.s.cfg.PluginConflict) }
