package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

var _ Settings = (*Postgres)(nil)

// Setting implements Settings.
func (p *Postgres) Setting(ctx context.Context, name string) ([]byte, error) {
	var out []byte
	err := p.read(ctx, func(q pgxQuerier) error {
		err := q.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&out)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrSettingNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("registry: setting %s: %w", name, err)
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// InitSetting implements Settings: INSERT ... ON CONFLICT DO NOTHING, so of
// replicas starting at once the first to commit wins and the others read
// its value.
func (p *Postgres) InitSetting(ctx context.Context, name string, value []byte, actor string) ([]byte, error) {
	if err := checkSetting(name, value, actor); err != nil {
		return nil, fmt.Errorf("registry: init setting: %w", err)
	}
	var out []byte
	err := p.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO settings (name, value, updated_by, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (name) DO NOTHING`, name, value, actor, p.now())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			if err := tx.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&out); err != nil {
				return err
			}
			return errUnchanged
		}
		out = bytes.Clone(value)
		if _, err := pgAppendAudit(ctx, tx, AuditEntry{At: p.now(), Actor: actor, Action: ActionSetting, Detail: "initialised " + name}); err != nil {
			return err
		}
		return p.appendChange(ctx, tx, ChangeSetting, ChangeSettingPayload{Name: name})
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return nil, fmt.Errorf("registry: init setting %s: %w", name, err)
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// SetSetting implements Settings.
func (p *Postgres) SetSetting(ctx context.Context, name string, value []byte, actor string) error {
	if err := checkSetting(name, value, actor); err != nil {
		return fmt.Errorf("registry: set setting: %w", err)
	}
	err := p.tx(ctx, func(tx pgx.Tx) error {
		var cur []byte
		err := tx.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1 FOR UPDATE`, name).Scan(&cur)
		switch {
		case err == nil && bytes.Equal(cur, value):
			return errUnchanged
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO settings (name, value, updated_by, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			name, value, actor, p.now()); err != nil {
			return err
		}
		if _, err := pgAppendAudit(ctx, tx, AuditEntry{At: p.now(), Actor: actor, Action: ActionSetting, Detail: "set " + name}); err != nil {
			return err
		}
		return p.appendChange(ctx, tx, ChangeSetting, ChangeSettingPayload{Name: name})
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return fmt.Errorf("registry: set setting %s: %w", name, err)
	}
	return nil
}

// AllSettings implements Settings.
func (p *Postgres) AllSettings(ctx context.Context) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := p.read(ctx, func(q pgxQuerier) error {
		rows, err := q.Query(ctx, `SELECT name, value FROM settings`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			var v []byte
			if err := rows.Scan(&name, &v); err != nil {
				return err
			}
			if v == nil {
				v = []byte{}
			}
			out[name] = v
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("registry: settings: %w", err)
	}
	return out, nil
}
