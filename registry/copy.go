package registry

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	bolt "go.etcd.io/bbolt"
)

// ErrCopyConflict is returned by CopyToPostgres when the target already
// holds a record the source has with other content: the target is another
// registry, or this one changed on one side since an earlier copy. Nothing
// is written then.
var ErrCopyConflict = errors.New("target holds a different record")

// CopyKind counts what CopyToPostgres did with one kind of record.
type CopyKind struct {
	Kind string `json:"kind"`
	// Copied records were written; Present ones were already in the
	// target with the same content (an earlier copy), and left as they
	// were; Skipped ones cannot exist in the target (the crash health of a
	// version that is gone), and were left out.
	Copied  int `json:"copied"`
	Present int `json:"present"`
	Skipped int `json:"skipped,omitempty"`
	// Bytes is the size of what was copied: blob bytes for blobs, the
	// records' encoded size for the rest.
	Bytes int64 `json:"bytes"`
}

// CopyReport says what CopyToPostgres did, kind by kind in the order they
// are written.
type CopyReport struct {
	Kinds []CopyKind `json:"kinds"`
}

// Copied is the number of records written, over every kind.
func (r CopyReport) Copied() (n int) {
	for _, k := range r.Kinds {
		n += k.Copied
	}
	return n
}

// CopyOptions adjust CopyToPostgres.
type CopyOptions struct {
	// Settings are shared settings to add to what the source stores when
	// it has none of that name: the mobile signing key of a bbolt
	// deployment lives in a file next to the registry, not in it.
	Settings map[string][]byte
	// Actor is the updated_by of settings the copy writes ("" means
	// "migrate").
	Actor string
}

// CopyToPostgres copies everything from stores in one transaction: every
// plugin, version, blob, team state, audit entry (same seq and time),
// precompressed variant, bytecode record, shared setting, KV entry (same
// revisions, and each scope's revision counter), KV usage, crash health,
// embed app and token, and server part. It reads one bbolt snapshot and
// writes one PostgreSQL transaction, so a failure (or an interrupt) leaves
// the target as it was and the copy can simply be run again.
//
// The target should be empty. A record the target already holds with the
// same content is counted Present and not written again, so running the
// copy twice is harmless (the second run copies nothing); one it holds
// with other content fails the whole copy with ErrCopyConflict. Records
// are written as the source encoded them, without going through the
// write methods: those would stamp new times, give new audit seqs and
// append audit entries of their own. The change log gets nothing; replicas
// started after the copy read everything from the database.
func CopyToPostgres(ctx context.Context, from *Bolt, to *Postgres, opts CopyOptions) (CopyReport, error) {
	actor := opts.Actor
	if actor == "" {
		actor = "migrate"
	}
	var rep CopyReport
	err := from.view(ctx, func(btx *bolt.Tx) error {
		return to.tx(ctx, func(tx pgx.Tx) error {
			c := &copier{ctx: ctx, btx: btx, tx: tx, now: to.now(), actor: actor}
			rep = CopyReport{}
			for _, step := range []struct {
				kind string
				fn   func(*CopyKind) error
			}{
				{"plugins", c.plugins},
				{"versions", c.versions},
				{"blobs", c.blobs},
				{"team states", c.teamStates},
				{"audit entries", c.audit},
				{"encodings", c.encodings},
				{"bytecode", c.bytecode},
				{"settings", func(k *CopyKind) error { return c.settings(k, opts.Settings) }},
				{"kv entries", c.kv},
				{"kv usage", c.kvUsage},
				{"crash health", c.health},
				{"embed apps", c.embedApps},
				{"embed tokens", c.embedTokens},
				{"server parts", c.serverParts},
			} {
				k := CopyKind{Kind: step.kind}
				if err := step.fn(&k); err != nil {
					return fmt.Errorf("%s: %w", step.kind, err)
				}
				rep.Kinds = append(rep.Kinds, k)
			}
			// The audit sequence continues after the copied entries.
			_, err := tx.Exec(ctx, `SELECT setval('audit_seq_seq', greatest(
				(SELECT coalesce(max(seq), 0) FROM audit),
				(SELECT coalesce(last_value, 0) FROM pg_sequences WHERE schemaname = current_schema() AND sequencename = 'audit_seq_seq'),
				1))`)
			return err
		})
	})
	if err != nil {
		return CopyReport{}, fmt.Errorf("registry: copy %s to PostgreSQL: %w", from.path, err)
	}
	return rep, nil
}

// copier writes the rows of one copy inside its transaction.
type copier struct {
	ctx   context.Context
	btx   *bolt.Tx
	tx    pgx.Tx
	now   time.Time
	actor string
}

// col is one column of a row to put: json columns compare as text (json
// has no equality), the others with IS NOT DISTINCT FROM.
type col struct {
	name string
	val  any
	json bool
}

// put inserts a row unless its primary key (the first nkey columns) is
// taken; a taken key must hold the same values (ErrCopyConflict otherwise),
// and the row counts Present.
func (c *copier) put(k *CopyKind, table string, nkey int, size int64, cols ...col) error {
	names := make([]string, len(cols))
	params := make([]string, len(cols))
	vals := make([]any, len(cols))
	for i, cl := range cols {
		names[i] = cl.name
		params[i] = fmt.Sprintf("$%d", i+1)
		vals[i] = cl.val
	}
	keys := strings.Join(names[:nkey], ", ")
	tag, err := c.tx.Exec(c.ctx, fmt.Sprintf(`INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) DO NOTHING`,
		table, strings.Join(names, ", "), strings.Join(params, ", "), keys), vals...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 1 {
		k.Copied++
		k.Bytes += size
		return nil
	}
	conds := make([]string, len(cols))
	for i, cl := range cols {
		if cl.json {
			conds[i] = fmt.Sprintf("%s::text = $%d::text", cl.name, i+1)
		} else {
			conds[i] = fmt.Sprintf("%s IS NOT DISTINCT FROM $%d", cl.name, i+1)
		}
	}
	var same bool
	if err := c.tx.QueryRow(c.ctx, fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM %s WHERE %s)`, table, strings.Join(conds, " AND ")),
		vals...).Scan(&same); err != nil {
		return err
	}
	if !same {
		key := make([]string, nkey)
		for i := range key {
			key[i] = fmt.Sprint(cols[i].val)
			if b, ok := cols[i].val.([]byte); ok {
				key[i] = fmt.Sprintf("%q", b)
			}
		}
		return fmt.Errorf("%w: %s %s", ErrCopyConflict, table, strings.Join(key, " "))
	}
	k.Present++
	return nil
}

// each calls fn for every key and value of the top-level bucket name
// (nothing when the bucket was never created).
func (c *copier) each(name []byte, fn func(k, v []byte) error) error {
	bk := c.btx.Bucket(name)
	if bk == nil {
		return nil
	}
	return bk.ForEach(fn)
}

// nested calls fn for every key and value of every sub-bucket of the
// top-level bucket name, with the sub-bucket's name.
func (c *copier) nested(name []byte, fn func(outer, k, v []byte) error) error {
	return c.each(name, func(outer, v []byte) error {
		if v != nil {
			return fmt.Errorf("%s: %q is not a bucket", name, outer)
		}
		return c.btx.Bucket(name).Bucket(outer).ForEach(func(k, v []byte) error { return fn(outer, k, v) })
	})
}

func decodeRecord(raw []byte, v any, what string, key []byte) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%w: %s %q: %v", ErrCorrupt, what, key, err)
	}
	return nil
}

func (c *copier) plugins(k *CopyKind) error {
	return c.each(bucketPlugins, func(id, raw []byte) error {
		return c.put(k, "plugins", 1, int64(len(raw)), col{"id", string(id), false}, col{"record", string(raw), true})
	})
}

func (c *copier) versions(k *CopyKind) error {
	return c.nested(bucketVersions, func(plugin, version, raw []byte) error {
		var v Version
		if err := decodeRecord(raw, &v, "version", version); err != nil {
			return err
		}
		return c.put(k, "versions", 2, int64(len(raw)), col{"plugin_id", string(plugin), false},
			col{"version", string(version), false}, col{"pushed_by", v.PushedBy, false}, col{"record", string(raw), true})
	})
}

// blobs are compared by key and size only: the key is their SHA-256.
func (c *copier) blobs(k *CopyKind) error {
	return c.each(bucketBlobs, func(sha, data []byte) error {
		tag, err := c.tx.Exec(c.ctx, `INSERT INTO blobs (sha256, size, data) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING`,
			string(sha), int64(len(data)), data)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			k.Copied++
			k.Bytes += int64(len(data))
			return nil
		}
		var size int64
		if err := c.tx.QueryRow(c.ctx, `SELECT size FROM blobs WHERE sha256 = $1`, string(sha)).Scan(&size); err != nil {
			return err
		}
		if size != int64(len(data)) {
			return fmt.Errorf("%w: blob %s (%d bytes there, %d here)", ErrCopyConflict, sha, size, len(data))
		}
		k.Present++
		return nil
	})
}

func (c *copier) teamStates(k *CopyKind) error {
	return c.nested(bucketTeams, func(team, plugin, raw []byte) error {
		return c.put(k, "team_states", 2, int64(len(raw)), col{"team_id", string(team), false},
			col{"plugin_id", string(plugin), false}, col{"record", string(raw), true})
	})
}

func (c *copier) audit(k *CopyKind) error {
	return c.each(bucketAudit, func(key, raw []byte) error {
		var e AuditEntry
		if err := decodeRecord(raw, &e, "audit entry", key); err != nil {
			return err
		}
		if len(key) != 8 || binary.BigEndian.Uint64(key) != e.Seq {
			return fmt.Errorf("%w: audit entry key %x holds seq %d", ErrCorrupt, key, e.Seq)
		}
		return c.put(k, "audit", 1, int64(len(raw)), col{"seq", int64(e.Seq), false}, col{"actor", e.Actor, false},
			col{"action", e.Action, false}, col{"plugin_id", e.PluginID, false}, col{"team_id", e.TeamID, false},
			col{"record", string(raw), true})
	})
}

func (c *copier) encodings(k *CopyKind) error {
	return c.each(bucketEncoding, func(sha, raw []byte) error {
		return c.put(k, "encodings", 1, int64(len(raw)), col{"sha256", string(sha), false}, col{"record", string(raw), true})
	})
}

func (c *copier) bytecode(k *CopyKind) error {
	return c.each(bucketBytecode, func(key, raw []byte) error {
		var bc Bytecode
		if err := decodeRecord(raw, &bc, "bytecode", key); err != nil {
			return err
		}
		return c.put(k, "bytecode", 2, int64(len(raw)), col{"source", bc.Source, false},
			col{"bytecode_version", int64(bc.BytecodeVersion), false}, col{"record", string(raw), true})
	})
}

// settings compare by value: who set one and when is not part of it.
func (c *copier) settings(k *CopyKind, extra map[string][]byte) error {
	all := map[string][]byte{}
	if err := c.each(bucketSettings, func(name, v []byte) error {
		all[string(name)] = bytes.Clone(v)
		return nil
	}); err != nil {
		return err
	}
	for name, v := range extra {
		if _, ok := all[name]; !ok {
			all[name] = v
		}
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		v := all[name]
		tag, err := c.tx.Exec(c.ctx, `INSERT INTO settings (name, value, updated_by, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING`,
			name, v, c.actor, c.now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			k.Copied++
			k.Bytes += int64(len(v))
			continue
		}
		var have []byte
		if err := c.tx.QueryRow(c.ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&have); err != nil {
			return err
		}
		if !bytes.Equal(have, v) {
			return fmt.Errorf("%w: setting %s", ErrCopyConflict, name)
		}
		k.Present++
	}
	return nil
}

// kv copies each scope's revision counter (bbolt's bucket sequence, which
// never goes back) and key count, then its entries.
func (c *copier) kv(k *CopyKind) error {
	var scopeCount CopyKind
	return c.each(bucketKV, func(plugin, v []byte) error {
		if v != nil {
			return fmt.Errorf("kv: %q is not a bucket", plugin)
		}
		pb := c.btx.Bucket(bucketKV).Bucket(plugin)
		return pb.ForEach(func(scope, v []byte) error {
			if v != nil {
				return fmt.Errorf("kv %s: %q is not a bucket", plugin, scope)
			}
			sb := pb.Bucket(scope)
			if err := c.put(&scopeCount, "kv_scopes", 2, 0, col{"plugin_id", string(plugin), false}, col{"scope", string(scope), false},
				col{"rev", int64(sb.Sequence()), false}, col{"keys", int64(sb.Stats().KeyN), false}); err != nil {
				return err
			}
			return sb.ForEach(func(key, raw []byte) error {
				var e KVEntry
				if err := decodeRecord(raw, &e, "kv entry", key); err != nil {
					return err
				}
				return c.put(k, "kv", 3, int64(len(key)+len(e.Value)), col{"plugin_id", string(plugin), false},
					col{"scope", string(scope), false}, col{"key", bytes.Clone(key), false}, col{"value", e.Value, false},
					col{"rev", int64(e.Rev), false}, col{"updated_by", e.UpdatedBy, false}, col{"updated_at", e.UpdatedAt, false})
			})
		})
	})
}

func (c *copier) kvUsage(k *CopyKind) error {
	return c.each(bucketKVUsage, func(user, raw []byte) error {
		var u kvUsage
		if err := decodeRecord(raw, &u, "kv usage", user); err != nil {
			return err
		}
		return c.put(k, "kv_usage", 1, int64(len(raw)), col{"user_id", string(user), false},
			col{"keys", u.Keys, false}, col{"bytes", u.Bytes, false})
	})
}

// health skips the health of a version the source no longer has: bbolt's
// prune deletes it, but a file from before that may still hold some, and
// PostgreSQL's foreign key would refuse it.
func (c *copier) health(k *CopyKind) error {
	versions := c.btx.Bucket(bucketVersions)
	return c.nested(bucketHealth, func(plugin, version, raw []byte) error {
		if vb := versions.Bucket(plugin); vb == nil || vb.Get(version) == nil {
			k.Skipped++
			return nil
		}
		return c.put(k, "crash_health", 2, int64(len(raw)), col{"plugin_id", string(plugin), false},
			col{"version", string(version), false}, col{"record", string(raw), true})
	})
}

func (c *copier) embedApps(k *CopyKind) error {
	root := c.btx.Bucket(bucketEmbed)
	if root == nil || root.Bucket(bucketEmbedApps) == nil {
		return nil
	}
	return root.Bucket(bucketEmbedApps).ForEach(func(id, raw []byte) error {
		return c.put(k, "embed_apps", 1, int64(len(raw)), col{"id", string(id), false}, col{"record", string(raw), true})
	})
}

// embedTokens: a token's key in its app's bucket is its expiry in Unix
// milliseconds (8 bytes big-endian), then its id.
func (c *copier) embedTokens(k *CopyKind) error {
	root := c.btx.Bucket(bucketEmbed)
	if root == nil || root.Bucket(bucketEmbedTokens) == nil {
		return nil
	}
	tokens := root.Bucket(bucketEmbedTokens)
	return tokens.ForEach(func(app, v []byte) error {
		if v != nil {
			return fmt.Errorf("embed tokens: %q is not a bucket", app)
		}
		return tokens.Bucket(app).ForEach(func(key, raw []byte) error {
			var t EmbedToken
			if err := decodeRecord(raw, &t, "embed token", key); err != nil {
				return err
			}
			if len(key) < 8 || string(key[8:]) != t.ID || t.AppID != string(app) {
				return fmt.Errorf("%w: embed token key %x holds token %s of app %s", ErrCorrupt, key, t.ID, t.AppID)
			}
			return c.put(k, "embed_tokens", 1, int64(len(raw)), col{"id", t.ID, false}, col{"app_id", t.AppID, false},
				col{"expires_ms", int64(binary.BigEndian.Uint64(key[:8])), false}, col{"session_ref", t.SessionRef, false},
				col{"record", string(raw), true})
		})
	})
}

func (c *copier) serverParts(k *CopyKind) error {
	return c.each(bucketServerParts, func(id, raw []byte) error {
		return c.put(k, "server_parts", 1, int64(len(raw)), col{"plugin_id", string(id), false}, col{"record", string(raw), true})
	})
}
