package server_test

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

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
