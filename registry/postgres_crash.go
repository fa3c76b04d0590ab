package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var _ CrashLog = (*Postgres)(nil)

// ReportCrash implements CrashLog as Bolt.ReportCrash does, in one
// transaction that locks the version's health row (created on the first
// report), so concurrent reports of a version all count. It appends no
// change row: no replica keeps health in memory (it is read from the
// database when asked), and a crash storm should not queue on the lock
// that orders the change log.
func (p *Postgres) ReportCrash(ctx context.Context, c CrashReport) (Health, error) {
	var h healthRecord
	err := p.tx(ctx, func(tx pgx.Tx) error {
		h = healthRecord{}
		var hasPlugin, hasVersion bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM plugins WHERE id = $1),
				EXISTS (SELECT 1 FROM versions WHERE plugin_id = $1 AND version = $2)`,
			c.PluginID, c.Version).Scan(&hasPlugin, &hasVersion); err != nil {
			return err
		}
		switch {
		case !hasPlugin:
			return ErrPluginNotFound
		case !hasVersion:
			return ErrVersionNotFound
		}
		// Make sure the row exists, then lock it. The foreign key holds
		// the version against a prune until commit; a prune that won the
		// race leaves the insert a foreign key violation.
		if _, err := tx.Exec(ctx, `INSERT INTO crash_health (plugin_id, version, record) VALUES ($1, $2, '{}')
			ON CONFLICT (plugin_id, version) DO NOTHING`, c.PluginID, c.Version); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23503" {
				return ErrVersionNotFound
			}
			return err
		}
		var raw string
		if err := tx.QueryRow(ctx, `SELECT record::text FROM crash_health WHERE plugin_id = $1 AND version = $2 FOR UPDATE`,
			c.PluginID, c.Version).Scan(&raw); err != nil {
			return err
		}
		if err := scanJSON(raw, &h); err != nil {
			return fmt.Errorf("health of %s: %w", c.Version, err)
		}
		h.add(c, p.now)
		rec, err := encodeJSON(&h)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE crash_health SET record = $3 WHERE plugin_id = $1 AND version = $2`, c.PluginID, c.Version, rec)
		return err
	})
	if err != nil {
		return Health{}, fmt.Errorf("registry: report crash of %s@%s: %w", c.PluginID, c.Version, err)
	}
	return h.Health, nil
}

// PluginHealth implements CrashLog as Bolt.PluginHealth does.
func (p *Postgres) PluginHealth(ctx context.Context, pluginID string) (map[string]Health, error) {
	out := map[string]Health{}
	err := p.read(ctx, func(q pgxQuerier) error {
		rows, err := q.Query(ctx, `SELECT version, record::text FROM crash_health WHERE plugin_id = $1`, pluginID)
		return keyedRecords(rows, err, func(version string) string { return "health of " + version },
			func(version string, h *healthRecord) { out[version] = h.Health })
	})
	if err != nil {
		return nil, fmt.Errorf("registry: health of %s: %w", pluginID, err)
	}
	return out, nil
}
