package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Verify checks the database against the invariants Bolt.Verify lists (the
// same checks, in one REPEATABLE READ snapshot; bbolt's page check has no
// counterpart: PostgreSQL checks its own pages), plus that every blob's
// size column is its length. It reads and hashes every blob, so it is for
// start-up checks, operators and tests, not for a request path. The two
// must stay in step: the suite runs the same tests on both.
func (p *Postgres) Verify(ctx context.Context) error {
	var problems []string
	report := func(format string, args ...any) {
		if len(problems) < maxProblems {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
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
				report("blob %s has %d bytes, its size column says %d", sha, len(data), size)
			}
			if got := sha256Hex(data); got != sha {
				report("blob %s hashes to %s", sha, got)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		checkBlob := func(what, sha string, size int64) {
			got, ok := sizes[sha]
			switch {
			case !ok:
				report("%s: blob %s missing", what, sha)
			case size >= 0 && got != size:
				report("%s: blob %s has %d bytes, record says %d", what, sha, got, size)
			}
		}

		plugins := map[string]*Plugin{}
		if err := eachRecord(ctx, tx, `SELECT id, record::text FROM plugins`, func(k []string, raw string) {
			pl := new(Plugin)
			if err := scanJSON(raw, pl); err != nil {
				report("plugin %s: %v", k[0], err)
				return
			}
			if pl.ID != k[0] {
				report("plugin %s: record says id %q", k[0], pl.ID)
			}
			plugins[k[0]] = pl
		}); err != nil {
			return err
		}

		stored := map[string]bool{}       // "id@version"
		byPlugin := map[string][]string{} // id -> versions
		if err := eachRecord(ctx, tx, `SELECT plugin_id, version, pushed_by, record::text FROM versions`, func(k []string, raw string) {
			id, ver := k[0], k[1]
			key := id + "@" + ver
			stored[key] = true
			byPlugin[id] = append(byPlugin[id], ver)
			var v Version
			if err := scanJSON(raw, &v); err != nil {
				report("version %s: %v", key, err)
				return
			}
			if v.PluginID != id || v.Version != ver {
				report("version %s: record says %s@%s", key, v.PluginID, v.Version)
			}
			if v.PushedBy != k[2] {
				report("version %s: pushed_by column %q, record says %q", key, k[2], v.PushedBy)
			}
			for kind, a := range v.Artifacts {
				checkBlob(key+" "+kind, a.SHA256, a.Size)
				for enc, sha := range a.Encodings {
					size, ok := a.EncodedSizes[enc]
					if !ok {
						size = -1
					}
					checkBlob(key+" "+kind+" "+enc, sha, size)
				}
			}
		}); err != nil {
			return err
		}
		for id, keys := range byPlugin {
			pl := plugins[id]
			if pl == nil {
				report("versions of %s stored without a plugin record", id)
				continue
			}
			slices.SortFunc(keys, compareVersions)
			if !slices.Equal(keys, pl.Versions) {
				report("plugin %s lists versions %v, stored are %v", id, pl.Versions, keys)
			}
			if len(keys) > 0 && pl.Latest != keys[len(keys)-1] {
				report("plugin %s: latest %q, highest stored %q", id, pl.Latest, keys[len(keys)-1])
			}
		}
		for id := range plugins {
			if len(byPlugin[id]) == 0 {
				report("plugin %s has no versions", id)
			}
		}

		// The audit log, oldest first, replayed as Bolt.Verify does.
		pushes, pushSeq := map[string]int{}, map[string]uint64{}
		replayed := map[string]*TeamState{}
		if err := eachRecord(ctx, tx, `SELECT seq::text AS seq_text, actor, action, plugin_id, team_id, record::text FROM audit ORDER BY audit.seq`, func(k []string, raw string) {
			var e AuditEntry
			if err := scanJSON(raw, &e); err != nil {
				report("audit %s: %v", k[0], err)
				return
			}
			if fmt.Sprint(e.Seq) != k[0] || e.Actor != k[1] || e.Action != k[2] || e.PluginID != k[3] || e.TeamID != k[4] {
				report("audit %s: record says seq %d actor %q action %q plugin %q team %q", k[0], e.Seq, e.Actor, e.Action, e.PluginID, e.TeamID)
			}
			switch e.Action {
			case ActionEnable, ActionDisable, ActionPin:
				replayTeamAudit(replayed, e)
			case ActionPrune:
				for _, v := range e.Versions {
					key := e.PluginID + "@" + v
					if pushes[key] == 0 {
						report("audit %d: prune of %s, which was not pushed", e.Seq, key)
					}
					delete(pushes, key)
				}
			case ActionPush:
				key := e.PluginID + "@" + e.Version
				pushes[key]++
				pushSeq[key] = e.Seq
			}
		}); err != nil {
			return err
		}
		for key, n := range pushes {
			if n > 0 && !stored[key] {
				report("audit %d: push of %s, which is not stored (and no prune removed it)", pushSeq[key], key)
			}
		}
		for key := range stored {
			if n := pushes[key]; n != 1 {
				report("version %s has %d push audit entries, want 1", key, n)
			}
		}

		if err := eachRecord(ctx, tx, `SELECT sha256, record::text FROM encodings`, func(k []string, raw string) {
			enc := map[string]Encoded{}
			if err := scanJSON(raw, &enc); err != nil {
				report("encodings of %s: %v", k[0], err)
				return
			}
			if _, ok := sizes[k[0]]; !ok {
				report("encodings of %s: the blob itself is missing", k[0])
			}
			for coding, e := range enc {
				checkBlob("encoding "+coding+" of "+k[0], e.SHA256, e.Size)
			}
		}); err != nil {
			return err
		}

		if err := eachRecord(ctx, tx, `SELECT source, bytecode_version::text, record::text FROM bytecode`, func(k []string, raw string) {
			key := k[0] + "/" + k[1]
			var bc Bytecode
			if err := scanJSON(raw, &bc); err != nil {
				report("bytecode %s: %v", key, err)
				return
			}
			if bc.Source != k[0] || fmt.Sprint(bc.BytecodeVersion) != k[1] {
				report("bytecode %s: record says source %s version %d", key, bc.Source, bc.BytecodeVersion)
			}
			if _, ok := sizes[bc.Source]; !ok {
				report("bytecode %s: source blob %s missing", key, bc.Source)
			}
			if bc.Error != "" {
				if bc.Artifact.SHA256 != "" {
					report("bytecode %s: a failed compile names blob %s", key, bc.Artifact.SHA256)
				}
				return
			}
			checkBlob("bytecode "+key, bc.Artifact.SHA256, bc.Artifact.Size)
		}); err != nil {
			return err
		}

		if err := eachRecord(ctx, tx, `SELECT team_id, plugin_id, record::text FROM team_states`, func(k []string, raw string) {
			team, id := k[0], k[1]
			var s TeamState
			if err := scanJSON(raw, &s); err != nil {
				report("team %s plugin %s: %v", team, id, err)
				return
			}
			if s.TeamID != team || s.PluginID != id {
				report("team %s plugin %s: record says %s/%s", team, id, s.TeamID, s.PluginID)
			}
			if plugins[id] == nil {
				report("team %s: state of unknown plugin %s", team, id)
			} else if s.Version != "" && !stored[id+"@"+s.Version] {
				report("team %s: %s pinned to unknown version %s", team, id, s.Version)
			}
			key := team + "/" + id
			r := replayed[key]
			delete(replayed, key)
			switch {
			case r == nil:
				report("team %s: state of %s has no audit entry", team, id)
			case r.Enabled != s.Enabled || r.Version != s.Version:
				report("team %s: %s is enabled=%v version %q, its audit entries say enabled=%v version %q",
					team, id, s.Enabled, s.Version, r.Enabled, r.Version)
			}
		}); err != nil {
			return err
		}
		for key := range replayed {
			report("audit: team changes of %s, which has no stored state", key)
		}
		return verifyKVEmbedServerParts(ctx, tx, report) // postgres_verifykv.go
	})
	if err != nil {
		return fmt.Errorf("registry: verify: %w", err)
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("registry: verify: %w: %s", ErrCorrupt, strings.Join(problems, "; "))
	}
	return nil
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
