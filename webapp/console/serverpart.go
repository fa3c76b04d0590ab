package console

import (
	"context"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"
)

// ServerPart is a plugin's Mattermost server part as the plugin page shows
// it: what mmtoolkit wants (the version it follows or is pinned to,
// whether the kill switch turned it off) and what Mattermost has.
type ServerPart struct {
	// Versions that have a server part, newest first.
	Versions []string
	// Pin is the version a system admin pinned, "" to follow the latest
	// (Follows).
	Pin, Follows string
	// Disabled: the kill switch turned it off on Mattermost.
	Disabled bool
	// Mattermost is false when no Mattermost is behind (the sandbox).
	Mattermost bool
	// State on Mattermost: "running", "disabled", "failed",
	// "not_installed" or "unknown"; Version what it has installed; Error
	// why it failed, or why the state is unknown.
	State, Version, Error string
}

// ServerParts is what a Source offers when plugins may carry a Mattermost
// server part (server/serverpart.go): the plugin page then shows its
// state, and system admins pin its version and enable or disable it.
type ServerParts interface {
	// ServerPart returns the plugin's server part (nil when no version
	// has one), asking Mattermost as v may.
	ServerPart(ctx context.Context, v *Viewer, pluginID string) (*ServerPart, error)
	// SetServerPart makes Mattermost run pin's server part ("" follows
	// the latest), enabled or not (system admins only).
	SetServerPart(ctx context.Context, v *Viewer, pluginID, pin string, enabled bool) error
}

// serverPartOf is the plugin page's server part section, nil without one.
func (c *Console) serverPartOf(ctx context.Context, v *Viewer, id string) (*ServerPart, error) {
	sp, ok := c.cfg.Source.(ServerParts)
	if !ok {
		return nil, nil
	}
	return sp.ServerPart(ctx, v, id)
}

// setServerPart is POST /admin/plugins/{id}/server-part: form version
// ("latest" or a version with a server part) and action "enable" or
// "disable"; 303 to the plugin page.
func (c *Console) setServerPart(w http.ResponseWriter, r *http.Request, v *Viewer) error {
	if !v.SystemAdmin {
		return &Problem{http.StatusForbidden, "System admins only",
			"Only a system admin may change a plugin's server part: Mattermost runs it for every team."}
	}
	sp, ok := c.cfg.Source.(ServerParts)
	if !ok {
		return ErrNotFound
	}
	id := chi.URLParam(r, "id")
	pin := r.PostForm.Get("version")
	if pin == "latest" {
		pin = ""
	}
	var enabled bool
	switch r.PostForm.Get("action") {
	case "enable":
		enabled = true
	case "disable":
	default:
		return &Problem{http.StatusBadRequest, "Bad request", "Choose Enable or Disable."}
	}
	if err := sp.SetServerPart(r.Context(), v, id, pin, enabled); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/plugins/"+url.PathEscape(id)+"#server-part", http.StatusSeeOther)
	return nil
}

// serverPartState is the words the page shows for a state.
func serverPartState(sp *ServerPart) string {
	switch sp.State {
	case "running":
		return "Running on Mattermost"
	case "disabled":
		return "Installed on Mattermost, disabled"
	case "failed":
		return "Installed on Mattermost, failed to start"
	case "not_installed":
		if !sp.Mattermost {
			return "Not installed: no Mattermost"
		}
		return "Not installed on Mattermost"
	}
	return "Unknown"
}
