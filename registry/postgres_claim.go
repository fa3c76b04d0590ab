package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Claim makes background work (precompressing a blob, compiling its
// bytecode) happen once across every replica of one database: the caller
// that gets the claim does the work, the others skip it and learn the
// result from the change log. The claim is a session advisory lock on a
// pooled connection held until release, so a replica that dies mid-work
// loses it with its connection and another may claim the work again (the
// next start's scan of missing work does). A caller that gets the claim
// must check whether the work was finished meanwhile by a holder that has
// already released it.
//
// ok false means another replica holds it. release must be called when ok.
func (p *Postgres) Claim(ctx context.Context, key string) (release func(), ok bool, err error) {
	if p.closed() {
		return nil, false, ErrClosed
	}
	c, err := p.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("registry: claim %s: %w", key, pgErr(err))
	}
	if err := c.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, "mmtoolkit:"+key).Scan(&ok); err != nil {
		c.Release()
		return nil, false, fmt.Errorf("registry: claim %s: %w", key, pgErr(err))
	}
	if !ok {
		c.Release()
		return nil, false, nil
	}
	return func() {
		ctx := context.WithoutCancel(ctx)
		if _, err := c.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, "mmtoolkit:"+key); err != nil {
			// The lock must not stay with a pooled session: end it.
			c.Conn().Close(ctx)
		}
		c.Release()
	}, true, nil
}

// BlobEncodings returns the precompressed variants stored for one blob (an
// empty map when it has none): what a replica reads when the change log
// says another stored them.
func (p *Postgres) BlobEncodings(ctx context.Context, sha string) (map[string]Encoded, error) {
	out := map[string]Encoded{}
	err := p.read(ctx, func(q pgxQuerier) error {
		var raw string
		err := q.QueryRow(ctx, `SELECT record::text FROM encodings WHERE sha256 = $1`, sha).Scan(&raw)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return scanJSON(raw, &out)
	})
	if err != nil {
		return nil, fmt.Errorf("registry: encodings of %s: %w", sha, err)
	}
	return out, nil
}
