package registry

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Stats implements what Bolt.Stats does, from one snapshot. FileBytes is
// the size of the database (pg_database_size), which the registry shares
// with nothing else when it has its own database. Counting the blobs reads
// their sizes, not their bytes.
func (p *Postgres) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := p.readTx(ctx, func(tx pgx.Tx) error {
		var audit int64
		err := tx.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM plugins),
			(SELECT count(*) FROM versions),
			(SELECT count(*) FROM blobs),
			(SELECT coalesce(sum(size), 0) FROM blobs),
			(SELECT count(DISTINCT team_id) FROM team_states),
			(SELECT count(*) FROM audit),
			pg_database_size(current_database())`).Scan(&s.Plugins, &s.Versions, &s.Blobs, &s.BlobBytes, &s.Teams, &audit, &s.FileBytes)
		s.AuditEntries = uint64(audit)
		return err
	})
	if err != nil {
		return Stats{}, fmt.Errorf("registry: stats: %w", err)
	}
	return s, nil
}
