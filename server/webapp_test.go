package server_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// The page of a team's URL carries what the caller's GET /api/v1/manifest
// answers for that team (embedded, and its bundles as deferred scripts with
// their SRI hashes), and nothing for a visitor without a session or a team
// the caller is not a member of.
func TestShellTeamPlugins(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	prebuilt := func(id, body string) map[string]string {
		return map[string]string{
			"plugin.json":         `{"id":"` + id + `","name":"` + id + `","version":"1.0.0","webapp":{"bundle_path":"webapp/dist/main.js"}}`,
			"webapp/dist/main.js": body,
		}
	}
	urls := map[string]string{}
	for id, body := range map[string]string{
		// What webpack 5 emits for the external react-intl without
		// output.library, as every real plugin does: a bare identifier.
		"com.example.intl":  `(()=>{var e={1:e=>{"use strict";e.exports=ReactIntl}},t={};function r(n){var o=t[n];if(void 0!==o)return o.exports;var i=t[n]={exports:{}};return e[n](i,i.exports,r),i.exports}const i=r(1);window.registerPlugin("com.example.intl",{initialize(){i.useIntl}})})();`,
		"com.example.sales": `(()=>{window.registerPlugin("com.example.sales",{initialize(){}})})();`,
	} {
		r := e.push("dev", prebuilt(id, body))
		if r.status != http.StatusCreated {
			t.Fatalf("push %s: %d %s", id, r.status, r.body)
		}
		urls[id] = r.json(t)["bundles"].(map[string]any)["web"].(map[string]any)["url"].(string)
	}
	for _, en := range []struct{ user, team, id string }{{"alice", "engineering", "com.example.intl"}, {"admin", "sales", "com.example.sales"}} {
		if r := e.do(en.user, "PUT", "/api/v1/teams/"+en.team+"/plugins/"+en.id, "application/json", strings.NewReader(`{"enabled":true}`)); r.status != http.StatusOK {
			t.Fatalf("enable %s in %s: %d %s", en.id, en.team, r.status, r.body)
		}
	}
	page := func(user, path string) string {
		t.Helper()
		var hdr []string
		if user != "" {
			hdr = []string{"Cookie", "MMAUTHTOKEN=" + e.tokens[user]}
		}
		r := e.do("", "GET", path, "", nil, hdr...)
		if r.status == http.StatusServiceUnavailable && strings.Contains(string(r.body), "not built") {
			t.Skip("front end not built into this binary (make webapp builds it)")
		}
		if r.status != http.StatusOK {
			t.Fatalf("%s as %q: %d %s", path, user, r.status, r.body)
		}
		return string(r.body)
	}

	body := page("bob", "/engineering/channels/town-square")
	manifest := e.do("bob", "GET", "/api/v1/manifest?team=engineering&platform=web", "", nil)
	var m struct {
		Plugins []struct {
			ID     string
			Bundle struct{ URL, Integrity string }
		}
	}
	if err := json.Unmarshal(manifest.body, &m); err != nil || len(m.Plugins) != 1 || m.Plugins[0].Bundle.Integrity == "" {
		t.Fatalf("manifest: %v %s", err, manifest.body)
	}
	b := m.Plugins[0].Bundle
	if !regexp.MustCompile(`<script src="` + regexp.QuoteMeta(b.URL) + `" integrity="` + regexp.QuoteMeta(b.Integrity) + `" crossorigin="anonymous" nonce="[^"]+" defer data-plugin-id="com.example.intl">`).MatchString(body) {
		t.Errorf("lacks the bundle's deferred script:\n%s", body)
	}
	if !regexp.MustCompile(`<script src="/static/react-intl\.[^"]+\.js" nonce="[^"]+" defer data-host-module="react-intl">`).MatchString(body) {
		t.Errorf("react-intl, which the bundle reads, is not in the page:\n%s", body)
	}
	// The embedded manifest is the API's answer.
	sub := regexp.MustCompile(`(?s)<script id="mmtoolkit-team" type="application/json">(.*?)</script>`).FindStringSubmatch(body)
	if sub == nil {
		t.Fatalf("no embedded manifest:\n%s", body)
	}
	var embedded struct {
		Team     string
		Manifest json.RawMessage
	}
	if err := json.Unmarshal([]byte(sub[1]), &embedded); err != nil {
		t.Fatal(err)
	}
	var a, c any
	json.Unmarshal(embedded.Manifest, &a)
	json.Unmarshal(manifest.body, &c)
	if embedded.Team != "engineering" || !jsonEqual(a, c) {
		t.Errorf("embedded %s %s, API %s", embedded.Team, embedded.Manifest, manifest.body)
	}
	if strings.Contains(body, urls["com.example.sales"]) {
		t.Error("another team's plugin in the page")
	}

	// carol is not in engineering; bob is not in sales; a visitor has no session.
	for _, c := range []struct{ user, path string }{
		{"carol", "/engineering/channels/town-square"},
		{"bob", "/sales/channels/town-square"},
		{"", "/engineering/channels/town-square"},
	} {
		b := page(c.user, c.path)
		if strings.Contains(b, "/bundles/") || strings.Contains(b, "mmtoolkit-team") {
			t.Errorf("%s as %q: team plugins in the page:\n%s", c.path, c.user, b)
		}
	}
	// carol's own team works the same way.
	if b := page("carol", "/sales/channels/town-square"); !strings.Contains(b, urls["com.example.sales"]) || strings.Contains(b, urls["com.example.intl"]) {
		t.Errorf("sales page for carol:\n%s", b)
	} else if strings.Contains(b, "data-host-module") {
		t.Errorf("sales page loads a host module no bundle of it reads:\n%s", b)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
