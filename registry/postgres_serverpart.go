package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ChangeServerPart: a plugin's server part was pinned, unpinned, disabled
// or enabled (ChangeServerPartPayload): every replica must answer the
// plugin lists and the console with the new state.
const ChangeServerPart = "server_part"

// ChangeServerPartPayload is the payload of ChangeServerPart: the state as
// stored after the change.
type ChangeServerPartPayload struct {
	PluginID string `json:"plugin_id"`
	Pin      string `json:"pin,omitempty"`
	Disabled bool   `json:"disabled,omitempty"`
}

var _ ServerParts = (*Postgres)(nil)

// ServerPart implements ServerParts as Bolt.ServerPart does.
func (p *Postgres) ServerPart(ctx context.Context, pluginID string) (ServerPart, error) {
	out := ServerPart{PluginID: pluginID}
	err := p.read(ctx, func(q pgxQuerier) error {
		var raw string
		err := q.QueryRow(ctx, `SELECT record::text FROM server_parts WHERE plugin_id = $1`, pluginID).Scan(&raw)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		return scanJSON(raw, &out)
	})
	if err != nil {
		return ServerPart{}, fmt.Errorf("registry: server part %s: %w", pluginID, err)
	}
	return out, nil
}

// SetServerPart implements ServerParts as Bolt.SetServerPart does, with the
// plugin's server part row locked (a placeholder in the zero state is
// inserted first when there is none, and goes with a rollback), so two
// replicas setting one plugin's server part at once compare against each
// other's result, as bbolt's one writer does. A pinned version is held
// against a prune (FOR KEY SHARE) until commit.
func (p *Postgres) SetServerPart(ctx context.Context, s ServerPart, detail string) (ServerPart, error) {
	if err := checkServerPart(s); err != nil {
		return ServerPart{}, err
	}
	var out ServerPart
	err := p.tx(ctx, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM plugins WHERE id = $1`, s.PluginID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrPluginNotFound
		} else if err != nil {
			return err
		}
		if s.Pin != "" {
			err := tx.QueryRow(ctx, `SELECT 1 FROM versions WHERE plugin_id = $1 AND version = $2 FOR KEY SHARE`, s.PluginID, s.Pin).Scan(&one)
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("pin %s: %w", s.Pin, ErrVersionNotFound)
			} else if err != nil {
				return err
			}
		}
		placeholder, err := encodeJSON(&ServerPart{PluginID: s.PluginID})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO server_parts (plugin_id, record) VALUES ($1, $2) ON CONFLICT (plugin_id) DO NOTHING`,
			s.PluginID, placeholder); err != nil {
			return err
		}
		var raw string
		if err := tx.QueryRow(ctx, `SELECT record::text FROM server_parts WHERE plugin_id = $1 FOR UPDATE`, s.PluginID).Scan(&raw); err != nil {
			return err
		}
		prev := ServerPart{PluginID: s.PluginID}
		if err := scanJSON(raw, &prev); err != nil {
			return err
		}
		next, e, changed := planServerPart(prev, s, detail, p.now)
		if !changed {
			out = prev
			return errUnchanged
		}
		rec, err := encodeJSON(&next)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE server_parts SET record = $2 WHERE plugin_id = $1`, s.PluginID, rec); err != nil {
			return err
		}
		if _, err := pgAppendAudit(ctx, tx, e); err != nil {
			return err
		}
		out = next
		return p.appendChange(ctx, tx, ChangeServerPart, ChangeServerPartPayload{PluginID: s.PluginID, Pin: s.Pin, Disabled: s.Disabled})
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return ServerPart{}, fmt.Errorf("registry: set server part %s: %w", s.PluginID, err)
	}
	return out, nil
}
