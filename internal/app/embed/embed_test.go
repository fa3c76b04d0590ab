package embed_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/internal/app/embed"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// Ids of the fake Mattermost: two teams, channels in each, and a channel
// of eng that bob cannot read.
var (
	teamEng   = id("teameng")
	teamSales = id("teamsales")
	chTown    = id("chtown")  // eng
	chDev     = id("chdev")   // eng
	chDeals   = id("chdeals") // sales
	chSecret  = id("chsecret")
)

// id pads a name to a 26-character Mattermost id.
func id(name string) string { return name + strings.Repeat("0", 26-len(name)) }

// mattermost is a fake of what embedding asks Mattermost: sessions
// ("s-<user>"), teams by id or name, channels by id and who may read them.
type mattermost struct {
	mu       sync.Mutex
	channels map[string]identity.Channel
	hidden   map[string]bool // channel id -> bob cannot read it
	minted   map[string]bool // open sessions made by Mint, by ref
	gone     map[string]bool // refs ended
	ended    chan string     // refs ended, in order
	// stuck, when set, makes End say it started and then wait for its
	// context (a Mattermost that does not answer).
	stuck chan string
}

func newMattermost() *mattermost {
	return &mattermost{
		channels: map[string]identity.Channel{
			chTown: {ID: chTown, TeamID: teamEng, Name: "town-square"}, chDev: {ID: chDev, TeamID: teamEng, Name: "dev"},
			chDeals: {ID: chDeals, TeamID: teamSales, Name: "deals"}, chSecret: {ID: chSecret, TeamID: teamEng, Name: "secret"},
		},
		hidden: map[string]bool{chSecret: true},
		minted: map[string]bool{},
		gone:   map[string]bool{},
		ended:  make(chan string, 100),
	}
}

func (m *mattermost) Authenticate(_ context.Context, token string) (*identity.Identity, error) {
	user, ok := strings.CutPrefix(token, "s-")
	if !ok {
		return nil, apiv4proxy.ErrInvalidToken
	}
	u := identity.User{ID: id(user), Username: user}
	if user == "admin" {
		u.Roles = "system_user system_admin"
	}
	return &identity.Identity{User: u, Token: token}, nil
}

func (m *mattermost) Team(_ context.Context, _ *identity.Identity, idOrName string) (*identity.Team, error) {
	switch idOrName {
	case teamEng, "eng":
		return &identity.Team{ID: teamEng, Name: "eng"}, nil
	case teamSales, "sales":
		return &identity.Team{ID: teamSales, Name: "sales"}, nil
	}
	return nil, fmt.Errorf("team %q: %w", idOrName, embed.ErrNotVisible)
}

func (m *mattermost) ChannelMembers(_ context.Context, _ *identity.Identity, channelID string) (*identity.Channel, []string, error) {
	ch, ok := m.channels[channelID]
	if !ok {
		return nil, nil, embed.ErrNotVisible
	}
	return &ch, nil, nil
}

// Channel is embed.Channels: bob cannot read the hidden ones.
func (m *mattermost) Channel(_ context.Context, session, id string) (*identity.Channel, error) {
	ch, ok := m.channels[id]
	if !ok || (session == "s-bob" && m.hidden[id]) {
		return nil, embed.ErrNotVisible
	}
	return &ch, nil
}

func (m *mattermost) User(_ context.Context, idOrLogin string) (*identity.User, error) {
	if idOrLogin != "bob" && idOrLogin != id("bob") {
		return nil, embed.ErrUserUnknown
	}
	return &identity.User{ID: id("bob"), Username: "bob"}, nil
}

func (m *mattermost) Mint(_ context.Context, userID string, _ time.Duration) (string, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ref := fmt.Sprintf("ref%d", len(m.minted))
	m.minted[ref] = true
	return "s-bob", ref, nil
}

func (m *mattermost) End(ctx context.Context, _, ref string) error {
	if m.stuck != nil {
		m.stuck <- ref
		<-ctx.Done()
		return ctx.Err()
	}
	m.mu.Lock()
	delete(m.minted, ref)
	m.gone[ref] = true
	m.mu.Unlock()
	m.ended <- ref
	return nil
}

// wasEnded reports whether End ended the session of ref.
func (m *mattermost) wasEnded(ref string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gone[ref]
}

// open is the number of minted sessions not ended.
func (m *mattermost) open() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.minted)
}

// clock is a clock tests move.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	svc   *embed.Service
	store *registry.Bolt
	mm    *mattermost
	clock *clock
	admin *identity.Identity
}

func newFixture(t *testing.T, minter bool) *fixture {
	t.Helper()
	f := &fixture{store: registrytest.Open(t), mm: newMattermost(), clock: &clock{now: time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)}}
	c := embed.Config{Store: f.store, Identity: f.mm, Channels: f.mm, Seed: []byte("seed")}
	if minter {
		c.Minter = f.mm
	}
	f.svc = embed.New(c)
	f.svc.SetClock(f.clock.Now)
	f.admin, _ = f.mm.Authenticate(context.Background(), "s-admin")
	return f
}

func (f *fixture) app(t *testing.T, spec embed.Spec) (registry.EmbedApp, string) {
	t.Helper()
	a, secret, err := f.svc.CreateApp(context.Background(), f.admin, spec)
	if err != nil {
		t.Fatalf("create app %+v: %v", spec, err)
	}
	return a, secret
}

func spec(channels ...string) embed.Spec {
	return embed.Spec{Name: "Intranet", Origins: []string{"https://intra.example"}, Channels: channels}
}

// reason is the Reason of a *Refusal, or 0.
func reason(err error) embed.Reason {
	var r *embed.Refusal
	if errors.As(err, &r) {
		return r.Reason
	}
	return 0
}

func TestCheckSpec(t *testing.T) {
	f := newFixture(t, false)
	for _, tc := range []struct {
		name string
		spec embed.Spec
		want embed.Reason
	}{
		{"no name", embed.Spec{Name: "  ", Origins: []string{"https://a.example"}, Channels: []string{chTown}}, embed.NameInvalid},
		{"long name", embed.Spec{Name: strings.Repeat("n", embed.MaxNameLen+1), Origins: []string{"https://a.example"}, Channels: []string{chTown}}, embed.NameInvalid},
		{"no origin", embed.Spec{Name: "a", Channels: []string{chTown}}, embed.OriginsInvalid},
		{"origin with a path", embed.Spec{Name: "a", Origins: []string{"https://a.example/x"}, Channels: []string{chTown}}, embed.OriginsInvalid},
		{"wildcard origin", embed.Spec{Name: "a", Origins: []string{"https://*.example"}, Channels: []string{chTown}}, embed.OriginsInvalid},
		{"no targets", embed.Spec{Name: "a", Origins: []string{"https://a.example"}}, embed.TargetsInvalid},
		{"too many targets", embed.Spec{Name: "a", Origins: []string{"https://a.example"}, Channels: make([]string, embed.MaxTargets+1)}, embed.TargetsInvalid},
		{"unknown team", embed.Spec{Name: "a", Origins: []string{"https://a.example"}, Teams: []string{"nope"}}, embed.TeamUnknown},
		{"not a channel id", embed.Spec{Name: "a", Origins: []string{"https://a.example"}, Channels: []string{"town-square"}}, embed.ChannelUnknown},
		{"unknown channel", embed.Spec{Name: "a", Origins: []string{"https://a.example"}, Channels: []string{id("nope")}}, embed.ChannelUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.CheckSpec(context.Background(), f.admin, tc.spec)
			if got := reason(err); got != tc.want {
				t.Fatalf("CheckSpec: %v (reason %d), want reason %d", err, got, tc.want)
			}
		})
	}
	// What passes is normalised: origins lowercased without a default
	// port and without repeats, teams by id, channels without repeats.
	a, err := f.svc.CheckSpec(context.Background(), f.admin, embed.Spec{Name: " Intranet ",
		Origins: []string{"HTTPS://Intra.Example:443", "https://intra.example/", "http://127.0.0.2:8066"},
		Teams:   []string{"sales", teamSales}, Channels: []string{chTown, " " + chTown}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "Intranet" || !slices.Equal(a.Origins, []string{"https://intra.example", "http://127.0.0.2:8066"}) ||
		!slices.Equal(a.Teams, []string{teamSales}) || !slices.Equal(a.Channels, []string{chTown}) {
		t.Fatalf("checked spec: %+v", a)
	}
}

func TestTTL(t *testing.T) {
	for _, tc := range []struct {
		seconds int
		want    time.Duration
		ok      bool
	}{
		{0, embed.DefaultTTL, true}, {10, 10 * time.Second, true}, {3600, time.Hour, true},
		{9, 0, false}, {3601, 0, false}, {-1, 0, false},
	} {
		got, err := embed.TTL(tc.seconds)
		if tc.ok != (err == nil) || got != tc.want || (!tc.ok && reason(err) != embed.TTLInvalid) {
			t.Errorf("TTL(%d) = %v, %v; want %v, ok %v", tc.seconds, got, err, tc.want, tc.ok)
		}
	}
}

func TestAuthenticateApp(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	a, secret := f.app(t, spec(chTown))
	if !embed.ValidID(a.ID) || !embed.WellFormed(secret, embed.SecretPrefix) {
		t.Fatalf("app id %q, secret %q: not of Mattermost's id and the secret's form", a.ID, secret)
	}
	if got, err := f.svc.AuthenticateApp(ctx, a.ID, secret); err != nil || got.ID != a.ID {
		t.Fatalf("the app's own secret: %v, %v", got, err)
	}
	for _, tc := range []struct {
		name, id, secret string
		want             error
	}{
		{"unknown id", id("nope"), secret, embed.ErrAppUnknown},
		{"malformed id", "x", secret, embed.ErrAppUnknown},
		{"wrong secret", a.ID, embed.NewSecret(), embed.ErrSecretWrong},
		{"malformed secret", a.ID, "hunter2", embed.ErrSecretWrong},
	} {
		if _, err := f.svc.AuthenticateApp(ctx, tc.id, tc.secret); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// A rotated secret stops at once; the new one works.
	_, rotated, err := f.svc.RotateSecret(ctx, f.admin, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateApp(ctx, a.ID, secret); !errors.Is(err, embed.ErrSecretWrong) {
		t.Fatalf("the old secret after rotation: %v", err)
	}
	if _, err := f.svc.AuthenticateApp(ctx, a.ID, rotated); err != nil {
		t.Fatalf("the new secret: %v", err)
	}
	// Another key (another server's signing key) knows no secret.
	other := embed.New(embed.Config{Store: f.store, Identity: f.mm, Channels: f.mm, Seed: []byte("other seed")})
	if _, err := other.AuthenticateApp(ctx, a.ID, rotated); !errors.Is(err, embed.ErrSecretWrong) {
		t.Fatalf("another key: %v", err)
	}
	if _, _, err := f.svc.RotateSecret(ctx, f.admin, id("nope")); !errors.Is(err, embed.ErrAppNotFound) {
		t.Fatalf("rotate an unknown app: %v", err)
	}
}

func TestIssueRefusals(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	app, _ := f.app(t, spec(chTown, chDeals, chSecret))
	teams, _ := f.app(t, embed.Spec{Name: "Teams", Origins: []string{"https://t.example"}, Teams: []string{"eng"}})
	for _, tc := range []struct {
		name     string
		app      *registry.EmbedApp
		user     string
		channels []string
		ttl      int
		want     embed.Reason
		wantErr  error
	}{
		{name: "ttl", app: &app, user: "bob", channels: []string{chTown}, ttl: 5, want: embed.TTLInvalid},
		{name: "no user", app: &app, user: " ", channels: []string{chTown}, want: embed.UserRequired},
		{name: "unknown user", app: &app, user: "mallory", channels: []string{chTown}, wantErr: embed.ErrUserUnknown},
		{name: "not a channel id", app: &app, user: "bob", channels: []string{"town"}, want: embed.ChannelNotAllowed},
		{name: "a channel the app does not show", app: &app, user: "bob", channels: []string{chDev}, want: embed.ChannelNotAllowed},
		{name: "a channel the user cannot read", app: &app, user: "bob", channels: []string{chSecret}, want: embed.ChannelNotAllowed},
		{name: "two teams", app: &app, user: "bob", channels: []string{chTown, chDeals}, want: embed.ChannelsOneTeam},
		{name: "teams-only app without channels", app: &teams, user: "bob", want: embed.ChannelsRequired},
		{name: "too many channels", app: &teams, user: "bob", channels: make([]string, embed.MaxTargets+1), want: embed.ChannelsRequired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.IssueBackend(ctx, tc.app, tc.user, tc.channels, tc.ttl)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("%v, want %v", err, tc.wantErr)
				}
			} else if got := reason(err); got != tc.want {
				t.Fatalf("%v (reason %d), want reason %d", err, got, tc.want)
			}
		})
	}
	// Every refused issue that had minted a session ended it.
	if n := f.mm.open(); n != 0 {
		t.Fatalf("%d sessions of refused issues still open", n)
	}
	// Without a Minter, the backend flow cannot make sessions.
	none := newFixture(t, false)
	a, _ := none.app(t, spec(chTown))
	if _, err := none.svc.IssueBackend(ctx, &a, "bob", nil, 0); !errors.Is(err, embed.ErrUpstreamTokenUnavailable) {
		t.Fatalf("no minter: %v", err)
	}
	if _, err := none.svc.IssuePopup(ctx, id("nope"), "s-bob", nil, 0); !errors.Is(err, embed.ErrAppNotFound) {
		t.Fatalf("popup for an unknown app: %v", err)
	}
}

func TestTokenLife(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	app, _ := f.app(t, spec(chTown, chDev))
	tok, err := f.svc.IssueBackend(ctx, &app, "bob", []string{chDev, chTown, chDev}, 60)
	if err != nil {
		t.Fatal(err)
	}
	if !embed.WellFormed(tok.Token, embed.TokenPrefix) || tok.TeamID != teamEng || tok.UserID != id("bob") ||
		len(tok.Channels) != 2 || tok.Channels[0].ID != chDev || !tok.ExpiresAt.Equal(f.clock.Now().Add(time.Minute)) {
		t.Fatalf("issued %+v", tok)
	}
	g, err := f.svc.Grant(ctx, tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	if g.Session != "s-bob" || !g.Allows(chTown) || !g.Allows(chDev) || g.Allows(chDeals) {
		t.Fatalf("grant %+v", g)
	}
	// The store alone does not open the session: it is sealed under the
	// token, which the store does not keep.
	if strings.Contains(string(g.Record.Session), "s-bob") || g.Record.ID == tok.Token {
		t.Fatalf("the stored record holds the session or the token: %+v", g.Record)
	}

	// Edited so it no longer shows dev: the token no longer reaches it.
	if _, err := f.svc.UpdateApp(ctx, f.admin, app.ID, spec(chTown)); err != nil {
		t.Fatal(err)
	}
	if g, err := f.svc.Grant(ctx, tok.Token); err != nil || g.Allows(chDev) || !g.Allows(chTown) {
		t.Fatalf("after the edit: %v, %v", g, err)
	}

	for _, bad := range []string{"", "mmte_x", embed.TokenPrefix + strings.Repeat("A", embed.RandomChars), tok.Token[:len(tok.Token)-1] + "!"} {
		if _, err := f.svc.Grant(ctx, bad); !errors.Is(err, embed.ErrTokenInvalid) {
			t.Errorf("Grant(%q): %v", bad, err)
		}
	}

	// Expiry, by the embed clock.
	f.clock.Add(time.Minute)
	if _, err := f.svc.Grant(ctx, tok.Token); !errors.Is(err, embed.ErrTokenExpired) {
		t.Fatalf("after its expiry: %v", err)
	}

	// "Revoke all" revokes the tokens issued so far, not later ones.
	old, err := f.svc.IssueBackend(ctx, &app, "bob", []string{chTown}, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Second)
	if _, err := f.svc.RevokeAll(ctx, f.admin, app.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Second)
	fresh, err := f.svc.IssueBackend(ctx, &app, "bob", []string{chTown}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Grant(ctx, old.Token); !errors.Is(err, embed.ErrTokenRevoked) {
		t.Fatalf("a token issued before revoke all: %v", err)
	}
	g, err = f.svc.Grant(ctx, fresh.Token)
	if err != nil {
		t.Fatalf("a token issued after revoke all: %v", err)
	}

	// Another app's backend cannot revoke the token; its own can, and
	// the session minted for it ends.
	other, _ := f.app(t, spec(chTown))
	if err := f.svc.RevokeToken(ctx, fresh.Token, other.ID, "app:"+other.ID); !errors.Is(err, embed.ErrTokenInvalid) {
		t.Fatalf("another app revokes: %v", err)
	}
	if err := f.svc.RevokeToken(ctx, "mmte_x", "", "admin"); !errors.Is(err, embed.ErrTokenInvalid) {
		t.Fatalf("revoke a malformed token: %v", err)
	}
	if err := f.svc.Revoke(ctx, g, "embed:bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Grant(ctx, fresh.Token); !errors.Is(err, embed.ErrTokenRevoked) {
		t.Fatalf("after sign-out: %v", err)
	}
	if !f.mm.wasEnded(g.Record.SessionRef) {
		t.Fatalf("the revoked token's session %s did not end", g.Record.SessionRef)
	}

	// A deleted app's tokens are revoked, and their sessions end.
	last, err := f.svc.IssueBackend(ctx, &app, "bob", []string{chTown}, 0)
	if err != nil {
		t.Fatal(err)
	}
	lg, err := f.svc.Grant(ctx, last.Token)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteApp(ctx, f.admin, app.ID); err != nil {
		t.Fatal(err)
	}
	if !f.mm.wasEnded(lg.Record.SessionRef) {
		t.Fatalf("the deleted app's token's session %s did not end", lg.Record.SessionRef)
	}
	if _, err := f.svc.Grant(ctx, last.Token); !errors.Is(err, embed.ErrTokenInvalid) && !errors.Is(err, embed.ErrTokenRevoked) {
		t.Fatalf("a deleted app's token: %v", err)
	}
	if err := f.svc.DeleteApp(ctx, f.admin, app.ID); !errors.Is(err, embed.ErrAppNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestTooManyTokens(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	app, _ := f.app(t, spec(chTown))
	f.svc.SetMaxTokens(1)
	if _, err := f.svc.IssueBackend(ctx, &app, "bob", nil, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.IssueBackend(ctx, &app, "bob", nil, 0); !errors.Is(err, embed.ErrTooManyTokens) {
		t.Fatalf("the second token of an app that may hold one: %v", err)
	}
	if n := f.mm.open(); n != 1 {
		t.Fatalf("%d sessions open, want the first token's only", n)
	}
}

// TestSweepEndsExpiredSessions: an issue after a token expired starts the
// sweep, which ends the expired token's session in the background.
func TestSweepEndsExpiredSessions(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	app, _ := f.app(t, spec(chTown))
	if _, err := f.svc.IssueBackend(ctx, &app, "bob", nil, 10); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(embed.SweepEvery + time.Second)
	if _, err := f.svc.IssueBackend(ctx, &app, "bob", nil, 0); err != nil {
		t.Fatal(err)
	}
	select {
	case ref := <-f.mm.ended:
		if ref != "ref0" {
			t.Fatalf("the sweep ended %s, want the expired token's ref0", ref)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the expired token's session was not ended")
	}
	if n := f.mm.open(); n != 1 {
		t.Fatalf("%d sessions open, want the live token's only", n)
	}
}

// TestCloseEndsASweep: Close interrupts a sweep waiting on Mattermost and
// returns once it has stopped.
func TestCloseEndsASweep(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	app, _ := f.app(t, spec(chTown))
	if _, err := f.svc.IssueBackend(ctx, &app, "bob", nil, 10); err != nil {
		t.Fatal(err)
	}
	f.mm.stuck = make(chan string, 10)
	f.clock.Add(embed.SweepEvery + time.Second)
	if _, err := f.svc.IssueBackend(ctx, &app, "bob", nil, 0); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.mm.stuck: // the sweep waits on Mattermost
	case <-time.After(30 * time.Second):
		t.Fatal("no sweep started")
	}
	closed := make(chan struct{})
	go func() { f.svc.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not end the sweep")
	}
}

func TestRegister(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	appID, secret := id("example"), embed.NewSecret()
	s := embed.Spec{Name: "Example", Origins: []string{"HTTP://127.0.0.2:80"}, Channels: []string{chTown}}
	if err := f.svc.Register(ctx, appID, secret, s); err != nil {
		t.Fatal(err)
	}
	first, err := f.svc.App(ctx, appID)
	if err != nil || !slices.Equal(first.Origins, []string{"http://127.0.0.2"}) {
		t.Fatalf("registered %+v, %v", first, err)
	}
	if _, err := f.svc.AuthenticateApp(ctx, appID, secret); err != nil {
		t.Fatalf("the registered secret: %v", err)
	}
	// The same registration again writes nothing.
	f.clock.Add(time.Hour)
	if err := f.svc.Register(ctx, appID, secret, s); err != nil {
		t.Fatal(err)
	}
	if again, _ := f.svc.App(ctx, appID); !again.UpdatedAt.Equal(first.UpdatedAt) {
		t.Fatalf("an unchanged registration updated the app: %v -> %v", first.UpdatedAt, again.UpdatedAt)
	}
	// A new secret replaces the old one.
	next := embed.NewSecret()
	if err := f.svc.Register(ctx, appID, next, s); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateApp(ctx, appID, secret); !errors.Is(err, embed.ErrSecretWrong) {
		t.Fatalf("the replaced secret: %v", err)
	}
	for _, bad := range []struct{ id, secret string }{{"x", secret}, {appID, "hunter2"}} {
		if err := f.svc.Register(ctx, bad.id, bad.secret, s); err == nil {
			t.Errorf("Register(%q, %q) accepted", bad.id, bad.secret)
		}
	}
}
