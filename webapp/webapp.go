package webapp

import (
	"bytes"
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
	// Team says what the shell may tell a page about the team its URL
	// names (/{team}/...): the caller's manifest, which the page then
	// neither requests nor waits for, and its plugin bundles, which the
	// browser fetches and compiles while the host's own code loads. It runs after the
	// head of the page is sent, for requests with a session cookie only.
	// A nil answer (no valid session, not a member of the team, an
	// error) says nothing: the page asks the API, which explains.
	Team func(r *http.Request, team string) *TeamBoot
	// Demo, when set, is shown under the login form: the sandbox's demo
	// users and their shared password, so a first visitor can log in. Only
	// the sandbox sets it; in front of a real Mattermost it stays nil and
	// the login page says nothing about accounts.
	Demo *Demo
}

// Demo is the sandbox's demo logins, as the login page shows them.
type Demo struct {
	Users    []DemoUser `json:"users"`
	Password string     `json:"password"`
}

// DemoUser is one demo login; Role is what it can do ("system admin"), or "".
type DemoUser struct {
	Username string `json:"username"`
	Role     string `json:"role,omitempty"`
}

// TeamBoot is what the server knows about a team for the page it serves.
type TeamBoot struct {
	// Manifest is the exact body GET /api/v1/manifest?team=&platform=web
	// answers the caller for the team.
	Manifest []byte
	// Bundles are the manifest's plugin bundles.
	Bundles []Script
	// HostModules are the lazy host modules (react-intl, ...) the
	// bundles need, by the names of the manifest's host_modules; a name
	// may repeat (the shell loads each once).
	HostModules []string
}

// Script is a plugin's bundle: its URL and Subresource Integrity value.
type Script struct {
	Plugin    string
	URL       string
	Integrity string
}

// Host serves the shell and the static assets of the webapp host.
type Host struct {
	cfg    Config
	assets fs.FS // rooted at dist/
	man    assetManifest
	boot   string // src/boot.ts, built
	err    error
}

// assetManifest is dist/manifest.json, written by build.mjs.
type assetManifest struct {
	Main struct {
		JS  string `json:"js"`
		CSS string `json:"css"`
		// Chunks are the ES module chunks main.js imports.
		Chunks []string `json:"chunks"`
	} `json:"main"`
	// Boot is the file (in dist/) of the boot script the shell inlines.
	Boot string `json:"boot"`
	// Modules maps a lazy host module (react-intl, ...) to its URL.
	Modules map[string]string `json:"modules"`
	// Styles maps a lazy host module to its stylesheet's URL
	// (react-bootstrap's bootstrap 3 CSS; icons is a stylesheet only).
	Styles map[string]string `json:"styles"`
	Files  map[string]struct {
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
		return h
	}
	if h.man.Boot != "" {
		boot, err := fs.ReadFile(h.assets, h.man.Boot)
		if err != nil || !safeInline(boot) {
			h.err = fmt.Errorf("webapp: boot script %s: %v: %w", h.man.Boot, err, ErrNotBuilt)
			return h
		}
		h.boot = string(boot)
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
	Styles  map[string]string `json:"styles,omitempty"`
	// Demo is Config.Demo (src/components/login.tsx reads it).
	Demo *Demo `json:"demo,omitempty"`
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
	session, team := routeTeam(r)
	page := shellPage{
		Title:   "mmtoolkit",
		Nonce:   nonce,
		MainJS:  h.man.Main.JS,
		MainCSS: h.man.Main.CSS,
		Chunks:  h.man.Main.Chunks,
		Config:  shellConfig{SiteURL: strings.TrimRight(site, "/"), Modules: h.man.Modules, Styles: h.man.Styles, Demo: h.cfg.Demo},
		Preload: preloads(r, session, team, h.cfg.Team == nil),
	}
	if len(page.Preload) > 0 {
		page.Boot = h.boot
	}
	if r.Method == http.MethodHead {
		return
	}
	if err := shellHead(page).Render(r.Context(), w); err != nil {
		// Headers are gone; the client sees a cut page. Nothing more to do.
		return
	}
	var t *shellTeam
	if session && team != "" && h.cfg.Team != nil {
		// The browser fetches the host's code while the server looks up
		// the team. (A writer that cannot flush sends it all at the end.)
		_ = http.NewResponseController(w).Flush()
		t = h.team(r, team, nonce)
	}
	// As above, an error here leaves a cut page and nothing to do.
	_ = shellTail(t).Render(r.Context(), w)
}

// team is the shell's view of Config.Team's answer: what to preload, and
// the manifest to embed.
func (h *Host) team(r *http.Request, name, nonce string) *shellTeam {
	b := h.cfg.Team(r, name)
	if b == nil || !json.Valid(b.Manifest) {
		return nil
	}
	t := &shellTeam{Name: name, Nonce: nonce, Manifest: b.Manifest, Bundles: b.Bundles}
	seen := map[string]bool{}
	for _, m := range b.HostModules {
		if seen[m] {
			continue
		}
		seen[m] = true
		if u := h.man.Modules[m]; u != "" {
			t.Modules = append(t.Modules, hostModule{m, u})
		}
		if u := h.man.Styles[m]; u != "" {
			t.Styles = append(t.Styles, hostModule{m, u})
		}
	}
	return t
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

// safeInline reports whether a script can sit in an HTML script element as
// it is (build.mjs checks the same).
func safeInline(js []byte) bool {
	l := bytes.ToLower(js)
	return !bytes.Contains(l, []byte("</script")) && !bytes.Contains(l, []byte("<!--"))
}

// routeTeam reports whether the request carries a session cookie and the
// team name the URL opens ("" for /, /login, /plug/...).
func routeTeam(r *http.Request) (session bool, team string) {
	if _, err := r.Cookie("MMAUTHTOKEN"); err != nil {
		return false, ""
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !urlName.MatchString(first) || first == "login" || first == "plug" {
		return true, ""
	}
	return true, first
}

// preloads lists the API requests the app makes first for this URL, so the
// browser sends them while the app's script downloads and starts (they
// carry the session cookie; nothing is fetched for a visitor without one).
// They must be the exact URLs the app requests (src/host.ts), or the
// browser fetches twice. The team's manifest is among them only when the
// shell cannot embed it (no Config.Team).
func preloads(r *http.Request, session bool, team string, manifest bool) []string {
	if !session {
		return nil
	}
	out := []string{"/api/v4/users/me", "/api/v4/users/me/teams", "/api/v4/users/me/teams/members"}
	if team == "" {
		return out
	}
	if manifest {
		out = append(out, "/api/v1/manifest?team="+team+"&platform=web")
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
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
