package previews

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

const plugin = "com.example.preview"

// fakeClock is a Clock a test moves with Advance: timers due run in
// Advance's goroutine, so a test of expiry needs no sleep.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// Advance moves the clock by d and runs the timers due, in order.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.stopped && !t.at.After(c.now) {
			t.stopped = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// announcement is one call of Config.Changed.
type announcement struct {
	user, plugin string
	teams        []string
}

type announcements struct {
	mu  sync.Mutex
	got []announcement
}

func (a *announcements) changed(_ context.Context, user, pluginID string, teams []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, announcement{user, pluginID, teams})
}

// take returns the announcements so far and forgets them.
func (a *announcements) take() []announcement {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.got
	a.got = nil
	return out
}

// changeLog records what is written to it, or fails with err.
type changeLog struct {
	mu   sync.Mutex
	rows []json.RawMessage
	err  error
}

func (l *changeLog) PublishEvent(_ context.Context, kind string, payload json.RawMessage) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if kind != ChangeKind {
		return fmt.Errorf("kind %q, want %q", kind, ChangeKind)
	}
	l.rows = append(l.rows, payload)
	return nil
}

func (l *changeLog) take() []json.RawMessage {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.rows
	l.rows = nil
	return out
}

// env is a store where dev pushed prereleases 1.0.1-dev.1 and -dev.2 and
// the release 1.0.0 of plugin, and bob a prerelease of it; dev is in
// teams "following" (enabled, follows the latest), "pinned" (enabled,
// pinned to 1.0.0) and "off" (not enabled).
type env struct {
	store *registry.Bolt
	dev   Developer
	clock *fakeClock
	told  *announcements
	log   *changeLog
	p     *Previews
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st := registrytest.Open(t)
	dev := registry.Pusher{UserID: "dev"}
	registrytest.Push(t, st, dev, plugin, "1.0.0", []byte("release"))
	registrytest.Push(t, st, dev, plugin, "1.0.1-dev.1", []byte("dev 1"))
	registrytest.Push(t, st, dev, plugin, "1.0.1-dev.2", []byte("dev 2"))
	registrytest.Push(t, st, registry.Pusher{UserID: "bob", SystemAdmin: true}, plugin, "1.0.1-bob.1", []byte("bob 1"))
	ctx := context.Background()
	for _, ts := range []registry.TeamState{
		{TeamID: "following", PluginID: plugin, Enabled: true, UpdatedBy: "admin"},
		{TeamID: "pinned", PluginID: plugin, Enabled: true, Version: "1.0.0", UpdatedBy: "admin"},
	} {
		if _, err := st.SetTeamState(ctx, ts); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{store: st, dev: Developer{ID: "dev", Username: "dev", Teams: []string{"following", "off", "pinned"}},
		clock: newFakeClock(), told: &announcements{}, log: &changeLog{}}
	e.p = e.replica()
	return e
}

// replica is another Previews over e's store, clock and announcements
// (ChangeLog: e.log).
func (e *env) replica() *Previews {
	return New(Config{Store: e.store, Log: quiet, Changed: e.told.changed, Clock: e.clock, ChangeLog: e.log})
}

// TestTakeRules: only the developer who pushed a prerelease previews it,
// for a TTL of 1 s to MaxTTL (0: DefaultTTL), checked before the store.
func TestTakeRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		version string
		ttl     int
		check   func(error) bool
		wantTTL time.Duration
	}{
		{"1.0.1-dev.1", 0, nil, DefaultTTL},
		{"1.0.1-dev.1", 1, nil, time.Second},
		{"1.0.1-dev.1", 600, nil, MaxTTL},
		{"1.0.1-dev.1", 601, isTTL(601), 0},
		{"1.0.1-dev.1", -1, isTTL(-1), 0},
		// 36028797018963998 s overflows a time.Duration to 30 s: still
		// out of range.
		{"1.0.1-dev.1", 36028797018963998, isTTL(36028797018963998), 0},
		{"9.9.9-nope.1", 601, isTTL(601), 0}, // the TTL is checked first
		{"9.9.9-nope.1", 0, func(err error) bool { return errors.Is(err, registry.ErrVersionNotFound) }, 0},
		{"1.0.0", 0, func(err error) bool {
			var e *NotPrereleaseError
			return errors.As(err, &e) && e.PluginID == plugin && e.Version == "1.0.0"
		}, 0},
		{"1.0.1-bob.1", 0, func(err error) bool {
			var e *NotOwnerError
			return errors.As(err, &e) && e.PluginID == plugin && e.Version == "1.0.1-bob.1"
		}, 0},
	} {
		l, err := e.p.Take(ctx, e.dev, plugin, tc.version, tc.ttl)
		switch {
		case tc.check == nil && err != nil:
			t.Errorf("%s ttl %d: %v", tc.version, tc.ttl, err)
		case tc.check != nil && !tc.check(err):
			t.Errorf("%s ttl %d: err %v", tc.version, tc.ttl, err)
		case tc.check == nil && (l.TTL != tc.wantTTL || !l.ExpiresAt.Equal(e.clock.Now().Add(tc.wantTTL))):
			t.Errorf("%s ttl %d: lease %+v, want TTL %v", tc.version, tc.ttl, l, tc.wantTTL)
		}
	}
	if got := e.p.Of("bob"); got != nil {
		t.Errorf("bob previews %v after refusals", got)
	}
}

func isTTL(seconds int) func(error) bool {
	return func(err error) bool {
		var e *TTLError
		return errors.As(err, &e) && e.Seconds == seconds
	}
}

// TestTakeAnnouncesANewVersion: a lease shows in the developer's teams
// that enabled the plugin and follow its latest version; taking it or
// moving it to another version is announced there, a renewal is silent.
func TestTakeAnnouncesANewVersion(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	want := []announcement{{"dev", plugin, []string{"following"}}}
	for _, step := range []struct {
		version string
		told    []announcement
	}{
		{"1.0.1-dev.1", want},
		{"1.0.1-dev.1", nil}, // renewal
		{"1.0.1-dev.2", want},
	} {
		l, err := e.p.Take(ctx, e.dev, plugin, step.version, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(l.Teams, []string{"following"}) || l.Version != step.version {
			t.Errorf("take %s: lease %+v", step.version, l)
		}
		if got := e.told.take(); !equalAnnouncements(got, step.told) {
			t.Errorf("take %s: told %v, want %v", step.version, got, step.told)
		}
		if got := e.p.Of("dev"); got[plugin] != step.version || len(got) != 1 {
			t.Errorf("take %s: Of = %v", step.version, got)
		}
	}
	if got := e.p.Users(plugin); len(got) != 1 || !got["dev"] {
		t.Errorf("Users = %v, want dev", got)
	}
	if got := e.p.Users("com.example.other"); got != nil {
		t.Errorf("Users of another plugin = %v", got)
	}
}

func equalAnnouncements(a, b []announcement) bool {
	return slices.EqualFunc(a, b, func(x, y announcement) bool {
		return x.user == y.user && x.plugin == y.plugin && slices.Equal(x.teams, y.teams)
	})
}

// TestLeaseExpires: a lease nobody renews ends at its TTL and the end is
// announced in the teams it showed in; one renewed in time holds a TTL
// from the renewal.
func TestLeaseExpires(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.p.Take(ctx, e.dev, plugin, "1.0.1-dev.1", 30); err != nil {
		t.Fatal(err)
	}
	e.told.take()
	e.clock.Advance(20 * time.Second)
	if _, err := e.p.Take(ctx, e.dev, plugin, "1.0.1-dev.1", 30); err != nil { // renewal
		t.Fatal(err)
	}
	e.clock.Advance(20 * time.Second) // 40 s after the take, 20 after the renewal
	if e.p.Of("dev") == nil {
		t.Fatal("the renewed lease ended at the first TTL")
	}
	if got := e.told.take(); got != nil {
		t.Fatalf("told %v before the lease ended", got)
	}
	e.clock.Advance(9 * time.Second)
	if e.p.Of("dev") == nil {
		t.Fatal("the lease ended before its TTL")
	}
	e.clock.Advance(time.Second)
	if got := e.p.Of("dev"); got != nil {
		t.Fatalf("Of = %v after the TTL", got)
	}
	if got, want := e.told.take(), []announcement{{"dev", plugin, []string{"following"}}}; !equalAnnouncements(got, want) {
		t.Errorf("told %v, want %v", got, want)
	}
	if got := e.p.Users(plugin); got != nil {
		t.Errorf("Users = %v after the TTL", got)
	}
}

// TestStaleTimerLeavesARenewedLease: the timer of a lease renewed while
// it was already running finds the new expiry and leaves the lease.
func TestStaleTimerLeavesARenewedLease(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.p.Take(ctx, e.dev, plugin, "1.0.1-dev.1", 30); err != nil {
		t.Fatal(err)
	}
	l := e.p.leases.byUser["dev"][plugin]
	e.clock.Advance(30 * time.Second)
	if e.p.Of("dev") != nil {
		t.Fatal("the lease outlived its TTL")
	}
	if _, err := e.p.Take(ctx, e.dev, plugin, "1.0.1-dev.1", 30); err != nil {
		t.Fatal(err)
	}
	if e.p.leases.expire(l) {
		t.Error("the ended lease's timer removed the new lease")
	}
	renewed := e.p.leases.byUser["dev"][plugin]
	e.clock.Advance(10 * time.Second)
	if _, err := e.p.Take(ctx, e.dev, plugin, "1.0.1-dev.1", 30); err != nil {
		t.Fatal(err)
	}
	if e.p.leases.expire(renewed) {
		t.Error("a stale timer removed a renewed lease")
	}
	if e.p.Of("dev") == nil {
		t.Error("the renewed lease is gone")
	}
}

// TestEnd: ending a lease removes it, announces it and tells the other
// replicas first; ending none is no error and announces nothing.
func TestEnd(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.p.Take(ctx, e.dev, plugin, "1.0.1-dev.2", 0); err != nil {
		t.Fatal(err)
	}
	e.told.take()
	e.log.take()
	for i, want := range [][]announcement{{{"dev", plugin, []string{"following"}}}, nil} {
		if err := e.p.End(ctx, e.dev, plugin); err != nil {
			t.Fatal(err)
		}
		if got := e.told.take(); !equalAnnouncements(got, want) {
			t.Errorf("end %d: told %v, want %v", i, got, want)
		}
		rows := e.log.take()
		if len(rows) != 1 {
			t.Fatalf("end %d: %d rows shared", i, len(rows))
		}
		if c, err := Decode(rows[0]); err != nil || !c.Ended || c.User != "dev" || c.Plugin != plugin {
			t.Errorf("end %d: shared %s (%v)", i, rows[0], err)
		}
		if e.p.Of("dev") != nil {
			t.Errorf("end %d: the lease holds", i)
		}
	}
	// A change log that cannot be written: the end is not done here
	// either, and the caller hears why.
	if _, err := e.p.Take(ctx, e.dev, plugin, "1.0.1-dev.2", 0); err != nil {
		t.Fatal(err)
	}
	e.log.err = registry.ErrUnavailable
	if err := e.p.End(ctx, e.dev, plugin); !errors.Is(err, registry.ErrUnavailable) {
		t.Errorf("End with the change log down: %v", err)
	}
	if _, err := e.p.Take(ctx, e.dev, plugin, "1.0.1-dev.2", 0); !errors.Is(err, registry.ErrUnavailable) {
		t.Errorf("Take with the change log down: %v", err)
	}
}

// TestShareBetweenReplicas: a lease taken, renewed and ended on one
// replica is written to the change log; another replica applying the row
// from its feed holds (and announces) the same lease, which expires there
// on its own when the first replica stops renewing it.
func TestShareBetweenReplicas(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other := e.replica()
	var feed changes.Feed
	other.Subscribe(&feed)
	apply := func() {
		t.Helper()
		for _, raw := range e.log.take() {
			c, err := Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			feed.Publish(ctx, c)
		}
	}
	told := []announcement{{"dev", plugin, []string{"following"}}}

	if _, err := e.p.Take(ctx, e.dev, plugin, "1.0.1-dev.1", 60); err != nil {
		t.Fatal(err)
	}
	e.told.take() // the first replica's
	apply()
	if got := other.Of("dev"); got[plugin] != "1.0.1-dev.1" {
		t.Fatalf("the other replica's Of = %v", got)
	}
	if got := e.told.take(); !equalAnnouncements(got, told) {
		t.Errorf("the other replica told %v, want %v", got, told)
	}
	// A renewal is silent there too; a new version is not.
	if _, err := e.p.Take(ctx, e.dev, plugin, "1.0.1-dev.1", 60); err != nil {
		t.Fatal(err)
	}
	apply()
	if got := e.told.take(); got != nil {
		t.Errorf("a renewal told %v", got)
	}
	if _, err := e.p.Take(ctx, e.dev, plugin, "1.0.1-dev.2", 60); err != nil {
		t.Fatal(err)
	}
	e.told.take()
	apply()
	if got := e.told.take(); !equalAnnouncements(got, told) || other.Of("dev")[plugin] != "1.0.1-dev.2" {
		t.Errorf("moved: told %v, Of %v", got, other.Of("dev"))
	}
	// Ended there: ended here.
	if err := e.p.End(ctx, e.dev, plugin); err != nil {
		t.Fatal(err)
	}
	e.told.take()
	apply()
	if got := other.Of("dev"); got != nil {
		t.Errorf("after the end, the other replica's Of = %v", got)
	}
	if got := e.told.take(); !equalAnnouncements(got, told) {
		t.Errorf("the end told %v, want %v", got, told)
	}
	// The first replica stops (its leases are gone with it): the shared
	// lease ends on the other at its TTL.
	if _, err := e.p.Take(ctx, e.dev, plugin, "1.0.1-dev.1", 60); err != nil {
		t.Fatal(err)
	}
	apply()
	e.p.Close()
	e.told.take()
	e.clock.Advance(59 * time.Second)
	if other.Of("dev") == nil {
		t.Fatal("the shared lease ended before its TTL")
	}
	e.clock.Advance(time.Second)
	if got := other.Of("dev"); got != nil {
		t.Errorf("the shared lease outlived its TTL: %v", got)
	}
	if got := e.told.take(); !equalAnnouncements(got, told) {
		t.Errorf("the expiry told %v, want %v", got, told)
	}
}

// TestDecode: a row's TTL missing or past MaxTTL is DefaultTTL; a row
// that is not JSON is an error.
func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want Change
	}{
		{`{"user_id":"dev","plugin_id":"p","version":"1.0.1-dev.1","teams":["a"],"ttl_ms":5000}`,
			Change{User: "dev", Plugin: "p", Version: "1.0.1-dev.1", Teams: []string{"a"}, TTLMS: 5000}},
		{`{"user_id":"dev","plugin_id":"p","version":"1.0.1-dev.1"}`,
			Change{User: "dev", Plugin: "p", Version: "1.0.1-dev.1", TTLMS: DefaultTTL.Milliseconds()}},
		{`{"user_id":"dev","plugin_id":"p","ttl_ms":600001}`, Change{User: "dev", Plugin: "p", TTLMS: DefaultTTL.Milliseconds()}},
		{`{"user_id":"dev","plugin_id":"p","ttl_ms":600000}`, Change{User: "dev", Plugin: "p", TTLMS: 600000}},
		// 288230376151712744 ms overflows a time.Duration to 1 s: still
		// past MaxTTL.
		{`{"user_id":"dev","plugin_id":"p","ttl_ms":288230376151712744}`, Change{User: "dev", Plugin: "p", TTLMS: DefaultTTL.Milliseconds()}},
		{`{"user_id":"dev","plugin_id":"p","ended":true}`, Change{User: "dev", Plugin: "p", Ended: true, TTLMS: DefaultTTL.Milliseconds()}},
	} {
		got, err := Decode([]byte(tc.raw))
		if err != nil || got.User != tc.want.User || got.Plugin != tc.want.Plugin || got.Version != tc.want.Version ||
			!slices.Equal(got.Teams, tc.want.Teams) || got.TTLMS != tc.want.TTLMS || got.Ended != tc.want.Ended {
			t.Errorf("Decode(%s) = %+v, %v; want %+v", tc.raw, got, err, tc.want)
		}
	}
	if _, err := Decode([]byte(`{"user_id":`)); err == nil {
		t.Error("Decode of a cut row: no error")
	}
	if (Change{}).Kind() != ChangeKind {
		t.Error("Change's kind is not ChangeKind")
	}
}

// TestClosed: after Close a lease cannot be taken, here or from another
// replica, and the leases held expire no more (their timers stopped).
func TestClosed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.p.Take(ctx, e.dev, plugin, "1.0.1-dev.1", 0); err != nil {
		t.Fatal(err)
	}
	e.told.take()
	e.p.Close()
	if _, err := e.p.Take(ctx, e.dev, plugin, "1.0.1-dev.2", 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Take after Close: %v, want ErrClosed", err)
	}
	var feed changes.Feed
	e.p.Subscribe(&feed)
	feed.Publish(ctx, Change{User: "bob", Plugin: plugin, Version: "1.0.1-bob.1", TTLMS: 1000})
	if e.p.Of("bob") != nil {
		t.Error("a shared lease was taken after Close")
	}
	e.clock.Advance(MaxTTL)
	if got := e.told.take(); got != nil {
		t.Errorf("told %v after Close", got)
	}
}

// TestTeams: a preview shows in the teams that enabled the plugin and
// follow its latest version, in the order given.
func TestTeams(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.store.SetTeamState(ctx, registry.TeamState{TeamID: "also", PluginID: plugin, Enabled: true, UpdatedBy: "admin"}); err != nil {
		t.Fatal(err)
	}
	got := e.p.Teams(ctx, []string{"pinned", "following", "off", "also", "unknown"}, plugin)
	if want := []string{"following", "also"}; !slices.Equal(got, want) {
		t.Errorf("Teams = %v, want %v", got, want)
	}
	if got := e.p.Teams(ctx, nil, plugin); got != nil {
		t.Errorf("Teams of no team = %v", got)
	}
}

// FuzzDecode: whatever a change log row holds, Decode fails or gives a
// lease a TTL of at most MaxTTL (a row cannot make a lease outlive it).
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"user_id":"dev","plugin_id":"p","version":"1.0.1-dev.1","teams":["a"],"ttl_ms":5000}`))
	f.Add([]byte(`{"user_id":"dev","plugin_id":"p","ended":true}`))
	f.Add([]byte(`{"ttl_ms":-1}`))
	f.Add([]byte(`{"ttl_ms":9223372036854775807}`))
	f.Add([]byte(`{"ttl_ms":288230376151712744}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := Decode(raw)
		if err != nil {
			return
		}
		if c.TTLMS <= 0 || c.TTLMS > MaxTTL.Milliseconds() {
			t.Errorf("Decode(%q): ttl %d ms", raw, c.TTLMS)
		}
	})
}

// quiet is the tests' logger: the lines a lease logs are not what they
// check.
var quiet = slog.New(slog.DiscardHandler)
