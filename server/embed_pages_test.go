package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// frameConfig reads the frame page's #mmtoolkit-config element.
func frameConfig(t *testing.T, body []byte) map[string]any {
	t.Helper()
	m := regexp.MustCompile(`<script type="application/json" id="mmtoolkit-config">(.*?)</script>`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no config in the frame page:\n%s", body)
	}
	var c struct {
		Embed map[string]any `json:"embed"`
	}
	if err := json.Unmarshal(m[1], &c); err != nil {
		t.Fatal(err)
	}
	return c.Embed
}

// TestEmbedPages: the frame may be framed by the app's origins only (and an
// unknown app's by no one), takes only well-formed attributes, and the
// popup and the script are served as the guide says.
func TestEmbedPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	id, _ := e.embedApp(`{"name":"Site <b>","origins":["https://a.example"],"channels":["` + devTalk + `"]}`)

	r := e.do("", "GET", "/embed/v1/frame?app=aaaaaaaaaaaaaaaaaaaaaaaaaa", "", nil)
	if r.status != http.StatusNotFound || !strings.Contains(string(r.body), "embed_app_not_found") ||
		!slices.Contains(r.header.Values("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("unknown app: %d %v %s", r.status, r.header, r.body)
	}

	q := url.Values{"app": {id}, "channel": {devTalk}, "theme": {"dark"}, "accent": {"#0b8a6a"}, "height": {"auto"},
		"signin": {"popup"}, "channels": {"nope," + devTalk}}
	r = e.do("", "GET", "/embed/v1/frame?"+q.Encode(), "", nil)
	csps := r.header.Values("Content-Security-Policy")
	if r.status != http.StatusOK || len(csps) != 2 || csps[0] != "frame-ancestors https://a.example" ||
		!strings.Contains(csps[1], "script-src 'self' 'nonce-") || strings.Contains(csps[1], "frame-ancestors") {
		t.Fatalf("frame: %d, CSP %q", r.status, csps)
	}
	if r.header.Get("X-Frame-Options") != "" || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("frame headers %v", r.header)
	}
	c := frameConfig(t, r.body)
	want := map[string]any{"app": id, "appName": "Site <b>", "origins": []any{"https://a.example"}, "channel": devTalk, "channels": []any{devTalk},
		"theme": "dark", "accent": "#0b8a6a", "signin": "popup", "height": "auto"}
	for k, v := range want {
		if got, _ := json.Marshal(c[k]); string(got) != mustJSON(v) {
			t.Errorf("config %s = %s, want %s", k, got, mustJSON(v))
		}
	}

	// Anything else is dropped, never echoed.
	q = url.Values{"app": {id}, "channel": {"../x"}, "theme": {"evil"}, "accent": {"red;background:url(x)"}, "height": {"9999"}, "signin": {"x"}}
	c = frameConfig(t, e.do("", "GET", "/embed/v1/frame?"+q.Encode(), "", nil).body)
	if c["channel"] != "" || c["theme"] != "light" || c["accent"] != "" || c["height"] != "" || c["signin"] != "" {
		t.Errorf("bad attributes kept: %v", c)
	}

	r = e.do("", "GET", "/embed/v1/signin?app="+id, "", nil)
	if r.status != http.StatusOK || r.header.Get("X-Frame-Options") != "DENY" || !strings.Contains(r.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		!strings.Contains(string(r.body), "Site &lt;b&gt;") {
		t.Fatalf("popup: %d %v", r.status, r.header)
	}
	if r := e.do("", "GET", "/embed/v1/signin?app=aaaaaaaaaaaaaaaaaaaaaaaaaa", "", nil); r.status != http.StatusNotFound {
		t.Errorf("unknown app's popup: %d", r.status)
	}

	r = e.do("", "GET", "/embed/v1/embed.js", "", nil)
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/javascript") || r.header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(string(r.body), "mattermost-channel") {
		t.Fatalf("embed.js: %d %v", r.status, r.header)
	}
	if r := e.do("", "GET", "/embed/v1/embed.d.ts", "", nil); r.status != http.StatusOK || !strings.Contains(string(r.body), "MattermostChannelElement") {
		t.Errorf("embed.d.ts: %d", r.status)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
