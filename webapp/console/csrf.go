package console

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// csrfField is the form field that carries the token.
const csrfField = "csrf_token"

// csrfToken derives the token of a session: an HMAC of the Mattermost
// session token under the server's secret. It is stable for the session, so
// several open tabs keep working, and useless to anyone without the session
// cookie, which another site cannot read.
func csrfToken(key []byte, session string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("mmtoolkit console csrf\x00"))
	m.Write([]byte(session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRF checks a submitted token in constant time.
func validCSRF(key []byte, session, got string) bool {
	if got == "" || session == "" {
		return false
	}
	return hmac.Equal([]byte(got), []byte(csrfToken(key, session)))
}
