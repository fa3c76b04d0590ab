package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// PutVersion implements Store as Bolt.PutVersion does, in one transaction:
// the plugin's row is locked first (inserted if new), so pushes of one
// plugin run one at a time and ownership, the version list and the audit
// entry agree; pushes of other plugins run side by side. Blobs are inserted
// ON CONFLICT DO NOTHING, so two pushes sharing a new bundle both succeed.
// A connection lost at any point before COMMIT leaves nothing.
func (p *Postgres) PutVersion(ctx context.Context, v *Version, blobs map[string][]byte, by Pusher) (PutResult, error) {
	if v == nil {
		return PutResult{}, fmt.Errorf("registry: put: %w: nil version", ErrInvalid)
	}
	res, err := p.putVersion(ctx, v, blobs, by)
	if err != nil {
		return PutResult{}, fmt.Errorf("registry: put %s@%s: %w", v.PluginID, v.Version, err)
	}
	return res, nil
}

func (p *Postgres) putVersion(ctx context.Context, v *Version, blobs map[string][]byte, by Pusher) (PutResult, error) {
	refs, err := checkPut(v, blobs, by)
	if err != nil {
		return PutResult{}, err
	}
	var res PutResult
	err = p.tx(ctx, func(tx pgx.Tx) error {
		res = PutResult{}
		now := p.now()
		fresh, err := encodeJSON(&Plugin{ID: v.PluginID, Owner: by.UserID, CreatedAt: now})
		if err != nil {
			return err
		}
		// Insert-or-lock: a concurrent first push of the same id waits
		// here for the other's commit, then finds its row.
		var inserted bool
		var raw string
		if err := tx.QueryRow(ctx, `WITH ins AS (
				INSERT INTO plugins (id, record) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING record::text)
			SELECT true, record FROM ins`, v.PluginID, fresh).Scan(&inserted, &raw); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if !inserted {
			if err := tx.QueryRow(ctx, `SELECT record::text FROM plugins WHERE id = $1 FOR UPDATE`, v.PluginID).Scan(&raw); err != nil {
				return err
			}
		}
		var pl Plugin
		if err := scanJSON(raw, &pl); err != nil {
			return fmt.Errorf("plugin %s: %w", v.PluginID, err)
		}
		if inserted {
			pl.Versions = nil // a fresh record, not yet listing this version
		} else if err := checkOwner(v.PluginID, pl.Owner, by); err != nil {
			return err
		}

		var storedRaw string
		err = tx.QueryRow(ctx, `SELECT record::text FROM versions WHERE plugin_id = $1 AND version = $2`, v.PluginID, v.Version).Scan(&storedRaw)
		switch {
		case err == nil:
			stored := new(Version)
			if err := scanJSON(storedRaw, stored); err != nil {
				return fmt.Errorf("stored version: %w", err)
			}
			e, certified, err := planRepush(stored, v, by, func() time.Time { return now })
			if err != nil {
				return err
			}
			if !certified {
				res = PutResult{Created: false, Version: stored}
				return errUnchanged
			}
			rec, err := encodeJSON(stored)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE versions SET record = $3 WHERE plugin_id = $1 AND version = $2`, v.PluginID, v.Version, rec); err != nil {
				return err
			}
			if _, err := pgAppendAudit(ctx, tx, e); err != nil {
				return err
			}
			res = PutResult{Created: false, Certified: true, Version: stored}
			return p.appendChange(ctx, tx, ChangeVersion, ChangeVersionPayload{PluginID: v.PluginID, Version: v.Version, Certified: true})
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}

		// Which named blobs are stored, and their sizes, share-locked: a
		// prune that would collect one waits for this push to commit, and
		// then sees it named (PrunePrereleases).
		shas := make([]string, 0, len(refs))
		for _, r := range refs {
			shas = append(shas, r.sha256)
		}
		storedSize := map[string]int64{}
		rows, err := tx.Query(ctx, `SELECT sha256, size FROM blobs WHERE sha256 = ANY($1) ORDER BY sha256 FOR SHARE`, shas)
		if err != nil {
			return err
		}
		for rows.Next() {
			var sha string
			var size int64
			if err := rows.Scan(&sha, &size); err != nil {
				rows.Close()
				return err
			}
			storedSize[sha] = size
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		toWrite, err := planBlobs(refs, blobs, func(sha string) (int64, bool) {
			size, ok := storedSize[sha]
			return size, ok
		})
		if err != nil {
			return err
		}
		if err := insertBlobs(ctx, tx, toWrite, blobs); err != nil {
			return err
		}

		rec, e := planNewVersion(&pl, !inserted, v, by, now)
		recRaw, err := encodeJSON(&rec)
		if err != nil {
			return fmt.Errorf("version: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO versions (plugin_id, version, pushed_by, record) VALUES ($1, $2, $3, $4)`,
			v.PluginID, v.Version, by.UserID, recRaw); err != nil {
			return err
		}

		plRaw, err := encodeJSON(&pl)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE plugins SET record = $2 WHERE id = $1`, pl.ID, plRaw); err != nil {
			return err
		}
		if _, err := pgAppendAudit(ctx, tx, e); err != nil {
			return err
		}
		out := new(Version)
		if err := scanJSON(recRaw, out); err != nil {
			return err
		}
		res = PutResult{Created: true, Version: out}
		return p.appendChange(ctx, tx, ChangeVersion, ChangeVersionPayload{PluginID: v.PluginID, Version: v.Version})
	})
	if errors.Is(err, errUnchanged) {
		return res, nil
	}
	if err != nil {
		return PutResult{}, err
	}
	return res, nil
}

// insertBlobs writes the blobs shas names, in one batch (one round trip),
// skipping any a concurrent transaction stored first.
func insertBlobs(ctx context.Context, tx pgx.Tx, shas []string, data map[string][]byte) error {
	if len(shas) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, sha := range shas {
		b.Queue(`INSERT INTO blobs (sha256, size, data) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING`,
			sha, int64(len(data[sha])), data[sha])
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("store blobs: %w", err)
	}
	return nil
}

// Plugin implements Store.
func (p *Postgres) Plugin(ctx context.Context, id string) (*Plugin, error) {
	pl := new(Plugin)
	err := p.read(ctx, func(q pgxQuerier) error {
		var raw string
		err := q.QueryRow(ctx, `SELECT record::text FROM plugins WHERE id = $1`, id).Scan(&raw)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrPluginNotFound
		}
		if err != nil {
			return err
		}
		return scanJSON(raw, pl)
	})
	if err != nil {
		return nil, fmt.Errorf("registry: plugin %s: %w", id, err)
	}
	return pl, nil
}

// Plugins implements Store: every plugin sorted by id, byte order (COLLATE
// "C"), as Bolt's keys are.
func (p *Postgres) Plugins(ctx context.Context) ([]*Plugin, error) {
	out := []*Plugin{}
	err := p.read(ctx, func(q pgxQuerier) error {
		rows, err := q.Query(ctx, `SELECT id, record::text FROM plugins ORDER BY id COLLATE "C"`)
		return keyedRecords(rows, err, func(id string) string { return "plugin " + id },
			func(_ string, pl *Plugin) { out = append(out, pl) })
	})
	if err != nil {
		return nil, fmt.Errorf("registry: plugins: %w", err)
	}
	return out, nil
}

// Version implements Store: ErrPluginNotFound for an unknown plugin,
// ErrVersionNotFound for a known plugin without that version.
func (p *Postgres) Version(ctx context.Context, pluginID, version string) (*Version, error) {
	v := new(Version)
	err := p.read(ctx, func(q pgxQuerier) error {
		var raw *string
		err := q.QueryRow(ctx, `SELECT (SELECT record::text FROM versions WHERE plugin_id = $1 AND version = $2)
			FROM plugins WHERE id = $1`, pluginID, version).Scan(&raw)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return ErrPluginNotFound
		case err != nil:
			return err
		case raw == nil:
			return ErrVersionNotFound
		}
		return scanJSON(*raw, v)
	})
	if err != nil {
		return nil, fmt.Errorf("registry: version %s@%s: %w", pluginID, version, err)
	}
	return v, nil
}

// Blob implements Store.
func (p *Postgres) Blob(ctx context.Context, sha string) ([]byte, error) {
	var out []byte
	err := p.read(ctx, func(q pgxQuerier) error {
		err := q.QueryRow(ctx, `SELECT data FROM blobs WHERE sha256 = $1`, sha).Scan(&out)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrBlobNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("registry: blob %s: %w", sha, err)
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// TeamStates implements Store.
func (p *Postgres) TeamStates(ctx context.Context, teamID string) (map[string]TeamState, error) {
	out := map[string]TeamState{}
	err := p.read(ctx, func(q pgxQuerier) error {
		return collectStates(q.Query(ctx, `SELECT plugin_id, record::text FROM team_states WHERE team_id = $1`, teamID))(out)
	})
	if err != nil {
		return nil, fmt.Errorf("registry: team %s states: %w", teamID, err)
	}
	return out, nil
}

// PluginTeamStates implements Store.
func (p *Postgres) PluginTeamStates(ctx context.Context, pluginID string) (map[string]TeamState, error) {
	out := map[string]TeamState{}
	err := p.readTx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM plugins WHERE id = $1`, pluginID).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
			return ErrPluginNotFound
		} else if err != nil {
			return err
		}
		return collectStates(tx.Query(ctx, `SELECT team_id, record::text FROM team_states WHERE plugin_id = $1`, pluginID))(out)
	})
	if err != nil {
		return nil, fmt.Errorf("registry: plugin %s team states: %w", pluginID, err)
	}
	return out, nil
}

// collectStates reads (key, TeamState JSON) rows into a map by key.
func collectStates(rows pgx.Rows, err error) func(map[string]TeamState) error {
	return func(out map[string]TeamState) error {
		return keyedRecords(rows, err, func(k string) string { return "state of " + k },
			func(k string, s *TeamState) { out[k] = *s })
	}
}

// SetTeamState implements Store as Bolt.SetTeamState does. The plugin's
// row is share-locked (a prune cannot remove the pinned version meanwhile)
// and the state's row locked, so two changes of one team's plugin apply in
// the order of their audit entries.
func (p *Postgres) SetTeamState(ctx context.Context, s TeamState) (TeamState, error) {
	out, err := p.setTeamState(ctx, s)
	if err != nil {
		return TeamState{}, fmt.Errorf("registry: set team %s plugin %s: %w", s.TeamID, s.PluginID, err)
	}
	return out, nil
}

func (p *Postgres) setTeamState(ctx context.Context, s TeamState) (TeamState, error) {
	if err := checkTeamState(s); err != nil {
		return TeamState{}, err
	}
	var out TeamState
	err := p.tx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM plugins WHERE id = $1 FOR SHARE`, s.PluginID).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
			return ErrPluginNotFound
		} else if err != nil {
			return err
		}
		if s.Version != "" {
			err := tx.QueryRow(ctx, `SELECT 1 FROM versions WHERE plugin_id = $1 AND version = $2`, s.PluginID, s.Version).Scan(&one)
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("pin %s: %w", s.Version, ErrVersionNotFound)
			} else if err != nil {
				return err
			}
		}
		// Make sure the row exists, then lock it: a first change of a
		// team's plugin has no row to lock yet.
		placeholder, err := encodeJSON(TeamState{TeamID: s.TeamID, PluginID: s.PluginID})
		if err != nil {
			return err
		}
		var inserted bool
		var raw string
		if err := tx.QueryRow(ctx, `WITH ins AS (
				INSERT INTO team_states (team_id, plugin_id, record) VALUES ($1, $2, $3)
				ON CONFLICT (team_id, plugin_id) DO NOTHING RETURNING record::text)
			SELECT true, record FROM ins`, s.TeamID, s.PluginID, placeholder).Scan(&inserted, &raw); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if !inserted {
			if err := tx.QueryRow(ctx, `SELECT record::text FROM team_states WHERE team_id = $1 AND plugin_id = $2 FOR UPDATE`,
				s.TeamID, s.PluginID).Scan(&raw); err != nil {
				return err
			}
		}
		prev := TeamState{TeamID: s.TeamID, PluginID: s.PluginID}
		if err := scanJSON(raw, &prev); err != nil {
			return err
		}
		next, e, changed := planTeamState(prev, s, p.now)
		if !changed {
			// The placeholder (if just inserted) goes with the rollback.
			if inserted {
				prev = TeamState{TeamID: s.TeamID, PluginID: s.PluginID}
			}
			out = prev
			return errUnchanged
		}
		rec, err := encodeJSON(&next)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE team_states SET record = $3 WHERE team_id = $1 AND plugin_id = $2`, s.TeamID, s.PluginID, rec); err != nil {
			return err
		}
		if _, err := pgAppendAudit(ctx, tx, e); err != nil {
			return err
		}
		out = next
		return p.appendChange(ctx, tx, ChangeTeamState, ChangeTeamStatePayload{TeamID: s.TeamID, PluginID: s.PluginID, Enabled: s.Enabled, Version: s.Version,
			WasEnabled: prev.Enabled, WasVersion: prev.Version})
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return TeamState{}, err
	}
	return out, nil
}

// Audit implements Store: newest first, at most f.Limit (0 means
// DefaultAuditLimit, more than MaxAuditLimit is capped), each filter an
// index scan.
func (p *Postgres) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	limit := f.limit()
	out := []AuditEntry{}
	err := p.read(ctx, func(q pgxQuerier) error {
		// Only the filters given, so the planner picks their index.
		where, args := []string{"true"}, []any{}
		for _, c := range [][2]string{{"actor", f.Actor}, {"plugin_id", f.PluginID}, {"team_id", f.TeamID}} {
			if c[1] != "" {
				args = append(args, c[1])
				where = append(where, fmt.Sprintf("%s = $%d", c[0], len(args)))
			}
		}
		args = append(args, limit)
		rows, err := q.Query(ctx, fmt.Sprintf(`SELECT record::text FROM audit WHERE %s ORDER BY seq DESC LIMIT $%d`,
			strings.Join(where, " AND "), len(args)), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var raw string
			if err := rows.Scan(&raw); err != nil {
				return err
			}
			var e AuditEntry
			if err := scanJSON(raw, &e); err != nil {
				return fmt.Errorf("audit entry: %w", err)
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("registry: audit: %w", err)
	}
	return out, nil
}
