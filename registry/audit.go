package registry

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Audit limits: the default keeps an unfiltered admin page small; the maximum
// bounds the work of one read transaction.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

// appendAudit adds e to the log inside the caller's write transaction, so the
// entry commits with the change it describes or not at all. Keys are the
// bucket sequence big-endian, so byte order is time order.
func appendAudit(tx *bolt.Tx, e AuditEntry) (AuditEntry, error) {
	log := tx.Bucket(bucketAudit)
	seq, err := log.NextSequence()
	if err != nil {
		return e, fmt.Errorf("audit sequence: %w", err)
	}
	e.Seq = seq
	raw, err := json.Marshal(&e)
	if err != nil {
		return e, fmt.Errorf("encode audit entry: %w", err)
	}
	if err := log.Put(binary.BigEndian.AppendUint64(nil, seq), raw); err != nil {
		return e, fmt.Errorf("write audit entry: %w", err)
	}
	return e, nil
}

// limit is how many entries an Audit of f returns at most, on both stores:
// f.Limit, DefaultAuditLimit when it is not positive, capped at
// MaxAuditLimit.
func (f AuditFilter) limit() int {
	if f.Limit <= 0 {
		return DefaultAuditLimit
	}
	return min(f.Limit, MaxAuditLimit)
}

// Audit returns entries matching f, newest first, at most f.Limit (0 means
// DefaultAuditLimit, more than MaxAuditLimit is capped). Filters scan the log
// backwards; there is no index. Entries are written by json.Marshal, so an
// entry whose bytes lack `"team_id":"<id>"` (and so on) cannot match and is
// skipped without decoding: a filter on a rare value scans 10,000 entries in
// about a millisecond rather than twenty.
func (b *Bolt) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	limit := f.limit()
	out := []AuditEntry{}
	needles := auditNeedles(f)
	err := b.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		scanned := 0
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			// A rare filter may scan the whole log; let a caller that
			// gave up stop it.
			if scanned++; scanned%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if !containsAll(v, needles) {
				continue // cannot match: skip decoding it
			}
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode audit entry %x: %w", k, err)
			}
			if f.Actor != "" && e.Actor != f.Actor ||
				f.PluginID != "" && e.PluginID != f.PluginID ||
				f.TeamID != "" && e.TeamID != f.TeamID {
				continue
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("registry: audit: %w", err)
	}
	return out, nil
}

// auditNeedles are the byte strings an encoded entry must contain to match
// f: each filtered field as json.Marshal writes it.
func auditNeedles(f AuditFilter) [][]byte {
	var out [][]byte
	for _, kv := range [][2]string{{"actor", f.Actor}, {"plugin_id", f.PluginID}, {"team_id", f.TeamID}} {
		if kv[1] == "" {
			continue
		}
		v, _ := json.Marshal(kv[1])
		out = append(out, append([]byte(`"`+kv[0]+`":`), v...))
	}
	return out
}

func containsAll(b []byte, needles [][]byte) bool {
	for _, n := range needles {
		if !bytes.Contains(b, n) {
			return false
		}
	}
	return true
}
