package registry

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Change kinds of embedding. Token issues and ended sessions append none:
// no replica keeps tokens in memory, and an issue per user per quarter of
// an hour would crowd the log; revocations do, so that a replica holding
// the token's websocket ends it at once rather than at its next check.
const (
	// ChangeEmbedApp: an app was created, changed (revoke-all included)
	// or deleted (ChangeEmbedAppPayload).
	ChangeEmbedApp = "embed_app"
	// ChangeEmbedToken: a token was revoked (ChangeEmbedTokenPayload).
	ChangeEmbedToken = "embed_token"
)

// ChangeEmbedAppPayload is the payload of ChangeEmbedApp.
type ChangeEmbedAppPayload struct {
	AppID string `json:"app_id"`
	// Action is the audit action (ActionEmbed*).
	Action string `json:"action"`
}

// ChangeEmbedTokenPayload is the payload of ChangeEmbedToken.
type ChangeEmbedTokenPayload struct {
	AppID   string `json:"app_id"`
	TokenID string `json:"token_id"`
}

// EmbedApps implements what Bolt.EmbedApps does.
func (p *Postgres) EmbedApps(ctx context.Context) ([]EmbedApp, error) {
	out := []EmbedApp{}
	err := p.read(ctx, func(q pgxQuerier) error {
		rows, err := q.Query(ctx, `SELECT id, record::text FROM embed_apps`)
		return keyedRecords(rows, err, func(id string) string { return "app " + id },
			func(_ string, a *EmbedApp) { out = append(out, *a) })
	})
	if err != nil {
		return nil, fmt.Errorf("registry: embed apps: %w", err)
	}
	// Sorted here, not by ORDER BY: names compare as Go strings, whatever
	// the database's collation.
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// EmbedApp implements what Bolt.EmbedApp does.
func (p *Postgres) EmbedApp(ctx context.Context, id string) (*EmbedApp, error) {
	var a EmbedApp
	err := p.read(ctx, func(q pgxQuerier) error {
		var raw string
		err := q.QueryRow(ctx, `SELECT record::text FROM embed_apps WHERE id = $1`, id).Scan(&raw)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrEmbedAppNotFound
		} else if err != nil {
			return err
		}
		return scanJSON(raw, &a)
	})
	if err != nil {
		return nil, fmt.Errorf("registry: embed app %s: %w", id, err)
	}
	return &a, nil
}

// CreateEmbedApp implements what Bolt.CreateEmbedApp does.
func (p *Postgres) CreateEmbedApp(ctx context.Context, a EmbedApp) (EmbedApp, error) {
	if err := checkNewEmbedApp(a); err != nil {
		return a, err
	}
	in := a
	err := p.tx(ctx, func(tx pgx.Tx) error {
		a = in
		e := planNewEmbedApp(&a, p.now())
		rec, err := encodeJSON(&a)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO embed_apps (id, record) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, a.ID, rec)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrEmbedAppExists
		}
		if _, err := pgAppendAudit(ctx, tx, e); err != nil {
			return err
		}
		return p.appendChange(ctx, tx, ChangeEmbedApp, ChangeEmbedAppPayload{AppID: a.ID, Action: ActionEmbedAppCreate})
	})
	if err != nil {
		return EmbedApp{}, fmt.Errorf("registry: create embed app %s: %w", a.ID, err)
	}
	return a, nil
}

// UpdateEmbedApp implements what Bolt.UpdateEmbedApp does, with the app's
// row locked while fn decides. fn may run more than once (a transaction
// that lost a race runs again), each time on a fresh copy of the app.
func (p *Postgres) UpdateEmbedApp(ctx context.Context, id, actor string, fn func(*EmbedApp) (EmbedChange, error)) (EmbedApp, error) {
	if err := checkEmbedActor("update embed app "+id, actor); err != nil {
		return EmbedApp{}, err
	}
	var out EmbedApp
	err := p.tx(ctx, func(tx pgx.Tx) error {
		var raw string
		err := tx.QueryRow(ctx, `SELECT record::text FROM embed_apps WHERE id = $1 FOR UPDATE`, id).Scan(&raw)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrEmbedAppNotFound
		} else if err != nil {
			return err
		}
		var a EmbedApp
		if err := scanJSON(raw, &a); err != nil {
			return err
		}
		e, err := planEmbedAppUpdate(&a, id, actor, fn, p.now)
		if err != nil {
			return err
		}
		rec, err := encodeJSON(&a)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE embed_apps SET record = $2 WHERE id = $1`, id, rec); err != nil {
			return err
		}
		out = a
		if _, err := pgAppendAudit(ctx, tx, e); err != nil {
			return err
		}
		return p.appendChange(ctx, tx, ChangeEmbedApp, ChangeEmbedAppPayload{AppID: id, Action: e.Action})
	})
	if err != nil {
		return EmbedApp{}, fmt.Errorf("registry: update embed app %s: %w", id, err)
	}
	return out, nil
}

// DeleteEmbedApp implements what Bolt.DeleteEmbedApp does; the refs come
// in the order bbolt gives them (by expiry, then token id).
func (p *Postgres) DeleteEmbedApp(ctx context.Context, id, actor string) ([]string, error) {
	if err := checkEmbedActor("delete embed app "+id, actor); err != nil {
		return nil, err
	}
	var refs []string
	err := p.tx(ctx, func(tx pgx.Tx) error {
		refs = nil
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM embed_apps WHERE id = $1 FOR UPDATE`, id).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrEmbedAppNotFound
		} else if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `DELETE FROM embed_tokens WHERE app_id = $1 RETURNING session_ref, expires_ms, id`, id)
		if err != nil {
			return err
		}
		type ref struct {
			ref string
			exp int64
			id  string
		}
		var deleted []ref
		for rows.Next() {
			var r ref
			if err := rows.Scan(&r.ref, &r.exp, &r.id); err != nil {
				rows.Close()
				return err
			}
			if r.ref != "" {
				deleted = append(deleted, r)
			}
		}
		if rows.Close(); rows.Err() != nil {
			return rows.Err()
		}
		sort.Slice(deleted, func(i, j int) bool {
			if deleted[i].exp != deleted[j].exp {
				return deleted[i].exp < deleted[j].exp
			}
			return deleted[i].id < deleted[j].id
		})
		for _, r := range deleted {
			refs = append(refs, r.ref)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM embed_apps WHERE id = $1`, id); err != nil {
			return err
		}
		if _, err := pgAppendAudit(ctx, tx, AuditEntry{At: p.now(), Actor: actor, Action: ActionEmbedAppDelete, Detail: embedDetail(id, "")}); err != nil {
			return err
		}
		return p.appendChange(ctx, tx, ChangeEmbedApp, ChangeEmbedAppPayload{AppID: id, Action: ActionEmbedAppDelete})
	})
	if err != nil {
		return nil, fmt.Errorf("registry: delete embed app %s: %w", id, err)
	}
	return refs, nil
}

// EmbedSessionsToEnd implements what Bolt.EmbedSessionsToEnd does, from the
// partial index of tokens with a SessionRef, in bbolt's order (app, then
// expiry, then id).
func (p *Postgres) EmbedSessionsToEnd(ctx context.Context, now time.Time, limit int) ([]EmbedToken, error) {
	var out []EmbedToken
	if limit <= 0 {
		return out, nil
	}
	err := p.read(ctx, func(q pgxQuerier) error {
		rows, err := q.Query(ctx, `SELECT id, record::text FROM embed_tokens
			WHERE session_ref <> '' AND expires_ms <= $1
			ORDER BY app_id, expires_ms, id LIMIT $2`, embedExpiryMs(now), limit)
		return keyedRecords(rows, err, func(id string) string { return "token " + shortID(id) },
			func(_ string, t *EmbedToken) { out = append(out, *t) })
	})
	if err != nil {
		return nil, fmt.Errorf("registry: embed sessions to end: %w", err)
	}
	return out, nil
}

// EmbedSessionEnded implements what Bolt.EmbedSessionEnded does.
func (p *Postgres) EmbedSessionEnded(ctx context.Context, id string) error {
	err := p.tx(ctx, func(tx pgx.Tx) error {
		var raw string
		err := tx.QueryRow(ctx, `SELECT record::text FROM embed_tokens WHERE id = $1 FOR UPDATE`, id).Scan(&raw)
		if errors.Is(err, pgx.ErrNoRows) {
			return errUnchanged
		} else if err != nil {
			return err
		}
		var t EmbedToken
		if err := scanJSON(raw, &t); err != nil {
			return err
		}
		if t.SessionRef == "" {
			return errUnchanged
		}
		t.SessionRef = ""
		rec, err := encodeJSON(&t)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE embed_tokens SET record = $2, session_ref = '' WHERE id = $1`, id, rec)
		return err
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return fmt.Errorf("registry: embed session ended: %w", err)
	}
	return nil
}

// PutEmbedToken implements what Bolt.PutEmbedToken does. The app's row is
// locked (FOR NO KEY UPDATE, which token inserts' foreign key checks do not
// wait for) so that issues of one app are counted one at a time and the
// bound holds across replicas; issues of other apps run side by side.
func (p *Postgres) PutEmbedToken(ctx context.Context, t EmbedToken, maxLive int) error {
	if err := checkEmbedToken(t); err != nil {
		return err
	}
	err := p.tx(ctx, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM embed_apps WHERE id = $1 FOR NO KEY UPDATE`, t.AppID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrEmbedAppNotFound
		} else if err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM embed_tokens WHERE id = $1)`, t.ID).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("%w: token id exists", ErrInvalid)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM embed_tokens WHERE app_id = $1 AND expires_ms < $2`,
			t.AppID, embedExpiryMs(t.CreatedAt.Add(-EmbedPruneAfter))); err != nil {
			return err
		}
		if maxLive > 0 {
			var live int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM embed_tokens WHERE app_id = $1 AND expires_ms >= $2 LIMIT $3) l`,
				t.AppID, embedExpiryMs(t.CreatedAt), maxLive).Scan(&live); err != nil {
				return err
			}
			if live >= maxLive {
				return ErrEmbedTooManyTokens
			}
		}
		rec, err := encodeJSON(&t)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO embed_tokens (id, app_id, expires_ms, session_ref, record) VALUES ($1, $2, $3, $4, $5)`,
			t.ID, t.AppID, embedExpiryMs(t.ExpiresAt), t.SessionRef, rec)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" { // an issue of another app took the id meanwhile
			return fmt.Errorf("%w: token id exists", ErrInvalid)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("registry: put embed token of app %s: %w", t.AppID, err)
	}
	return nil
}

// EmbedToken implements what Bolt.EmbedToken does.
func (p *Postgres) EmbedToken(ctx context.Context, id string) (*EmbedToken, error) {
	var t EmbedToken
	err := p.read(ctx, func(q pgxQuerier) error {
		var raw string
		err := q.QueryRow(ctx, `SELECT record::text FROM embed_tokens WHERE id = $1`, id).Scan(&raw)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrEmbedTokenNotFound
		} else if err != nil {
			return err
		}
		return scanJSON(raw, &t)
	})
	if err != nil {
		return nil, fmt.Errorf("registry: embed token: %w", err)
	}
	return &t, nil
}

// RevokeEmbedToken implements what Bolt.RevokeEmbedToken does, and appends
// a ChangeEmbedToken row so that every replica learns of it.
func (p *Postgres) RevokeEmbedToken(ctx context.Context, id, actor string) (*EmbedToken, error) {
	if err := checkEmbedActor("revoke embed token", actor); err != nil {
		return nil, err
	}
	var t EmbedToken
	err := p.tx(ctx, func(tx pgx.Tx) error {
		t = EmbedToken{}
		var raw string
		err := tx.QueryRow(ctx, `SELECT record::text FROM embed_tokens WHERE id = $1 FOR UPDATE`, id).Scan(&raw)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrEmbedTokenNotFound
		} else if err != nil {
			return err
		}
		if err := scanJSON(raw, &t); err != nil {
			return err
		}
		e, revoked := planEmbedRevoke(&t, actor, p.now)
		if !revoked {
			return errUnchanged
		}
		rec, err := encodeJSON(&t)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE embed_tokens SET record = $2 WHERE id = $1`, id, rec); err != nil {
			return err
		}
		if _, err := pgAppendAudit(ctx, tx, e); err != nil {
			return err
		}
		return p.appendChange(ctx, tx, ChangeEmbedToken, ChangeEmbedTokenPayload{AppID: t.AppID, TokenID: t.ID})
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return nil, fmt.Errorf("registry: revoke embed token: %w", err)
	}
	return &t, nil
}

// embedExpiryMs is embedExpiryKey as a number: Unix milliseconds, never
// below zero.
func embedExpiryMs(t time.Time) int64 { return max(0, t.UnixMilli()) }
