package registry

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// verifyKVEmbedServerParts is the part of Postgres.Verify over the tables
// of migration 0002, inside Verify's snapshot. These are invariants of the
// PostgreSQL layout that bbolt's has by construction (a bucket's key count
// and sequence are the bucket's own; a token's place in its app's bucket is
// its expiry and id): the counters and copies of record fields that
// queries select on must agree with the rows and records. The per-user KV
// usage is not checked: entries written before the quota existed (and so
// copied from bbolt) are charged to nobody, by design.
func verifyKVEmbedServerParts(ctx context.Context, tx pgx.Tx, report func(format string, args ...any)) error {
	// A scope's key count is its rows; no row's revision is above the
	// scope's (the next write would give one twice).
	rows, err := tx.Query(ctx, `SELECT s.plugin_id, s.scope, s.keys, s.rev, count(k.key), coalesce(max(k.rev), 0)
		FROM kv_scopes s LEFT JOIN kv k ON k.plugin_id = s.plugin_id AND k.scope = s.scope
		GROUP BY s.plugin_id, s.scope, s.keys, s.rev`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var plugin, scope string
		var keys, rev, n, maxRev int64
		if err := rows.Scan(&plugin, &scope, &keys, &rev, &n, &maxRev); err != nil {
			rows.Close()
			return err
		}
		if keys != n {
			report("kv %s %s: key count %d, %d keys stored", plugin, scope, keys, n)
		}
		if maxRev > rev {
			report("kv %s %s: a key has revision %d, the scope's last is %d", plugin, scope, maxRev, rev)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	if err := eachRecord(ctx, tx, `SELECT plugin_id, version, record::text FROM crash_health`, func(k []string, raw string) {
		var h healthRecord
		if err := scanJSON(raw, &h); err != nil {
			report("health of %s@%s: %v", k[0], k[1], err)
			return
		}
		if h.PluginID != k[0] || h.Version != k[1] {
			report("health of %s@%s: record says %s@%s", k[0], k[1], h.PluginID, h.Version)
		}
		if h.Users != len(h.UserIDs) || len(h.Recent) > min(h.Crashes, maxRecent) {
			report("health of %s@%s: %d crashes, %d users of %d user ids, %d recent", k[0], k[1], h.Crashes, h.Users, len(h.UserIDs), len(h.Recent))
		}
	}); err != nil {
		return err
	}

	if err := eachRecord(ctx, tx, `SELECT id, record::text FROM embed_apps`, func(k []string, raw string) {
		var a EmbedApp
		if err := scanJSON(raw, &a); err != nil {
			report("embed app %s: %v", k[0], err)
			return
		}
		if a.ID != k[0] {
			report("embed app %s: record says id %q", k[0], a.ID)
		}
	}); err != nil {
		return err
	}

	if err := eachRecord(ctx, tx, `SELECT id, app_id, expires_ms::text, session_ref, record::text FROM embed_tokens`, func(k []string, raw string) {
		id := shortID(k[0])
		var t EmbedToken
		if err := scanJSON(raw, &t); err != nil {
			report("embed token %s: %v", id, err)
			return
		}
		if t.ID != k[0] || t.AppID != k[1] {
			report("embed token %s of app %s: record says token %s of app %s", id, k[1], shortID(t.ID), t.AppID)
		}
		if fmt.Sprint(embedExpiryMs(t.ExpiresAt)) != k[2] || t.SessionRef != k[3] {
			report("embed token %s: expires_ms %s and session_ref %q, record says %d and %q", id, k[2], k[3], embedExpiryMs(t.ExpiresAt), t.SessionRef)
		}
	}); err != nil {
		return err
	}

	return eachRecord(ctx, tx, `SELECT plugin_id, record::text FROM server_parts`, func(k []string, raw string) {
		var s ServerPart
		if err := scanJSON(raw, &s); err != nil {
			report("server part %s: %v", k[0], err)
			return
		}
		if s.PluginID != k[0] {
			report("server part %s: record says plugin %q", k[0], s.PluginID)
		}
	})
}
