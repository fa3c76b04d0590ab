package webapp

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func built() fstest.MapFS {
	return fstest.MapFS{
		"manifest.json":            {Data: []byte(`{"main":{"js":"/static/main.ABC.js","css":"/static/main.DEF.css","chunks":["/static/chunk.C1.js"]},"boot":"boot.js","modules":{"react-intl":"/static/react-intl.XYZ.js"},"styles":{"react-intl":"/static/react-intl.S.css","icons":"/static/icons.I.css"}}`)},
		"boot.js":                  {Data: []byte(`window.mmtoolkitEarly={};`)},
		"static/main.ABC.js":       {Data: []byte("console.log('host')")},
		"static/main.ABC.js.gz":    {Data: []byte("gz-bytes")},
		"static/main.ABC.js.br":    {Data: []byte("br")},
		"static/main.DEF.css":      {Data: []byte("body{}")},
		"static/main.ABC.js.map":   {Data: []byte("{}")},
		"static/react-intl.XYZ.js": {Data: []byte("window.ReactIntl={}")},
	}
}

func TestShellNotBuilt(t *testing.T) {
	h := New(Config{Assets: fstest.MapFS{".gitkeep": {}}})
	rec := httptest.NewRecorder()
	h.Shell().ServeHTTP(rec, httptest.NewRequest("GET", "/engineering/channels/town-square", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "host assets not built: run make webapp") {
		t.Fatalf("got %d %q", rec.Code, rec.Body.String())
	}
}

func TestShell(t *testing.T) {
	h := New(Config{Assets: built()})
	if h.Err() != nil {
		t.Fatal(h.Err())
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "http://chat.example.com/engineering/channels/town-square", nil)
	h.Shell().ServeHTTP(rec, req)
	body := rec.Body.String()
	csp := rec.Header().Get("Content-Security-Policy")
	m := regexp.MustCompile(`script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'`).FindStringSubmatch(csp)
	if rec.Code != 200 || m == nil {
		t.Fatalf("status %d, CSP %q", rec.Code, csp)
	}
	nonce := m[1]
	for _, want := range []string{
		`<script type="module" src="/static/main.ABC.js" nonce="` + nonce + `">`,
		`<link rel="modulepreload" href="/static/chunk.C1.js">`,
		`<link rel="stylesheet" href="/static/main.DEF.css">`,
		`"siteURL":"http://chat.example.com"`,
		`"react-intl":"/static/react-intl.XYZ.js"`,
		`type="application/json"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("shell lacks %s:\n%s", want, body)
		}
	}
	// Every executable script carries the nonce; the config is data.
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
		if !strings.Contains(tag, "application/json") && !strings.Contains(tag, nonce) {
			t.Errorf("script without nonce: %s", tag)
		}
	}
	for _, d := range []string{"object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP lacks %s: %s", d, csp)
		}
	}
	if strings.Contains(csp, "unsafe-eval") || strings.Contains(strings.Split(csp, "style-src")[0], "unsafe-inline") {
		t.Errorf("CSP allows inline or eval script: %s", csp)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("shell Cache-Control %q", rec.Header().Get("Cache-Control"))
	}
	// A second response has another nonce.
	rec2 := httptest.NewRecorder()
	h.Shell().ServeHTTP(rec2, req)
	if strings.Contains(rec2.Header().Get("Content-Security-Policy"), nonce) {
		t.Error("nonce reused across responses")
	}
}

func TestShellPreloadsFirstRequests(t *testing.T) {
	h := New(Config{Assets: built()})
	cases := []struct {
		path   string
		cookie bool
		want   []string
		not    []string
	}{
		{"/engineering/channels/town-square", true, []string{
			`href="/api/v4/users/me"`, `href="/api/v1/manifest?team=engineering&amp;platform=web"`,
			`href="/api/v4/teams/name/engineering/channels/name/town-square?include_deleted=false"`,
		}, nil},
		{"/engineering/channels/town-square", false, nil, []string{`rel="preload"`}},
		{"/login", true, []string{`href="/api/v4/users/me"`}, []string{"manifest"}},
		{"/Eng%22ineering/channels/x", true, nil, []string{"manifest", "Eng"}},
	}
	// (A shell that can embed the team's manifest does not preload it:
	// TestShellTeam.)
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			req := httptest.NewRequest("GET", tc.path, nil)
			if tc.cookie {
				req.AddCookie(&http.Cookie{Name: "MMAUTHTOKEN", Value: "t"})
			}
			rec := httptest.NewRecorder()
			h.Shell().ServeHTTP(rec, req)
			body := rec.Body.String()
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("lacks %s", w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(body, n) {
					t.Errorf("has %s", n)
				}
			}
		})
	}
}

func TestStatic(t *testing.T) {
	h := New(Config{Assets: built()})
	cases := []struct {
		path, accept   string
		status         int
		encoding, body string
	}{
		{"/static/main.ABC.js", "gzip, br", 200, "br", "br"},
		{"/static/main.ABC.js", "gzip", 200, "gzip", "gz-bytes"},
		{"/static/main.ABC.js", "br;q=0, gzip", 200, "gzip", "gz-bytes"},
		{"/static/main.ABC.js", "", 200, "", "console.log('host')"},
		{"/static/main.DEF.css", "br", 200, "", "body{}"},
		{"/static/main.ABC.js.gz", "", 404, "", ""},
		{"/static/nope.js", "", 404, "", ""},
		{"/static/../manifest.json", "", 404, "", ""},
		{"/static/", "", 404, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.path+"|"+tc.accept, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.URL.Path = tc.path
			req.Header.Set("Accept-Encoding", tc.accept)
			rec := httptest.NewRecorder()
			h.Static().ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if tc.status != 200 {
				return
			}
			if got := rec.Header().Get("Content-Encoding"); got != tc.encoding {
				t.Errorf("encoding %q, want %q", got, tc.encoding)
			}
			if rec.Body.String() != tc.body {
				t.Errorf("body %q", rec.Body.String())
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
				t.Errorf("Cache-Control %q", cc)
			}
		})
	}
}

func TestEmbeddedBuildIsConsistent(t *testing.T) {
	h := New(Config{})
	if h.Err() != nil {
		t.Skip("front end not built into this binary (make webapp builds it)")
	}
	for _, u := range append(append([]string{h.man.Main.JS, h.man.Main.CSS}, h.man.Main.Chunks...), values(h.man.Modules)...) {
		rec := httptest.NewRecorder()
		h.Static().ServeHTTP(rec, httptest.NewRequest("GET", u, nil))
		if rec.Code != 200 {
			t.Errorf("%s: %d", u, rec.Code)
		}
	}
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// The team the URL names: Config.Team's answer becomes deferred scripts of
// the host modules the bundles need and of the bundles (with their SRI
// hashes), after the host's own script, and the embedded manifest.
func TestShellTeam(t *testing.T) {
	manifest := `{"team":"tid","platform":"web","plugins":[{"id":"p1","bundle":{"url":"/bundles/aaa.js","integrity":"sha256-AAA="},"host_modules":["react","react-intl"]},` +
		`{"id":"p2","name":"</script><script>alert(1)</script>","bundle":{"url":"/bundles/bbb.js","integrity":"sha256-BBB="},"host_modules":["react-intl"]}]}`
	var asked []string
	h := New(Config{Assets: built(), Team: func(r *http.Request, team string) *TeamBoot {
		asked = append(asked, team)
		c, _ := r.Cookie("MMAUTHTOKEN")
		switch {
		case team == "engineering" && c.Value == "member":
			return &TeamBoot{
				Manifest:    []byte(manifest),
				Bundles:     []Script{{"p1", "/bundles/aaa.js", "sha256-AAA="}, {"p2", "/bundles/bbb.js", "sha256-BBB="}},
				HostModules: []string{"react", "react-intl", "icons", "react-intl"},
			}
		case team == "broken":
			return &TeamBoot{Manifest: []byte(`{"plugins":[`), Bundles: []Script{{"p3", "/bundles/ccc.js", "sha256-CCC="}}}
		}
		return nil
	}})
	get := func(path, cookie string) string {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "MMAUTHTOKEN", Value: cookie})
		}
		rec := httptest.NewRecorder()
		h.Shell().ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.HasSuffix(rec.Body.String(), "</body>\n</html>\n") {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		return rec.Body.String()
	}

	body := get("/engineering/channels/town-square", "member")
	nonce := regexp.MustCompile(`<script type="module" src="/static/main.ABC.js" nonce="([^"]+)">`).FindStringSubmatch(body)
	if nonce == nil {
		t.Fatalf("no host script:\n%s", body)
	}
	order := []string{
		`<script type="module" src="/static/main.ABC.js" nonce="` + nonce[1] + `">`,
		// The modules' stylesheets, once each (icons is a stylesheet only),
		// preloaded: the host inserts them before its own.
		`<link rel="preload" as="style" href="/static/react-intl.S.css">`,
		`<link rel="preload" as="style" href="/static/icons.I.css">`,
		// Only the lazy module (react is in main.js), once; the host adds
		// its own elements without crossorigin, and so does the shell.
		`<script src="/static/react-intl.XYZ.js" nonce="` + nonce[1] + `" defer data-host-module="react-intl">`,
		`<script src="/bundles/aaa.js" integrity="sha256-AAA=" crossorigin="anonymous" nonce="` + nonce[1] + `" defer data-plugin-id="p1">`,
		`<script src="/bundles/bbb.js" integrity="sha256-BBB=" crossorigin="anonymous" nonce="` + nonce[1] + `" defer data-plugin-id="p2">`,
		`<script id="mmtoolkit-team" type="application/json">{"team":"engineering","manifest":{"team":"tid",`,
	}
	// In this order: deferred scripts run in document order.
	at := 0
	for _, want := range order {
		i := strings.Index(body[at:], want)
		if i < 0 {
			t.Fatalf("lacks (after the previous) %s:\n%s", want, body)
		}
		at += i + len(want)
	}
	if n := strings.Count(body, `href="/static/react-intl.S.css"`); n != 1 {
		t.Errorf("react-intl's stylesheet in %d elements", n)
	}
	if strings.Contains(body, "data-host-module=\"icons\"") {
		t.Error("a script element for the style-only module icons")
	}
	if n := strings.Count(body, "react-intl.XYZ.js\" nonce"); n != 1 {
		t.Errorf("react-intl in %d script elements", n)
	}
	if strings.Contains(body, "manifest?team=") {
		t.Error("manifest both embedded and preloaded")
	}
	// A plugin's strings cannot end the element.
	if strings.Contains(body, "</script><script>alert") {
		t.Errorf("manifest not escaped:\n%s", body)
	}

	// Nothing when the answer is nil (no session, not a member, another
	// team), when the manifest is not JSON, and Config.Team is not asked
	// without a session cookie or a team in the URL.
	for _, c := range []struct{ path, cookie string }{
		{"/engineering/channels/town-square", "outsider"},
		{"/sales/channels/town-square", "member"},
		{"/broken/channels/town-square", "member"},
		{"/engineering/channels/town-square", ""},
		{"/login", "member"},
		{"/plug/p1", "member"},
	} {
		b := get(c.path, c.cookie)
		if strings.Contains(b, "/bundles/") || strings.Contains(b, "mmtoolkit-team") || strings.Contains(b, "react-intl.XYZ.js\" nonce") {
			t.Errorf("%s as %q: team data in the page:\n%s", c.path, c.cookie, b)
		}
	}
	if want := "engineering engineering sales broken"; strings.Join(asked, " ") != want {
		t.Errorf("Config.Team asked for %q, want %q", asked, want)
	}
	// HEAD sends the headers only, without asking.
	asked = nil
	req := httptest.NewRequest("HEAD", "/engineering/channels/town-square", nil)
	req.AddCookie(&http.Cookie{Name: "MMAUTHTOKEN", Value: "member"})
	rec := httptest.NewRecorder()
	h.Shell().ServeHTTP(rec, req)
	if rec.Body.Len() != 0 || len(asked) != 0 {
		t.Errorf("HEAD: %d bytes, asked %v", rec.Body.Len(), asked)
	}
}

// The boot script is inlined with the response's nonce, and only where
// there is something for it to take (a session's preloads).
func TestShellBootScript(t *testing.T) {
	h := New(Config{Assets: built()})
	for _, tc := range []struct {
		path   string
		cookie bool
		boot   bool
	}{
		{"/engineering/channels/town-square", true, true},
		{"/login", true, true},
		{"/engineering/channels/town-square", false, false},
		{"/login", false, false},
	} {
		req := httptest.NewRequest("GET", tc.path, nil)
		if tc.cookie {
			req.AddCookie(&http.Cookie{Name: "MMAUTHTOKEN", Value: "t"})
		}
		rec := httptest.NewRecorder()
		h.Shell().ServeHTTP(rec, req)
		nonce := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(rec.Header().Get("Content-Security-Policy"))[1]
		want := `<script nonce="` + nonce + `">window.mmtoolkitEarly={};</script>`
		body := rec.Body.String()
		if got := strings.Contains(body, want); got != tc.boot {
			t.Errorf("%s cookie=%v: boot script %v, want %v:\n%s", tc.path, tc.cookie, got, tc.boot, body)
		}
		// After the preloads it takes.
		if tc.boot && strings.Index(body, want) < strings.LastIndex(body, `rel="preload" as="fetch"`) {
			t.Errorf("boot script before the preloads:\n%s", body)
		}
	}
	// A build whose boot script could end its element is refused.
	bad := built()
	bad["boot.js"] = &fstest.MapFile{Data: []byte(`x="</SCRIPT><script>alert(1)"`)}
	if err := New(Config{Assets: bad}).Err(); err == nil || !errors.Is(err, ErrNotBuilt) {
		t.Errorf("unsafe boot script accepted: %v", err)
	}
}
