package embed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// NormalizeOrigin accepts an origin as a browser sends it in Origin
// ("https://app.example.com", "http://127.0.0.2:8066") and returns it
// lowercased, without a default port. Anything else (a path, a wildcard,
// credentials, a query) is refused: the value goes into a CSP header and
// is compared byte for byte with the browser's.
func NormalizeOrigin(o string) (string, error) {
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

// ValidID reports whether id is 26 characters of Mattermost's id alphabet.
func ValidID(id string) bool {
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

// randomID is an id of ValidID's form: 16 random bytes in lowercase
// unpadded base32 (Mattermost's own ids use another alphabet of the same
// characters; the server passes its generator in Config.NewID).
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func newRandom(prefix string) string {
	var b [32]byte
	rand.Read(b[:])
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// NewSecret returns a fresh app secret.
func NewSecret() string { return newRandom(SecretPrefix) }

// secretHash is the keyed hash of an app's secret that the store keeps;
// the app id is in it, so one app's hash is no use for another.
func (e *Service) secretHash(appID, secret string) []byte {
	m := hmac.New(sha256.New, e.key)
	m.Write([]byte("mmtoolkit embed app secret\x00" + appID + "\x00" + secret))
	return m.Sum(nil)
}

// WellFormed reports whether s is prefix + 43 base64url characters: what
// embed tokens (TokenPrefix) and secrets (SecretPrefix) look like. Checked
// before any lookup.
func WellFormed(s, prefix string) bool {
	if len(s) != len(prefix)+RandomChars || !strings.HasPrefix(s, prefix) {
		return false
	}
	for i := len(prefix); i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// tokenID is the id the store keeps a token by: a hash, so the store never
// holds a token that works.
func tokenID(token string) string {
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
	return aead.Seal(nonce, nonce, []byte(session), []byte(tokenID(token)))
}

func openSession(token string, sealed []byte) (string, error) {
	aead := sessionAEAD(token)
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("embed: sealed session too short")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(tokenID(token)))
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
