package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// route is one entry of the server's route table (routeTable): the chi
// router and the Edge's fast lane are both built from it, so a route is
// declared once, with its middleware, and the fast lane serves it only as
// declared here.
type route struct {
	// method is an HTTP method, or "" for every method (of which the
	// fast lane serves GET).
	method, pattern string
	handler         http.Handler
	// use is the route's own middleware (authentication, the embed gate),
	// run inside the middleware of every route (Server.everyRoute).
	use []func(http.Handler) http.Handler
	// reads, when not nil, puts the route on the fast lane too and names
	// the request headers its handler and middleware read: the fast lane
	// passes exactly these to them (allHeaders: every header the client
	// sent). The fast lane parses only knownHeaders; naming another one is
	// a bug New reports. TestFastRoutesReadOnlyDeclaredHeaders checks that
	// no handler's answer depends on a header its route leaves out.
	reads []string
}

// allHeaders, as a route's reads, passes every request header.
var allHeaders = []string{"*"}

func handlerFunc(f func(http.ResponseWriter, *http.Request)) http.Handler { return http.HandlerFunc(f) }

// routeTable is every route the server answers itself, but those of the
// components that mount their own (mobile, embedding, the console, the
// webapp host): those get every route's middleware from the router.
func (s *Server) routeTable() []route {
	authed := []func(http.Handler) http.Handler{authenticate(s.identity)}
	var gated []func(http.Handler) http.Handler // an embed token goes to embed_scope.go's routes
	if s.embed != nil {
		gated = append(gated, s.embedGate)
	}
	h := handlerFunc
	a := func(method, pattern string, f func(http.ResponseWriter, *http.Request)) route {
		return route{method: method, pattern: pattern, handler: h(f), use: authed}
	}
	bundleReads := []string{"If-None-Match", "Accept-Encoding"}
	t := []route{
		{method: http.MethodGet, pattern: "/healthz", handler: h(s.serveHealth)},
		{method: http.MethodGet, pattern: "/metrics", handler: h(s.serveMetrics)},
		{method: http.MethodGet, pattern: bundleRoute, handler: h(s.serveBundle), reads: bundleReads},
		{method: http.MethodHead, pattern: bundleRoute, handler: h(s.serveBundle), reads: bundleReads}, // what curl -I and caches ask
		// Deeper paths are no bundle either (not the webapp's shell).
		{method: http.MethodGet, pattern: "/bundles/*", handler: h(func(w http.ResponseWriter, r *http.Request) { s.serveArtifact(w, r, "", "") })},
		{method: http.MethodGet, pattern: "/api/v1/websocket", handler: h(s.serveWebsocket)},
		{pattern: "/plugins/{id}", handler: h(s.servePluginRoute)},
		{pattern: "/plugins/{id}/*", handler: h(s.servePluginRoute)},
		{pattern: "/plugins/{id}/public/*", handler: h(s.servePluginPublic)}, // publicfiles.go

		// The request open pages repeat most: authenticated without a
		// context copy. Only GET reads X-Requested-With (CrossSiteForged).
		{method: http.MethodGet, pattern: manifestPath, handler: authenticateFunc(s.identity, s.serveManifestAs),
			use: gated, reads: []string{"Authorization", "Cookie", "If-None-Match"}},
		a(http.MethodPost, "/api/v1/plugins", s.servePush),
		a(http.MethodGet, "/api/v1/plugins", s.serveCatalogue),
		a(http.MethodGet, "/api/v1/plugins/{id}", s.servePlugin),
		a(http.MethodGet, "/api/v1/teams/{team}/plugins", s.serveTeamPlugins),
		a(http.MethodPut, "/api/v1/teams/{team}/plugins/{id}", s.serveSetTeamPlugin),
		a(http.MethodPost, "/api/v1/plugins/{id}/events", s.servePublishEvent),
		a(http.MethodPut, "/api/v1/plugins/{id}/preview", s.serveSetPreview), // preview.go
		a(http.MethodDelete, "/api/v1/plugins/{id}/preview", s.serveEndPreview),
		a(http.MethodPost, "/api/v1/plugins/{id}/errors", s.serveReportCrash),
		a(http.MethodGet, "/api/v1/plugins/{id}/errors", s.servePluginHealth),
		a(http.MethodGet, "/api/v1/plugins/{id}/kv/{scope}", s.serveKVList),
		a(http.MethodGet, "/api/v1/plugins/{id}/kv/{scope}/*", s.serveKV),
		a(http.MethodPut, "/api/v1/plugins/{id}/kv/{scope}/*", s.serveKV),
		a(http.MethodDelete, "/api/v1/plugins/{id}/kv/{scope}/*", s.serveKV),
		a("", "/api/v1/plugins/{id}/proxy/*", s.servePluginProxy),
		a(http.MethodGet, "/api/v1/plugins/{id}/server-part", s.serveServerPart), // serverpart.go
		a(http.MethodPut, "/api/v1/plugins/{id}/server-part", s.serveServerPart),
		// The console's pages without a JSON twin, for the CLI (adminapi.go).
		a(http.MethodGet, "/api/v1/audit", s.serveAudit),
		a(http.MethodGet, "/api/v1/crashes", s.serveCrashes),
		a(http.MethodPost, "/api/v1/plugins/{id}/disable-everywhere", s.serveDisableEverywhere),
		a(http.MethodPost, "/api/v1/teams/{team}/plugins/{id}/rollback", s.serveRollback),

		// Unknown API paths answer JSON, not the webapp's shell (which takes
		// GET /{team}/{pluginid}/*); other methods get chi's 405.
		{method: http.MethodGet, pattern: "/api/v1/*", handler: h(s.serveAPINotFound)},
		{method: http.MethodGet, pattern: "/api/*", handler: h(s.serveAPINotFound)},
		// Mattermost's client manifests, for Mattermost's own webapp: answered
		// here, never by the upstream, since the team's plugins live here.
		{method: http.MethodGet, pattern: "/api/v4/plugins/webapp", handler: h(s.serveMattermostWebapp)},
		{method: http.MethodGet, pattern: "/static/plugins/{id}/*", handler: h(s.serveMattermostStatic)},
	}
	if s.cfg.Upstream != nil {
		t = append(t,
			// No routing context reaches the upstream (the sandbox is a chi
			// router of its own); every header the client sent does.
			// (The embed gate is in s.cfg.Upstream itself: initEmbed.)
			route{pattern: upstreamRoute, handler: detachRoute(s.cfg.Upstream), reads: allHeaders},
			route{method: http.MethodPost, pattern: "/api/v4/users/logout", handler: h(s.serveLogout)}, // closes the session's websockets
			// Tells which team a session shows (sessionteams.go).
			route{method: http.MethodPost, pattern: "/api/v4/channels/members/me/view", handler: h(s.serveViewChannel)},
		)
	}
	return t
}

// everyRoute is the middleware every route of the table runs, on both
// lanes, outermost first: the recoverer, the route's metrics and
// Config.middleware. The components' routes and the router's 404 and 405
// answers run the same, with metrics labelled by chi's pattern
// (componentMiddleware).
func (s *Server) everyRoute(method, pattern string) []func(http.Handler) http.Handler {
	return append([]func(http.Handler) http.Handler{recoverer(s.log), s.metrics.forRoute(method, pattern)}, s.cfg.middleware...)
}

func (s *Server) componentMiddleware() []func(http.Handler) http.Handler {
	return append([]func(http.Handler) http.Handler{recoverer(s.log), s.metrics.middleware}, s.cfg.middleware...)
}

// chain wraps h in mw, the first outermost.
func chain(h http.Handler, mw []func(http.Handler) http.Handler) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// routes is the chi router of the table, with the components' own routes.
func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	for _, rt := range s.table {
		h := chain(chain(rt.handler, rt.use), s.everyRoute(rt.method, rt.pattern))
		if rt.method == "" {
			r.Handle(rt.pattern, h)
		} else {
			r.Method(rt.method, rt.pattern, h)
		}
	}
	mw := s.componentMiddleware()
	r.NotFound(chain(handlerFunc(s.serveAPINotFound), mw).ServeHTTP)
	r.MethodNotAllowed(chain(handlerFunc(s.serveMethodNotAllowed), mw).ServeHTTP)
	r.Group(func(r chi.Router) {
		r.Use(mw...)
		s.mountMobile(r)
		s.mountEmbed(r) // embed.go
		s.mountConsole(r)
		s.mountWebapp(r)
	})
	return r
}

// fastHandler is a route of the table the fast lane serves: the handler
// with every route's middleware and its own, and the headers it reads.
type fastHandler struct {
	h       http.Handler
	pattern string
	reads   uint8 // bit i: knownHeaders[i]
	all     bool  // allHeaders
}

// fastRoutes builds the fast lane's handlers from the table, by the kind
// of path parseHead recognises and the method (0 GET, 1 HEAD).
func (s *Server) fastRoutes() (routes [nFastKinds][2]*fastHandler, err error) {
	for _, rt := range s.table {
		if rt.reads == nil {
			continue
		}
		var kind fastRouteKind
		switch rt.pattern {
		case manifestPath:
			kind = routeManifest
		case bundleRoute:
			kind = routeBundle
		case upstreamRoute:
			kind = routeUpstream
		default:
			return routes, fmt.Errorf("server: route %s %s declares headers for the fast lane, which has no matcher for it", rt.method, rt.pattern)
		}
		method := rt.method
		if method == "" {
			method = http.MethodGet
		}
		m := fastMethod(method)
		if m < 0 {
			return routes, fmt.Errorf("server: the fast lane serves GET and HEAD only, not %s %s", rt.method, rt.pattern)
		}
		fh := &fastHandler{h: chain(chain(rt.handler, rt.use), s.everyRoute(rt.method, rt.pattern)), pattern: rt.pattern}
		if method == http.MethodGet && !strings.ContainsAny(rt.pattern, "{*") {
			if s.exactGet == nil {
				s.exactGet = map[string]http.Handler{}
			}
			s.exactGet[rt.pattern] = fh.h
		}
		for _, name := range rt.reads {
			if name == allHeaders[0] {
				fh.all = true
				continue
			}
			i := knownHeader(name)
			if i < 0 {
				return routes, fmt.Errorf("server: route %s %s reads %s, which the fast lane does not parse (knownHeaders)", rt.method, rt.pattern, name)
			}
			fh.reads |= 1 << i
		}
		if fh.all && kind != routeUpstream {
			return routes, fmt.Errorf("server: only %s passes every header on the fast lane", upstreamRoute)
		}
		routes[kind][m] = fh
	}
	return routes, nil
}

func fastMethod(m string) int {
	switch m {
	case http.MethodGet:
		return 0
	case http.MethodHead:
		return 1
	}
	return -1
}

// upstreamPaths reports which GET /api/v4/ paths the router passes to the
// upstream, from the table: an exact pattern is one path the server answers
// itself, a pattern with a parameter or a wildcard keeps everything under
// its fixed prefix (TestRouteTableOwnsAPIv4 checks that no component
// mounts one outside the table).
func (s *Server) upstreamPaths() func(path string) bool {
	own := map[string]bool{}
	var ownPrefixes []string
	for _, rt := range s.table {
		if (rt.method != http.MethodGet && rt.method != "") || rt.pattern == upstreamRoute || !strings.HasPrefix(rt.pattern, "/api/v4/") {
			continue
		}
		if i := strings.IndexAny(rt.pattern, "{*"); i >= 0 {
			ownPrefixes = append(ownPrefixes, rt.pattern[:i])
		} else {
			own[rt.pattern] = true
		}
	}
	return func(path string) bool {
		if own[path] {
			return false
		}
		for _, p := range ownPrefixes {
			if strings.HasPrefix(path, p) {
				return false
			}
		}
		return true
	}
}
