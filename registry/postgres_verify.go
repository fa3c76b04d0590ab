package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Verify checks the database against the invariants Bolt.Verify lists (the
// same checks, in one REPEATABLE READ snapshot; bbolt's page check has no
// counterpart: PostgreSQL checks its own pages), plus that every blob's
// size column is its length. It reads and hashes every blob, so it is for
// start-up checks, operators and tests, not for a request path. The two
// must stay in step: the suite runs the same tests on both.
func (p *Postgres) Verify(ctx context.Context) error {
	c := newVerifier()
	err := p.readTx(ctx, func(tx pgx.Tx) error {
		// Every blob: its size, and whether it hashes to its key. Streamed:
		// one blob in memory at a time.
		sizes := map[string]int64{}
		rows, err := tx.Query(ctx, `SELECT sha256, size, data FROM blobs`)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			var sha string
			var size int64
			var data []byte
			if err := rows.Scan(&sha, &size, &data); err != nil {
				rows.Close()
				return err
			}
			if n++; n%256 == 0 && ctx.Err() != nil {
				rows.Close()
				return ctx.Err()
			}
			sizes[sha] = int64(len(data))
			if size != int64(len(data)) {
				c.report("blob %s has %d bytes, its size column says %d", sha, len(data), size)
			}
			if got := sha256Hex(data); got != sha {
				c.report("blob %s hashes to %s", sha, got)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		c.blob = func(what, sha string, size int64) {
			got, ok := sizes[sha]
			switch {
			case !ok:
				c.report("%s: blob %s missing", what, sha)
			case size >= 0 && got != size:
				c.report("%s: blob %s has %d bytes, record says %d", what, sha, got, size)
			}
		}

		if err := eachRecord(ctx, tx, `SELECT id, record::text FROM plugins`, func(k []string, raw string) {
			pl := new(Plugin)
			if err := scanJSON(raw, pl); err != nil {
				c.report("plugin %s: %v", k[0], err)
				return
			}
			c.plugin(k[0], pl)
		}); err != nil {
			return err
		}

		byPlugin := map[string][]string{} // id -> versions
		if err := eachRecord(ctx, tx, `SELECT plugin_id, version, pushed_by, record::text FROM versions`, func(k []string, raw string) {
			id, ver := k[0], k[1]
			key := c.storedVersion(id, ver)
			byPlugin[id] = append(byPlugin[id], ver)
			var v Version
			if err := scanJSON(raw, &v); err != nil {
				c.report("version %s: %v", key, err)
				return
			}
			c.version(id, ver, &v)
			if v.PushedBy != k[2] {
				c.report("version %s: pushed_by column %q, record says %q", key, k[2], v.PushedBy)
			}
		}); err != nil {
			return err
		}
		for id, keys := range byPlugin {
			if !c.orphanVersions(id) {
				c.pluginVersions(id, keys)
			}
		}
		c.pluginsWithoutVersions(func(id string) bool { return len(byPlugin[id]) > 0 })

		// The audit log, oldest first, replayed as Bolt.Verify does.
		if err := eachRecord(ctx, tx, `SELECT seq::text AS seq_text, actor, action, plugin_id, team_id, record::text FROM audit ORDER BY audit.seq`, func(k []string, raw string) {
			var e AuditEntry
			if err := scanJSON(raw, &e); err != nil {
				c.report("audit %s: %v", k[0], err)
				return
			}
			if fmt.Sprint(e.Seq) != k[0] || e.Actor != k[1] || e.Action != k[2] || e.PluginID != k[3] || e.TeamID != k[4] {
				c.report("audit %s: record says seq %d actor %q action %q plugin %q team %q", k[0], e.Seq, e.Actor, e.Action, e.PluginID, e.TeamID)
			}
			c.audit(e)
		}); err != nil {
			return err
		}
		c.auditDone()

		if err := eachRecord(ctx, tx, `SELECT sha256, record::text FROM encodings`, func(k []string, raw string) {
			enc := map[string]Encoded{}
			if err := scanJSON(raw, &enc); err != nil {
				c.report("encodings of %s: %v", k[0], err)
				return
			}
			_, ok := sizes[k[0]]
			c.encodings(k[0], enc, ok)
		}); err != nil {
			return err
		}

		if err := eachRecord(ctx, tx, `SELECT source, bytecode_version::text, record::text FROM bytecode`, func(k []string, raw string) {
			key := k[0] + "/" + k[1]
			var bc Bytecode
			if err := scanJSON(raw, &bc); err != nil {
				c.report("bytecode %s: %v", key, err)
				return
			}
			if bc.Source != k[0] || fmt.Sprint(bc.BytecodeVersion) != k[1] {
				c.report("bytecode %s: record says source %s version %d", key, bc.Source, bc.BytecodeVersion)
			}
			_, ok := sizes[bc.Source]
			c.bytecode(key, bc, ok)
		}); err != nil {
			return err
		}

		if err := eachRecord(ctx, tx, `SELECT team_id, plugin_id, record::text FROM team_states`, func(k []string, raw string) {
			var s TeamState
			if err := scanJSON(raw, &s); err != nil {
				c.report("team %s plugin %s: %v", k[0], k[1], err)
				return
			}
			c.teamState(k[0], k[1], s)
		}); err != nil {
			return err
		}
		c.teamStatesDone()
		return verifyKVEmbedServerParts(ctx, tx, c.report) // postgres_verifykv.go
	})
	if err != nil {
		return fmt.Errorf("registry: verify: %w", err)
	}
	return c.err("registry: verify")
}

// eachRecord runs a query whose last column is a record (as text) and the
// others its key (as text), calling fn per row.
func eachRecord(ctx context.Context, tx pgx.Tx, sql string, fn func(key []string, raw string)) error {
	rows, err := tx.Query(ctx, sql)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		if len(vals) == 0 {
			return errors.New("verify: a query without columns")
		}
		key := make([]string, len(vals)-1)
		for i, v := range vals[:len(vals)-1] {
			key[i] = fmt.Sprint(v)
		}
		raw, _ := vals[len(vals)-1].(string)
		fn(key, raw)
	}
	return rows.Err()
}
