package sandbox

import (
	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"

	"context"
	"net/http"
)

// requestID gives every response Mattermost's X-Request-Id (the same id
// as an error's request_id) and X-Version-Id, which clients read the
// server version from.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := apiv4proxy.NewID()
		w.Header().Set("X-Request-Id", id)
		w.Header().Set("X-Version-Id", serverVersion)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}
