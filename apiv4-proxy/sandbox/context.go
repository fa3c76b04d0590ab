package sandbox

import (
	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"

	"context"
	"net/http"
)

type sessionKey struct{}

type sessionValue struct {
	id    *identity.Identity
	token string
}

func withSession(ctx context.Context, id *identity.Identity, token string) context.Context {
	return context.WithValue(ctx, sessionKey{}, sessionValue{id, token})
}

// identityFrom is the caller requireSession let through.
func identityFrom(r *http.Request) (*identity.Identity, string) {
	v, _ := r.Context().Value(sessionKey{}).(sessionValue)
	return v.id, v.token
}

type requestIDKey struct{}

// requestIDFrom is the request's X-Request-Id, or a fresh id for a request
// that did not pass through the middleware.
func requestIDFrom(r *http.Request) string {
	if id, ok := r.Context().Value(requestIDKey{}).(string); ok {
		return id
	}
	return apiv4proxy.NewID()
}
