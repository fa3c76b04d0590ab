package server

import (
	"context"
	"net/http"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"
)

type identityKey struct{}

// authenticate requires a Mattermost token (Authorization: Bearer, Token,
// the MMAUTHTOKEN cookie) and puts the caller's identity in the context.
// A state-changing request on the cookie alone must also carry
// X-Requested-With: XMLHttpRequest (apiv4proxy.CrossSiteForged).
func authenticate(id Identity) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return authenticateFunc(id, func(w http.ResponseWriter, r *http.Request, who *identity.Identity) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, who)))
		})
	}
}

// authenticateFunc is authenticate for a handler that takes the identity as
// an argument: no context copy per request (the manifest's fast path).
func authenticateFunc(id Identity, next func(http.ResponseWriter, *http.Request, *identity.Identity)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := apiv4proxy.TokenFromRequest(r)
		if token == "" {
			writeErrorBody(w, errorf(http.StatusUnauthorized, CodeUnauthenticated,
				"log in first: send a Mattermost token as \"Authorization: Bearer <token>\" or the MMAUTHTOKEN cookie"))
			return
		}
		if apiv4proxy.CrossSiteForged(r) {
			writeErrorBody(w, errorf(http.StatusForbidden, CodeCsrfHeaderMissing,
				"a request authenticated by the MMAUTHTOKEN cookie that changes state must carry the header "+
					"\""+apiv4proxy.CSRFHeader+": "+apiv4proxy.CSRFHeaderValue+"\" (Mattermost's clients send it); "+
					"scripts and tools should send \"Authorization: Bearer <token>\" instead"))
			return
		}
		who, err := id.Authenticate(r.Context(), token)
		if err != nil {
			writeErrorBody(w, toError(err))
			return
		}
		next(w, r, who)
	})
}

// caller is the authenticated identity; authenticate guarantees it is set.
func caller(r *http.Request) *identity.Identity {
	return r.Context().Value(identityKey{}).(*identity.Identity)
}
