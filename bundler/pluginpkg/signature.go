package pluginpkg

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// A package is signed by a detached signature over its canonical SHA-256
// (Package.SHA256): the digest covers every file's path and contents and no
// archive framing, so repacking, recompressing or moving the plugin root in
// or out of a top-level directory keeps the signature valid, while changing
// one byte of one file breaks it. docs/plugin-package.md describes the file.

// SignatureFile is the signature's name at the plugin root of a directory or
// archive. Readers take it out of Package.Files (into Package.Signature), so
// it is never part of the digest it signs.
const SignatureFile = "plugin.sig"

// MaxSignatureBytes bounds a signature file; a real one is about 300 bytes.
const MaxSignatureBytes = 4 << 10

// SignatureFormat is the version of the signature file's layout.
const SignatureFormat = 1

// SignatureAlgorithm is the only algorithm signatures use.
const SignatureAlgorithm = "ed25519"

// signedPrefix separates package signatures from anything else an ed25519
// key might sign (such as a mobile manifest body): the signed message is this
// prefix followed by the hex digest and a newline.
const signedPrefix = "mmtoolkit package signature v1\n"

// Signature error codes, part of the HTTP API like the others.
const (
	CodeSignatureMalformed = "signature_malformed" // plugin.sig is not a signature file this version reads
	CodeSignatureMismatch  = "signature_mismatch"  // the package's digest is not the one signed: changed after signing
	CodeSignatureInvalid   = "signature_invalid"   // the signature bytes do not verify with the key they name
)

// Signature is the content of a signature file (JSON).
type Signature struct {
	// Format is SignatureFormat.
	Format int `json:"format"`
	// Algorithm is SignatureAlgorithm.
	Algorithm string `json:"algorithm"`
	// PackageSHA256 is the signed digest (Package.SHA256, lowercase hex).
	PackageSHA256 string `json:"package_sha256"`
	// PublicKey is the signer's ed25519 public key, standard base64 (the
	// form `mmtoolkit keygen` writes to its .pub file).
	PublicKey string `json:"public_key"`
	// Signature is the ed25519 signature of SignedMessage(PackageSHA256),
	// standard base64.
	Signature string `json:"signature"`

	key ed25519.PublicKey
	sig []byte
}

// SignedMessage is what a signature over a package digest signs.
func SignedMessage(packageSHA256 string) []byte {
	return []byte(signedPrefix + packageSHA256 + "\n")
}

// SignDigest signs a package digest (Package.SHA256) with priv. ed25519 is
// deterministic, so the same key and package always give the same bytes:
// `mmtoolkit pack --key` stays reproducible.
func SignDigest(priv ed25519.PrivateKey, packageSHA256 string) (*Signature, error) {
	if !isHexSHA256(packageSHA256) {
		return nil, fmt.Errorf("pluginpkg: sign: %q is not a SHA-256 (64 lowercase hex digits)", packageSHA256)
	}
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("pluginpkg: sign: not an ed25519 private key")
	}
	pub := priv.Public().(ed25519.PublicKey)
	sig := ed25519.Sign(priv, SignedMessage(packageSHA256))
	return &Signature{
		Format: SignatureFormat, Algorithm: SignatureAlgorithm, PackageSHA256: packageSHA256,
		PublicKey: base64.StdEncoding.EncodeToString(pub), Signature: base64.StdEncoding.EncodeToString(sig),
		key: pub, sig: sig,
	}, nil
}

// Marshal encodes the signature file: indented JSON, fields in a fixed
// order, ending in a newline. The same signature always gives the same bytes.
func (s *Signature) Marshal() []byte {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err) // strings and an int cannot fail to encode
	}
	return append(b, '\n')
}

// ParseSignature reads a signature file. Anything but a complete, well-formed
// format-1 ed25519 signature is an *Error with CodeSignatureMalformed; it
// does not check the signature (Verify does).
func ParseSignature(data []byte) (*Signature, error) {
	bad := func(format string, args ...any) error {
		return &Error{Code: CodeSignatureMalformed, File: SignatureFile,
			Message: fmt.Sprintf(SignatureFile+" "+format+"; write it with `mmtoolkit sign` (docs/plugin-package.md describes the format)", args...)}
	}
	if len(data) > MaxSignatureBytes {
		return nil, bad("is %d bytes, over the %s limit", len(data), formatBytes(MaxSignatureBytes))
	}
	var s Signature
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, bad("is not a signature file (%v)", err)
	}
	if dec.More() {
		return nil, bad("has data after the JSON object")
	}
	switch {
	case s.Format != SignatureFormat:
		return nil, bad("has format %d; this server reads format %d (a newer mmtoolkit wrote it?)", s.Format, SignatureFormat)
	case s.Algorithm != SignatureAlgorithm:
		return nil, bad("uses algorithm %q; only %q is supported", s.Algorithm, SignatureAlgorithm)
	case !isHexSHA256(s.PackageSHA256):
		return nil, bad("has package_sha256 %q, not 64 lowercase hex digits", s.PackageSHA256)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(s.PublicKey)
	if err != nil || len(key) != ed25519.PublicKeySize {
		return nil, bad("has a public_key that is not %d bytes of standard base64", ed25519.PublicKeySize)
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(s.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, bad("has a signature that is not %d bytes of standard base64", ed25519.SignatureSize)
	}
	s.key, s.sig = ed25519.PublicKey(key), sig
	return &s, nil
}

// Key is the signer's public key. It is only known to be the signer's once
// Verify succeeds.
func (s *Signature) Key() ed25519.PublicKey { return s.key }

// Verify checks that s signs packageSHA256 (the digest of the package it
// came with) and that the signature is the key's. A package changed after
// signing is CodeSignatureMismatch; signature bytes that do not verify
// (a forged or edited signature file) are CodeSignatureInvalid. Verify says
// nothing about whether the key is trusted: that is the server's policy.
func (s *Signature) Verify(packageSHA256 string) error {
	if s.PackageSHA256 != packageSHA256 {
		return &Error{Code: CodeSignatureMismatch, File: SignatureFile,
			Message: fmt.Sprintf("the package does not match its signature: it was signed as %s but its files hash to %s, so it was changed after signing (or tampered with); sign it again with `mmtoolkit sign`, or remove %s to push it unsigned",
				short(s.PackageSHA256), short(packageSHA256), SignatureFile)}
	}
	if len(s.key) != ed25519.PublicKeySize || !ed25519.Verify(s.key, SignedMessage(packageSHA256), s.sig) {
		return &Error{Code: CodeSignatureInvalid, File: SignatureFile,
			Message: fmt.Sprintf("the signature in %s does not verify with the public key it names (%s): the signature file was edited or forged; sign the package again with `mmtoolkit sign`", SignatureFile, KeyFingerprint(s.key))}
	}
	return nil
}

// KeyFingerprint names a public key the way ssh-keygen -l does:
// "SHA256:" and the unpadded base64 of the key's SHA-256.
func KeyFingerprint(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(h[:])
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12] + "…"
	}
	return sha
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
