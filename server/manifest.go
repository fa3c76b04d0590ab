package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// manifestKey identifies one cached manifest.
type manifestKey struct {
	teamID   string
	platform slots.Platform
}

// cachedManifest is a serialised manifest, valid while the server's
// generation (serving.Generation.Served) equals gen.
type cachedManifest struct {
	gen      uint64
	manifest *slots.Manifest
	body     []byte
	etag     string
	hdr      []string // etag as a header value slice, allocated once
	clen     []string // Content-Length, likewise
}

// serveManifestAs is GET /api/v1/manifest?team=&platform=web for who (the
// route table's manifest route): the plugins enabled for the team, with a
// strong ETag and 304 on If-None-Match.
func (s *Server) serveManifestAs(w http.ResponseWriter, r *http.Request, who *identity.Identity) {
	teamParam, platformParam := queryParam(r.URL.RawQuery, "team"), queryParam(r.URL.RawQuery, "platform")
	if teamParam == "" {
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeTeamRequired,
			"say which team: GET /api/v1/manifest?team=<team id or name>&platform=web"))
		return
	}
	platform := slots.Platform(platformParam)
	if platform == "" {
		platform = slots.Web
	}
	if platform != slots.Web {
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeUnknownPlatform,
			"platform %q has no web manifest: use platform=web (mobile apps use /api/v1/mobile/manifest)", platform))
		return
	}
	t, err := s.identity.Team(r.Context(), who, teamParam)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !who.CanAccessTeam(t.ID) {
		s.writeError(w, r, errorf(http.StatusForbidden, CodeNotTeamMember,
			"you are not a member of team %s: ask a team admin to add you", t.Name))
		return
	}
	var m *cachedManifest
	if pins := s.previews.Of(who.User.ID); pins != nil {
		// A developer's own manifest, with their previews: never the
		// team's cached one, nor stored where others' requests look.
		m, err = s.previewManifest(r.Context(), manifestKey{t.ID, platform}, pins)
	} else {
		m, err = s.manifest(r.Context(), manifestKey{t.ID, platform})
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h["Etag"] = m.hdr
	// Per-team content behind authentication: caches may keep it but must
	// revalidate, which the ETag makes cheap.
	h["Cache-Control"] = privateNoCache
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, m.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = jsonType
	h["Content-Length"] = m.clen
	w.Write(m.body)
}

var (
	privateNoCache = []string{"private, no-cache"}
	jsonType       = []string{"application/json"}
)

// manifest returns the team's cached manifest, rebuilding it when the
// registry changed since it was built.
func (s *Server) manifest(ctx context.Context, k manifestKey) (*cachedManifest, error) {
	gen := s.gen.Served()
	if v, ok := s.manifests.Load(k); ok && v.(*cachedManifest).gen == gen {
		return v.(*cachedManifest), nil
	}
	sm, err := slots.Build(ctx, s.policy.Source(), k.teamID, k.platform)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(sm)
	if err != nil {
		return nil, err
	}
	body = append(body, '\n')
	h := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(h[:16]) + `"`
	m := &cachedManifest{gen: gen, manifest: sm, body: body, etag: etag, hdr: []string{etag}, clen: []string{strconv.Itoa(len(body))}}
	s.manifests.Store(k, m)
	return m, nil
}

// queryParam returns the first value of key in a raw query. Unlike
// URL.Query it builds no map: it runs on every manifest request.
func queryParam(raw, key string) string {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != key {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			if u, err := url.QueryUnescape(v); err == nil {
				return u
			}
		}
		return v
	}
	return ""
}
