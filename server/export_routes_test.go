package server

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// WithMiddleware is cfg with mw run on every route, on both lanes.
func WithMiddleware(cfg Config, mw ...func(http.Handler) http.Handler) Config {
	cfg.middleware = append(cfg.middleware, mw...)
	return cfg
}

// FastRoute is a route of the table the fast lane serves, as it serves it.
type FastRoute struct {
	Method, Pattern string
	// Reads are the headers the route declares; nil for every header.
	Reads   []string
	Handler http.Handler
}

// FastRoutes are the table's fast-lane routes.
func (s *Server) FastRoutes() []FastRoute {
	var out []FastRoute
	for _, byMethod := range s.fast {
		for m, fh := range byMethod {
			if fh == nil {
				continue
			}
			r := FastRoute{Method: []string{http.MethodGet, http.MethodHead}[m], Pattern: fh.pattern, Handler: fh.h}
			if !fh.all {
				for i, k := range knownHeaders {
					if fh.reads&(1<<i) != 0 {
						r.Reads = append(r.Reads, k)
					}
				}
			}
			out = append(out, r)
		}
	}
	return out
}

// RouterGetsOutsideTable are the GET /api/v4/ routes of the router that
// the route table does not hold (upstreamPaths reads only the table).
func (s *Server) RouterGetsOutsideTable() []string {
	inTable := map[string]bool{}
	for _, rt := range s.table {
		inTable[rt.method+" "+rt.pattern] = true
	}
	var out []string
	chi.Walk(s.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method == http.MethodGet && strings.HasPrefix(route, "/api/v4/") && !inTable[method+" "+route] && !inTable[" "+route] {
			out = append(out, route)
		}
		return nil
	})
	return out
}
