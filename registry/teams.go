package registry

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TeamStates returns the state of every plugin the team ever changed, by
// plugin id. A team that never changed anything has an empty map, not an
// error: the registry does not know which teams exist.
func (b *Bolt) TeamStates(ctx context.Context, teamID string) (map[string]TeamState, error) {
	out := map[string]TeamState{}
	err := b.view(ctx, func(tx *bolt.Tx) error {
		team := tx.Bucket(bucketTeams).Bucket([]byte(teamID))
		if team == nil {
			return nil
		}
		return team.ForEach(func(k, v []byte) error {
			var s TeamState
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("decode state of %s: %w", k, err)
			}
			out[string(k)] = s
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("registry: team %s states: %w", teamID, err)
	}
	return out, nil
}

// PluginTeamStates returns, by team id, the state of one plugin in every team
// that ever changed it: what "disable everywhere" or an upgrade notice needs.
// It reads every team's bucket, so it costs one lookup per team.
func (b *Bolt) PluginTeamStates(ctx context.Context, pluginID string) (map[string]TeamState, error) {
	out := map[string]TeamState{}
	err := b.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketPlugins).Get([]byte(pluginID)) == nil {
			return ErrPluginNotFound
		}
		teams := tx.Bucket(bucketTeams)
		return teams.ForEachBucket(func(team []byte) error {
			var s TeamState
			found, err := getJSON(teams.Bucket(team), pluginID, &s)
			if found && err == nil {
				out[string(team)] = s
			}
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("registry: plugin %s team states: %w", pluginID, err)
	}
	return out, nil
}

// SetTeamState sets whether a team uses a plugin and which version it pins,
// with its audit entry, in one transaction. s.UpdatedBy is the actor and
// must be set; UpdatedAt comes from the store's clock. The plugin must exist
// (ErrPluginNotFound), and so must a pinned version (ErrVersionNotFound).
//
// The audit action is ActionEnable or ActionDisable when Enabled changes
// (Detail then also notes a pin change), else ActionPin with Detail "pinned
// 1.2.0" or "follow latest". Setting the state the team already has writes
// nothing, not even an audit entry, and returns the stored state.
func (b *Bolt) SetTeamState(ctx context.Context, s TeamState) (TeamState, error) {
	out, err := b.setTeamState(ctx, s)
	if err != nil {
		return TeamState{}, fmt.Errorf("registry: set team %s plugin %s: %w", s.TeamID, s.PluginID, err)
	}
	return out, nil
}

func (b *Bolt) setTeamState(ctx context.Context, s TeamState) (TeamState, error) {
	if err := checkTeamState(s); err != nil {
		return TeamState{}, err
	}
	var out TeamState
	err := b.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketPlugins).Get([]byte(s.PluginID)) == nil {
			return ErrPluginNotFound
		}
		if s.Version != "" {
			versions := tx.Bucket(bucketVersions).Bucket([]byte(s.PluginID))
			if versions == nil || versions.Get([]byte(s.Version)) == nil {
				return fmt.Errorf("pin %s: %w", s.Version, ErrVersionNotFound)
			}
		}
		team, err := tx.Bucket(bucketTeams).CreateBucketIfNotExists([]byte(s.TeamID))
		if err != nil {
			return err
		}
		prev := TeamState{TeamID: s.TeamID, PluginID: s.PluginID}
		if _, err := getJSON(team, s.PluginID, &prev); err != nil {
			return err
		}
		next, e, changed := planTeamState(prev, s, b.now)
		if !changed {
			out = prev
			return errUnchanged
		}
		if err := putJSON(team, s.PluginID, &next); err != nil {
			return err
		}
		if _, err := appendAudit(tx, e); err != nil {
			return err
		}
		out = next
		return nil
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return TeamState{}, err
	}
	return out, nil
}

// checkTeamState is what both stores require of a SetTeamState: a team,
// a plugin and an actor.
func checkTeamState(s TeamState) error {
	switch {
	case s.TeamID == "":
		return fmt.Errorf("%w: empty team id", ErrInvalid)
	case s.PluginID == "":
		return fmt.Errorf("%w: empty plugin id", ErrInvalid)
	case s.UpdatedBy == "":
		return fmt.Errorf("%w: no actor (UpdatedBy)", ErrInvalid)
	}
	return nil
}

// planTeamState is the write SetTeamState makes over prev, for both
// stores: nothing (changed false) when the switch and the pin are as they
// were, else the state to store, stamped by now (called only then), and
// its audit entry (teamStateAudit).
func planTeamState(prev, s TeamState, now func() time.Time) (next TeamState, e AuditEntry, changed bool) {
	if prev.Enabled == s.Enabled && prev.Version == s.Version {
		return TeamState{}, AuditEntry{}, false
	}
	next = TeamState{
		TeamID:    s.TeamID,
		PluginID:  s.PluginID,
		Enabled:   s.Enabled,
		Version:   s.Version,
		UpdatedBy: s.UpdatedBy,
		UpdatedAt: now(),
	}
	return next, teamStateAudit(prev, s, next.UpdatedAt), true
}

// teamStateAudit is the audit entry of a team state change from prev to s
// at at, for both stores: enable or disable when Enabled changed (with the
// pin in its detail when that changed too), else a pin; Version names the
// version the team serves (s.Served) when it follows the latest.
func teamStateAudit(prev, s TeamState, at time.Time) AuditEntry {
	pin := "follow latest"
	if s.Version != "" {
		pin = "pinned " + s.Version
	}
	e := AuditEntry{
		At:       at,
		Actor:    s.UpdatedBy,
		Action:   ActionPin,
		PluginID: s.PluginID,
		Version:  cmp.Or(s.Version, s.Served),
		TeamID:   s.TeamID,
		Detail:   pin,
	}
	if prev.Enabled != s.Enabled {
		e.Action = ActionDisable
		if s.Enabled {
			e.Action = ActionEnable
		}
		if prev.Version == s.Version {
			e.Detail = ""
		}
	}
	return e
}
