package apiv4proxy

import (
	"context"
	"net/http"
)

type sessionValue struct {
	id    *Identity
	token string
}

func contextWith(ctx context.Context, key any, id *Identity, token string) context.Context {
	return context.WithValue(ctx, key, sessionValue{id, token})
}

func identityFrom(r *http.Request) (*Identity, string) {
	v, _ := r.Context().Value(ctxKey{}).(sessionValue)
	return v.id, v.token
}
