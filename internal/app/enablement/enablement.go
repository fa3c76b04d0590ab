// Package enablement changes which plugins a team serves: a team admin's
// enable, disable, pin and rollback, and a system admin's kill switch (the
// plugin disabled in every team). Each change is checked against the
// serving policy (a version below the minimum certification cannot be
// enabled), written with its audit entry in one registry transaction, and
// published to the change feed as changes.TeamStateChanged, which is how
// manifests, merged plugin lists, the console and every open page hear of
// it, on this server and, through the change log, on every replica.
//
// Before this package the server held these rules next to its routes; the
// JSON API, the console and the kill switch now share one Service. Who may
// make a change (a team admin of that team, a system admin) is the
// caller's check: the HTTP edge knows the caller.
//
// The package imports no net/http.
package enablement

import (
	"context"
	"errors"
	"slices"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serving"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// Store is what enablement needs of the registry.
type Store interface {
	Plugin(ctx context.Context, id string) (*registry.Plugin, error)
	TeamStates(ctx context.Context, teamID string) (map[string]registry.TeamState, error)
	PluginTeamStates(ctx context.Context, pluginID string) (map[string]registry.TeamState, error)
	SetTeamState(ctx context.Context, s registry.TeamState) (registry.TeamState, error)
	Audit(ctx context.Context, f registry.AuditFilter) ([]registry.AuditEntry, error)
}

// Service makes team-state changes. It is safe for concurrent use.
type Service struct {
	store  Store
	policy *serving.Policy
	feed   *changes.Feed
}

// New returns a Service writing to store, checking with policy and
// publishing to feed.
func New(store Store, policy *serving.Policy, feed *changes.Feed) *Service {
	return &Service{store: store, policy: policy, feed: feed}
}

// Latest is the version argument of Set that makes the team follow the
// plugin's latest release ("" does too).
const Latest = "latest"

// Set is the one path that changes a plugin's state for a team: enabled
// or not, and with version non-nil its pin ("" or Latest follows the
// latest release; nil keeps the current pin). Enabling checks the version
// against the serving policy (serving.TooLowError, serving.NotServedError).
// The audit entry names the version the change concerns: the one the team
// serves now (enable, pin), or served until now (disable). actor is the
// user making the change, checked by the caller.
func (s *Service) Set(ctx context.Context, actor, teamID, pluginID string, enabled bool, version *string) (registry.TeamState, *registry.Plugin, error) {
	p, err := s.store.Plugin(ctx, pluginID)
	if err != nil {
		return registry.TeamState{}, nil, err
	}
	states, err := s.store.TeamStates(ctx, teamID)
	if err != nil {
		return registry.TeamState{}, nil, err
	}
	st := states[p.ID]
	before := st
	st.TeamID, st.PluginID, st.Enabled, st.UpdatedBy = teamID, p.ID, enabled, actor
	if version != nil {
		st.Version = *version
		if st.Version == Latest {
			st.Version = ""
		}
	}
	if st.Enabled {
		if err := s.policy.CheckEnable(ctx, p, st.Version); err != nil {
			return registry.TeamState{}, nil, err
		}
	}
	concerned := st.Version
	if !st.Enabled {
		concerned = before.Version
	}
	if v, err := s.policy.Effective(ctx, p.ID, concerned); err == nil {
		st.Served = v.Version
	}
	st, err = s.store.SetTeamState(ctx, st)
	if err != nil {
		return registry.TeamState{}, nil, err
	}
	s.feed.Publish(ctx, changes.TeamStateChanged{TeamID: teamID, Plugin: p, Before: before, After: st})
	return st, p, nil
}

// DisableEverywhere is the kill switch's part in the registry: pluginID is
// disabled in every team that has it enabled, in team id order, each team
// keeping its pin (one audit entry and one TeamStateChanged per team). It
// returns the teams it disabled, those done before an error with it.
func (s *Service) DisableEverywhere(ctx context.Context, actor, pluginID string) ([]string, error) {
	if _, err := s.store.Plugin(ctx, pluginID); err != nil {
		return nil, err
	}
	states, err := s.store.PluginTeamStates(ctx, pluginID)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, teamID := range slices.Sorted(func(yield func(string) bool) {
		for id := range states {
			if !yield(id) {
				return
			}
		}
	}) {
		if !states[teamID].Enabled {
			continue
		}
		if _, _, err := s.Set(ctx, actor, teamID, pluginID, false, nil); err != nil {
			return done, err
		}
		done = append(done, teamID)
	}
	return done, nil
}

// NoPreviousVersionError is Rollback's answer when the team has served no
// other version of the plugin than the one it serves now.
type NoPreviousVersionError struct {
	PluginID string
	// Current is the version the team serves now ("" for none).
	Current string
	// Never: the team has never served the plugin.
	Never bool
}

func (e *NoPreviousVersionError) Error() string {
	if e.Never {
		return "the team has never served " + e.PluginID + ": nothing to roll back to"
	}
	return "the team has served only version " + e.Current + " of " + e.PluginID + ": nothing to roll back to"
}

// Rollback pins, for teamID, the version the team served before the one
// it serves now (ServedHistory), keeping the plugin enabled or disabled as
// it is. It returns the new state and the versions rolled back from and to.
func (s *Service) Rollback(ctx context.Context, actor, teamID, pluginID string) (st registry.TeamState, p *registry.Plugin, from, to string, err error) {
	p, err = s.store.Plugin(ctx, pluginID)
	if err != nil {
		return st, nil, "", "", err
	}
	states, err := s.store.TeamStates(ctx, teamID)
	if err != nil {
		return st, nil, "", "", err
	}
	from, err = s.policy.ServedVersion(ctx, pluginID, states[pluginID].Version)
	if err != nil {
		return st, nil, "", "", err
	}
	history, err := s.ServedHistory(ctx, teamID, p)
	if err != nil {
		return st, nil, "", "", err
	}
	for i := len(history) - 1; i >= 0; i-- {
		if history[i] != from {
			to = history[i]
			break
		}
	}
	if to == "" {
		return st, nil, "", "", &NoPreviousVersionError{PluginID: pluginID, Current: from, Never: len(history) == 0}
	}
	st, p, err = s.Set(ctx, actor, teamID, pluginID, states[pluginID].Enabled, &to)
	return st, p, from, to, err
}

// ServedHistory replays the plugin's audit log (its newest
// registry.MaxAuditLimit entries) for one team: the versions the team
// served while it had the plugin enabled, oldest first, each change once.
// A pin serves its version; following the latest serves the newest release
// pushed by then (slots.Effective's rule) that still exists and meets the
// minimum certification. Pins are read from the entries' Detail ("pinned
// X", "follow latest", empty when the pin did not change), which
// registry.SetTeamState writes for enable, disable and pin alike.
func (s *Service) ServedHistory(ctx context.Context, teamID string, p *registry.Plugin) ([]string, error) {
	entries, err := s.store.Audit(ctx, registry.AuditFilter{PluginID: p.ID, Limit: registry.MaxAuditLimit})
	if err != nil {
		return nil, err
	}
	src := s.policy.Source()
	servable := map[string]bool{} // version -> exists at the minimum certification
	canServe := func(v string) (bool, error) {
		ok, seen := servable[v]
		if seen {
			return ok, nil
		}
		_, err := src.Version(ctx, p.ID, v)
		switch {
		case err == nil:
			ok = true
		case errors.Is(err, registry.ErrVersionNotFound) || errors.Is(err, registry.ErrPluginNotFound):
		default:
			return false, err
		}
		servable[v] = ok
		return ok, nil
	}
	var (
		pushed  []string // releases pushed so far
		enabled bool
		pin     string
		history []string
	)
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		switch {
		case e.Action == registry.ActionPush && e.TeamID == "":
			if !slots.IsPrerelease(e.Version) {
				pushed = append(pushed, e.Version)
			}
		case e.TeamID != teamID:
			continue
		case e.Action == registry.ActionEnable || e.Action == registry.ActionDisable || e.Action == registry.ActionPin:
			if e.Action != registry.ActionPin {
				enabled = e.Action == registry.ActionEnable
			}
			switch d := e.Detail; {
			case d == "follow latest":
				pin = ""
			case strings.HasPrefix(d, "pinned "):
				pin = strings.TrimPrefix(d, "pinned ")
			}
		default:
			continue
		}
		if !enabled {
			continue
		}
		served := ""
		if pin != "" {
			if ok, err := canServe(pin); err != nil {
				return nil, err
			} else if ok {
				served = pin
			}
		} else {
			// The newest release pushed by now that is still served.
			cands := slices.Clone(pushed)
			slices.SortFunc(cands, compareSemver)
			for j := len(cands) - 1; j >= 0; j-- {
				ok, err := canServe(cands[j])
				if err != nil {
					return nil, err
				}
				if ok {
					served = cands[j]
					break
				}
			}
		}
		if served != "" && (len(history) == 0 || history[len(history)-1] != served) {
			history = append(history, served)
		}
	}
	return history, nil
}

func compareSemver(a, b string) int { return semver.Compare("v"+a, "v"+b) }
