package webapp

import (
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// ErrNotBuilt is returned by New's Host.Err when dist/ holds no built host
// (the front end was never built: run make webapp).
var ErrNotBuilt = errors.New("host assets not built: run make webapp")

// Config configures the host pages. Zero values are sensible defaults.
type Config struct {
	// SiteURL is the public URL the page talks to (Mattermost's SiteURL).
	// Empty: derived from each request's scheme and host.
	SiteURL string
	// Assets replaces the embedded dist/ directory (tests).
	Assets fs.FS
}

// Host serves the shell and the static assets of the webapp host.
type Host struct {
	cfg    Config
	assets fs.FS // rooted at dist/
	man    assetManifest
	err    error
}

// assetManifest is dist/manifest.json, written by build.mjs.
type assetManifest struct {
	Main struct {
		JS  string `json:"js"`
		CSS string `json:"css"`
	} `json:"main"`
	// Modules maps a lazy host module (react-intl, ...) to its URL.
	Modules map[string]string `json:"modules"`
	Files   map[string]struct {
		Size int64 `json:"size"`
		Gzip int64 `json:"gzip"`
		Br   int64 `json:"br"`
	} `json:"files"`
}

// New reads the asset manifest of the embedded (or configured) build. A
// missing build is not an error here: Err reports it and the shell answers
// 503 until the binary is rebuilt after make webapp.
func New(cfg Config) *Host {
	h := &Host{cfg: cfg, assets: cfg.Assets}
	if h.assets == nil {
		sub, err := fs.Sub(dist, "dist")
		if err != nil {
			h.err = err
			return h
		}
		h.assets = sub
	}
	b, err := fs.ReadFile(h.assets, "manifest.json")
	if err != nil {
		h.err = ErrNotBuilt
		return h
	}
	if err := json.Unmarshal(b, &h.man); err != nil || h.man.Main.JS == "" {
		h.err = fmt.Errorf("webapp: read dist/manifest.json: %v: %w", err, ErrNotBuilt)
	}
	return h
}

// Err reports why the host cannot be served (ErrNotBuilt), or nil.
func (h *Host) Err() error { return h.err }

// Shell answers every host route (/, /login, /{team}/channels/{channel},
// plugin routes) with the HTML page that boots the app.
func (h *Host) Shell() http.Handler { return http.HandlerFunc(h.serveShell) }

// Static serves /static/{file}: the content-hashed host assets.
func (h *Host) Static() http.Handler { return http.HandlerFunc(h.serveStatic) }

// shellConfig is what the page reads from its JSON config element: nothing
// secret, only where the server is and which files hold the lazy modules.
type shellConfig struct {
	SiteURL string            `json:"siteURL"`
	Modules map[string]string `json:"modules"`
}

func (h *Host) serveShell(w http.ResponseWriter, r *http.Request) {
	if h.err != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, h.err.Error())
		return
	}
	nonce, err := newNonce()
	if err != nil {
		http.Error(w, "could not make a CSP nonce", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", ContentSecurityPolicy(nonce))
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	// The page carries a per-response nonce: it must never be reused from a cache.
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "same-origin")
	hdr.Set("X-Frame-Options", "DENY")
	site := h.cfg.SiteURL
	if site == "" {
		site = requestOrigin(r)
	}
	page := shellPage{
		Title:   "mmtoolkit",
		Nonce:   nonce,
		MainJS:  h.man.Main.JS,
		MainCSS: h.man.Main.CSS,
		Config:  shellConfig{SiteURL: strings.TrimRight(site, "/"), Modules: h.man.Modules},
		Preload: preloads(r),
	}
	if r.Method == http.MethodHead {
		return
	}
	if err := shell(page).Render(r.Context(), w); err != nil {
		// Headers are gone; the client sees a cut page. Nothing more to do.
		return
	}
}

// ContentSecurityPolicy is the shell's policy. Scripts: only files from this
// origin (the host's /static/ and plugin bundles under /bundles/) and
// scripts carrying this response's nonce; no inline script, no eval. Styles
// allow 'unsafe-inline' because Mattermost plugins inject <style> elements
// at run time (webpack's style-loader, mmtoolkit's CSS injection) and
// cannot know a nonce; see docs/webapp.md.
func ContentSecurityPolicy(nonce string) string {
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self' 'nonce-" + nonce + "'",
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data: blob:",
		"font-src 'self' data:",
		"media-src 'self' blob: mediastream:",
		"connect-src 'self'",
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

// urlName is a Mattermost team or channel URL name.
var urlName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// preloads lists the API requests the app makes first for this URL, so the
// browser sends them while the app's script downloads and starts (they
// carry the session cookie; nothing is fetched for a visitor without one).
// They must be the exact URLs the app requests (src/host.ts), or the
// browser fetches twice.
func preloads(r *http.Request) []string {
	if _, err := r.Cookie("MMAUTHTOKEN"); err != nil {
		return nil
	}
	out := []string{"/api/v4/users/me", "/api/v4/users/me/teams", "/api/v4/users/me/teams/members"}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) == 0 || !urlName.MatchString(parts[0]) || parts[0] == "login" || parts[0] == "plug" {
		return out
	}
	team := parts[0]
	out = append(out, "/api/v1/manifest?team="+team+"&platform=web")
	if len(parts) == 3 && parts[1] == "channels" && urlName.MatchString(parts[2]) {
		out = append(out, "/api/v4/teams/name/"+team+"/channels/name/"+parts[2]+"?include_deleted=false")
	}
	return out
}

func newNonce() (string, error) {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}

// requestOrigin is scheme://host of the request as the browser sent it.
func requestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
