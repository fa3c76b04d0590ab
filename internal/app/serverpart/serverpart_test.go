package serverpart_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serverpart"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

const id = "com.example.part"

// fakeAdmin is Mattermost's plugin API as a map: what is installed, at
// which version, enabled or not. An archive is "<id>@<version>" (the fake
// reads no tar). fail makes the next call of an operation fail; failed is a
// version that, enabled, fails to start.
type fakeAdmin struct {
	mu      sync.Mutex
	plugins map[string]*fakePlugin
	fail    map[string]error // op -> error of its next call
	failed  string           // a version that fails to start when enabled
	calls   []string
	busy    atomic.Int32 // calls in flight
	overlap atomic.Bool  // two calls were in flight at once
}

type fakePlugin struct {
	version string
	active  bool
}

func newFakeAdmin() *fakeAdmin {
	return &fakeAdmin{plugins: map[string]*fakePlugin{}, fail: map[string]error{}}
}

func (f *fakeAdmin) enter(op string) (func(), error) {
	runtime.Gosched() // room for another change of the plugin to interleave, were it not locked out
	if f.busy.Add(1) > 1 {
		f.overlap.Store(true)
	}
	f.mu.Lock()
	f.calls = append(f.calls, op)
	err := f.fail[op]
	delete(f.fail, op)
	return func() { f.mu.Unlock(); f.busy.Add(-1) }, err
}

func (f *fakeAdmin) Upload(_ context.Context, _ string, archive []byte) error {
	done, err := f.enter("upload")
	defer done()
	if err != nil {
		return err
	}
	pid, version, ok := strings.Cut(string(archive), "@")
	if !ok {
		return &serverpart.APIError{Status: 400, Message: "not a plugin archive"}
	}
	p := f.plugins[pid]
	if p == nil {
		p = &fakePlugin{}
		f.plugins[pid] = p
	}
	p.version = version // Mattermost keeps the enabled state across a replace
	return nil
}

func (f *fakeAdmin) setActive(op, pid string, active bool) error {
	done, err := f.enter(op)
	defer done()
	if err != nil {
		return err
	}
	p := f.plugins[pid]
	if p == nil {
		return serverpart.ErrNotInstalled
	}
	p.active = active
	return nil
}

func (f *fakeAdmin) Enable(_ context.Context, _, pid string) error {
	return f.setActive("enable", pid, true)
}

func (f *fakeAdmin) Disable(_ context.Context, _, pid string) error {
	return f.setActive("disable", pid, false)
}

func (f *fakeAdmin) Remove(_ context.Context, _, pid string) error {
	done, err := f.enter("remove")
	defer done()
	if err != nil {
		return err
	}
	if f.plugins[pid] == nil {
		return serverpart.ErrNotInstalled
	}
	delete(f.plugins, pid)
	return nil
}

func (f *fakeAdmin) Plugins(_ context.Context, _ string) ([]serverpart.Installed, error) {
	done, err := f.enter("plugins")
	defer done()
	if err != nil {
		return nil, err
	}
	var out []serverpart.Installed
	for pid, p := range f.plugins {
		// Enabled but not running is inactive, as Mattermost lists it.
		out = append(out, serverpart.Installed{ID: pid, Version: p.version, Active: p.active && p.version != f.failed})
	}
	return out, nil
}

func (f *fakeAdmin) Statuses(_ context.Context, _ string) ([]serverpart.Status, error) {
	done, err := f.enter("statuses")
	defer done()
	if err != nil {
		return nil, err
	}
	var out []serverpart.Status
	for pid, p := range f.plugins {
		st := serverpart.Status{PluginID: pid}
		if p.active && p.version == f.failed {
			st.Failed, st.Error = true, "boom"
		}
		out = append(out, st)
	}
	return out, nil
}

// state is what Mattermost has of id: "" (nothing), or "<version>
// enabled|disabled".
func (f *fakeAdmin) state(pid string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.plugins[pid]
	switch {
	case p == nil:
		return ""
	case p.active:
		return p.version + " enabled"
	default:
		return p.version + " disabled"
	}
}

func (f *fakeAdmin) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == op {
			n++
		}
	}
	return n
}

// followAll is a serving policy that follows every version but
// prereleases (serving.Policy.NotFollowed without a minimum).
type followAll struct{}

func (followAll) NotFollowed(v *registry.Version) string {
	if strings.Contains(v.Version, "-") {
		return v.Version + " is a prerelease"
	}
	return ""
}

type fixture struct {
	t     *testing.T
	store *failingStore
	admin *fakeAdmin
	feed  *changes.Feed
	m     *serverpart.Manager
	recs  atomic.Int32 // ServerPartChanged seen
}

// failingStore is a registry whose next PutVersion fails when told to.
type failingStore struct {
	*registry.Bolt
	failPut atomic.Bool
}

var errDisk = errors.New("disk full")

func (s *failingStore) PutVersion(ctx context.Context, v *registry.Version, blobs map[string][]byte, by registry.Pusher) (registry.PutResult, error) {
	if s.failPut.Swap(false) {
		return registry.PutResult{}, errDisk
	}
	return s.Bolt.PutVersion(ctx, v, blobs, by)
}

// newFixture is a Manager over a bbolt registry and fakeAdmin; admin nil
// (withAdmin false) is a sandbox without Mattermost.
func newFixture(t *testing.T, withAdmin bool, operatorToken string) *fixture {
	f := &fixture{t: t, store: &failingStore{Bolt: registrytest.Open(t)}, feed: &changes.Feed{}}
	cfg := serverpart.Config{Store: f.store, Policy: followAll{}, Feed: f.feed, AdminToken: operatorToken,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if withAdmin {
		f.admin = newFakeAdmin()
		cfg.Admin = f.admin
	}
	f.m = serverpart.New(cfg)
	f.m.Subscribe(f.feed)
	changes.On(f.feed, "test", func(context.Context, changes.ServerPartChanged) { f.recs.Add(1) })
	return f
}

var admin = serverpart.Caller{Token: "admin-token", Admin: true}

// version is a version of id with a server part whose archive is
// "<id>@<version>" (withPart false: a webapp only).
func version(v string, withPart bool) (*registry.Version, map[string][]byte, []byte) {
	ver, blobs := registrytest.Version(id, v)
	if !withPart {
		return ver, blobs, nil
	}
	part := []byte(id + "@" + v)
	sha := registrytest.SHA256(part)
	ver.Artifacts[serverpart.Artifact] = registry.Artifact{SHA256: sha, Size: int64(len(part)), ContentType: serverpart.ContentType}
	ver.PackageSHA256 = registrytest.SHA256([]byte(ver.PackageSHA256 + sha))
	blobs[sha] = part
	return ver, blobs, part
}

// push publishes version v (with a server part) as c.
func (f *fixture) push(c serverpart.Caller, v string) (*serverpart.Info, error) {
	ver, blobs, part := version(v, true)
	_, info, err := f.m.Publish(context.Background(), c, ver, part, func() (registry.PutResult, error) {
		return f.store.PutVersion(context.Background(), ver, blobs, registry.Pusher{UserID: "dev"})
	})
	return info, err
}

func (f *fixture) mustPush(v string) *serverpart.Info {
	f.t.Helper()
	info, err := f.push(admin, v)
	if err != nil {
		f.t.Fatalf("push %s: %v", v, err)
	}
	return info
}

func (f *fixture) stored(v string) bool {
	_, err := f.store.Version(context.Background(), id, v)
	return err == nil
}

func kindOf(err error) serverpart.Kind {
	var e *serverpart.Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func TestPublishInstalls(t *testing.T) {
	f := newFixture(t, true, "")
	info := f.mustPush("1.0.0")
	if info.State != "installed" || !info.Enabled || info.Version != "1.0.0" || info.Size == 0 || info.SHA256 == "" {
		t.Fatalf("info = %+v, want installed and enabled at 1.0.0", info)
	}
	if got := f.admin.state(id); got != "1.0.0 enabled" {
		t.Fatalf("Mattermost has %q, want 1.0.0 enabled", got)
	}
	if !f.stored("1.0.0") {
		t.Fatal("the version was not stored")
	}
	// A newer version replaces it; an identical re-push does nothing.
	f.mustPush("1.1.0")
	if got := f.admin.state(id); got != "1.1.0 enabled" {
		t.Fatalf("after 1.1.0 Mattermost has %q", got)
	}
	uploads := f.admin.count("upload")
	if info := f.mustPush("1.1.0"); info.State != "unchanged" {
		t.Fatalf("re-push: %+v, want unchanged", info)
	}
	if n := f.admin.count("upload"); n != uploads {
		t.Fatalf("an identical re-push uploaded again (%d uploads, was %d)", n, uploads)
	}
	// A lower version is kept, not installed.
	info = f.mustPush("1.0.5")
	if info.State != "not_installed" || info.Version != "1.1.0" || !strings.Contains(info.Message, "the highest version that has one") {
		t.Fatalf("lower version: %+v", info)
	}
	if got := f.admin.state(id); got != "1.1.0 enabled" {
		t.Fatalf("a lower version replaced the server part: %q", got)
	}
}

func TestPublishWithoutPartOrMattermost(t *testing.T) {
	f := newFixture(t, true, "")
	ver, blobs, _ := version("1.0.0", false)
	_, info, err := f.m.Publish(context.Background(), admin, ver, nil, func() (registry.PutResult, error) {
		return f.store.PutVersion(context.Background(), ver, blobs, registry.Pusher{UserID: "dev"})
	})
	if err != nil || info != nil || f.admin.count("plugins") != 0 {
		t.Fatalf("a version without a server part: info %+v, err %v, Mattermost asked %d times", info, err, f.admin.count("plugins"))
	}

	sandbox := newFixture(t, false, "")
	info, err = sandbox.push(serverpart.Caller{}, "1.0.0")
	if err != nil || info.State != "not_installed" || !strings.Contains(info.Message, "no Mattermost") || !sandbox.stored("1.0.0") {
		t.Fatalf("without Mattermost: %+v, %v", info, err)
	}
}

func TestPublishNeedsASystemAdmin(t *testing.T) {
	f := newFixture(t, true, "")
	_, err := f.push(serverpart.Caller{Token: "dev-token"}, "1.0.0")
	if kindOf(err) != serverpart.AdminRequired || f.stored("1.0.0") || f.admin.count("upload") != 0 {
		t.Fatalf("a developer's push without an operator token: %v (stored %v, uploads %d), want AdminRequired and nothing done",
			err, f.stored("1.0.0"), f.admin.count("upload"))
	}
	op := newFixture(t, true, "operator-token")
	if info, err := op.push(serverpart.Caller{Token: "dev-token"}, "1.0.0"); err != nil || info.State != "installed" {
		t.Fatalf("with the operator's token: %+v, %v", info, err)
	}
}

// TestPublishFailureRestores fails each step of an install in turn, over
// Mattermost running 1.0.0 (or nothing), and checks that nothing is
// stored, Mattermost is as it was, and the error is of the right kind.
func TestPublishFailureRestores(t *testing.T) {
	serverErr := &serverpart.APIError{Status: 500, Message: "disk"}
	refused := &serverpart.APIError{Status: 400, Message: "bad manifest"}
	for _, tc := range []struct {
		name     string
		prior    bool // 1.0.0 installed and enabled first
		op       string
		err      error
		notStart string // the version that fails to start
		store    bool   // the local store fails
		kind     serverpart.Kind
		restore  bool // Mattermost was changed and put back
	}{
		{name: "list unreachable", prior: true, op: "plugins", err: serverpart.ErrUnavailable, kind: serverpart.Unavailable},
		{name: "list times out", prior: true, op: "plugins", err: serverpart.ErrTimeout, kind: serverpart.Timeout},
		{name: "token refused", prior: true, op: "plugins", err: serverpart.ErrAdminForbidden, kind: serverpart.AdminRequired},
		{name: "upload refused", prior: true, op: "upload", err: refused, kind: serverpart.InstallFailed},
		{name: "uploads disabled", prior: true, op: "upload", err: serverpart.ErrUploadsDisabled, kind: serverpart.UploadsDisabled, restore: true},
		{name: "upload fails", prior: true, op: "upload", err: serverErr, kind: serverpart.InstallFailed, restore: true},
		{name: "enable fails", prior: true, op: "enable", err: serverErr, kind: serverpart.InstallFailed, restore: true},
		{name: "does not start", prior: true, notStart: "2.0.0", kind: serverpart.InstallFailed, restore: true},
		{name: "store fails", prior: true, store: true, restore: true},
		{name: "new plugin, enable fails", op: "enable", err: serverpart.ErrUnavailable, kind: serverpart.Unavailable, restore: true},
		{name: "new plugin, store fails", store: true, restore: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, true, "")
			want := ""
			if tc.prior {
				f.mustPush("1.0.0")
				want = "1.0.0 enabled"
			}
			uploads := f.admin.count("upload")
			if tc.op != "" {
				f.admin.fail[tc.op] = tc.err
			}
			f.admin.failed = tc.notStart
			f.store.failPut.Store(tc.store)
			_, err := f.push(admin, "2.0.0")
			if err == nil {
				t.Fatal("the push succeeded")
			}
			if tc.store && !errors.Is(err, errDisk) {
				t.Fatalf("err = %v, want the store's", err)
			}
			if kindOf(err) != tc.kind {
				t.Fatalf("err = %v (kind %d), want kind %d", err, kindOf(err), tc.kind)
			}
			if f.stored("2.0.0") {
				t.Fatal("2.0.0 was stored")
			}
			if got := f.admin.state(id); got != want {
				t.Fatalf("Mattermost has %q, want %q (as it was)", got, want)
			}
			if tc.kind != 0 && !strings.Contains(err.Error(), "nothing was stored") {
				t.Fatalf("the message does not say what state things are in: %v", err)
			}
			if restored := f.admin.count("upload")-uploads > 1 || (!tc.prior && f.admin.count("remove") > 0); restored != tc.restore {
				t.Fatalf("put back: %v, want %v (calls %v)", restored, tc.restore, f.admin.calls)
			}
		})
	}
}

func TestPublishRestoreFails(t *testing.T) {
	f := newFixture(t, true, "")
	f.mustPush("1.0.0")
	f.store.failPut.Store(true)
	ver, blobs, part := version("2.0.0", true)
	_, _, err := f.m.Publish(context.Background(), admin, ver, part, func() (registry.PutResult, error) {
		// The store fails, and so does putting Mattermost back (its upload).
		f.admin.fail["upload"] = serverpart.ErrUnavailable
		return f.store.PutVersion(context.Background(), ver, blobs, registry.Pusher{UserID: "dev"})
	})
	if !errors.Is(err, errDisk) || !strings.Contains(err.Error(), "putting Mattermost back failed") {
		t.Fatalf("err = %v, want the store's error saying Mattermost was not put back", err)
	}
}

func TestForeignPluginRefused(t *testing.T) {
	f := newFixture(t, true, "")
	f.admin.plugins[id] = &fakePlugin{version: "0.9.0", active: true} // installed by hand
	_, err := f.push(admin, "1.0.0")
	if kindOf(err) != serverpart.PluginForeign || !strings.Contains(err.Error(), "0.9.0") {
		t.Fatalf("err = %v, want PluginForeign naming 0.9.0", err)
	}
	if f.stored("1.0.0") || f.admin.count("upload") != 0 || f.admin.state(id) != "0.9.0 enabled" {
		t.Fatalf("a refused push changed something: stored %v, calls %v", f.stored("1.0.0"), f.admin.calls)
	}
}

func TestFollowsNotFollowed(t *testing.T) {
	f := newFixture(t, true, "")
	f.mustPush("1.0.0")
	info := f.mustPush("1.1.0-beta.1")
	if info.State != "not_installed" || info.Version != "1.0.0" || !strings.Contains(info.Message, "prerelease") {
		t.Fatalf("a prerelease: %+v, want kept with 1.0.0 running", info)
	}
	if got := f.admin.state(id); got != "1.0.0 enabled" {
		t.Fatalf("a prerelease replaced the server part: %q", got)
	}
	// The next release replaces it: the prerelease does not count as
	// the highest.
	if info := f.mustPush("1.0.1"); info.State != "installed" {
		t.Fatalf("the release after a prerelease: %+v", info)
	}
	// A system admin can pin the prerelease; the next release is then kept.
	if err := f.m.Set(context.Background(), admin, "admin", id, "1.1.0-beta.1", true); err != nil {
		t.Fatal(err)
	}
	info = f.mustPush("1.2.0")
	if info.State != "not_installed" || info.Version != "1.1.0-beta.1" || !strings.Contains(info.Message, "pinned") {
		t.Fatalf("a push over a pin: %+v", info)
	}
}

func TestPinKillSwitchEnable(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, true, "")
	f.mustPush("1.0.0")
	f.mustPush("2.0.0")

	// Pin 1.0.0: installed again, recorded, told to the feed.
	if err := f.m.Set(ctx, admin, "admin", id, "1.0.0", true); err != nil {
		t.Fatal(err)
	}
	if got := f.admin.state(id); got != "1.0.0 enabled" {
		t.Fatalf("after the pin Mattermost has %q", got)
	}
	if f.recs.Load() != 1 {
		t.Fatalf("%d ServerPartChanged, want 1", f.recs.Load())
	}
	sp, _ := f.store.ServerPart(ctx, id)
	if sp.Pin != "1.0.0" || sp.Disabled || sp.UpdatedBy != "admin" {
		t.Fatalf("record %+v", sp)
	}
	if info := f.mustPush("3.0.0"); info.State != "not_installed" || info.Version != "1.0.0" {
		t.Fatalf("a push over the pin: %+v", info)
	}

	// The kill switch: disabled on Mattermost, recorded; the next install is disabled.
	if err := f.m.Disable(ctx, admin, "admin", id); err != nil {
		t.Fatal(err)
	}
	if got := f.admin.state(id); got != "1.0.0 disabled" {
		t.Fatalf("after the kill switch Mattermost has %q", got)
	}
	if sp, _ := f.store.ServerPart(ctx, id); !sp.Disabled || sp.Pin != "1.0.0" {
		t.Fatalf("record after the kill switch: %+v", sp)
	}
	if err := f.m.Set(ctx, admin, "admin", id, "", false); err != nil {
		t.Fatal(err)
	}
	if got := f.admin.state(id); got != "3.0.0 disabled" {
		t.Fatalf("following the latest, disabled: Mattermost has %q", got)
	}
	if info := f.mustPush("4.0.0"); info.State != "installed" || info.Enabled || !strings.Contains(info.Message, "kill switch") {
		t.Fatalf("a push while killed: %+v, want installed disabled", info)
	}
	if got := f.admin.state(id); got != "4.0.0 disabled" {
		t.Fatalf("Mattermost has %q", got)
	}

	// Enable again.
	if err := f.m.Set(ctx, admin, "admin", id, "", true); err != nil {
		t.Fatal(err)
	}
	if got := f.admin.state(id); got != "4.0.0 enabled" {
		t.Fatalf("after enable Mattermost has %q", got)
	}

	// The kill switch failing on Mattermost keeps the record as it was.
	f.admin.fail["disable"] = serverpart.ErrUnavailable
	if err := f.m.Disable(ctx, admin, "admin", id); kindOf(err) != serverpart.DisableFailed {
		t.Fatalf("err = %v, want DisableFailed", err)
	}
	if sp, _ := f.store.ServerPart(ctx, id); sp.Disabled {
		t.Fatal("the record says disabled though Mattermost was not told")
	}

	// Refusals.
	if err := f.m.Set(ctx, admin, "admin", id, "9.9.9", true); kindOf(err) != serverpart.NoSuchVersion {
		t.Fatalf("a pin without a server part: %v", err)
	}
	if err := f.m.Set(ctx, serverpart.Caller{Token: "dev"}, "dev", id, "", true); kindOf(err) != serverpart.AdminRequired {
		t.Fatalf("a change without an admin token: %v", err)
	}
	other, ob := registrytest.Version("com.example.webonly", "1.0.0")
	if _, err := f.store.PutVersion(ctx, other, ob, registry.Pusher{UserID: "dev"}); err != nil {
		t.Fatal(err)
	}
	if err := f.m.Set(ctx, admin, "admin", "com.example.webonly", "", true); kindOf(err) != serverpart.NotFound {
		t.Fatalf("a plugin without a server part: %v", err)
	}
	if err := f.m.Disable(ctx, admin, "admin", "com.example.webonly"); err != nil {
		t.Fatalf("the kill switch on a plugin without a server part: %v", err)
	}
}

func TestSetRestoresWhenTheRecordFails(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, true, "")
	f.mustPush("1.0.0")
	f.mustPush("2.0.0")
	// SetServerPart refuses an empty actor: Mattermost must be put back.
	if err := f.m.Set(ctx, admin, "", id, "1.0.0", true); err == nil {
		t.Fatal("Set with no actor succeeded")
	}
	if got := f.admin.state(id); got != "2.0.0 enabled" {
		t.Fatalf("Mattermost has %q, want 2.0.0 enabled as it was", got)
	}
}

func TestStatus(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, true, "")
	if v, err := f.m.Status(ctx, admin, id); v != nil || !errors.Is(err, registry.ErrPluginNotFound) {
		t.Fatalf("unknown plugin: %+v, %v", v, err)
	}
	f.mustPush("1.0.0")
	f.mustPush("2.0.0")
	v, err := f.m.Status(ctx, admin, id)
	if err != nil || v.State != "running" || v.Version != "2.0.0" || v.Follows != "2.0.0" || strings.Join(v.Versions, ",") != "2.0.0,1.0.0" || !v.Mattermost {
		t.Fatalf("view %+v, %v", v, err)
	}
	// Cached: a second look does not ask Mattermost again...
	n := f.admin.count("plugins")
	f.m.Status(ctx, admin, id)
	if f.admin.count("plugins") != n {
		t.Fatal("Status asked Mattermost again within the TTL")
	}
	// ...until a change (here another replica's, through the feed).
	f.admin.plugins[id].active = false
	f.feed.Publish(ctx, changes.ServerPartChanged{})
	if v, _ := f.m.Status(ctx, admin, id); v.State != "disabled" {
		t.Fatalf("after ServerPartChanged the view is %+v, want disabled", v)
	}
	f.admin.plugins[id].active = true
	f.admin.failed = "2.0.0"
	f.m.Forget()
	if v, _ := f.m.Status(ctx, admin, id); v.State != "failed" || v.Error != "boom" {
		t.Fatalf("a failed plugin: %+v", v)
	}
	f.admin.failed = ""
	if v, _ := f.m.Status(ctx, serverpart.Caller{Token: "dev"}, id); v.State != "unknown" {
		t.Fatalf("without an admin token: %+v, want unknown", v)
	}
	f.m.Forget()
	f.admin.fail["plugins"] = serverpart.ErrUnavailable
	if v, _ := f.m.Status(ctx, admin, id); v.State != "unknown" || v.Error == "" {
		t.Fatalf("Mattermost unreachable: %+v", v)
	}

	sandbox := newFixture(t, false, "")
	sandbox.push(serverpart.Caller{}, "1.0.0")
	if v, _ := sandbox.m.Status(ctx, admin, id); v.State != "not_installed" || v.Mattermost || v.Error != "no Mattermost" {
		t.Fatalf("sandbox: %+v", v)
	}
}

// TestOnePluginAtATime: the changes of one plugin never overlap on
// Mattermost, so each one's "what Mattermost had" holds when it puts it
// back.
func TestOnePluginAtATime(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, true, "")
	f.mustPush("1.0.0")
	f.mustPush("2.0.0")
	before := len(f.admin.calls)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pin := []string{"1.0.0", "2.0.0"}[i%2]
			if err := f.m.Set(ctx, admin, "admin", id, pin, true); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if f.admin.overlap.Load() {
		t.Fatal("two changes of one plugin talked to Mattermost at once")
	}
	// Each change is its own run of calls: read, upload, enable, check.
	calls := f.admin.calls[before:]
	want := []string{"plugins", "upload", "enable", "statuses"}
	for i := 0; i < len(calls); i += len(want) {
		if i+len(want) > len(calls) || !slices.Equal(calls[i:i+len(want)], want) {
			t.Fatalf("changes interleaved on Mattermost: %v", calls)
		}
	}
}

// TestArchive: the archive Mattermost gets has the server files executable
// and plugin.json without the webapp, and is the same bytes every time.
func TestArchive(t *testing.T) {
	pkg := &pluginpkg.Package{
		Manifest:    pluginpkg.Manifest{ID: id, Version: "1.0.0", IconPath: "assets/icon.svg"},
		RawManifest: []byte(`{"id":"` + id + `","version":"1.0.0","webapp":{"bundle_path":"webapp/dist/main.js"},"server":{"executable":"server/dist/plugin"}}`),
		Server:      map[string][]byte{"server/dist/plugin-linux-amd64": []byte("ELF")},
		Files:       map[string][]byte{"assets/icon.svg": []byte("<svg/>"), "webapp/dist/main.js": []byte("x")},
	}
	a, err := serverpart.Archive(pkg)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := serverpart.Archive(pkg); !bytes.Equal(a, b) {
		t.Fatal("two archives of one package differ")
	}
	zr, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	got := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		got[h.Name] = fmt.Sprintf("%o %s", h.Mode, data)
	}
	if got[id+"/server/dist/plugin-linux-amd64"] != "755 ELF" || got[id+"/assets/icon.svg"] != "644 <svg/>" {
		t.Fatalf("entries %v", got)
	}
	if _, ok := got[id+"/webapp/dist/main.js"]; ok {
		t.Fatal("the webapp is in the archive")
	}
	if pj := got[id+"/plugin.json"]; strings.Contains(pj, "webapp") || !strings.Contains(pj, "server") {
		t.Fatalf("plugin.json %s", pj)
	}
}

// TestFollowLatestIsWhatAPushFollows: a system admin's "follow the
// latest" runs the version a push would (the highest release with a server
// part), not a newer prerelease; the view says which. With only
// prereleases there is nothing to follow: NoSuchVersion, pin one.
func TestFollowLatestIsWhatAPushFollows(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, true, "")
	f.mustPush("1.0.0")
	f.mustPush("1.1.0-beta.1")
	if err := f.m.Set(ctx, admin, "admin", id, "1.1.0-beta.1", true); err != nil {
		t.Fatal(err)
	}
	if err := f.m.Set(ctx, admin, "admin", id, "", true); err != nil {
		t.Fatal(err)
	}
	if got := f.admin.state(id); got != "1.0.0 enabled" {
		t.Fatalf("following the latest, Mattermost runs %q, want the release 1.0.0", got)
	}
	if v, err := f.m.Status(ctx, admin, id); err != nil || v.Follows != "1.0.0" {
		t.Fatalf("view %+v (%v): follows, want 1.0.0", v, err)
	}

	g := newFixture(t, true, "")
	g.mustPush("2.0.0-rc.1")
	if err := g.m.Set(ctx, admin, "admin", id, "", true); kindOf(err) != serverpart.NoSuchVersion {
		t.Fatalf("follow the latest with only a prerelease: %v, want NoSuchVersion", err)
	}
	if got := g.admin.state(id); got != "" && got != "not installed" {
		t.Fatalf("Mattermost got %q", got)
	}
	if v, err := g.m.Status(ctx, admin, id); err != nil || v.Follows != "" {
		t.Fatalf("view %+v (%v): follows, want none", v, err)
	}
}
