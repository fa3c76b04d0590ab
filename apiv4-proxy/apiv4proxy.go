// Package apiv4proxy stands between mmtoolkit and Mattermost. It has two
// jobs:
//
//   - identity: who a request's Mattermost token belongs to (Identity), with
//     their teams and roles. Upstream asks a real Mattermost
//     (GET /api/v4/users/me, .../teams/members, .../teams) and caches the
//     answer briefly; the sandbox package answers the same questions
//     in-process when there is no Mattermost.
//   - proxying: NewProxy returns the http.Handler that forwards REST calls
//     and the websocket to the upstream Mattermost, with the rules of
//     docs/proxy.md (hop-by-hop headers dropped, forwarding headers set,
//     bodies and time bounded, no open proxying).
//
// The HTTP edge depends only on the small identity interface it declares;
// Upstream and the sandbox both implement it. TokenFromRequest finds a
// token the way Mattermost does.
package apiv4proxy

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"net/http"
	"strings"
)

// Sentinel errors.
var (
	// ErrInvalidToken is returned when a token is unknown, expired or revoked.
	ErrInvalidToken = errors.New("invalid or expired session")
	// ErrTeamNotFound is returned when no team has the given id or name.
	ErrTeamNotFound = errors.New("team not found")
	// ErrBadCredentials is returned by Login for an unknown login id or a wrong password.
	ErrBadCredentials = errors.New("invalid login or password")
	// ErrChannelNotFound is returned when no channel has the given id, or
	// the caller may not see it.
	ErrChannelNotFound = errors.New("channel not found")
	// ErrUpstreamUnavailable is returned when the upstream Mattermost cannot
	// be reached or answers with a server error.
	ErrUpstreamUnavailable = errors.New("upstream Mattermost unavailable")
	// ErrUpstreamTimeout is returned when the upstream Mattermost does not
	// answer in time.
	ErrUpstreamTimeout = errors.New("upstream Mattermost timed out")
)

// TokenFromRequest finds the Mattermost token the way Mattermost does, in
// its order: Authorization "Bearer" then "Token", the MMAUTHTOKEN cookie,
// then the access_token query parameter.
func TokenFromRequest(r *http.Request) string {
	token, _ := tokenAndSource(r)
	return token
}

// CSRFHeader and CSRFHeaderValue are the header Mattermost's clients send
// with every request (Client4 does) and that a cross-site form or a
// cross-origin fetch without CORS cannot send.
const (
	CSRFHeader      = "X-Requested-With"
	CSRFHeaderValue = "XMLHttpRequest"
)

// CrossSiteForged reports whether r acts on a session cookie without
// proof that a same-origin page sent it: the token came from the
// MMAUTHTOKEN cookie, the method changes state, and X-Requested-With is
// not XMLHttpRequest. Mattermost refuses such requests too (it accepts
// X-Requested-With in place of its X-CSRF-Token); a token sent in a header
// or the query is never ambient, so those requests pass.
func CrossSiteForged(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	if _, fromCookie := tokenAndSource(r); !fromCookie {
		return false
	}
	return r.Header.Get(CSRFHeader) != CSRFHeaderValue
}

func tokenAndSource(r *http.Request) (token string, fromCookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			return strings.TrimSpace(h[7:]), false
		}
		if len(h) > 6 && strings.EqualFold(h[:6], "token ") {
			return strings.TrimSpace(h[6:]), false
		}
	}
	if c, err := r.Cookie("MMAUTHTOKEN"); err == nil && c.Value != "" {
		return c.Value, true
	}
	return r.URL.Query().Get("access_token"), false
}

// mmEncoding is Mattermost's id alphabet (model.NewId): 26 lowercase chars.
var mmEncoding = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

// NewID returns a random 26-character Mattermost-style id.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return mmEncoding.EncodeToString(b[:])
}

// EncodeID encodes 16 bytes as a Mattermost id.
func EncodeID(b []byte) string { return mmEncoding.EncodeToString(b) }
