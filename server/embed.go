package server

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/webapp/console"
)

// Embedding (issue #19; docs/embed.md, "Security model"). An admin
// registers an embed app; its backend exchanges the app secret and a user
// for an embed token (POST /api/v1/embed/tokens), or the user signs in in a
// popup (POST /api/v1/embed/tokens/session). An embed token reaches only
// the routes of embed_scope.go, for its channels, and acts there with a
// Mattermost session the embed never sees.

// Embed token and secret formats: a prefix that tells them apart from
// Mattermost tokens (and makes a leaked one easy to scan for), then 32
// random bytes in unpadded base64url.
const (
	embedTokenPrefix  = "mmte_"
	embedSecretPrefix = "mmts_"
	embedRandomChars  = 43 // base64url of 32 bytes, unpadded

	// Token lifetimes: the default and the most an app may ask for.
	embedDefaultTTL = 15 * time.Minute
	embedMaxTTL     = time.Hour
	embedMinTTL     = 10 * time.Second

	// DefaultEmbedTokensPerApp bounds an app's unexpired tokens: a leaked
	// secret cannot fill the store.
	DefaultEmbedTokensPerApp = 10_000

	// Bounds of an app's definition.
	embedMaxOrigins  = 20
	embedMaxTargets  = 200 // teams plus channels
	embedMaxNameLen  = 80
	embedMaxBodySize = 64 << 10
)

// embedStore is what embedding needs of the registry; *registry.Bolt has
// it. A store without it answers the embed routes 501 embed_unavailable.
type embedStore interface {
	EmbedApps(ctx context.Context) ([]registry.EmbedApp, error)
	EmbedApp(ctx context.Context, id string) (*registry.EmbedApp, error)
	CreateEmbedApp(ctx context.Context, a registry.EmbedApp) (registry.EmbedApp, error)
	UpdateEmbedApp(ctx context.Context, id, actor string, fn func(*registry.EmbedApp) (registry.EmbedChange, error)) (registry.EmbedApp, error)
	DeleteEmbedApp(ctx context.Context, id, actor string) ([]string, error)
	EmbedSessionsToEnd(ctx context.Context, now time.Time, limit int) ([]registry.EmbedToken, error)
	EmbedSessionEnded(ctx context.Context, id string) error
	PutEmbedToken(ctx context.Context, t registry.EmbedToken, maxLive int) error
	EmbedToken(ctx context.Context, id string) (*registry.EmbedToken, error)
	RevokeEmbedToken(ctx context.Context, id, actor string) (*registry.EmbedToken, error)
}

// embedService holds embedding's dependencies.
type embedService struct {
	store embedStore
	// key makes the keyed hash of app secrets (derived from the mobile
	// signing key, which lives in its own file, not in the registry).
	key []byte
	// clock is the clock of issues and expiries (now); tests move it
	// while relays of earlier connections still read it, hence atomic.
	clock atomic.Pointer[func() time.Time]
	// minter makes sessions for the backend flow (nil: none possible).
	minter embedMinter
	// upstream is the Mattermost API v4 handler scoped requests go to.
	upstream  http.Handler
	maxTokens int
	scoped    http.Handler // the router of embed_scope.go
	lastSweep atomic.Int64 // unix ns of the last sweepSessions
}

// now is the embed clock's time.
func (e *embedService) now() time.Time { return (*e.clock.Load())() }

// setClock sets the embed clock.
func (e *embedService) setClock(now func() time.Time) { e.clock.Store(&now) }

func newEmbedService(s *Server) *embedService {
	st, ok := s.store.(embedStore)
	if !ok {
		return nil
	}
	e := &embedService{store: st, upstream: s.cfg.Upstream, maxTokens: DefaultEmbedTokensPerApp}
	e.setClock(time.Now)
	if len(s.cfg.MobileKey) > 0 {
		sum := sha256.Sum256(append([]byte("mmtoolkit embed secret key\x00"), s.cfg.MobileKey.Seed()...))
		e.key = sum[:]
	} else {
		e.key = make([]byte, 32)
		rand.Read(e.key)
	}
	e.minter = newEmbedMinter(s)
	return e
}

// embedApp is an app as the admin API shows it: never its secret's hash.
type embedApp struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	Origins         []string  `json:"origins"`
	Teams           []string  `json:"teams"`
	Channels        []string  `json:"channels"`
	TokensNotBefore time.Time `json:"tokens_not_before,omitzero"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
	// Secret is answered once, by create and rotate.
	Secret string `json:"secret,omitempty"`
}

func viewEmbedApp(a *registry.EmbedApp) embedApp {
	return embedApp{ID: a.ID, Name: a.Name, Origins: nonNil(a.Origins), Teams: nonNil(a.Teams), Channels: nonNil(a.Channels),
		TokensNotBefore: a.TokensNotBefore, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

// mountEmbed adds the embed API's routes. Embed tokens themselves never
// reach these: ServeHTTP sends them to the scoped router first.
func (s *Server) mountEmbed(r chi.Router) {
	r.Post("/api/v1/embed/tokens", s.serveEmbedIssue)
	r.Delete("/api/v1/embed/tokens/{token}", s.serveEmbedRevoke)
	// Without an embed token these answer what they need.
	r.Get("/api/v1/embed/session", s.serveEmbedTokenRequired)
	r.Delete("/api/v1/embed/session", s.serveEmbedTokenRequired)
	r.Get("/api/v1/embed/websocket", s.serveEmbedWebsocket)
	r.Group(func(r chi.Router) {
		r.Use(authenticate(s.identity))
		r.Post("/api/v1/embed/tokens/session", s.serveEmbedIssuePopup)
		r.Get("/api/v1/embed/apps", s.serveEmbedApps)
		r.Post("/api/v1/embed/apps", s.serveEmbedCreateApp)
		r.Get("/api/v1/embed/apps/{app}", s.serveEmbedAppGet)
		r.Put("/api/v1/embed/apps/{app}", s.serveEmbedAppUpdate)
		r.Delete("/api/v1/embed/apps/{app}", s.serveEmbedAppDelete)
		r.Post("/api/v1/embed/apps/{app}/secret", s.serveEmbedAppRotate)
		r.Post("/api/v1/embed/apps/{app}/tokens/revoke", s.serveEmbedAppRevokeAll)
	})
	// The console's Embedding page, with the console's identity and CSRF.
	console.New(console.Config{Identity: &consoleAdapter{s: s}, CSRFKey: s.consoleKey(), Logger: s.log}).
		MountEmbed(r, embedConsole{s})
	s.mountEmbedPages(r) // embed_pages.go: the frame, the popup, the script
}

// Errors of embedding: each a stable code, a status and what to do.
var (
	errEmbedUnavailable = errorf(http.StatusNotImplemented, CodeEmbedUnavailable,
		"this server's store does not keep embed apps: run mmtoolkit serve with its default bbolt store")
	errEmbedAdminRequired = errorf(http.StatusForbidden, CodeEmbedAdminRequired,
		"only a system admin may manage embed apps: ask one, or use the admin console's Embedding page")
	errEmbedSecretInBrowser = errorf(http.StatusForbidden, CodeEmbedSecretInBrowser,
		"this request carries an Origin header, so it comes from a browser: an app secret must never be in a web page; "+
			"call POST /api/v1/embed/tokens from your backend, or use the popup sign-in (signin=\"popup\")")
	errEmbedBasicRequired = errorf(http.StatusUnauthorized, CodeEmbedAppAuthRequired,
		"authenticate as the app: send \"Authorization: Basic base64(<app id>:<app secret>)\" from your backend")
	errEmbedAppUnknown = errorf(http.StatusUnauthorized, CodeEmbedAppUnknown,
		"no embed app has this id: copy the id from the admin console's Embedding page")
	errEmbedSecretWrong = errorf(http.StatusUnauthorized, CodeEmbedSecretWrong,
		"the app secret is wrong: use the secret shown when the app was created or its secret last rotated")
	errEmbedTokenRequired = errorf(http.StatusUnauthorized, CodeEmbedTokenRequired,
		"send an embed token as \"Authorization: Bearer mmte_...\": get one from POST /api/v1/embed/tokens")
	errEmbedTokenInvalid = errorf(http.StatusUnauthorized, CodeEmbedTokenInvalid,
		"this embed token is unknown or malformed: get a new one from your backend (POST /api/v1/embed/tokens) or sign in again")
	errEmbedTokenExpired = errorf(http.StatusUnauthorized, CodeEmbedTokenExpired,
		"this embed token expired: get a new one from your backend (POST /api/v1/embed/tokens) or sign in again")
	errEmbedTokenRevoked = errorf(http.StatusUnauthorized, CodeEmbedTokenRevoked,
		"this embed token was revoked: get a new one from your backend (POST /api/v1/embed/tokens) or sign in again")
	errEmbedTooManyTokens = &Error{Status: http.StatusTooManyRequests, Code: CodeEmbedTooManyTokens, RetryAfter: 60,
		Message: "this app holds the most unexpired embed tokens it may: reuse tokens until they expire, or ask an admin to revoke the app's tokens"}
	errEmbedUpstreamToken = errorf(http.StatusNotImplemented, CodeEmbedUpstreamTokenUnavailable,
		"the backend sign-in needs a session for the user, which this server can only make with an upstream admin token: "+
			"start mmtoolkit serve with --upstream-admin-token (env MMTOOLKIT_UPSTREAM_ADMIN_TOKEN) of a Mattermost system admin, "+
			"with Mattermost's EnableUserAccessTokens on, or use the popup sign-in")
)

func embedStoreError(err error) error {
	switch {
	case errors.Is(err, registry.ErrEmbedAppNotFound):
		return errorf(http.StatusNotFound, CodeEmbedAppNotFound, "no embed app has this id: GET /api/v1/embed/apps lists them")
	case errors.Is(err, registry.ErrEmbedTooManyTokens):
		return errEmbedTooManyTokens
	}
	return err
}

// embedAdmin checks the caller is a system admin; it writes the refusal.
func (s *Server) embedAdmin(w http.ResponseWriter, r *http.Request) (*identity.Identity, bool) {
	if s.embed == nil {
		s.writeError(w, r, errEmbedUnavailable)
		return nil, false
	}
	who := caller(r)
	if !who.User.SystemAdmin() {
		s.writeError(w, r, errEmbedAdminRequired)
		return nil, false
	}
	return who, true
}

func (s *Server) serveEmbedApps(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.embedAdmin(w, r); !ok {
		return
	}
	apps, err := s.embed.store.EmbedApps(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]embedApp, len(apps))
	for i := range apps {
		out[i] = viewEmbedApp(&apps[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"apps": out})
}

func (s *Server) serveEmbedAppGet(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.embedAdmin(w, r); !ok {
		return
	}
	a, err := s.embed.store.EmbedApp(r.Context(), chi.URLParam(r, "app"))
	if err != nil {
		s.writeError(w, r, embedStoreError(err))
		return
	}
	writeJSON(w, http.StatusOK, viewEmbedApp(a))
}

// EmbedAppSpec is what an admin sets on an app.
type EmbedAppSpec struct {
	Name     string   `json:"name"`
	Origins  []string `json:"origins"`
	Teams    []string `json:"teams"`
	Channels []string `json:"channels"`
}

func decodeEmbedJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, embedMaxBodySize))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "the body is not the JSON this route takes (%v): see docs/api.md", err)
	}
	return nil
}

func (s *Server) serveEmbedCreateApp(w http.ResponseWriter, r *http.Request) {
	who, ok := s.embedAdmin(w, r)
	if !ok {
		return
	}
	var spec EmbedAppSpec
	if err := decodeEmbedJSON(w, r, &spec); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, secret, err := s.createEmbedApp(r.Context(), who, spec)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := viewEmbedApp(&a)
	v.Secret = secret
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, v)
}

// createEmbedApp checks spec and stores a new app with a new secret, which
// it returns (the only time it is known).
func (s *Server) createEmbedApp(ctx context.Context, who *identity.Identity, spec EmbedAppSpec) (registry.EmbedApp, string, error) {
	if s.embed == nil {
		return registry.EmbedApp{}, "", errEmbedUnavailable
	}
	a, err := s.checkEmbedSpec(ctx, who, spec)
	if err != nil {
		return registry.EmbedApp{}, "", err
	}
	a.ID = apiv4proxy.NewID()
	secret := newEmbedSecret()
	a.SecretHash = s.embed.secretHash(a.ID, secret)
	a.CreatedBy = who.User.ID
	stored, err := s.embed.store.CreateEmbedApp(ctx, a)
	return stored, secret, err
}

func (s *Server) serveEmbedAppUpdate(w http.ResponseWriter, r *http.Request) {
	who, ok := s.embedAdmin(w, r)
	if !ok {
		return
	}
	var spec EmbedAppSpec
	if err := decodeEmbedJSON(w, r, &spec); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.updateEmbedApp(r.Context(), who, chi.URLParam(r, "app"), spec)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewEmbedApp(&a))
}

func (s *Server) updateEmbedApp(ctx context.Context, who *identity.Identity, id string, spec EmbedAppSpec) (registry.EmbedApp, error) {
	if s.embed == nil {
		return registry.EmbedApp{}, errEmbedUnavailable
	}
	checked, err := s.checkEmbedSpec(ctx, who, spec)
	if err != nil {
		return registry.EmbedApp{}, err
	}
	a, err := s.embed.store.UpdateEmbedApp(ctx, id, who.User.ID, func(a *registry.EmbedApp) (registry.EmbedChange, error) {
		a.Name, a.Origins, a.Teams, a.Channels = checked.Name, checked.Origins, checked.Teams, checked.Channels
		return registry.EmbedChange{Action: registry.ActionEmbedAppUpdate,
			Detail: fmt.Sprintf("origins %s; %d team(s), %d channel(s)", strings.Join(a.Origins, " "), len(a.Teams), len(a.Channels))}, nil
	})
	return a, embedStoreError(err)
}

func (s *Server) serveEmbedAppDelete(w http.ResponseWriter, r *http.Request) {
	who, ok := s.embedAdmin(w, r)
	if !ok {
		return
	}
	if err := s.deleteEmbedApp(r.Context(), who, chi.URLParam(r, "app")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteEmbedApp removes the app and its tokens, and ends the sessions
// this server made for them.
func (s *Server) deleteEmbedApp(ctx context.Context, who *identity.Identity, id string) error {
	if s.embed == nil {
		return errEmbedUnavailable
	}
	refs, err := s.embed.store.DeleteEmbedApp(ctx, id, who.User.ID)
	if err != nil {
		return embedStoreError(err)
	}
	for _, ref := range refs {
		if s.embed.minter == nil {
			s.log.Warn("embed: a deleted app's token had a session this server can no longer end (no upstream admin token)", "app", id)
			break
		}
		if err := s.embed.minter.end(context.WithoutCancel(ctx), "", ref); err != nil {
			s.log.Warn("embed: end a session of a deleted app's token", "app", id, "err", err)
		}
	}
	return nil
}

func (s *Server) serveEmbedAppRotate(w http.ResponseWriter, r *http.Request) {
	who, ok := s.embedAdmin(w, r)
	if !ok {
		return
	}
	a, secret, err := s.rotateEmbedSecret(r.Context(), who, chi.URLParam(r, "app"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := viewEmbedApp(&a)
	v.Secret = secret
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, v)
}

// rotateEmbedSecret gives the app a new secret; the old one stops working
// at once. Tokens already issued stay valid until they expire (revoke them
// too when the secret leaked).
func (s *Server) rotateEmbedSecret(ctx context.Context, who *identity.Identity, id string) (registry.EmbedApp, string, error) {
	if s.embed == nil {
		return registry.EmbedApp{}, "", errEmbedUnavailable
	}
	secret := newEmbedSecret()
	a, err := s.embed.store.UpdateEmbedApp(ctx, id, who.User.ID, func(a *registry.EmbedApp) (registry.EmbedChange, error) {
		a.SecretHash = s.embed.secretHash(id, secret)
		return registry.EmbedChange{Action: registry.ActionEmbedSecretRotate}, nil
	})
	if err != nil {
		return registry.EmbedApp{}, "", embedStoreError(err)
	}
	return a, secret, nil
}

func (s *Server) serveEmbedAppRevokeAll(w http.ResponseWriter, r *http.Request) {
	who, ok := s.embedAdmin(w, r)
	if !ok {
		return
	}
	a, err := s.revokeEmbedTokens(r.Context(), who, chi.URLParam(r, "app"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewEmbedApp(&a))
}

// revokeEmbedTokens revokes every token the app was issued so far.
func (s *Server) revokeEmbedTokens(ctx context.Context, who *identity.Identity, id string) (registry.EmbedApp, error) {
	if s.embed == nil {
		return registry.EmbedApp{}, errEmbedUnavailable
	}
	a, err := s.embed.store.UpdateEmbedApp(ctx, id, who.User.ID, func(a *registry.EmbedApp) (registry.EmbedChange, error) {
		a.TokensNotBefore = s.embed.now()
		return registry.EmbedChange{Action: registry.ActionEmbedRevokeAll}, nil
	})
	return a, embedStoreError(err)
}

// checkEmbedSpec validates what an admin sets: a name, origins in the
// exact form browsers send, teams and channels that exist (teams may be
// given by name; they are stored by id).
func (s *Server) checkEmbedSpec(ctx context.Context, who *identity.Identity, spec EmbedAppSpec) (registry.EmbedApp, error) {
	name := strings.TrimSpace(spec.Name)
	if name == "" || len(name) > embedMaxNameLen {
		return registry.EmbedApp{}, errorf(http.StatusBadRequest, CodeEmbedNameInvalid,
			"give the app a name of 1 to %d characters, as admins will recognise it", embedMaxNameLen)
	}
	if len(spec.Origins) == 0 || len(spec.Origins) > embedMaxOrigins {
		return registry.EmbedApp{}, errorf(http.StatusBadRequest, CodeEmbedOriginsInvalid,
			"list 1 to %d origins that may embed the app, e.g. [\"https://app.example.com\"]", embedMaxOrigins)
	}
	a := registry.EmbedApp{Name: name}
	for _, o := range spec.Origins {
		n, err := normalizeOrigin(o)
		if err != nil {
			return registry.EmbedApp{}, errorf(http.StatusBadRequest, CodeEmbedOriginsInvalid, "%v", err)
		}
		if !slices.Contains(a.Origins, n) {
			a.Origins = append(a.Origins, n)
		}
	}
	if len(spec.Teams)+len(spec.Channels) == 0 || len(spec.Teams)+len(spec.Channels) > embedMaxTargets {
		return registry.EmbedApp{}, errorf(http.StatusBadRequest, CodeEmbedTargetsInvalid,
			"list the teams (any of their channels) and channels the app may show: 1 to %d in all", embedMaxTargets)
	}
	for _, t := range spec.Teams {
		team, err := s.identity.Team(ctx, who, strings.TrimSpace(t))
		if err != nil && !errors.Is(err, apiv4proxy.ErrTeamNotFound) {
			return registry.EmbedApp{}, err
		}
		if err != nil {
			return registry.EmbedApp{}, errorf(http.StatusBadRequest, CodeEmbedTeamUnknown,
				"no team %q: give teams by id or URL name", t)
		}
		if !slices.Contains(a.Teams, team.ID) {
			a.Teams = append(a.Teams, team.ID)
		}
	}
	for _, c := range spec.Channels {
		c = strings.TrimSpace(c)
		if !validMattermostID(c) {
			return registry.EmbedApp{}, errorf(http.StatusBadRequest, CodeEmbedChannelUnknown, "%q is not a channel id (26 characters a-z, 0-9)", c)
		}
		_, _, err := s.identity.ChannelMembers(ctx, who, c)
		if err != nil && !errors.Is(err, apiv4proxy.ErrChannelNotFound) {
			return registry.EmbedApp{}, err
		}
		if err != nil {
			return registry.EmbedApp{}, errorf(http.StatusBadRequest, CodeEmbedChannelUnknown,
				"no channel %s that you can see: give channel ids", c)
		}
		if !slices.Contains(a.Channels, c) {
			a.Channels = append(a.Channels, c)
		}
	}
	return a, nil
}

// normalizeOrigin accepts an origin as a browser sends it in Origin
// ("https://app.example.com", "http://127.0.0.2:8066") and returns it
// lowercased, without a default port. Anything else (a path, a wildcard,
// credentials, a query) is refused: the value goes into a CSP header and
// is compared byte for byte with the browser's.
func normalizeOrigin(o string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" ||
		strings.ContainsAny(u.Host, "*;, \t'\"") {
		return "", fmt.Errorf("%q is not an origin: write scheme://host[:port], e.g. https://app.example.com", o)
	}
	host := strings.ToLower(u.Host)
	if h, port, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
		if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
			host = h
		}
	}
	return strings.ToLower(u.Scheme) + "://" + host, nil
}

// validMattermostID: 26 characters of Mattermost's id alphabet.
func validMattermostID(id string) bool {
	if len(id) != 26 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func newEmbedRandom(prefix string) string {
	var b [32]byte
	rand.Read(b[:])
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

func newEmbedSecret() string { return newEmbedRandom(embedSecretPrefix) }

// secretHash is the keyed hash of an app's secret that the store keeps;
// the app id is in it, so one app's hash is no use for another.
func (e *embedService) secretHash(appID, secret string) []byte {
	m := hmac.New(sha256.New, e.key)
	m.Write([]byte("mmtoolkit embed app secret\x00" + appID + "\x00" + secret))
	return m.Sum(nil)
}

// wellFormed reports whether s is prefix + 43 base64url characters: what
// embed tokens and secrets look like. Checked before any lookup.
func wellFormed(s, prefix string) bool {
	if len(s) != len(prefix)+embedRandomChars || !strings.HasPrefix(s, prefix) {
		return false
	}
	for i := len(prefix); i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// embedTokenID is the id the store keeps a token by: a hash, so the store
// never holds a token that works.
func embedTokenID(token string) string {
	sum := sha256.Sum256([]byte("mmtoolkit embed token id\x00" + token))
	return hex.EncodeToString(sum[:])
}

// sealSession encrypts the Mattermost session a token acts with under a
// key derived from the token (AES-256-GCM): only a request that presents
// the token can open it.
func sealSession(token, session string) []byte {
	aead := sessionAEAD(token)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, []byte(session), []byte(embedTokenID(token)))
}

func openSession(token string, sealed []byte) (string, error) {
	aead := sessionAEAD(token)
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("embed: sealed session too short")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(embedTokenID(token)))
	if err != nil {
		return "", fmt.Errorf("embed: open session: %w", err)
	}
	return string(plain), nil
}

func sessionAEAD(token string) cipher.AEAD {
	key := sha256.Sum256([]byte("mmtoolkit embed session key\x00" + token))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

// embedAppAuth authenticates an app's backend by Basic auth, refusing any
// request that carries an Origin header (a browser's).
func (s *Server) embedAppAuth(r *http.Request) (*registry.EmbedApp, error) {
	if s.embed == nil {
		return nil, errEmbedUnavailable
	}
	if _, browser := r.Header["Origin"]; browser {
		return nil, errEmbedSecretInBrowser
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		return nil, errEmbedBasicRequired
	}
	var a *registry.EmbedApp
	err := registry.ErrEmbedAppNotFound
	if validMattermostID(id) {
		a, err = s.embed.store.EmbedApp(r.Context(), id)
	}
	if errors.Is(err, registry.ErrEmbedAppNotFound) {
		// Same work as a wrong secret, so timing does not tell ids apart.
		hmac.Equal(s.embed.secretHash(id, secret), s.embed.secretHash("", ""))
		return nil, errEmbedAppUnknown
	}
	if err != nil {
		return nil, err
	}
	if !wellFormed(secret, embedSecretPrefix) || !hmac.Equal(s.embed.secretHash(a.ID, secret), a.SecretHash) {
		return nil, errEmbedSecretWrong
	}
	return a, nil
}

// embedIssueRequest is the body of both token routes.
type embedIssueRequest struct {
	App        string   `json:"app"`  // popup flow only
	User       string   `json:"user"` // backend flow only
	Channels   []string `json:"channels"`
	TTLSeconds int      `json:"ttl_seconds"`
}

// embedIssued is the answer of both token routes.
type embedIssued struct {
	Token     string            `json:"token"`
	ExpiresAt int64             `json:"expires_at"`
	UserID    string            `json:"user_id"`
	TeamID    string            `json:"team_id"`
	Channels  []embedChannelOut `json:"channels"`
}

type embedChannelOut struct {
	ID          string `json:"id"`
	TeamID      string `json:"team_id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

// serveEmbedIssue is POST /api/v1/embed/tokens: the app's backend vouches
// for a user.
func (s *Server) serveEmbedIssue(w http.ResponseWriter, r *http.Request) {
	app, err := s.embedAppAuth(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req embedIssueRequest
	if err := decodeEmbedJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ttl, err := embedTTL(req.TTLSeconds)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if strings.TrimSpace(req.User) == "" {
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeEmbedUserRequired,
			"say which user the token is for: \"user\" is their Mattermost user id, username or email"))
		return
	}
	if s.embed.minter == nil {
		s.writeError(w, r, errEmbedUpstreamToken)
		return
	}
	ctx := r.Context()
	user, err := s.embed.minter.user(ctx, strings.TrimSpace(req.User))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	session, ref, err := s.embed.minter.mint(ctx, user.ID, ttl)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.issueEmbedToken(ctx, app, session, ref, "backend", req.Channels, ttl)
	if err != nil {
		s.embed.minter.end(context.WithoutCancel(ctx), session, ref)
		s.writeError(w, r, err)
		return
	}
	s.sweepEmbedSessions()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

// embedSweepEvery is how often, at most, sweepEmbedSessions looks for
// expired tokens whose session is still open.
const embedSweepEvery = time.Minute

// sweepEmbedSessions ends, in the background, the sessions this server made
// for tokens that have expired (an upstream user access token lives until
// it is revoked). It runs after issues, which are what open sessions, at
// most once per embedSweepEvery.
func (s *Server) sweepEmbedSessions() {
	e := s.embed
	if e.minter == nil {
		return
	}
	now := e.now()
	last := e.lastSweep.Load()
	if now.UnixNano()-last < int64(embedSweepEvery) || !e.lastSweep.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		toks, err := e.store.EmbedSessionsToEnd(ctx, now, 200)
		if err != nil {
			s.log.Warn("embed: find sessions to end", "err", err)
			return
		}
		for _, t := range toks {
			if err := e.minter.end(ctx, "", t.SessionRef); err != nil {
				s.log.Warn("embed: end the session of an expired token", "app", t.AppID, "err", err)
				continue
			}
			if err := e.store.EmbedSessionEnded(ctx, t.ID); err != nil {
				s.log.Warn("embed: record an ended session", "app", t.AppID, "err", err)
			}
		}
	}()
}

// serveEmbedIssuePopup is POST /api/v1/embed/tokens/session: the user,
// signed in to this server in the popup (their cookie and the CSRF header,
// checked by authenticate), gets a token for an app. The token acts with
// the user's own session, kept sealed server-side.
func (s *Server) serveEmbedIssuePopup(w http.ResponseWriter, r *http.Request) {
	if s.embed == nil {
		s.writeError(w, r, errEmbedUnavailable)
		return
	}
	var req embedIssueRequest
	if err := decodeEmbedJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ttl, err := embedTTL(req.TTLSeconds)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	app, err := s.embed.store.EmbedApp(r.Context(), req.App)
	if err != nil {
		s.writeError(w, r, embedStoreError(err))
		return
	}
	session := caller(r).Token
	if session == "" {
		session = apiv4proxy.TokenFromRequest(r)
	}
	out, err := s.issueEmbedToken(r.Context(), app, session, "", "popup", req.Channels, ttl)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

func embedTTL(seconds int) (time.Duration, error) {
	if seconds == 0 {
		return embedDefaultTTL, nil
	}
	ttl := time.Duration(seconds) * time.Second
	if ttl < embedMinTTL || ttl > embedMaxTTL {
		return 0, errorf(http.StatusBadRequest, CodeEmbedTtlInvalid,
			"ttl_seconds is between %d and %d (default %d)", int(embedMinTTL.Seconds()), int(embedMaxTTL.Seconds()), int(embedDefaultTTL.Seconds()))
	}
	return ttl, nil
}

// issueEmbedToken checks the channels against the app and the user (with
// the session the token will act with), then stores the token.
func (s *Server) issueEmbedToken(ctx context.Context, app *registry.EmbedApp, session, ref, flow string, channels []string, ttl time.Duration) (*embedIssued, error) {
	who, err := s.identity.Authenticate(ctx, session)
	if err != nil {
		return nil, err
	}
	if len(channels) == 0 {
		if len(app.Channels) == 0 {
			return nil, errorf(http.StatusBadRequest, CodeEmbedChannelsRequired,
				"this app may show whole teams: list the \"channels\" the token is for")
		}
		channels = app.Channels
	}
	if len(channels) > embedMaxTargets {
		return nil, errorf(http.StatusBadRequest, CodeEmbedChannelsRequired, "a token is for at most %d channels", embedMaxTargets)
	}
	out := &embedIssued{UserID: who.User.ID, Channels: []embedChannelOut{}}
	var ids []string
	for _, id := range channels {
		if !validMattermostID(id) {
			return nil, errorf(http.StatusBadRequest, CodeEmbedChannelNotAllowed, "%q is not a channel id", id)
		}
		ch, err := s.embedChannel(ctx, session, id)
		if err != nil && !errors.Is(err, errNotVisible) {
			return nil, err
		}
		if err != nil || !embedAppAllows(app, ch.TeamID, ch.ID) {
			return nil, errorf(http.StatusForbidden, CodeEmbedChannelNotAllowed,
				"channel %s is not one this app may show to this user: an admin lists the app's teams and channels in the admin console, and the user must be able to read the channel", id)
		}
		if out.TeamID == "" {
			out.TeamID = ch.TeamID
		} else if out.TeamID != ch.TeamID {
			return nil, errorf(http.StatusBadRequest, CodeEmbedChannelsOneTeam,
				"a token is for the channels of one team: ask for one token per team")
		}
		if !slices.Contains(ids, ch.ID) {
			ids = append(ids, ch.ID)
			out.Channels = append(out.Channels, embedChannelOut{ID: ch.ID, TeamID: ch.TeamID, Name: ch.Name, DisplayName: ch.DisplayName})
		}
	}
	now := s.embed.now()
	token := newEmbedRandom(embedTokenPrefix)
	rec := registry.EmbedToken{ID: embedTokenID(token), AppID: app.ID, UserID: who.User.ID, TeamID: out.TeamID, Channels: ids,
		Flow: flow, Session: sealSession(token, session), SessionRef: ref, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.embed.store.PutEmbedToken(ctx, rec, s.embed.maxTokens); err != nil {
		return nil, embedStoreError(err)
	}
	out.Token, out.ExpiresAt = token, rec.ExpiresAt.UnixMilli()
	return out, nil
}

// embedAppAllows reports whether the app (as it is now) may show a channel.
func embedAppAllows(a *registry.EmbedApp, teamID, channelID string) bool {
	return slices.Contains(a.Channels, channelID) || slices.Contains(a.Teams, teamID)
}

// serveEmbedRevoke is DELETE /api/v1/embed/tokens/{token}: the app's
// backend (Basic auth; only its own tokens) or a system admin revokes a
// token. A backend-minted session ends with it.
func (s *Server) serveEmbedRevoke(w http.ResponseWriter, r *http.Request) {
	if s.embed == nil {
		s.writeError(w, r, errEmbedUnavailable)
		return
	}
	token := chi.URLParam(r, "token")
	var actor, appID string
	if _, _, basic := r.BasicAuth(); basic {
		app, err := s.embedAppAuth(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		actor, appID = "app:"+app.ID, app.ID
	} else {
		tok := apiv4proxy.TokenFromRequest(r)
		if tok == "" {
			s.writeError(w, r, errEmbedBasicRequired)
			return
		}
		if apiv4proxy.CrossSiteForged(r) {
			s.writeError(w, r, errorf(http.StatusForbidden, CodeCsrfHeaderMissing,
				"a request authenticated by the MMAUTHTOKEN cookie that changes state must carry the header \"%s: %s\"",
				apiv4proxy.CSRFHeader, apiv4proxy.CSRFHeaderValue))
			return
		}
		who, err := s.identity.Authenticate(r.Context(), tok)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !who.User.SystemAdmin() {
			s.writeError(w, r, errEmbedAdminRequired)
			return
		}
		actor = who.User.ID
	}
	if !wellFormed(token, embedTokenPrefix) {
		s.writeError(w, r, errEmbedTokenInvalid)
		return
	}
	rec, err := s.embed.store.EmbedToken(r.Context(), embedTokenID(token))
	if errors.Is(err, registry.ErrEmbedTokenNotFound) || (err == nil && appID != "" && rec.AppID != appID) {
		s.writeError(w, r, errEmbedTokenInvalid)
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.revokeEmbedToken(r.Context(), token, rec, actor); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// revokeEmbedToken marks the token revoked and ends the session it acted
// with when this server made that session (the backend flow); a popup
// token's session is the user's own and stays.
func (s *Server) revokeEmbedToken(ctx context.Context, token string, rec *registry.EmbedToken, actor string) error {
	if _, err := s.embed.store.RevokeEmbedToken(ctx, rec.ID, actor); err != nil {
		return err
	}
	if rec.Flow == "backend" && s.embed.minter != nil {
		if session, err := openSession(token, rec.Session); err == nil {
			if err := s.embed.minter.end(context.WithoutCancel(ctx), session, rec.SessionRef); err != nil {
				s.log.Warn("embed: end the session of a revoked token", "app", rec.AppID, "err", err)
			} else if rec.SessionRef != "" {
				s.embed.store.EmbedSessionEnded(context.WithoutCancel(ctx), rec.ID)
			}
		}
	}
	return nil
}

func (s *Server) serveEmbedTokenRequired(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, errEmbedTokenRequired)
}

// embedFrameHeaders sets the headers of a page that an embed app's origins
// may frame: CSP frame-ancestors listing exactly the app's origins (added
// as its own header, so the page's other policy stays as it is) and no
// X-Frame-Options, which would forbid every framing. A nil app (unknown)
// may be framed by no one.
func (s *Server) embedFrameHeaders(w http.ResponseWriter, app *registry.EmbedApp) {
	h := w.Header()
	h.Del("X-Frame-Options")
	ancestors := "'none'"
	if app != nil && len(app.Origins) > 0 {
		ancestors = strings.Join(app.Origins, " ")
	}
	h.Add("Content-Security-Policy", "frame-ancestors "+ancestors)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}

// lookupEmbedApp returns a registered app (an error wrapping
// registry.ErrEmbedAppNotFound for an unknown id): the frame page's check.
func (s *Server) lookupEmbedApp(id string) (*registry.EmbedApp, error) {
	if s.embed == nil {
		return nil, registry.ErrEmbedAppNotFound
	}
	return s.embed.store.EmbedApp(context.Background(), id)
}

// RegisterEmbedApp registers (or updates) the app id with the given
// secret: the example app of docs/embed.md, registered at start. Not for
// production apps, whose secrets the server makes (POST /api/v1/embed/apps).
func (s *Server) RegisterEmbedApp(ctx context.Context, id, secret string, spec EmbedAppSpec) error {
	if s.embed == nil {
		return errEmbedUnavailable
	}
	if !validMattermostID(id) || !wellFormed(secret, embedSecretPrefix) {
		return fmt.Errorf("embed: register %q: the id is 26 characters a-z0-9 and the secret %s followed by %d base64url characters", id, embedSecretPrefix, embedRandomChars)
	}
	const actor = "mmtoolkit"
	var origins []string
	for _, o := range spec.Origins {
		n, err := normalizeOrigin(o)
		if err != nil {
			return fmt.Errorf("embed: register %s: %w", id, err)
		}
		origins = append(origins, n)
	}
	hash := s.embed.secretHash(id, secret)
	_, err := s.embed.store.UpdateEmbedApp(ctx, id, actor, func(a *registry.EmbedApp) (registry.EmbedChange, error) {
		if a.Name == spec.Name && slices.Equal(a.Origins, origins) && slices.Equal(a.Teams, spec.Teams) &&
			slices.Equal(a.Channels, spec.Channels) && hmac.Equal(a.SecretHash, hash) {
			return registry.EmbedChange{}, errEmbedUnchanged // no audit entry at every start
		}
		a.Name, a.Origins, a.Teams, a.Channels, a.SecretHash = spec.Name, origins, spec.Teams, spec.Channels, hash
		return registry.EmbedChange{Detail: "registered at start"}, nil
	})
	if errors.Is(err, errEmbedUnchanged) {
		return nil
	}
	if errors.Is(err, registry.ErrEmbedAppNotFound) {
		_, err = s.embed.store.CreateEmbedApp(ctx, registry.EmbedApp{ID: id, Name: spec.Name, Origins: origins,
			Teams: spec.Teams, Channels: spec.Channels, SecretHash: hash, CreatedBy: actor})
	}
	return err
}

var errEmbedUnchanged = errors.New("embed: app unchanged")

// NewEmbedSecret returns a fresh app secret in the form RegisterEmbedApp
// takes.
func NewEmbedSecret() string { return newEmbedSecret() }

// readAllLimited reads at most n bytes of r, or fails.
func readAllLimited(r io.Reader, n int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, n+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > n {
		return nil, errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "the body is over %d bytes", n)
	}
	return b, nil
}

// initEmbed sets embedding up before the route table is built: the scoped
// router (which reaches s.router only per request), and the gate in front
// of Upstream, for the fast lane, which calls it without ServeHTTP (the
// manifest's route declares the same gate in routetable.go).
func (s *Server) initEmbed() {
	s.embed = newEmbedService(s)
	if s.embed == nil {
		return
	}
	s.embed.scoped = s.embedRoutes()
	if s.cfg.Upstream != nil {
		s.cfg.Upstream = s.embedGate(s.cfg.Upstream)
	}
}
