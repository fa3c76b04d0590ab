package registry

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Stats counts what the store holds. It walks the keys of every bucket (not
// the blob contents), which stays cheap at registry sizes and avoids keeping
// counters that a bug could let drift from the data.
func (b *Bolt) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := b.view(ctx, func(tx *bolt.Tx) error {
		s.FileBytes = tx.Size()
		s.Plugins = countKeys(tx.Bucket(bucketPlugins))
		versions := tx.Bucket(bucketVersions)
		if err := versions.ForEachBucket(func(id []byte) error {
			s.Versions += countKeys(versions.Bucket(id))
			return nil
		}); err != nil {
			return err
		}
		c := tx.Bucket(bucketBlobs).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			s.Blobs++
			s.BlobBytes += int64(len(v))
		}
		if err := tx.Bucket(bucketTeams).ForEachBucket(func([]byte) error {
			s.Teams++
			return nil
		}); err != nil {
			return err
		}
		// The log is append-only, so its sequence is its length.
		s.AuditEntries = tx.Bucket(bucketAudit).Sequence()
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("registry: stats: %w", err)
	}
	return s, nil
}

func countKeys(bk *bolt.Bucket) int {
	n := 0
	c := bk.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}
