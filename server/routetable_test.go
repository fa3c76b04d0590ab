package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// A middleware declared once runs on every route, on both lanes: the
// manifest, a bundle (GET and HEAD) and a GET passed to the upstream.
func TestEveryRouteMiddlewareRunsOnBothLanes(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	ran := map[string]int{} // "METHOD path" -> runs
	mark := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			ran[r.Method+" "+r.URL.Path]++
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, server.WithMiddleware(server.Config{}, mark))
	edge, fast := startEdge(t, e)
	e.push("dev", helloPlugin("com.example.hello", "1.0.0"))
	e.enable("com.example.hello")
	m, _ := e.manifest("bob", "engineering")
	if len(m.Plugins) != 1 {
		t.Fatalf("manifest: %+v", m)
	}
	bundle := m.Plugins[0].Bundle.URL
	cases := []struct{ method, path, target string }{
		{"GET", "/api/v1/manifest", "/api/v1/manifest?team=engineering"},
		{"GET", bundle, bundle},
		{"HEAD", bundle, bundle},
		{"GET", "/api/v4/users/me", "/api/v4/users/me"},
	}
	for _, lane := range []struct{ name, base string }{{"net/http", e.url}, {"fast", fast}} {
		for _, c := range cases {
			mu.Lock()
			before := ran[c.method+" "+c.path]
			mu.Unlock()
			served, handed := edge.FastServed(), edge.HandedOff()
			if r := e.doAt(lane.base, "bob", c.method, c.target); r.status != 200 {
				t.Fatalf("%s %s on %s: %d %s", c.method, c.target, lane.name, r.status, r.body)
			}
			mu.Lock()
			after := ran[c.method+" "+c.path]
			mu.Unlock()
			if after != before+1 {
				t.Errorf("%s %s on the %s lane: the middleware ran %d times, want 1", c.method, c.path, lane.name, after-before)
			}
			if lane.name == "fast" && (edge.FastServed() == served || edge.HandedOff() != handed) {
				t.Errorf("%s %s was not served by the fast lane", c.method, c.path)
			}
		}
	}
}

// The fast lane passes a route's handler only the headers the route
// declares: an answer that depends on any other header (one of those the
// fast lane parses, or one it never passes) fails here, for each route
// with its declared headers set, one undeclared header at a time.
func TestFastRoutesReadOnlyDeclaredHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	e.push("dev", helloPlugin("com.example.hello", "1.0.0"))
	e.enable("com.example.hello")
	m, r := e.manifest("bob", "engineering")
	bundle := m.Plugins[0].Bundle.URL
	e.waitIdle()
	b := e.do("", "GET", bundle, "", nil)
	tok := e.tokens["bob"]
	// Values each handler would answer differently to, if it read them.
	candidates := map[string][]string{
		"Authorization":     {"Bearer " + tok, "Bearer nope"},
		"Cookie":            {"MMAUTHTOKEN=" + tok, "MMAUTHTOKEN=nope"},
		"If-None-Match":     {r.header.Get("Etag"), b.header.Get("Etag")},
		"Accept-Encoding":   {"gzip", "br", "identity"},
		"X-Requested-With":  {"XMLHttpRequest"},
		"X-Mmtoolkit-Team":  {"sales"},
		"Range":             {"bytes=0-3"},
		"If-Modified-Since": {"Mon, 02 Jan 2006 15:04:05 GMT"},
		"Origin":            {"https://elsewhere.example"},
		"Accept":            {"text/html"},
	}
	targets := map[string]string{"/api/v1/manifest": "/api/v1/manifest?team=engineering", "/bundles/{file}": bundle}
	routes := e.srv.FastRoutes()
	if len(routes) == 0 {
		t.Fatal("no fast-lane routes")
	}
	for _, rt := range routes {
		if rt.Reads == nil {
			continue // every header (the upstream's)
		}
		target, ok := targets[rt.Pattern]
		if !ok {
			t.Fatalf("no request for the fast-lane route %s %s: add one here", rt.Method, rt.Pattern)
		}
		declared := map[string]bool{}
		for _, h := range rt.Reads {
			declared[h] = true
		}
		// Each combination of the declared headers' values (one each, in
		// turn), then each undeclared header added to it.
		for name, values := range candidates {
			if !declared[name] {
				continue
			}
			for _, v := range values {
				base := http.Header{}
				for _, d := range rt.Reads {
					if d == name {
						base.Set(d, v)
					} else if vs := candidates[d]; len(vs) > 0 {
						base.Set(d, vs[0])
					}
				}
				want := serveDirect(rt.Handler, rt.Method, target, base)
				for extra, evs := range candidates {
					if declared[extra] {
						continue
					}
					for _, ev := range evs {
						h := base.Clone()
						h.Set(extra, ev)
						if got := serveDirect(rt.Handler, rt.Method, target, h); got != want {
							t.Errorf("%s %s reads %s, which its route does not declare: with %s=%q\n%s\nwithout\n%s",
								rt.Method, rt.Pattern, extra, extra, ev, got, want)
						}
					}
				}
			}
		}
	}
}

func serveDirect(h http.Handler, method, target string, hdr http.Header) string {
	req := httptest.NewRequest(method, target, nil)
	req.Header = hdr
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	var b strings.Builder
	b.WriteString(res.Status + "\n")
	for _, k := range []string{"Content-Type", "Content-Encoding", "Content-Length", "Etag", "Vary", "Cache-Control"} {
		b.WriteString(k + ": " + res.Header.Get(k) + "\n")
	}
	b.WriteString(rec.Body.String())
	return b.String()
}

// upstreamPaths reads the table alone: no component may mount a GET
// /api/v4/ route the fast lane would pass to the upstream instead.
func TestRouteTableOwnsAPIv4(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	if out := e.srv.RouterGetsOutsideTable(); len(out) != 0 {
		t.Errorf("GET routes under /api/v4/ outside the route table: %v", out)
	}
}
