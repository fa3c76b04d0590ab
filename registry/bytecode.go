package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketBytecode holds Hermes bytecode records. Layout:
//
//	bytecode  "<source sha256>/<bytecode version, 10 digits>" -> Bytecode JSON
//
// The bucket is created by the first PutBytecode, so files written before
// bytecode existed open unchanged (same schema version).
var bucketBytecode = []byte("bytecode")

// Bytecode is Hermes bytecode compiled from a mobile JS blob, or the record
// that hermesc rejected it. Like precompressed variants (Encodings) it is
// derived from a blob, not part of a version: a push commits the JS and is
// servable at once; bytecode follows in its own transaction, one record per
// bytecode version, so an upgraded hermesc adds bytecode for old versions
// too. Versions sharing a JS blob share its bytecode.
type Bytecode struct {
	// Source is the SHA-256 of the mobile JS blob compiled.
	Source string `json:"source"`
	// BytecodeVersion is read from the bytecode's header; an app runs the
	// file only if its Hermes has exactly this version.
	BytecodeVersion uint32 `json:"bytecode_version"`
	// Artifact is the bytecode blob. Zero when Error is set.
	Artifact Artifact `json:"artifact"`
	// Compiler names the hermesc that made it ("hermes 1.0.0").
	Compiler  string    `json:"compiler,omitempty"`
	CompileMS float64   `json:"compile_ms"`
	CreatedAt time.Time `json:"created_at"`
	// Error is what hermesc said when it rejected the source; the JS
	// bundle is then served to every app.
	Error string `json:"error,omitempty"`
}

// Bytecodes stores Hermes bytecode of mobile bundles. *Bolt implements it.
type Bytecodes interface {
	// PutBytecode stores b and its blob (nil when b.Error is set) in one
	// transaction. The source blob must exist. Putting a record for a
	// source and bytecode version that already has one replaces it.
	PutBytecode(ctx context.Context, b Bytecode, blob []byte) error
	// Bytecode returns the records of a source blob, lowest version first.
	Bytecode(ctx context.Context, source string) ([]Bytecode, error)
	// AllBytecode returns every record, by source then version.
	AllBytecode(ctx context.Context) ([]Bytecode, error)
}

var _ Bytecodes = (*Bolt)(nil)

func bytecodeKey(source string, version uint32) []byte {
	return []byte(fmt.Sprintf("%s/%010d", source, version))
}

// PutBytecode implements Bytecodes.
func (b *Bolt) PutBytecode(ctx context.Context, bc Bytecode, blob []byte) error {
	if err := checkBytecode(bc, blob); err != nil {
		return fmt.Errorf("registry: bytecode %d of %s: %w", bc.BytecodeVersion, bc.Source, err)
	}
	if bc.CreatedAt.IsZero() {
		bc.CreatedAt = b.now()
	}
	err := b.update(ctx, func(tx *bolt.Tx) error {
		blobs := tx.Bucket(bucketBlobs)
		if blobs.Get([]byte(bc.Source)) == nil {
			return fmt.Errorf("source: %w", ErrBlobNotFound)
		}
		if bc.Error == "" && blobs.Get([]byte(bc.Artifact.SHA256)) == nil {
			if err := blobs.Put([]byte(bc.Artifact.SHA256), blob); err != nil {
				return err
			}
		}
		bk, err := tx.CreateBucketIfNotExists(bucketBytecode)
		if err != nil {
			return err
		}
		raw, err := json.Marshal(bc)
		if err != nil {
			return err
		}
		return bk.Put(bytecodeKey(bc.Source, bc.BytecodeVersion), raw)
	})
	if err != nil {
		return fmt.Errorf("registry: bytecode %d of %s: %w", bc.BytecodeVersion, bc.Source, err)
	}
	return nil
}

func checkBytecode(bc Bytecode, blob []byte) error {
	if !isSHA256(bc.Source) || bc.BytecodeVersion == 0 {
		return fmt.Errorf("%w: source %q, version %d", ErrInvalid, bc.Source, bc.BytecodeVersion)
	}
	if bc.Error != "" {
		if blob != nil || bc.Artifact.SHA256 != "" {
			return fmt.Errorf("%w: a failed compile has no artifact", ErrInvalid)
		}
		return nil
	}
	return checkBlob(bc.Artifact, blob)
}

// checkBlob checks that blob is the artifact a describes.
func checkBlob(a Artifact, blob []byte) error {
	if !isSHA256(a.SHA256) || a.Size != int64(len(blob)) {
		return fmt.Errorf("%w: artifact %q size %d, blob has %d bytes", ErrInvalid, a.SHA256, a.Size, len(blob))
	}
	if sha256Hex(blob) != a.SHA256 {
		return ErrBlobMismatch
	}
	return nil
}

// Bytecode implements Bytecodes.
func (b *Bolt) Bytecode(ctx context.Context, source string) ([]Bytecode, error) {
	var out []Bytecode
	err := b.view(ctx, func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketBytecode)
		if bk == nil {
			return nil
		}
		prefix := []byte(source + "/")
		c := bk.Cursor()
		for k, v := c.Seek(prefix); k != nil && len(k) > len(prefix) && string(k[:len(prefix)]) == string(prefix); k, v = c.Next() {
			var bc Bytecode
			if err := json.Unmarshal(v, &bc); err != nil {
				return fmt.Errorf("decode %s: %w", k, err)
			}
			out = append(out, bc)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("registry: bytecode of %s: %w", source, err)
	}
	return out, nil
}

// AllBytecode implements Bytecodes.
func (b *Bolt) AllBytecode(ctx context.Context) ([]Bytecode, error) {
	var out []Bytecode
	err := b.view(ctx, func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketBytecode)
		if bk == nil {
			return nil
		}
		return bk.ForEach(func(k, v []byte) error {
			var bc Bytecode
			if err := json.Unmarshal(v, &bc); err != nil {
				return fmt.Errorf("decode %s: %w", k, err)
			}
			out = append(out, bc)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("registry: bytecode: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Source != out[j].Source {
			return out[i].Source < out[j].Source
		}
		return out[i].BytecodeVersion < out[j].BytecodeVersion
	})
	return out, nil
}
