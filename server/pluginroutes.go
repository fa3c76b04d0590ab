package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serving"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// teamHeader names the caller's current team on plugin routes, which carry
// no team of their own (the webapp host sets it; ?team= works too).
const teamHeader = "X-Mmtoolkit-Team"

// spoofable headers Mattermost sets for plugins itself: never from clients.
var spoofable = []string{"Mattermost-User-Id", "Mattermost-Plugin-Id"}

// enabledVersion finds the team the request acts in and the plugin version
// it serves (teamVersion): the team the client names (it must be a member),
// else the first of the caller's teams that serves the plugin. A plugin the
// caller's team does not have is answered 404, as Mattermost hides plugins.
func (s *Server) enabledVersion(ctx context.Context, r *http.Request, who *identity.Identity, pluginID string) (*registry.Version, error) {
	notFound := errorf(http.StatusNotFound, CodePluginNotFound,
		"no plugin %s is enabled for your team: ask a team admin to enable it", pluginID)
	if _, err := s.store.Plugin(ctx, pluginID); err != nil {
		return nil, notFound
	}
	var teams []string
	if ref := firstNonEmpty(r.Header.Get(teamHeader), r.URL.Query().Get("team")); ref != "" {
		t, err := s.identity.Team(ctx, who, ref)
		if err != nil {
			return nil, err
		}
		if !who.CanAccessTeam(t.ID) {
			return nil, errorf(http.StatusForbidden, CodeNotTeamMember, "you are not a member of team %s", t.Name)
		}
		teams = []string{t.ID}
	} else {
		for tid := range who.Members {
			teams = append(teams, tid)
		}
		sort.Strings(teams)
	}
	// The version the team serves, certification minimum applied (the one
	// rule manifests, events, KV and crash reports follow): a newer
	// unverified version's routes are not the served one's.
	_, v, err := s.servesAny(ctx, teams, pluginID)
	if serving.IsNotServed(err) {
		return nil, notFound
	}
	return v, err
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// servePluginRoute is /plugins/{id}/*: forwarded to the upstream's plugin
// only when the plugin is enabled for the caller's team. It authenticates
// through authenticateFunc, as the /api/v1 routes do, so the CSRF rule is
// the same: a cookie-only cross-site POST was forwarded before (issue #15,
// F14).
//
// In front of a Mattermost, a plugin mmtoolkit does not have is
// Mattermost's own: its routes pass through as they are (with or without
// a session: Mattermost's plugins take webhooks from outside, and
// Mattermost itself tells the plugin who calls, checking CSRF for
// cookies), only without the headers Mattermost alone sets.
func (s *Server) servePluginRoute(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Fronting && !s.hasPlugin(r.Context(), chi.URLParam(r, "id")) {
		s.forward(w, r, r.URL.EscapedPath())
		return
	}
	if apiv4proxy.TokenFromRequest(r) == "" {
		writeErrorBody(w, errorf(http.StatusUnauthorized, CodeUnauthenticated,
			"log in first: plugin routes are served to members of teams that enabled the plugin"))
		return
	}
	authenticateFunc(s.identity, s.servePluginRouteAs).ServeHTTP(w, r)
}

func (s *Server) servePluginRouteAs(w http.ResponseWriter, r *http.Request, who *identity.Identity) {
	id := chi.URLParam(r, "id")
	if _, err := s.enabledVersion(r.Context(), r, who, id); err != nil {
		// A plugin both sides have, not enabled for the caller's team here,
		// still runs on Mattermost, whose list gave it to the caller.
		var e *Error
		if !s.cfg.Fronting || !errors.As(err, &e) || e.Code != "plugin_not_found" || !s.upstreamHasPlugin(r, id) {
			s.writeError(w, r, err)
			return
		}
	}
	s.forward(w, r, r.URL.EscapedPath())
}

// hasPlugin reports whether mmtoolkit has plugin id (any version, enabled
// or not).
func (s *Server) hasPlugin(ctx context.Context, id string) bool {
	_, err := s.store.Plugin(ctx, id)
	return err == nil
}

// servePluginProxy is /api/v1/plugins/{id}/proxy/*: a plugin's call to an
// upstream API route, passed only if the plugin's manifest declares it.
// The path goes upstream as the client escaped it (a %2F stays %2F), and
// must be allowed read either way: escaped, as a server that routes on
// the raw path sees it, and decoded, as one that decodes first does.
func (s *Server) servePluginProxy(w http.ResponseWriter, r *http.Request) {
	who := caller(r)
	pluginID := chi.URLParam(r, "id")
	// chi routes on the escaped path when the request has one.
	raw := "/" + chi.URLParam(r, "*")
	if r.URL.RawPath == "" {
		raw = (&url.URL{Path: raw}).EscapedPath()
	}
	target, err := url.PathUnescape(raw)
	if err != nil || path.Clean(target) != target || path.Clean(raw) != raw || !strings.HasPrefix(target, "/api/v4/") {
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeProxyPathInvalid,
			"%q is not a clean /api/v4/ path: plugins may call only Mattermost's REST API", raw))
		return
	}
	v, err := s.enabledVersion(r.Context(), r, who, pluginID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !v.Manifest.AllowsProxy(r.Method, target) || !v.Manifest.AllowsProxy(r.Method, raw) {
		s.writeError(w, r, errorf(http.StatusForbidden, CodeProxyRouteNotDeclared,
			`%s %s is not in the proxy list of %s@%s: declare {"method": %q, "path": %q} (or a pattern with {param} or a final *) in plugin.json "proxy"`,
			r.Method, target, v.PluginID, v.Version, r.Method, target))
		return
	}
	s.forward(w, r, raw)
}

// forward hands the request to the upstream with the escaped path raw,
// passed on byte for byte (issue #15, F18: a %2F was decoded on
// /plugins/{id}/* and escaped again on the plugin proxy), without the
// headers only Mattermost may set.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, raw string) {
	if s.cfg.Upstream == nil {
		writeErrorBody(w, errorf(http.StatusBadGateway, CodeUpstreamUnavailable, "no upstream Mattermost is configured"))
		return
	}
	p, err := url.PathUnescape(raw)
	if err != nil {
		writeErrorBody(w, errorf(http.StatusBadRequest, CodeBadPath, "the path %q is not validly escaped: send it escaped once", raw))
		return
	}
	r2 := r.Clone(context.WithValue(r.Context(), chi.RouteCtxKey, nil))
	r2.URL.Path, r2.URL.RawPath, r2.RequestURI = p, raw, ""
	if r2.URL.EscapedPath() != raw { // no escapes that need keeping
		r2.URL.RawPath = ""
	}
	for _, h := range spoofable {
		r2.Header.Del(h)
	}
	r2.Header.Del(teamHeader)
	s.cfg.Upstream.ServeHTTP(w, r2)
}
