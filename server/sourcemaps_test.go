package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

type bundleJSON struct {
	URL     string `json:"url"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	Pending bool   `json:"pending"`
}

func pushedBundles(t *testing.T, r response) map[string]bundleJSON {
	t.Helper()
	var body struct{ Bundles map[string]bundleJSON }
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	return body.Bundles
}

// TestSourceMapFollowsThePush: a plugin's first push answers before its
// source maps exist. Each bundle names its map by key; the push answer
// says the maps are pending; a request for one meanwhile waits for it; once
// built it is stored with the version (catalogue, restart) and served by
// that same URL.
func TestSourceMapFollowsThePush(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	release := e.srv.HoldSourceMaps()
	defer release()

	r := e.push("dev", helloPlugin("com.example.maplater", "1.0.0"))
	if r.status != http.StatusCreated {
		t.Fatalf("push: %d %s", r.status, r.body)
	}
	pushed := pushedBundles(t, r)
	for _, k := range []string{"web_map", "mobile_map"} {
		if b := pushed[k]; !b.Pending || b.SHA256 != "" || !strings.HasSuffix(b.URL, ".map") {
			t.Fatalf("%s in the push answer: %+v, want pending with its URL", k, b)
		}
	}
	// The catalogue says the same while the maps wait.
	if got := e.do("dev", "GET", "/api/v1/plugins/com.example.maplater", "", nil); !strings.Contains(string(got.body), `"pending":true`) {
		t.Errorf("catalogue while the maps wait: %s", got.body)
	}

	// Devtools ask for the map as soon as the page runs the new bundle.
	type result struct {
		r  response
		at time.Time
	}
	got := make(chan result, 1)
	go func() {
		r := e.do("", "GET", pushed["web_map"].URL, "", nil)
		got <- result{r, time.Now()}
	}()
	time.Sleep(100 * time.Millisecond)
	released := time.Now()
	release()
	res := <-got
	if res.r.status != http.StatusOK || res.at.Before(released) {
		t.Fatalf("map requested while being built: %d at %v (released at %v) %s", res.r.status, res.at, released, res.r.body)
	}
	var m struct {
		Version int      `json:"version"`
		Sources []string `json:"sources"`
	}
	if err := json.Unmarshal(res.r.body, &m); err != nil || m.Version != 3 || !contains(m.Sources, "webapp/index.tsx") {
		t.Fatalf("served map: %v %+v", err, m)
	}
	sum := sha256.Sum256(res.r.body)
	mapSHA := hex.EncodeToString(sum[:])
	if etag := res.r.header.Get("ETag"); etag != `"`+mapSHA+`"` {
		t.Errorf("ETag %s, want the map's SHA-256", etag)
	}
	e.waitIdle()

	// Stored with the version, under the URL the push gave.
	cat := e.do("dev", "GET", "/api/v1/plugins/com.example.maplater", "", nil)
	var plugin struct {
		Versions []struct{ Bundles map[string]bundleJSON }
	}
	if err := json.Unmarshal(cat.body, &plugin); err != nil || len(plugin.Versions) != 1 {
		t.Fatal(err, string(cat.body))
	}
	for _, k := range []string{"web_map", "mobile_map"} {
		b := plugin.Versions[0].Bundles[k]
		if b.Pending || b.URL != pushed[k].URL || b.Size == 0 || b.SHA256 == "" {
			t.Errorf("%s after the build: %+v (pushed %+v)", k, b, pushed[k])
		}
	}
	if b := plugin.Versions[0].Bundles["web_map"]; b.SHA256 != mapSHA {
		t.Errorf("catalogue names map %s, served %s", b.SHA256, mapSHA)
	}
	v, err := e.store.Version(context.Background(), "com.example.maplater", "1.0.0")
	if err != nil || v.Artifacts[registry.WebMap].Key != strings.TrimSuffix(strings.TrimPrefix(pushed["web_map"].URL, "/bundles/"), ".map") {
		t.Fatalf("stored version: %v %+v", err, v)
	}

	// A restarted server serves the map by its key.
	e.srv.Close()
	srv, err := server.New(e.store, nil, server.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	resp, err := http.Get(hs.URL + pushed["web_map"].URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != `"`+mapSHA+`"` {
		t.Errorf("after a restart: %d %s", resp.StatusCode, resp.Header.Get("ETag"))
	}
}

// TestSourceMapWaitIsBounded: a request for a map whose build outlasts
// the wait is 503 source_map_pending with Retry-After, not a hang; one for
// a map neither stored nor being built is 404 bundle_not_found.
func TestSourceMapWaitIsBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{Timing: server.Timing{MapWait: 50 * time.Millisecond}})
	release := e.srv.HoldSourceMaps()
	defer release()
	r := e.push("dev", helloPlugin("com.example.mapslow", "1.0.0"))
	if r.status != http.StatusCreated {
		t.Fatalf("push: %d %s", r.status, r.body)
	}
	got := e.do("", "GET", pushedBundles(t, r)["web_map"].URL, "", nil)
	if got.status != http.StatusServiceUnavailable || got.errorCode(t) != "source_map_pending" ||
		got.header.Get("Retry-After") == "" || strings.Contains(got.header.Get("Cache-Control"), "immutable") {
		t.Errorf("map still being built after the wait: %d %v %s", got.status, got.header, got.body)
	}
	got = e.do("", "GET", "/bundles/"+strings.Repeat("ab", 32)+".map", "", nil)
	if got.status != http.StatusNotFound || got.errorCode(t) != "bundle_not_found" {
		t.Errorf("unknown map: %d %s", got.status, got.body)
	}
	release()
	e.waitIdle()
}

// TestSourceMapWithTheBundle: when source maps already wait, or the
// plugin's build context is warm (a re-push), the push builds the map with
// the bundle and answers with it.
func TestSourceMapWithTheBundle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	e.srv.BuildMapsWithBundles()
	r := e.push("dev", helloPlugin("com.example.mapnow", "1.0.0"))
	if r.status != http.StatusCreated {
		t.Fatalf("push: %d %s", r.status, r.body)
	}
	for k, b := range pushedBundles(t, r) {
		if b.Pending || b.SHA256 == "" {
			t.Errorf("%s: %+v, want built with the push", k, b)
		}
	}

	e = newEnv(t, server.Config{})
	first := e.push("dev", helloPlugin("com.example.mapwarm", "1.0.0"))
	if first.status != http.StatusCreated || !pushedBundles(t, first)["web_map"].Pending {
		t.Fatalf("first push: %d %s", first.status, first.body)
	}
	e.waitIdle() // the map's build leaves the plugin's context warm
	files := helloPlugin("com.example.mapwarm", "1.0.1")
	files["webapp/index.tsx"] += "console.log('edited');\n"
	second := e.push("dev", files)
	if second.status != http.StatusCreated {
		t.Fatalf("re-push: %d %s", second.status, second.body)
	}
	if b := pushedBundles(t, second)["web_map"]; b.Pending || b.SHA256 == "" {
		t.Errorf("re-push through a warm context: web_map %+v, want built with the push", b)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestStartNamesVersionsWithoutMaps: a version whose map a stop
// interrupted is named at the next start, so the developer knows why
// devtools find no map.
func TestStartNamesVersionsWithoutMaps(t *testing.T) {
	t.Parallel()
	store := registrytest.Open(t)
	registrytest.Push(t, store, registry.Pusher{UserID: "dev"}, "com.example.nomap", "1.0.0")                                            // web.js only
	registrytest.Push(t, store, registry.Pusher{UserID: "dev"}, "com.example.withmap", "1.0.0", []byte("code"), []byte(`{"version":3}`)) // and its map
	var log bytes.Buffer
	srv, err := server.New(store, nil, server.Config{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	out := log.String()
	if !strings.Contains(out, "versions without source maps") || !strings.Contains(out, "com.example.nomap@1.0.0") ||
		strings.Contains(out, "com.example.withmap") {
		t.Errorf("start-up log:\n%s", out)
	}
}
