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
	// ErrKVQuota is returned when a write would take its actor past
	// KVWrite.MaxActorKeys or MaxActorBytes, summed over every plugin and
	// scope.
	ErrKVQuota = errors.New("kv quota of the user exceeded")
)

// bucketKVUsage holds, per user id, the keys and bytes (key and value) of
// the KV entries that user wrote last, over every plugin and scope: the
// per-user quota. Created on the first write, so stores that predate it
// count from then on (entries older than it are charged to nobody).
var bucketKVUsage = []byte("kvusage")

type kvUsage struct {
	Keys  int64 `json:"keys"`
	Bytes int64 `json:"bytes"`
}

// charge adds keys and bytes to user's usage (negative to release), never
// below zero, and returns the usage after it.
func charge(tx *bolt.Tx, user string, keys, bytes int64) (kvUsage, error) {
	ub, err := tx.CreateBucketIfNotExists(bucketKVUsage)
	if err != nil {
		return kvUsage{}, err
	}
	var u kvUsage
	if _, err := getJSON(ub, user, &u); err != nil {
		return kvUsage{}, err
	}
	u.Keys, u.Bytes = max(0, u.Keys+keys), max(0, u.Bytes+bytes)
	if u == (kvUsage{}) {
		return u, ub.Delete([]byte(user))
	}
	return u, putJSON(ub, user, u)
}

// KVUsage returns the keys and bytes user's KV writes hold, over every
// plugin and scope.
func (b *Bolt) KVUsage(ctx context.Context, user string) (keys, bytes int64, err error) {
	var u kvUsage
	err = b.view(ctx, func(tx *bolt.Tx) error {
		ub := tx.Bucket(bucketKVUsage)
		if ub == nil {
			return nil
		}
		_, err := getJSON(ub, user, &u)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("registry: kv usage of %s: %w", user, err)
	}
	return u.Keys, u.Bytes, nil
}

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
	// MaxActorKeys and MaxActorBytes bound what Actor holds over every
	// plugin and scope (0: no bound): an entry counts for the user who
	// wrote it last. A write that does not grow the actor's usage passes
	// even over the bound, so a user over it can still shrink or delete.
	MaxActorKeys  int64
	MaxActorBytes int64
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
		plan, err := planKVPut(w, cur, exists, func() int { return bk.Stats().KeyN })
		if err != nil {
			return err
		}
		if plan.replaces {
			if _, err := charge(tx, plan.prevUser, plan.release.Keys, plan.release.Bytes); err != nil {
				return err
			}
		}
		u, err := charge(tx, w.Actor, plan.charge.Keys, plan.charge.Bytes)
		if err != nil {
			return err
		}
		if err := plan.checkQuota(w, u); err != nil {
			return err // the transaction's charges roll back
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
		release, err := planKVDelete(w, cur, exists)
		if err != nil {
			return err
		}
		if _, err := charge(tx, cur.UpdatedBy, release.Keys, release.Bytes); err != nil {
			return err
		}
		return bk.Delete([]byte(w.Key))
	})
	if err != nil {
		return fmt.Errorf("registry: kv delete %s %s %q: %w", w.PluginID, w.Scope, w.Key, err)
	}
	return nil
}

// kvPutPlan is what a KVPut charges, for both stores: the key's previous
// writer is released of the entry it replaces, the actor charged for the
// new one; only what grows the actor's usage is held to its quota, so a
// user over it can still shrink or rewrite what they hold.
type kvPutPlan struct {
	// replaces is set when the key exists: prevUser, who wrote it last, is
	// released of release (negative).
	replaces bool
	prevUser string
	release  kvUsage
	// charge is the actor's charge for the new entry; grows is how much
	// the write grows the actor's usage (less than charge when it
	// replaces the actor's own entry; negative when it shrinks it).
	charge, grows kvUsage
}

// planKVPut checks w against the key's current entry (cur, when exists)
// and plans its charges: ErrKVConflict when IfRev does not hold,
// ErrKVTooManyKeys when a new key would pass MaxKeys (scopeKeys, the keys
// the scope holds, is called only then).
func planKVPut(w KVWrite, cur KVEntry, exists bool, scopeKeys func() int) (kvPutPlan, error) {
	if err := checkRev(w.IfRev, exists, cur.Rev); err != nil {
		return kvPutPlan{}, err
	}
	if !exists && w.MaxKeys > 0 && scopeKeys() >= w.MaxKeys {
		return kvPutPlan{}, ErrKVTooManyKeys
	}
	p := kvPutPlan{charge: kvUsage{Keys: 1, Bytes: kvSize(w.Key, w.Value)}}
	p.grows = p.charge
	if exists {
		p.replaces, p.prevUser, p.release = true, cur.UpdatedBy, kvUsage{Keys: -1, Bytes: -kvSize(w.Key, cur.Value)}
		if cur.UpdatedBy == w.Actor {
			p.grows = kvUsage{Keys: 0, Bytes: int64(len(w.Value) - len(cur.Value))}
		}
	}
	return p, nil
}

// checkQuota is ErrKVQuota when the actor's usage u, after the charges,
// passes a bound of w the write grows.
func (p kvPutPlan) checkQuota(w KVWrite, u kvUsage) error {
	if (p.grows.Keys > 0 && w.MaxActorKeys > 0 && u.Keys > w.MaxActorKeys) ||
		(p.grows.Bytes > 0 && w.MaxActorBytes > 0 && u.Bytes > w.MaxActorBytes) {
		return ErrKVQuota
	}
	return nil
}

// planKVDelete checks a KVDelete against the key's current entry (cur,
// when exists), for both stores: ErrKVNotFound, ErrKVConflict when IfRev
// does not hold, else what cur.UpdatedBy, who wrote it last, is released
// of (negative).
func planKVDelete(w KVWrite, cur KVEntry, exists bool) (kvUsage, error) {
	if !exists {
		return kvUsage{}, ErrKVNotFound
	}
	if err := checkRev(w.IfRev, exists, cur.Rev); err != nil {
		return kvUsage{}, err
	}
	return kvUsage{Keys: -1, Bytes: -kvSize(w.Key, cur.Value)}, nil
}

// kvSize is what an entry counts against its writer's byte quota: its key
// and its value.
func kvSize(key string, value []byte) int64 { return int64(len(key) + len(value)) }

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
