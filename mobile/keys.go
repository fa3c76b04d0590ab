package mobile

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Header names of a signed mobile manifest response.
const (
	// SignatureHeader carries the base64 (standard, padded) ed25519
	// signature over the exact response body.
	SignatureHeader = "X-Mmtoolkit-Signature"
	// KeyIDHeader names the key that signed (KeyID), so an app that pins
	// two keys during a rotation knows which to use.
	KeyIDHeader = "X-Mmtoolkit-Key-Id"
)

// DefaultKeyFile is the key's file name in the data directory.
const DefaultKeyFile = "mobile-signing.key"

// PublicKeyFile is the name keygen gives the public key next to the key.
const PublicKeyFile = "mobile-signing.pub"

// ErrBadSignature is returned by Verify when a signature does not match.
var ErrBadSignature = errors.New("mobile: signature does not verify")

// ErrBadKey is returned when a key file or string is not an ed25519 key.
var ErrBadKey = errors.New("mobile: not an ed25519 key")

// GenerateKey makes a new signing key.
func GenerateKey() (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("mobile: generate key: %w", err)
	}
	return priv, nil
}

// MarshalKey encodes a private key as PEM "PRIVATE KEY" (PKCS #8), the form
// openssl reads (openssl pkey -in mobile-signing.key -pubout).
func MarshalKey(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("mobile: encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseKey decodes MarshalKey's form.
func ParseKey(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: want a PEM \"PRIVATE KEY\" block", ErrBadKey)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: the file holds a %T", ErrBadKey, k)
	}
	return priv, nil
}

// WriteKey writes priv to path (mode 0600) and its public key to pubPath
// (base64, mode 0644) unless pubPath is empty. It never overwrites a file:
// replacing a key breaks every app that pinned the old one.
func WriteKey(path, pubPath string, priv ed25519.PrivateKey) error {
	data, err := MarshalKey(priv)
	if err != nil {
		return err
	}
	if err := writeNew(path, data, 0o600); err != nil {
		return err
	}
	if pubPath == "" {
		return nil
	}
	return writeNew(pubPath, []byte(PublicKeyString(priv.Public().(ed25519.PublicKey))+"\n"), 0o644)
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("mobile: write %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("mobile: write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("mobile: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("mobile: write %s: %w", path, err)
	}
	return f.Close()
}

// ReadKey reads a key file written by WriteKey.
func ReadKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mobile: read key: %w", err)
	}
	priv, err := ParseKey(data)
	if err != nil {
		return nil, fmt.Errorf("mobile: read key %s: %w", path, err)
	}
	return priv, nil
}

// LoadOrCreateKey reads the key at path, or creates it (and nothing else)
// when the file does not exist: a server needs no set-up to sign.
func LoadOrCreateKey(path string) (priv ed25519.PrivateKey, created bool, err error) {
	priv, err = ReadKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return priv, false, err
	}
	if priv, err = GenerateKey(); err != nil {
		return nil, false, err
	}
	if err := WriteKey(path, "", priv); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race
			priv, err = ReadKey(path)
			return priv, false, err
		}
		return nil, false, err
	}
	return priv, true, nil
}

// PublicKeyString is the form apps pin: the 32-byte key in standard base64.
func PublicKeyString(pub ed25519.PublicKey) string {
	return base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey decodes PublicKeyString's form.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: want %d bytes in base64", ErrBadKey, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

// KeyID is a short name for a public key: the first 8 bytes of its SHA-256,
// hex.
func KeyID(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:8])
}

// Sign signs body and returns the SignatureHeader value.
func Sign(priv ed25519.PrivateKey, body []byte) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(priv, body))
}

// Verify checks a SignatureHeader value over body against a pinned key.
func Verify(pub ed25519.PublicKey, body []byte, signature string) error {
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, body, sig) {
		return ErrBadSignature
	}
	return nil
}
