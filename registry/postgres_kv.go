package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// ChangeKV: a KV key was written or deleted (ChangeKVPayload). The value
// is not in the row (up to 64 KiB each, and the change log is read by
// every replica): a replica that needs it reads the key.
const ChangeKV = "kv"

// ChangeKVPayload is the payload of ChangeKV.
type ChangeKVPayload struct {
	PluginID string `json:"plugin_id"`
	Scope    string `json:"scope"`
	Key      string `json:"key"`
	// Rev is the revision written; 0 with Deleted.
	Rev       uint64 `json:"rev,omitempty"`
	Deleted   bool   `json:"deleted,omitempty"`
	UpdatedBy string `json:"updated_by"`
}

// pgMaxKVKey bounds a KV key of the Postgres store: a key is part of a
// btree index entry, which PostgreSQL caps at about 2.7 KB. The server's
// keys are at most 256 bytes.
const pgMaxKVKey = 1024

var _ KV = (*Postgres)(nil)

// pgKVKey checks what the Postgres store cannot hold: an empty plugin id,
// scope or key (bbolt refuses those too, with its own error), a key over
// pgMaxKVKey bytes, with a NUL byte (the change row's JSON could not carry
// it) or not UTF-8 (bbolt stores it but reads it back with U+FFFD for the
// bad bytes, from its JSON record). The server's keys pass: they are ASCII.
func pgKVKey(pluginID, scope, key string) error {
	switch {
	case pluginID == "" || scope == "" || key == "":
		return fmt.Errorf("%w: empty plugin id, scope or key", ErrInvalid)
	case len(key) > pgMaxKVKey:
		return fmt.Errorf("%w: key of %d bytes, at most %d", ErrInvalid, len(key), pgMaxKVKey)
	case strings.IndexByte(key, 0) >= 0 || !utf8.ValidString(key):
		return fmt.Errorf("%w: key %q is not UTF-8 without NUL", ErrInvalid, key)
	}
	return nil
}

// KVUsage implements what Bolt.KVUsage does.
func (p *Postgres) KVUsage(ctx context.Context, user string) (keys, bytes int64, err error) {
	err = p.read(ctx, func(q pgxQuerier) error {
		err := q.QueryRow(ctx, `SELECT keys, bytes FROM kv_usage WHERE user_id = $1`, user).Scan(&keys, &bytes)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("registry: kv usage of %s: %w", user, err)
	}
	return keys, bytes, nil
}

// KVGet implements KV as Bolt.KVGet does.
func (p *Postgres) KVGet(ctx context.Context, pluginID, scope, key string) (KVEntry, error) {
	var e KVEntry
	err := p.read(ctx, func(q pgxQuerier) error {
		var rev int64
		err := q.QueryRow(ctx, `SELECT value, rev, updated_by, updated_at FROM kv WHERE plugin_id = $1 AND scope = $2 AND key = $3`,
			pluginID, scope, []byte(key)).Scan(&e.Value, &rev, &e.UpdatedBy, &e.UpdatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrKVNotFound
		}
		e.Key, e.Rev, e.UpdatedAt = key, uint64(rev), e.UpdatedAt.UTC()
		return err
	})
	if err != nil {
		return KVEntry{}, fmt.Errorf("registry: kv get %s %s %q: %w", pluginID, scope, key, err)
	}
	if e.Value == nil {
		e.Value = []byte{}
	}
	return e, nil
}

// KVPut implements KV as Bolt.KVPut does, in one transaction: the scope's
// row is locked (created if new) and its revision raised first, so writes
// of one scope run one at a time and compare-and-set, the key bound and the
// quota are checked against what they see; writes of other scopes run side
// by side. A refused write rolls back, revision included.
func (p *Postgres) KVPut(ctx context.Context, w KVWrite) (KVEntry, error) {
	var e KVEntry
	err := pgKVKey(w.PluginID, w.Scope, w.Key)
	if err == nil {
		err = p.tx(ctx, func(tx pgx.Tx) error {
			var rev, keys int64
			if err := tx.QueryRow(ctx, `INSERT INTO kv_scopes (plugin_id, scope, rev, keys) VALUES ($1, $2, 1, 0)
				ON CONFLICT (plugin_id, scope) DO UPDATE SET rev = kv_scopes.rev + 1
				RETURNING rev, keys`, w.PluginID, w.Scope).Scan(&rev, &keys); err != nil {
				return err
			}
			cur, exists, err := pgKVCurrent(ctx, tx, w.PluginID, w.Scope, w.Key)
			if err != nil {
				return err
			}
			plan, err := planKVPut(w, cur, exists, func() int { return int(keys) })
			if err != nil {
				return err
			}
			var u kvUsage
			if plan.replaces && plan.prevUser == w.Actor {
				if _, err := pgCharge(ctx, tx, w.Actor, plan.release.Keys, plan.release.Bytes); err != nil {
					return err
				}
				if u, err = pgCharge(ctx, tx, w.Actor, plan.charge.Keys, plan.charge.Bytes); err != nil {
					return err
				}
			} else {
				// Two users' rows: lock them in id order, so that two
				// takeovers between the same users cannot deadlock.
				release := func() error {
					if !plan.replaces {
						return nil
					}
					_, err := pgCharge(ctx, tx, plan.prevUser, plan.release.Keys, plan.release.Bytes)
					return err
				}
				first := plan.replaces && plan.prevUser < w.Actor
				if first {
					if err := release(); err != nil {
						return err
					}
				}
				if u, err = pgCharge(ctx, tx, w.Actor, plan.charge.Keys, plan.charge.Bytes); err != nil {
					return err
				}
				if !first {
					if err := release(); err != nil {
						return err
					}
				}
			}
			if err := plan.checkQuota(w, u); err != nil {
				return err // the transaction's charges roll back
			}
			e = KVEntry{Key: w.Key, Value: w.Value, Rev: uint64(rev), UpdatedBy: w.Actor, UpdatedAt: p.now()}
			if e.Value == nil {
				e.Value = []byte{}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO kv (plugin_id, scope, key, value, rev, updated_by, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (plugin_id, scope, key) DO UPDATE SET value = EXCLUDED.value, rev = EXCLUDED.rev,
					updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at`,
				w.PluginID, w.Scope, []byte(w.Key), e.Value, rev, w.Actor, e.UpdatedAt); err != nil {
				return err
			}
			if !exists {
				if _, err := tx.Exec(ctx, `UPDATE kv_scopes SET keys = keys + 1 WHERE plugin_id = $1 AND scope = $2`, w.PluginID, w.Scope); err != nil {
					return err
				}
			}
			return p.appendChange(ctx, tx, ChangeKV, ChangeKVPayload{PluginID: w.PluginID, Scope: w.Scope, Key: w.Key, Rev: e.Rev, UpdatedBy: w.Actor})
		})
	}
	if err != nil {
		return KVEntry{}, fmt.Errorf("registry: kv put %s %s %q: %w", w.PluginID, w.Scope, w.Key, err)
	}
	return e, nil
}

// KVDelete implements KV as Bolt.KVDelete does: the scope's row is locked
// first, as KVPut locks it.
func (p *Postgres) KVDelete(ctx context.Context, w KVWrite) error {
	err := p.tx(ctx, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM kv_scopes WHERE plugin_id = $1 AND scope = $2 FOR UPDATE`, w.PluginID, w.Scope).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrKVNotFound
		} else if err != nil {
			return err
		}
		cur, exists, err := pgKVCurrent(ctx, tx, w.PluginID, w.Scope, w.Key)
		if err != nil {
			return err
		}
		release, err := planKVDelete(w, cur, exists)
		if err != nil {
			return err
		}
		if _, err := pgCharge(ctx, tx, cur.UpdatedBy, release.Keys, release.Bytes); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM kv WHERE plugin_id = $1 AND scope = $2 AND key = $3`, w.PluginID, w.Scope, []byte(w.Key)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE kv_scopes SET keys = keys - 1 WHERE plugin_id = $1 AND scope = $2`, w.PluginID, w.Scope); err != nil {
			return err
		}
		return p.appendChange(ctx, tx, ChangeKV, ChangeKVPayload{PluginID: w.PluginID, Scope: w.Scope, Key: w.Key, Deleted: true, UpdatedBy: w.Actor})
	})
	if err != nil {
		return fmt.Errorf("registry: kv delete %s %s %q: %w", w.PluginID, w.Scope, w.Key, err)
	}
	return nil
}

// pgKVCurrent reads a key's entry inside a write transaction that holds
// its scope's lock.
func pgKVCurrent(ctx context.Context, tx pgx.Tx, pluginID, scope, key string) (KVEntry, bool, error) {
	var cur KVEntry
	var rev int64
	err := tx.QueryRow(ctx, `SELECT value, rev, updated_by FROM kv WHERE plugin_id = $1 AND scope = $2 AND key = $3`,
		pluginID, scope, []byte(key)).Scan(&cur.Value, &rev, &cur.UpdatedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return KVEntry{}, false, nil
	}
	cur.Rev = uint64(rev)
	return cur, err == nil, err
}

// pgCharge is charge: it adds keys and bytes to user's usage (negative to
// release), never below zero, and returns the usage after it. The row is
// locked until the transaction ends.
func pgCharge(ctx context.Context, tx pgx.Tx, user string, keys, bytes int64) (kvUsage, error) {
	var u kvUsage
	if err := tx.QueryRow(ctx, `INSERT INTO kv_usage (user_id, keys, bytes) VALUES ($1, greatest(0, $2::bigint), greatest(0, $3::bigint))
		ON CONFLICT (user_id) DO UPDATE SET keys = greatest(0, kv_usage.keys + $2), bytes = greatest(0, kv_usage.bytes + $3)
		RETURNING keys, bytes`, user, keys, bytes).Scan(&u.Keys, &u.Bytes); err != nil {
		return kvUsage{}, err
	}
	if u == (kvUsage{}) {
		_, err := tx.Exec(ctx, `DELETE FROM kv_usage WHERE user_id = $1`, user)
		return u, err
	}
	return u, nil
}

// KVList implements KV as Bolt.KVList does: keys compare byte by byte
// (bytea), and the prefix is an index range.
func (p *Postgres) KVList(ctx context.Context, pluginID, scope, prefix, after string, limit int) ([]KVEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	out := []KVEntry{}
	err := p.read(ctx, func(q pgxQuerier) error {
		var end []byte // nil: no upper bound
		if e, ok := prefixEnd([]byte(prefix)); ok {
			end = e
		}
		rows, err := q.Query(ctx, `SELECT key, value, rev, updated_by, updated_at FROM kv
			WHERE plugin_id = $1 AND scope = $2 AND key >= $3 AND key > $4 AND ($5::bytea IS NULL OR key < $5)
			ORDER BY key LIMIT $6`, pluginID, scope, []byte(prefix), []byte(after), end, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e KVEntry
			var key []byte
			var rev int64
			if err := rows.Scan(&key, &e.Value, &rev, &e.UpdatedBy, &e.UpdatedAt); err != nil {
				return err
			}
			e.Key, e.Rev, e.UpdatedAt = string(key), uint64(rev), e.UpdatedAt.UTC()
			if e.Value == nil {
				e.Value = []byte{}
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("registry: kv list %s %s %q: %w", pluginID, scope, prefix, err)
	}
	return out, nil
}

// prefixEnd returns the least byte string greater than every string that
// starts with prefix, and false when there is none (prefix is empty or all
// 0xff).
func prefixEnd(prefix []byte) ([]byte, bool) {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1], true
		}
	}
	return nil, false
}
