package webapp

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func builtWithEmbed() fstest.MapFS {
	fs := built()
	fs["manifest.json"] = &fstest.MapFile{Data: []byte(`{"main":{"js":"/static/main.ABC.js","chunks":[]},"modules":{},"styles":{},` +
		`"embed":{"frame":{"js":"/static/embed-frame.F.js","css":"/static/embed-frame.C.css","chunks":["/static/chunk.C1.js"]},` +
		`"script":"embed.js","types":"embed.d.ts","signin":"/static/embed-signin.S.js","boot":"embed-boot.js"}}`)}
	fs["embed-boot.js"] = &fstest.MapFile{Data: []byte("window.embedBoot=1;")}
	fs["embed.js"] = &fstest.MapFile{Data: []byte("customElements.define('mattermost-channel',class extends HTMLElement{})")}
	fs["embed.js.gz"] = &fstest.MapFile{Data: []byte("gz")}
	fs["embed.d.ts"] = &fstest.MapFile{Data: []byte("export interface MattermostChannelElement extends HTMLElement {}")}
	return fs
}

func TestEmbedPagesNotBuilt(t *testing.T) {
	p := NewEmbedPages(Config{Assets: built()}) // a host build from before the embed
	if p.Err() == nil {
		t.Fatal("no error for a build without the embed")
	}
	rec := httptest.NewRecorder()
	p.ServeScript(rec, httptest.NewRequest("GET", "/embed/v1/embed.js", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "run make webapp") {
		t.Fatalf("got %d %q", rec.Code, rec.Body.String())
	}
}

func TestEmbedScript(t *testing.T) {
	p := NewEmbedPages(Config{Assets: builtWithEmbed()})
	if p.Err() != nil {
		t.Fatal(p.Err())
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/embed/v1/embed.js", nil)
	req.Header.Set("Accept-Encoding", "gzip, br")
	p.ServeScript(rec, req)
	h := rec.Header()
	if rec.Code != 200 || h.Get("Content-Encoding") != "gzip" || rec.Body.String() != "gz" {
		t.Fatalf("got %d %q %q", rec.Code, h.Get("Content-Encoding"), rec.Body.String())
	}
	for k, want := range map[string]string{
		"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=300",
		"Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	// Revalidation by ETag.
	rec2 := httptest.NewRecorder()
	req2 := httptest.NewRequest("GET", "/embed/v1/embed.js", nil)
	req2.Header.Set("If-None-Match", h.Get("ETag"))
	p.ServeScript(rec2, req2)
	if rec2.Code != http.StatusNotModified || rec2.Body.Len() != 0 {
		t.Fatalf("revalidation: %d %q", rec2.Code, rec2.Body.String())
	}
	rec3 := httptest.NewRecorder()
	p.ServeTypes(rec3, httptest.NewRequest("GET", "/embed/v1/embed.d.ts", nil))
	if rec3.Code != 200 || !strings.Contains(rec3.Body.String(), "MattermostChannelElement") {
		t.Fatalf("types: %d %q", rec3.Code, rec3.Body.String())
	}
}

func TestEmbedFrame(t *testing.T) {
	p := NewEmbedPages(Config{Assets: builtWithEmbed()})
	rec := httptest.NewRecorder()
	// What the caller (the server) sets first: the app's framing policy.
	rec.Header().Add("Content-Security-Policy", "frame-ancestors https://app.example")
	p.ServeFrame(rec, httptest.NewRequest("GET", "http://mm.example/embed/v1/frame?app=x", nil), EmbedFrame{
		App: "app1", AppName: `</script><script>alert(1)</script>`, Origins: []string{"https://app.example"}, Channel: "c1", Theme: "dark",
	})
	body := rec.Body.String()
	csps := rec.Header().Values("Content-Security-Policy")
	if rec.Code != 200 || len(csps) != 2 || csps[0] != "frame-ancestors https://app.example" {
		t.Fatalf("status %d, CSP %q", rec.Code, csps)
	}
	m := regexp.MustCompile(`script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'`).FindStringSubmatch(csps[1])
	if strings.Contains(csps[1], "frame-ancestors") || m == nil {
		t.Errorf("page policy %q: no frame-ancestors of its own (the app's header decides), nonce'd scripts", csps[1])
	}
	if rec.Header().Get("X-Frame-Options") != "" {
		t.Error("X-Frame-Options would forbid every framing")
	}
	for _, want := range []string{
		`<script type="module" src="/static/embed-frame.F.js" nonce="`,
		`<link rel="modulepreload" href="/static/chunk.C1.js">`,
		`<link rel="stylesheet" href="/static/embed-frame.C.css">`,
		`"origins":["https://app.example"]`, `"siteURL":"http://mm.example"`, `"theme":"dark"`,
		// The boot script, inline with the nonce, after the config it reads.
		`id="mmtoolkit-config">{` + "", `</script>` + "\n" + `<script nonce="` + strings.ReplaceAll(m[1], "+", "&#43;") + `">window.embedBoot=1;</script>`, // (html/template writes + as &#43;)
	} {
		if !strings.Contains(body, want) {
			t.Errorf("frame lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script>alert") || strings.Count(body, "</script>") != 3 {
		t.Errorf("the app's name ended the config element:\n%s", body)
	}
}

func TestEmbedSignin(t *testing.T) {
	p := NewEmbedPages(Config{Assets: builtWithEmbed()})
	rec := httptest.NewRecorder()
	p.ServeSignin(rec, httptest.NewRequest("GET", "/embed/v1/signin?app=app1", nil), "app1", "Example <b>app</b>")
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") || rec.Header().Get("X-Frame-Options") != "DENY" {
		t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
	}
	for _, want := range []string{`src="/static/embed-signin.S.js"`, `{"app":"app1"}`, `Example &lt;b&gt;app&lt;/b&gt;`, `id="signin-form"`} {
		if !strings.Contains(body, want) {
			t.Errorf("popup lacks %s:\n%s", want, body)
		}
	}
}
