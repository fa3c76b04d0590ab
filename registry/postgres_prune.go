package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
)

// PrunePrereleases implements what Bolt.PrunePrereleases does, in one
// transaction. The plugin's row is locked (pushes and team changes of the
// plugin wait), then the candidate blobs' rows: a push of another plugin
// that relies on a stored blob share-locks it, so either that push commits
// first and the prune, which decides what stays named only after taking its
// locks, sees its version; or the prune commits first and the push finds
// the blob gone (and stores it again, or fails with ErrMissingBlob).
func (p *Postgres) PrunePrereleases(ctx context.Context, q PruneQuery) (PruneResult, error) {
	if err := checkPruneQuery(q); err != nil {
		return PruneResult{}, err
	}
	var res PruneResult
	err := p.tx(ctx, func(tx pgx.Tx) error {
		res = PruneResult{}
		var raw string
		err := tx.QueryRow(ctx, `SELECT record::text FROM plugins WHERE id = $1 FOR UPDATE`, q.PluginID).Scan(&raw)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrPluginNotFound
		} else if err != nil {
			return err
		}
		var pl Plugin
		if err := scanJSON(raw, &pl); err != nil {
			return err
		}
		pinned := map[string]bool{}
		states := map[string]TeamState{}
		if err := collectStates(tx.Query(ctx, `SELECT team_id, record::text FROM team_states WHERE plugin_id = $1`, q.PluginID))(states); err != nil {
			return err
		}
		for _, s := range states {
			if s.Version != "" {
				pinned[s.Version] = true
			}
		}

		// The developer's prereleases, newest first.
		pre := prereleasesNewestFirst(pl.Versions)
		records := map[string]*Version{}
		rows, err := tx.Query(ctx, `SELECT version, record::text FROM versions WHERE plugin_id = $1 AND version = ANY($2) AND pushed_by = $3`,
			q.PluginID, pre, q.PushedBy)
		if err != nil {
			return err
		}
		for rows.Next() {
			var ver, rec string
			if err := rows.Scan(&ver, &rec); err != nil {
				rows.Close()
				return err
			}
			v := new(Version)
			if err := scanJSON(rec, v); err != nil {
				rows.Close()
				return fmt.Errorf("version %s: %w", ver, err)
			}
			records[ver] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var mine []*Version
		for _, ver := range pre {
			if v := records[ver]; v != nil {
				mine = append(mine, v)
			}
		}
		gone := planPrune(q, mine, pinned)
		if len(gone) == 0 {
			return errUnchanged
		}

		res.Versions = prunePlugin(&pl, gone)
		if _, err := tx.Exec(ctx, `DELETE FROM versions WHERE plugin_id = $1 AND version = ANY($2)`, q.PluginID, res.Versions); err != nil {
			return err
		}
		rec, err := encodeJSON(&pl)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE plugins SET record = $2 WHERE id = $1`, pl.ID, rec); err != nil {
			return err
		}
		if err := pgCollectBlobs(ctx, tx, gone, &res); err != nil {
			return err
		}
		if _, err := pgAppendAudit(ctx, tx, pruneAudit(q, res, p.now())); err != nil {
			return err
		}
		return p.appendChange(ctx, tx, ChangePrune, ChangePrunePayload{PluginID: q.PluginID, Versions: res.Versions, Collected: res.Collected})
	})
	if errors.Is(err, errUnchanged) {
		return PruneResult{}, nil
	}
	if err != nil {
		return PruneResult{}, fmt.Errorf("registry: prune %s: %w", q.PluginID, err)
	}
	return res, nil
}

// pgCollectBlobs removes, inside tx, the blobs the removed versions named
// that no remaining record names, with the precompressed variants and the
// Hermes bytecode derived from them (as collectBlobs does on bbolt).
func pgCollectBlobs(ctx context.Context, tx pgx.Tx, gone []*Version, res *PruneResult) error {
	candidates := map[string]bool{}
	for _, v := range gone {
		addArtifactBlobs(candidates, v.Artifacts)
	}
	if err := lockBlobsForDelete(ctx, tx, candidates); err != nil {
		return err
	}
	// What stays named, read after the locks: every remaining version's
	// artifacts, and what is derived from those.
	named := map[string]bool{}
	rows, err := tx.Query(ctx, `SELECT (record->'artifacts')::text FROM versions`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var raw *string
		if err := rows.Scan(&raw); err != nil {
			rows.Close()
			return err
		}
		if raw == nil {
			continue
		}
		arts := map[string]Artifact{}
		if err := scanJSON(*raw, &arts); err != nil {
			rows.Close()
			return err
		}
		addArtifactBlobs(named, arts)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	derivedOfNamed, err := derivedBlobs(ctx, tx, slices.Collect(maps.Keys(named)))
	if err != nil {
		return err
	}
	for _, d := range derivedOfNamed {
		named[d] = true
	}
	var unnamed []string
	for sha := range candidates {
		if !named[sha] {
			unnamed = append(unnamed, sha)
		}
	}
	extra, err := derivedBlobs(ctx, tx, unnamed)
	if err != nil {
		return err
	}
	more := map[string]bool{}
	for _, d := range extra {
		if !candidates[d] {
			more[d] = true
		}
		candidates[d] = true
	}
	if err := lockBlobsForDelete(ctx, tx, more); err != nil {
		return err
	}

	var doomed []string
	for sha := range candidates {
		if !named[sha] {
			doomed = append(doomed, sha)
		}
	}
	slices.Sort(doomed)
	if len(doomed) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM encodings WHERE sha256 = ANY($1)`, doomed); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM bytecode WHERE source = ANY($1)`, doomed); err != nil {
		return err
	}
	rows, err = tx.Query(ctx, `DELETE FROM blobs WHERE sha256 = ANY($1) RETURNING sha256, size`, doomed)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var sha string
		var size int64
		if err := rows.Scan(&sha, &size); err != nil {
			return err
		}
		res.Blobs++
		res.BlobBytes += size
		res.Collected = append(res.Collected, sha)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	slices.Sort(res.Collected)
	return nil
}

// lockBlobsForDelete locks the rows of the stored blobs among shas, in key
// order (so two prunes cannot deadlock), waiting for transactions that
// share-locked them.
func lockBlobsForDelete(ctx context.Context, tx pgx.Tx, shas map[string]bool) error {
	if len(shas) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `SELECT 1 FROM blobs WHERE sha256 = ANY($1) ORDER BY sha256 FOR UPDATE`, slices.Sorted(maps.Keys(shas)))
	return err
}

// derivedBlobs returns the blobs derived from the sources: their
// precompressed variants and their Hermes bytecode.
func derivedBlobs(ctx context.Context, tx pgx.Tx, sources []string) ([]string, error) {
	if len(sources) == 0 {
		return nil, nil
	}
	var out []string
	rows, err := tx.Query(ctx, `SELECT record::text FROM encodings WHERE sha256 = ANY($1)`, sources)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			rows.Close()
			return nil, err
		}
		e := map[string]Encoded{}
		if err := scanJSON(raw, &e); err != nil {
			rows.Close()
			return nil, err
		}
		for _, x := range e {
			out = append(out, x.SHA256)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	bcs, err := collectBytecode(tx.Query(ctx, `SELECT record::text FROM bytecode WHERE source = ANY($1)`, sources))
	if err != nil {
		return nil, err
	}
	for _, bc := range bcs {
		if bc.Artifact.SHA256 != "" {
			out = append(out, bc.Artifact.SHA256)
		}
	}
	return out, nil
}
