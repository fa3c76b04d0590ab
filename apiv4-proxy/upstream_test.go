package apiv4proxy

import (
	"github.com/mmtoolkit/mmtoolkit/identity"

	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTestUpstream(t *testing.T, f *fakeMattermost, opts UpstreamOptions) *Upstream {
	t.Helper()
	u, err := NewUpstream(f.url, opts)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestNewUpstreamChecksTheURL(t *testing.T) {
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"https://mm.example.com", true},
		{"http://127.0.0.1:8065/", true},
		{"https://example.com/chat/", true},
		{"ftp://mm.example.com", false},
		{"mm.example.com", false},
		{"http://", false},
		{"https://mm.example.com/?x=1", false},
		{"https://mm.example.com/#top", false},
		{"https://user:pw@mm.example.com", false},
		{"https://mm.example.com/a/../b", false},
	} {
		t.Run(tt.url, func(t *testing.T) {
			_, err := NewUpstream(tt.url, UpstreamOptions{})
			if (err == nil) != tt.ok {
				t.Fatalf("NewUpstream(%q) error = %v, want ok=%v", tt.url, err, tt.ok)
			}
			_, err = NewProxy(tt.url, ProxyOptions{})
			if (err == nil) != tt.ok {
				t.Fatalf("NewProxy(%q) error = %v, want ok=%v", tt.url, err, tt.ok)
			}
		})
	}
}

func TestAuthenticateReadsRolesFromMattermost(t *testing.T) {
	for _, subpath := range []string{"", "/chat"} {
		f := newFakeMattermost(t, subpath)
		u := newTestUpstream(t, f, UpstreamOptions{})
		for _, tt := range []struct {
			uid         string
			systemAdmin bool
			team        string
			teamAdmin   bool
		}{
			{"uadmin", true, teamEng, true},
			{"ualice", false, teamEng, true},   // team_admin role
			{"ubob", false, teamEng, false},    // team_user only
			{"ucarol", false, teamSales, true}, // scheme_admin: true
		} {
			t.Run(subpath+"/"+tt.uid, func(t *testing.T) {
				token := f.login(tt.uid)
				id, err := u.Authenticate(context.Background(), token)
				if err != nil {
					t.Fatal(err)
				}
				if id.User.ID != tt.uid || id.Token != token {
					t.Errorf("user %q token %q, want %q and the token", id.User.ID, id.Token, tt.uid)
				}
				if got := id.User.SystemAdmin(); got != tt.systemAdmin {
					t.Errorf("SystemAdmin() = %v, want %v", got, tt.systemAdmin)
				}
				if got := id.CanAdminTeam(tt.team); got != tt.teamAdmin {
					t.Errorf("CanAdminTeam(%s) = %v, want %v", tt.team, got, tt.teamAdmin)
				}
				if !id.MemberOf(tt.team) || id.Teams[tt.team].Name == "" {
					t.Errorf("not a member of %s with its name: %+v", tt.team, id.Teams)
				}
				if id.MemberOf(teamOps) {
					t.Errorf("a membership with delete_at set counts: %+v", id.Members)
				}
			})
		}
	}
}

func TestAuthenticateErrors(t *testing.T) {
	for _, tt := range []struct {
		name    string
		token   string
		prepare func(f *fakeMattermost)
		opts    UpstreamOptions
		want    error
	}{
		{name: "unknown token", token: "nosuchtoken", want: ErrInvalidToken},
		{name: "no token", token: "", want: ErrInvalidToken},
		{name: "server error", prepare: func(f *fakeMattermost) { f.broken.Store(500) }, want: ErrUpstreamUnavailable},
		{name: "not JSON", prepare: func(f *fakeMattermost) { f.broken.Store(-1) }, want: ErrUpstreamUnavailable},
		{name: "down", prepare: func(f *fakeMattermost) { f.srv.Close() }, want: ErrUpstreamUnavailable},
		{name: "slow", prepare: func(f *fakeMattermost) { f.delay.Store(int64(2 * time.Second)) },
			opts: UpstreamOptions{Timeout: 200 * time.Millisecond}, want: ErrUpstreamTimeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeMattermost(t, "")
			token := tt.token
			if token == "" && tt.want != ErrInvalidToken {
				token = f.login("ubob")
			}
			if tt.prepare != nil {
				tt.prepare(f)
			}
			u := newTestUpstream(t, f, tt.opts)
			start := time.Now()
			_, err := u.Authenticate(context.Background(), token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Authenticate: %v, want %v", err, tt.want)
			}
			if tt.opts.Timeout > 0 && time.Since(start) > tt.opts.Timeout+time.Second {
				t.Errorf("took %v, over the %v timeout", time.Since(start), tt.opts.Timeout)
			}
			if token != "" && strings.Contains(err.Error(), token) {
				t.Errorf("the error reveals the token: %v", err)
			}
		})
	}
}

func TestAuthenticateCachesByTokenHash(t *testing.T) {
	f := newFakeMattermost(t, "")
	u := newTestUpstream(t, f, UpstreamOptions{CacheTTL: 30 * time.Second})
	clock := &fakeClock{t: time.Now()}
	u.identities.now = clock.Now
	token := f.login("ualice")
	for range 50 {
		if _, err := u.Authenticate(context.Background(), token); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"/api/v4/users/me", "/api/v4/users/me/teams/members", "/api/v4/users/me/teams"} {
		if n := f.count(p); n != 1 {
			t.Errorf("%s asked %d times for 50 authentications, want 1", p, n)
		}
	}

	// The cache holds hashes and token-free identities only.
	u.identities.mu.Lock()
	for el := u.identities.order.Front(); el != nil; el = el.Next() {
		e := el.Value.(*lruEntry[tokenHash, *identity.Identity])
		if e.value.Token != "" || e.key != hashToken(token) {
			t.Errorf("cache entry holds a token: key %v, identity token %q", e.key, e.value.Token)
		}
	}
	u.identities.mu.Unlock()

	// A revoked token keeps working until the entry expires, not after.
	f.revoke(token)
	if _, err := u.Authenticate(context.Background(), token); err != nil {
		t.Fatalf("within the TTL: %v", err)
	}
	clock.Add(29 * time.Second)
	if _, err := u.Authenticate(context.Background(), token); err != nil {
		t.Fatalf("just within the TTL: %v", err)
	}
	clock.Add(time.Second)
	if _, err := u.Authenticate(context.Background(), token); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("after the TTL: %v, want ErrInvalidToken", err)
	}

	// Forget drops an entry at once.
	token2 := f.login("ubob")
	u.Authenticate(context.Background(), token2)
	f.revoke(token2)
	u.Forget(token2)
	if _, err := u.Authenticate(context.Background(), token2); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("after Forget: %v, want ErrInvalidToken", err)
	}
}

func TestAuthenticateCacheIsBounded(t *testing.T) {
	f := newFakeMattermost(t, "")
	u := newTestUpstream(t, f, UpstreamOptions{CacheSize: 3})
	var tokens []string
	for range 5 {
		tok := f.login("ubob")
		tokens = append(tokens, tok)
		if _, err := u.Authenticate(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := u.identities.len(); n != 3 {
		t.Fatalf("%d identities cached, want the bound 3", n)
	}
	before := f.count("/api/v4/users/me")
	u.Authenticate(context.Background(), tokens[4]) // recent: cached
	u.Authenticate(context.Background(), tokens[0]) // evicted: asked again
	if got := f.count("/api/v4/users/me") - before; got != 1 {
		t.Fatalf("%d upstream calls, want 1 (only the evicted token)", got)
	}
}

func TestAuthenticateSharesOneRoundForConcurrentCalls(t *testing.T) {
	f := newFakeMattermost(t, "")
	f.delay.Store(int64(100 * time.Millisecond))
	u := newTestUpstream(t, f, UpstreamOptions{})
	token := f.login("ubob")
	var wg sync.WaitGroup
	errs := make([]error, 100)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = u.Authenticate(context.Background(), token)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.count("/api/v4/users/me"); n != 1 {
		t.Fatalf("users/me asked %d times by 100 concurrent calls, want 1", n)
	}

	// A caller that gives up does not fail the others sharing its round.
	token2 := f.login("ubob")
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := u.Authenticate(ctx, token2); first <- err }()
	time.Sleep(20 * time.Millisecond)
	second := make(chan error, 1)
	go func() { _, err := u.Authenticate(context.Background(), token2); second <- err }()
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: %v, want context.Canceled", err)
	}
	if err := <-second; err != nil {
		t.Errorf("the other caller failed with the first: %v", err)
	}
}

func TestTeam(t *testing.T) {
	f := newFakeMattermost(t, "")
	u := newTestUpstream(t, f, UpstreamOptions{})
	for _, tt := range []struct {
		name, uid, team string
		want            string // team id, "" for ErrTeamNotFound
		upstream        bool   // asks Mattermost
	}{
		{"own team by id", "ubob", teamEng, teamEng, false},
		{"own team by name", "ubob", "Engineering", teamEng, false},
		{"open team by name", "ubob", "sales", teamSales, true},
		{"private team", "ubob", "ops", "", true},
		{"private team by id", "ubob", teamOps, "", true},
		{"admin reads any team", "uadmin", "ops", teamOps, true},
		{"admin reads any team by id", "uadmin", teamOps, teamOps, true},
		{"no such team", "uadmin", "nope", "", true},
		{"not a name", "uadmin", "../users/me", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			who, err := u.Authenticate(context.Background(), f.login(tt.uid))
			if err != nil {
				t.Fatal(err)
			}
			before := f.total()
			team, err := u.Team(context.Background(), who, tt.team)
			if tt.want == "" {
				if !errors.Is(err, ErrTeamNotFound) {
					t.Fatalf("Team(%q) = %v, %v; want ErrTeamNotFound", tt.team, team, err)
				}
			} else if err != nil || team.ID != tt.want {
				t.Fatalf("Team(%q) = %+v, %v; want %s", tt.team, team, err, tt.want)
			}
			if asked := f.total() > before; asked != tt.upstream {
				t.Errorf("asked Mattermost: %v, want %v", asked, tt.upstream)
			}
		})
	}
}

func TestChannelMembers(t *testing.T) {
	f := newFakeMattermost(t, "")
	u := newTestUpstream(t, f, UpstreamOptions{LookupTTL: 10 * time.Second})
	clock := &fakeClock{t: time.Now()}
	u.channels.now = clock.Now
	bob, err := u.Authenticate(context.Background(), f.login("ubob"))
	if err != nil {
		t.Fatal(err)
	}
	carol, err := u.Authenticate(context.Background(), f.login("ucarol"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		who     *identity.Identity
		channel string
		members int // -1: ErrChannelNotFound
	}{
		{"small channel", bob, chanTown, 3},
		{"three pages", bob, chanBig, 451},
		{"not a member", carol, chanTown, -1},
		{"no such channel", bob, "nosuchchannelxxxxxxxxxxxxx", -1},
		{"not an id", bob, "../users/me", -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ch, members, err := u.ChannelMembers(context.Background(), tt.who, tt.channel)
			if tt.members < 0 {
				if !errors.Is(err, ErrChannelNotFound) {
					t.Fatalf("ChannelMembers = %v, want ErrChannelNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ch.ID != tt.channel || ch.TeamID != teamEng || ch.Type != "O" {
				t.Errorf("channel %+v", ch)
			}
			if len(members) != tt.members || !slices.Contains(members, "ubob") {
				t.Errorf("%d members, want %d with ubob", len(members), tt.members)
			}
		})
	}
	if n := f.count("/api/v4/channels/" + chanBig + "/members"); n != 3 {
		t.Errorf("%d member pages asked, want 3 (200 per page)", n)
	}

	// Cached for LookupTTL, and the cache is not the caller's to change.
	clock.Add(10 * time.Second)
	before := f.count("/api/v4/channels/" + chanTown)
	_, m1, _ := u.ChannelMembers(context.Background(), bob, chanTown)
	sort.Strings(m1)
	m1[0] = "changed"
	_, m2, _ := u.ChannelMembers(context.Background(), bob, chanTown)
	if n := f.count("/api/v4/channels/"+chanTown) - before; n != 1 {
		t.Errorf("channel asked %d times within the TTL, want 1", n)
	}
	if slices.Contains(m2, "changed") {
		t.Errorf("a caller's change reached the cache")
	}
	clock.Add(10 * time.Second)
	u.ChannelMembers(context.Background(), bob, chanTown)
	if n := f.count("/api/v4/channels/"+chanTown) - before; n != 2 {
		t.Errorf("channel asked %d times after the TTL, want 2", n)
	}
}

func TestTokenFromRequestOrder(t *testing.T) {
	for _, tt := range []struct {
		name                string
		auth, cookie, query string
		want                string
	}{
		{"bearer beats all", "Bearer b", "c", "q", "b"},
		{"token scheme", "Token t", "c", "q", "t"},
		{"lower-case scheme", "bearer b", "", "", "b"},
		{"cookie beats query", "", "c", "q", "c"},
		{"query last", "", "", "q", "q"},
		{"unknown scheme falls through", "Basic xyz", "c", "", "c"},
		{"none", "", "", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api/v4/users/me?access_token="+tt.query, nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: "MMAUTHTOKEN", Value: tt.cookie})
			}
			if got := TokenFromRequest(r); got != tt.want {
				t.Fatalf("TokenFromRequest = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestUpstreamAddress: the proxy connects to the base URL's host, on
// its scheme's port when the URL names none, whatever the client's request
// says.
func TestUpstreamAddress(t *testing.T) {
	for _, tt := range []struct{ url, addr string }{
		{"http://mm.example.com", "mm.example.com:80"},
		{"https://mm.example.com/chat", "mm.example.com:443"},
		{"http://127.0.0.1:8065", "127.0.0.1:8065"},
		{"http://[::1]", "[::1]:80"},
		{"https://[::1]:8443", "[::1]:8443"},
	} {
		tr := NewTransport(nil, 0)
		dialed := make(chan string, 1)
		tr.http.DialContext = func(_ context.Context, _, addr string) (net.Conn, error) {
			dialed <- addr
			return nil, errors.New("no network in this test")
		}
		p, err := newProxy(tt.url, ProxyOptions{Transport: tr, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		p.ServeHTTP(w, httptest.NewRequest("GET", "http://other.example.com:9999/api/v4/users/me", nil))
		if w.Code != http.StatusBadGateway {
			t.Errorf("%s: answered %d, want 502", tt.url, w.Code)
		}
		select {
		case addr := <-dialed:
			if addr != tt.addr {
				t.Errorf("%s: dials %s, want %s", tt.url, addr, tt.addr)
			}
		default:
			t.Errorf("%s: nothing dialled", tt.url)
		}
	}
}

// fakeClock is a settable time for cache expiry tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestOneTransportForEveryClient: identity, the proxy and the plugin admin
// client given the same Transport share its keep-alive connections: one
// after the other, their requests go over one upstream connection.
func TestOneTransportForEveryClient(t *testing.T) {
	up := newScriptedUpstream(t, func(i int, head string) scriptAnswer {
		line, _, _ := strings.Cut(head, "\n")
		switch {
		case strings.HasPrefix(line, "GET /api/v4/teams/name/engineering "):
			return scriptAnswer{reply: okAnswer(`{"id":"t1","name":"engineering"}`)}
		case strings.HasPrefix(line, "GET /api/v4/plugins/statuses "):
			return scriptAnswer{reply: okAnswer(`[]`)}
		}
		return scriptAnswer{reply: okAnswer(`{"id":"u1"}`)}
	})
	tr := NewTransport(nil, 0)
	defer tr.CloseIdleConnections()
	u, err := NewUpstream(up.url(), UpstreamOptions{Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	p, err := newProxy(up.url(), ProxyOptions{Transport: tr, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	pa, err := NewPluginAdmin(up.url(), PluginAdminOptions{Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if team, err := u.Team(t.Context(), &identity.Identity{Token: "tok"}, "engineering"); err != nil || team.ID != "t1" {
			t.Fatalf("identity: %+v %v", team, err)
		}
		u.teams.remove(lookupKey{hashToken("tok"), "engineering"})
		w := httptest.NewRecorder()
		p.ServeHTTP(w, httptest.NewRequest("GET", "/api/v4/users/me", nil))
		if w.Code != http.StatusOK || w.Body.String() != `{"id":"u1"}` {
			t.Fatalf("proxy: %d %q", w.Code, w.Body)
		}
		if _, err := pa.Statuses(t.Context(), "tok"); err != nil {
			t.Fatalf("plugin admin: %v", err)
		}
	}
	if n := up.connections(); n != 1 {
		t.Errorf("%d upstream connections for six requests one after the other, want 1 (one shared pool)", n)
	}
}
