package server

import (
	"log/slog"
	"net/http"
	"runtime/debug"
)

// recoverer turns a handler panic into a 500 with a code, and logs the stack.
func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
					writeErrorBody(w, errorf(http.StatusInternalServerError, CodeInternalError,
						"the server failed; the error is logged: retry, and report it if it persists"))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}
