package serverpart

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
)

// upstreamPrev is what Mattermost had of a plugin before a change.
type upstreamPrev struct {
	installed, active bool
	version           string
	blob              []byte // that version's server part, as mmtoolkit keeps it
}

// restoreTimeout bounds putting Mattermost back after a failure, which
// runs even when the request that caused it was cancelled.
const restoreTimeout = 5 * time.Minute

// install uploads blob (id at version) to Mattermost, replacing what it
// has, and enables it (or keeps it disabled), checking that it started. On
// failure Mattermost is put back as it was and the error says what
// happened. undo puts it back after a later failure (the local store).
func (m *Manager) install(ctx context.Context, token, id, version string, blob []byte, enable bool) (undo func() error, err error) {
	pa := m.admin
	what := fmt.Sprintf("the server part of %s %s", id, version)
	list, err := pa.Plugins(ctx, token)
	if err != nil {
		return nil, upstreamError(err, what, "nothing was stored")
	}
	prevM, installed := find(list, id)
	prev := upstreamPrev{installed: installed, active: prevM.Active, version: prevM.Version}
	if installed {
		if prevM.Version == version {
			prev.blob = blob
		} else if b, ok := m.blob(ctx, id, prevM.Version); ok {
			prev.blob = b
		} else {
			return nil, errorf(PluginForeign,
				"Mattermost already has plugin %s version %s, which mmtoolkit did not install and could not put back if installing %s failed: remove it in Mattermost (System Console > Plugins > Plugin Management) and push again; nothing was stored", id, prevM.Version, what)
		}
	}
	m.Forget()
	restore := func() error {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restoreTimeout)
		defer cancel()
		return m.restore(rctx, token, id, prev)
	}
	fail := func(err error, done string) (func() error, error) {
		note := "nothing was stored and Mattermost was put back as it was (" + prev.describe() + ")"
		if rerr := restore(); rerr != nil {
			m.log.Error("server part: Mattermost could not be put back", "plugin", id, "version", version, "error", err, "restore_error", rerr)
			note = fmt.Sprintf("nothing was stored, but putting Mattermost back (%s) failed: %v; check System Console > Plugins > Plugin Management", prev.describe(), rerr)
		}
		return nil, upstreamError(err, what+done, note)
	}
	if err := pa.Upload(ctx, token, blob); err != nil {
		var pe *APIError
		if errors.As(err, &pe) && pe.Status < 500 {
			return nil, upstreamError(err, what, "nothing was stored") // refused: Mattermost changed nothing
		}
		return fail(err, "")
	}
	if !enable {
		if err := pa.Disable(ctx, token, id); err != nil {
			return fail(err, " was uploaded but")
		}
		return restore, nil
	}
	if err := pa.Enable(ctx, token, id); err != nil {
		return fail(err, " was uploaded but")
	}
	if st, err := pa.Statuses(ctx, token); err == nil {
		for _, p := range st {
			if p.PluginID == id && p.Failed {
				return fail(&startError{msg: p.Error}, " was installed but")
			}
		}
	}
	return restore, nil
}

// startError is a server part Mattermost installed and enabled that did
// not start.
type startError struct{ msg string }

func (e *startError) Error() string {
	if e.msg == "" {
		return "it failed to start on Mattermost (see Mattermost's log)"
	}
	return "it failed to start on Mattermost: " + e.msg
}

func (p upstreamPrev) describe() string {
	switch {
	case !p.installed:
		return "not installed"
	case p.active:
		return "version " + p.version + ", enabled"
	default:
		return "version " + p.version + ", disabled"
	}
}

// restore puts Mattermost's copy of id back to prev.
func (m *Manager) restore(ctx context.Context, token, id string, prev upstreamPrev) error {
	pa := m.admin
	defer m.Forget()
	if !prev.installed {
		err := pa.Remove(ctx, token, id)
		if errors.Is(err, ErrNotInstalled) {
			return nil
		}
		return err
	}
	if err := pa.Upload(ctx, token, prev.blob); err != nil {
		return err
	}
	if prev.active {
		return pa.Enable(ctx, token, id)
	}
	return pa.Disable(ctx, token, id)
}

// upstreamError turns a failure of Mattermost's plugin API during what
// into the *Error a client sees; note says what state things are in. An
// error it does not know is wrapped as it is.
func upstreamError(err error, what, note string) error {
	var pe *APIError
	var se *startError
	switch {
	case errors.Is(err, ErrAdminForbidden):
		return errorf(AdminRequired,
			"Mattermost refused to install %s: %v; it needs a Mattermost system admin's token (push as one, or ask the operator to set --upstream-admin-token, env MMTOOLKIT_UPSTREAM_ADMIN_TOKEN); %s", what, err, note)
	case errors.Is(err, ErrUploadsDisabled):
		return errorf(UploadsDisabled,
			"Mattermost refuses plugin uploads, so %s cannot be installed: turn on PluginSettings.EnableUploads (and off RequirePluginSignature) in Mattermost, or push the archive without server/dist to serve only the webapp; %s", what, note)
	case errors.Is(err, ErrTimeout):
		return errorf(Timeout,
			"Mattermost did not answer in time while installing %s (%v); %s; push again", what, err, note)
	case errors.As(err, &se):
		return errorf(InstallFailed, "%s %v; %s; fix the server part and push a new version", what, err, note)
	case errors.As(err, &pe):
		return errorf(InstallFailed,
			"Mattermost did not install %s: %s (%d %s); %s; fix what Mattermost says and push again", what, pe.Message, pe.Status, pe.ID, note)
	case errors.Is(err, ErrUnavailable):
		return errorf(Unavailable,
			"Mattermost could not be reached while installing %s (%v); %s; push again when it is back", what, err, note)
	}
	return fmt.Errorf("%s: %w (%s)", what, err, note)
}

// --- state on Mattermost, for the console ---

// upstreamTTL bounds how long Status reuses Mattermost's plugin list and
// statuses; changes made through mmtoolkit drop them (Forget).
const upstreamTTL = 10 * time.Second

// upstreamCache is the last plugin list and statuses read of Mattermost.
type upstreamCache struct {
	mu       sync.Mutex
	read     bool // list and statuses were read once
	at       time.Time
	list     []Installed
	statuses []Status
}

// Forget drops what is cached of Mattermost's plugins: the next Status
// asks again. Every change this package makes there calls it; the server
// calls it when it rebuilds its caches (a replica that missed changes).
func (m *Manager) Forget() {
	m.cache.mu.Lock()
	m.cache.at = time.Time{}
	m.cache.mu.Unlock()
}

// Subscribe has the cache of Mattermost's plugins forgotten on every
// ServerPartChanged, this replica's or another's: a pin or the kill
// switch changed what Mattermost runs.
func (m *Manager) Subscribe(f *changes.Feed) {
	changes.On(f, "upstream plugin list", func(context.Context, changes.ServerPartChanged) { m.Forget() })
}

// upstreamState asks Mattermost (at most every upstreamTTL) what it has
// of plugin id.
func (m *Manager) upstreamState(ctx context.Context, token, id string) (p Installed, installed bool, st *Status, err error) {
	c := &m.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.read || time.Since(c.at) > upstreamTTL {
		list, err := m.admin.Plugins(ctx, token)
		if err != nil {
			return p, false, nil, err
		}
		statuses, err := m.admin.Statuses(ctx, token)
		if err != nil {
			return p, false, nil, err
		}
		c.list, c.statuses, c.at, c.read = list, statuses, time.Now(), true
	}
	p, installed = find(c.list, id)
	for i := range c.statuses {
		if c.statuses[i].PluginID == id {
			st = &c.statuses[i]
			break
		}
	}
	return p, installed, st, nil
}
