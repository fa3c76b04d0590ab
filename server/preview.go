package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/mobile"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// Preview sessions. A prerelease (every `push --watch` build) never goes
// live to the teams that follow a plugin's latest version (slots.Effective
// serves them its newest release). Its developer sees it through a preview
// session: a lease on (developer, plugin) naming the prerelease, which
// `push --watch` takes after each push, renews while it watches and ends
// when it stops; a lease not renewed within its TTL ends on its own, so a
// watch process that dies leaves nothing live. While the lease holds, the
// developer's own web and mobile manifests, in every team that enabled the
// plugin and follows its latest version, serve the preview in place of the
// team's release (marked "preview": true), and so do the checks that follow
// the served version for the developer's requests (events, KV rights,
// crash reports, plugin routes: teamVersion). Teams that have not enabled
// the plugin do not get it, not even for its developer: enabling stays the
// team admin's call; nor do teams whose admin pinned a version: a pin
// serves that version to everyone, the developer included, so a preview
// never changes what an admin chose (nor the rights it gives). Everyone
// else's answers, their caches and ETags are the team's.
//
// Leases live in memory: a restart ends them all, which is the safe side
// (the next renewal of a running watch takes its lease again).

const (
	// defaultPreviewTTL is how long a lease holds without renewal; push
	// --watch renews it every third of that.
	defaultPreviewTTL = 30 * time.Second
	maxPreviewTTL     = 10 * time.Minute
)

// previewSessions holds the leases. Every method is safe for concurrent use.
type previewSessions struct {
	mu     sync.RWMutex
	byUser map[string]map[string]*previewLease // user id -> plugin id -> lease
	// count is the number of leases: the manifest's check for "anyone
	// previewing at all?" without the lock.
	count  atomic.Int64
	closed bool
}

// previewLease is one developer's preview of one plugin.
type previewLease struct {
	user, plugin, version string
	// teams are the developer's teams as of the last renewal: where the
	// end of an expired lease is announced.
	teams   []string
	expires time.Time
	timer   *time.Timer
}

// set takes or renews user's lease on plugin for version and returns the
// version it previewed before ("" when it had no lease). expired runs (on
// a timer goroutine) when the lease ends because nobody renewed it.
func (p *previewSessions) set(user, plugin, version string, teams []string, ttl time.Duration, expired func(*previewLease)) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return "", errors.New("server closing")
	}
	if p.byUser == nil {
		p.byUser = map[string]map[string]*previewLease{}
	}
	leases := p.byUser[user]
	if leases == nil {
		leases = map[string]*previewLease{}
		p.byUser[user] = leases
	}
	prev := ""
	l := leases[plugin]
	if l != nil {
		prev = l.version
		l.timer.Stop() // a callback already running finds the new expiry and leaves
	} else {
		l = &previewLease{user: user, plugin: plugin}
		leases[plugin] = l
		p.count.Add(1)
	}
	l.version, l.teams, l.expires = version, teams, time.Now().Add(ttl)
	l.timer = time.AfterFunc(ttl, func() {
		if p.expire(l) {
			expired(l)
		}
	})
	return prev, nil
}

// expire removes l if it is still the lease of its user and plugin and was
// not renewed meanwhile.
func (p *previewSessions) expire(l *previewLease) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byUser[l.user][l.plugin] != l || time.Now().Before(l.expires) {
		return false
	}
	p.remove(l)
	return true
}

// end removes user's lease on plugin and returns it (nil when none).
func (p *previewSessions) end(user, plugin string) *previewLease {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.byUser[user][plugin]
	if l != nil {
		l.timer.Stop()
		p.remove(l)
	}
	return l
}

func (p *previewSessions) remove(l *previewLease) {
	delete(p.byUser[l.user], l.plugin)
	if len(p.byUser[l.user]) == 0 {
		delete(p.byUser, l.user)
	}
	p.count.Add(-1)
}

// of returns what user previews, plugin id -> version; nil when nothing.
// It takes no lock when nobody previews anything (the manifest's path).
func (p *previewSessions) of(user string) map[string]string {
	if p.count.Load() == 0 {
		return nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	leases := p.byUser[user]
	if len(leases) == 0 {
		return nil
	}
	out := make(map[string]string, len(leases))
	for id, l := range leases {
		out[id] = l.version
	}
	return out
}

// users returns who previews plugin, nil when nobody.
func (p *previewSessions) users(plugin string) map[string]bool {
	if p.count.Load() == 0 {
		return nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out map[string]bool
	for user, leases := range p.byUser {
		if leases[plugin] != nil {
			if out == nil {
				out = map[string]bool{}
			}
			out[user] = true
		}
	}
	return out
}

// pinned returns every version a lease names, by plugin id: pruning keeps
// them.
func (p *previewSessions) pinned() map[string]map[string]bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := map[string]map[string]bool{}
	for _, leases := range p.byUser {
		for id, l := range leases {
			if out[id] == nil {
				out[id] = map[string]bool{}
			}
			out[id][l.version] = true
		}
	}
	return out
}

// close stops every timer; later sets fail.
func (p *previewSessions) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, leases := range p.byUser {
		for _, l := range leases {
			l.timer.Stop()
		}
	}
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
	return s.previews.of(who.User.ID)[pluginID]
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

// serveSetPreview is PUT /api/v1/plugins/{id}/preview: take or renew the
// caller's preview session of a prerelease they pushed. A new version is
// announced to their open pages (plugin_updated); a renewal of the same
// version is silent.
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
	ttl := defaultPreviewTTL
	if req.TTLSeconds != 0 {
		ttl = time.Duration(req.TTLSeconds) * time.Second
	}
	if ttl < time.Second || ttl > maxPreviewTTL {
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeBadPreviewTtl,
			"ttl_seconds %d is out of range: send 1 to %d, or leave it out for %d", req.TTLSeconds, int(maxPreviewTTL/time.Second), int(defaultPreviewTTL/time.Second)))
		return
	}
	v, err := s.store.Version(r.Context(), pluginID, req.Version)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !slots.IsPrerelease(v.Version) {
		s.writeError(w, r, errorf(http.StatusBadRequest, CodePreviewNotPrerelease,
			"%s %s is a release, which teams that follow the latest version already serve: preview a prerelease (push --watch pushes one per save)", pluginID, v.Version))
		return
	}
	if v.PushedBy != who.User.ID {
		s.writeError(w, r, errorf(http.StatusForbidden, CodeNotPreviewOwner,
			"%s %s was pushed by someone else: only its developer previews a prerelease; a team admin can pin it for a team", pluginID, v.Version))
		return
	}
	teams := slices.Sorted(maps.Keys(who.Members))
	prev, err := s.previews.set(who.User.ID, pluginID, v.Version, teams, ttl, s.previewExpired)
	if err != nil {
		s.writeError(w, r, errorf(http.StatusServiceUnavailable, CodeServerClosing, "the server is shutting down: start the watch again when it is back"))
		return
	}
	// Every replica keeps the lease too (replica.go): the developer's
	// next manifest request may reach any of them.
	if err := s.sharePreview(r.Context(), previewShare{User: who.User.ID, Plugin: pluginID, Version: v.Version, Teams: teams, TTLMS: ttl.Milliseconds()}); err != nil {
		s.writeError(w, r, err)
		return
	}
	enabled := s.previewTeams(r.Context(), teams, pluginID)
	if prev != v.Version {
		s.log.Info("preview", "plugin", pluginID, "version", v.Version, "by", who.User.Username, "teams", len(enabled))
		s.previewChanged(r.Context(), who.User.ID, pluginID, enabled)
	}
	writeJSON(w, http.StatusOK, previewResponse{PluginID: pluginID, Version: v.Version, TTLSeconds: int(ttl / time.Second),
		ExpiresAt: time.Now().Add(ttl).UTC().Round(time.Second), Teams: nonNil(enabled)})
}

// serveEndPreview is DELETE /api/v1/plugins/{id}/preview: end the caller's
// preview session (push --watch on exit). The caller's pages go back to
// what their teams serve. Ending a session that does not exist is a 204
// too, so a retry is harmless.
func (s *Server) serveEndPreview(w http.ResponseWriter, r *http.Request) {
	who := caller(r)
	if err := s.sharePreview(r.Context(), previewShare{User: who.User.ID, Plugin: chi.URLParam(r, "id"), Ended: true}); err != nil {
		s.writeError(w, r, err)
		return
	}
	if l := s.previews.end(who.User.ID, chi.URLParam(r, "id")); l != nil {
		s.log.Info("preview ended", "plugin", l.plugin, "version", l.version, "by", who.User.Username)
		s.previewChanged(r.Context(), l.user, l.plugin, s.previewTeams(r.Context(), l.teams, l.plugin))
	}
	w.WriteHeader(http.StatusNoContent)
}

// previewExpired announces a lease nobody renewed (the watch process died).
func (s *Server) previewExpired(l *previewLease) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.log.Info("preview expired", "plugin", l.plugin, "version", l.version, "user", l.user)
	s.previewChanged(ctx, l.user, l.plugin, s.previewTeams(ctx, l.teams, l.plugin))
}

// previewTeams are those of teams where a preview of pluginID shows: they
// enabled it and follow its latest version.
func (s *Server) previewTeams(ctx context.Context, teams []string, pluginID string) []string {
	var out []string
	for _, tid := range teams {
		states, err := s.store.TeamStates(ctx, tid)
		if err != nil {
			s.log.Error("preview: team states", "team", tid, "err", err)
			continue
		}
		if slots.Previewable(states[pluginID]) {
			out = append(out, tid)
		}
	}
	return out
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
	if pins := s.previews.of(user); pins != nil {
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
