// Package notify decides who must hear of a change: which teams' open
// pages get plugin_enabled, plugin_disabled or plugin_updated when a
// team's state of a plugin changes or a version is stored. The HTTP edge
// delivers (the websocket hub, with each team's manifest entry, and in
// front of a Mattermost the relayed sockets); the decision, which follows
// the serving policy, is made here, once, for a change made on this server
// and for one read from another replica's change log alike.
//
// The package imports no net/http.
package notify

import (
	"context"
	"log/slog"
	"maps"
	"slices"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serving"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// Kind is what a team's pages are told. The first three are the events'
// names as Mattermost's webapp knows them.
type Kind string

const (
	Enabled  Kind = "plugin_enabled"
	Disabled Kind = "plugin_disabled"
	Updated  Kind = "plugin_updated"
	// Previews: the team serves the same version, but a pin now keeps
	// developers' previews out of it (or no longer does): only the
	// developers previewing the plugin are told, each their own entry.
	Previews Kind = "previews"
)

// Event is one team to tell about one plugin.
type Event struct {
	TeamID, PluginID string
	Kind             Kind
}

// Store is what the notifier reads of the registry.
type Store interface {
	PluginTeamStates(ctx context.Context, pluginID string) (map[string]registry.TeamState, error)
}

// ChangeLog is a store whose change log can be read (*registry.Postgres):
// a version another replica stored is judged against team states as of
// its row.
type ChangeLog interface {
	Changes(ctx context.Context, afterID int64, limit int) ([]registry.Change, error)
}

// MaxAsOfRows bounds how much of the change log one version's events read.
const MaxAsOfRows = 10 * registry.MaxChangesLimit

// Notifier turns changes into events.
type Notifier struct {
	store  Store
	policy *serving.Policy
	log    *slog.Logger
}

// New returns a Notifier reading store and asking policy.
func New(store Store, policy *serving.Policy, log *slog.Logger) *Notifier {
	return &Notifier{store: store, policy: policy, log: log}
}

// Subscribe has tell receive the events of every team-state change and
// stored version the feed carries, in the change's order.
func (n *Notifier) Subscribe(f *changes.Feed, tell func(context.Context, Event)) {
	f.Subscribe("plugin events", func(ctx context.Context, c changes.Change) {
		switch c := c.(type) {
		case changes.TeamStateChanged:
			if e, ok := n.TeamStateChanged(ctx, c); ok {
				tell(ctx, e)
			}
		case changes.VersionStored:
			for _, e := range n.VersionStored(ctx, c) {
				tell(ctx, e)
			}
		}
	})
}

// TeamStateChanged is what a team state change means for that team's
// pages: the plugin enabled, disabled, or (another served version)
// updated; or, serving the same version, a change of whether developers'
// previews show there (Previews). ok false: nothing to tell.
func (n *Notifier) TeamStateChanged(ctx context.Context, c changes.TeamStateChanged) (Event, bool) {
	e := Event{TeamID: c.TeamID, PluginID: c.Plugin.ID}
	served := func(st registry.TeamState) string {
		v, err := n.policy.Served(ctx, c.Plugin.ID, st)
		if err != nil {
			return "" // none served: the manifest leaves the plugin out
		}
		return v.Version
	}
	switch before, after := c.Before, c.After; {
	case !before.Enabled && after.Enabled:
		e.Kind = Enabled
	case before.Enabled && !after.Enabled:
		e.Kind = Disabled
	case after.Enabled && served(before) != served(after):
		e.Kind = Updated
	case after.Enabled && slots.Previewable(before) != slots.Previewable(after):
		e.Kind = Previews
	default:
		return e, false
	}
	return e, true
}

// VersionStored is plugin_updated for every team that now serves the
// stored version: it follows the latest, and the version is what the
// serving policy gives it (a release, at or above the minimum
// certification). Teams in id order.
//
// A version another replica stored (c.AsOf, its change row) may be
// applied here after later rows committed, so a team enabled after the
// push would get plugin_updated here and plugin_enabled from its own row.
// Such teams are judged by their state as of the push (StatesAsOf).
func (n *Notifier) VersionStored(ctx context.Context, c changes.VersionStored) []Event {
	v := c.Version
	states, err := n.store.PluginTeamStates(ctx, v.PluginID)
	if err != nil {
		n.log.Error("plugin event: team states", "plugin", v.PluginID, "err", err)
		return nil
	}
	if c.Remote() {
		// Read after the states: a change that reached them has its row
		// committed with it, so it is among the rows read here.
		states = n.StatesAsOf(ctx, v.PluginID, c.AsOf, states)
	}
	var out []Event
	for _, teamID := range slices.Sorted(maps.Keys(states)) {
		st := states[teamID]
		if st.Version != "" {
			continue // pinned: a push changes nothing
		}
		if served, err := n.policy.Served(ctx, v.PluginID, st); err == nil && served.Version == v.Version {
			out = append(out, Event{TeamID: teamID, PluginID: v.PluginID, Kind: Updated})
		}
	}
	return out
}

// StatesAsOf returns states (a plugin's team states now) as they were at
// change row asOf: a team that a later row changed gets that row's state
// before the change; one whose row does not carry it is left out (its own
// row's event tells it). Past MaxAsOfRows later rows, or when the log
// cannot be read (or the store keeps none), states are returned as they
// are.
func (n *Notifier) StatesAsOf(ctx context.Context, pluginID string, asOf int64, states map[string]registry.TeamState) map[string]registry.TeamState {
	log, ok := n.store.(ChangeLog)
	if !ok {
		return states
	}
	out := maps.Clone(states)
	seen := map[string]bool{}
	for read, after := 0, asOf; read < MaxAsOfRows; {
		rows, err := log.Changes(ctx, after, registry.MaxChangesLimit)
		if err != nil {
			n.log.Warn("plugin event: read the change log", "plugin", pluginID, "err", err)
			return states
		}
		for _, row := range rows {
			after = row.ID
			if row.Kind != registry.ChangeTeamState {
				continue
			}
			now, before, err := changes.TeamStateRow(row.Payload)
			if err != nil || now.PluginID != pluginID || seen[now.TeamID] {
				continue
			}
			seen[now.TeamID] = true
			if before == nil {
				delete(out, now.TeamID)
				continue
			}
			out[now.TeamID] = *before
		}
		read += len(rows)
		if len(rows) < registry.MaxChangesLimit {
			break
		}
	}
	return out
}
