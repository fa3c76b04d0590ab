package server

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/internal/app/bytecode"
	"github.com/mmtoolkit/mmtoolkit/mobile"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// mobileCacheEntries bounds the signed manifests kept: the key includes the
// runtime version an app sends, which a client chooses freely.
const mobileCacheEntries = 4096

// mobileService is the server's React Native side: the key that signs
// mobile manifests, the cache of signed manifests, and the compiler of
// Hermes bytecode (internal/app/bytecode), run in the background by the
// server's scheduler.
type mobileService struct {
	s        *Server
	log      *slog.Logger
	key      ed25519.PrivateKey
	pub      string // base64, what apps pin
	keyID    string
	bytecode *bytecode.Compiler // nil: no bytecode

	mu    sync.Mutex
	cache map[mobileManifestKey]*signedManifest
}

type mobileManifestKey struct {
	teamID   string
	platform slots.Platform
	runtime  string
	bytecode uint32
}

// signedManifest is a serialised, signed mobile manifest, valid while the
// server's generation (serving.Generation.Served) equals gen: signing
// happens once per change, not per request.
type signedManifest struct {
	gen       uint64
	body      []byte
	etag      []string
	signature []string
}

// newMobile sets up signing and, when hermesc is configured, the bytecode
// compiler, and queues every stored mobile bundle that has no bytecode for
// hermesc's version yet (pushes from before hermesc was installed or
// upgraded, and compiles a restart interrupted). stored lists the stored
// mobile bundles (Server.indexStore).
func newMobile(s *Server, stored []bytecode.Job) (*mobileService, error) {
	m := &mobileService{s: s, log: s.log, cache: map[mobileManifestKey]*signedManifest{}}
	m.key = s.cfg.MobileKey
	if m.key == nil {
		// Tests and embedders without a key file: sign with a key that
		// lives as long as the process. `mmtoolkit serve` always passes one.
		k, err := mobile.GenerateKey()
		if err != nil {
			return nil, err
		}
		m.key = k
		s.log.Warn("mobile manifests are signed with a temporary key; apps that pinned another key will refuse them (serve --key)")
	}
	pub := m.key.Public().(ed25519.PublicKey)
	m.pub, m.keyID = mobile.PublicKeyString(pub), mobile.KeyID(pub)

	if s.cfg.Hermesc == "" {
		return m, nil
	}
	bcs, ok := s.store.(bytecode.Store)
	if !ok {
		s.log.Warn("the store keeps no bytecode; mobile bundles are served as JS only")
		return m, nil
	}
	h, err := bundler.NewHermes(context.Background(), s.cfg.Hermesc)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	m.bytecode = bytecode.New(bytecode.Config{Store: bcs, Hermes: h, Version: h.Version, Release: h.Release,
		Scheduler: s.sched, Feed: &s.changes, Index: s.index, Compressor: s.compressor, Log: s.log,
		Once: s.claim, Took: func(d time.Duration) { s.metrics.compile("hermes", d) }}) // replica.go: claim
	if err := m.bytecode.Start(context.Background(), stored); err != nil {
		return nil, err // New closes the scheduler, dropping the jobs queued
	}
	s.log.Info("Hermes bytecode enabled", "hermesc", h.Path, "bytecode_version", h.Version, "release", h.Release)
	return m, nil
}

// versionStored queues a newly committed version's mobile bundle. It never
// blocks the push.
func (m *mobileService) versionStored(v *registry.Version) {
	if m != nil && m.bytecode != nil {
		m.bytecode.VersionStored(v)
	}
}

// mountMobile adds the mobile routes: the public key (anyone) and the
// signed manifest (team members).
func (s *Server) mountMobile(r chi.Router) {
	r.Get("/api/v1/mobile/public-key", s.serveMobilePublicKey)
	r.With(authenticate(s.identity)).Get("/api/v1/mobile/manifest", s.serveMobileManifest)
	r.Get("/mobile-preview", s.serveMobilePreview)
	r.Get("/mobile-preview/preview.js", s.serveMobilePreviewScript)
}

// serveMobilePreview is /mobile-preview?team=&platform=: the page that
// renders a team's mobile slots with react-native-web (mobile/preview). It
// authenticates like the webapp (the MMAUTHTOKEN cookie of the same
// origin, or ?token=), through the manifest request the page makes.
func (s *Server) serveMobilePreview(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	if _, ok := mobile.PreviewScript(); !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, previewMissing)
		return
	}
	io.WriteString(w, previewPage)
}

func (s *Server) serveMobilePreviewScript(w http.ResponseWriter, r *http.Request) {
	js, ok := mobile.PreviewScript()
	if !ok {
		writeErrorBody(w, errorf(http.StatusNotFound, CodeRouteNotFound, "this binary was built without the mobile preview: build it with make build"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.Write(js)
}

const previewPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mmtoolkit mobile preview</title>
<style>html,body{margin:0;font-family:-apple-system,system-ui,sans-serif;background:#e8e8ec}#root{display:flex}</style>
</head><body><div id="root"></div><script src="/mobile-preview/preview.js"></script></body></html>
`

const previewMissing = `<!doctype html><meta charset="utf-8"><title>mmtoolkit mobile preview</title>
<p>This binary was built without the mobile preview. Build it with <code>make build</code>.</p>
`

// serveMobilePublicKey is GET /api/v1/mobile/public-key: the key apps pin.
func (s *Server) serveMobilePublicKey(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, map[string]string{
		"algorithm":  "ed25519",
		"public_key": s.mobile.pub,
		"key_id":     s.mobile.keyID,
	})
}

// serveMobileManifest is GET /api/v1/mobile/manifest?team=&platform=&runtime=&bytecode=.
func (s *Server) serveMobileManifest(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key, runtime, err := parseMobileQuery(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.identity.Team(r.Context(), caller(r), q.Get("team"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !caller(r).CanAccessTeam(t.ID) {
		s.writeError(w, r, errorf(http.StatusForbidden, CodeNotTeamMember,
			"you are not a member of team %s: ask a team admin to add you", t.Name))
		return
	}
	key.teamID = t.ID
	var m *signedManifest
	if pins := s.previews.Of(caller(r).User.ID); pins != nil {
		m, err = s.previewMobileManifest(r.Context(), key, slots.MobileQuery{TeamID: key.teamID, Platform: key.platform, Runtime: runtime, Bytecode: key.bytecode}, pins) // preview.go
	} else {
		m, err = s.mobile.manifest(r.Context(), key, runtime)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h["Etag"] = m.etag
	h["Cache-Control"] = privateNoCache
	h[mobile.SignatureHeader] = m.signature
	h[mobile.KeyIDHeader] = []string{s.mobile.keyID}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, m.etag[0]) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = jsonType
	w.Write(m.body)
}

// maxBytecodeVersion bounds the bytecode parameter (Hermes is at 99).
const maxBytecodeVersion = 100000

// parseMobileQuery checks the query of a mobile manifest request. The team
// is resolved by the caller.
func parseMobileQuery(q map[string][]string) (mobileManifestKey, *pluginpkg.RuntimeVersion, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	var k mobileManifestKey
	if get("team") == "" {
		return k, nil, errorf(http.StatusBadRequest, CodeTeamRequired,
			"say which team: GET /api/v1/mobile/manifest?team=<team id or name>&platform=ios&runtime=<host runtime version>")
	}
	k.platform = slots.Platform(get("platform"))
	if !slots.IsMobile(k.platform) {
		return k, nil, errorf(http.StatusBadRequest, CodeUnknownPlatform,
			"platform %q has no mobile manifest: use platform=ios or platform=android (browsers use /api/v1/manifest)", k.platform)
	}
	raw := get("runtime")
	rt, err := pluginpkg.ParseRuntimeVersion(raw)
	if err != nil {
		return k, nil, errorf(http.StatusBadRequest, CodeBadRuntime,
			"runtime %q is not a semantic version: send the app's host runtime version, e.g. runtime=1.0.0 (see docs/mobile.md)", raw)
	}
	k.runtime = rt.String()
	if b := get("bytecode"); b != "" {
		n, err := strconv.ParseUint(b, 10, 32)
		if err != nil || n > maxBytecodeVersion || strings.TrimLeft(b, "0123456789") != "" {
			return k, nil, errorf(http.StatusBadRequest, CodeBadBytecode,
				"bytecode %q is not a Hermes bytecode version: send HermesInternal.getRuntimeProperties()['Bytecode Version'] (a number such as 98), or leave it out for JS bundles", b)
		}
		k.bytecode = uint32(n)
	}
	return k, rt, nil
}

// manifest returns the signed manifest for k, building and signing it only
// when the registry changed since the cached one was made.
func (m *mobileService) manifest(ctx context.Context, k mobileManifestKey, rt *pluginpkg.RuntimeVersion) (*signedManifest, error) {
	gen := m.s.gen.Served()
	m.mu.Lock()
	c, ok := m.cache[k]
	m.mu.Unlock()
	if ok && c.gen == gen {
		return c, nil
	}
	mm, err := slots.BuildMobile(ctx, m.s.policy.Source(), slots.MobileQuery{TeamID: k.teamID, Platform: k.platform, Runtime: rt, Bytecode: k.bytecode})
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(mm)
	if err != nil {
		return nil, err
	}
	body = append(body, '\n')
	h := sha256.Sum256(body)
	c = &signedManifest{
		gen:       gen,
		body:      body,
		etag:      []string{`"` + hex.EncodeToString(h[:16]) + `"`},
		signature: []string{mobile.Sign(m.key, body)},
	}
	m.mu.Lock()
	if len(m.cache) >= mobileCacheEntries {
		for key, e := range m.cache {
			if e.gen != gen {
				delete(m.cache, key)
			}
		}
		if len(m.cache) >= mobileCacheEntries {
			clear(m.cache)
		}
	}
	m.cache[k] = c
	m.mu.Unlock()
	return c, nil
}
