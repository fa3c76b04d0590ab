package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
)

// What is derived from stored content after a push (precompressed variants,
// source maps, Hermes bytecode), on PostgreSQL. Each write is its own
// transaction with its change row, as on Bolt.

var (
	_ Encodings  = (*Postgres)(nil)
	_ SourceMaps = (*Postgres)(nil)
	_ Bytecodes  = (*Postgres)(nil)
)

// PutEncodings implements Encodings. The blob's row is share-locked, so a
// prune cannot collect it while its variants are being added; the variants'
// record is locked, so two replicas adding different codings keep both.
func (p *Postgres) PutEncodings(ctx context.Context, sha string, enc map[string]Encoded, blobs map[string][]byte) error {
	if err := checkEncodings(sha, enc, blobs); err != nil {
		return err
	}
	err := p.tx(ctx, func(tx pgx.Tx) error {
		if err := lockBlob(ctx, tx, sha); err != nil {
			return err
		}
		var write []string
		for _, coding := range slices.Sorted(maps.Keys(enc)) {
			write = append(write, enc[coding].SHA256)
		}
		if err := insertBlobs(ctx, tx, write, blobs); err != nil {
			return err
		}
		cur := map[string]Encoded{}
		var raw string
		err := tx.QueryRow(ctx, `SELECT record::text FROM encodings WHERE sha256 = $1 FOR UPDATE`, sha).Scan(&raw)
		switch {
		case err == nil:
			if err := scanJSON(raw, &cur); err != nil {
				return err
			}
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		maps.Copy(cur, enc)
		rec, err := encodeJSON(cur)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO encodings (sha256, record) VALUES ($1, $2)
			ON CONFLICT (sha256) DO UPDATE SET record = excluded.record`, sha, rec); err != nil {
			return err
		}
		return p.appendChange(ctx, tx, ChangeEncodings, ChangeBlobPayload{SHA256: sha})
	})
	if err != nil {
		return fmt.Errorf("registry: encodings of %s: %w", sha, err)
	}
	return nil
}

// lockBlob share-locks a stored blob's row for the transaction, or returns
// ErrBlobNotFound.
func lockBlob(ctx context.Context, tx pgx.Tx, sha string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM blobs WHERE sha256 = $1 FOR SHARE`, sha).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrBlobNotFound
	}
	return err
}

// AllEncodings implements Encodings.
func (p *Postgres) AllEncodings(ctx context.Context) (map[string]map[string]Encoded, error) {
	out := map[string]map[string]Encoded{}
	err := p.read(ctx, func(q pgxQuerier) error {
		rows, err := q.Query(ctx, `SELECT sha256, record::text FROM encodings`)
		return keyedRecords(rows, err, func(sha string) string { return "encodings of " + sha },
			func(sha string, m *map[string]Encoded) {
				if *m == nil { // a null record: no variants
					*m = map[string]Encoded{}
				}
				out[sha] = *m
			})
	})
	if err != nil {
		return nil, fmt.Errorf("registry: encodings: %w", err)
	}
	return out, nil
}

// PutSourceMap implements SourceMaps. The version's row is locked, so two
// replicas building the same map store it once.
func (p *Postgres) PutSourceMap(ctx context.Context, pluginID, version, bundle string, a Artifact, blob []byte) error {
	err := func() error {
		kind, err := checkSourceMap(bundle, a, blob)
		if err != nil {
			return err
		}
		return p.tx(ctx, func(tx pgx.Tx) error {
			var raw string
			err := tx.QueryRow(ctx, `SELECT record::text FROM versions WHERE plugin_id = $1 AND version = $2 FOR UPDATE`,
				pluginID, version).Scan(&raw)
			if errors.Is(err, pgx.ErrNoRows) {
				var one int
				if err := tx.QueryRow(ctx, `SELECT 1 FROM plugins WHERE id = $1`, pluginID).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
					return ErrPluginNotFound
				} else if err != nil {
					return err
				}
				return ErrVersionNotFound
			} else if err != nil {
				return err
			}
			v := new(Version)
			if err := scanJSON(raw, v); err != nil {
				return err
			}
			if added, err := addSourceMap(v, bundle, kind, a); err != nil {
				return err
			} else if !added {
				return errUnchanged
			}
			if err := insertBlobs(ctx, tx, []string{a.SHA256}, map[string][]byte{a.SHA256: blob}); err != nil {
				return err
			}
			rec, err := encodeJSON(v)
			if err != nil {
				return fmt.Errorf("version: %w", err)
			}
			if _, err := tx.Exec(ctx, `UPDATE versions SET record = $3 WHERE plugin_id = $1 AND version = $2`, pluginID, version, rec); err != nil {
				return err
			}
			return p.appendChange(ctx, tx, ChangeSourceMap, ChangeVersionPayload{PluginID: pluginID, Version: version, Kind: kind})
		})
	}()
	if err != nil && !errors.Is(err, errUnchanged) {
		return fmt.Errorf("registry: source map of %s of %s@%s: %w", bundle, pluginID, version, err)
	}
	return nil
}

// PutBytecode implements Bytecodes.
func (p *Postgres) PutBytecode(ctx context.Context, bc Bytecode, blob []byte) error {
	if err := checkBytecode(bc, blob); err != nil {
		return fmt.Errorf("registry: bytecode %d of %s: %w", bc.BytecodeVersion, bc.Source, err)
	}
	if bc.CreatedAt.IsZero() {
		bc.CreatedAt = p.now()
	}
	err := p.tx(ctx, func(tx pgx.Tx) error {
		if err := lockBlob(ctx, tx, bc.Source); err != nil {
			return fmt.Errorf("source: %w", err)
		}
		if bc.Error == "" {
			if err := insertBlobs(ctx, tx, []string{bc.Artifact.SHA256}, map[string][]byte{bc.Artifact.SHA256: blob}); err != nil {
				return err
			}
		}
		rec, err := encodeJSON(bc)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO bytecode (source, bytecode_version, record) VALUES ($1, $2, $3)
			ON CONFLICT (source, bytecode_version) DO UPDATE SET record = excluded.record`,
			bc.Source, int64(bc.BytecodeVersion), rec); err != nil {
			return err
		}
		return p.appendChange(ctx, tx, ChangeBytecode, ChangeBlobPayload{SHA256: bc.Source, BytecodeVersion: bc.BytecodeVersion})
	})
	if err != nil {
		return fmt.Errorf("registry: bytecode %d of %s: %w", bc.BytecodeVersion, bc.Source, err)
	}
	return nil
}

// Bytecode implements Bytecodes.
func (p *Postgres) Bytecode(ctx context.Context, source string) ([]Bytecode, error) {
	var out []Bytecode
	err := p.read(ctx, func(q pgxQuerier) error {
		var err error
		out, err = collectBytecode(q.Query(ctx, `SELECT record::text FROM bytecode WHERE source = $1 ORDER BY bytecode_version`, source))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("registry: bytecode of %s: %w", source, err)
	}
	return out, nil
}

// AllBytecode implements Bytecodes.
func (p *Postgres) AllBytecode(ctx context.Context) ([]Bytecode, error) {
	var out []Bytecode
	err := p.read(ctx, func(q pgxQuerier) error {
		var err error
		out, err = collectBytecode(q.Query(ctx, `SELECT record::text FROM bytecode ORDER BY source COLLATE "C", bytecode_version`))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("registry: bytecode: %w", err)
	}
	return out, nil
}

func collectBytecode(rows pgx.Rows, err error) ([]Bytecode, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Bytecode
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var bc Bytecode
		if err := scanJSON(raw, &bc); err != nil {
			return nil, fmt.Errorf("bytecode record: %w", err)
		}
		out = append(out, bc)
	}
	return out, rows.Err()
}
