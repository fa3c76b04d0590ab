package sandbox

import (
	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"

	"context"
	"net/http"
)

type sessionValue struct {
	id    *apiv4proxy.Identity
	token string
}

func contextWith(ctx context.Context, key any, id *apiv4proxy.Identity, token string) context.Context {
	return context.WithValue(ctx, key, sessionValue{id, token})
}

func identityFrom(r *http.Request) (*apiv4proxy.Identity, string) {
	v, _ := r.Context().Value(ctxKey{}).(sessionValue)
	return v.id, v.token
}
