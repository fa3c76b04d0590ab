package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// KV errors.
var (
	// ErrKVNotFound is returned when a key has no value.
	ErrKVNotFound = errors.New("kv key not found")
	// ErrKVConflict is returned when a compare-and-set's expected revision
	// is not the key's current one.
	ErrKVConflict = errors.New("kv revision mismatch")
	// ErrKVTooManyKeys is returned when a write would put more than
	// KVLimits.MaxKeys keys in one plugin's scope.
	ErrKVTooManyKeys = errors.New("kv scope is full")
)

// KVEntry is one value of a plugin's key-value store. Rev increases with
// every write in the scope, so it identifies a version of the value for
// compare-and-set.
type KVEntry struct {
	Key       string    `json:"key"`
	Value     []byte    `json:"value"`
	Rev       uint64    `json:"rev"`
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// KVWrite is one Put or Delete. IfRev, when set, makes it a compare-and-set:
// 0 means "only if the key does not exist", another value "only if the
// key's current revision is this".
type KVWrite struct {
	PluginID, Scope, Key string
	Value                []byte
	IfRev                *uint64
	Actor                string
	// MaxKeys bounds the keys in the scope (0: no bound).
	MaxKeys int
}

// KV is a small per-plugin key-value store, scoped (per team, per user) by
// the caller. *Bolt implements it.
type KV interface {
	KVGet(ctx context.Context, pluginID, scope, key string) (KVEntry, error)
	KVPut(ctx context.Context, w KVWrite) (KVEntry, error)
	KVDelete(ctx context.Context, w KVWrite) error
	// KVList returns up to limit entries whose key starts with prefix, in
	// key order, starting after the key after ("" from the start).
	KVList(ctx context.Context, pluginID, scope, prefix, after string, limit int) ([]KVEntry, error)
}

var _ KV = (*Bolt)(nil)

func kvScope(tx *bolt.Tx, pluginID, scope string, create bool) (*bolt.Bucket, error) {
	root := tx.Bucket(bucketKV)
	if !create {
		p := root.Bucket([]byte(pluginID))
		if p == nil {
			return nil, nil
		}
		return p.Bucket([]byte(scope)), nil
	}
	p, err := root.CreateBucketIfNotExists([]byte(pluginID))
	if err != nil {
		return nil, err
	}
	return p.CreateBucketIfNotExists([]byte(scope))
}

// KVGet returns the value of key.
func (b *Bolt) KVGet(ctx context.Context, pluginID, scope, key string) (KVEntry, error) {
	var e KVEntry
	err := b.view(ctx, func(tx *bolt.Tx) error {
		bk, err := kvScope(tx, pluginID, scope, false)
		if err != nil || bk == nil {
			return ErrKVNotFound
		}
		ok, err := getJSON(bk, key, &e)
		if err != nil {
			return err
		}
		if !ok {
			return ErrKVNotFound
		}
		return nil
	})
	if err != nil {
		return KVEntry{}, fmt.Errorf("registry: kv get %s %s %q: %w", pluginID, scope, key, err)
	}
	return e, nil
}

// KVPut writes a value, checking IfRev and MaxKeys in the same transaction.
func (b *Bolt) KVPut(ctx context.Context, w KVWrite) (KVEntry, error) {
	var e KVEntry
	err := b.update(ctx, func(tx *bolt.Tx) error {
		bk, err := kvScope(tx, w.PluginID, w.Scope, true)
		if err != nil {
			return err
		}
		var cur KVEntry
		exists, err := getJSON(bk, w.Key, &cur)
		if err != nil {
			return err
		}
		if err := checkRev(w.IfRev, exists, cur.Rev); err != nil {
			return err
		}
		if !exists && w.MaxKeys > 0 && bk.Stats().KeyN >= w.MaxKeys {
			return ErrKVTooManyKeys
		}
		rev, err := bk.NextSequence()
		if err != nil {
			return err
		}
		e = KVEntry{Key: w.Key, Value: w.Value, Rev: rev, UpdatedBy: w.Actor, UpdatedAt: b.now()}
		return putJSON(bk, w.Key, e)
	})
	if err != nil {
		return KVEntry{}, fmt.Errorf("registry: kv put %s %s %q: %w", w.PluginID, w.Scope, w.Key, err)
	}
	return e, nil
}

// KVDelete removes a key, checking IfRev.
func (b *Bolt) KVDelete(ctx context.Context, w KVWrite) error {
	err := b.update(ctx, func(tx *bolt.Tx) error {
		bk, err := kvScope(tx, w.PluginID, w.Scope, false)
		if err != nil {
			return err
		}
		if bk == nil {
			return ErrKVNotFound
		}
		var cur KVEntry
		exists, err := getJSON(bk, w.Key, &cur)
		if err != nil {
			return err
		}
		if !exists {
			return ErrKVNotFound
		}
		if err := checkRev(w.IfRev, exists, cur.Rev); err != nil {
			return err
		}
		return bk.Delete([]byte(w.Key))
	})
	if err != nil {
		return fmt.Errorf("registry: kv delete %s %s %q: %w", w.PluginID, w.Scope, w.Key, err)
	}
	return nil
}

func checkRev(ifRev *uint64, exists bool, cur uint64) error {
	switch {
	case ifRev == nil:
		return nil
	case *ifRev == 0 && exists, *ifRev != 0 && (!exists || cur != *ifRev):
		return ErrKVConflict
	}
	return nil
}

// KVList lists a scope's entries by key prefix.
func (b *Bolt) KVList(ctx context.Context, pluginID, scope, prefix, after string, limit int) ([]KVEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	out := []KVEntry{}
	err := b.view(ctx, func(tx *bolt.Tx) error {
		bk, err := kvScope(tx, pluginID, scope, false)
		if err != nil || bk == nil {
			return err
		}
		c := bk.Cursor()
		start := prefix
		if after > start {
			start = after
		}
		for k, v := c.Seek([]byte(start)); k != nil && len(out) < limit; k, v = c.Next() {
			key := string(k)
			if key == after {
				continue
			}
			if len(key) < len(prefix) || key[:len(prefix)] != prefix {
				break
			}
			var e KVEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode %q: %w", key, err)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("registry: kv list %s %s %q: %w", pluginID, scope, prefix, err)
	}
	return out, nil
}
