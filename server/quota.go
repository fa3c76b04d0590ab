package server

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// DefaultOwnerQuota is Config.OwnerQuotaBytes' default: what the versions
// of one developer's plugins may store together. push --watch stores a
// version per save, about 0.1 to 3 MiB for the reference plugins (bundles
// and source maps), so this is thousands of versions.
const DefaultOwnerQuota = 2 << 30

// versionStoredBytes is the one count of what a version stores: the
// identity bytes of every artifact it names (bundles, source maps, icon,
// screenshots, a prebuilt plugin's other webapp output files, Hermes
// bytecode once made). Blobs shared with other versions count for each
// version naming them, and precompressed variants, derived by the server,
// not at all. Every size limit or quota on versions goes through it, so an
// artifact kind added to Version.Artifacts counts without further change.
func versionStoredBytes(v *registry.Version) int64 {
	var n int64
	for _, a := range v.Artifacts {
		n += a.Size
	}
	return n
}

// ownerQuota bounds the bytes each owner's versions store (issue #15 F09:
// a prebuilt bundle was stored up to 300 MiB a version, with nothing
// bounding the versions). Usage is counted from the store the first time
// an owner pushes after start-up, then kept up to date by the pushes that
// go through store; mu serialises the check with the write, so two pushes
// of one owner cannot both pass on the same room.
type ownerQuota struct {
	max   int64 // < 0: no quota
	mu    sync.Mutex
	usage map[string]int64 // owner -> bytes
}

func newOwnerQuota(max int64) *ownerQuota {
	if max == 0 {
		max = DefaultOwnerQuota
	}
	return &ownerQuota{max: max, usage: map[string]int64{}}
}

// store runs put (the registry write of v) if v fits in owner's quota.
// exempt skips the check (the binary's own plugins) but still counts.
func (q *ownerQuota) store(ctx context.Context, st registry.Store, owner string, v *registry.Version, exempt bool,
	put func() (registry.PutResult, error)) (registry.PutResult, error) {
	if q.max < 0 {
		return put()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	used, err := q.used(ctx, st, owner)
	if err != nil {
		return registry.PutResult{}, err
	}
	size := versionStoredBytes(v)
	if !exempt && used+size > q.max {
		return registry.PutResult{}, &Error{Status: http.StatusInsufficientStorage, Code: CodeStorageQuotaExceeded,
			Message: fmt.Sprintf("this version stores %s and the versions of your plugins already store %s of your %s quota: versions are kept for ever, so ask the server's admin to raise it (mmtoolkit serve --owner-quota-mib), or make the bundles smaller (a production build, no inline source maps)",
				mib(size), mib(used), mib(q.max)),
			Details: map[string]any{"limit": q.max, "used": used, "size": size}}
	}
	res, err := put()
	if err == nil && res.Created {
		q.usage[owner] = used + versionStoredBytes(res.Version)
	}
	return res, err
}

// used is owner's usage, counted from the store once.
// forget drops what the quota counted: each owner's usage is read from the
// store again at their next push (after a prune, or a version stored by
// another replica).
func (q *ownerQuota) forget() {
	q.mu.Lock()
	clear(q.usage)
	q.mu.Unlock()
}

func (q *ownerQuota) used(ctx context.Context, st registry.Store, owner string) (int64, error) {
	if n, ok := q.usage[owner]; ok {
		return n, nil
	}
	plugins, err := st.Plugins(ctx)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, p := range plugins {
		if p.Owner != owner {
			continue
		}
		for _, ver := range p.Versions {
			v, err := st.Version(ctx, p.ID, ver)
			if err != nil {
				return 0, err
			}
			n += versionStoredBytes(v)
		}
	}
	q.usage[owner] = n
	return n, nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
