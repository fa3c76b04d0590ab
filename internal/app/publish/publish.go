// Package publish is mmtoolkit's publish pipeline: what happens between a
// package read from a push (or carried by the binary) and a stored,
// servable version. It owns the rules of that path, each in one place:
//
//   - the cheap checks before any compile: an identical re-push answers
//     the stored version (or raises its certification), a different one
//     with the same version conflicts, and only the plugin's owner or a
//     system admin may push a new version (Publisher.Publish);
//   - one of MaxCompiles slots for the compiles, and the process's
//     garbage-collection policy around them (Compiles, CompileMemory,
//     GCOffDuringCompiles);
//   - the web and mobile compiles, concurrently, through the build cache
//     (source maps left for after the answer when a cold build would pay
//     for them: DeferredMaps);
//   - the artifacts of a version and their hashes;
//   - the owner's storage quota (Quota);
//   - the no-op save: a developer's prerelease serving exactly what their
//     last one serves stores nothing (sameAsLastBuild);
//   - a package's certification from its signature (TrustIndex.Certify).
//
// Then it stores the version in one registry transaction and publishes one
// change to the feed (changes.VersionStored, or changes.VersionCertified
// for a raised level). What follows a push and needs only the stored
// version and its bytes (the artifact index, manifests, events,
// precompression, bytecode, pruning) subscribes to the feed; what needs
// the build itself (a source map left for later needs the package and the
// bundler's result) is an explicit hook (DeferredMaps), as is what talks
// to the outside world (a server part installed on Mattermost: Hooks).
//
// The package imports no net/http: it returns sentinel and typed errors
// (registry.ErrNotOwner, registry.ErrVersionConflict, *QuotaError,
// *UntrustedKeyError, ErrSignatureConflict, *bundler.CompileError), and the
// HTTP edge (package server) maps them to statuses and codes.
package publish

import (
	"context"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Content types of stored artifacts.
const (
	TypeJS  = "text/javascript; charset=utf-8"
	TypeMap = "application/json"
)

// Store is what the pipeline reads and writes of the registry.
type Store interface {
	PutVersion(ctx context.Context, v *registry.Version, blobs map[string][]byte, by registry.Pusher) (registry.PutResult, error)
	Plugin(ctx context.Context, id string) (*registry.Plugin, error)
	Plugins(ctx context.Context) ([]*registry.Plugin, error)
	Version(ctx context.Context, pluginID, version string) (*registry.Version, error)
}

// Builder compiles a package's entry: *bundler.Cache. BuildDeferred may
// leave the source map for later (Result.SourceMap nil).
type Builder interface {
	Build(pkg *pluginpkg.Package, t bundler.Target) (*bundler.Result, error)
	BuildDeferred(pkg *pluginpkg.Package, t bundler.Target) (*bundler.Result, error)
}

// DeferredMaps takes the source maps a push left for after its answer
// (the server's sourceMaps): it needs the build itself, which the feed's
// changes do not carry, so it is a hook rather than a subscriber.
type DeferredMaps interface {
	// Room reports whether a push may leave its maps for later.
	Room() bool
	// Add asks for the map of res, a bundle built without it, stored as
	// blob bundle of version pluginID@version, just committed.
	Add(pkg *pluginpkg.Package, res *bundler.Result, bundle, pluginID, version string)
}

// A File is one artifact a version stores, by kind (registry.WebJS, ...).
type File struct {
	Data        []byte
	ContentType string
	Key         string // a compiled source map's key (registry.Artifact.Key)
}

// Hooks are what the pipeline asks of the server around it. Nil fields do
// nothing.
type Hooks struct {
	// Prebuilt adds the files of a prebuilt webapp's output directory
	// beside its bundle js (chunks, images, fonts) and returns the host
	// modules its scripts read.
	Prebuilt func(pkg *pluginpkg.Package, js []byte, files map[string]File) (hostModules []string)
	// Files adds what a version stores besides its webapp: the icon,
	// screenshots, public/ files, the server part.
	Files func(pkg *pluginpkg.Package, files map[string]File) error
	// Store runs put, the registry write of v, with whatever must happen
	// around it outside the registry (a server part installed on
	// Mattermost first, put back if the write fails). It runs within the
	// quota's check: a version over quota installs nothing.
	Store func(ctx context.Context, v *registry.Version, files map[string]File, put func() (registry.PutResult, error)) (registry.PutResult, error)
	// Stored is called when a new version committed, before its change is
	// published (the server notes the push, so background work yields to
	// its aftermath).
	Stored func()
	// Compiled observes a compile: target "web" or "mobile", its time.
	Compiled func(target string, took time.Duration)
}

// Config configures a Publisher.
type Config struct {
	Store    Store
	Feed     *changes.Feed // the change of each stored or certified version
	Compiles *Compiles     // nil: NewCompiles(0, nil, 0)
	Quota    *Quota        // nil: NewQuota(0)
	// Builder compiles pushes (the build cache). Cold compiles the
	// plugins the binary carries (nil: bundler.Build): they are compiled
	// once, at start-up, maps included, and keeping their contexts would
	// only hold memory.
	Builder Builder
	Cold    func(pkg *pluginpkg.Package, t bundler.Target) (*bundler.Result, error)
	// Maps takes the source maps left for later; nil builds every map
	// with its bundle.
	Maps  DeferredMaps
	Hooks Hooks
}

// Publisher stores pushed packages as versions: see the package doc.
type Publisher struct {
	cfg Config
}

// New returns a Publisher.
func New(cfg Config) *Publisher {
	if cfg.Compiles == nil {
		cfg.Compiles = NewCompiles(0, nil, 0)
	}
	if cfg.Quota == nil {
		cfg.Quota = NewQuota(0)
	}
	if cfg.Cold == nil {
		cfg.Cold = bundler.Build
	}
	if cfg.Feed == nil {
		cfg.Feed = new(changes.Feed)
	}
	return &Publisher{cfg: cfg}
}

// Compiles are the publisher's compile slots, shared with the source maps
// built after a push.
func (p *Publisher) Compiles() *Compiles { return p.cfg.Compiles }
