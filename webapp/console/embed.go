package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// The Embedding page (/admin/embed, system admins): the apps that may
// embed channels in other sites (docs/embed.md), with their origins,
// teams and channels; create, edit, rotate the secret, revoke every token,
// delete. A new secret is shown once, on the page that answers the form,
// never in a URL.

// EmbedApp is a registered embed app as the page shows it.
type EmbedApp struct {
	ID              string
	Name            string
	Origins         []string
	Teams           []string // team ids
	Channels        []string // channel ids
	TokensNotBefore time.Time
	UpdatedAt       time.Time
}

// EmbedAppForm is what an admin sets on an app.
type EmbedAppForm struct {
	Name     string
	Origins  []string
	Teams    []string // ids or URL names
	Channels []string
}

// Embeds are the embed apps' reads and changes; implementations apply the
// JSON API's rules and audit entries, and return *Problem for refusals.
type Embeds interface {
	EmbedApps(ctx context.Context, v *Viewer) ([]EmbedApp, error)
	CreateEmbedApp(ctx context.Context, v *Viewer, f EmbedAppForm) (app EmbedApp, secret string, err error)
	UpdateEmbedApp(ctx context.Context, v *Viewer, id string, f EmbedAppForm) error
	RotateEmbedSecret(ctx context.Context, v *Viewer, id string) (secret string, err error)
	RevokeEmbedTokens(ctx context.Context, v *Viewer, id string) error
	DeleteEmbedApp(ctx context.Context, v *Viewer, id string) error
}

// MountEmbed adds the Embedding page's routes to r.
func (c *Console) MountEmbed(r chi.Router, e Embeds) {
	r.Get("/admin/embed", c.page(func(w http.ResponseWriter, r *http.Request, v *Viewer) error {
		return c.embedPage(w, r, v, e, embedPageData{Done: r.URL.Query().Get("done")})
	}, true))
	r.Post("/admin/embed", c.page(func(w http.ResponseWriter, r *http.Request, v *Viewer) error {
		if err := embedAdmin(v); err != nil {
			return err
		}
		app, secret, err := e.CreateEmbedApp(r.Context(), v, embedForm(r))
		if err != nil {
			return err
		}
		return c.embedPage(w, r, v, e, embedPageData{SecretFor: app.ID, SecretName: app.Name, Secret: secret})
	}, true))
	r.Post("/admin/embed/{app}", c.page(func(w http.ResponseWriter, r *http.Request, v *Viewer) error {
		if err := embedAdmin(v); err != nil {
			return err
		}
		id := chi.URLParam(r, "app")
		var done string
		switch a := r.PostForm.Get("action"); a {
		case "update":
			if err := e.UpdateEmbedApp(r.Context(), v, id, embedForm(r)); err != nil {
				return err
			}
			done = "saved"
		case "rotate":
			secret, err := e.RotateEmbedSecret(r.Context(), v, id)
			if err != nil {
				return err
			}
			return c.embedPage(w, r, v, e, embedPageData{SecretFor: id, Secret: secret})
		case "revoke":
			if err := e.RevokeEmbedTokens(r.Context(), v, id); err != nil {
				return err
			}
			done = "revoked"
		case "delete":
			if err := e.DeleteEmbedApp(r.Context(), v, id); err != nil {
				return err
			}
			done = "deleted"
		default:
			return &Problem{http.StatusBadRequest, "Bad form", "Unknown action " + a + ": the form sends update, rotate, revoke or delete."}
		}
		http.Redirect(w, r, "/admin/embed?done="+url.QueryEscape(done)+"#app-"+url.QueryEscape(id), http.StatusSeeOther)
		return nil
	}, true))
}

func embedAdmin(v *Viewer) error {
	if !v.SystemAdmin {
		return &Problem{http.StatusForbidden, "System admins only",
			"Only a system admin may see and change the apps that embed channels in other sites. Ask one."}
	}
	return nil
}

type embedPageData struct {
	Apps []EmbedApp
	// Secret is a new secret to show once, for app SecretFor.
	SecretFor, SecretName, Secret string
	Done                          string
}

func (c *Console) embedPage(w http.ResponseWriter, r *http.Request, v *Viewer, e Embeds, d embedPageData) error {
	if err := embedAdmin(v); err != nil {
		return err
	}
	apps, err := e.EmbedApps(r.Context(), v)
	if err != nil {
		return err
	}
	d.Apps = apps
	for _, a := range apps {
		if a.ID == d.SecretFor && d.SecretName == "" {
			d.SecretName = a.Name
		}
	}
	return c.render(w, r, http.StatusOK, embedPage(c.chrome(v, "Embedding", "admin"), d))
}

// embedForm reads the app fields: lists one per line or separated by
// spaces or commas.
func embedForm(r *http.Request) EmbedAppForm {
	return EmbedAppForm{Name: strings.TrimSpace(r.PostForm.Get("name")), Origins: splitList(r.PostForm.Get("origins")),
		Teams: splitList(r.PostForm.Get("teams")), Channels: splitList(r.PostForm.Get("channels"))}
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

func embedDone(done string) string {
	switch done {
	case "saved":
		return "Saved. Tokens already issued follow the new teams and channels at once."
	case "revoked":
		return "Every token the app was issued so far is revoked; open embeds of it sign out within seconds."
	case "deleted":
		return "Deleted, with every token it was issued."
	}
	return ""
}
