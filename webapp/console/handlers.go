package console

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Problem is an error a person can act on: implementations of Actions
// return it (or wrap it) for refusals such as a version that does not
// exist, and the page shows Message with Status.
type Problem struct {
	Status  int
	Title   string
	Message string
}

func (p *Problem) Error() string { return p.Message }

// Config configures the pages.
type Config struct {
	Identity Identity
	Source   Source
	Actions  Actions
	// CSRFKey is the secret form tokens are derived with; nil makes a
	// random one (tokens then do not survive a restart).
	CSRFKey []byte
	// LoginURL is the webapp's login page; default "/login". The return
	// path is passed as redirect_to, as Mattermost does.
	LoginURL string
	// PageSize is the directory's page size; default 50.
	PageSize int
	Logger   *slog.Logger
}

// Console serves the pages.
type Console struct {
	cfg Config
}

// New returns the pages over cfg.
func New(cfg Config) *Console {
	if cfg.CSRFKey == nil {
		cfg.CSRFKey = make([]byte, 32)
		rand.Read(cfg.CSRFKey)
	}
	if cfg.LoginURL == "" {
		cfg.LoginURL = "/login"
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 50
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Console{cfg: cfg}
}

// Mount adds the console's routes to r: /admin/... and /directory/...
func (c *Console) Mount(r chi.Router) {
	r.Get("/admin", c.page(c.adminIndex, true))
	r.Get("/admin/", c.page(c.adminIndex, true))
	r.Get("/admin/teams/{team}", c.page(c.teamPage, true))
	r.Post("/admin/teams/{team}/plugins/{id}", c.page(c.setTeamPlugin, true))
	r.Get("/admin/plugins/{id}", c.page(c.pluginPage, true))
	r.Get("/admin/plugins/{id}/disable-everywhere", c.page(c.confirmDisableEverywhere, true))
	r.Post("/admin/plugins/{id}/disable-everywhere", c.page(c.disableEverywhere, true))
	r.Post("/admin/plugins/{id}/server-part", c.page(c.setServerPart, true)) // serverpart.go
	r.Get("/admin/audit", c.page(c.auditPage, true))
	r.Get("/directory", c.page(c.directoryPage, false))
	r.Get("/directory/{id}", c.page(c.directoryPluginPage, false))
	r.Get(cssPath, serveCSS)
}

// handlerFunc renders a page for an authenticated viewer, or returns an
// error the wrapper turns into an error page.
type handlerFunc func(w http.ResponseWriter, r *http.Request, v *Viewer) error

// page authenticates, checks the CSRF token of a POST, and renders errors
// as pages.
func (c *Console) page(h handlerFunc, admin bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w)
		v, err := c.cfg.Identity.Viewer(r)
		if errors.Is(err, ErrUnauthenticated) {
			if r.Method != http.MethodGet {
				c.renderError(w, r, nil, &Problem{http.StatusUnauthorized, "Logged out",
					"Your session has ended. Log in again, then repeat the change."})
				return
			}
			http.Redirect(w, r, c.cfg.LoginURL+"?redirect_to="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
			return
		}
		if err != nil {
			c.renderError(w, r, nil, err)
			return
		}
		if admin && !v.IsAdmin() {
			c.renderError(w, r, v, &Problem{http.StatusForbidden, "Admins only",
				"The admin console is for system admins and team admins. Ask an admin of your team to change its plugins, or browse the plugin directory."})
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
			if err := r.ParseForm(); err != nil {
				c.renderError(w, r, v, &Problem{http.StatusBadRequest, "Bad form", "The form could not be read: " + err.Error()})
				return
			}
			if !validCSRF(c.cfg.CSRFKey, v.Session, r.PostForm.Get(csrfField)) {
				c.renderError(w, r, v, &Problem{http.StatusForbidden, "Form expired",
					"This form did not carry a valid security token, so nothing was changed. It may come from another site, or from a page opened before you logged in again: reload the page and try again."})
				return
			}
		}
		if err := h(w, r, v); err != nil {
			c.renderError(w, r, v, err)
		}
	}
}

// setSecurityHeaders: no scripts at all, styles and images from this
// origin, forms only to this origin, never framed.
func setSecurityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page templ.Component) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := page.Render(r.Context(), w); err != nil {
		c.cfg.Logger.Error("console: render", "path", r.URL.Path, "err", err)
	}
	return nil
}

func (c *Console) renderError(w http.ResponseWriter, r *http.Request, v *Viewer, err error) {
	var p *Problem
	switch {
	case errors.As(err, &p):
	case errors.Is(err, ErrNotFound):
		p = &Problem{http.StatusNotFound, "Not found", "There is no such team or plugin, or you may not see it."}
	case errors.Is(err, ErrForbidden):
		p = &Problem{http.StatusForbidden, "Not allowed", "You may not see or change this. Ask a system admin or an admin of that team."}
	case errors.Is(err, context.Canceled):
		return
	default:
		c.cfg.Logger.Error("console: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		p = &Problem{http.StatusInternalServerError, "Something went wrong", "The server failed; the error is logged. Retry, and report it if it persists."}
	}
	c.render(w, r, p.Status, errorPage(c.chrome(v, p.Title, ""), p))
}

func (c *Console) chrome(v *Viewer, title, section string) chrome {
	ch := chrome{Title: title, Section: section, CSS: cssURL}
	if v != nil {
		ch.Viewer = v
		ch.CSRF = csrfToken(c.cfg.CSRFKey, v.Session)
	}
	return ch
}

// adminTeam resolves {team} and checks the viewer administers it.
func (c *Console) adminTeam(r *http.Request, v *Viewer) (Team, error) {
	t, err := c.cfg.Identity.Team(r.Context(), v, chi.URLParam(r, "team"))
	if err != nil {
		return Team{}, err
	}
	if !v.CanAdmin(t.ID) {
		return Team{}, &Problem{http.StatusForbidden, "Not your team",
			fmt.Sprintf("Only admins of team %s and system admins may see and change its plugins. Ask one of its team admins.", t.DisplayName)}
	}
	return t, nil
}

func (c *Console) adminIndex(w http.ResponseWriter, r *http.Request, v *Viewer) error {
	cat, err := c.cfg.Source.Catalogue(r.Context())
	if err != nil {
		return err
	}
	return c.render(w, r, http.StatusOK, adminIndexPage(c.chrome(v, "Admin console", "admin"), cat.Plugins, c.mattermostPlugins(r.Context())))
}

func (c *Console) teamPage(w http.ResponseWriter, r *http.Request, v *Viewer) error {
	t, err := c.adminTeam(r, v)
	if err != nil {
		return err
	}
	cat, err := c.cfg.Source.Catalogue(r.Context())
	if err != nil {
		return err
	}
	states, err := c.cfg.Source.TeamStates(r.Context(), t.ID)
	if err != nil {
		return err
	}
	d := teamPageData{Team: t, Rows: make([]teamRow, len(cat.Plugins))}
	for i, p := range cat.Plugins {
		st := states[p.ID]
		eff, err := c.cfg.Source.Effective(r.Context(), p.ID, st.Version)
		if err != nil {
			return err
		}
		d.Rows[i] = teamRow{P: p, State: st, Effective: eff}
	}
	if id := r.URL.Query().Get("saved"); id != "" {
		if p := cat.Plugin(id); p != nil {
			st := states[id]
			d.Saved = fmt.Sprintf("%s is %s for %s", p.Latest.Name, onOff(st.Enabled), t.DisplayName)
			if st.Version != "" {
				d.Saved += ", pinned to " + st.Version
			} else {
				d.Saved += ", following the latest version"
			}
			d.Saved += ". Open pages of the team have been updated."
		}
	}
	return c.render(w, r, http.StatusOK, teamPage(c.chrome(v, t.DisplayName+" plugins", "admin"), d))
}

func onOff(enabled bool) string {
	if enabled {
		return "enabled"
	}
	return "disabled"
}

// setTeamPlugin handles the team page's forms: action=enable|disable keeps
// the pin, action=pin with version ("latest" or a version) keeps the
// enabled state.
func (c *Console) setTeamPlugin(w http.ResponseWriter, r *http.Request, v *Viewer) error {
	t, err := c.adminTeam(r, v)
	if err != nil {
		return err
	}
	id := chi.URLParam(r, "id")
	states, err := c.cfg.Source.TeamStates(r.Context(), t.ID)
	if err != nil {
		return err
	}
	st := states[id]
	enabled, version := st.Enabled, st.Version
	switch a := r.PostForm.Get("action"); a {
	case "enable":
		enabled = true
	case "disable":
		enabled = false
	case "pin":
		version = r.PostForm.Get("version")
		if version == "latest" {
			version = ""
		}
	default:
		return &Problem{http.StatusBadRequest, "Bad form", fmt.Sprintf("Unknown action %q: the form sends enable, disable or pin.", a)}
	}
	if err := c.cfg.Actions.SetTeamPlugin(r.Context(), v, t.ID, id, enabled, version); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/teams/"+url.PathEscape(t.Name)+"?saved="+url.QueryEscape(id)+"#plugin-"+anchor(id), http.StatusSeeOther)
	return nil
}

func (c *Console) pluginPage(w http.ResponseWriter, r *http.Request, v *Viewer) error {
	id := chi.URLParam(r, "id")
	cat, err := c.cfg.Source.Catalogue(r.Context())
	if err != nil {
		return err
	}
	p := cat.Plugin(id)
	if p == nil {
		return ErrNotFound
	}
	versions, err := c.cfg.Source.Versions(r.Context(), id)
	if err != nil {
		return err
	}
	health, err := c.cfg.Source.Health(r.Context(), id)
	if err != nil {
		return err
	}
	health = visibleHealth(v, health)
	states, err := c.cfg.Source.PluginTeamStates(r.Context(), id)
	if err != nil {
		return err
	}
	d := pluginPageData{P: p, CanKill: v.SystemAdmin}
	users := []string{p.Owner}
	for _, ver := range versions {
		row := versionRow{V: ver}
		if h, ok := health[ver.Version]; ok {
			row.Health = &h
		}
		d.Versions = append(d.Versions, row)
		users = append(users, ver.PushedBy)
	}
	for _, t := range v.AdminTeams {
		st, ok := states[t.ID]
		if ok && st.Enabled {
			d.Enabled++
		}
		eff, err := c.cfg.Source.Effective(r.Context(), p.ID, st.Version)
		if err != nil {
			return err
		}
		d.Teams = append(d.Teams, teamStateRow{Team: t, State: st, Effective: eff})
	}
	if v.SystemAdmin {
		// Teams the identity provider did not list still count.
		d.Enabled = 0
		for _, st := range states {
			if st.Enabled {
				d.Enabled++
			}
		}
	}
	if n := r.URL.Query().Get("disabled"); n != "" {
		d.Killed, _ = strconv.Atoi(n)
		d.KilledDone = true
	}
	d.Users = c.cfg.Identity.UserNames(r.Context(), users)
	if d.ServerPart, err = c.serverPartOf(r.Context(), v, id); err != nil {
		return err
	}
	return c.render(w, r, http.StatusOK, pluginPage(c.chrome(v, p.Latest.Name, "admin"), d))
}

// errKillAdminsOnly refuses the kill switch to team admins.
var errKillAdminsOnly = &Problem{http.StatusForbidden, "System admins only",
	"Only a system admin may disable a plugin in every team. Team admins disable it for their teams on the team's page."}

// confirmDisableEverywhere is the kill switch's confirmation page: the
// plugin page's button leads here, and only this page's form (confirm=yes)
// disables. The pages run no script, so the confirmation is a page of its
// own rather than a dialog.
func (c *Console) confirmDisableEverywhere(w http.ResponseWriter, r *http.Request, v *Viewer) error {
	if !v.SystemAdmin {
		return errKillAdminsOnly
	}
	id := chi.URLParam(r, "id")
	cat, err := c.cfg.Source.Catalogue(r.Context())
	if err != nil {
		return err
	}
	p := cat.Plugin(id)
	if p == nil {
		return ErrNotFound
	}
	states, err := c.cfg.Source.PluginTeamStates(r.Context(), id)
	if err != nil {
		return err
	}
	enabled := 0
	for _, st := range states {
		if st.Enabled {
			enabled++
		}
	}
	return c.render(w, r, http.StatusOK, confirmKillPage(c.chrome(v, "Disable "+p.Latest.Name+" everywhere?", "admin"), p, enabled))
}

func (c *Console) disableEverywhere(w http.ResponseWriter, r *http.Request, v *Viewer) error {
	if !v.SystemAdmin {
		return errKillAdminsOnly
	}
	if r.PostForm.Get("confirm") != "yes" {
		// A form without the confirmation page's answer changes nothing.
		return c.confirmDisableEverywhere(w, r, v)
	}
	id := chi.URLParam(r, "id")
	teams, err := c.cfg.Actions.DisableEverywhere(r.Context(), v, id)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/plugins/"+url.PathEscape(id)+"?disabled="+strconv.Itoa(len(teams)), http.StatusSeeOther)
	return nil
}

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, v *Viewer) error {
	q := r.URL.Query()
	d := auditPageData{Plugin: q.Get("plugin"), Person: q.Get("person"), AllTeams: v.SystemAdmin, Teams: map[string]Team{}}
	for _, t := range v.AdminTeams {
		d.Teams[t.ID] = t
	}
	f := registry.AuditFilter{PluginID: d.Plugin, Limit: 200}
	if name := q.Get("team"); name != "" {
		t, err := c.adminTeam(r.WithContext(withTeamParam(r, name)), v)
		if err != nil {
			return err
		}
		d.Team, f.TeamID = t.Name, t.ID
		d.Teams[t.ID] = t
	} else if !v.SystemAdmin {
		// A team admin reads the log of their teams only: the first one
		// unless they pick another.
		t := v.AdminTeams[0]
		d.Team, f.TeamID = t.Name, t.ID
	}
	if d.Person != "" {
		f.Actor = d.Person
		if id, ok := c.userID(r.Context(), d.Person); ok {
			f.Actor = id
		}
	}
	entries, err := c.cfg.Source.Audit(r.Context(), f)
	if err != nil {
		return err
	}
	d.Entries = entries
	cat, err := c.cfg.Source.Catalogue(r.Context())
	if err != nil {
		return err
	}
	d.Plugins = cat.Plugins
	ids := make([]string, 0, len(entries))
	for _, e := range entries {
		ids = append(ids, e.Actor)
	}
	d.Users = c.cfg.Identity.UserNames(r.Context(), ids)
	d.Options = v.AdminTeams
	return c.render(w, r, http.StatusOK, auditPage(c.chrome(v, "Audit log", "admin"), d))
}

// userID finds a username's id among the known users.
func (c *Console) userID(ctx context.Context, username string) (string, bool) {
	if f, ok := c.cfg.Identity.(interface {
		UserID(ctx context.Context, username string) (string, bool)
	}); ok {
		return f.UserID(ctx, strings.TrimPrefix(username, "@"))
	}
	return "", false
}

// withTeamParam makes {team} of the route context name, so adminTeam
// resolves a team given in the query.
func withTeamParam(r *http.Request, name string) context.Context {
	rc := chi.NewRouteContext()
	rc.URLParams.Add("team", name)
	return context.WithValue(r.Context(), chi.RouteCtxKey, rc)
}

func (c *Console) directoryPage(w http.ResponseWriter, r *http.Request, v *Viewer) error {
	q := r.URL.Query()
	d := directoryData{Query: Query{Text: strings.TrimSpace(q.Get("q")), Slot: q.Get("slot"), Certification: q.Get("certification")}}
	cat, err := c.cfg.Source.Catalogue(r.Context())
	if err != nil {
		return err
	}
	all := cat.Search(d.Query)
	d.Total = len(all)
	d.Pages = max(1, (len(all)+c.cfg.PageSize-1)/c.cfg.PageSize)
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = min(max(d.Page, 1), d.Pages)
	from := (d.Page - 1) * c.cfg.PageSize
	d.Results = all[from:min(from+c.cfg.PageSize, len(all))]
	return c.render(w, r, http.StatusOK, directoryPage(c.chrome(v, "Plugin directory", "directory"), d))
}

func (c *Console) directoryPluginPage(w http.ResponseWriter, r *http.Request, v *Viewer) error {
	id := chi.URLParam(r, "id")
	cat, err := c.cfg.Source.Catalogue(r.Context())
	if err != nil {
		return err
	}
	p := cat.Plugin(id)
	if p == nil {
		return ErrNotFound
	}
	versions, err := c.cfg.Source.Versions(r.Context(), id)
	if err != nil {
		return err
	}
	d := directoryPluginData{P: p, Versions: versions}
	if len(v.AdminTeams) > 0 || len(v.Teams) > 0 {
		states, err := c.cfg.Source.PluginTeamStates(r.Context(), id)
		if err != nil {
			return err
		}
		for _, t := range v.AdminTeams {
			d.Teams = append(d.Teams, teamStateRow{Team: t, State: states[t.ID]})
		}
		if len(v.AdminTeams) == 0 {
			for _, t := range v.Teams {
				d.Member = append(d.Member, teamStateRow{Team: t, State: states[t.ID]})
			}
		}
	}
	d.Users = c.cfg.Identity.UserNames(r.Context(), []string{p.Owner})
	return c.render(w, r, http.StatusOK, directoryPluginPage(c.chrome(v, p.Latest.Name, "directory"), d))
}

// anchor makes an element id of a plugin id (ids allow '.', which CSS
// selectors would need escaped).
func anchor(id string) string { return strings.ReplaceAll(id, ".", "-") }
