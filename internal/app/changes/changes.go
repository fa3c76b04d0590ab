// Package changes is the typed change feed of mmtoolkit's application
// layer. Every write to the registry becomes one Change value (a version
// stored, a team's state of a plugin changed, blobs pruned, ...), published
// to a Feed once the store call returned, whether this process made the
// write or another replica of the same database did (the server reads the
// latter from the registry's change log). What caches a fact of the
// registry, or reacts to one, subscribes to the changes that make it stale:
// the artifact index, the manifest generation, the merged plugin lists, the
// websocket hub, the background workers. So there is one path from a write
// to everything it affects, and a remote change affects the same things as
// a local one.
//
// The package holds data and the dispatch; it imports no net/http.
package changes

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// A Change is one fact the feed carries. Kind is the registry's change-log
// kind (registry.Change*) the fact is written as between replicas; a
// package may define changes of its own (the server's custom plugin events,
// preview leases) by implementing it.
type Change interface {
	Kind() string
}

// VersionStored: a new version was stored and is servable.
type VersionStored struct {
	Version *registry.Version
	// Blobs are the stored artifacts' bytes by SHA-256 when this process
	// stored the version, so background work (precompression) need not
	// read them back; nil when another replica stored it (that replica's
	// workers do the work).
	Blobs map[string][]byte
	// AsOf is the change-log row of a version stored by another replica
	// (0: stored here). Team states changed after it are told by their own
	// rows, so events for this version judge teams by their state then.
	AsOf int64
}

// Kind implements Change.
func (VersionStored) Kind() string { return registry.ChangeVersion }

// Remote reports whether another replica stored the version.
func (c VersionStored) Remote() bool { return c.AsOf != 0 }

// VersionCertified: a stored version's certification was raised (an
// identical re-push with a signature). Nothing else about it changed, but a
// minimum certification level may now let it into manifests.
type VersionCertified struct {
	Version *registry.Version
}

// Kind implements Change.
func (VersionCertified) Kind() string { return registry.ChangeVersion }

// TeamStateChanged: a team enabled, disabled, pinned or unpinned a plugin
// (the kill switch is one such change per team).
type TeamStateChanged struct {
	TeamID        string
	Plugin        *registry.Plugin
	Before, After registry.TeamState
}

// Kind implements Change.
func (TeamStateChanged) Kind() string { return registry.ChangeTeamState }

// BlobsPruned: versions were removed (old prereleases) and these blobs are
// named by no version any more.
type BlobsPruned struct {
	SHAs []string
}

// Kind implements Change.
func (BlobsPruned) Kind() string { return registry.ChangePrune }

// EncodingsStored: a blob's precompressed variants were stored.
type EncodingsStored struct {
	SHA       string
	Encodings map[string]registry.Encoded
}

// Kind implements Change.
func (EncodingsStored) Kind() string { return registry.ChangeEncodings }

// SourceMapStored: a source map built after its version's push was added
// to the version.
type SourceMapStored struct {
	Artifact registry.Artifact
}

// Kind implements Change.
func (SourceMapStored) Kind() string { return registry.ChangeSourceMap }

// BytecodeStored: Hermes bytecode of a mobile bundle was stored, or its
// compile failed (Bytecode.Error says why).
type BytecodeStored struct {
	Bytecode registry.Bytecode
}

// Kind implements Change.
func (BytecodeStored) Kind() string { return registry.ChangeBytecode }

// ServerPartChanged: a plugin's server part was pinned, enabled or
// disabled on the upstream Mattermost, so Mattermost's plugin list differs.
type ServerPartChanged struct{}

// Kind implements Change.
func (ServerPartChanged) Kind() string { return registry.ChangeServerPart }

// A Feed delivers each published Change to its subscribers, in the order
// they subscribed, synchronously in the publisher's goroutine: when Publish
// returns, every cache the change makes stale is invalidated and every
// event it causes is queued. Changes published from different goroutines
// may interleave, as the writes they report did; subscribers are safe for
// concurrent use. Subscribe before the first Publish (the server subscribes
// its parts while it is built).
type Feed struct {
	mu   sync.Mutex
	subs atomic.Pointer[[]subscriber]
}

type subscriber struct {
	name string
	fn   func(context.Context, Change)
}

// Subscribe adds fn, which receives every change; name says who it is (in
// Subscribers and in a test's failure).
func (f *Feed) Subscribe(name string, fn func(context.Context, Change)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var next []subscriber
	if old := f.subs.Load(); old != nil {
		next = append(next, *old...)
	}
	next = append(next, subscriber{name, fn})
	f.subs.Store(&next)
}

// On subscribes fn to the changes of type T only.
func On[T Change](f *Feed, name string, fn func(context.Context, T)) {
	f.Subscribe(name, func(ctx context.Context, c Change) {
		if t, ok := c.(T); ok {
			fn(ctx, t)
		}
	})
}

// Publish delivers c to every subscriber, in subscription order.
func (f *Feed) Publish(ctx context.Context, c Change) {
	subs := f.subs.Load()
	if subs == nil {
		return
	}
	for _, s := range *subs {
		s.fn(ctx, c)
	}
}

// Subscribers names the subscribers in delivery order.
func (f *Feed) Subscribers() []string {
	subs := f.subs.Load()
	if subs == nil {
		return nil
	}
	names := make([]string, len(*subs))
	for i, s := range *subs {
		names[i] = s.name
	}
	return names
}

// TeamStateRow decodes a team-state change as the registry's change log
// carries it (registry.ChangeTeamStatePayload): the state after the
// change, and the state before it, nil in a row written by a binary that
// did not record it.
func TeamStateRow(payload []byte) (after registry.TeamState, before *registry.TeamState, err error) {
	var p struct {
		registry.ChangeTeamStatePayload
		WasEnabled *bool  `json:"was_enabled"`
		WasVersion string `json:"was_version"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return registry.TeamState{}, nil, err
	}
	after = registry.TeamState{TeamID: p.TeamID, PluginID: p.PluginID, Enabled: p.Enabled, Version: p.Version}
	if p.WasEnabled != nil {
		before = &registry.TeamState{TeamID: p.TeamID, PluginID: p.PluginID, Enabled: *p.WasEnabled, Version: p.WasVersion}
	}
	return after, before, nil
}
