package webapp

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func built() fstest.MapFS {
	return fstest.MapFS{
		"manifest.json":            {Data: []byte(`{"main":{"js":"/static/main.ABC.js","css":"/static/main.DEF.css"},"modules":{"react-intl":"/static/react-intl.XYZ.js"}}`)},
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
		`<script src="/static/main.ABC.js" nonce="` + nonce + `" defer>`,
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
	for _, u := range append([]string{h.man.Main.JS, h.man.Main.CSS}, values(h.man.Modules)...) {
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
