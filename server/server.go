// Package server is mmtoolkit's HTTP edge: one route table for the chi
// router and the fast lane, middleware, the handlers of the HTTP API (see
// docs/api.md), the websocket hub, and the one place that maps errors to
// HTTP status codes and stable codes (toError). What the server does is
// the application layer's (internal/app/...: publishing, the serving
// policy, team-state changes, previews, the artifact index, background
// work, all joined by the typed change feed); records, compiles and the
// serving rule are the domain's (registry, bundler, slots, identity). New
// builds the application's parts and subscribes them to the feed
// (changes.go); this package translates between them and HTTP.
package server

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/internal/app/artifacts"
	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/enablement"
	"github.com/mmtoolkit/mmtoolkit/internal/app/notify"
	"github.com/mmtoolkit/mmtoolkit/internal/app/precompress"
	"github.com/mmtoolkit/mmtoolkit/internal/app/previews"
	"github.com/mmtoolkit/mmtoolkit/internal/app/publish"
	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serverpart"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serving"
	"github.com/mmtoolkit/mmtoolkit/internal/app/sourcemaps"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Identity is what the server needs to know about users, teams and
// channels. The sandbox implements it, and so does apiv4proxy.Upstream
// against a real Mattermost.
type Identity interface {
	// Authenticate returns who a Mattermost token belongs to, or an error
	// wrapping apiv4proxy.ErrInvalidToken.
	Authenticate(ctx context.Context, token string) (*identity.Identity, error)
	// Team resolves a team id or URL name for the caller, or returns an
	// error wrapping apiv4proxy.ErrTeamNotFound.
	Team(ctx context.Context, who *identity.Identity, idOrName string) (*identity.Team, error)
	// ChannelMembers returns a channel and its members' user ids, or an
	// error wrapping apiv4proxy.ErrChannelNotFound when the caller cannot
	// see it.
	ChannelMembers(ctx context.Context, who *identity.Identity, channelID string) (*identity.Channel, []string, error)
}

// Store is what the server needs of the registry: the plugin store, the
// plugins' key-value store and the crash log. *registry.Bolt is all three.
type Store interface {
	registry.Store
	registry.KV
	registry.CrashLog
	registry.Encodings
	registry.SourceMaps
}

// Config configures a Server. Zero values are sensible defaults.
type Config struct {
	// Limits for pushed packages; zero fields take pluginpkg.DefaultLimits.
	Limits pluginpkg.Limits
	// BundleCacheBytes bounds the in-memory cache of served bundle bytes
	// (identity and precompressed); default 64 MiB.
	BundleCacheBytes int64
	// BlobFiles is a directory where the server keeps copies of served
	// blobs of 32 KiB and more as files, to send them with sendfile(2).
	// Derived data, safe to delete. "" serves every blob from memory.
	BlobFiles string
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Upstream serves /api/v4/* (the sandbox's handler, or a proxy to a
	// real Mattermost). Nil answers 404 there.
	Upstream http.Handler
	// Fronting says Upstream is a real Mattermost (serve --upstream), not
	// the sandbox: its plugins join GET /api/v4/plugins/webapp and their
	// /static/plugins/ and /plugins/ paths pass through (compat.go).
	Fronting bool
	// PluginConflict decides which entry the merged plugin list keeps for
	// an id both sides serve; "" is ConflictMmtoolkit.
	PluginConflict PluginConflict
	// PluginListTTL bounds how long a merged plugin list is reused without
	// asking Mattermost (changes made through mmtoolkit invalidate it at
	// once); 0 is DefaultPluginListTTL, negative never reuses one.
	PluginListTTL time.Duration
	// MobileKey signs mobile manifests (mobile.LoadOrCreateKey); nil signs
	// with a key made at start-up, which no app can have pinned.
	MobileKey ed25519.PrivateKey
	// Hermesc is the hermesc binary that compiles mobile bundles to Hermes
	// bytecode in the background (bundler.FindHermesc); "" serves JS only.
	Hermesc string
	// TrustedKeys are the keys whose package signatures earn a
	// certification level; a signed push with any other key is refused.
	TrustedKeys []TrustedKey
	// MinCertification is the lowest level a version may have to be
	// enabled for a team or served in a manifest; the zero value
	// (registry.Unverified) restricts nothing.
	MinCertification registry.Certification
	// MaxCompiles bounds the pushes compiling at once (each compiles its
	// web and mobile entries); others wait their turn, or give up with
	// their request. esbuild's memory grows with a package's sources (up to
	// the unpacked limit), so this bounds the server's memory under a burst
	// of pushes. The source maps built after a push's answer take the same
	// slots. Default: GOMAXPROCS, at least 2.
	MaxCompiles int
	// BuildCache keeps the esbuild contexts of recent pushes, so a
	// re-push after an edit re-parses only what changed (bundler.Cache).
	// Nil gives the Server one of its own with bundler's default bounds,
	// closed by Close; a cache passed here is the caller's to close.
	BuildCache *bundler.Cache
	// CompileMemory is the process's garbage-collection policy around
	// compiles (publish.CompileMemory); mmtoolkit serve passes
	// GCOffDuringCompiles. Nil leaves the collector alone.
	CompileMemory CompileMemory
	// Timing holds the server's waits and deadlines; zero fields take the
	// defaults (settle.go).
	Timing Timing
	// PushBudgetBytes bounds the bytes pushes in flight hold together, each
	// reserving its Content-Length (the archive limit without one) and
	// then what its archive unpacks to; a push past it is answered 503
	// push_budget_exhausted with Retry-After. It must hold the largest
	// push the Limits allow. Default DefaultPushBudget (512 MiB).
	PushBudgetBytes int64
	// OwnerQuotaBytes bounds what the versions of one owner's plugins
	// store together (publish.StoredBytes); a push past it is answered 507
	// storage_quota_exceeded. Default DefaultOwnerQuota (2 GiB); negative:
	// no quota.
	OwnerQuotaBytes int64
	// KeepPrereleases is how many of each developer's newest prereleases
	// of a plugin stay stored; older ones are pruned after each push
	// (internal/app/previews), except versions a team pins or a preview
	// shows.
	// 0 is DefaultKeepPrereleases; negative keeps every version.
	KeepPrereleases int
	// PluginAdmin installs packages' server parts on the upstream
	// Mattermost (serverpart.go); nil: there is none, and server parts are
	// only kept.
	PluginAdmin PluginAdmin
	// UpstreamAdminToken is a Mattermost system admin's token the operator
	// gave (--upstream-admin-token): server parts of users who are not
	// system admins there are installed with it. Never logged.
	UpstreamAdminToken string

	// middleware runs on every route, on both lanes, inside the server's
	// own (tests add one to see that it does).
	middleware []func(http.Handler) http.Handler
}

// Server holds the handlers' dependencies.
type Server struct {
	cfg        Config
	store      Store
	identity   Identity
	hub        *hub
	compressor *precompress.Compressor
	mobile     *mobileService
	maps       *sourcemaps.Maps
	sched      *scheduler.Scheduler // runs all background work, one job at a time
	settle     scheduler.Settle     // sched's Before: background work yields to pushes (settle.go)

	eventLimiter *rateLimiter
	crashLimiter *rateLimiter
	memberships  membershipCache // see requireSharedTeam
	log          *slog.Logger
	metrics      *metrics
	console      *consoleAdapter
	compiles     *publish.Compiles  // see Config.MaxCompiles, Config.CompileMemory
	publisher    *publish.Publisher // the push pipeline (publish.go)
	buildCache   *bundler.Cache     // see Config.BuildCache
	ownsCache    bool               // made by New: Close closes it
	pushBudget   *pushBudget        // see Config.PushBudgetBytes
	quota        *publish.Quota     // see Config.OwnerQuotaBytes
	previews     *previews.Previews // developers' previews of prereleases and their pruning (preview.go)
	trust        publish.TrustIndex
	policy       *serving.Policy     // the serving policy: min certification, which version a team serves
	teams        *enablement.Service // team-state changes: enable, disable, pin, rollback, the kill switch
	notify       *notify.Notifier    // which teams' pages hear of a change (events.go delivers)
	embed        *embedService       // nil when the store keeps no embed apps (embed.go)
	parts        *serverpart.Manager // server parts on Mattermost (internal/app/serverpart)
	// The team each session shows, and plugin events on the relayed
	// /api/v4/websocket (sessionteams.go, pluginsockets.go).
	sessionTeams  *sessionTeams
	pluginSockets *pluginSockets // nil unless Upstream is the proxy
	socketSource  apiv4proxy.SocketSource
	// changes is the change feed every write reaches what it affects
	// through (changes.go).
	changes changes.Feed
	// feed is the store's change log when replicas share it (replica.go).
	feed    changeFeed
	replica replica

	// gen moves on every change served answers depend on (it follows the
	// change feed); cached manifests, merged plugin lists and the console's
	// catalogue carry the number they were built at.
	gen         serving.Generation
	manifests   sync.Map    // manifestKey -> *cachedManifest
	webappLists webappLists // merged GET /api/v4/plugins/webapp answers (compat.go)

	// index is every servable artifact by SHA-256, prefix, source map key
	// and path (internal/app/artifacts).
	index   *artifacts.Index
	bundles *bundleCache
	files   *blobFiles           // nil without Config.BlobFiles
	edge    atomic.Pointer[Edge] // the Edge serving it, for /metrics

	// table is the route table both lanes are built from (routetable.go).
	table  []route
	router chi.Router
	fast   [nFastKinds][2]*fastHandler // the table's fast-lane routes, for NewEdge
	// exactGet are the table's fast-lane GET routes without parameters (the
	// manifest), by path: see ServeHTTP.
	exactGet map[string]http.Handler
}

// New builds a Server over a registry and an identity provider.
func New(store Store, id Identity, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BundleCacheBytes == 0 {
		cfg.BundleCacheBytes = 64 << 20
	}
	cfg.Timing = cfg.Timing.withDefaults()
	s := &Server{
		cfg:      cfg,
		store:    store,
		identity: id,
		log:      cfg.Logger,
		metrics:  newMetrics(),
		index:    artifacts.New(),
		bundles:  newBundleCache(cfg.BundleCacheBytes),

		compiles:     publish.NewCompiles(cfg.MaxCompiles, cfg.CompileMemory, cfg.Timing.ReleaseAfter),
		buildCache:   cfg.BuildCache,
		ownsCache:    cfg.BuildCache == nil,
		eventLimiter: newRateLimiter(eventRate, eventBurst),
		crashLimiter: newRateLimiter(crashRate, crashBurst),
	}
	if cfg.PluginConflict == "" {
		s.cfg.PluginConflict = ConflictMmtoolkit
	}
	if _, err := ParsePluginConflict(string(cfg.PluginConflict)); err != nil {
		return nil, err
	}
	if !cfg.MinCertification.Valid() {
		return nil, fmt.Errorf("server: minimum certification %d is not a level", uint8(cfg.MinCertification))
	}
	s.policy = serving.New(store, cfg.MinCertification)
	s.teams = enablement.New(store, s.policy, &s.changes)
	s.notify = notify.New(store, s.policy, s.log)
	s.parts = serverpart.New(serverpart.Config{Store: store, Admin: newPartAdmin(cfg.PluginAdmin), AdminToken: cfg.UpstreamAdminToken,
		Policy: s.policy, Feed: &s.changes, Log: s.log})
	lim := pluginpkg.DefaultLimits
	if cfg.Limits.MaxArchiveBytes > 0 {
		lim.MaxArchiveBytes = cfg.Limits.MaxArchiveBytes
	}
	if cfg.Limits.MaxUnpackedBytes > 0 {
		lim.MaxUnpackedBytes = cfg.Limits.MaxUnpackedBytes
	}
	budget, err := newPushBudget(cfg.PushBudgetBytes, pushBodyLimit(lim.MaxArchiveBytes), lim.MaxUnpackedBytes)
	if err != nil {
		return nil, err
	}
	s.pushBudget, s.quota = budget, publish.NewQuota(cfg.OwnerQuotaBytes)
	trust, err := publish.NewTrustIndex(cfg.TrustedKeys)
	if err != nil {
		return nil, err
	}
	s.trust = trust
	for _, k := range cfg.TrustedKeys {
		s.log.Info("trusting package signing key", "level", k.Level, "key", pluginpkg.KeyFingerprint(k.Key), "file", k.Source)
	}
	if cfg.MinCertification != registry.Unverified {
		s.log.Info("minimum certification", "level", cfg.MinCertification)
	}
	if err := s.initFeed(context.Background()); err != nil { // replica.go
		return nil, err
	}
	mobileJS, err := s.indexStore(context.Background()) // bundles.go
	if err != nil {
		return nil, err
	}
	s.settle.Pause, s.settle.Max = cfg.Timing.BackgroundSettle, cfg.Timing.SettleMax
	s.sched = scheduler.New(scheduler.Config{Log: s.log, Before: s.settle.Wait})
	s.previews = s.newPreviews() // preview.go: before the feed's subscribers (changes.go)
	if cfg.BlobFiles != "" {
		if s.files, err = openBlobFiles(cfg.BlobFiles, s.log, s.index.BlobSizes(), s.sched); err != nil {
			s.sched.Close()
			return nil, err
		}
	}
	s.initEmbed() // embed.go: gates Upstream, before the routes use it
	s.table = s.routeTable()
	if s.fast, err = s.fastRoutes(); err != nil {
		s.sched.Close()
		return nil, err
	}
	s.router = s.routes()
	s.hub = newHub()
	// changes.go: before the background work below can publish a change
	// (its subscribers reach the compressor and the mobile service only
	// for versions pushed after New returns).
	s.subscribe()
	s.initPluginSockets(cfg.Upstream) // cfg's: the proxy itself, with its sockets
	s.compressor = precompress.New(precompress.Config{Store: s.store, Scheduler: s.sched, Feed: &s.changes, Index: s.index,
		Once: s.claim, Made: s.encoded, Took: func(d time.Duration) { s.metrics.compile("precompress", d) }}) // replica.go: claim, encoded
	s.compressMissing()
	if s.ownsCache {
		s.buildCache = bundler.NewDefaultCache()
	}
	s.maps = sourcemaps.New(sourcemaps.Config{Builder: s.buildCache, Slots: s.compiles, Store: s.store, Scheduler: s.sched,
		Feed: &s.changes, Compressor: s.compressor, Log: s.log, Wait: cfg.Timing.MapWait,
		Took: func(t bundler.Target, d time.Duration) { s.metrics.compile(t.String()+"_map", d) }})
	s.publisher = s.newPublisher() // publish.go: after the build cache and the maps
	mob, err := newMobile(s, mobileJS)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.mobile = mob
	s.follow() // replica.go: other replicas' changes
	return s, nil
}

// Close stops the event hub and the background work, and closes every websocket connection. Call it
// after http.Server.Shutdown, which does not touch hijacked connections.
func (s *Server) Close() {
	s.stopFollowing()
	if s.previews != nil {
		s.previews.Close()
	}
	s.closePluginSockets()
	if s.embed != nil {
		s.embed.app.Close() // a sweep of expired embed sessions in progress
	}
	s.hub.close()
	s.compiles.Stop()
	if s.maps != nil {
		s.maps.Close(10 * time.Second)
	}
	// The rest is interrupted and redone at the next start.
	s.sched.Close()
	if s.ownsCache {
		s.buildCache.Close() // after the maps, which build through it
	}
	if s.files != nil {
		s.files.close()
	}
}

// Idle reports whether background work (source maps, bytecode, pruning,
// blob files, precompression) is done: tests and benchmarks wait for it.
func (s *Server) Idle() bool {
	return s.sched.Idle() && s.maps.Idle()
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// An embed token reaches only the routes of embed_scope.go.
	if s.embed != nil && embedTokenOf(r) != "" {
		s.embed.scoped.ServeHTTP(w, r)
		return
	}
	// The manifest revalidation is the request every open page sends most:
	// the table's exact fast-lane GET routes skip the router (the fast
	// lane's handler, with the same middleware: no routing pass, no
	// context copies). Their escaped paths are answered by the decoded
	// path, as always.
	if r.Method == http.MethodGet {
		if h, ok := s.exactGet[r.URL.Path]; ok {
			h.ServeHTTP(w, r)
			return
		}
	}
	s.router.ServeHTTP(w, r)
}

const manifestPath = "/api/v1/manifest"

// changed invalidates every cache of served answers for a write that does
// not come through the change feed (the built-in plugins installed at
// start-up, caches rebuilt after missed change rows); the feed's changes
// move the generation themselves (serving.Generation.Subscribe).
func (s *Server) changed() { s.gen.Changed() }

// detachRoute runs h with a fresh routing context, so a mounted router (the
// sandbox) matches full paths and its patterns do not leak into ours.
func detachRoute(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, nil)))
	})
}
