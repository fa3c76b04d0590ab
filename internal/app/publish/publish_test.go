package publish_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/publish"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// fakeBuilder compiles an entry to its source's bytes, counting builds.
// While gate is set, every build waits for it, and inflight says how many
// wait.
type fakeBuilder struct {
	mu       sync.Mutex
	builds   int
	deferred int
	inflight int
	peak     int
	entered  chan struct{} // gets a value as each build starts, when set
	gate     chan struct{} // closed to let builds end, when set
}

func (b *fakeBuilder) build(pkg *pluginpkg.Package, t bundler.Target, withMap bool) (*bundler.Result, error) {
	b.mu.Lock()
	b.builds++
	b.inflight++
	b.peak = max(b.peak, b.inflight)
	gate, entered := b.gate, b.entered
	b.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if gate != nil {
		<-gate
	}
	b.mu.Lock()
	b.inflight--
	b.mu.Unlock()
	entry := pkg.Manifest.Webapp.Entry
	if t == bundler.Mobile {
		entry = pkg.Manifest.Mobile.Entry
	}
	src, ok := pkg.Files[entry]
	if !ok {
		return nil, &bundler.CompileError{Target: t, Diagnostics: []bundler.Diagnostic{{Text: "no entry " + entry}}}
	}
	key := publish.Sum(src)
	res := &bundler.Result{Target: t, JS: append([]byte("/*"+t.String()+"*/"), src...), SourceMapKey: key}
	if withMap {
		res.SourceMap = []byte(`{"version":3,"sources":["` + key + `"]}`)
	}
	return res, nil
}

func (b *fakeBuilder) Build(pkg *pluginpkg.Package, t bundler.Target) (*bundler.Result, error) {
	return b.build(pkg, t, true)
}

func (b *fakeBuilder) BuildDeferred(pkg *pluginpkg.Package, t bundler.Target) (*bundler.Result, error) {
	b.mu.Lock()
	b.deferred++
	b.mu.Unlock()
	return b.build(pkg, t, false)
}

func (b *fakeBuilder) count() (builds, peak int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.builds, b.peak
}

// pkg is a plugin with a web entry whose source is src.
func pkg(id, version, src string) *pluginpkg.Package {
	m := pluginpkg.Manifest{ID: id, Name: id, Version: version, Webapp: &pluginpkg.Webapp{Entry: "src/index.js"}}
	raw, _ := json.Marshal(m)
	return &pluginpkg.Package{Manifest: m, RawManifest: raw,
		Files: map[string][]byte{"plugin.json": raw, "src/index.js": []byte(src)}}
}

// recorder keeps the changes a feed delivered.
type recorder struct {
	mu  sync.Mutex
	got []changes.Change
}

func (r *recorder) all() []changes.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]changes.Change(nil), r.got...)
}

type env struct {
	store   *registry.Bolt
	builder *fakeBuilder
	changes *recorder
	pub     *publish.Publisher
}

func newEnv(t *testing.T, cfg publish.Config) *env {
	t.Helper()
	e := &env{store: registrytest.Open(t), builder: &fakeBuilder{}, changes: &recorder{}}
	cfg.Store, cfg.Builder, cfg.Cold = e.store, e.builder, e.builder.Build
	if cfg.Feed == nil {
		cfg.Feed = new(changes.Feed)
	}
	cfg.Feed.Subscribe("recorder", func(_ context.Context, c changes.Change) {
		e.changes.mu.Lock()
		e.changes.got = append(e.changes.got, c)
		e.changes.mu.Unlock()
	})
	e.pub = publish.New(cfg)
	return e
}

var (
	dev   = registry.Pusher{UserID: "dev"}
	other = registry.Pusher{UserID: "other"}
	admin = registry.Pusher{UserID: "admin", SystemAdmin: true}
	none  = publish.Certification{Level: registry.Unverified}
)

func mustPublish(t *testing.T, e *env, p *pluginpkg.Package, by registry.Pusher, cert publish.Certification) registry.PutResult {
	t.Helper()
	res, err := e.pub.Publish(context.Background(), p, by, cert)
	if err != nil {
		t.Fatalf("publish %s %s: %v", p.Manifest.ID, p.Manifest.Version, err)
	}
	return res
}

// TestPublishChecks: the checks before any compile, each with what it
// answers, what it compiles and what it tells the feed.
func TestPublishChecks(t *testing.T) {
	certified := publish.Certification{Level: registry.Certified, Signer: "fp"}
	for _, tc := range []struct {
		name    string
		firstAt publish.Certification
		first   *pluginpkg.Package
		by      registry.Pusher
		cert    publish.Certification
		second  *pluginpkg.Package
		want    error
		created bool
		raised  bool
		builds  int // compiles of the second publish
	}{
		{name: "identical re-push", first: pkg("a", "1.0.0", "x"), by: dev, cert: none, second: pkg("a", "1.0.0", "x")},
		{name: "identical re-push at a lower level", firstAt: certified, first: pkg("a", "1.0.0", "x"), by: dev, cert: none, second: pkg("a", "1.0.0", "x")},
		{name: "conflict", first: pkg("a", "1.0.0", "x"), by: dev, cert: none, second: pkg("a", "1.0.0", "y"), want: registry.ErrVersionConflict},
		{name: "not the owner", first: pkg("a", "1.0.0", "x"), by: other, cert: none, second: pkg("a", "1.0.1", "y"), want: registry.ErrNotOwner},
		{name: "a system admin pushes any plugin", first: pkg("a", "1.0.0", "x"), by: admin, cert: none, second: pkg("a", "1.0.1", "y"), created: true, builds: 1},
		{name: "a new version", first: pkg("a", "1.0.0", "x"), by: dev, cert: none, second: pkg("a", "1.0.1", "y"), created: true, builds: 1},
		{name: "certification raised", first: pkg("a", "1.0.0", "x"), by: dev, cert: certified, second: pkg("a", "1.0.0", "x"), raised: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, publish.Config{})
			first := mustPublish(t, e, tc.first, dev, tc.firstAt)
			before, _ := e.builder.count()
			nChanges := len(e.changes.all())
			res, err := e.pub.Publish(context.Background(), tc.second, tc.by, tc.cert)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if after, _ := e.builder.count(); after-before != tc.builds {
				t.Errorf("%d compiles, want %d", after-before, tc.builds)
			}
			if res.Created != tc.created || res.Certified != tc.raised {
				t.Errorf("created %v certified %v, want %v %v", res.Created, res.Certified, tc.created, tc.raised)
			}
			got := e.changes.all()[nChanges:]
			switch {
			case tc.created:
				if len(got) != 1 {
					t.Fatalf("changes %#v, want one VersionStored", got)
				}
				if c, ok := got[0].(changes.VersionStored); !ok || c.Version.Version != tc.second.Manifest.Version {
					t.Errorf("change %#v, want VersionStored of %s", got[0], tc.second.Manifest.Version)
				}
			case tc.raised:
				if len(got) != 1 {
					t.Fatalf("changes %#v, want one VersionCertified", got)
				}
				c, ok := got[0].(changes.VersionCertified)
				if !ok || c.Version.Certification != registry.Certified || c.Version.SignerKey != "fp" {
					t.Errorf("change %#v, want VersionCertified at certified by fp", got[0])
				}
				if res.Version.Artifacts[registry.WebJS].SHA256 != first.Version.Artifacts[registry.WebJS].SHA256 {
					t.Errorf("a raise changed the artifacts: %v, was %v", res.Version.Artifacts, first.Version.Artifacts)
				}
			default:
				if len(got) != 0 {
					t.Errorf("changes %#v, want none", got)
				}
			}
			if tc.want == nil && !tc.created && !tc.raised && res.Version.PackageSHA256 != first.Version.PackageSHA256 {
				t.Errorf("an unchanged push answered %+v, want the stored version", res.Version)
			}
		})
	}
}

// TestOneChangePerStoredVersion: each version stored is told once, with
// the bytes of its blobs; nothing else is.
func TestOneChangePerStoredVersion(t *testing.T) {
	e := newEnv(t, publish.Config{})
	mustPublish(t, e, pkg("a", "1.0.0", "one"), dev, none)
	mustPublish(t, e, pkg("a", "1.0.0", "one"), dev, none)
	mustPublish(t, e, pkg("a", "1.0.1", "two"), dev, none)
	if _, err := e.pub.Publish(context.Background(), pkg("a", "1.0.1", "three"), dev, none); !errors.Is(err, registry.ErrVersionConflict) {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, c := range e.changes.all() {
		vs, ok := c.(changes.VersionStored)
		if !ok {
			t.Fatalf("change %#v, want VersionStored only", c)
		}
		seen[vs.Version.Version]++
		if vs.Remote() {
			t.Errorf("a local store told as remote: %#v", vs)
		}
		for kind, a := range vs.Version.Artifacts {
			if b, ok := vs.Blobs[a.SHA256]; !ok || publish.Sum(b) != a.SHA256 {
				t.Errorf("%s %s: blob %s missing or wrong in the change", vs.Version.Version, kind, a.SHA256)
			}
		}
	}
	if len(seen) != 2 || seen["1.0.0"] != 1 || seen["1.0.1"] != 1 {
		t.Fatalf("changes per version %v, want one each of 1.0.0 and 1.0.1", seen)
	}
}

// TestQuota: a version over its owner's quota stores nothing and tells
// nobody; the binary's own plugins are exempt.
func TestQuota(t *testing.T) {
	e := newEnv(t, publish.Config{Quota: publish.NewQuota(200)})
	first := mustPublish(t, e, pkg("a", "1.0.0", "small"), dev, none)
	used := publish.StoredBytes(first.Version)
	big := string(make([]byte, 200))
	_, err := e.pub.Publish(context.Background(), pkg("a", "1.0.1", big), dev, none)
	var qe *publish.QuotaError
	if !errors.As(err, &qe) {
		t.Fatalf("err %v, want a *QuotaError", err)
	}
	if qe.Limit != 200 || qe.Used != used || qe.Size <= 200 {
		t.Errorf("quota error %+v, want limit 200, used %d, size over 200", qe, used)
	}
	if _, err := e.store.Version(context.Background(), "a", "1.0.1"); !errors.Is(err, registry.ErrVersionNotFound) {
		t.Errorf("a version over quota was stored: %v", err)
	}
	if n := len(e.changes.all()); n != 1 {
		t.Errorf("%d changes, want the first version's only", n)
	}
	// Another owner has their own room; the binary's plugins have no limit.
	mustPublish(t, e, pkg("b", "1.0.0", "small"), other, none)
	if res := mustPublish(t, e, pkg("c", "1.0.0", big), registry.Pusher{UserID: "mmtoolkit", SystemAdmin: true}, publish.Builtin); !res.Created {
		t.Error("a built-in plugin over the quota was not stored")
	}
}

// TestQuotaForgets: what the quota counted is counted again from the
// store after a prune or another replica's push.
func TestQuotaForgets(t *testing.T) {
	feed := new(changes.Feed)
	q := publish.NewQuota(1 << 20)
	q.Subscribe(feed)
	e := newEnv(t, publish.Config{Feed: feed, Quota: q})
	mustPublish(t, e, pkg("a", "1.0.0", "one"), dev, none)
	// Another replica stores a large version of the owner's.
	v, blobs := registrytest.Version("a", "2.0.0", make([]byte, 1<<20))
	if _, err := e.store.PutVersion(context.Background(), v, blobs, dev); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pub.Publish(context.Background(), pkg("a", "1.0.1", "two"), dev, none); err != nil {
		t.Fatalf("before the remote change was told, the quota still counted the old usage: %v", err)
	}
	feed.Publish(context.Background(), changes.VersionStored{Version: v, AsOf: 7})
	var qe *publish.QuotaError
	if _, err := e.pub.Publish(context.Background(), pkg("a", "1.0.2", "three"), dev, none); !errors.As(err, &qe) {
		t.Fatalf("after another replica's push: %v, want the quota counted again and exceeded", err)
	}
}

// TestCompileSlotsBoundConcurrency: no more compiles run than slots; a
// publish waiting for a slot gives up with its context and compiles
// nothing.
func TestCompileSlotsBoundConcurrency(t *testing.T) {
	e := newEnv(t, publish.Config{Compiles: publish.NewCompiles(2, nil, 0)})
	gate, entered := make(chan struct{}), make(chan struct{}, 16)
	e.builder.gate, e.builder.entered = gate, entered
	errs := make(chan error, 6)
	for i := range 6 {
		go func() {
			_, err := e.pub.Publish(context.Background(), pkg(fmt.Sprintf("p%d", i), "1.0.0", fmt.Sprint(i)), dev, none)
			errs <- err
		}()
	}
	<-entered
	<-entered
	// Both slots taken: a publish that will not wait compiles nothing.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	late := make(chan error, 1)
	go func() {
		_, err := e.pub.Publish(ctx, pkg("late", "1.0.0", "late"), dev, none)
		late <- err
	}()
	select {
	case err := <-late:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("publish with every slot taken: %v, want it to wait and give up", err)
		}
	case <-entered:
		close(gate)
		t.Fatal("a third compile started with both slots taken")
	}
	if got := e.pub.Compiles().Running(); got != 2 {
		t.Errorf("%d slots taken, want 2", got)
	}
	close(gate)
	for range 6 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if builds, peak := e.builder.count(); builds != 6 || peak > 2 {
		t.Fatalf("%d builds, at most %d at once; want 6, at most 2", builds, peak)
	}
	if _, err := e.store.Plugin(context.Background(), "late"); !errors.Is(err, registry.ErrPluginNotFound) {
		t.Errorf("the publish that gave up stored something: %v", err)
	}
}

// TestCompileErrorStoresNothing: a compile error is the bundler's, with
// its diagnostics, and nothing is stored or told.
func TestCompileErrorStoresNothing(t *testing.T) {
	e := newEnv(t, publish.Config{})
	p := pkg("a", "1.0.0", "x")
	delete(p.Files, "src/index.js")
	_, err := e.pub.Publish(context.Background(), p, dev, none)
	var ce *bundler.CompileError
	if !errors.As(err, &ce) || len(ce.Diagnostics) != 1 {
		t.Fatalf("err %v, want the compile error", err)
	}
	if n := len(e.changes.all()); n != 0 {
		t.Errorf("%d changes after a failed compile", n)
	}
	if got := e.pub.Compiles().Running(); got != 0 {
		t.Errorf("a failed compile kept its slot (%d taken)", got)
	}
}

// TestNoOpSave: a developer's prerelease serving exactly what their last
// one does stores nothing and answers that one.
func TestNoOpSave(t *testing.T) {
	e := newEnv(t, publish.Config{})
	first := mustPublish(t, e, pkg("a", "1.0.0-dev.1", "same"), dev, none)
	res := mustPublish(t, e, pkg("a", "1.0.0-dev.2", "same"), dev, none)
	if res.Created || res.Version.Version != first.Version.Version {
		t.Fatalf("an unchanged save: created %v, version %s; want the last build, %s", res.Created, res.Version.Version, first.Version.Version)
	}
	if res := mustPublish(t, e, pkg("a", "1.0.0-dev.3", "edited"), dev, none); !res.Created {
		t.Fatal("an edited save was not stored")
	}
	if res := mustPublish(t, e, pkg("a", "1.0.0", "edited"), dev, none); !res.Created {
		t.Fatal("a release was taken for a no-op save")
	}
	if n := len(e.changes.all()); n != 3 {
		t.Errorf("%d changes, want 3 (the no-op save tells nothing)", n)
	}
}

// fakeMaps records the maps left for later.
type fakeMaps struct {
	room  bool
	feed  *recorder
	added []string // bundle SHAs
	order []int    // changes told before each Add
}

func (m *fakeMaps) Room() bool { return m.room }
func (m *fakeMaps) Add(_ *pluginpkg.Package, res *bundler.Result, bundle, id, version string) {
	if res.SourceMap != nil || publish.Sum(res.JS) != bundle {
		panic("Add of a bundle that has its map, or under another SHA")
	}
	m.added = append(m.added, bundle)
	m.order = append(m.order, len(m.feed.all()))
}

// TestDeferredMaps: with room, a push builds its bundle alone, stores no
// map, and hands the build to Maps after the version's change is told;
// without room, the map comes with the bundle.
func TestDeferredMaps(t *testing.T) {
	maps := &fakeMaps{room: true}
	e := newEnv(t, publish.Config{})
	maps.feed = e.changes
	e.pub = publish.New(publish.Config{Store: e.store, Builder: e.builder, Maps: maps, Feed: feedOf(e)})
	res := mustPublish(t, e, pkg("a", "1.0.0", "x"), dev, none)
	if _, ok := res.Version.Artifacts[registry.WebMap]; ok {
		t.Error("a deferred map was stored with its bundle")
	}
	if len(maps.added) != 1 || maps.added[0] != res.Version.Artifacts[registry.WebJS].SHA256 || maps.order[0] != 1 {
		t.Errorf("maps added %v after %v changes, want the bundle's after its change", maps.added, maps.order)
	}
	maps.room = false
	res = mustPublish(t, e, pkg("a", "1.0.1", "y"), dev, none)
	if _, ok := res.Version.Artifacts[registry.WebMap]; !ok || len(maps.added) != 1 {
		t.Errorf("without room: artifacts %v, maps added %v; want the map stored with the bundle", res.Version.Artifacts, maps.added)
	}
	// The binary's plugins compile cold, maps included.
	res = mustPublish(t, e, pkg("b", "1.0.0", "z"), admin, publish.Builtin)
	if _, ok := res.Version.Artifacts[registry.WebMap]; !ok {
		t.Error("a built-in plugin's map was left for later")
	}
}

// feedOf is a feed delivering to e's recorder.
func feedOf(e *env) *changes.Feed {
	f := new(changes.Feed)
	f.Subscribe("recorder", func(_ context.Context, c changes.Change) {
		e.changes.mu.Lock()
		e.changes.got = append(e.changes.got, c)
		e.changes.mu.Unlock()
	})
	return f
}

// TestCertify: a package's level comes from its signature and the keys
// the operator trusts.
func TestCertify(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	stranger, strangerPriv, _ := ed25519.GenerateKey(nil)
	_ = stranger
	idx, err := publish.NewTrustIndex([]publish.TrustedKey{{Key: pub, Level: registry.Certified, Source: "ci.pub"}})
	if err != nil {
		t.Fatal(err)
	}
	p := pkg("a", "1.0.0", "x")
	sign := func(k ed25519.PrivateKey, sha string) []byte {
		s, err := pluginpkg.SignDigest(k, sha)
		if err != nil {
			t.Fatal(err)
		}
		return s.Marshal()
	}
	other := pkg("a", "1.0.0", "y")
	inPackage := *p
	inPackage.Signature = sign(priv, p.SHA256())
	for _, tc := range []struct {
		name     string
		pkg      *pluginpkg.Package
		detached []byte
		want     registry.Certification
		check    func(error) bool
	}{
		{name: "unsigned", pkg: p, want: registry.Unverified},
		{name: "trusted detached", pkg: p, detached: sign(priv, p.SHA256()), want: registry.Certified},
		{name: "trusted in the package", pkg: &inPackage, want: registry.Certified},
		{name: "the same twice", pkg: &inPackage, detached: sign(priv, p.SHA256()), want: registry.Certified},
		{name: "untrusted key", pkg: p, detached: sign(strangerPriv, p.SHA256()), check: func(err error) bool {
			var u *publish.UntrustedKeyError
			return errors.As(err, &u) && u.Key == pluginpkg.KeyFingerprint(stranger)
		}},
		{name: "two different", pkg: &inPackage, detached: sign(priv, other.SHA256()), check: func(err error) bool {
			return errors.Is(err, publish.ErrSignatureConflict)
		}},
		{name: "another package's", pkg: p, detached: sign(priv, other.SHA256()), check: func(err error) bool {
			var pe *pluginpkg.Error
			return errors.As(err, &pe)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := idx.Certify(tc.pkg, tc.detached)
			if tc.check != nil {
				if !tc.check(err) {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil || c.Level != tc.want {
				t.Fatalf("level %s, err %v; want %s", c.Level, err, tc.want)
			}
			if tc.want != registry.Unverified && c.Signer != pluginpkg.KeyFingerprint(pub) {
				t.Errorf("signer %q", c.Signer)
			}
		})
	}
}

// TestTrustIndexRefuses: keys that grant nothing or two levels.
func TestTrustIndexRefuses(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	for name, keys := range map[string][]publish.TrustedKey{
		"not ed25519":   {{Key: pub[:10], Level: registry.Certified}},
		"unverified":    {{Key: pub, Level: registry.Unverified}},
		"two levels":    {{Key: pub, Level: registry.Certified}, {Key: pub, Level: registry.Official}},
		"no such level": {{Key: pub, Level: registry.Certification(99)}},
	} {
		if _, err := publish.NewTrustIndex(keys); err == nil {
			t.Errorf("%s: trusted", name)
		}
	}
}
