package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/internal/app/embed"
)

// What an embed token reaches: every request that carries one (as
// "Authorization: Bearer mmte_..." or, for the websocket, access_token)
// goes to embedRoutes, whatever its path, before the main router and on
// the Edge's fast lane too (embedGate). Routes not listed there are
// refused 403 embed_scope. Listed /api/v4 routes are checked against the
// token's channels and forwarded to Mattermost with the token's own
// session in place of the embed token; the embed never sees that session.

// embedScopeList is what embed_scope's message names.
var embedScopeList = []string{
	"GET /api/v1/embed/session", "DELETE /api/v1/embed/session", "GET /api/v1/manifest?team=<the token's team>",
	"GET /bundles/*", "GET /plugins/{id}/public/*", "GET /api/v1/embed/websocket", "GET /api/v4/websocket",
	"GET /api/v4/users/me", "POST /api/v4/users/ids", "GET /api/v4/users/{id}/image", "POST /api/v4/users/status/ids",
	"GET /api/v4/config/client", "GET /api/v4/license/client",
	"GET /api/v4/channels/{id}", "GET /api/v4/channels/{id}/posts", "GET /api/v4/channels/{id}/members/me",
	"POST /api/v4/channels/members/me/view", "POST /api/v4/posts",
	"GET /api/v4/posts/{id}", "GET /api/v4/posts/{id}/thread",
}

// maxEmbedPostBody bounds a post's body read for its channel: Mattermost's
// message (65,535 bytes) and props (800,000 runes) limits, as UTF-8.
const maxEmbedPostBody = 4 << 20

// embedGrant is an embed token that was checked (embed.Service.Grant).
type embedGrant = embed.Grant

// embedTokenOf returns the embed token a request carries, or "". It runs
// on every request, so it only looks at the Authorization header and, when
// the query mentions one, access_token.
func embedTokenOf(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		// Mattermost's two schemes, as apiv4proxy.TokenFromRequest reads them.
		var t string
		switch {
		case len(h) > 7 && strings.EqualFold(h[:7], "bearer "):
			t = strings.TrimSpace(h[7:])
		case len(h) > 6 && strings.EqualFold(h[:6], "token "):
			t = strings.TrimSpace(h[6:])
		default:
			return "" // Basic (an app's backend), or none Mattermost reads
		}
		if strings.HasPrefix(t, embed.TokenPrefix) {
			return t
		}
		return ""
	}
	if strings.Contains(r.URL.RawQuery, embed.TokenPrefix) {
		if t := r.URL.Query().Get("access_token"); strings.HasPrefix(t, embed.TokenPrefix) {
			return t
		}
	}
	return ""
}

// embedGate sends requests with an embed token to the scoped router and
// the others to next: it wraps the handlers the fast lane calls directly.
func (s *Server) embedGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if embedTokenOf(r) != "" {
			s.embed.scoped.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// grant checks an embed token: known, not revoked (by itself or by the
// app's "revoke all"), not expired.
func (s *Server) grant(ctx context.Context, token string) (*embedGrant, error) {
	return s.embed.app.Grant(ctx, token)
}

type grantHandler func(w http.ResponseWriter, r *http.Request, g *embedGrant)

func (s *Server) withGrant(h grantHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		g, err := s.grant(r.Context(), embedTokenOf(r))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r, g)
	}
}

func (s *Server) embedRoutes() http.Handler {
	r := chi.NewRouter()
	r.Use(recoverer(s.log), s.metrics.middleware)
	public := func(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }
	r.Get("/bundles/*", public)
	r.Head("/bundles/*", public)
	r.Get("/plugins/{id}/public/*", public)

	r.Get("/api/v1/embed/session", s.withGrant(s.serveEmbedSession))
	r.Delete("/api/v1/embed/session", s.withGrant(s.serveEmbedSignOut))
	r.Get(manifestPath, s.withGrant(s.serveEmbedManifest))
	r.Get("/api/v1/embed/websocket", s.withGrant(s.serveEmbedRelay))
	r.Get("/api/v4/websocket", s.withGrant(s.serveEmbedRelay))

	pass := func(path string) http.HandlerFunc {
		return s.withGrant(func(w http.ResponseWriter, r *http.Request, g *embedGrant) { s.embedForward(w, r, g, path, nil) })
	}
	r.Get("/api/v4/users/me", pass("/api/v4/users/me"))
	r.Post("/api/v4/users/ids", s.withGrant(s.serveEmbedBody("/api/v4/users/ids")))
	r.Post("/api/v4/users/status/ids", s.withGrant(s.serveEmbedBody("/api/v4/users/status/ids")))
	r.Get("/api/v4/config/client", pass("/api/v4/config/client"))
	r.Get("/api/v4/license/client", pass("/api/v4/license/client"))
	r.Get("/api/v4/users/{user_id}/image", s.withGrant(func(w http.ResponseWriter, r *http.Request, g *embedGrant) {
		id := chi.URLParam(r, "user_id")
		if id != "me" && !embed.ValidID(id) {
			s.writeError(w, r, errorf(http.StatusBadRequest, CodeBadRequest, "%q is not a user id", id))
			return
		}
		s.embedForward(w, r, g, "/api/v4/users/"+id+"/image", nil)
	}))
	channel := func(suffix string) http.HandlerFunc {
		return s.withGrant(func(w http.ResponseWriter, r *http.Request, g *embedGrant) {
			id := chi.URLParam(r, "channel_id")
			if !g.Allows(id) {
				s.writeError(w, r, embedChannelRefused(id))
				return
			}
			s.embedForward(w, r, g, "/api/v4/channels/"+id+suffix, nil)
		})
	}
	r.Get("/api/v4/channels/{channel_id}", channel(""))
	r.Get("/api/v4/channels/{channel_id}/posts", channel("/posts"))
	r.Get("/api/v4/channels/{channel_id}/members/me", channel("/members/me"))
	r.Post("/api/v4/channels/members/{user_id}/view", s.withGrant(s.serveEmbedView))
	r.Post("/api/v4/posts", s.withGrant(s.serveEmbedCreatePost))
	post := func(suffix string) http.HandlerFunc {
		return s.withGrant(func(w http.ResponseWriter, r *http.Request, g *embedGrant) {
			id := chi.URLParam(r, "post_id")
			if err := s.embedPostInScope(r, g, id); err != nil {
				s.writeError(w, r, err)
				return
			}
			s.embedForward(w, r, g, "/api/v4/posts/"+id+suffix, nil)
		})
	}
	r.Get("/api/v4/posts/{post_id}", post(""))
	r.Get("/api/v4/posts/{post_id}/thread", post("/thread"))

	refuse := func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errorf(http.StatusForbidden, CodeEmbedScope,
			"an embed token reaches only %s; %s %s is not one of them: call it with a Mattermost session instead",
			strings.Join(embedScopeList, ", "), r.Method, r.URL.Path))
	}
	r.NotFound(refuse)
	r.MethodNotAllowed(refuse)
	return r
}

func embedChannelRefused(id string) *Error {
	return errorf(http.StatusForbidden, CodeEmbedChannelNotAllowed,
		"this embed token is not for channel %s: it reaches only the channels it was issued for (GET /api/v1/embed/session lists them)", id)
}

// embedForward sends the request to Mattermost at path (built from checked
// parts, never the client's raw path) with the token's session in place
// of the embed token; body, when not nil, replaces the request's body.
func (s *Server) embedForward(w http.ResponseWriter, r *http.Request, g *embedGrant, path string, body []byte) {
	if s.embed.upstream == nil {
		s.writeError(w, r, apiv4proxy.ErrUpstreamUnavailable)
		return
	}
	req := r.Clone(context.WithValue(r.Context(), chi.RouteCtxKey, nil))
	q := r.URL.RawQuery
	if strings.Contains(q, "access_token") {
		v := r.URL.Query()
		v.Del("access_token")
		q = v.Encode()
	}
	req.URL = &url.URL{Path: path, RawQuery: q}
	req.RequestURI = req.URL.RequestURI()
	req.Header.Del("Cookie")
	req.Header.Set("Authorization", "Bearer "+g.Session)
	if body != nil {
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		req.Header.Del("Transfer-Encoding")
	}
	s.embed.upstream.ServeHTTP(&embedResponse{ResponseWriter: w}, req)
}

// embedResponse drops what could hand the embed a session: cookies,
// Mattermost's Token header, and the body of a 401, where Mattermost names
// the rejected token (detailed_error "token=..."): the embed gets
// embed_session_ended instead.
type embedResponse struct {
	http.ResponseWriter
	wrote, swallow bool
}

var errEmbedSessionEnded = errorf(http.StatusUnauthorized, CodeEmbedSessionEnded,
	"the Mattermost session behind this embed token ended (the user logged out, or an admin revoked it): get a new token or sign in again")

func (e *embedResponse) WriteHeader(code int) {
	if e.wrote {
		return
	}
	e.wrote = true
	h := e.ResponseWriter.Header()
	h.Del("Set-Cookie")
	h.Del("Token")
	if code == http.StatusUnauthorized {
		e.swallow = true
		h.Del("Content-Length")
		writeErrorBody(e.ResponseWriter, errEmbedSessionEnded)
		return
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *embedResponse) Write(b []byte) (int, error) {
	if !e.wrote {
		e.WriteHeader(http.StatusOK)
	}
	if e.swallow {
		return len(b), nil
	}
	return e.ResponseWriter.Write(b)
}

func (e *embedResponse) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// embedAsk asks Mattermost a GET with a session and decodes the JSON
// answer into v. Mattermost's 400, 403 and 404 are embed.ErrNotVisible, its 401
// errEmbedSessionEnded, anything else but 200 the upstream's failure.
func (s *Server) embedAsk(ctx context.Context, session, path string, v any) error {
	if s.embed.upstream == nil {
		return apiv4proxy.ErrUpstreamUnavailable
	}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, chi.RouteCtxKey, nil), http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	req.RemoteAddr = "127.0.0.1:0"
	req.Header.Set("Authorization", "Bearer "+session)
	rec := &captureWriter{header: http.Header{}}
	s.embed.upstream.ServeHTTP(rec, req)
	switch rec.status {
	case 0, http.StatusOK:
	case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound:
		return embed.ErrNotVisible
	case http.StatusUnauthorized:
		return errEmbedSessionEnded
	default:
		return apiv4proxy.ErrUpstreamUnavailable
	}
	if err := json.Unmarshal(rec.body.Bytes(), v); err != nil {
		return fmt.Errorf("%w: %s: %v", apiv4proxy.ErrUpstreamUnavailable, path, err)
	}
	return nil
}

// embedChannel is a channel as the session's user may see it (one GET,
// which Mattermost answers only to those who can read the channel).
func (s *Server) embedChannel(ctx context.Context, session, id string) (*identity.Channel, error) {
	var ch identity.Channel
	if err := s.embedAsk(ctx, session, "/api/v4/channels/"+id, &ch); err != nil {
		return nil, err
	}
	if ch.ID != id {
		return nil, embed.ErrNotVisible
	}
	return &ch, nil
}

// embedChannels is embed.Channels over the upstream Mattermost API.
type embedChannels struct{ s *Server }

func (c embedChannels) Channel(ctx context.Context, session, id string) (*identity.Channel, error) {
	return c.s.embedChannel(ctx, session, id)
}

// captureWriter keeps an answer in memory (bounded by what Mattermost
// answers for one post).
type captureWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.body.Len()+len(b) > maxEmbedPostBody {
		return 0, errors.New("embed: answer too large")
	}
	return c.body.Write(b)
}

type embedPostRef struct {
	ChannelID string `json:"channel_id"`
	RootID    string `json:"root_id"`
}

// embedPostInScope checks a post (and so its thread) is in one of the
// token's channels, asking Mattermost with the token's session.
func (s *Server) embedPostInScope(r *http.Request, g *embedGrant, postID string) error {
	if !embed.ValidID(postID) {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%q is not a post id", postID)
	}
	var p embedPostRef
	if err := s.embedAsk(r.Context(), g.Session, "/api/v4/posts/"+postID, &p); err != nil {
		if errors.Is(err, embed.ErrNotVisible) {
			return errorf(http.StatusForbidden, CodeEmbedChannelNotAllowed,
				"post %s is not in a channel this embed token is for", postID)
		}
		return err
	}
	if !g.Allows(p.ChannelID) {
		return errorf(http.StatusForbidden, CodeEmbedChannelNotAllowed,
			"post %s is in channel %s, which this embed token is not for", postID, p.ChannelID)
	}
	return nil
}

// serveEmbedCreatePost is POST /api/v4/posts: the post's channel must be
// one of the token's, and a reply's root post must be in that channel.
func (s *Server) serveEmbedCreatePost(w http.ResponseWriter, r *http.Request, g *embedGrant) {
	body, err := readAllLimited(r.Body, maxEmbedPostBody)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var p embedPostRef
	if err := json.Unmarshal(body, &p); err != nil {
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeBadRequest, "the body is not a post's JSON: %v", err))
		return
	}
	if !g.Allows(p.ChannelID) {
		s.writeError(w, r, embedChannelRefused(p.ChannelID))
		return
	}
	if p.RootID != "" {
		var root embedPostRef
		err := s.embedAsk(r.Context(), g.Session, "/api/v4/posts/"+url.PathEscape(p.RootID), &root)
		if errors.Is(err, embed.ErrNotVisible) || (err == nil && root.ChannelID != p.ChannelID) || !embed.ValidID(p.RootID) {
			s.writeError(w, r, errorf(http.StatusForbidden, CodeEmbedChannelNotAllowed,
				"the reply's root post %s is not in channel %s: reply only to posts of the token's channels", p.RootID, p.ChannelID))
			return
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	s.embedForward(w, r, g, "/api/v4/posts", body)
}

// serveEmbedView is POST /api/v4/channels/members/{user_id}/view (mark a
// channel read): the channel, and the channel left if any, must be the
// token's.
func (s *Server) serveEmbedView(w http.ResponseWriter, r *http.Request, g *embedGrant) {
	user := chi.URLParam(r, "user_id")
	if user != "me" && user != g.Record.UserID {
		s.writeError(w, r, errorf(http.StatusForbidden, CodeEmbedScope, "an embed token marks channels read only for its own user (use \"me\")"))
		return
	}
	body, err := readAllLimited(r.Body, embedMaxBodySize)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var v struct {
		ChannelID     string `json:"channel_id"`
		PrevChannelID string `json:"prev_channel_id"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeBadRequest, "the body is not {\"channel_id\",\"prev_channel_id\"}: %v", err))
		return
	}
	if !g.Allows(v.ChannelID) {
		s.writeError(w, r, embedChannelRefused(v.ChannelID))
		return
	}
	if v.PrevChannelID != "" && !g.Allows(v.PrevChannelID) {
		s.writeError(w, r, embedChannelRefused(v.PrevChannelID))
		return
	}
	s.embedForward(w, r, g, "/api/v4/channels/members/"+user+"/view", body)
}

// serveEmbedBody forwards a POST whose body lists ids (users, statuses):
// public profile data any member of a team may read.
func (s *Server) serveEmbedBody(path string) grantHandler {
	return func(w http.ResponseWriter, r *http.Request, g *embedGrant) {
		body, err := readAllLimited(r.Body, embedMaxBodySize)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.embedForward(w, r, g, path, body)
	}
}

// serveEmbedManifest is the manifest of the token's team only.
func (s *Server) serveEmbedManifest(w http.ResponseWriter, r *http.Request, g *embedGrant) {
	who, err := s.identity.Authenticate(r.Context(), g.Session)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if team := queryParam(r.URL.RawQuery, "team"); team != "" {
		t, err := s.identity.Team(r.Context(), who, team)
		if err != nil || t.ID != g.Record.TeamID {
			s.writeError(w, r, errorf(http.StatusForbidden, CodeEmbedScope,
				"this embed token is for team %s only: GET /api/v1/manifest?team=%s", g.Record.TeamID, g.Record.TeamID))
			return
		}
	}
	s.serveManifestAs(w, r, who)
}

// serveEmbedSession is GET /api/v1/embed/session: who the token is for,
// its app, team and channels, and when it expires.
func (s *Server) serveEmbedSession(w http.ResponseWriter, r *http.Request, g *embedGrant) {
	ctx := r.Context()
	who, err := s.identity.Authenticate(ctx, g.Session)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	team, err := s.identity.Team(ctx, who, g.Record.TeamID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	channels := []embedChannelOut{}
	for _, id := range g.Record.Channels {
		if !g.Allows(id) {
			continue // the app no longer shows it
		}
		if ch, err := s.embedChannel(ctx, g.Session, id); err == nil {
			channels = append(channels, viewEmbedChannel(ch))
		}
	}
	u := who.User
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"user":     map[string]string{"id": u.ID, "username": u.Username, "first_name": u.FirstName, "last_name": u.LastName},
		"app":      map[string]string{"id": g.App.ID, "name": g.App.Name},
		"team":     map[string]string{"id": team.ID, "name": team.Name, "display_name": team.DisplayName},
		"channels": channels, "expires_at": g.Record.ExpiresAt.UnixMilli(),
	})
}

// serveEmbedSignOut is DELETE /api/v1/embed/session: the embed revokes its
// own token (the user signed out in the embed).
func (s *Server) serveEmbedSignOut(w http.ResponseWriter, r *http.Request, g *embedGrant) {
	if err := s.embed.app.Revoke(r.Context(), g, "embed:"+g.Record.UserID); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
