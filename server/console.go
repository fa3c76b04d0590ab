package server

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serverpart"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/slots"
	"github.com/mmtoolkit/mmtoolkit/webapp/console"
)

// mountConsole serves the admin console (/admin/...) and the plugin
// directory (/directory/...), package webapp/console, over this server's
// registry and identity: a change made there takes setTeamPlugin, the path
// of PUT /api/v1/teams/{team}/plugins/{id}.
func (s *Server) mountConsole(r chi.Router) {
	c := &consoleAdapter{s: s}
	s.console = c
	console.New(console.Config{
		Identity: c, Source: c, Actions: c,
		CSRFKey: s.consoleKey(),
		Logger:  s.log,
	}).Mount(r)
}

// consoleKey derives the console's CSRF secret from the mobile signing key,
// which persists in the data directory, so form tokens survive a restart;
// without one, console.New makes a random key.
func (s *Server) consoleKey() []byte {
	if len(s.cfg.MobileKey) == 0 {
		return nil
	}
	sum := sha256.Sum256(append([]byte("mmtoolkit console csrf key\x00"), s.cfg.MobileKey.Seed()...))
	return sum[:]
}

// consoleAdapter implements console.Identity, Source and Actions.
type consoleAdapter struct {
	s *Server

	mu  sync.Mutex
	gen uint64
	cat *console.Catalogue
	// latest caches the catalogue's version details by "id@version":
	// versions are immutable but for a certification an identical re-push
	// may raise, which the audit log records (auditSeq: the newest entry
	// seen). A rebuild after a push then reads one version, not all.
	latest   map[string]console.VersionInfo
	auditSeq uint64
	plugins  map[string]*console.PluginInfo // by id, as of auditSeq
}

// teamLister is what an identity provider offers when it can list every
// team (the sandbox): system admins then see every team in the console.
type teamLister interface {
	Teams(ctx context.Context) ([]identity.Team, error)
}

// userLister is what an identity provider offers when it knows every user
// (the sandbox): pages then show usernames rather than ids.
type userLister interface {
	Users() []identity.User
}

func (c *consoleAdapter) Viewer(r *http.Request) (*console.Viewer, error) {
	token := apiv4proxy.TokenFromRequest(r)
	if token == "" {
		return nil, console.ErrUnauthenticated
	}
	who, err := c.s.identity.Authenticate(r.Context(), token)
	if errors.Is(err, apiv4proxy.ErrInvalidToken) {
		return nil, fmt.Errorf("%w: %v", console.ErrUnauthenticated, err)
	}
	if err != nil {
		return nil, consoleError(err)
	}
	v := &console.Viewer{UserID: who.User.ID, Username: who.User.Username, SystemAdmin: who.User.SystemAdmin(), Session: token, Data: who}
	seen := map[string]bool{}
	add := func(t identity.Team) {
		if !seen[t.ID] {
			seen[t.ID] = true
			v.AdminTeams = append(v.AdminTeams, console.Team{ID: t.ID, Name: t.Name, DisplayName: cmp.Or(t.DisplayName, t.Name)})
		}
	}
	if v.SystemAdmin {
		if l, ok := c.s.identity.(teamLister); ok {
			all, err := l.Teams(r.Context())
			if err != nil {
				return nil, consoleError(err)
			}
			for _, t := range all {
				add(t)
			}
		}
	}
	for id, t := range who.Teams {
		if who.CanAdminTeam(id) {
			add(t)
		}
		v.Teams = append(v.Teams, console.Team{ID: t.ID, Name: t.Name, DisplayName: cmp.Or(t.DisplayName, t.Name)})
	}
	byName := func(a, b console.Team) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName)), strings.Compare(a.ID, b.ID))
	}
	slices.SortFunc(v.AdminTeams, byName)
	slices.SortFunc(v.Teams, byName)
	return v, nil
}

func (c *consoleAdapter) Team(ctx context.Context, v *console.Viewer, idOrName string) (console.Team, error) {
	t, err := c.s.identity.Team(ctx, v.Data.(*identity.Identity), idOrName)
	if err != nil {
		return console.Team{}, consoleError(err)
	}
	return console.Team{ID: t.ID, Name: t.Name, DisplayName: cmp.Or(t.DisplayName, t.Name)}, nil
}

func (c *consoleAdapter) UserNames(ctx context.Context, ids []string) map[string]string {
	out := map[string]string{}
	l, ok := c.s.identity.(userLister)
	if !ok {
		return out
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	for _, u := range l.Users() {
		if want[u.ID] {
			out[u.ID] = u.Username
		}
	}
	return out
}

// UserID finds a username's id, for the audit log's person filter.
func (c *consoleAdapter) UserID(ctx context.Context, username string) (string, bool) {
	if l, ok := c.s.identity.(userLister); ok {
		for _, u := range l.Users() {
			if strings.EqualFold(u.Username, username) {
				return u.ID, true
			}
		}
	}
	return "", false
}

// Catalogue is rebuilt when a plugin or version changed (the generation's
// Plugins number moved: a push, a certification raised, a prune) and
// shared by every page until then. It holds no team state, so a team's
// state change leaves it valid instead of rebuilding it (500 version
// reads) on the next page.
func (c *consoleAdapter) Catalogue(ctx context.Context) (*console.Catalogue, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gen := c.s.gen.Plugins()
	if c.cat != nil && c.gen == gen {
		return c.cat, nil
	}
	if err := c.refresh(ctx); err != nil {
		return nil, err
	}
	list := make([]*console.PluginInfo, 0, len(c.plugins))
	for _, p := range c.plugins {
		list = append(list, p)
	}
	c.cat, c.gen = console.NewCatalogue(list), gen
	return c.cat, nil
}

// refresh brings c.plugins up to date. The audit log says what changed
// since the last refresh: a push (a new version, maybe a new latest) or a
// certification raised; only those plugins are read again. The first
// refresh, or one after more changes than a read of the log shows, reads
// every plugin. Versions are immutable but for their certification, so
// their details stay cached.
func (c *consoleAdapter) refresh(ctx context.Context) error {
	const window = 200
	entries, err := c.s.store.Audit(ctx, registry.AuditFilter{Limit: window})
	if err != nil {
		return err
	}
	full := c.plugins == nil || len(entries) == window && entries[len(entries)-1].Seq > c.auditSeq+1
	changed := map[string]bool{}
	for _, e := range entries {
		if e.Seq <= c.auditSeq {
			break
		}
		switch e.Action {
		case registry.ActionCertify:
			delete(c.latest, e.PluginID+"@"+e.Version)
			changed[e.PluginID] = true
		case registry.ActionPush, registry.ActionPrune:
			changed[e.PluginID] = true
		}
	}
	if len(entries) > 0 {
		c.auditSeq = entries[0].Seq
	}
	if c.latest == nil {
		c.latest = map[string]console.VersionInfo{}
	}
	if full {
		plugins, err := c.s.store.Plugins(ctx)
		if err != nil {
			return err
		}
		c.plugins = make(map[string]*console.PluginInfo, len(plugins))
		for _, p := range plugins {
			if err := c.addPlugin(ctx, p); err != nil {
				return err
			}
		}
		return nil
	}
	for id := range changed {
		p, err := c.s.store.Plugin(ctx, id)
		if err != nil {
			return err
		}
		if err := c.addPlugin(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func (c *consoleAdapter) addPlugin(ctx context.Context, p *registry.Plugin) error {
	// The pages describe a plugin by the version teams that follow the
	// latest serve: its newest release, not a developer's preview
	// (slots.Effective); a plugin with only prereleases by its newest.
	latest := cmp.Or(slots.LatestRelease(p), p.Latest)
	key := p.ID + "@" + latest
	info, ok := c.latest[key]
	if !ok {
		v, err := c.s.store.Version(ctx, p.ID, latest)
		if err != nil {
			return err
		}
		info = c.versionInfo(v, false)
		c.latest[key] = info
	}
	c.plugins[p.ID] = &console.PluginInfo{ID: p.ID, Owner: p.Owner, CreatedAt: p.CreatedAt, Versions: p.Versions, Latest: info}
	return nil
}

func (c *consoleAdapter) Versions(ctx context.Context, pluginID string) ([]console.VersionInfo, error) {
	p, err := c.s.store.Plugin(ctx, pluginID)
	if err != nil {
		return nil, consoleError(err)
	}
	out := make([]console.VersionInfo, 0, len(p.Versions))
	for i := len(p.Versions) - 1; i >= 0; i-- {
		v, err := c.s.store.Version(ctx, p.ID, p.Versions[i])
		if err != nil {
			return nil, consoleError(err)
		}
		out = append(out, c.versionInfo(v, true))
	}
	return out, nil
}

func (c *consoleAdapter) versionInfo(v *registry.Version, bundles bool) console.VersionInfo {
	m := &v.Manifest
	info := console.VersionInfo{
		Version: v.Version, Name: m.Name, Description: m.Description, PushedAt: v.PushedAt, PushedBy: v.PushedBy,
		Certification: certificationOf(v), Slots: m.Slots, Prebuilt: v.Prebuilt, Warnings: v.Warnings,
		HomepageURL: m.HomepageURL, SupportURL: m.SupportURL,
	}
	if a, ok := v.Artifacts[artifactIcon]; ok {
		info.Icon = imageURL(a)
	}
	for i := range m.Screenshots {
		if a, ok := v.Artifacts[screenshotKind(i)]; ok {
			info.Screenshots = append(info.Screenshots, imageURL(a))
		}
	}
	if bundles {
		for kind, b := range c.s.bundlesOf(v) {
			info.Bundles = append(info.Bundles, console.Bundle{Kind: kind, URL: b.URL, Size: b.Size, Gzip: b.GzipSize, Br: b.BrSize})
		}
		slices.SortFunc(info.Bundles, func(a, b console.Bundle) int { return strings.Compare(a.Kind, b.Kind) })
	}
	return info
}

// certificationOf is the level the pages show for a version: the one GET
// /api/v1/plugins reports.
func certificationOf(v *registry.Version) string { return v.Certification.String() }

func (c *consoleAdapter) Health(ctx context.Context, pluginID string) (map[string]registry.Health, error) {
	h, err := c.s.store.PluginHealth(ctx, pluginID)
	return h, consoleError(err)
}

func (c *consoleAdapter) TeamStates(ctx context.Context, teamID string) (map[string]registry.TeamState, error) {
	st, err := c.s.store.TeamStates(ctx, teamID)
	return st, consoleError(err)
}

func (c *consoleAdapter) PluginTeamStates(ctx context.Context, pluginID string) (map[string]registry.TeamState, error) {
	st, err := c.s.store.PluginTeamStates(ctx, pluginID)
	return st, consoleError(err)
}

// Effective is servedVersion: the pages show what the manifests serve.
func (c *consoleAdapter) Effective(ctx context.Context, pluginID, pin string) (string, error) {
	v, err := c.s.servedVersion(ctx, pluginID, pin)
	return v, consoleError(err)
}

func (c *consoleAdapter) Audit(ctx context.Context, f registry.AuditFilter) ([]registry.AuditEntry, error) {
	e, err := c.s.store.Audit(ctx, f)
	return e, consoleError(err)
}

func (c *consoleAdapter) SetTeamPlugin(ctx context.Context, v *console.Viewer, teamID, pluginID string, enabled bool, version string) error {
	who := v.Data.(*identity.Identity)
	if !who.CanAdminTeam(teamID) {
		return console.ErrForbidden
	}
	_, _, err := c.s.setTeamPlugin(ctx, who.User.ID, teamID, pluginID, enabled, &version)
	return consoleError(err)
}

// DisableEverywhere is the kill switch: every team that has the plugin
// enabled gets it disabled through setTeamPlugin (one audit entry and one
// plugin_disabled event per team), keeping each team's pin.
func (c *consoleAdapter) DisableEverywhere(ctx context.Context, v *console.Viewer, pluginID string) ([]string, error) {
	who := v.Data.(*identity.Identity)
	if !who.User.SystemAdmin() {
		return nil, console.ErrForbidden
	}
	// One kill switch for the console and the API (adminapi.go); the
	// server part is disabled on Mattermost with the viewer's session.
	done, err := c.s.disableEverywhere(ctx, who, serverpart.Caller{Token: v.Session, Admin: true}, pluginID)
	return done, consoleError(err)
}

// consoleError maps errors to what the console shows: not found, or the
// API's status and message for anything a person can act on.
func consoleError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, registry.ErrPluginNotFound) || errors.Is(err, apiv4proxy.ErrTeamNotFound) {
		return fmt.Errorf("%w: %v", console.ErrNotFound, err)
	}
	e := toError(err)
	if e.Status >= 500 && e.Code == "internal_error" {
		return err
	}
	title := http.StatusText(e.Status)
	if errors.Is(err, registry.ErrVersionNotFound) {
		title, e.Message = "No such version", "That version does not exist: pick one of the versions listed."
	}
	return &console.Problem{Status: e.Status, Title: title, Message: e.Message}
}

// Images of a version (icon_path and screenshots) are stored as artifacts
// of these kinds and served under /bundles/<sha256>.<ext>.
const (
	artifactIcon       = "icon"
	artifactScreenshot = "screenshot."
)

func screenshotKind(i int) string { return artifactScreenshot + strconv.Itoa(i) }

// imageExt maps an image's content type to its URL extension.
var imageExt = map[string]string{
	"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/svg+xml": "svg",
}

func imageURL(a registry.Artifact) string { return slots.BundleURL(a.SHA256, imageExt[a.ContentType]) }

// addImages adds the package's icon and screenshots to the files a push
// stores, content-addressed like bundles. pluginpkg checked their types.
func addImages(pkg *pluginpkg.Package, files map[string]file) {
	m := &pkg.Manifest
	if m.IconPath != "" {
		if ct, err := pluginpkg.ImageType("icon_path", m.IconPath, pkg.Files[m.IconPath]); err == nil {
			files[artifactIcon] = file{Data: pkg.Files[m.IconPath], ContentType: ct}
		}
	}
	for i, p := range m.Screenshots {
		if ct, err := pluginpkg.ImageType("screenshots", p, pkg.Files[p]); err == nil {
			files[screenshotKind(i)] = file{Data: pkg.Files[p], ContentType: ct}
		}
	}
}
