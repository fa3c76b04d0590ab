// Package serverpart installs plugins' server parts on the upstream
// Mattermost and keeps the choice of which one runs there.
//
// A Mattermost plugin archive may carry a server part (server/dist/
// executables). mmtoolkit never runs it: it keeps it with the version and,
// in front of a Mattermost (--upstream), installs it there through
// Mattermost's plugin API (PluginAdmin), so the plugin's Go code runs
// inside Mattermost while mmtoolkit serves its webapp per team.
// docs/proxy.md, "Server part", is the contract; this package is all of it
// but the registry record (registry.ServerPart), the API client
// (apiv4proxy.PluginAdmin) and the HTTP edge (server/serverpart.go: the
// routes, the caller's token, the console adapter, the adapter of the API
// client to PluginAdmin, the mapping of Error to statuses and codes).
//
// Mattermost runs one server part per plugin for every team, so which
// version runs is a plugin-wide choice: the highest version that has one
// and that the serving policy follows (Policy.NotFollowed), unless a
// system admin pins another (registry.ServerPart.Pin); the kill switch
// disables it there (ServerPart.Disabled) until a system admin enables it
// again. Team pins choose webapps only.
//
// Order of a change, so that nothing is left half done: read what
// Mattermost has, install and enable there, then store locally; when the
// local store fails, Mattermost is put back as it was (the previous
// version's server part, which mmtoolkit keeps, re-uploaded; or the plugin
// removed). A failure on Mattermost's side stores nothing. The changes of
// one plugin run one at a time (a per-plugin lock), so what a change read
// of Mattermost is still true when it puts Mattermost back.
//
// Before this package, all of it was methods of the HTTP server that built
// HTTP errors in the middle of the orchestration. It answers with *Error
// (its Kind says which refusal or failure), which the server maps to the
// status and code clients see; it imports neither net/http nor the API
// client (internal/app's layering).
package serverpart

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"golang.org/x/mod/semver"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// PluginAdmin is what the package asks of the upstream Mattermost's plugin
// API, each call with a system admin's token. The server adapts
// apiv4proxy.PluginAdmin to it (server/serverpart.go). Its errors match
// (errors.Is, errors.As) the sentinels below and *APIError for what they
// mean, and keep their own text: messages quote it.
type PluginAdmin interface {
	// Upload installs archive, replacing the plugin of the same id.
	Upload(ctx context.Context, token string, archive []byte) error
	Enable(ctx context.Context, token, id string) error
	Disable(ctx context.Context, token, id string) error
	Remove(ctx context.Context, token, id string) error
	// Plugins lists the installed plugins, the active ones first.
	Plugins(ctx context.Context, token string) ([]Installed, error)
	Statuses(ctx context.Context, token string) ([]Status, error)
}

// Installed is a plugin Mattermost has installed.
type Installed struct {
	ID, Version string
	// Active: enabled and running (Mattermost's "active" list).
	Active bool
}

// Status is a plugin's state on Mattermost (one per cluster node).
type Status struct {
	PluginID string
	// Failed: it failed to start, or to stay running; Error says why.
	Failed bool
	Error  string
}

// find returns the installed plugin id and whether it is active.
func find(list []Installed, id string) (p Installed, ok bool) {
	for _, p := range list {
		if p.ID == id {
			return p, true
		}
	}
	return Installed{}, false
}

// What a PluginAdmin's error means.
var (
	// ErrAdminForbidden: the token is not a Mattermost system admin's, or
	// not valid.
	ErrAdminForbidden = errors.New("not a Mattermost system admin")
	// ErrUploadsDisabled: Mattermost refuses plugin uploads.
	ErrUploadsDisabled = errors.New("plugin uploads are disabled on Mattermost")
	// ErrNotInstalled: Mattermost has no plugin with that id.
	ErrNotInstalled = errors.New("plugin not installed on Mattermost")
	// ErrTimeout: Mattermost did not answer in time.
	ErrTimeout = errors.New("Mattermost timed out")
	// ErrUnavailable: Mattermost could not be reached, or failed.
	ErrUnavailable = errors.New("Mattermost unavailable")
)

// APIError is an error answer of Mattermost's plugin API: Status, and
// Mattermost's error id and message.
type APIError struct {
	Status      int
	ID, Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("Mattermost plugin API: %d %s (%s)", e.Status, e.Message, e.ID)
}

// Store is what the package reads of the registry: the versions and their
// server part archives. A store that also implements registry.ServerParts
// keeps the plugin-wide choice (pin, kill switch); one that does not keeps
// nothing, and every plugin follows its highest version, enabled.
type Store interface {
	Plugin(ctx context.Context, id string) (*registry.Plugin, error)
	Version(ctx context.Context, pluginID, version string) (*registry.Version, error)
	Blob(ctx context.Context, sha256 string) ([]byte, error)
}

// Policy is the serving policy's rule for what reaches the teams that
// follow the latest version (serving.Policy.NotFollowed): the server part
// Mattermost runs without a pin follows the same rule.
type Policy interface {
	NotFollowed(v *registry.Version) string
}

// Config is what a Manager needs.
type Config struct {
	Store Store
	// Admin is the upstream Mattermost's plugin API; nil: there is none
	// (sandbox), and server parts are only kept.
	Admin PluginAdmin
	// AdminToken is a Mattermost system admin's token the operator gave
	// (--upstream-admin-token), used for callers who are not system admins
	// there; "" none.
	AdminToken string
	Policy     Policy
	// Feed carries ServerPartChanged when the record changes.
	Feed *changes.Feed
	Log  *slog.Logger
}

// A Manager makes the server part changes of every plugin. It is safe for
// concurrent use.
type Manager struct {
	store Store
	admin PluginAdmin
	token string
	pol   Policy
	feed  *changes.Feed
	log   *slog.Logger

	// busy holds one *sync.Mutex per plugin id: the changes of one
	// plugin's server part (a push, a pin, the kill switch) run one at a
	// time, so each one's "what Mattermost had" is still true when it
	// puts Mattermost back.
	busy sync.Map

	cache upstreamCache // Mattermost's plugin list and statuses, for Status
}

// New is a Manager over cfg.
func New(cfg Config) *Manager {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	return &Manager{store: cfg.Store, admin: cfg.Admin, token: cfg.AdminToken, pol: cfg.Policy, feed: cfg.Feed, log: log}
}

// Artifact is the artifact kind of a version's server part: a Mattermost
// plugin archive holding plugin.json (without its webapp section) and the
// server files (Archive). Not servable: no bundle URL extension maps to
// its content type.
const (
	Artifact    = "server.tar.gz"
	ContentType = "application/gzip"
)

// Caller is who asks for a change: the request's Mattermost token and
// whether its user is a Mattermost system admin.
type Caller struct {
	Token string
	Admin bool
}

// Info is what a push answer (server_part) and the console say about a
// version's server part.
type Info struct {
	// State: "installed" (on Mattermost, as Enabled says), "not_installed"
	// (kept; Message says why), "unchanged" (an identical re-push: nothing
	// was done).
	State   string `json:"state"`
	Enabled bool   `json:"enabled"`
	// Version is the version whose server part Mattermost runs after the
	// push, when known.
	Version string `json:"version,omitempty"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	Message string `json:"message"`
}

// Unchanged is the Info of an identical re-push of v, which returns
// before the server part is looked at; nil when v has none.
func Unchanged(v *registry.Version) *Info {
	a, ok := v.Artifacts[Artifact]
	if !ok {
		return nil
	}
	return &Info{State: "unchanged", SHA256: a.SHA256, Size: a.Size,
		Message: "an identical re-push: the server part was not installed again"}
}

// adminToken is the token that may change plugins on Mattermost: the
// caller's own when they are a system admin there, else the operator's.
func (m *Manager) adminToken(c Caller, id string) (string, error) {
	if c.Admin && c.Token != "" {
		return c.Token, nil
	}
	if m.token != "" {
		return m.token, nil
	}
	return "", errorf(AdminRequired,
		"%s has a server part, which mmtoolkit installs on Mattermost, and that needs a Mattermost system admin: push as a system admin (your own token), or ask the operator to start mmtoolkit with --upstream-admin-token (env MMTOOLKIT_UPSTREAM_ADMIN_TOKEN); nothing was stored", id)
}

// blob returns a stored version's server part archive.
func (m *Manager) blob(ctx context.Context, id, version string) ([]byte, bool) {
	v, err := m.store.Version(ctx, id, version)
	if err != nil {
		return nil, false
	}
	a, ok := v.Artifacts[Artifact]
	if !ok {
		return nil, false
	}
	b, err := m.store.Blob(ctx, a.SHA256)
	return b, err == nil
}

// Publish runs put (the registry write of v) with the server part's
// install on Mattermost around it: install first, store, and put
// Mattermost back if the store fails. blob is the version's server part
// (nil: none; put runs alone and the Info is nil). The Info says what
// happened, for the push answer.
func (m *Manager) Publish(ctx context.Context, c Caller, v *registry.Version, blob []byte, put func() (registry.PutResult, error)) (registry.PutResult, *Info, error) {
	if blob == nil {
		res, err := put()
		return res, nil, err
	}
	sum := sha256.Sum256(blob)
	info := &Info{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(blob))}
	kept := func(msg string) (registry.PutResult, *Info, error) {
		res, err := put()
		info.State, info.Message = "not_installed", msg
		if err == nil && !res.Created {
			info.State, info.Message = "unchanged", "an identical re-push: the server part was not installed again"
		}
		return res, info, err
	}
	if m.admin == nil {
		return kept("not installed: no Mattermost (start mmtoolkit with --upstream to install server parts there)")
	}
	// The choice below (pinned? highest?) must still hold when it acts.
	defer m.lock(v.PluginID)()
	if old, err := m.store.Version(ctx, v.PluginID, v.Version); err == nil && old.PackageSHA256 == v.PackageSHA256 {
		return kept("") // identical re-push
	}
	sp, err := m.record(ctx, v.PluginID)
	if err != nil {
		return registry.PutResult{}, info, err
	}
	if sp.Pin != "" {
		info.Version = sp.Pin
		return kept(fmt.Sprintf("not installed: Mattermost runs the server part of %s, the version a system admin pinned (change it on the plugin's page in the admin console)", sp.Pin))
	}
	if why := m.pol.NotFollowed(v); why != "" {
		if high, ok := m.highest(ctx, v.PluginID); ok {
			info.Version = high
		}
		return kept(fmt.Sprintf("not installed: %s; Mattermost keeps the server part it runs (a system admin can pin %s on the plugin's page in the admin console)", why, v.Version))
	}
	if high, ok := m.highest(ctx, v.PluginID); ok && !semverLess(high, v.Version) {
		info.Version = high
		return kept(fmt.Sprintf("not installed: Mattermost runs the server part of %s, the highest version that has one (pin %s on the plugin's page in the admin console to run it)", high, v.Version))
	}
	token, err := m.adminToken(c, v.PluginID)
	if err != nil {
		return registry.PutResult{}, info, err
	}
	undo, err := m.install(ctx, token, v.PluginID, v.Version, blob, !sp.Disabled)
	if err != nil {
		return registry.PutResult{}, info, err
	}
	res, err := put()
	if err != nil {
		if uerr := undo(); uerr != nil {
			m.log.Error("server part: the version was not stored and Mattermost could not be put back", "plugin", v.PluginID,
				"version", v.Version, "store_error", err, "restore_error", uerr)
			return res, info, fmt.Errorf("%w (and putting Mattermost back failed: %v; check System Console > Plugins > Plugin Management)", err, uerr)
		}
		return res, info, err
	}
	info.State, info.Enabled, info.Version = "installed", !sp.Disabled, v.Version
	info.Message = "installed and enabled on Mattermost"
	if sp.Disabled {
		info.Message = "installed on Mattermost, disabled: the kill switch turned this plugin's server part off; enable it on the plugin's page in the admin console"
	}
	m.log.Info("server part installed on Mattermost", "plugin", v.PluginID, "version", v.Version, "enabled", info.Enabled)
	return res, info, nil
}

// semverLess compares plugin versions (valid semver, no "v").
func semverLess(a, b string) bool { return semver.Compare("v"+a, "v"+b) < 0 }

// record is the plugin's registry record (the zero value for a new
// plugin, or a store that keeps none).
func (m *Manager) record(ctx context.Context, id string) (registry.ServerPart, error) {
	sp, ok := m.store.(registry.ServerParts)
	if !ok {
		return registry.ServerPart{PluginID: id}, nil
	}
	return sp.ServerPart(ctx, id)
}

// highest is the highest stored version of id that has a server part and
// that the serving policy follows (Policy.NotFollowed): the one Mattermost
// runs when no system admin pinned one. Without a pin, a version the
// policy keeps from teams following the latest (a prerelease, a version
// below the minimum certification) never replaces the server part
// Mattermost runs.
func (m *Manager) highest(ctx context.Context, id string) (string, bool) {
	p, err := m.store.Plugin(ctx, id)
	if err != nil {
		return "", false
	}
	for i := len(p.Versions) - 1; i >= 0; i-- {
		if v, err := m.store.Version(ctx, id, p.Versions[i]); err == nil && m.pol.NotFollowed(v) == "" {
			if _, ok := v.Artifacts[Artifact]; ok {
				return v.Version, true
			}
		}
	}
	return "", false
}

// lock serialises the server part changes of plugin id.
func (m *Manager) lock(id string) func() {
	l, _ := m.busy.LoadOrStore(id, new(sync.Mutex))
	mu := l.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// --- changes made by system admins: the kill switch, pin, enable ---

// versions lists the versions of id that have a server part, newest
// first.
func (m *Manager) versions(ctx context.Context, id string) ([]string, error) {
	p, err := m.store.Plugin(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []string
	for i := len(p.Versions) - 1; i >= 0; i-- {
		v, err := m.store.Version(ctx, id, p.Versions[i])
		if err != nil {
			return nil, err
		}
		if _, ok := v.Artifacts[Artifact]; ok {
			out = append(out, v.Version)
		}
	}
	return out, nil
}

// setRecord writes the registry record (a store without one keeps
// nothing) and tells the feed.
func (m *Manager) setRecord(ctx context.Context, sp registry.ServerPart, detail string) error {
	st, ok := m.store.(registry.ServerParts)
	if !ok {
		return nil
	}
	if _, err := st.SetServerPart(ctx, sp, detail); err != nil {
		return err
	}
	m.feed.Publish(ctx, changes.ServerPartChanged{})
	return nil
}

// Disable is the kill switch's part on Mattermost: the server part is
// disabled there and stays so (ServerPart.Disabled: later pushes install
// new versions disabled) until a system admin enables it. A plugin without
// a server part is left alone. actor is the user id the record names.
func (m *Manager) Disable(ctx context.Context, c Caller, actor, id string) error {
	defer m.lock(id)()
	versions, err := m.versions(ctx, id)
	if err != nil || len(versions) == 0 {
		return err
	}
	sp, err := m.record(ctx, id)
	if err != nil {
		return err
	}
	if m.admin != nil {
		token, err := m.adminToken(c, id)
		if err != nil {
			return err
		}
		err = m.admin.Disable(ctx, token, id)
		m.Forget()
		if err != nil && !errors.Is(err, ErrNotInstalled) {
			return errorf(DisableFailed,
				"the plugin's webapp is disabled in every team, but Mattermost did not disable its server part (%v): disable %s in Mattermost's System Console > Plugins, or use the kill switch again", err, id)
		}
	}
	sp.Disabled, sp.UpdatedBy = true, actor
	if err := m.setRecord(ctx, sp, "kill switch: server part disabled on Mattermost"); err != nil {
		return err
	}
	m.log.Warn("server part disabled on Mattermost", "plugin", id, "by", actor)
	return nil
}

// Set makes Mattermost run the server part of pin ("" follows the latest:
// the highest version with one that the serving policy follows, as a push
// does, so a prerelease or a version below the minimum certification runs
// only when pinned), enabled or not, and records the choice. The
// version is installed again whatever Mattermost has (the same steps as a
// push: upload, enable, start checked, put back on failure), so this also
// repairs a copy changed behind mmtoolkit's back.
func (m *Manager) Set(ctx context.Context, c Caller, actor, id, pin string, enabled bool) error {
	defer m.lock(id)()
	versions, err := m.versions(ctx, id)
	if err != nil {
		return err
	}
	if len(versions) == 0 {
		return NoServerPart(id)
	}
	target, followed := m.highest(ctx, id)
	if pin != "" {
		if !slices.Contains(versions, pin) {
			return errorf(NoSuchVersion, "version %s of %s has no server part: pick one of %s, or follow the latest", pin, id, strings.Join(versions, ", "))
		}
		target = pin
	} else if !followed {
		return errorf(NoSuchVersion, "no version of %s with a server part is one teams following the latest would get (a release, at or above the minimum certification): pin one of %s to run it", id, strings.Join(versions, ", "))
	}
	sp := registry.ServerPart{PluginID: id, Pin: pin, Disabled: !enabled, UpdatedBy: actor}
	detail := "server part follows the latest (" + target + ")"
	if pin != "" {
		detail = "server part pinned to " + pin
	}
	if enabled {
		detail += ", enabled on Mattermost"
	} else {
		detail += ", disabled on Mattermost"
	}
	if m.admin == nil {
		return m.setRecord(ctx, sp, detail)
	}
	token, err := m.adminToken(c, id)
	if err != nil {
		return err
	}
	blob, ok := m.blob(ctx, id, target)
	if !ok {
		return fmt.Errorf("server part of %s %s: blob missing", id, target)
	}
	undo, err := m.install(ctx, token, id, target, blob, enabled)
	if err != nil {
		return err
	}
	if err := m.setRecord(ctx, sp, detail); err != nil {
		if uerr := undo(); uerr != nil {
			return fmt.Errorf("%w (and putting Mattermost back failed: %v)", err, uerr)
		}
		return err
	}
	m.log.Info("server part changed on Mattermost", "plugin", id, "version", target, "enabled", enabled, "by", actor)
	return nil
}

// View is what the console and GET /api/v1/plugins/{id}/server-part show:
// what mmtoolkit wants, and what Mattermost has.
type View struct {
	PluginID string `json:"plugin_id"`
	// Versions that have a server part, newest first.
	Versions []string `json:"versions"`
	// Pin is the version a system admin pinned, "" to follow the latest
	// (Follows).
	Pin string `json:"pin,omitempty"`
	// Follows is the version Mattermost is meant to run: the pin, else the
	// highest version with a server part that the serving policy follows
	// (a release at or above the minimum certification); "" when there is
	// none (only prereleases or versions below the minimum: pin one).
	Follows string `json:"follows"`
	// Disabled: the kill switch turned it off on Mattermost.
	Disabled bool `json:"disabled"`
	// Mattermost is false without one (sandbox): State is then
	// "not_installed" with the reason "no Mattermost".
	Mattermost bool `json:"mattermost"`
	// State on Mattermost: "running", "disabled", "failed" (installed,
	// enabled, not running), "not_installed", or "unknown" (Error says
	// why: it could not be asked).
	State string `json:"state"`
	// Version is the version Mattermost has installed.
	Version string `json:"version,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Status builds the view of id's server part; nil when no version has
// one. Mattermost is asked (at most every upstreamTTL) with the caller's
// token when they are a system admin there, else the operator's; without
// either the state is unknown.
func (m *Manager) Status(ctx context.Context, c Caller, id string) (*View, error) {
	versions, err := m.versions(ctx, id)
	if err != nil || len(versions) == 0 {
		return nil, err
	}
	sp, err := m.record(ctx, id)
	if err != nil {
		return nil, err
	}
	follows := sp.Pin
	if follows == "" {
		follows, _ = m.highest(ctx, id) // "" when no version is followed
	}
	view := &View{PluginID: id, Versions: versions, Pin: sp.Pin, Follows: follows, Disabled: sp.Disabled}
	if m.admin == nil {
		view.State, view.Error = "not_installed", "no Mattermost"
		return view, nil
	}
	view.Mattermost = true
	token, err := m.adminToken(c, id)
	if err != nil {
		view.State, view.Error = "unknown", "only a Mattermost system admin may read Mattermost's plugins"
		return view, nil
	}
	p, installed, st, err := m.upstreamState(ctx, token, id)
	switch {
	case err != nil:
		view.State, view.Error = "unknown", err.Error()
	case !installed:
		view.State = "not_installed"
	case p.Active:
		view.State, view.Version = "running", p.Version
	case st != nil && st.Failed:
		view.State, view.Version, view.Error = "failed", p.Version, st.Error
	default:
		view.State, view.Version = "disabled", p.Version
	}
	return view, nil
}
