package server_test

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// servedVersions is what user's web manifest for team serves, by plugin id.
func (e *env) servedVersions(user, team string) map[string]string {
	e.t.Helper()
	m, r := e.manifest(user, team)
	if r.status != 200 {
		e.t.Fatalf("manifest of %s for %s: %d %s", team, user, r.status, r.body)
	}
	out := map[string]string{}
	for _, p := range m.Plugins {
		out[p.ID] = p.Version
	}
	return out
}

// mattermostVersions is what GET /api/v4/plugins/webapp lists for user.
func (e *env) mattermostVersions(user, team string) map[string]string {
	e.t.Helper()
	r := e.do(user, "GET", "/api/v4/plugins/webapp?team="+url.QueryEscape(team), "", nil)
	if r.status != 200 {
		e.t.Fatalf("mattermost list for %s: %d %s", user, r.status, r.body)
	}
	var list []struct{ ID, Version string }
	if err := json.Unmarshal(r.body, &list); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range list {
		out[p.ID] = p.Version
	}
	return out
}

const (
	helloID = "com.example.hello"
	devV1   = "1.0.1-dev.1733300000000"
	devV2   = "1.0.1-dev.1733300000500"
)

// TestFollowersNeverServeAPrerelease: a prerelease (a push --watch build)
// pushed over a release does not go live to a team that follows the
// latest version: not in its manifest, not in Mattermost's plugin list,
// and no plugin_updated event; the next release does. A team whose admin
// pinned the prerelease serves it.
func TestFollowersNeverServeAPrerelease(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	if r := e.push("dev", helloPlugin(helloID, "1.0.0")); r.status != 201 {
		t.Fatal(string(r.body))
	}
	for _, team := range []string{"engineering", "sales"} {
		if r := e.setTeam("admin", team, helloID, `{"enabled":true}`); r.status != 200 {
			t.Fatal(string(r.body))
		}
	}
	bob, _ := e.dial("bob") // engineering

	if r := e.push("dev", helloPlugin(helloID, devV1)); r.status != 201 {
		t.Fatal(string(r.body))
	}
	if got := e.servedVersions("bob", "engineering")[helloID]; got != "1.0.0" {
		t.Errorf("bob's manifest serves %q after a prerelease, want 1.0.0", got)
	}
	if got := e.mattermostVersions("bob", "engineering")[helloID]; got != "1.0.0" {
		t.Errorf("Mattermost's list for bob has %q, want 1.0.0", got)
	}
	r := e.do("bob", "GET", "/api/v1/teams/engineering/plugins", "", nil)
	var tp struct {
		Plugins []struct {
			ID        string `json:"id"`
			Effective string `json:"effective_version"`
		} `json:"plugins"`
	}
	json.Unmarshal(r.body, &tp)
	for _, p := range tp.Plugins {
		if p.ID == helloID && p.Effective != "1.0.0" {
			t.Errorf("team plugins say engineering serves %q, want 1.0.0", p.Effective)
		}
	}

	// sales pins the prerelease: carol gets it, bob does not.
	if r := e.setTeam("admin", "sales", helloID, `{"enabled":true,"version":"`+devV1+`"}`); r.status != 200 {
		t.Fatal(string(r.body))
	}
	if got := e.servedVersions("carol", "sales")[helloID]; got != devV1 {
		t.Errorf("sales pinned %s and serves %q", devV1, got)
	}

	// The first event bob's page gets is the release, not the prerelease.
	if r := e.push("dev", helloPlugin(helloID, "1.1.0")); r.status != 201 {
		t.Fatal(string(r.body))
	}
	m := readWS(t, bob, 5*time.Second)
	var d struct {
		Plugin struct{ Version string } `json:"plugin"`
	}
	if m != nil {
		json.Unmarshal(m.Data, &d)
	}
	if m == nil || m.Event != "plugin_updated" || d.Plugin.Version != "1.1.0" {
		t.Fatalf("bob's first event after a prerelease and a release: %s; want plugin_updated to 1.1.0", eventOf(m))
	}
	if got := e.servedVersions("bob", "engineering")[helloID]; got != "1.1.0" {
		t.Errorf("bob's manifest serves %q, want the new release 1.1.0", got)
	}
}

// TestPluginWithOnlyPrereleasesIsServedToNoFollower: a plugin whose every
// version is a prerelease (a first push --watch) is enabled but served to
// nobody who follows the latest version.
func TestPluginWithOnlyPrereleasesIsServedToNoFollower(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	if r := e.push("dev", helloPlugin(helloID, devV1)); r.status != 201 {
		t.Fatal(string(r.body))
	}
	if r := e.setTeam("admin", "engineering", helloID, `{"enabled":true}`); r.status != 200 {
		t.Fatal(string(r.body))
	}
	if got, ok := e.servedVersions("bob", "engineering")[helloID]; ok {
		t.Errorf("bob's manifest serves %q of a plugin without a release", got)
	}
	if got, ok := e.mattermostVersions("bob", "engineering")[helloID]; ok {
		t.Errorf("Mattermost's list for bob has %q of a plugin without a release", got)
	}
}

// eventOf says what a websocket message is, for failure messages.
func eventOf(m *wsMsg) string {
	if m == nil {
		return "none"
	}
	return m.Event + " " + string(m.Data)
}

// preview takes (or renews) user's preview session of version.
func (e *env) preview(user, version string, ttlSeconds int) response {
	e.t.Helper()
	body := `{"version":"` + version + `"`
	if ttlSeconds != 0 {
		body += `,"ttl_seconds":` + strconv.Itoa(ttlSeconds)
	}
	return e.do(user, "PUT", "/api/v1/plugins/"+helloID+"/preview", "application/json", strings.NewReader(body+"}"))
}

// manifestEntry is user's web manifest entry for hello in engineering, at
// base, with its ETag.
func (e *env) helloEntry(base, user string, hdr ...string) (version string, preview bool, r response) {
	e.t.Helper()
	r = e.doAt(base, user, "GET", "/api/v1/manifest?team=engineering&platform=web", hdr...)
	if r.status != 200 {
		return "", false, r
	}
	var m struct {
		Plugins []struct {
			ID      string `json:"id"`
			Version string `json:"version"`
			Preview *bool  `json:"preview"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(r.body, &m); err != nil {
		e.t.Fatal(err)
	}
	for _, p := range m.Plugins {
		if p.ID == helloID {
			if p.Preview != nil && !*p.Preview {
				e.t.Errorf("preview: false is written out: %s", r.body)
			}
			return p.Version, p.Preview != nil, r
		}
	}
	return "", false, r
}

// pluginEvent reads c's next event and returns it with the version of
// hello it carries ("" for none).
func pluginEvent(t *testing.T, c *websocket.Conn) (event, version string, preview bool) {
	t.Helper()
	m := readWS(t, c, 5*time.Second)
	if m == nil {
		t.Fatal("no event within 5 s")
	}
	var d struct {
		Plugin *struct {
			ID      string `json:"id"`
			Version string `json:"version"`
			Preview bool   `json:"preview"`
		} `json:"plugin"`
	}
	json.Unmarshal(m.Data, &d)
	if d.Plugin == nil {
		return m.Event, "", false
	}
	return m.Event, d.Plugin.Version, d.Plugin.Preview
}

// previewEnv: hello 1.0.0 enabled (following) in engineering, then a
// prerelease devV1 pushed by dev.
func previewEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, server.Config{})
	for _, v := range []string{"1.0.0", devV1} {
		if r := e.push("dev", helloPlugin(helloID, v)); r.status != 201 {
			t.Fatal(string(r.body))
		}
	}
	if r := e.setTeam("alice", "engineering", helloID, `{"enabled":true}`); r.status != 200 {
		t.Fatal(string(r.body))
	}
	return e
}

// TestPreviewReachesOnlyItsDeveloper: while dev holds a preview session,
// dev's web and mobile manifests serve the prerelease marked preview and
// dev's page is told at once; bob, in the same team, keeps the release,
// also when he sends dev's ETag, on the fast lane as on net/http. Ending
// the session returns dev to the release, live.
func TestPreviewReachesOnlyItsDeveloper(t *testing.T) {
	t.Parallel()
	e := previewEnv(t)
	_, fast := startEdge(t, e)
	devWS, _ := e.dial("dev")
	bobWS, _ := e.dial("bob")

	// Before: both get the release, with the same bytes and ETag.
	_, _, devBefore := e.helloEntry(e.url, "dev")
	_, _, bobBefore := e.helloEntry(e.url, "bob")
	if devBefore.header.Get("Etag") != bobBefore.header.Get("Etag") {
		t.Fatal("dev and bob get different manifests before any preview")
	}

	r := e.preview("dev", devV1, 0)
	if r.status != 200 {
		t.Fatalf("take the preview: %d %s", r.status, r.body)
	}
	var pr struct {
		Version    string   `json:"version"`
		TTLSeconds int      `json:"ttl_seconds"`
		Teams      []string `json:"teams"`
	}
	json.Unmarshal(r.body, &pr)
	if pr.Version != devV1 || pr.TTLSeconds != 30 || len(pr.Teams) != 1 || pr.Teams[0] != e.teams["engineering"] {
		t.Errorf("preview answer: %s", r.body)
	}
	if ev, v, preview := pluginEvent(t, devWS); ev != "plugin_updated" || v != devV1 || !preview {
		t.Fatalf("dev's page got %s %s (preview %v), want plugin_updated %s as a preview", ev, v, preview, devV1)
	}

	var devETag string
	for _, base := range []string{e.url, fast} {
		v, preview, r := e.helloEntry(base, "dev")
		if v != devV1 || !preview {
			t.Errorf("%s: dev's manifest serves %q (preview %v), want %s as a preview", base, v, preview, devV1)
		}
		devETag = r.header.Get("Etag")
		if devETag == bobBefore.header.Get("Etag") {
			t.Errorf("%s: dev's preview manifest has the team's ETag", base)
		}
		if v, preview, _ := e.helloEntry(base, "bob"); v != "1.0.0" || preview {
			t.Errorf("%s: bob's manifest serves %q (preview %v), want the release", base, v, preview)
		}
		// bob sending dev's ETag is not told "not modified".
		if v, _, r := e.helloEntry(base, "bob", "If-None-Match", devETag); r.status != 200 || v != "1.0.0" {
			t.Errorf("%s: bob with dev's ETag: %d, serves %q", base, r.status, v)
		}
		// bob's own ETag still revalidates to a 304, dev's does not match it.
		if r := e.doAt(base, "bob", "GET", "/api/v1/manifest?team=engineering", "If-None-Match", bobBefore.header.Get("Etag")); r.status != 304 {
			t.Errorf("%s: bob's revalidation: %d", base, r.status)
		}
		if r := e.doAt(base, "dev", "GET", "/api/v1/manifest?team=engineering", "If-None-Match", bobBefore.header.Get("Etag")); r.status != 200 {
			t.Errorf("%s: dev with the team's ETag during a preview: %d, want 200", base, r.status)
		}
		if r := e.doAt(base, "dev", "GET", "/api/v1/manifest?team=engineering", "If-None-Match", devETag); r.status != 304 {
			t.Errorf("%s: dev's own revalidation: %d, want 304", base, r.status)
		}
	}

	mobileVersion := func(user string) (string, bool) {
		r := e.do(user, "GET", "/api/v1/mobile/manifest?team=engineering&platform=ios&runtime=1.0.0", "", nil)
		if r.status != 200 {
			t.Fatalf("mobile manifest for %s: %d %s", user, r.status, r.body)
		}
		var m struct {
			Plugins []struct {
				ID, Version string
				Preview     bool
			}
		}
		json.Unmarshal(r.body, &m)
		for _, p := range m.Plugins {
			if p.ID == helloID {
				return p.Version, p.Preview
			}
		}
		return "", false
	}
	if v, preview := mobileVersion("dev"); v != devV1 || !preview {
		t.Errorf("dev's mobile manifest serves %q (preview %v)", v, preview)
	}
	if v, preview := mobileVersion("bob"); v != "1.0.0" || preview {
		t.Errorf("bob's mobile manifest serves %q (preview %v)", v, preview)
	}

	// Renewing the same version is silent; ending it swaps dev back.
	if r := e.preview("dev", devV1, 0); r.status != 200 {
		t.Fatal(string(r.body))
	}
	if r := e.do("dev", "DELETE", "/api/v1/plugins/"+helloID+"/preview", "", nil); r.status != 204 {
		t.Fatalf("end the preview: %d %s", r.status, r.body)
	}
	if ev, v, preview := pluginEvent(t, devWS); ev != "plugin_updated" || v != "1.0.0" || preview {
		t.Fatalf("dev's page got %s %s (preview %v) at the end of the preview, want plugin_updated 1.0.0", ev, v, preview)
	}
	if v, preview, r := e.helloEntry(e.url, "dev"); v != "1.0.0" || preview || r.header.Get("Etag") != bobBefore.header.Get("Etag") {
		t.Errorf("dev's manifest after the preview: %q (preview %v), ETag %s; want the team's", v, preview, r.header.Get("Etag"))
	}
	if r := e.do("dev", "DELETE", "/api/v1/plugins/"+helloID+"/preview", "", nil); r.status != 204 {
		t.Errorf("ending it again: %d", r.status)
	}

	// bob's page saw none of it: its first event is the next release.
	if r := e.push("dev", helloPlugin(helloID, "1.1.0")); r.status != 201 {
		t.Fatal(string(r.body))
	}
	if ev, v, _ := pluginEvent(t, bobWS); ev != "plugin_updated" || v != "1.1.0" {
		t.Fatalf("bob's first event: %s %s, want plugin_updated 1.1.0", ev, v)
	}
}

// TestPreviewRules: only the developer who pushed a prerelease previews
// it, only a prerelease, within the TTL bounds.
func TestPreviewRules(t *testing.T) {
	t.Parallel()
	e := previewEnv(t)
	for _, tc := range []struct {
		user, version string
		ttl           int
		status        int
		code          string
	}{
		{"bob", devV1, 0, 403, "not_preview_owner"},
		{"dev", "1.0.0", 0, 400, "preview_not_prerelease"},
		{"dev", "9.9.9-dev.1", 0, 404, "version_not_found"},
		{"dev", devV1, 100000, 400, "bad_preview_ttl"},
		{"dev", devV1, -1, 400, "bad_preview_ttl"},
	} {
		r := e.preview(tc.user, tc.version, tc.ttl)
		if r.status != tc.status || r.errorCode(t) != tc.code {
			t.Errorf("%s previews %s (ttl %d): %d %s, want %d %s", tc.user, tc.version, tc.ttl, r.status, r.body, tc.status, tc.code)
		}
	}
	if r := e.do("dev", "PUT", "/api/v1/plugins/"+helloID+"/preview", "application/json", strings.NewReader(`{}`)); r.status != 400 || r.errorCode(t) != "bad_request" {
		t.Errorf("no version: %d %s", r.status, r.body)
	}
}

// TestPreviewLeaseExpires: a session nobody renews (the watch process
// died) ends on its own, and the developer's page is swapped back.
func TestPreviewLeaseExpires(t *testing.T) {
	t.Parallel()
	e := previewEnv(t)
	devWS, _ := e.dial("dev")
	if r := e.preview("dev", devV1, 1); r.status != 200 {
		t.Fatal(string(r.body))
	}
	if ev, v, _ := pluginEvent(t, devWS); ev != "plugin_updated" || v != devV1 {
		t.Fatalf("dev's page got %s %s, want the preview", ev, v)
	}
	if ev, v, preview := pluginEvent(t, devWS); ev != "plugin_updated" || v != "1.0.0" || preview {
		t.Fatalf("dev's page got %s %s (preview %v) when the lease ran out, want plugin_updated 1.0.0", ev, v, preview)
	}
	if v, preview, _ := e.helloEntry(e.url, "dev"); v != "1.0.0" || preview {
		t.Errorf("dev's manifest after the lease expired: %q (preview %v)", v, preview)
	}
}

// TestPreviewKeepsThroughTeamEvents: a team event while dev previews (a
// new release reaches the followers) gives dev's page dev's own entry, the
// preview, and everyone else the release. A plugin with no release at all
// is previewed too, and leaves dev's page when the preview ends.
func TestPreviewKeepsThroughTeamEvents(t *testing.T) {
	t.Parallel()
	e := previewEnv(t)
	devWS, _ := e.dial("dev")
	bobWS, _ := e.dial("bob")
	if r := e.preview("dev", devV1, 0); r.status != 200 {
		t.Fatal(string(r.body))
	}
	pluginEvent(t, devWS) // the preview
	if r := e.push("dev", helloPlugin(helloID, "1.1.0")); r.status != 201 {
		t.Fatal(string(r.body))
	}
	if ev, v, preview := pluginEvent(t, devWS); ev != "plugin_updated" || v != devV1 || !preview {
		t.Errorf("dev's page got %s %s (preview %v) for a release pushed meanwhile, want its preview kept", ev, v, preview)
	}
	if ev, v, _ := pluginEvent(t, bobWS); ev != "plugin_updated" || v != "1.1.0" {
		t.Errorf("bob's page got %s %s, want plugin_updated 1.1.0", ev, v)
	}

	const newID = "com.example.fresh"
	if r := e.push("dev", helloPlugin(newID, devV2)); r.status != 201 {
		t.Fatal(string(r.body))
	}
	if r := e.setTeam("alice", "engineering", newID, `{"enabled":true}`); r.status != 200 {
		t.Fatal(string(r.body))
	}
	r := e.do("dev", "PUT", "/api/v1/plugins/"+newID+"/preview", "application/json", strings.NewReader(`{"version":"`+devV2+`"}`))
	if r.status != 200 {
		t.Fatal(string(r.body))
	}
	if ev, _, _ := pluginEvent(t, devWS); ev != "plugin_updated" {
		t.Fatalf("dev's page got %s for the preview of a plugin without a release", ev)
	}
	served := e.servedVersions("dev", "engineering")
	if served[newID] != devV2 {
		t.Errorf("dev's manifest: %v, want %s at %s", served, newID, devV2)
	}
	if _, ok := e.servedVersions("bob", "engineering")[newID]; ok {
		t.Error("bob's manifest has a plugin without a release")
	}
	// The developer's own requests follow the preview (teamVersion): the
	// plugin's KV store answers dev, not bob.
	if r := e.do("dev", "GET", "/api/v1/plugins/"+newID+"/kv/team:engineering/k", "", nil); r.status == 404 && r.errorCode(t) == "plugin_not_enabled" {
		t.Errorf("dev's preview has no KV store: %s", r.body)
	}
	if r := e.do("bob", "GET", "/api/v1/plugins/"+newID+"/kv/team:engineering/k", "", nil); r.status != 404 || r.errorCode(t) != "plugin_not_enabled" {
		t.Errorf("bob reaches the KV store of a plugin his team does not serve: %d %s", r.status, r.body)
	}
	if r := e.do("dev", "DELETE", "/api/v1/plugins/"+newID+"/preview", "", nil); r.status != 204 {
		t.Fatal(r.status)
	}
	if m := readWS(t, devWS, 5*time.Second); m == nil || m.Event != "plugin_disabled" {
		t.Fatalf("dev's page got %s when the preview of a plugin without a release ended, want plugin_disabled", eventOf(m))
	}
}

// TestNoOpSaveStoresNothing: a prerelease whose bundles and plugin.json
// (but for the version) equal its developer's last build is answered 200
// unchanged with that build, and nothing is stored: the same files, or an
// edit of a file no bundle is built from (the README). A code change is a
// new build, and so is a release however equal.
func TestNoOpSaveStoresNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	if r := e.push("dev", helloPlugin(helloID, devV1)); r.status != 201 {
		t.Fatal(string(r.body))
	}
	readme := helloPlugin(helloID, devV2)
	readme["README.md"] = "# Hello\n\nNo bundle is built from this.\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{{"same files", helloPlugin(helloID, devV2)}, {"a README edit", readme}} {
		r := e.push("dev", tc.files)
		m := r.json(t)
		if r.status != 200 || m["created"] != false || m["version"] != devV1 {
			t.Errorf("%s: %d %s, want 200 unchanged with %s", tc.name, r.status, r.body, devV1)
		}
	}
	p, err := e.store.Plugin(t.Context(), helloID)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Versions) != 1 {
		t.Fatalf("versions stored: %v, want only %s", p.Versions, devV1)
	}
	changed := helloPlugin(helloID, devV2)
	changed["webapp/index.tsx"] = strings.Replace(changed["webapp/index.tsx"], "'Hello', 'Hello'", "'Hello', 'Hi'", 1)
	if r := e.push("dev", changed); r.status != 201 {
		t.Errorf("a code change: %d %s, want 201", r.status, r.body)
	}
	// A release is never folded into a preview, however equal.
	if r := e.push("dev", helloPlugin(helloID, "1.0.1")); r.status != 201 {
		t.Errorf("release: %d %s", r.status, r.body)
	}
}

// TestPrereleasesArePruned: after each prerelease push, its developer's
// prereleases but the newest Config.KeepPrereleases are removed, except a
// version a team pinned and the one a preview shows; the removed build's
// bundle URL answers 404 and the store still verifies.
func TestPrereleasesArePruned(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{KeepPrereleases: 2})
	build := func(v, label string) map[string]string {
		files := helloPlugin(helloID, v)
		files["webapp/index.tsx"] = strings.Replace(files["webapp/index.tsx"], "'Hello', 'Hello'", "'Hello', '"+label+"'", 1)
		return files
	}
	if r := e.push("dev", helloPlugin(helloID, "1.0.0")); r.status != 201 {
		t.Fatal(string(r.body))
	}
	dev := func(i int) string { return "1.0.1-dev." + strconv.Itoa(1733300000000+i) }
	bundles := map[string]string{}
	push := func(i int) {
		t.Helper()
		r := e.push("dev", build(dev(i), "build "+strconv.Itoa(i)))
		if r.status != 201 {
			t.Fatal(string(r.body))
		}
		bundles[dev(i)] = r.json(t)["bundles"].(map[string]any)["web"].(map[string]any)["url"].(string)
		e.waitIdle()
	}
	push(1)
	if r := e.setTeam("admin", "sales", helloID, `{"enabled":true,"version":"`+dev(1)+`"}`); r.status != 200 {
		t.Fatal(string(r.body))
	}
	push(2)
	if r := e.preview("dev", dev(2), 0); r.status != 200 {
		t.Fatal(string(r.body))
	}
	for i := 3; i <= 5; i++ {
		push(i)
	}
	p, err := e.store.Plugin(t.Context(), helloID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"1.0.0", dev(1), dev(2), dev(4), dev(5)}; strings.Join(p.Versions, " ") != strings.Join(want, " ") {
		t.Fatalf("versions %v, want %v (dev.1 pinned by sales, dev.2 previewed, the newest 2)", p.Versions, want)
	}
	if r := e.do("", "GET", bundles[dev(3)], "", nil); r.status != 404 {
		t.Errorf("the pruned build's bundle: %d, want 404", r.status)
	}
	for _, v := range []string{dev(1), dev(2), dev(5)} {
		if r := e.do("", "GET", bundles[v], "", nil); r.status != 200 {
			t.Errorf("kept build %s's bundle: %d", v, r.status)
		}
	}
	audit, err := e.store.Audit(t.Context(), registry.AuditFilter{PluginID: helloID, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if a := audit[0]; a.Action != registry.ActionPrune || strings.Join(a.Versions, " ") != dev(3) {
		t.Errorf("last audit entry %+v, want the prune of %s", a, dev(3))
	}
	if err := e.store.Verify(t.Context()); err != nil {
		t.Error(err)
	}
}

// TestPreviewNotInPinnedTeams: a team whose admin pinned a version serves
// it to everyone, its developer included: pinning during a preview swaps
// the developer's page to the pin, following again brings the preview
// back, live both times.
func TestPreviewNotInPinnedTeams(t *testing.T) {
	t.Parallel()
	e := previewEnv(t)
	devWS, _ := e.dial("dev")
	if r := e.preview("dev", devV1, 0); r.status != 200 {
		t.Fatal(string(r.body))
	}
	pluginEvent(t, devWS) // the preview
	if r := e.setTeam("alice", "engineering", helloID, `{"enabled":true,"version":"1.0.0"}`); r.status != 200 {
		t.Fatal(string(r.body))
	}
	if ev, v, preview := pluginEvent(t, devWS); ev != "plugin_updated" || v != "1.0.0" || preview {
		t.Fatalf("dev's page got %s %s (preview %v) when the team pinned 1.0.0, want plugin_updated 1.0.0", ev, v, preview)
	}
	if v, preview, _ := e.helloEntry(e.url, "dev"); v != "1.0.0" || preview {
		t.Errorf("dev's manifest in a team pinned to 1.0.0: %q (preview %v)", v, preview)
	}
	if r := e.preview("dev", devV1, 0); r.status != 200 || strings.Contains(string(r.body), e.teams["engineering"]) {
		t.Errorf("renewal names a pinned team as showing the preview: %s", r.body)
	}
	if r := e.setTeam("alice", "engineering", helloID, `{"enabled":true,"version":"latest"}`); r.status != 200 {
		t.Fatal(string(r.body))
	}
	if ev, v, preview := pluginEvent(t, devWS); ev != "plugin_updated" || v != devV1 || !preview {
		t.Fatalf("dev's page got %s %s (preview %v) when the team followed again, want the preview", ev, v, preview)
	}
}

// TestConsoleDescribesTheRelease: the console's team page offers "Follow
// latest" at the newest release, not at a prerelease pushed over it, and
// the directory describes the plugin by that release.
func TestConsoleDescribesTheRelease(t *testing.T) {
	t.Parallel()
	e := previewEnv(t)
	page := e.page("alice", "GET", "/admin/teams/engineering", nil)
	if page.status != 200 {
		t.Fatalf("team page: %d", page.status)
	}
	if body := string(page.body); !strings.Contains(body, "Follow latest (1.0.0)") || strings.Contains(body, "Follow latest ("+devV1) {
		t.Errorf("team page does not offer to follow 1.0.0:\n%s", body)
	}
	if body := string(e.page("bob", "GET", "/directory/"+helloID, nil).body); !strings.Contains(body, "version 1.0.0") {
		t.Errorf("the directory does not describe the release:\n%s", body)
	}
}
