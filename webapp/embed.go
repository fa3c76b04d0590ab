package webapp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
)

// The embed's pages and scripts (docs/embed.md): the host page's script
// (/embed/v1/embed.js) and its types, the frame a <mattermost-channel>
// element shows (/embed/v1/frame), and the sign-in popup
// (/embed/v1/signin). The server decides who may see them (the app's
// origins, server/embed_pages.go); these only render.

// embedManifest is the "embed" part of dist/manifest.json (build.mjs,
// buildEmbed).
type embedManifest struct {
	Frame struct {
		JS     string   `json:"js"`
		CSS    string   `json:"css"`
		Chunks []string `json:"chunks"`
	} `json:"frame"`
	Script string `json:"script"`
	Types  string `json:"types"`
	Signin string `json:"signin"`
	// Boot is the file (in dist/) of the frame's boot script, inlined.
	Boot string `json:"boot"`
}

// EmbedPages serves the embed's pages from the same build as the host.
type EmbedPages struct {
	host   *Host
	man    embedManifest
	err    error
	boot   string    // src/embed/frame_boot.ts, built: inlined in the frame page
	script embedFile // embed.js (and .gz, .br)
	types  embedFile // embed.d.ts
}

type embedFile struct {
	raw, gz, br []byte
	etag        string
}

// NewEmbedPages reads the embed's part of the build. As with New, a
// missing build is reported by Err and answered 503.
func NewEmbedPages(cfg Config) *EmbedPages {
	p := &EmbedPages{host: New(cfg)}
	if p.err = p.host.Err(); p.err != nil {
		return p
	}
	b, err := fs.ReadFile(p.host.assets, "manifest.json")
	if err == nil {
		var m struct {
			Embed *embedManifest `json:"embed"`
		}
		if err = json.Unmarshal(b, &m); err == nil && (m.Embed == nil || m.Embed.Frame.JS == "" || m.Embed.Script == "") {
			err = fmt.Errorf("no embed entry")
		}
		if err == nil {
			p.man = *m.Embed
		}
	}
	if err == nil && p.man.Boot != "" {
		var b []byte
		if b, err = fs.ReadFile(p.host.assets, p.man.Boot); err == nil && !safeInline(b) {
			err = fmt.Errorf("%s holds </script or <!--", p.man.Boot)
		}
		p.boot = string(b)
	}
	if err == nil {
		p.script, err = readEmbedFile(p.host.assets, p.man.Script)
	}
	if err == nil {
		p.types, err = readEmbedFile(p.host.assets, p.man.Types)
	}
	if err != nil {
		p.err = fmt.Errorf("webapp: the embed's build in dist/: %v: %w", err, ErrNotBuilt)
	}
	return p
}

func readEmbedFile(assets fs.FS, name string) (embedFile, error) {
	raw, err := fs.ReadFile(assets, name)
	if err != nil {
		return embedFile{}, err
	}
	sum := sha256.Sum256(raw)
	f := embedFile{raw: raw, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	f.gz, _ = fs.ReadFile(assets, name+".gz") // optional: served raw without
	f.br, _ = fs.ReadFile(assets, name+".br")
	return f, nil
}

// Err reports why the embed cannot be served (ErrNotBuilt), or nil.
func (p *EmbedPages) Err() error { return p.err }

func (p *EmbedPages) unavailable(w http.ResponseWriter) bool {
	if p.err == nil {
		return false
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Retry-After", "60")
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintln(w, p.err.Error())
	return true
}

// ServeScript answers /embed/v1/embed.js. Its URL is the one pages keep,
// so it is cached for five minutes and revalidated by ETag (a new build
// reaches pages within minutes), and any origin may load it.
func (p *EmbedPages) ServeScript(w http.ResponseWriter, r *http.Request) {
	p.serveFile(w, r, p.script, "text/javascript; charset=utf-8")
}

// ServeTypes answers /embed/v1/embed.d.ts, the element's TypeScript types.
func (p *EmbedPages) ServeTypes(w http.ResponseWriter, r *http.Request) {
	p.serveFile(w, r, p.types, "application/typescript; charset=utf-8")
}

func (p *EmbedPages) serveFile(w http.ResponseWriter, r *http.Request, f embedFile, ctype string) {
	if p.unavailable(w) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("ETag", f.etag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	// Pages of any origin load it (a page with Cross-Origin-Embedder-Policy needs both).
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	data := f.raw
	for _, enc := range acceptable(r.Header.Get("Accept-Encoding")) {
		if b := map[string][]byte{"br": f.br, "gzip": f.gz}[enc]; len(b) > 0 {
			h.Set("Content-Encoding", enc)
			data = b
			break
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(data)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(data)
}

// EmbedFrame is what the frame page tells the frame's script: the app and
// the element's attributes. Nothing in it is secret: the token arrives
// later, by postMessage, and stays in the frame's memory.
type EmbedFrame struct {
	App     string   `json:"app"`
	AppName string   `json:"appName"`
	Origins []string `json:"origins"`
	Channel string   `json:"channel"`
	// Channels are what a popup sign-in asks a token for (empty: Channel).
	Channels []string `json:"channels"`
	Theme    string   `json:"theme"`
	Accent   string   `json:"accent"`
	Signin   string   `json:"signin"`
	Height   string   `json:"height"`
}

type frameConfig struct {
	SiteURL string            `json:"siteURL"`
	Modules map[string]string `json:"modules"`
	Styles  map[string]string `json:"styles,omitempty"`
	Embed   EmbedFrame        `json:"embed"`
}

var framePage = template.Must(template.New("frame").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}}</title>
<link rel="icon" href="data:,">
{{if .CSS}}<link rel="stylesheet" href="{{.CSS}}">
{{end}}{{if .MainCSS}}<link rel="stylesheet" href="{{.MainCSS}}">
{{end}}{{range .Chunks}}<link rel="modulepreload" href="{{.}}">
{{end}}<script type="module" src="{{.JS}}" nonce="{{.Nonce}}"></script>
<script type="application/json" id="mmtoolkit-config">{{.Config}}</script>
{{if .Boot}}<script nonce="{{.Nonce}}">{{.Boot}}</script>
{{end}}</head>
<body>
<div id="root"></div>
<noscript>The Mattermost embed needs JavaScript.</noscript>
</body>
</html>
`))

// ServeFrame answers /embed/v1/frame for an app the server found. The
// caller sets the framing headers (CSP frame-ancestors: the app's origins
// only); this adds the page's own policy as a second
// Content-Security-Policy header, which the browser enforces as well.
func (p *EmbedPages) ServeFrame(w http.ResponseWriter, r *http.Request, f EmbedFrame) {
	if p.unavailable(w) {
		return
	}
	nonce, err := newNonce()
	if err != nil {
		http.Error(w, "could not make a CSP nonce", http.StatusInternalServerError)
		return
	}
	site := p.host.cfg.SiteURL
	if site == "" {
		site = requestOrigin(r)
	}
	cfg, err := json.Marshal(frameConfig{SiteURL: strings.TrimRight(site, "/"), Modules: p.host.man.Modules, Styles: p.host.man.Styles, Embed: f})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	err = framePage.Execute(&buf, map[string]any{
		"Title": "Mattermost", "Nonce": nonce, "CSS": p.man.Frame.CSS, "MainCSS": "", "Chunks": p.man.Frame.Chunks, "JS": p.man.Frame.JS,
		// json.Marshal escapes <, > and & in strings: the text cannot end the element.
		"Config": template.JS(cfg),
		// The build's own file, checked by safeInline.
		"Boot": template.JS(p.boot),
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Add("Content-Security-Policy", pagePolicy(nonce, false))
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodHead {
		return
	}
	w.Write(buf.Bytes())
}

var signinPage = template.Must(template.New("signin").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Sign in to Mattermost</title>
<link rel="icon" href="data:,">
<style>
body { font: 14px/1.4 -apple-system, "Segoe UI", Roboto, sans-serif; color: #3f4350; background: #f4f5f7; margin: 0; min-height: 100vh; display: grid; place-items: center; }
main { width: min(360px, 90vw); background: #fff; padding: 28px; border-radius: 8px; box-shadow: 0 8px 24px rgba(0,0,0,.12); }
h1 { font-size: 20px; margin: 0 0 4px; }
label { display: block; margin: 12px 0 4px; font-weight: 600; }
input { width: 100%; box-sizing: border-box; padding: 8px; border: 1px solid #c7c8cc; border-radius: 4px; font: inherit; }
button { width: 100%; margin-top: 16px; padding: 10px; border: 0; border-radius: 4px; background: #1c58d9; color: #fff; font: inherit; font-weight: 600; }
.hint { color: #6b6f7b; } .error { color: #d24b4e; }
[hidden] { display: none !important; }
</style>
</head>
<body>
<main>
<h1>Sign in to Mattermost</h1>
<p class="hint">to show your channels in {{.AppName}}. The site gets access to those channels only, for a short while; never your password or your Mattermost session.</p>
<form id="signin-form" hidden>
<label for="loginId">Username or email</label><input id="loginId" name="loginId" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<p id="signin-status" class="hint" role="status">Checking your session…</p>
</main>
<script type="application/json" id="mmtoolkit-config">{{.Config}}</script>
<script src="{{.JS}}" nonce="{{.Nonce}}" defer></script>
</body>
</html>
`))

// ServeSignin answers /embed/v1/signin for an app the server found: the
// popup where the user signs in (first-party, on this origin) and which
// hands an embed token to the frame that opened it. No one may frame it.
func (p *EmbedPages) ServeSignin(w http.ResponseWriter, r *http.Request, app, appName string) {
	if p.unavailable(w) {
		return
	}
	nonce, err := newNonce()
	if err != nil {
		http.Error(w, "could not make a CSP nonce", http.StatusInternalServerError)
		return
	}
	cfg, _ := json.Marshal(map[string]string{"app": app})
	var buf bytes.Buffer
	if err := signinPage.Execute(&buf, map[string]any{"AppName": appName, "Config": template.JS(cfg), "JS": p.man.Signin, "Nonce": nonce}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", pagePolicy(nonce, true))
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	if r.Method == http.MethodHead {
		return
	}
	w.Write(buf.Bytes())
}

// pagePolicy is the shell's policy (ContentSecurityPolicy) for the embed's
// pages: the frame's leaves frame-ancestors to the header the server sets
// from the app's origins; the popup's forbids framing.
func pagePolicy(nonce string, noFraming bool) string {
	parts := strings.Split(ContentSecurityPolicy(nonce), "; ")
	out := parts[:0]
	for _, d := range parts {
		if strings.HasPrefix(d, "frame-ancestors") && !noFraming {
			continue
		}
		out = append(out, d)
	}
	return strings.Join(out, "; ")
}
