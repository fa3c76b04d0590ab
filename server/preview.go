package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/internal/app/previews"
	"github.com/mmtoolkit/mmtoolkit/mobile"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// A developer's preview of a prerelease: the leases, the rules of taking
// one, the teams it shows in and their sharing between replicas are
// internal/app/previews'. This file is the HTTP edge of it: the routes
// that take and end a lease, the manifests built for a developer who
// previews (never cached where another user's request could find them),
// the caller's preview as the request checks see it, and the events that
// tell the developer's open pages.

// newPreviews sets up the developers' previews: leases shared through the
// store's change log when replicas share it, their changes told to the
// developer's pages (previewChanged), and the pruning of old prereleases
// on the scheduler when the store can prune.
func (s *Server) newPreviews() *previews.Previews {
	cfg := previews.Config{Store: s.store, Log: s.log, Changed: s.previewChanged,
		Scheduler: s.sched, Feed: &s.changes, Keep: s.cfg.KeepPrereleases}
	if s.feed != nil {
		cfg.ChangeLog = s.feed
	}
	if pr, ok := s.store.(previews.Pruner); ok {
		cfg.Pruner = pr
	}
	return previews.New(cfg)
}

// previewManifest is the web manifest of team for a developer who previews
// pins: built for them alone and never cached where another user's request
// could find it. Its ETag is the hash of its body, as the team's is, so it
// differs from the team's whenever a preview is in it.
func (s *Server) previewManifest(ctx context.Context, k manifestKey, pins map[string]string) (*cachedManifest, error) {
	sm, err := slots.Build(ctx, s.policy.PreviewSource(pins), k.teamID, k.platform)
	if err != nil {
		return nil, err
	}
	for i := range sm.Plugins {
		p := &sm.Plugins[i]
		p.Preview = pins[p.ID] == p.Version
	}
	body, err := json.Marshal(sm)
	if err != nil {
		return nil, err
	}
	body = append(body, '\n')
	h := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(h[:16]) + `"`
	return &cachedManifest{manifest: sm, body: body, etag: etag, hdr: []string{etag}, clen: []string{strconv.Itoa(len(body))}}, nil
}

// previewMobileManifest is the signed mobile manifest for a developer who
// previews pins, built per request like previewManifest.
func (s *Server) previewMobileManifest(ctx context.Context, k mobileManifestKey, q slots.MobileQuery, pins map[string]string) (*signedManifest, error) {
	mm, err := slots.BuildMobile(ctx, s.policy.PreviewSource(pins), q)
	if err != nil {
		return nil, err
	}
	for i := range mm.Plugins {
		p := &mm.Plugins[i]
		p.Preview = pins[p.ID] == p.Version
	}
	body, err := json.Marshal(mm)
	if err != nil {
		return nil, err
	}
	body = append(body, '\n')
	h := sha256.Sum256(body)
	return &signedManifest{
		body:      body,
		etag:      []string{`"` + hex.EncodeToString(h[:16]) + `"`},
		signature: []string{mobile.Sign(s.mobile.key, body)},
	}, nil
}

// previewVersion is the version user previews of pluginID, "" when none.
func (s *Server) previewVersion(ctx context.Context, pluginID string) string {
	who, _ := ctx.Value(identityKey{}).(*identity.Identity)
	if who == nil {
		return ""
	}
	return s.previews.Of(who.User.ID)[pluginID]
}

type previewRequest struct {
	Version    string `json:"version"`
	TTLSeconds int    `json:"ttl_seconds"`
}

type previewResponse struct {
	PluginID   string    `json:"plugin_id"`
	Version    string    `json:"version"`
	TTLSeconds int       `json:"ttl_seconds"`
	ExpiresAt  time.Time `json:"expires_at"`
	// Teams are the caller's teams that enabled the plugin and follow its
	// latest version: where the caller's pages show the preview.
	Teams []string `json:"teams"`
}

// developer is the caller as previews see them.
func developer(who *identity.Identity) previews.Developer {
	return previews.Developer{ID: who.User.ID, Username: who.User.Username, Teams: slices.Sorted(maps.Keys(who.Members))}
}

// serveSetPreview is PUT /api/v1/plugins/{id}/preview: take or renew the
// caller's preview session of a prerelease they pushed
// (previews.Previews.Take). A new version is announced to their open
// pages (plugin_updated); a renewal of the same version is silent.
func (s *Server) serveSetPreview(w http.ResponseWriter, r *http.Request) {
	who := caller(r)
	pluginID := chi.URLParam(r, "id")
	var req previewRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.Version == "" {
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeBadRequest,
			`the body must be JSON like {"version": "1.0.1-dev.1733300000000", "ttl_seconds": 30}`))
		return
	}
	l, err := s.previews.Take(r.Context(), developer(who), pluginID, req.Version, req.TTLSeconds)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, previewResponse{PluginID: pluginID, Version: l.Version, TTLSeconds: int(l.TTL / time.Second),
		ExpiresAt: l.ExpiresAt.UTC().Round(time.Second), Teams: nonNil(l.Teams)})
}

// serveEndPreview is DELETE /api/v1/plugins/{id}/preview: end the caller's
// preview session (push --watch on exit). The caller's pages go back to
// what their teams serve. Ending a session that does not exist is a 204
// too, so a retry is harmless.
func (s *Server) serveEndPreview(w http.ResponseWriter, r *http.Request) {
	if err := s.previews.End(r.Context(), developer(caller(r)), chi.URLParam(r, "id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// previewChanged tells user's open pages in teams what they serve of
// pluginID now: plugin_updated with their own manifest entry, or
// plugin_disabled when they serve nothing of it (a plugin without a
// release whose preview ended).
func (s *Server) previewChanged(ctx context.Context, user, pluginID string, teams []string) {
	for _, tid := range teams {
		s.publishUserPluginEvent(ctx, user, tid, pluginID)
	}
	if s.pluginSockets != nil {
		// Mattermost's own webapp, fronted: the user's relayed sockets
		// (pluginsockets.go).
		s.pluginSockets.userChanged(user)
	}
}

// publishUserPluginEvent sends user's pages in team what user's own
// manifest serves of pluginID (their preview, or the team's version).
func (s *Server) publishUserPluginEvent(ctx context.Context, user, teamID, pluginID string) {
	k := manifestKey{teamID, slots.Web}
	var (
		m   *cachedManifest
		err error
	)
	if pins := s.previews.Of(user); pins != nil {
		m, err = s.previewManifest(ctx, k, pins)
	} else {
		m, err = s.manifest(ctx, k)
	}
	if err != nil {
		s.log.Error("preview event: build manifest", "team", teamID, "err", err)
		return
	}
	data := pluginEventData{TeamID: teamID, PluginID: pluginID}
	for i := range m.manifest.Plugins {
		if m.manifest.Plugins[i].ID == pluginID {
			data.Plugin = &m.manifest.Plugins[i]
		}
	}
	event := eventPluginUpdated
	if data.Plugin == nil {
		event = eventPluginDisabled
	}
	s.hub.publish(outbound{TeamID: teamID, UserIDs: map[string]bool{user: true}},
		wsEvent{Event: event, Data: data, Broadcast: wsBroadcast{TeamID: teamID, UserID: user}}, nil)
}
