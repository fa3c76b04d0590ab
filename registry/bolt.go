package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// schemaVersion is the layout below. Open refuses files with another value
// rather than guessing: a newer binary's file may mean something else.
const schemaVersion = 1

// Top-level buckets. Layout:
//
//	meta     "schema" -> decimal schemaVersion
//	plugins  plugin id -> Plugin JSON
//	versions plugin id -> (bucket) version -> Version JSON
//	blobs    sha256 hex -> bytes (content-addressed, written once)
//	teams    team id -> (bucket) plugin id -> TeamState JSON
//	audit    uint64 big-endian seq -> AuditEntry JSON
//	kv       plugin id -> (bucket) scope -> (bucket) key -> kvRecord JSON
//	health   plugin id -> (bucket) version -> Health JSON
//	encodings blob sha256 -> {coding: Encoded} JSON (precompressed variants)
var (
	bucketMeta     = []byte("meta")
	bucketPlugins  = []byte("plugins")
	bucketVersions = []byte("versions")
	bucketBlobs    = []byte("blobs")
	bucketTeams    = []byte("teams")
	bucketAudit    = []byte("audit")
	bucketKV       = []byte("kv")
	bucketHealth   = []byte("health")
	bucketEncoding = []byte("encodings")

	keySchema = []byte("schema")
)

// errUnchanged makes an Update closure roll back when it finds there is
// nothing to write (an idempotent re-push, a team state set to what it was).
// bbolt commits even an empty read-write transaction with a new meta page and
// an fsync; rolling back writes nothing at all.
var errUnchanged = errors.New("registry: unchanged")

// Bolt is the bbolt Store: one file, one writer process (the file lock), any
// number of concurrent readers and writers inside that process (bbolt runs
// write transactions one at a time). Every method is safe for concurrent use.
type Bolt struct {
	db    *bolt.DB
	path  string
	clock func() time.Time
}

var _ Store = (*Bolt)(nil)

// Open opens the registry file at path, creating it and its buckets if need
// be. The caller must Close it. Another process holding the file makes Open
// fail with ErrLocked after opts.LockTimeout.
func Open(path string, opts *Options) (*Bolt, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = time.Second
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: o.LockTimeout,
		NoSync:  o.NoSync,
		// The hashmap freelist stays fast on files fragmented by many
		// pushes of large bundles; the array one degrades.
		FreelistType: bolt.FreelistMapType,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("registry: open %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: open %s: %w", path, err)
	}
	if err := db.Update(initSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("registry: open %s: %w", path, err)
	}
	return &Bolt{db: db, path: path, clock: o.Clock}, nil
}

func initSchema(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketMeta, bucketPlugins, bucketVersions, bucketBlobs, bucketTeams, bucketAudit, bucketKV, bucketHealth, bucketEncoding} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	raw := meta.Get(keySchema)
	if raw == nil {
		return meta.Put(keySchema, []byte(strconv.Itoa(schemaVersion)))
	}
	got, err := strconv.Atoi(string(raw))
	if err != nil || got != schemaVersion {
		return fmt.Errorf("schema version %q, this binary reads %d", raw, schemaVersion)
	}
	return nil
}

// Path is the file the store was opened from.
func (b *Bolt) Path() string { return b.path }

// Close waits for running transactions and closes the file. Closing twice
// is harmless; every other method then returns ErrClosed.
func (b *Bolt) Close() error {
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("registry: close %s: %w", b.path, err)
	}
	return nil
}

// now is the clock in UTC, without the monotonic reading, so what is
// returned equals what a later read decodes.
func (b *Bolt) now() time.Time { return b.clock().UTC().Round(0) }

// view runs fn in a read transaction.
func (b *Bolt) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return closedErr(b.db.View(fn))
}

// update runs fn in a write transaction. The context is checked again once
// the write lock is held: a caller that gave up while queued behind other
// writers should not write.
func (b *Bolt) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return closedErr(b.db.Update(func(tx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(tx)
	}))
}

func closedErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

func getJSON(bk *bolt.Bucket, key string, v any) (bool, error) {
	raw := bk.Get([]byte(key))
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("decode %q: %w", key, err)
	}
	return true, nil
}

func putJSON(bk *bolt.Bucket, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return bk.Put([]byte(key), raw)
}
