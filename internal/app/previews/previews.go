// Package previews owns developers' previews of their prereleases: the
// leases, the rules of taking one, which teams a preview shows in, the
// sharing of leases between replicas, and the pruning of old prereleases
// (which never removes a version a preview shows).
//
// A prerelease (every `push --watch` build) never goes live to the teams
// that follow a plugin's latest version (slots.Effective serves them its
// newest release). Its developer sees it through a preview: a lease on
// (developer, plugin) naming the prerelease, which `push --watch` takes
// after each push, renews while it watches and ends when it stops; a lease
// not renewed within its TTL ends on its own, so a watch process that dies
// leaves nothing live. While the lease holds, the developer's own web and
// mobile manifests, in every team that enabled the plugin and follows its
// latest version, serve the preview in place of the team's release (the
// server builds them with serving.Policy.PreviewSource over Of), and so do
// the checks that follow the served version for the developer's requests.
// Teams that have not enabled the plugin do not get it, not even for its
// developer: enabling stays the team admin's call; nor do teams whose admin
// pinned a version: a pin serves that version to everyone, the developer
// included, so a preview never changes what an admin chose.
//
// Leases live in memory: a restart ends them all, which is the safe side
// (the next renewal of a running watch takes its lease again). With
// replicas sharing a database every replica keeps every lease, so a
// developer's requests see their preview whichever replica answers: a
// lease taken, renewed or ended here is written to the change log
// (ChangeLog) and another replica applies it from the feed (Change).
//
// The package sits in the application layer between the server's HTTP
// edge and the registry: it imports no net/http, answers with sentinel and
// typed errors (ErrClosed, *TTLError, *NotPrereleaseError,
// *NotOwnerError) the server maps to statuses and codes, and tells the
// server's pages what changed through Config.Changed.
package previews

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

const (
	// DefaultTTL is how long a lease holds without renewal; push --watch
	// renews it every third of that.
	DefaultTTL = 30 * time.Second
	// MaxTTL is the longest lease a developer may ask for.
	MaxTTL = 10 * time.Minute
)

// ErrClosed refuses a lease once the server is shutting down.
var ErrClosed = errors.New("previews: closed")

// TTLError refuses a lease's TTL outside 1 second to MaxTTL.
type TTLError struct {
	Seconds int // as asked
}

func (e *TTLError) Error() string {
	return fmt.Sprintf("previews: ttl %d s outside 1 to %d", e.Seconds, int(MaxTTL/time.Second))
}

// NotPrereleaseError refuses to preview a release: teams that follow the
// latest version already serve it.
type NotPrereleaseError struct {
	PluginID, Version string
}

func (e *NotPrereleaseError) Error() string {
	return fmt.Sprintf("previews: %s %s is a release", e.PluginID, e.Version)
}

// NotOwnerError refuses to preview another developer's prerelease.
type NotOwnerError struct {
	PluginID, Version string
}

func (e *NotOwnerError) Error() string {
	return fmt.Sprintf("previews: %s %s was pushed by someone else", e.PluginID, e.Version)
}

// Store is what previews read of the registry.
type Store interface {
	Version(ctx context.Context, pluginID, version string) (*registry.Version, error)
	TeamStates(ctx context.Context, teamID string) (map[string]registry.TeamState, error)
}

// ChangeLog is the registry's change log when replicas share a database
// (the server's feed): a lease taken, renewed or ended is written there.
type ChangeLog interface {
	PublishEvent(ctx context.Context, kind string, payload json.RawMessage) error
}

// Config sets up Previews. Store is required.
type Config struct {
	Store Store
	// Log is nil for slog.Default().
	Log *slog.Logger
	// ChangeLog is nil for one server: nothing is shared.
	ChangeLog ChangeLog
	// Changed tells user's open pages in teams (those where a preview of
	// pluginID shows) that what their own manifest serves of it changed:
	// a preview taken, moved to another version, ended or expired. nil:
	// nobody is told.
	Changed func(ctx context.Context, user, pluginID string, teams []string)
	// Clock is nil for the real one.
	Clock Clock

	// Pruning (prune.go). Pruner nil: nothing is pruned.
	Pruner    Pruner
	Scheduler *scheduler.Scheduler // required with a Pruner
	Feed      *changes.Feed        // gets changes.BlobsPruned; required with a Pruner
	// Keep is how many of each developer's newest prereleases of a plugin
	// stay: 0 is DefaultKeep, negative keeps every version.
	Keep int
}

// Previews holds the leases of this process and applies the rules of
// taking one. Its methods are safe for concurrent use.
type Previews struct {
	cfg    Config
	log    *slog.Logger
	clock  Clock
	leases leases
}

// New returns Previews with no lease.
func New(cfg Config) *Previews {
	p := &Previews{cfg: cfg, log: cfg.Log, clock: cfg.Clock}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.clock == nil {
		p.clock = realClock{}
	}
	p.leases.clock = p.clock
	return p
}

// Developer is who takes or ends a lease.
type Developer struct {
	ID, Username string
	// Teams are the developer's teams, sorted: a preview shows in those
	// that enabled the plugin and follow its latest version.
	Teams []string
}

// Lease is a lease as Take granted it.
type Lease struct {
	PluginID, Version string
	TTL               time.Duration
	ExpiresAt         time.Time
	// Teams are the developer's teams that enabled the plugin and follow
	// its latest version: where their pages show the preview.
	Teams []string
}

// Take takes or renews dev's lease on version of pluginID for ttlSeconds
// (0: DefaultTTL). Only the developer who pushed a prerelease previews it:
// a release is a *NotPrereleaseError, another's prerelease a
// *NotOwnerError, a TTL out of bounds a *TTLError, an unknown version the
// store's error, a closed Previews ErrClosed. The lease is shared with the
// other replicas before Take returns. A new version is announced
// (Config.Changed); a renewal of the same version is silent.
func (p *Previews) Take(ctx context.Context, dev Developer, pluginID, version string, ttlSeconds int) (Lease, error) {
	ttl := DefaultTTL
	if ttlSeconds != 0 {
		// Bounded in seconds first: a huge count would overflow a
		// time.Duration into one in range.
		if ttlSeconds < 1 || ttlSeconds > int(MaxTTL/time.Second) {
			return Lease{}, &TTLError{Seconds: ttlSeconds}
		}
		ttl = time.Duration(ttlSeconds) * time.Second
	}
	v, err := p.cfg.Store.Version(ctx, pluginID, version)
	if err != nil {
		return Lease{}, err
	}
	if !slots.IsPrerelease(v.Version) {
		return Lease{}, &NotPrereleaseError{PluginID: pluginID, Version: v.Version}
	}
	if v.PushedBy != dev.ID {
		return Lease{}, &NotOwnerError{PluginID: pluginID, Version: v.Version}
	}
	prev, err := p.leases.set(dev.ID, pluginID, v.Version, dev.Teams, ttl, p.expired)
	if err != nil {
		return Lease{}, err
	}
	// Every replica keeps the lease too: the developer's next manifest
	// request may reach any of them.
	if err := p.share(ctx, Change{User: dev.ID, Plugin: pluginID, Version: v.Version, Teams: dev.Teams, TTLMS: ttl.Milliseconds()}); err != nil {
		return Lease{}, err
	}
	enabled := p.Teams(ctx, dev.Teams, pluginID)
	if prev != v.Version {
		p.log.Info("preview", "plugin", pluginID, "version", v.Version, "by", dev.Username, "teams", len(enabled))
		p.changed(ctx, dev.ID, pluginID, enabled)
	}
	return Lease{PluginID: pluginID, Version: v.Version, TTL: ttl, ExpiresAt: p.clock.Now().Add(ttl), Teams: enabled}, nil
}

// End ends dev's lease on pluginID, here and (first) on every replica; the
// developer's pages go back to what their teams serve. Ending a lease that
// does not exist is no error, so a retry is harmless.
func (p *Previews) End(ctx context.Context, dev Developer, pluginID string) error {
	if err := p.share(ctx, Change{User: dev.ID, Plugin: pluginID, Ended: true}); err != nil {
		return err
	}
	if l := p.leases.end(dev.ID, pluginID); l != nil {
		p.log.Info("preview ended", "plugin", l.plugin, "version", l.version, "by", dev.Username)
		p.changed(ctx, l.user, l.plugin, p.Teams(ctx, l.teams, l.plugin))
	}
	return nil
}

// expired announces a lease nobody renewed (the watch process died).
func (p *Previews) expired(l *lease) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p.log.Info("preview expired", "plugin", l.plugin, "version", l.version, "user", l.user)
	p.changed(ctx, l.user, l.plugin, p.Teams(ctx, l.teams, l.plugin))
}

func (p *Previews) changed(ctx context.Context, user, pluginID string, teams []string) {
	if p.cfg.Changed != nil {
		p.cfg.Changed(ctx, user, pluginID, teams)
	}
}

// Teams are those of teams where a preview of pluginID shows: they enabled
// it and follow its latest version (slots.Previewable). A team whose
// states cannot be read is logged and left out.
func (p *Previews) Teams(ctx context.Context, teams []string, pluginID string) []string {
	var out []string
	for _, tid := range teams {
		states, err := p.cfg.Store.TeamStates(ctx, tid)
		if err != nil {
			p.log.Error("preview: team states", "team", tid, "err", err)
			continue
		}
		if slots.Previewable(states[pluginID]) {
			out = append(out, tid)
		}
	}
	return out
}

// Of returns what user previews, plugin id -> version; nil when nothing.
// It takes no lock when nobody previews anything (the manifest's path).
func (p *Previews) Of(user string) map[string]string { return p.leases.of(user) }

// Users returns who previews pluginID, nil when nobody.
func (p *Previews) Users(pluginID string) map[string]bool { return p.leases.users(pluginID) }

// Close stops every lease's timer; later Takes fail with ErrClosed.
func (p *Previews) Close() { p.leases.close() }

// ChangeKind is the change log kind of a lease (Change): leases live in
// each replica's memory, and every replica keeps every lease.
const ChangeKind = "preview"

// Change is a lease taken, renewed or ended on another replica, as the
// change log carries it; on the feed it implements changes.Change.
type Change struct {
	User    string   `json:"user_id"`
	Plugin  string   `json:"plugin_id"`
	Version string   `json:"version,omitempty"`
	Teams   []string `json:"teams,omitempty"`
	TTLMS   int64    `json:"ttl_ms,omitempty"`
	Ended   bool     `json:"ended,omitempty"`
}

// Kind implements changes.Change.
func (Change) Kind() string { return ChangeKind }

// Decode reads a change log row of kind ChangeKind. A TTL missing or past
// MaxTTL (a row another replica should not have written) is DefaultTTL.
// It is compared in milliseconds: a huge one would overflow a
// time.Duration into a short TTL.
func Decode(payload []byte) (Change, error) {
	var c Change
	if err := json.Unmarshal(payload, &c); err != nil {
		return Change{}, err
	}
	if c.TTLMS <= 0 || c.TTLMS > MaxTTL.Milliseconds() {
		c.TTLMS = DefaultTTL.Milliseconds()
	}
	return c, nil
}

// share tells the other replicas of a lease taken, renewed or ended here.
// Without a change log (one server) it does nothing.
func (p *Previews) share(ctx context.Context, c Change) error {
	if p.cfg.ChangeLog == nil {
		return nil
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return p.cfg.ChangeLog.PublishEvent(ctx, ChangeKind, raw)
}

// Subscribe applies the leases of other replicas (Change on f) here, and
// announces those that change what the developer's pages serve.
func (p *Previews) Subscribe(f *changes.Feed) {
	changes.On(f, "previews", p.apply)
}

func (p *Previews) apply(ctx context.Context, c Change) {
	if c.Ended {
		if l := p.leases.end(c.User, c.Plugin); l != nil {
			p.changed(ctx, l.user, l.plugin, p.Teams(ctx, l.teams, l.plugin))
		}
		return
	}
	prev, err := p.leases.set(c.User, c.Plugin, c.Version, c.Teams, time.Duration(c.TTLMS)*time.Millisecond, p.expired)
	if err == nil && prev != c.Version {
		p.changed(ctx, c.User, c.Plugin, p.Teams(ctx, c.Teams, c.Plugin))
	}
}
