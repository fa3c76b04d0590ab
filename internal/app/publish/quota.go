package publish

import (
	"context"
	"fmt"
	"sync"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// DefaultOwnerQuota is the default of what the versions of one developer's
// plugins may store together. push --watch stores a version per save,
// about 0.1 to 3 MiB for the reference plugins (bundles and source maps),
// so this is thousands of versions.
const DefaultOwnerQuota = 2 << 30

// StoredBytes is the one count of what a version stores: the identity
// bytes of every artifact it names (bundles, source maps, icon,
// screenshots, a prebuilt plugin's other webapp output files, Hermes
// bytecode once made). Blobs shared with other versions count for each
// version naming them, and precompressed variants, derived by the server,
// not at all. Every size limit or quota on versions goes through it, so an
// artifact kind added to Version.Artifacts counts without further change.
func StoredBytes(v *registry.Version) int64 {
	var n int64
	for _, a := range v.Artifacts {
		n += a.Size
	}
	return n
}

// QuotaError is returned when a version does not fit in its owner's
// quota: nothing was stored.
type QuotaError struct {
	Limit, Used, Size int64 // bytes: the quota, what the owner's versions store, what this one would
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("this version stores %s and the versions of your plugins already store %s of your %s quota: versions are kept for ever, so ask the server's admin to raise it (mmtoolkit serve --owner-quota-mib), or make the bundles smaller (a production build, no inline source maps)",
		mib(e.Size), mib(e.Used), mib(e.Limit))
}

// Quota bounds the bytes each owner's versions store (issue #15 F09: a
// prebuilt bundle was stored up to 300 MiB a version, with nothing
// bounding the versions). Usage is counted from the store the first time
// an owner pushes after start-up (or after Forget), then kept up to date by
// the pushes that go through Store; mu serialises the check with the
// write, so two pushes of one owner cannot both pass on the same room.
type Quota struct {
	max   int64 // < 0: no quota
	mu    sync.Mutex
	usage map[string]int64 // owner -> bytes
}

// NewQuota bounds each owner to max bytes: 0 is DefaultOwnerQuota,
// negative no quota.
func NewQuota(max int64) *Quota {
	if max == 0 {
		max = DefaultOwnerQuota
	}
	return &Quota{max: max, usage: map[string]int64{}}
}

// Lister is what the quota reads of the store to count an owner's usage.
type Lister interface {
	Plugins(ctx context.Context) ([]*registry.Plugin, error)
	Version(ctx context.Context, pluginID, version string) (*registry.Version, error)
}

// Store runs put (the registry write of v) if v fits in owner's quota,
// and returns a *QuotaError if it does not. exempt skips the check (the
// binary's own plugins) but still counts.
func (q *Quota) Store(ctx context.Context, st Lister, owner string, v *registry.Version, exempt bool,
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
	size := StoredBytes(v)
	if !exempt && used+size > q.max {
		return registry.PutResult{}, &QuotaError{Limit: q.max, Used: used, Size: size}
	}
	res, err := put()
	if err == nil && res.Created {
		q.usage[owner] = used + StoredBytes(res.Version)
	}
	return res, err
}

// Forget drops every counted usage, to be counted again from the store at
// each owner's next push: versions were removed (a prune), or stored by
// another replica, behind this count's back.
func (q *Quota) Forget() {
	q.mu.Lock()
	clear(q.usage)
	q.mu.Unlock()
}

// used is owner's usage, counted from the store once.
func (q *Quota) used(ctx context.Context, st Lister, owner string) (int64, error) {
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
			n += StoredBytes(v)
		}
	}
	q.usage[owner] = n
	return n, nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// Subscribe has the quota forget its counts on the changes that store or
// remove versions behind its back: a prune, another replica's push.
func (q *Quota) Subscribe(f *changes.Feed) {
	f.Subscribe("owner quota", func(_ context.Context, c changes.Change) {
		switch c := c.(type) {
		case changes.BlobsPruned:
			q.Forget()
		case changes.VersionStored:
			if c.Remote() {
				q.Forget()
			}
		}
	})
}
