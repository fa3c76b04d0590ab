package server

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"
	"golang.org/x/mod/semver"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// mattermostClientManifest is one entry of Mattermost's GET
// /api/v4/plugins/webapp (model.Manifest.ClientManifest: name and
// description blanked, bundle_path rewritten under /static/).
type mattermostClientManifest struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Version          string            `json:"version"`
	MinServerVersion string            `json:"min_server_version,omitempty"`
	Webapp           map[string]string `json:"webapp"`
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
		out = append(out, mattermostClientManifest{
			ID: p.ID, Version: p.Version, MinServerVersion: v.Manifest.MinServerVersion,
			Webapp: map[string]string{"bundle_path": "/static/" + p.ID + "/" + mattermostBundleName(p.ID, sha)},
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// serveMattermostStatic is GET /static/plugins/{id}/{file}: the bundle a
// Mattermost client manifest names, served like /bundles/ (immutable,
// precompressed). Mattermost's webapp turns /static/ into /static/plugins/.
func (s *Server) serveMattermostStatic(w http.ResponseWriter, r *http.Request) {
	id, file := chi.URLParam(r, "id"), chi.URLParam(r, "file")
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
