package server

import (
	"archive/tar"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/webapp/console"
)

// A Mattermost plugin archive may carry a server part (server/dist/
// executables). mmtoolkit never runs it: it keeps it with the version and,
// in front of a Mattermost (--upstream), installs it there through
// Mattermost's plugin API, so the plugin's Go code runs inside Mattermost
// while mmtoolkit serves its webapp per team. docs/proxy.md, "Server
// part", is the contract; this file is all of it but the registry record
// (registry.ServerPart) and the API client (apiv4proxy.PluginAdmin).
//
// Mattermost runs one server part per plugin for every team, so which
// version runs is a plugin-wide choice: the highest version that has one,
// unless a system admin pins another (registry.ServerPart.Pin); the kill
// switch disables it there (ServerPart.Disabled) until a system admin
// enables it again. Team pins choose webapps only.
//
// Order of a change, so that nothing is left half done: read what
// Mattermost has, install and enable there, then store locally; when the
// local store fails, Mattermost is put back as it was (the previous
// version's server part, which mmtoolkit keeps, re-uploaded; or the plugin
// removed). A failure on Mattermost's side stores nothing.

// PluginAdmin is what the server asks of the upstream Mattermost's plugin
// API; *apiv4proxy.PluginAdmin implements it.
type PluginAdmin interface {
	Upload(ctx context.Context, token string, archive []byte, force bool) (*apiv4proxy.PluginManifest, error)
	Enable(ctx context.Context, token, id string) error
	Disable(ctx context.Context, token, id string) error
	Remove(ctx context.Context, token, id string) error
	Plugins(ctx context.Context, token string) (*apiv4proxy.PluginsResponse, error)
	Statuses(ctx context.Context, token string) ([]apiv4proxy.PluginStatus, error)
}

// artifactServerPart is the artifact kind of a version's server part: a
// Mattermost plugin archive holding plugin.json (without its webapp
// section) and the server files. Not servable: no bundle URL extension
// maps to its content type.
const (
	artifactServerPart = "server.tar.gz"
	typeGzip           = "application/gzip"
)

// serverPartInfo is what a push answer (server_part) and the console say
// about a version's server part.
type serverPartInfo struct {
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

// addServerPart adds the package's server part to the files a push stores:
// a deterministic Mattermost plugin archive (the same package always gives
// the same bytes, so an identical re-push stores nothing new).
func addServerPart(pkg *pluginpkg.Package, files map[string]file) error {
	if len(pkg.Server) == 0 {
		return nil
	}
	data, err := serverPartArchive(pkg)
	if err != nil {
		return err
	}
	files[artifactServerPart] = file{Data: data, ContentType: typeGzip}
	return nil
}

// serverPartArchive writes the archive Mattermost is given: <id>/plugin.json
// without the webapp section (and without mmtoolkit's own fields), so
// Mattermost never serves the webapp itself and mmtoolkit's per-team
// enablement stays the only way to it; every server file, executable
// (0755, as Mattermost starts them); and assets/ and the icon, which
// server code reads from its bundle path. The original archive is not
// used: its webapp would load in every team.
func serverPartArchive(pkg *pluginpkg.Package) ([]byte, error) {
	var man map[string]json.RawMessage
	if err := json.Unmarshal(pkg.RawManifest, &man); err != nil {
		return nil, fmt.Errorf("server part: plugin.json: %w", err)
	}
	for _, k := range []string{"webapp", "mobile", "slots", "proxy", "kv", "screenshots"} {
		delete(man, k)
	}
	pj, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, err
	}
	type entry struct {
		data []byte
		mode int64
	}
	entries := map[string]entry{"plugin.json": {pj, 0o644}}
	for p, data := range pkg.Server {
		entries[p] = entry{data, 0o755}
	}
	for p, data := range pkg.Files {
		if strings.HasPrefix(p, "assets/") || p == pkg.Manifest.IconPath {
			entries[p] = entry{data, 0o644}
		}
	}
	paths := make([]string, 0, len(entries))
	for p := range entries {
		paths = append(paths, p)
	}
	sort.Slice(paths, func(i, j int) bool {
		if (paths[i] == "plugin.json") != (paths[j] == "plugin.json") {
			return paths[i] == "plugin.json"
		}
		return paths[i] < paths[j]
	})
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // executables: tens of MB, compressed once per push
	tw := tar.NewWriter(zw)
	top := pkg.Manifest.ID + "/"
	epoch := time.Unix(0, 0).UTC()
	dirs := map[string]bool{} // written before their files, as `make dist` writes them
	for _, p := range paths {
		for i := 0; i < len(p); i++ {
			if d := p[:i+1]; p[i] == '/' && !dirs[d] {
				dirs[d] = true
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: top + d, Mode: 0o755, ModTime: epoch}); err != nil {
					return nil, err
				}
			}
		}
		e := entries[p]
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: top + p, Mode: e.mode, Size: int64(len(e.data)), ModTime: epoch}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// partCall is who asks for a server part change: the request's token and
// whether its user is a Mattermost system admin. A push carries it in its
// context (withPartCall) and gets the report back in it.
type partCall struct {
	token  string
	admin  bool
	report *serverPartInfo
}

type partCallKey struct{}

func withPartCall(ctx context.Context, c *partCall) context.Context {
	return context.WithValue(ctx, partCallKey{}, c)
}

func partCallFrom(ctx context.Context) *partCall {
	c, _ := ctx.Value(partCallKey{}).(*partCall)
	if c == nil {
		c = &partCall{}
	}
	return c
}

// reportFor is the push answer's server_part for v: what the push did, or
// for an identical re-push (which returns before the server part is
// looked at) that nothing was done.
func (c *partCall) reportFor(v *registry.Version) *serverPartInfo {
	if c.report != nil {
		return c.report
	}
	a, ok := v.Artifacts[artifactServerPart]
	if !ok {
		return nil
	}
	return &serverPartInfo{State: "unchanged", SHA256: a.SHA256, Size: a.Size,
		Message: "an identical re-push: the server part was not installed again"}
}

// adminToken is the token that may change plugins on Mattermost: the
// caller's own when they are a system admin there, else the operator's
// (--upstream-admin-token).
func (s *Server) adminToken(c *partCall, id string) (string, error) {
	if c.admin && c.token != "" {
		return c.token, nil
	}
	if s.cfg.UpstreamAdminToken != "" {
		return s.cfg.UpstreamAdminToken, nil
	}
	return "", errorf(http.StatusForbidden, CodeUpstreamAdminRequired,
		"%s has a server part, which mmtoolkit installs on Mattermost, and that needs a Mattermost system admin: push as a system admin (your own token), or ask the operator to start mmtoolkit with --upstream-admin-token (env MMTOOLKIT_UPSTREAM_ADMIN_TOKEN); nothing was stored", id)
}

// serverPartBlob returns a stored version's server part archive.
func (s *Server) serverPartBlob(ctx context.Context, id, version string) ([]byte, bool) {
	v, err := s.store.Version(ctx, id, version)
	if err != nil {
		return nil, false
	}
	a, ok := v.Artifacts[artifactServerPart]
	if !ok {
		return nil, false
	}
	b, err := s.store.Blob(ctx, a.SHA256)
	return b, err == nil
}

// publishServerPart runs put (the registry write of v) with the server
// part's install on Mattermost around it: install first, store, and put
// Mattermost back if the store fails. blob is the version's server part
// (nil: none; put runs alone).
func (s *Server) publishServerPart(ctx context.Context, v *registry.Version, blob []byte, put func() (registry.PutResult, error)) (registry.PutResult, error) {
	if blob == nil {
		return put()
	}
	call := partCallFrom(ctx)
	info := &serverPartInfo{SHA256: sum(blob), Size: int64(len(blob))}
	call.report = info
	kept := func(msg string) (registry.PutResult, error) {
		res, err := put()
		info.State, info.Message = "not_installed", msg
		if err == nil && !res.Created {
			info.State, info.Message = "unchanged", "an identical re-push: the server part was not installed again"
		}
		return res, err
	}
	if s.cfg.PluginAdmin == nil {
		return kept("not installed: no Mattermost (start mmtoolkit with --upstream to install server parts there)")
	}
	// The choice below (pinned? highest?) must still hold when it acts.
	defer s.lockServerPart(v.PluginID)()
	if old, err := s.store.Version(ctx, v.PluginID, v.Version); err == nil && old.PackageSHA256 == v.PackageSHA256 {
		return kept("") // identical re-push
	}
	sp, err := s.serverPartState(ctx, v.PluginID)
	if err != nil {
		return registry.PutResult{}, err
	}
	if sp.Pin != "" {
		info.Version = sp.Pin
		return kept(fmt.Sprintf("not installed: Mattermost runs the server part of %s, the version a system admin pinned (change it on the plugin's page in the admin console)", sp.Pin))
	}
	if why := s.policy.NotFollowed(v); why != "" {
		if high, ok := s.highestServerPart(ctx, v.PluginID); ok {
			info.Version = high
		}
		return kept(fmt.Sprintf("not installed: %s; Mattermost keeps the server part it runs (a system admin can pin %s on the plugin's page in the admin console)", why, v.Version))
	}
	if high, ok := s.highestServerPart(ctx, v.PluginID); ok && !semverLess(high, v.Version) {
		info.Version = high
		return kept(fmt.Sprintf("not installed: Mattermost runs the server part of %s, the highest version that has one (pin %s on the plugin's page in the admin console to run it)", high, v.Version))
	}
	token, err := s.adminToken(call, v.PluginID)
	if err != nil {
		return registry.PutResult{}, err
	}
	undo, err := s.installServerPart(ctx, token, v.PluginID, v.Version, blob, !sp.Disabled)
	if err != nil {
		return registry.PutResult{}, err
	}
	res, err := put()
	if err != nil {
		if uerr := undo(); uerr != nil {
			s.log.Error("server part: the version was not stored and Mattermost could not be put back", "plugin", v.PluginID,
				"version", v.Version, "store_error", err, "restore_error", uerr)
			return res, fmt.Errorf("%w (and putting Mattermost back failed: %v; check System Console > Plugins > Plugin Management)", err, uerr)
		}
		return res, err
	}
	info.State, info.Enabled, info.Version = "installed", !sp.Disabled, v.Version
	info.Message = "installed and enabled on Mattermost"
	if sp.Disabled {
		info.Message = "installed on Mattermost, disabled: the kill switch turned this plugin's server part off; enable it on the plugin's page in the admin console"
	}
	s.log.Info("server part installed on Mattermost", "plugin", v.PluginID, "version", v.Version, "enabled", info.Enabled)
	return res, nil
}

// serverPartState is the plugin's registry record (the zero value for a
// new plugin).
func (s *Server) serverPartState(ctx context.Context, id string) (registry.ServerPart, error) {
	sp, ok := s.store.(registry.ServerParts)
	if !ok {
		return registry.ServerPart{PluginID: id}, nil
	}
	return sp.ServerPart(ctx, id)
}

// highestServerPart is the highest stored version of id that has a server
// part and that the serving policy follows (serving.Policy.NotFollowed):
// the one Mattermost runs when no system admin pinned one. Without a pin,
// a version the policy keeps from teams following the latest (a
// prerelease, a version below the minimum certification) never replaces
// the server part Mattermost runs.
func (s *Server) highestServerPart(ctx context.Context, id string) (string, bool) {
	p, err := s.store.Plugin(ctx, id)
	if err != nil {
		return "", false
	}
	for i := len(p.Versions) - 1; i >= 0; i-- {
		if v, err := s.store.Version(ctx, id, p.Versions[i]); err == nil && s.policy.NotFollowed(v) == "" {
			if _, ok := v.Artifacts[artifactServerPart]; ok {
				return v.Version, true
			}
		}
	}
	return "", false
}

// upstreamPrev is what Mattermost had of a plugin before a change.
type upstreamPrev struct {
	installed, active bool
	version           string
	blob              []byte // that version's server part, as mmtoolkit keeps it
}

// restoreTimeout bounds putting Mattermost back after a failure, which
// runs even when the request that caused it was cancelled.
const restoreTimeout = 5 * time.Minute

// installServerPart uploads blob (id at version) to Mattermost, replacing
// what it has, and enables it (or keeps it disabled), checking that it
// started. On failure Mattermost is put back as it was and the error says
// what happened. undo puts it back after a later failure (the local store).
func (s *Server) installServerPart(ctx context.Context, token, id, version string, blob []byte, enable bool) (undo func() error, err error) {
	pa := s.cfg.PluginAdmin
	what := fmt.Sprintf("the server part of %s %s", id, version)
	list, err := pa.Plugins(ctx, token)
	if err != nil {
		return nil, upstreamError(err, what, "nothing was stored")
	}
	prevM, active, installed := list.Find(id)
	prev := upstreamPrev{installed: installed, active: active, version: prevM.Version}
	if installed {
		if prevM.Version == version {
			prev.blob = blob
		} else if b, ok := s.serverPartBlob(ctx, id, prevM.Version); ok {
			prev.blob = b
		} else {
			return nil, errorf(http.StatusConflict, CodeUpstreamPluginForeign,
				"Mattermost already has plugin %s version %s, which mmtoolkit did not install and could not put back if installing %s failed: remove it in Mattermost (System Console > Plugins > Plugin Management) and push again; nothing was stored", id, prevM.Version, what)
		}
	}
	s.forgetUpstreamPlugins()
	restore := func() error {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restoreTimeout)
		defer cancel()
		return s.restoreServerPart(rctx, token, id, prev)
	}
	fail := func(err error, done string) (func() error, error) {
		note := "nothing was stored and Mattermost was put back as it was (" + prev.describe() + ")"
		if rerr := restore(); rerr != nil {
			s.log.Error("server part: Mattermost could not be put back", "plugin", id, "version", version, "error", err, "restore_error", rerr)
			note = fmt.Sprintf("nothing was stored, but putting Mattermost back (%s) failed: %v; check System Console > Plugins > Plugin Management", prev.describe(), rerr)
		}
		return nil, upstreamError(err, what+done, note)
	}
	if _, err := pa.Upload(ctx, token, blob, true); err != nil {
		var pe *apiv4proxy.PluginAdminError
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
			if p.PluginID == id && (p.State == apiv4proxy.PluginStateFailedToStart || p.State == apiv4proxy.PluginStateFailedToStayRunning) {
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

// restoreServerPart puts Mattermost's copy of id back to prev.
func (s *Server) restoreServerPart(ctx context.Context, token, id string, prev upstreamPrev) error {
	pa := s.cfg.PluginAdmin
	defer s.forgetUpstreamPlugins()
	if !prev.installed {
		err := pa.Remove(ctx, token, id)
		if errors.Is(err, apiv4proxy.ErrPluginNotInstalled) {
			return nil
		}
		return err
	}
	if _, err := pa.Upload(ctx, token, prev.blob, true); err != nil {
		return err
	}
	if prev.active {
		return pa.Enable(ctx, token, id)
	}
	return pa.Disable(ctx, token, id)
}

// upstreamError turns a failure of Mattermost's plugin API during what
// into the error a client sees; note says what state things are in.
func upstreamError(err error, what, note string) error {
	var pe *apiv4proxy.PluginAdminError
	var se *startError
	switch {
	case errors.Is(err, apiv4proxy.ErrPluginAdminForbidden), errors.Is(err, apiv4proxy.ErrInvalidToken):
		return errorf(http.StatusForbidden, CodeUpstreamAdminRequired,
			"Mattermost refused to install %s: %v; it needs a Mattermost system admin's token (push as one, or ask the operator to set --upstream-admin-token, env MMTOOLKIT_UPSTREAM_ADMIN_TOKEN); %s", what, err, note)
	case errors.Is(err, apiv4proxy.ErrUploadsDisabled):
		return errorf(http.StatusConflict, CodeUpstreamUploadsDisabled,
			"Mattermost refuses plugin uploads, so %s cannot be installed: turn on PluginSettings.EnableUploads (and off RequirePluginSignature) in Mattermost, or push the archive without server/dist to serve only the webapp; %s", what, note)
	case errors.Is(err, apiv4proxy.ErrUpstreamTimeout):
		return errorf(http.StatusGatewayTimeout, CodeUpstreamTimeout,
			"Mattermost did not answer in time while installing %s (%v); %s; push again", what, err, note)
	case errors.As(err, &se):
		return errorf(http.StatusBadGateway, CodeUpstreamPluginInstallFailed, "%s %v; %s; fix the server part and push a new version", what, err, note)
	case errors.As(err, &pe):
		return errorf(http.StatusBadGateway, CodeUpstreamPluginInstallFailed,
			"Mattermost did not install %s: %s (%d %s); %s; fix what Mattermost says and push again", what, pe.Message, pe.Status, pe.ID, note)
	case errors.Is(err, apiv4proxy.ErrUpstreamUnavailable):
		return errorf(http.StatusBadGateway, CodeUpstreamUnavailable,
			"Mattermost could not be reached while installing %s (%v); %s; push again when it is back", what, err, note)
	}
	return fmt.Errorf("%s: %w (%s)", what, err, note)
}

// --- state on Mattermost, for the console ---

// upstreamPluginsTTL bounds how long the console reuses Mattermost's
// plugin list and statuses; changes made through mmtoolkit drop them.
const upstreamPluginsTTL = 10 * time.Second

type upstreamPlugins struct {
	// busy holds one *sync.Mutex per plugin id: the changes of one
	// plugin's server part (a push, a pin, the kill switch) run one at a
	// time, so each one's "what Mattermost had" is still true when it
	// puts Mattermost back.
	busy sync.Map

	mu       sync.Mutex
	at       time.Time
	list     *apiv4proxy.PluginsResponse
	statuses []apiv4proxy.PluginStatus
}

// lockServerPart serialises the server part changes of plugin id.
func (s *Server) lockServerPart(id string) func() {
	m, _ := s.parts.busy.LoadOrStore(id, new(sync.Mutex))
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

func (s *Server) forgetUpstreamPlugins() {
	s.parts.mu.Lock()
	s.parts.at = time.Time{}
	s.parts.mu.Unlock()
}

// upstreamPluginState asks Mattermost (at most every upstreamPluginsTTL)
// what it has of plugin id.
func (s *Server) upstreamPluginState(ctx context.Context, token, id string) (m apiv4proxy.PluginManifest, active, installed bool, st *apiv4proxy.PluginStatus, err error) {
	c := &s.parts
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.list == nil || time.Since(c.at) > upstreamPluginsTTL {
		list, err := s.cfg.PluginAdmin.Plugins(ctx, token)
		if err != nil {
			return m, false, false, nil, err
		}
		statuses, err := s.cfg.PluginAdmin.Statuses(ctx, token)
		if err != nil {
			return m, false, false, nil, err
		}
		c.list, c.statuses, c.at = list, statuses, time.Now()
	}
	m, active, installed = c.list.Find(id)
	for i := range c.statuses {
		if c.statuses[i].PluginID == id {
			st = &c.statuses[i]
			break
		}
	}
	return m, active, installed, st, nil
}

// --- changes made by system admins: the kill switch, pin, enable ---

// serverPartVersions lists the versions of id that have a server part,
// newest first.
func (s *Server) serverPartVersions(ctx context.Context, id string) ([]string, error) {
	p, err := s.store.Plugin(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []string
	for i := len(p.Versions) - 1; i >= 0; i-- {
		v, err := s.store.Version(ctx, id, p.Versions[i])
		if err != nil {
			return nil, err
		}
		if _, ok := v.Artifacts[artifactServerPart]; ok {
			out = append(out, v.Version)
		}
	}
	return out, nil
}

// setServerPartRecord writes the registry record (a store without one
// keeps nothing).
func (s *Server) setServerPartRecord(ctx context.Context, sp registry.ServerPart, detail string) error {
	st, ok := s.store.(registry.ServerParts)
	if !ok {
		return nil
	}
	if _, err := st.SetServerPart(ctx, sp, detail); err != nil {
		return err
	}
	s.changes.Publish(ctx, changes.ServerPartChanged{}) // changes.go
	return nil
}

// disableServerPart is the kill switch's part on Mattermost: the server
// part is disabled there and stays so (ServerPart.Disabled: later pushes
// install new versions disabled) until a system admin enables it. A
// plugin without a server part is left alone. ctx carries the caller
// (withPartCall).
func (s *Server) disableServerPart(ctx context.Context, actor, id string) error {
	defer s.lockServerPart(id)()
	versions, err := s.serverPartVersions(ctx, id)
	if err != nil || len(versions) == 0 {
		return err
	}
	sp, err := s.serverPartState(ctx, id)
	if err != nil {
		return err
	}
	if s.cfg.PluginAdmin != nil {
		token, err := s.adminToken(partCallFrom(ctx), id)
		if err != nil {
			return err
		}
		err = s.cfg.PluginAdmin.Disable(ctx, token, id)
		s.forgetUpstreamPlugins()
		if err != nil && !errors.Is(err, apiv4proxy.ErrPluginNotInstalled) {
			return errorf(http.StatusBadGateway, CodeUpstreamPluginDisableFailed,
				"the plugin's webapp is disabled in every team, but Mattermost did not disable its server part (%v): disable %s in Mattermost's System Console > Plugins, or use the kill switch again", err, id)
		}
	}
	sp.Disabled, sp.UpdatedBy = true, actor
	if err := s.setServerPartRecord(ctx, sp, "kill switch: server part disabled on Mattermost"); err != nil {
		return err
	}
	s.log.Warn("server part disabled on Mattermost", "plugin", id, "by", actor)
	return nil
}

// setServerPart makes Mattermost run the server part of pin ("" follows
// the highest version that has one), enabled or not, and records the
// choice. The version is installed again whatever Mattermost has (the
// same steps as a push: upload, enable, start checked, put back on
// failure), so this also repairs a copy changed behind mmtoolkit's back.
func (s *Server) setServerPart(ctx context.Context, actor, id, pin string, enabled bool) error {
	defer s.lockServerPart(id)()
	versions, err := s.serverPartVersions(ctx, id)
	if err != nil {
		return err
	}
	if len(versions) == 0 {
		return errorf(http.StatusNotFound, CodeServerPartNotFound, "no version of %s has a server part: push a Mattermost archive with server/dist to give it one", id)
	}
	target := versions[0]
	if pin != "" {
		if !slices.Contains(versions, pin) {
			return errorf(http.StatusBadRequest, CodeServerPartNotFound, "version %s of %s has no server part: pick one of %s, or follow the latest", pin, id, strings.Join(versions, ", "))
		}
		target = pin
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
	if s.cfg.PluginAdmin == nil {
		return s.setServerPartRecord(ctx, sp, detail)
	}
	token, err := s.adminToken(partCallFrom(ctx), id)
	if err != nil {
		return err
	}
	blob, ok := s.serverPartBlob(ctx, id, target)
	if !ok {
		return fmt.Errorf("server part of %s %s: blob missing", id, target)
	}
	undo, err := s.installServerPart(ctx, token, id, target, blob, enabled)
	if err != nil {
		return err
	}
	if err := s.setServerPartRecord(ctx, sp, detail); err != nil {
		if uerr := undo(); uerr != nil {
			return fmt.Errorf("%w (and putting Mattermost back failed: %v)", err, uerr)
		}
		return err
	}
	s.log.Info("server part changed on Mattermost", "plugin", id, "version", target, "enabled", enabled, "by", actor)
	return nil
}

// serverPartView is what the console and GET /api/v1/plugins/{id}/server-part
// show: what mmtoolkit wants, and what Mattermost has.
type serverPartView struct {
	PluginID string `json:"plugin_id"`
	// Versions that have a server part, newest first.
	Versions []string `json:"versions"`
	// Pin is the version a system admin pinned, "" to follow the latest
	// (Follows).
	Pin     string `json:"pin,omitempty"`
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

// serverPartStatus builds the view of id's server part; nil when no
// version has one. Mattermost is asked with the caller's token when they
// are a system admin there, else the operator's; without either the
// state is unknown.
func (s *Server) serverPartStatus(ctx context.Context, id string) (*serverPartView, error) {
	versions, err := s.serverPartVersions(ctx, id)
	if err != nil || len(versions) == 0 {
		return nil, err
	}
	sp, err := s.serverPartState(ctx, id)
	if err != nil {
		return nil, err
	}
	view := &serverPartView{PluginID: id, Versions: versions, Pin: sp.Pin, Follows: cmp.Or(sp.Pin, versions[0]), Disabled: sp.Disabled}
	if s.cfg.PluginAdmin == nil {
		view.State, view.Error = "not_installed", "no Mattermost"
		return view, nil
	}
	view.Mattermost = true
	token, err := s.adminToken(partCallFrom(ctx), id)
	if err != nil {
		view.State, view.Error = "unknown", "only a Mattermost system admin may read Mattermost's plugins"
		return view, nil
	}
	m, active, installed, st, err := s.upstreamPluginState(ctx, token, id)
	switch {
	case err != nil:
		view.State, view.Error = "unknown", err.Error()
	case !installed:
		view.State = "not_installed"
	case active:
		view.State, view.Version = "running", m.Version
	case st != nil && (st.State == apiv4proxy.PluginStateFailedToStart || st.State == apiv4proxy.PluginStateFailedToStayRunning):
		view.State, view.Version, view.Error = "failed", m.Version, st.Error
	default:
		view.State, view.Version = "disabled", m.Version
	}
	return view, nil
}

// serveServerPart is GET and PUT /api/v1/plugins/{id}/server-part, for
// system admins: the state of the plugin's server part (serverPartView),
// and a change of it, body {"pin": "1.2.0" or "" to follow the latest,
// "enabled": true}, answered with the new state.
func (s *Server) serveServerPart(w http.ResponseWriter, r *http.Request) {
	who := caller(r)
	if !who.User.SystemAdmin() {
		s.writeError(w, r, errorf(http.StatusForbidden, CodeNotSystemAdmin,
			"only a system admin may see or change a plugin's server part: Mattermost runs it for every team"))
		return
	}
	ctx := withPartCall(r.Context(), &partCall{token: apiv4proxy.TokenFromRequest(r), admin: true})
	id := chi.URLParam(r, "id")
	if r.Method == http.MethodPut {
		var in struct {
			Pin     string `json:"pin"`
			Enabled *bool  `json:"enabled"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&in); err != nil || in.Enabled == nil {
			s.writeError(w, r, errorf(http.StatusBadRequest, CodeBadRequestBody,
				`send {"pin": "<version>" or "" to follow the latest, "enabled": true or false}`))
			return
		}
		if in.Pin == "latest" {
			in.Pin = ""
		}
		if err := s.setServerPart(ctx, who.User.ID, id, in.Pin, *in.Enabled); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	view, err := s.serverPartStatus(ctx, id)
	if err == nil && view == nil {
		err = errorf(http.StatusNotFound, CodeServerPartNotFound, "no version of %s has a server part: push a Mattermost archive with server/dist to give it one", id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view)
}

// ServerPart and SetServerPart make the console's plugin page show and
// change the server part (console.ServerParts), with the viewer's session
// as the caller.
func (c *consoleAdapter) ServerPart(ctx context.Context, v *console.Viewer, pluginID string) (*console.ServerPart, error) {
	ctx = withPartCall(ctx, &partCall{token: v.Session, admin: v.SystemAdmin})
	view, err := c.s.serverPartStatus(ctx, pluginID)
	if err != nil || view == nil {
		return nil, consoleError(err)
	}
	return &console.ServerPart{Versions: view.Versions, Pin: view.Pin, Follows: view.Follows, Disabled: view.Disabled,
		Mattermost: view.Mattermost, State: view.State, Version: view.Version, Error: view.Error}, nil
}

func (c *consoleAdapter) SetServerPart(ctx context.Context, v *console.Viewer, pluginID, pin string, enabled bool) error {
	who := v.Data.(*identity.Identity)
	if !who.User.SystemAdmin() {
		return console.ErrForbidden
	}
	ctx = withPartCall(ctx, &partCall{token: v.Session, admin: true})
	return consoleError(c.s.setServerPart(ctx, who.User.ID, pluginID, pin, enabled))
}
