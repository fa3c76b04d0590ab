package console

import "context"

// MattermostPlugin is a plugin the Mattermost behind mmtoolkit runs itself
// (an entry of its GET /api/v4/plugins/webapp): listed read-only, since
// Mattermost runs it for every team and its own System Console manages it.
type MattermostPlugin struct {
	ID      string
	Version string
	// Here is true when mmtoolkit has a plugin with this id too.
	Here bool
}

// MattermostSource is implemented by a Source in front of a Mattermost
// (serve --upstream). MattermostPlugins is nil without one (the sandbox),
// and an error when Mattermost did not answer: the page then says so.
// PluginConflict is the server's rule for an id on both sides ("mmtoolkit"
// or "upstream", serve --plugin-conflict).
type MattermostSource interface {
	MattermostPlugins(ctx context.Context) ([]MattermostPlugin, error)
	PluginConflict() string
}

// mattermostPlugins is what the index lists under "Installed on
// Mattermost": nil (no section) when the source has no Mattermost.
type mattermostPlugins struct {
	Plugins []MattermostPlugin
	Rule    string
	Err     string
}

func (c *Console) mattermostPlugins(ctx context.Context) *mattermostPlugins {
	ms, ok := c.cfg.Source.(MattermostSource)
	if !ok {
		return nil
	}
	list, err := ms.MattermostPlugins(ctx)
	if err != nil {
		c.cfg.Logger.Warn("console: Mattermost's plugin list", "err", err)
		return &mattermostPlugins{Rule: ms.PluginConflict(), Err: "Mattermost did not answer with its plugin list; reload the page to ask again."}
	}
	if list == nil {
		return nil
	}
	return &mattermostPlugins{Plugins: list, Rule: ms.PluginConflict()}
}
