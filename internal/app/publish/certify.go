package publish

import (
	"crypto/ed25519"
	"fmt"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// TrustedKey is a public key whose package signatures earn Level.
type TrustedKey struct {
	Key   ed25519.PublicKey
	Level registry.Certification
	// Source says where the key came from (a file name), for messages.
	Source string
}

// BuiltinSigner is the SignerKey of versions the binary itself carries.
const BuiltinSigner = "builtin"

// Certification is the level a publish records and who vouched for it.
type Certification struct {
	Level  registry.Certification
	Signer string // pluginpkg.KeyFingerprint, BuiltinSigner or ""
}

// Builtin is the certification of the plugins the binary carries: the
// binary is the signature.
var Builtin = Certification{Level: registry.Official, Signer: BuiltinSigner}

// TrustIndex maps a key's bytes to its level: the keys the operator
// trusts (serve --trust).
type TrustIndex map[string]TrustedKey

// NewTrustIndex indexes keys, refusing a key that is not ed25519, one
// that grants nothing, and one trusted for two levels.
func NewTrustIndex(keys []TrustedKey) (TrustIndex, error) {
	idx := TrustIndex{}
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

// ErrSignatureConflict is returned by Certify when a package holds a
// signature and a different detached one was sent with it.
var ErrSignatureConflict = fmt.Errorf("the package holds a %s and a different detached signature was sent with it: send one signature (remove %s from the package, or do not send the detached one)",
	pluginpkg.SignatureFile, pluginpkg.SignatureFile)

// UntrustedKeyError is returned by Certify when a package's signature
// verifies with a key the index does not trust.
type UntrustedKeyError struct {
	Key string // the key's fingerprint
}

func (e *UntrustedKeyError) Error() string {
	return fmt.Sprintf("the package is signed with key %s, which this server does not trust for any certification level: ask the server's operator to trust it (serve --trust LEVEL=KEY.pub), or push the package without its signature to publish it as unverified", e.Key)
}

// Certify decides a pushed package's level from its signature: the one in
// the package (plugin.sig) or the detached one sent with it. No signature is
// Unverified. A signature that does not match the package, does not verify
// (a *pluginpkg.Error), or was made with a key no level trusts
// (*UntrustedKeyError) is an error: the push is refused and nothing is
// stored. Refusing an untrusted key rather than storing the package as
// unverified tells the signer at once that this server does not know their
// key, instead of letting a package they meant to certify reach teams
// without the level they expect.
func (idx TrustIndex) Certify(pkg *pluginpkg.Package, detached []byte) (Certification, error) {
	raw := pkg.Signature
	switch {
	case raw == nil && detached == nil:
		return Certification{Level: registry.Unverified}, nil
	case raw == nil:
		raw = detached
	}
	sig, err := pluginpkg.ParseSignature(raw)
	if err != nil {
		return Certification{}, err
	}
	if detached != nil && pkg.Signature != nil {
		other, err := pluginpkg.ParseSignature(detached)
		if err != nil {
			return Certification{}, err
		}
		if other.PackageSHA256 != sig.PackageSHA256 || other.PublicKey != sig.PublicKey || other.Signature != sig.Signature {
			return Certification{}, ErrSignatureConflict
		}
	}
	if err := sig.Verify(pkg.SHA256()); err != nil {
		return Certification{}, err
	}
	fp := pluginpkg.KeyFingerprint(sig.Key())
	k, ok := idx[string(sig.Key())]
	if !ok {
		return Certification{}, &UntrustedKeyError{Key: fp}
	}
	return Certification{Level: k.Level, Signer: fp}, nil
}
