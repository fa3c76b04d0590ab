package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/internal/app/embed"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/webapp/console"
)

// Embedding (issue #19; docs/embed.md, "Security model"). An admin
// registers an embed app; its backend exchanges the app secret and a user
// for an embed token (POST /api/v1/embed/tokens), or the user signs in in a
// popup (POST /api/v1/embed/tokens/session). An embed token reaches only
// the routes of embed_scope.go, for its channels, and acts there with a
// Mattermost session the embed never sees.

// DefaultEmbedTokensPerApp bounds an app's unexpired tokens: a leaked
// secret cannot fill the store.
const DefaultEmbedTokensPerApp = embed.DefaultTokensPerApp

// Bounds of the embed routes' bodies and the frame's channel list.
const (
	embedMaxTargets  = embed.MaxTargets // teams plus channels
	embedMaxBodySize = 64 << 10
)

// embedStore is what embedding needs of the registry; *registry.Bolt has
// it. A store without it answers the embed routes 501 embed_unavailable.
type embedStore = embed.Store

// embedService is embedding at the HTTP edge: the application logic
// (internal/app/embed) and what the scoped routes need of HTTP.
type embedService struct {
	app *embed.Service
	// upstream is the Mattermost API v4 handler scoped requests go to.
	upstream http.Handler
	scoped   http.Handler // the router of embed_scope.go
}

func newEmbedService(s *Server) *embedService {
	st, ok := s.store.(embedStore)
	if !ok {
		return nil
	}
	var seed []byte
	if len(s.cfg.MobileKey) > 0 {
		seed = s.cfg.MobileKey.Seed()
	}
	return &embedService{upstream: s.cfg.Upstream, app: embed.New(embed.Config{
		Store: st, Identity: embedIdentity{s.identity}, Channels: embedChannels{s}, Minter: newEmbedMinter(s),
		Seed: seed, NewID: apiv4proxy.NewID, Log: s.log,
	})}
}

// embedIdentity is embed.Identity over the server's Identity: a team or
// channel it does not find (apiv4proxy's not-found errors) also wraps
// embed.ErrNotVisible, which is what the app package knows.
type embedIdentity struct{ Identity }

func (i embedIdentity) Team(ctx context.Context, who *identity.Identity, idOrName string) (*identity.Team, error) {
	t, err := i.Identity.Team(ctx, who, idOrName)
	if errors.Is(err, apiv4proxy.ErrTeamNotFound) {
		err = fmt.Errorf("%w: %w", embed.ErrNotVisible, err)
	}
	return t, err
}

func (i embedIdentity) ChannelMembers(ctx context.Context, who *identity.Identity, channelID string) (*identity.Channel, []string, error) {
	ch, members, err := i.Identity.ChannelMembers(ctx, who, channelID)
	if errors.Is(err, apiv4proxy.ErrChannelNotFound) {
		err = fmt.Errorf("%w: %w", embed.ErrNotVisible, err)
	}
	return ch, members, err
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

// Errors of embedding: each a stable code, a status and what to do. The
// app package's sentinels and refusals are mapped by embedError.
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

// embedSentinels are internal/app/embed's sentinel errors as clients see
// them.
var embedSentinels = []struct {
	err error
	e   *Error
}{
	{embed.ErrAppNotFound, errorf(http.StatusNotFound, CodeEmbedAppNotFound, "no embed app has this id: GET /api/v1/embed/apps lists them")},
	{embed.ErrAppUnknown, errEmbedAppUnknown},
	{embed.ErrSecretWrong, errEmbedSecretWrong},
	{embed.ErrTokenInvalid, errEmbedTokenInvalid},
	{embed.ErrTokenExpired, errEmbedTokenExpired},
	{embed.ErrTokenRevoked, errEmbedTokenRevoked},
	{embed.ErrTooManyTokens, errEmbedTooManyTokens},
	{embed.ErrUpstreamTokenUnavailable, errEmbedUpstreamToken},
	{embed.ErrUserUnknown, errEmbedUserUnknown},
}

// embedRefusals are the status and code of each embed.Reason; the message
// is the refusal's own.
var embedRefusals = map[embed.Reason]struct {
	status int
	code   string
}{
	embed.NameInvalid:       {http.StatusBadRequest, CodeEmbedNameInvalid},
	embed.OriginsInvalid:    {http.StatusBadRequest, CodeEmbedOriginsInvalid},
	embed.TargetsInvalid:    {http.StatusBadRequest, CodeEmbedTargetsInvalid},
	embed.TeamUnknown:       {http.StatusBadRequest, CodeEmbedTeamUnknown},
	embed.ChannelUnknown:    {http.StatusBadRequest, CodeEmbedChannelUnknown},
	embed.TTLInvalid:        {http.StatusBadRequest, CodeEmbedTtlInvalid},
	embed.UserRequired:      {http.StatusBadRequest, CodeEmbedUserRequired},
	embed.ChannelsRequired:  {http.StatusBadRequest, CodeEmbedChannelsRequired},
	embed.ChannelNotAllowed: {http.StatusForbidden, CodeEmbedChannelNotAllowed},
	embed.ChannelsOneTeam:   {http.StatusBadRequest, CodeEmbedChannelsOneTeam},
}

// embedError maps internal/app/embed's errors (for toError).
func embedError(err error) (*Error, bool) {
	var ref *embed.Refusal
	if errors.As(err, &ref) {
		if m, ok := embedRefusals[ref.Reason]; ok {
			return errorf(m.status, m.code, "%s", ref.Message), true
		}
		return nil, false
	}
	for _, m := range embedSentinels {
		if errors.Is(err, m.err) {
			return m.e, true
		}
	}
	return nil, false
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
	apps, err := s.embed.app.Apps(r.Context())
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
	a, err := s.embed.app.App(r.Context(), chi.URLParam(r, "app"))
	if err != nil {
		s.writeError(w, r, err)
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

// createEmbedApp stores a new app with a new secret, which it returns
// (the only time it is known): embed.Service.CreateApp, for the API and
// the console.
func (s *Server) createEmbedApp(ctx context.Context, who *identity.Identity, spec EmbedAppSpec) (registry.EmbedApp, string, error) {
	if s.embed == nil {
		return registry.EmbedApp{}, "", errEmbedUnavailable
	}
	return s.embed.app.CreateApp(ctx, who, embed.Spec(spec))
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
	return s.embed.app.UpdateApp(ctx, who, id, embed.Spec(spec))
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
	return s.embed.app.DeleteApp(ctx, who, id)
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
// at once.
func (s *Server) rotateEmbedSecret(ctx context.Context, who *identity.Identity, id string) (registry.EmbedApp, string, error) {
	if s.embed == nil {
		return registry.EmbedApp{}, "", errEmbedUnavailable
	}
	return s.embed.app.RotateSecret(ctx, who, id)
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
	return s.embed.app.RevokeAll(ctx, who, id)
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
	return s.embed.app.AuthenticateApp(r.Context(), id, secret)
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
	out, err := s.embed.app.IssueBackend(r.Context(), app, req.User, req.Channels, req.TTLSeconds)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, viewIssued(out))
}

// viewIssued is an issued token as both token routes answer it.
func viewIssued(t *embed.Issued) embedIssued {
	out := embedIssued{Token: t.Token, ExpiresAt: t.ExpiresAt.UnixMilli(), UserID: t.UserID, TeamID: t.TeamID,
		Channels: make([]embedChannelOut, len(t.Channels))}
	for i, ch := range t.Channels {
		out.Channels[i] = viewEmbedChannel(&ch)
	}
	return out
}

func viewEmbedChannel(ch *identity.Channel) embedChannelOut {
	return embedChannelOut{ID: ch.ID, TeamID: ch.TeamID, Name: ch.Name, DisplayName: ch.DisplayName}
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
	session := caller(r).Token
	if session == "" {
		session = apiv4proxy.TokenFromRequest(r)
	}
	out, err := s.embed.app.IssuePopup(r.Context(), req.App, session, req.Channels, req.TTLSeconds)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, viewIssued(out))
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
	if err := s.embed.app.RevokeToken(r.Context(), token, appID, actor); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
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

// lookupEmbedApp returns a registered app (embed.ErrAppNotFound for an
// unknown id): the frame page's check.
func (s *Server) lookupEmbedApp(id string) (*registry.EmbedApp, error) {
	if s.embed == nil {
		return nil, embed.ErrAppNotFound
	}
	return s.embed.app.App(context.Background(), id)
}

// RegisterEmbedApp registers (or updates) the app id with the given
// secret: the example app of docs/embed.md, registered at start. Not for
// production apps, whose secrets the server makes (POST /api/v1/embed/apps).
func (s *Server) RegisterEmbedApp(ctx context.Context, id, secret string, spec EmbedAppSpec) error {
	if s.embed == nil {
		return errEmbedUnavailable
	}
	return s.embed.app.Register(ctx, id, secret, embed.Spec(spec))
}

// NewEmbedSecret returns a fresh app secret in the form RegisterEmbedApp
// takes.
func NewEmbedSecret() string { return embed.NewSecret() }

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
