package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/internal/app/embed"
)

// sessionStarter is what the sandbox offers: sessions for any user,
// without a password (it is for development).
type sessionStarter interface {
	FindUser(ctx context.Context, idOrLogin string) (*identity.User, error)
	StartSession(ctx context.Context, userID string) (token, ref string, err error)
	EndSession(ctx context.Context, ref string) error
	Logout(ctx context.Context, token string) error
}

// newEmbedMinter returns the embed.Minter of the backend flow: the
// sandbox's sessions, or Mattermost user access tokens made with the
// upstream admin token; nil when neither is possible.
func newEmbedMinter(s *Server) embed.Minter {
	if st, ok := s.identity.(sessionStarter); ok {
		return sandboxMinter{st}
	}
	if s.cfg.UpstreamAdminToken != "" && s.cfg.Upstream != nil {
		return &upstreamMinter{api: s.cfg.Upstream, admin: s.cfg.UpstreamAdminToken}
	}
	return nil
}

var errEmbedUserUnknown = errorf(http.StatusNotFound, CodeEmbedUserUnknown,
	"no Mattermost user has this id, username or email: create the user in Mattermost first, or check \"user\"")

type sandboxMinter struct{ sb sessionStarter }

func (m sandboxMinter) User(ctx context.Context, idOrLogin string) (*identity.User, error) {
	u, err := m.sb.FindUser(ctx, idOrLogin)
	if err != nil {
		return nil, embed.ErrUserUnknown
	}
	return u, nil
}

func (m sandboxMinter) Mint(ctx context.Context, userID string, _ time.Duration) (string, string, error) {
	return m.sb.StartSession(ctx, userID)
}

func (m sandboxMinter) End(ctx context.Context, session, ref string) error {
	if session != "" {
		return m.sb.Logout(ctx, session)
	}
	return m.sb.EndSession(ctx, ref)
}

// upstreamMinter makes Mattermost user access tokens with the operator's
// admin token (POST /api/v4/users/{id}/tokens; Mattermost's
// EnableUserAccessTokens must be on) and revokes them by id.
type upstreamMinter struct {
	api   http.Handler // the proxy to Mattermost
	admin string
}

// call sends one request to Mattermost with the admin token and decodes a
// 200/201 answer into v.
func (m *upstreamMinter) call(ctx context.Context, method, path string, body, v any) (int, error) {
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, chi.RouteCtxKey, nil), method, path, rd)
	if err != nil {
		return 0, err
	}
	req.RemoteAddr = "127.0.0.1:0"
	req.Header.Set("Authorization", "Bearer "+m.admin)
	req.Header.Set("Content-Type", "application/json")
	rec := &captureWriter{header: http.Header{}}
	m.api.ServeHTTP(rec, req)
	if rec.status == http.StatusOK || rec.status == http.StatusCreated {
		if v != nil {
			return rec.status, json.Unmarshal(rec.body.Bytes(), v)
		}
		return rec.status, nil
	}
	return rec.status, fmt.Errorf("embed: %s %s: Mattermost answered %d", method, path, rec.status)
}

func (m *upstreamMinter) User(ctx context.Context, idOrLogin string) (*identity.User, error) {
	path := "/api/v4/users/username/" + url.PathEscape(strings.TrimPrefix(idOrLogin, "@"))
	switch {
	case embed.ValidID(idOrLogin):
		path = "/api/v4/users/" + idOrLogin
	case strings.Contains(idOrLogin, "@") && !strings.HasPrefix(idOrLogin, "@"):
		path = "/api/v4/users/email/" + url.PathEscape(idOrLogin)
	}
	var u identity.User
	status, err := m.call(ctx, http.MethodGet, path, nil, &u)
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return nil, embed.ErrUpstreamTokenUnavailable
	case status == http.StatusNotFound || status == http.StatusBadRequest:
		return nil, embed.ErrUserUnknown
	case err != nil:
		return nil, apiv4proxy.ErrUpstreamUnavailable
	}
	return &u, nil
}

func (m *upstreamMinter) Mint(ctx context.Context, userID string, _ time.Duration) (string, string, error) {
	var t struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	status, err := m.call(ctx, http.MethodPost, "/api/v4/users/"+userID+"/tokens",
		map[string]string{"description": "mmtoolkit embed token (revoked when the embed token is)"}, &t)
	switch {
	case status == http.StatusNotImplemented || status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "", "", embed.ErrUpstreamTokenUnavailable
	case err != nil || t.Token == "":
		return "", "", apiv4proxy.ErrUpstreamUnavailable
	}
	return t.Token, t.ID, nil
}

func (m *upstreamMinter) End(ctx context.Context, _, ref string) error {
	if ref == "" {
		return nil
	}
	status, err := m.call(ctx, http.MethodPost, "/api/v4/users/tokens/revoke", map[string]string{"token_id": ref}, nil)
	if status == http.StatusNotFound {
		return nil // already gone
	}
	return err
}
