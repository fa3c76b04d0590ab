package server

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serving"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// TrustedKey is a public key whose package signatures earn Level.
type TrustedKey struct {
	Key   ed25519.PublicKey
	Level registry.Certification
	// Source says where the key came from (a file name), for messages.
	Source string
}

// SignatureHeader carries a detached package signature on a push whose body
// is the bare .tar.gz: the plugin.sig file's bytes, standard base64.
const SignatureHeader = "X-Mmtoolkit-Package-Signature"

// BuiltinSigner is the SignerKey of versions the binary itself carries.
const BuiltinSigner = "builtin"

// signatureCodes are pluginpkg's signature codes answered with 422: the
// request is well formed, but its package and signature disagree.
var signatureCodes = map[string]bool{
	pluginpkg.CodeSignatureMismatch: true,
	pluginpkg.CodeSignatureInvalid:  true,
}

// trustIndex maps a key's bytes to its level.
type trustIndex map[string]TrustedKey

func newTrustIndex(keys []TrustedKey) (trustIndex, error) {
	idx := trustIndex{}
	for _, k := range keys {
		if len(k.Key) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("server: trusted key %s is not an ed25519 public key", k.Source)
		}
		if !k.Level.Valid() || k.Level == registry.Unverified {
			return nil, fmt.Errorf("server: trusted key %s: level %s grants nothing; trust keys for official, certified or community", k.Source, k.Level)
		}
		if old, ok := idx[string(k.Key)]; ok && old.Level != k.Level {
			return nil, fmt.Errorf("server: key %s is trusted both for %s (%s) and for %s (%s); a key earns one level",
				pluginpkg.KeyFingerprint(k.Key), old.Level, old.Source, k.Level, k.Source)
		}
		idx[string(k.Key)] = k
	}
	return idx, nil
}

// certification is the level a publish records and who vouched for it.
type certification struct {
	Level  registry.Certification
	Signer string // pluginpkg.KeyFingerprint, BuiltinSigner or ""
}

// certify decides a pushed package's level from its signature: the one in
// the package (plugin.sig) or the detached one sent with it. No signature is
// Unverified. A signature that does not match the package, does not verify,
// or was made with a key no level trusts is an error: the push is refused
// and nothing is stored. Refusing an untrusted key rather than storing the
// package as unverified tells the signer at once that this server does not
// know their key, instead of letting a package they meant to certify reach
// teams without the level they expect.
func (s *Server) certify(pkg *pluginpkg.Package, detached []byte) (certification, error) {
	raw := pkg.Signature
	switch {
	case raw == nil && detached == nil:
		return certification{Level: registry.Unverified}, nil
	case raw == nil:
		raw = detached
	}
	sig, err := pluginpkg.ParseSignature(raw)
	if err != nil {
		return certification{}, err
	}
	if detached != nil && pkg.Signature != nil {
		other, err := pluginpkg.ParseSignature(detached)
		if err != nil {
			return certification{}, err
		}
		if other.PackageSHA256 != sig.PackageSHA256 || other.PublicKey != sig.PublicKey || other.Signature != sig.Signature {
			return certification{}, errorf(http.StatusBadRequest, CodeSignatureConflict,
				"the package holds a %s and a different detached signature was sent with it: send one signature (remove %s from the package, or do not send the detached one)",
				pluginpkg.SignatureFile, pluginpkg.SignatureFile)
		}
	}
	if err := sig.Verify(pkg.SHA256()); err != nil {
		return certification{}, err
	}
	fp := pluginpkg.KeyFingerprint(sig.Key())
	k, ok := s.trust[string(sig.Key())]
	if !ok {
		e := errorf(http.StatusForbidden, CodeSignatureUntrustedKey,
			"the package is signed with key %s, which this server does not trust for any certification level: ask the server's operator to trust it (serve --trust LEVEL=KEY.pub), or push the package without its signature to publish it as unverified", fp)
		e.Details = map[string]any{"key": fp}
		return certification{}, e
	}
	return certification{Level: k.Level, Signer: fp}, nil
}

// detachedSignature reads the SignatureHeader of a push, if any.
func detachedSignature(r *http.Request) ([]byte, error) {
	v := r.Header.Get(SignatureHeader)
	if v == "" {
		return nil, nil
	}
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(raw) == 0 {
		return nil, errorf(http.StatusBadRequest, pluginpkg.CodeSignatureMalformed,
			"the %s header must hold the signature file (%s) in standard base64: `mmtoolkit push` sends it that way", SignatureHeader, pluginpkg.SignatureFile)
	}
	return raw, nil
}

// minCertification is the server's policy: the lowest level a version may
// have to be enabled for a team and served in its manifests.
func (s *Server) minCertification() registry.Certification { return s.policy.Min() }

// certificationTooLow is the answer to a *serving.TooLowError: enabling (or
// pinning) a version below the minimum certification.
func certificationTooLow(e *serving.TooLowError) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeCertificationTooLow, Message: e.Error(),
		Details: map[string]any{"required": e.Min.String(), "certification": e.Version.Certification.String(), "version": e.Version.Version}}
}
