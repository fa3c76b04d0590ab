package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Blob returns a copy of the blob's bytes: bbolt's slices point into its
// memory map and are only valid inside the transaction.
func (b *Bolt) Blob(ctx context.Context, sha string) ([]byte, error) {
	var out []byte
	err := b.view(ctx, func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketBlobs).Get([]byte(sha))
		if raw == nil {
			return ErrBlobNotFound
		}
		out = bytes.Clone(raw)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("registry: blob %s: %w", sha, err)
	}
	return out, nil
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// isSHA256 accepts exactly the form sha256Hex produces, so a blob has one
// key, never an upper-case twin.
func isSHA256(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
