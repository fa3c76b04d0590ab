package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/webapp/console"
)

// embedConsole is the admin console's Embedding page (console.Embeds)
// over the same functions as the JSON API: same checks, same audit.
type embedConsole struct{ s *Server }

func (c embedConsole) who(v *console.Viewer) *identity.Identity {
	return v.Data.(*identity.Identity)
}

// problem turns the API's errors into what the page shows.
func (c embedConsole) problem(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, registry.ErrEmbedAppNotFound) {
		return console.ErrNotFound
	}
	e := toError(err)
	if e.Status >= 500 {
		return err
	}
	title := "Not saved"
	if e.Status == http.StatusNotFound {
		title = "Not found"
	}
	return &console.Problem{Status: e.Status, Title: title, Message: e.Message}
}

func viewConsoleApp(a *registry.EmbedApp) console.EmbedApp {
	return console.EmbedApp{ID: a.ID, Name: a.Name, Origins: a.Origins, Teams: a.Teams, Channels: a.Channels,
		TokensNotBefore: a.TokensNotBefore, UpdatedAt: a.UpdatedAt}
}

func (c embedConsole) EmbedApps(ctx context.Context, v *console.Viewer) ([]console.EmbedApp, error) {
	if c.s.embed == nil {
		return nil, c.problem(errEmbedUnavailable)
	}
	apps, err := c.s.embed.app.Apps(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]console.EmbedApp, len(apps))
	for i := range apps {
		out[i] = viewConsoleApp(&apps[i])
	}
	return out, nil
}

func spec(f console.EmbedAppForm) EmbedAppSpec {
	return EmbedAppSpec{Name: f.Name, Origins: f.Origins, Teams: f.Teams, Channels: f.Channels}
}

func (c embedConsole) CreateEmbedApp(ctx context.Context, v *console.Viewer, f console.EmbedAppForm) (console.EmbedApp, string, error) {
	a, secret, err := c.s.createEmbedApp(ctx, c.who(v), spec(f))
	if err != nil {
		return console.EmbedApp{}, "", c.problem(err)
	}
	return viewConsoleApp(&a), secret, nil
}

func (c embedConsole) UpdateEmbedApp(ctx context.Context, v *console.Viewer, id string, f console.EmbedAppForm) error {
	_, err := c.s.updateEmbedApp(ctx, c.who(v), id, spec(f))
	return c.problem(err)
}

func (c embedConsole) RotateEmbedSecret(ctx context.Context, v *console.Viewer, id string) (string, error) {
	_, secret, err := c.s.rotateEmbedSecret(ctx, c.who(v), id)
	return secret, c.problem(err)
}

func (c embedConsole) RevokeEmbedTokens(ctx context.Context, v *console.Viewer, id string) error {
	_, err := c.s.revokeEmbedTokens(ctx, c.who(v), id)
	return c.problem(err)
}

func (c embedConsole) DeleteEmbedApp(ctx context.Context, v *console.Viewer, id string) error {
	return c.problem(c.s.deleteEmbedApp(ctx, c.who(v), id))
}
