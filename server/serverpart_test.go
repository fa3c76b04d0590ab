package server_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/mattermosttest"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

const partID = "com.example.serverpart"

// serverPartFixture is testdata/serverpart archived as the starter
// template's make dist archives a plugin (one top-level directory named
// by the id, executables 0755), at the given version.
func serverPartFixture(t testing.TB, version string) []byte {
	t.Helper()
	root := filepath.Join("testdata", "serverpart")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "README.md" || strings.HasPrefix(rel, "webapp/src/") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if rel == "plugin.json" {
			data = bytes.Replace(data, []byte(`"version": "1.0.0"`), []byte(`"version": "`+version+`"`), 1)
		}
		mode := int64(0o644)
		if strings.HasPrefix(rel, "server/dist/") {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: partID + "/" + rel, Mode: mode, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// failingStore is a registry whose next PutVersion fails when told to: a
// local store failing after Mattermost installed the server part.
type failingStore struct {
	*registry.Bolt
	failPut atomic.Bool
}

var errDiskFull = errors.New("disk full")

func (s *failingStore) PutVersion(ctx context.Context, v *registry.Version, blobs map[string][]byte, by registry.Pusher) (registry.PutResult, error) {
	if s.failPut.Swap(false) {
		return registry.PutResult{}, errDiskFull
	}
	return s.Bolt.PutVersion(ctx, v, blobs, by)
}

// partEnv is mmtoolkit in front of a stand-in Mattermost with its plugin
// API on: admin is a system admin there, dev is not.
type partEnv struct {
	*env
	mm      *mattermosttest.Mattermost
	plugins *mattermosttest.Plugins
	store   *failingStore
}

func newPartEnv(t *testing.T, operatorToken bool, opts ...func(*server.Config)) *partEnv {
	t.Helper()
	mm := mattermosttest.New(t)
	pl := mattermosttest.PluginAdmin(mm)
	admin := mm.AddUser("admin", "system_user system_admin")
	dev := mm.AddUser("dev", "")
	team := mm.AddTeam("engineering", false)
	mm.AddMember(team.ID, admin.ID, "")
	mm.AddMember(team.ID, dev.ID, "team_user team_admin")
	up, err := apiv4proxy.NewUpstream(mm.URL(), apiv4proxy.UpstreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := apiv4proxy.NewProxy(mm.URL(), apiv4proxy.ProxyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pa, err := apiv4proxy.NewPluginAdmin(mm.URL(), apiv4proxy.PluginAdminOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{Upstream: proxy, PluginAdmin: pa, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if operatorToken {
		cfg.UpstreamAdminToken = mm.Token(mm.AddUser("operator", "system_user system_admin"))
	}
	for _, o := range opts {
		o(&cfg)
	}
	store := &failingStore{Bolt: registrytest.Open(t)}
	srv, err := server.New(store, up, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(srv.Close)
	t.Cleanup(hs.Close)
	e := &env{t: t, url: hs.URL, srv: srv, store: store.Bolt,
		tokens: map[string]string{"admin": mm.Token(admin), "dev": mm.Token(dev)},
		teams:  map[string]string{"engineering": team.ID}}
	return &partEnv{env: e, mm: mm, plugins: pl, store: store}
}

func (p *partEnv) pushPart(user, version string) response {
	p.t.Helper()
	return p.do(user, "POST", "/api/v1/plugins", "application/gzip", bytes.NewReader(serverPartFixture(p.t, version)))
}

// serverPart is the push answer's server_part.
type serverPart struct {
	State   string `json:"state"`
	Enabled bool   `json:"enabled"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	Message string `json:"message"`
}

func partOf(t *testing.T, r response) serverPart {
	t.Helper()
	var body struct {
		ServerPart *serverPart `json:"server_part"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || body.ServerPart == nil {
		t.Fatalf("no server_part in %d %s", r.status, r.body)
	}
	return *body.ServerPart
}

func errorCode(t *testing.T, r response) string {
	t.Helper()
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	json.Unmarshal(r.body, &body)
	return body.Error.Code
}

// upstreamState is what the stand-in runs of the fixture: "" when it is
// not installed, else "<version> enabled|disabled".
func (p *partEnv) upstreamState() string {
	pl, ok := p.mm.Plugin(partID)
	if !ok {
		return ""
	}
	if pl.Enabled {
		return pl.Manifest.Version + " enabled"
	}
	return pl.Manifest.Version + " disabled"
}

// TestServerPartInstalledOnPush: a system admin's push of an archive with
// a server part installs it on Mattermost (upload, enable), without its
// webapp, which mmtoolkit serves; a new version replaces it; an identical
// re-push does nothing there.
func TestServerPartInstalledOnPush(t *testing.T) {
	t.Parallel()
	p := newPartEnv(t, false)
	r := p.pushPart("admin", "1.0.0")
	if r.status != 201 {
		t.Fatalf("push: %d %s", r.status, r.body)
	}
	sp := partOf(t, r)
	if sp.State != "installed" || !sp.Enabled || sp.Version != "1.0.0" || sp.Size == 0 {
		t.Errorf("server_part %+v", sp)
	}
	if got := p.upstreamState(); got != "1.0.0 enabled" {
		t.Errorf("Mattermost runs %q, want 1.0.0 enabled", got)
	}
	ip, _ := p.plugins.Installed(partID)
	if f := ip.Files["server/dist/plugin-linux-amd64"]; f.Mode != 0o755 || f.Size == 0 {
		t.Errorf("executable installed as %+v, want mode 755", f)
	}
	if _, ok := ip.Files["assets/bot.svg"]; !ok {
		t.Error("assets/ not installed: server code reads them from its bundle path")
	}
	if _, ok := ip.Files["webapp/dist/main.js"]; ok || strings.Contains(string(ip.PluginJSON), "webapp") {
		t.Errorf("the webapp reached Mattermost (plugin.json %s): it would load in every team", ip.PluginJSON)
	}
	if !strings.Contains(string(ip.PluginJSON), "settings_schema") {
		t.Errorf("plugin.json lost its settings (System Console shows them): %s", ip.PluginJSON)
	}
	v, err := p.store.Version(context.Background(), partID, "1.0.0")
	if err != nil || v.Artifacts["server.tar.gz"].SHA256 != sp.SHA256 || ip.ArchiveSHA != sp.SHA256 {
		t.Errorf("stored server part %+v (%v); answer %s; installed %s", v.Artifacts["server.tar.gz"], err, sp.SHA256, ip.ArchiveSHA)
	}
	// mmtoolkit still serves the webapp.
	if r := p.do("admin", "GET", "/api/v1/plugins/"+partID, "", nil); r.status != 200 {
		t.Errorf("plugin: %d %s", r.status, r.body)
	}

	r = p.pushPart("admin", "1.1.0")
	if sp := partOf(t, r); r.status != 201 || sp.State != "installed" || sp.Version != "1.1.0" {
		t.Fatalf("upgrade: %d %+v", r.status, sp)
	}
	if got := p.upstreamState(); got != "1.1.0 enabled" {
		t.Errorf("after the upgrade Mattermost runs %q", got)
	}
	calls := len(p.plugins.Calls())
	r = p.pushPart("admin", "1.1.0")
	if sp := partOf(t, r); r.status != 200 || sp.State != "unchanged" {
		t.Errorf("identical re-push: %d %+v", r.status, sp)
	}
	// An older version is kept, not installed over the newer one.
	r = p.pushPart("admin", "1.0.5")
	if sp := partOf(t, r); r.status != 201 || sp.State != "not_installed" || sp.Version != "1.1.0" {
		t.Errorf("older version: %d %+v", r.status, sp)
	}
	if n := len(p.plugins.Calls()); n != calls || p.upstreamState() != "1.1.0 enabled" {
		t.Errorf("re-push and older push called Mattermost: %q", p.plugins.Calls()[calls:])
	}
}

// TestServerPartFailureLeavesNothing: whatever fails on Mattermost (or in
// the local store after Mattermost installed it), the push is refused with
// a stable code, no version is stored, and Mattermost runs what it ran
// before.
func TestServerPartFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		first    bool // 1.0.0 installed before 1.1.0 is pushed
		user     string
		fault    func(p *partEnv)
		status   int
		code     string
		upstream string // what Mattermost runs afterwards
	}{
		{"enable fails after the upload, new plugin", false, "admin", func(p *partEnv) {
			p.plugins.Fail("enable", mattermosttest.Fault{Status: 500, ID: "app.plugin.config.app_error", Message: "Unable to save plugin state in config."})
		}, 502, "upstream_plugin_install_failed", ""},
		{"enable fails after the upload, upgrade", true, "admin", func(p *partEnv) {
			p.plugins.Fail("enable", mattermosttest.Fault{Status: 500, ID: "app.plugin.config.app_error", Message: "Unable to save plugin state in config."})
		}, 502, "upstream_plugin_install_failed", "1.0.0 enabled"},
		{"fails to start", true, "admin", func(p *partEnv) { p.plugins.FailToStart(partID, "1.1.0", "plugin exited before handshake") },
			502, "upstream_plugin_install_failed", "1.0.0 enabled"},
		{"upload refused", true, "admin", func(p *partEnv) {
			p.plugins.Fail("upload", mattermosttest.Fault{Status: 400, ID: "app.plugin.extract.app_error", Message: "Encountered error extracting plugin."})
		}, 502, "upstream_plugin_install_failed", "1.0.0 enabled"},
		{"upload answer lost after the install", true, "admin", func(p *partEnv) {
			p.plugins.Fail("upload", mattermosttest.Fault{After: true})
		}, 502, "upstream_unavailable", "1.0.0 enabled"},
		{"Mattermost down", true, "admin", func(p *partEnv) {
			// The pusher's identity is cached; Mattermost stops answering.
			p.mm.Server().Listener.Close()
			p.mm.Server().CloseClientConnections()
		}, 502, "upstream_unavailable", "1.0.0 enabled"},
		{"uploads disabled", true, "admin", func(p *partEnv) { p.plugins.SetUploadsDisabled(true) },
			409, "upstream_uploads_disabled", "1.0.0 enabled"},
		{"not a system admin", false, "dev", nil, 403, "upstream_admin_required", ""},
		{"local store fails", true, "admin", func(p *partEnv) { p.store.failPut.Store(true) }, 500, "internal_error", "1.0.0 enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPartEnv(t, false)
			if tc.first {
				if r := p.pushPart("admin", "1.0.0"); r.status != 201 {
					t.Fatalf("first push: %d %s", r.status, r.body)
				}
			}
			before, _ := p.plugins.Installed(partID)
			if tc.fault != nil {
				tc.fault(p)
			}
			r := p.pushPart(tc.user, "1.1.0")
			if r.status != tc.status || errorCode(t, r) != tc.code {
				t.Errorf("push: %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
			if _, err := p.store.Version(context.Background(), partID, "1.1.0"); !errors.Is(err, registry.ErrVersionNotFound) && !errors.Is(err, registry.ErrPluginNotFound) {
				t.Errorf("1.1.0 stored after a failed push (%v)", err)
			}
			p.plugins.FailToStart(partID, "1.1.0", "")
			if got := p.upstreamState(); got != tc.upstream {
				t.Errorf("Mattermost runs %q, want %q (calls %q)", got, tc.upstream, p.plugins.Calls())
			}
			if after, _ := p.plugins.Installed(partID); after.ArchiveSHA != before.ArchiveSHA {
				t.Errorf("Mattermost holds another archive than before (%s, was %s)", after.ArchiveSHA, before.ArchiveSHA)
			}
		})
	}
}

// TestServerPartOperatorToken: with --upstream-admin-token, a pusher who
// is not a system admin on Mattermost installs the server part with the
// operator's token.
func TestServerPartOperatorToken(t *testing.T) {
	t.Parallel()
	p := newPartEnv(t, true)
	r := p.pushPart("dev", "1.0.0")
	if sp := partOf(t, r); r.status != 201 || sp.State != "installed" {
		t.Fatalf("push: %d %s", r.status, r.body)
	}
	if got := p.upstreamState(); got != "1.0.0 enabled" {
		t.Errorf("Mattermost runs %q", got)
	}
	if strings.Contains(string(r.body), p.srvToken()) {
		t.Error("the answer shows the operator's token")
	}
}

func (p *partEnv) srvToken() string {
	for _, rq := range p.mm.Requests("/api/v4/plugins") {
		if a := rq.Header.Get("Authorization"); a != "" && a != "Bearer "+p.tokens["dev"] {
			return strings.TrimPrefix(a, "Bearer ")
		}
	}
	p.t.Fatal("no request with the operator's token")
	return ""
}

// TestServerPartWithoutMattermost: in the sandbox the server part is kept
// with the version (and counted in the quota) and reported not installed.
func TestServerPartWithoutMattermost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	r := e.do("dev", "POST", "/api/v1/plugins", "application/gzip", bytes.NewReader(serverPartFixture(t, "1.0.0")))
	sp := partOf(t, r)
	if r.status != 201 || sp.State != "not_installed" || !strings.Contains(sp.Message, "no Mattermost") {
		t.Fatalf("push: %d %+v", r.status, sp)
	}
	v, err := e.store.Version(context.Background(), partID, "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	a, ok := v.Artifacts["server.tar.gz"]
	if !ok || a.Size != sp.Size {
		t.Fatalf("server part not kept: %+v", v.Artifacts)
	}
	blob, err := e.store.Blob(context.Background(), a.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if h.Typeflag == tar.TypeReg {
			names = append(names, h.Name)
		}
	}
	want := []string{partID + "/plugin.json", partID + "/assets/bot.svg", partID + "/server/dist/plugin-darwin-arm64",
		partID + "/server/dist/plugin-linux-amd64", partID + "/server/dist/plugin-linux-arm64", partID + "/server/dist/plugin-windows-amd64.exe"}
	if !slices.Equal(names, want) {
		t.Errorf("server part holds %q, want %q", names, want)
	}
	// The console says so too, without the form (nothing to install on).
	page := string(e.page("admin", "GET", "/admin/plugins/"+partID, nil).body)
	if !strings.Contains(page, "Not installed: no Mattermost") || strings.Contains(page, "/server-part\"") {
		t.Errorf("plugin page:\n%s", page)
	}
}

// TestServerPartPinAndKillSwitch: a system admin pins the version whose
// server part Mattermost runs (rolling back re-installs the older one's),
// later pushes then leave it alone; the kill switch disables it on
// Mattermost, new versions arrive disabled, and enabling brings it back.
func TestServerPartPinAndKillSwitch(t *testing.T) {
	t.Parallel()
	p := newPartEnv(t, false)
	for _, v := range []string{"1.0.0", "1.1.0"} {
		if r := p.pushPart("admin", v); r.status != 201 {
			t.Fatalf("push %s: %d %s", v, r.status, r.body)
		}
	}
	put := func(user, body string) (response, map[string]any) {
		t.Helper()
		r := p.do(user, "PUT", "/api/v1/plugins/"+partID+"/server-part", "application/json", strings.NewReader(body))
		var view map[string]any
		json.Unmarshal(r.body, &view)
		return r, view
	}
	// Rolling back: 1.0.0's own archive goes back to Mattermost.
	r, view := put("admin", `{"pin":"1.0.0","enabled":true}`)
	if r.status != 200 || view["state"] != "running" || view["version"] != "1.0.0" || view["pin"] != "1.0.0" {
		t.Fatalf("pin: %d %s", r.status, r.body)
	}
	v1, _ := p.store.Version(context.Background(), partID, "1.0.0")
	if ip, _ := p.plugins.Installed(partID); ip.ArchiveSHA != v1.Artifacts["server.tar.gz"].SHA256 {
		t.Errorf("Mattermost holds %s, not 1.0.0's server part", ip.ArchiveSHA)
	}
	if r := p.pushPart("admin", "1.2.0"); r.status != 201 || partOf(t, r).State != "not_installed" || p.upstreamState() != "1.0.0 enabled" {
		t.Errorf("push while pinned: %d %+v; Mattermost runs %q", r.status, partOf(t, r), p.upstreamState())
	}
	if r, _ := put("dev", `{"pin":"","enabled":true}`); r.status != 403 {
		t.Errorf("a developer changed the server part: %d", r.status)
	}
	if r, view := put("admin", `{"pin":"","enabled":true}`); r.status != 200 || view["follows"] != "1.2.0" || p.upstreamState() != "1.2.0 enabled" {
		t.Errorf("follow latest: %d %s; Mattermost runs %q", r.status, r.body, p.upstreamState())
	}

	// The kill switch (the console's), then a push, then enable.
	// The form's token, from the plugin page or its confirmation page.
	var tok string
	for _, path := range []string{"/admin/plugins/" + partID, "/admin/plugins/" + partID + "/disable-everywhere"} {
		if m := csrfInput.FindSubmatch(p.page("admin", "GET", path, nil).body); m != nil && tok == "" {
			tok = string(m[1])
		}
	}
	r = p.page("admin", "POST", "/admin/plugins/"+partID+"/disable-everywhere", url.Values{"csrf_token": {tok}, "confirm": {"yes"}})
	if r.status != 303 || p.upstreamState() != "1.2.0 disabled" {
		t.Fatalf("kill switch: %d; Mattermost runs %q\n%s", r.status, p.upstreamState(), r.body)
	}
	r = p.pushPart("admin", "1.3.0")
	if sp := partOf(t, r); r.status != 201 || sp.State != "installed" || sp.Enabled || p.upstreamState() != "1.3.0 disabled" {
		t.Errorf("push after the kill switch: %d %+v; Mattermost runs %q", r.status, sp, p.upstreamState())
	}
	if r, view := put("admin", `{"pin":"","enabled":true}`); r.status != 200 || view["state"] != "running" || p.upstreamState() != "1.3.0 enabled" {
		t.Errorf("enable again: %d %s; Mattermost runs %q", r.status, r.body, p.upstreamState())
	}
	var n int
	entries, _ := p.store.Audit(context.Background(), registry.AuditFilter{PluginID: partID})
	for _, e := range entries {
		if e.Action == registry.ActionServerPart {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d server_part audit entries, want 4 (pin, follow, kill switch, enable)", n)
	}
}

// TestServerPartConsole: the plugin page shows the server part's state on
// Mattermost, and a system admin's form pins its version.
func TestServerPartConsole(t *testing.T) {
	t.Parallel()
	p := newPartEnv(t, false)
	for _, v := range []string{"1.0.0", "1.1.0"} {
		if r := p.pushPart("admin", v); r.status != 201 {
			t.Fatalf("push %s: %d %s", v, r.status, r.body)
		}
	}
	page := p.page("admin", "GET", "/admin/plugins/"+partID, nil)
	body := string(page.body)
	if page.status != 200 || !strings.Contains(body, "Server part") || !strings.Contains(body, "Running on Mattermost") ||
		!strings.Contains(body, "version 1.1.0") || !strings.Contains(body, `action="/admin/plugins/`+partID+`/server-part"`) {
		t.Fatalf("plugin page: %d\n%s", page.status, body)
	}
	m := csrfInput.FindSubmatch(page.body)
	if m == nil {
		t.Fatal("no form token")
	}
	r := p.page("admin", "POST", "/admin/plugins/"+partID+"/server-part", url.Values{"csrf_token": {string(m[1])}, "version": {"1.0.0"}, "action": {"enable"}})
	if r.status != 303 || p.upstreamState() != "1.0.0 enabled" {
		t.Fatalf("pin from the console: %d; Mattermost runs %q\n%s", r.status, p.upstreamState(), r.body)
	}
	// A team admin sees the section without the form; Mattermost's state
	// needs a system admin there.
	page = p.page("dev", "GET", "/admin/plugins/"+partID, nil)
	if body := string(page.body); page.status != 200 || !strings.Contains(body, "Server part") || strings.Contains(body, "/server-part\"") || !strings.Contains(body, "Unknown") {
		t.Errorf("team admin's plugin page: %d\n%s", page.status, body)
	}
}

// TestServerPartCountsInQuota: the server part counts in the owner's
// quota, which is checked before Mattermost is asked anything: a version
// over quota installs nothing.
func TestServerPartCountsInQuota(t *testing.T) {
	t.Parallel()
	js, err := os.ReadFile(filepath.Join("testdata", "serverpart", "webapp", "dist", "main.js"))
	if err != nil {
		t.Fatal(err)
	}
	// Room for the webapp, not for its server part too.
	p := newPartEnv(t, false, func(c *server.Config) { c.OwnerQuotaBytes = int64(len(js)) + 64 })
	r := p.pushPart("admin", "1.0.0")
	if r.status != 507 || errorCode(t, r) != "storage_quota_exceeded" {
		t.Fatalf("push over quota: %d %s", r.status, r.body)
	}
	if calls := p.plugins.Calls(); len(calls) != 0 || p.upstreamState() != "" {
		t.Errorf("Mattermost was asked %q and runs %q", calls, p.upstreamState())
	}
}

// TestServerPartRestoreFails: when Mattermost fails mid-install and then
// also refuses to be put back, nothing is stored and the answer says that
// Mattermost may hold the new version, which the state then shows.
func TestServerPartRestoreFails(t *testing.T) {
	t.Parallel()
	p := newPartEnv(t, false)
	if r := p.pushPart("admin", "1.0.0"); r.status != 201 {
		t.Fatalf("first push: %d %s", r.status, r.body)
	}
	p.plugins.Fail("enable", mattermosttest.Fault{Status: 500, ID: "app.plugin.config.app_error", Message: "Unable to save plugin state in config."})
	p.plugins.Fail("upload", mattermosttest.Fault{Pass: true})
	p.plugins.Fail("upload", mattermosttest.Fault{Status: 500, ID: "app.plugin.store_bundle.app_error", Message: "Unable to store the plugin to the configured file store."})
	r := p.pushPart("admin", "1.1.0")
	var body struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal(r.body, &body)
	if r.status != 502 || body.Error.Code != "upstream_plugin_install_failed" ||
		!strings.Contains(body.Error.Message, "putting Mattermost back (version 1.0.0, enabled) failed") {
		t.Errorf("push: %d %s", r.status, r.body)
	}
	if _, err := p.store.Version(context.Background(), partID, "1.1.0"); err == nil {
		t.Error("1.1.0 stored")
	}
	r = p.do("admin", "GET", "/api/v1/plugins/"+partID+"/server-part", "", nil)
	var view map[string]any
	json.Unmarshal(r.body, &view)
	if view["version"] != "1.1.0" || view["follows"] != "1.0.0" {
		t.Errorf("state after a failed put-back: %s; want Mattermost's 1.1.0 shown against the 1.0.0 mmtoolkit follows", r.body)
	}
}

// TestServerPartStateFailed: a server part that stopped running shows as
// failed, with Mattermost's reason.
func TestServerPartStateFailed(t *testing.T) {
	t.Parallel()
	p := newPartEnv(t, false)
	if r := p.pushPart("admin", "1.0.0"); r.status != 201 {
		t.Fatalf("push: %d %s", r.status, r.body)
	}
	p.plugins.FailToStart(partID, "1.0.0", "plugin exited: panic in OnActivate")
	r := p.do("admin", "GET", "/api/v1/plugins/"+partID+"/server-part", "", nil)
	var view map[string]any
	json.Unmarshal(r.body, &view)
	if r.status != 200 || view["state"] != "failed" || view["error"] != "plugin exited: panic in OnActivate" || view["version"] != "1.0.0" {
		t.Errorf("state: %d %s", r.status, r.body)
	}
	if r := p.do("dev", "GET", "/api/v1/plugins/"+partID+"/server-part", "", nil); r.status != 403 {
		t.Errorf("a developer read the server part: %d", r.status)
	}
}

// fixtureFiles is testdata/serverpart as a file map (root layout).
func fixtureFiles(t *testing.T) map[string]string {
	t.Helper()
	root := filepath.Join("testdata", "serverpart")
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "README.md" || strings.HasPrefix(rel, "webapp/src/") {
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestServerPartSignatureCoversExecutables: a signature covers the server
// part, so an executable swapped after signing is refused before
// Mattermost is asked anything; the package as signed installs.
func TestServerPartSignatureCoversExecutables(t *testing.T) {
	t.Parallel()
	p := newPartEnv(t, false, func(c *server.Config) { c.TrustedKeys = trustingConfig(registry.Unverified).TrustedKeys })
	files := signed(t, fixtureFiles(t), certifiedKey)
	tampered := maps.Clone(files)
	tampered["server/dist/plugin-linux-amd64"] = "#!/bin/sh\nexfiltrate\n"
	r := p.push("admin", tampered)
	if r.status != 422 || errorCode(t, r) != "signature_mismatch" {
		t.Errorf("tampered executable: %d %s", r.status, r.body)
	}
	if calls := p.plugins.Calls(); len(calls) != 0 {
		t.Errorf("Mattermost was asked %q", calls)
	}
	r = p.push("admin", files)
	if sp := partOf(t, r); r.status != 201 || sp.State != "installed" || !strings.Contains(string(r.body), `"certification":"certified"`) {
		t.Errorf("signed push: %d %s", r.status, r.body)
	}
}

// TestServerPartFollowsTheServingPolicy: without a pin, Mattermost runs the
// server part of the version teams that follow the latest would serve: a
// prerelease (a push --watch build) or a version below the minimum
// certification is kept, never installed over what Mattermost runs.
func TestServerPartFollowsTheServingPolicy(t *testing.T) {
	t.Parallel()
	p := newPartEnv(t, false)
	if r := p.pushPart("admin", "1.0.0"); r.status != 201 || partOf(t, r).State != "installed" {
		t.Fatalf("release: %d %s", r.status, r.body)
	}
	calls := len(p.plugins.Calls())
	r := p.pushPart("admin", "1.1.0-dev.1")
	sp := partOf(t, r)
	if r.status != 201 || sp.State != "not_installed" || sp.Version != "1.0.0" || !strings.Contains(sp.Message, "prerelease") {
		t.Errorf("prerelease: %d %+v", r.status, sp)
	}
	if n := len(p.plugins.Calls()); n != calls || p.upstreamState() != "1.0.0 enabled" {
		t.Errorf("a prerelease reached Mattermost: runs %q, calls %q", p.upstreamState(), p.plugins.Calls()[calls:])
	}

	strict := newPartEnv(t, false, func(c *server.Config) { c.MinCertification = registry.Community })
	r = strict.pushPart("admin", "1.0.0")
	sp = partOf(t, r)
	if r.status != 201 || sp.State != "not_installed" || !strings.Contains(sp.Message, "minimum certification") {
		t.Errorf("unverified under a minimum: %d %+v", r.status, sp)
	}
	if got := strict.upstreamState(); got != "" {
		t.Errorf("an unverified version below the minimum reached Mattermost: %q", got)
	}
}
