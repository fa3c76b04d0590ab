package registry_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// TestKVStoresAgree: the same random sequence of KV writes, reads and
// lists (compare-and-set with current, stale and create-only revisions,
// the key bound, the per-user quota, takeovers between users, deletes)
// gets the same answer from bbolt and PostgreSQL, revisions and usage
// included: one KV, two implementations.
func TestKVStoresAgree(t *testing.T) {
	bolt := openStore(t, "bolt", &registry.Options{NoSync: true}).(kvTestStore)
	pg := openStore(t, "postgres", &registry.Options{}).(kvTestStore)
	seed := uint64(20261204)
	rng := rand.New(rand.NewPCG(seed, seed))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	outcome := func(e registry.KVEntry, err error) string {
		for _, s := range []error{registry.ErrKVNotFound, registry.ErrKVConflict, registry.ErrKVTooManyKeys, registry.ErrKVQuota} {
			if errors.Is(err, s) {
				return s.Error()
			}
		}
		if err != nil {
			return "unexpected: " + err.Error()
		}
		return fmt.Sprintf("%s=%q rev %d by %s", e.Key, e.Value, e.Rev, e.UpdatedBy)
	}
	seen := map[string]int{} // outcome classes, so the test shows it met each
	class := func(s string) string {
		for _, c := range []string{"not found", "mismatch", "full", "quota", " rev ", "[]"} {
			if strings.Contains(s, c) {
				return c
			}
		}
		return "other"
	}
	ops := 300
	if testing.Short() {
		ops = 100
	}
	for i := range ops {
		plugin, scope, key := pick("p1", "p2"), pick("s1", "s2"), pick("a", "b", "c", "d", "e/1", "e/2")
		actor := pick("u1", "u2", "u3")
		var got [2]string
		var desc string
		switch op := rng.IntN(10); {
		case op < 5:
			w := registry.KVWrite{PluginID: plugin, Scope: scope, Key: key, Value: []byte(fmt.Sprint(rng.IntN(1000))), Actor: actor,
				MaxKeys: 4, MaxActorKeys: 5, MaxActorBytes: 40}
			cur, err := bolt.KVGet(ctx, plugin, scope, key)
			switch rng.IntN(4) {
			case 0: // create only
				w.IfRev = rev(0)
			case 1: // compare-and-set with the current revision (0: none)
				w.IfRev = rev(cur.Rev)
				if err != nil {
					w.IfRev = rev(0)
				}
			case 2: // a stale revision
				w.IfRev = rev(cur.Rev + 1)
			}
			desc = fmt.Sprintf("put %s %s %s by %s (if rev %v)", plugin, scope, key, actor, w.IfRev)
			for j, s := range []kvTestStore{bolt, pg} {
				got[j] = outcome(s.KVPut(ctx, w))
			}
		case op < 7:
			w := registry.KVWrite{PluginID: plugin, Scope: scope, Key: key, Actor: actor}
			desc = fmt.Sprintf("delete %s %s %s", plugin, scope, key)
			for j, s := range []kvTestStore{bolt, pg} {
				got[j] = outcome(registry.KVEntry{}, s.KVDelete(ctx, w))
			}
		case op < 9:
			prefix, after, limit := pick("", "e/", "b"), pick("", "a", "c"), rng.IntN(4)
			desc = fmt.Sprintf("list %s %s prefix %q after %q limit %d", plugin, scope, prefix, after, limit)
			for j, s := range []kvTestStore{bolt, pg} {
				es, err := s.KVList(ctx, plugin, scope, prefix, after, limit)
				var out []string
				for _, e := range es {
					out = append(out, outcome(e, nil))
				}
				got[j] = fmt.Sprint(out, err)
			}
		default:
			desc = "usage of " + actor
			for j, s := range []kvTestStore{bolt, pg} {
				k, b, err := s.KVUsage(ctx, actor)
				got[j] = fmt.Sprint(k, b, err)
			}
		}
		seen[class(got[0])]++
		if got[0] != got[1] {
			t.Fatalf("op %d, %s:\n bolt     %s\n postgres %s", i, desc, got[0], got[1])
		}
	}
	for _, c := range []string{"not found", "mismatch", "full", "quota", " rev ", "[]"} {
		if seen[c] == 0 {
			t.Errorf("no operation had the outcome %q (%v): change the seed or the mix", c, seen)
		}
	}
	verifyIfAble(t, pg)
}
