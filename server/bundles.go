package server

import (
	"container/list"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/mmtoolkit/mmtoolkit/internal/app/bytecode"
	"github.com/mmtoolkit/mmtoolkit/internal/app/precompress"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// extTypes maps a bundle URL's extension to the content types it may serve:
// /bundles/<sha>.js never serves a source map, and so on.
var extTypes = map[string]string{
	"js":  "text/javascript; charset=utf-8",
	"map": "application/json",
	"hbc": "application/vnd.facebook.hermes-bytecode",
	// Icons and screenshots of plugin packages.
	"png":  "image/png",
	"jpg":  "image/jpeg",
	"webp": "image/webp",
	"svg":  "image/svg+xml",
}

// indexArtifacts learns every stored artifact (the artifact index's Load),
// so a bundle request finds its precompressed variants without scanning
// versions.
func (s *Server) indexArtifacts(ctx context.Context) error {
	_, err := s.indexStore(ctx)
	return err
}

// indexStore is indexArtifacts, and returns the stored mobile bundles as
// well: start-up reads every version once, and newMobile queues those
// without bytecode from this list.
func (s *Server) indexStore(ctx context.Context) (mobileJS []bytecode.Job, err error) {
	scan, err := s.index.Load(ctx, s.store)
	if err != nil {
		return nil, err
	}
	for _, b := range scan.MobileJS {
		mobileJS = append(mobileJS, bytecode.Job{Source: b.SHA256, Plugin: b.Plugin})
	}
	if mapless := scan.Mapless; len(mapless) > 0 {
		s.log.Warn("versions without source maps: the server stopped before building them; push a new version to get one",
			"count", len(mapless), "versions", mapless[:min(len(mapless), 10)])
	}
	return mobileJS, nil
}

// compressMissing queues every stored artifact that has no variants yet:
// pushes whose compression a restart interrupted, and stores written before
// compression moved out of the push.
func (s *Server) compressMissing() {
	for _, a := range s.index.Uncompressed(precompress.MinSize) {
		s.compressor.Enqueue(a.SHA256, nil, a.ContentType)
	}
}

// serveBundle serves /bundles/{sha256}.{js|map|hbc}: immutable, cached for a
// year, with gzip or brotli chosen from the precompressed variants. The file
// is the rest of the (decoded) path, so the router and the Edge's fast lane
// serve the same name the same way.
func (s *Server) serveBundle(w http.ResponseWriter, r *http.Request) {
	sha, ext, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bundles/"), ".")
	s.serveArtifact(w, r, sha, ext)
}

// serveArtifact serves the stored artifact sha as a file of type ext. A
// source map may also be named by its key (registry.Artifact.Key); one
// still being built (internal/app/sourcemaps) is waited for.
func (s *Server) serveArtifact(w http.ResponseWriter, r *http.Request, sha, ext string) {
	file := sha + "." + ext
	if ext == "map" {
		byKey, ok := s.index.SourceMapNamed(sha)
		if !ok && s.maps.Wait(r.Context(), sha) {
			byKey, ok = s.index.SourceMapNamed(sha)
		}
		if !ok && len(sha) == 64 && s.catchUp(r.Context()) { // replica.go
			byKey, ok = s.index.SourceMapNamed(sha)
		}
		if ok {
			sha = byKey
		} else if s.maps.Building(sha) {
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("Retry-After", "2")
			writeErrorBody(w, errorf(http.StatusServiceUnavailable, CodeSourceMapPending,
				"the source map %s is still being built after its push: ask again in a few seconds", file))
			return
		}
	}
	a, ok := s.index.Artifact(sha)
	if !ok && len(sha) == 64 && s.catchUp(r.Context()) {
		// Another replica's push, answered before its notification
		// reached this one (replica.go).
		a, ok = s.index.Artifact(sha)
	}
	if !ok || len(sha) != 64 || !strings.HasPrefix(a.ContentType, strings.SplitN(extTypes[ext], ";", 2)[0]) || extTypes[ext] == "" {
		w.Header().Set("Cache-Control", "no-cache")
		writeErrorBody(w, errorf(http.StatusNotFound, CodeBundleNotFound,
			"no bundle %s: bundle URLs come from the manifest (GET /api/v1/manifest)", file))
		return
	}
	h := w.Header()
	etag := `"` + sha + `"`
	h["Cache-Control"] = immutable
	h["Etag"] = []string{etag}
	h["Vary"] = varyEncoding
	h["X-Content-Type-Options"] = nosniff
	h["Access-Control-Allow-Origin"] = anyOrigin // SRI on cross-origin scripts needs CORS
	if ext == "svg" {
		// An SVG opened on its own runs no script and loads nothing.
		h["Content-Security-Policy"] = svgPolicy
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	coding, blobSHA := "", sha
	if c := negotiate(r.Header.Get("Accept-Encoding"), a.Encodings); c != "" {
		coding, blobSHA = c, a.Encodings[c]
	}
	h["Content-Type"] = []string{a.ContentType}
	if coding != "" {
		h["Content-Encoding"] = []string{coding}
	}
	if s.files != nil {
		if f, ok := s.files.lookup(blobSHA); ok && s.files.send(w, r, blobSHA, f) {
			return
		}
	}
	body, err := s.bundles.get(r.Context(), s.store, blobSHA)
	if err != nil {
		// Nothing of an error answer is immutable.
		delete(h, "Content-Encoding")
		delete(h, "Etag")
		h["Cache-Control"] = noCache
		s.writeError(w, r, err)
		return
	}
	if s.files != nil && len(body.body) >= sendfileMin {
		s.files.want(blobSHA, body.body)
	}
	// A length lets net/http send the body in one piece, not chunked.
	h["Content-Length"] = body.clen
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body.body)
}

var (
	immutable    = []string{"public, max-age=31536000, immutable"}
	varyEncoding = []string{"Accept-Encoding"}
	nosniff      = []string{"nosniff"}
	anyOrigin    = []string{"*"}
	noCache      = []string{"no-cache"}
	svgPolicy    = []string{"default-src 'none'; style-src 'unsafe-inline'; sandbox"}
)

// negotiate picks br, else gzip, among the available codings the client
// accepts (q=0 refuses a coding). "" means identity. It allocates nothing:
// it runs on every bundle request.
func negotiate(accept string, available map[string]string) string {
	if accept == "" || len(available) == 0 {
		return ""
	}
	// Per coding: 0 not named, 1 accepted, 2 refused.
	var br, gz, star uint8
	for accept != "" {
		var part string
		part, accept, _ = strings.Cut(accept, ",")
		name, params, _ := strings.Cut(part, ";")
		state := uint8(1)
		for params != "" {
			var p string
			p, params, _ = strings.Cut(params, ";")
			k, v, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && q == 0 {
					state = 2
				} else {
					state = 1
				}
			}
		}
		switch name = strings.TrimSpace(name); {
		case name == "*":
			star = state
		case strings.EqualFold(name, "br"):
			br = state
		case strings.EqualFold(name, "gzip"):
			gz = state
		}
	}
	if br == 0 {
		br = star
	}
	if gz == 0 {
		gz = star
	}
	if _, have := available["br"]; have && br == 1 {
		return "br"
	}
	if _, have := available["gzip"]; have && gz == 1 {
		return "gzip"
	}
	return ""
}

// etagMatch reports whether an If-None-Match header matches etag (weak
// comparison, as RFC 9110 requires for If-None-Match). It allocates nothing:
// it runs on every revalidation of a manifest or bundle.
func etagMatch(header, etag string) bool {
	for header != "" {
		var t string
		t, header, _ = strings.Cut(header, ",")
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// bundleCache keeps recently served blobs in memory, least recently used
// out first, so hot bundles never touch the store.
type bundleCache struct {
	mu    sync.Mutex
	max   int64
	bytes int64
	ll    *list.List
	items map[string]*list.Element
}

type cacheEntry struct {
	sha  string
	body []byte
	clen []string // Content-Length header value, made once
}

func newBundleCache(max int64) *bundleCache {
	return &bundleCache{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *bundleCache) size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

func (c *bundleCache) get(ctx context.Context, store registry.Store, sha string) (*cacheEntry, error) {
	c.mu.Lock()
	if el, ok := c.items[sha]; ok {
		c.ll.MoveToFront(el)
		e := el.Value.(*cacheEntry)
		c.mu.Unlock()
		return e, nil
	}
	c.mu.Unlock()
	body, err := store.Blob(ctx, sha)
	if err != nil {
		return nil, err
	}
	e := &cacheEntry{sha, body, []string{strconv.Itoa(len(body))}}
	if int64(len(body)) > c.max/4 {
		return e, nil // too big to be worth evicting others for
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[sha]; !ok {
		c.items[sha] = c.ll.PushFront(e)
		c.bytes += int64(len(body))
		for c.bytes > c.max {
			el := c.ll.Back()
			e := el.Value.(*cacheEntry)
			c.ll.Remove(el)
			delete(c.items, e.sha)
			c.bytes -= int64(len(e.body))
		}
	}
	return e, nil
}

// forget drops pruned blobs from the cache.
func (c *bundleCache) forget(shas []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sha := range shas {
		if el, ok := c.items[sha]; ok {
			c.ll.Remove(el)
			delete(c.items, sha)
			c.bytes -= int64(len(el.Value.(*cacheEntry).body))
		}
	}
}

// forgetServed drops pruned blobs from what serves their bytes (the bundle
// cache, the blob files' index); the artifact index forgets them itself
// (artifacts.Index.Subscribe), before this runs.
func (s *Server) forgetServed(shas []string) {
	s.bundles.forget(shas)
	if s.files != nil {
		for _, sha := range shas {
			s.files.forget(sha)
		}
	}
}
