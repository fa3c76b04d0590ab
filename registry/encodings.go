package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Encoded is a precompressed variant of a blob.
type Encoded struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Encodings stores precompressed variants of blobs. They are a cache of
// their blob, not part of a version: a push commits its version with the
// identity bytes only, so it is servable at once, and the variants follow in
// their own transaction. A crash in between loses nothing but the cache,
// which the server rebuilds. *Bolt implements it.
type Encodings interface {
	// PutEncodings stores the variants (coding -> Encoded) of the blob sha
	// and their bytes in one transaction. The blob must exist.
	PutEncodings(ctx context.Context, sha string, enc map[string]Encoded, blobs map[string][]byte) error
	// AllEncodings returns the variants of every blob that has any.
	AllEncodings(ctx context.Context) (map[string]map[string]Encoded, error)
}

var _ Encodings = (*Bolt)(nil)

// PutEncodings implements Encodings.
func (b *Bolt) PutEncodings(ctx context.Context, sha string, enc map[string]Encoded, blobs map[string][]byte) error {
	if err := checkEncodings(sha, enc, blobs); err != nil {
		return err
	}
	err := b.update(ctx, func(tx *bolt.Tx) error {
		bb := tx.Bucket(bucketBlobs)
		if bb.Get([]byte(sha)) == nil {
			return ErrBlobNotFound
		}
		for _, e := range enc {
			if bb.Get([]byte(e.SHA256)) == nil {
				if err := bb.Put([]byte(e.SHA256), blobs[e.SHA256]); err != nil {
					return err
				}
			}
		}
		eb := tx.Bucket(bucketEncoding)
		cur := map[string]Encoded{}
		if _, err := getJSON(eb, sha, &cur); err != nil {
			return err
		}
		maps.Copy(cur, enc)
		return putJSON(eb, sha, cur)
	})
	if err != nil {
		return fmt.Errorf("registry: encodings of %s: %w", sha, err)
	}
	return nil
}

// checkEncodings is what both stores require of a PutEncodings, before
// their transaction: every variant's bytes passed in, hashing to its
// SHA-256 and of its size (checked in coding order, so the error names the
// same coding on both).
func checkEncodings(sha string, enc map[string]Encoded, blobs map[string][]byte) error {
	for _, coding := range slices.Sorted(maps.Keys(enc)) {
		e := enc[coding]
		data, ok := blobs[e.SHA256]
		if !ok {
			return fmt.Errorf("registry: encodings of %s: %s: %w", sha, coding, ErrMissingBlob)
		}
		if sha256Hex(data) != e.SHA256 {
			return fmt.Errorf("registry: encodings of %s: %s: %w", sha, coding, ErrBlobMismatch)
		}
		if int64(len(data)) != e.Size {
			return fmt.Errorf("registry: encodings of %s: %s size %d, blob has %d: %w", sha, coding, e.Size, len(data), ErrInvalid)
		}
	}
	return nil
}

// AllEncodings implements Encodings.
func (b *Bolt) AllEncodings(ctx context.Context) (map[string]map[string]Encoded, error) {
	out := map[string]map[string]Encoded{}
	err := b.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEncoding).ForEach(func(k, v []byte) error {
			m := map[string]Encoded{}
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("decode encodings of %s: %w", k, err)
			}
			out[string(k)] = m
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("registry: encodings: %w", err)
	}
	return out, nil
}
