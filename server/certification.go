package server

import (
	"encoding/base64"
	"net/http"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/internal/app/publish"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serving"
)

// TrustedKey is a public key whose package signatures earn Level
// (publish.TrustedKey).
type TrustedKey = publish.TrustedKey

// SignatureHeader carries a detached package signature on a push whose body
// is the bare .tar.gz: the plugin.sig file's bytes, standard base64.
const SignatureHeader = "X-Mmtoolkit-Package-Signature"

// BuiltinSigner is the SignerKey of versions the binary itself carries.
const BuiltinSigner = publish.BuiltinSigner

// signatureCodes are pluginpkg's signature codes answered with 422: the
// request is well formed, but its package and signature disagree.
var signatureCodes = map[string]bool{
	pluginpkg.CodeSignatureMismatch: true,
	pluginpkg.CodeSignatureInvalid:  true,
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

// certificationTooLow is the answer to a *serving.TooLowError: enabling (or
// pinning) a version below the minimum certification.
func certificationTooLow(e *serving.TooLowError) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeCertificationTooLow, Message: e.Error(),
		Details: map[string]any{"required": e.Min.String(), "certification": e.Version.Certification.String(), "version": e.Version.Version}}
}
