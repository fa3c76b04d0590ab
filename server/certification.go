package server

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/slots"
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
func (s *Server) minCertification() registry.Certification { return s.cfg.MinCertification }

// tooLow is the error for enabling a version below the minimum level.
func (s *Server) tooLow(v *registry.Version, followLatest bool) *Error {
	min := s.minCertification()
	msg := fmt.Sprintf("this server only enables plugins certified %s or higher, and %s %s is %s: pin a version signed at %s level or higher, or ask its publisher to have it signed",
		min, v.PluginID, v.Version, v.Certification, min)
	if followLatest {
		msg = fmt.Sprintf("this server only enables plugins certified %s or higher, and no version of %s is (its latest, %s, is %s): ask its publisher to have a version signed at %s level or higher",
			min, v.PluginID, v.Version, v.Certification, min)
	}
	return &Error{Status: http.StatusForbidden, Code: CodeCertificationTooLow, Message: msg,
		Details: map[string]any{"required": min.String(), "certification": v.Certification.String(), "version": v.Version}}
}

// checkEnable refuses to enable a version below the minimum level. version
// is the pinned version, "" to follow the latest: then some version must
// meet the level (the manifests serve the highest that does).
func (s *Server) checkEnable(ctx context.Context, p *registry.Plugin, version string) error {
	min := s.minCertification()
	if min == registry.Unverified {
		return nil
	}
	if version != "" {
		v, err := s.store.Version(ctx, p.ID, version)
		if err != nil {
			return err
		}
		if !v.Certification.Meets(min) {
			return s.tooLow(v, false)
		}
		return nil
	}
	if _, err := highestCertified(ctx, s.store, p, min); err != nil {
		if errors.Is(err, errNoCertifiedVersion) {
			latest, lerr := s.store.Version(ctx, p.ID, p.Latest)
			if lerr != nil {
				return lerr
			}
			return s.tooLow(latest, true)
		}
		return err
	}
	return nil
}

var errNoCertifiedVersion = errors.New("no version meets the minimum certification")

// highestCertified returns the highest version of p whose level meets min.
func highestCertified(ctx context.Context, src slots.Source, p *registry.Plugin, min registry.Certification) (*registry.Version, error) {
	for i := len(p.Versions) - 1; i >= 0; i-- {
		v, err := src.Version(ctx, p.ID, p.Versions[i])
		if errors.Is(err, registry.ErrVersionNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if v.Certification.Meets(min) {
			return v, nil
		}
	}
	return nil, errNoCertifiedVersion
}

// manifestSource is the source web and mobile manifests are built from: the
// store, seen through the minimum certification when there is one
// (slots.Certified). Every caller of slots.Served passes it, so the
// manifests and every check that follows the served version apply the
// same minimum.
func (s *Server) manifestSource() slots.MobileSource {
	src, ok := s.store.(slots.MobileSource)
	if !ok {
		src = noBytecode{s.store}
	}
	return slots.Certified(src, s.minCertification())
}
