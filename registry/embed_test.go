package registry_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// embedTestStore is what the embed tests call: both stores have it.
type embedTestStore interface {
	testStore
	registry.Embeds
}

var (
	_ embedTestStore = (*registry.Bolt)(nil)
	_ embedTestStore = (*registry.Postgres)(nil)
)

// forEachEmbedStore is forEachStoreClock for the embed tests.
func forEachEmbedStore(t *testing.T, fn func(t *testing.T, s embedTestStore)) {
	t.Helper()
	forEachStoreClock(t, func(t *testing.T, s testStore) { fn(t, s.(embedTestStore)) })
}

func newEmbedApp(t *testing.T, s embedTestStore, id string) registry.EmbedApp {
	t.Helper()
	a, err := s.CreateEmbedApp(ctx, registry.EmbedApp{ID: id, Name: "App " + id, Origins: []string{"https://app.example"},
		Channels: []string{"c1"}, SecretHash: []byte("hash"), CreatedBy: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func embedToken(app, id string, created time.Time, ttl time.Duration) registry.EmbedToken {
	return registry.EmbedToken{ID: id, AppID: app, UserID: "u1", TeamID: "t1", Channels: []string{"c1"}, Flow: "backend",
		Session: []byte("sealed"), CreatedAt: created, ExpiresAt: created.Add(ttl)}
}

func TestEmbedAppLifecycleIsAudited(t *testing.T) {
	forEachEmbedStore(t, testEmbedAppLifecycleIsAudited)
}

func testEmbedAppLifecycleIsAudited(t *testing.T, s embedTestStore) {
	a := newEmbedApp(t, s, "app1")
	if a.CreatedAt.IsZero() || a.UpdatedBy != "admin" {
		t.Fatalf("created %+v", a)
	}
	if _, err := s.CreateEmbedApp(ctx, registry.EmbedApp{ID: "app1", SecretHash: []byte("x"), CreatedBy: "admin"}); !errors.Is(err, registry.ErrEmbedAppExists) {
		t.Fatalf("second create: %v, want ErrEmbedAppExists", err)
	}
	up, err := s.UpdateEmbedApp(ctx, "app1", "admin2", func(a *registry.EmbedApp) (registry.EmbedChange, error) {
		a.Origins = []string{"https://other.example"}
		return registry.EmbedChange{Detail: "origins"}, nil
	})
	if err != nil || up.Origins[0] != "https://other.example" || up.UpdatedBy != "admin2" {
		t.Fatalf("update: %+v %v", up, err)
	}
	refused := errors.New("no")
	if _, err := s.UpdateEmbedApp(ctx, "app1", "admin2", func(a *registry.EmbedApp) (registry.EmbedChange, error) {
		a.Name = "changed"
		return registry.EmbedChange{}, refused
	}); !errors.Is(err, refused) {
		t.Fatalf("refused update: %v", err)
	}
	if got, _ := s.EmbedApp(ctx, "app1"); got.Name != "App app1" {
		t.Fatalf("a refused update wrote %q", got.Name)
	}
	revoked, err := s.UpdateEmbedApp(ctx, "app1", "admin", func(a *registry.EmbedApp) (registry.EmbedChange, error) {
		a.TokensNotBefore = time.Now()
		return registry.EmbedChange{Action: registry.ActionEmbedRevokeAll}, nil
	})
	if err != nil || revoked.TokensNotBefore.IsZero() {
		t.Fatalf("revoke all: %+v %v", revoked, err)
	}
	if _, err := s.DeleteEmbedApp(ctx, "app1", "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EmbedApp(ctx, "app1"); !errors.Is(err, registry.ErrEmbedAppNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	entries, err := s.Audit(ctx, registry.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	want := fmt.Sprint([]string{registry.ActionEmbedAppDelete, registry.ActionEmbedRevokeAll, registry.ActionEmbedAppUpdate, registry.ActionEmbedAppCreate})
	if fmt.Sprint(actions) != want {
		t.Fatalf("audit actions %v, want %s", actions, want)
	}
	verifyIfAble(t, s)
}

func TestEmbedTokensRevokeAndPrune(t *testing.T) { forEachEmbedStore(t, testEmbedTokensRevokeAndPrune) }

func testEmbedTokensRevokeAndPrune(t *testing.T, s embedTestStore) {
	newEmbedApp(t, s, "app1")
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	if err := s.PutEmbedToken(ctx, embedToken("nope", "tok0", now, time.Hour), 0); !errors.Is(err, registry.ErrEmbedAppNotFound) {
		t.Fatalf("token of an unknown app: %v", err)
	}
	if err := s.PutEmbedToken(ctx, embedToken("app1", "tok1", now, time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	got, err := s.EmbedToken(ctx, "tok1")
	if err != nil || got.UserID != "u1" || !got.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("read back %+v %v", got, err)
	}
	r, err := s.RevokeEmbedToken(ctx, "tok1", "admin")
	if err != nil || r.RevokedAt.IsZero() {
		t.Fatalf("revoke: %+v %v", r, err)
	}
	again, err := s.RevokeEmbedToken(ctx, "tok1", "other")
	if err != nil || again.RevokedBy != "admin" {
		t.Fatalf("second revoke changed the record: %+v %v", again, err)
	}
	if got, _ := s.EmbedToken(ctx, "tok1"); got.RevokedAt.IsZero() {
		t.Fatal("revocation not stored")
	}
	// A day and more after tok1 expired, the next issue prunes it.
	later := now.Add(time.Hour + registry.EmbedPruneAfter + time.Minute)
	if err := s.PutEmbedToken(ctx, embedToken("app1", "tok2", later, time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EmbedToken(ctx, "tok1"); !errors.Is(err, registry.ErrEmbedTokenNotFound) {
		t.Fatalf("expired token not pruned: %v", err)
	}
	if _, err := s.DeleteEmbedApp(ctx, "app1", "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EmbedToken(ctx, "tok2"); !errors.Is(err, registry.ErrEmbedTokenNotFound) {
		t.Fatalf("token of a deleted app: %v", err)
	}
}

// TestEmbedTokensBoundedPerApp: an app holds at most maxLive unexpired
// tokens; expired ones do not count, and other apps are not affected.
func TestEmbedTokensBoundedPerApp(t *testing.T) { forEachEmbedStore(t, testEmbedTokensBoundedPerApp) }

func testEmbedTokensBoundedPerApp(t *testing.T, s embedTestStore) {
	newEmbedApp(t, s, "app1")
	newEmbedApp(t, s, "app2")
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	const max = 5
	for i := range max {
		if err := s.PutEmbedToken(ctx, embedToken("app1", fmt.Sprint("t", i), now, time.Hour), max); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
	}
	if err := s.PutEmbedToken(ctx, embedToken("app1", "over", now, time.Hour), max); !errors.Is(err, registry.ErrEmbedTooManyTokens) {
		t.Fatalf("token over the bound: %v, want ErrEmbedTooManyTokens", err)
	}
	if _, err := s.EmbedToken(ctx, "over"); !errors.Is(err, registry.ErrEmbedTokenNotFound) {
		t.Fatalf("a refused token was stored: %v", err)
	}
	if err := s.PutEmbedToken(ctx, embedToken("app2", "other", now, time.Hour), max); err != nil {
		t.Fatalf("another app's token: %v", err)
	}
	// Once the first ones expire, there is room again.
	if err := s.PutEmbedToken(ctx, embedToken("app1", "after", now.Add(time.Hour+time.Second), time.Hour), max); err != nil {
		t.Fatalf("token after the others expired: %v", err)
	}
}

// TestEmbedSessionsToEnd: expired tokens whose session the server made
// come back until marked ended; deleting an app hands back its refs.
func TestEmbedSessionsToEnd(t *testing.T) { forEachEmbedStore(t, testEmbedSessionsToEnd) }

func testEmbedSessionsToEnd(t *testing.T, s embedTestStore) {
	newEmbedApp(t, s, "app1")
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	withRef := func(id string, created time.Time, ref string) {
		tok := embedToken("app1", id, created, time.Hour)
		tok.SessionRef = ref
		if err := s.PutEmbedToken(ctx, tok, 0); err != nil {
			t.Fatal(err)
		}
	}
	withRef("old", now, "pat-old")
	withRef("noref", now, "")
	withRef("live", now.Add(30*time.Minute), "pat-live")
	got, err := s.EmbedSessionsToEnd(ctx, now.Add(time.Hour+time.Minute), 10)
	if err != nil || len(got) != 1 || got[0].ID != "old" || got[0].SessionRef != "pat-old" {
		t.Fatalf("to end: %+v %v", got, err)
	}
	if err := s.EmbedSessionEnded(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.EmbedSessionsToEnd(ctx, now.Add(time.Hour+time.Minute), 10); len(got) != 0 {
		t.Fatalf("after ended: %+v", got)
	}
	refs, err := s.DeleteEmbedApp(ctx, "app1", "admin")
	if err != nil || fmt.Sprint(refs) != "[pat-live]" {
		t.Fatalf("delete refs %v %v", refs, err)
	}
}

// TestEmbedTokensBoundHoldsUnderRacingIssues: issues of one app racing
// (on PostgreSQL, from separate connections, as replicas issue) never take
// it past its bound, and a revocation reads back as revoked once.
func TestEmbedTokensBoundHoldsUnderRacingIssues(t *testing.T) {
	forEachEmbedStore(t, func(t *testing.T, s embedTestStore) {
		newEmbedApp(t, s, "app1")
		now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		const max, racers = 3, 10
		errs := make(chan error, racers)
		for i := range racers {
			go func() { errs <- s.PutEmbedToken(ctx, embedToken("app1", fmt.Sprint("r", i), now, time.Hour), max) }()
		}
		made := 0
		for range racers {
			switch err := <-errs; {
			case err == nil:
				made++
			case !errors.Is(err, registry.ErrEmbedTooManyTokens):
				t.Fatal(err)
			}
		}
		if made != max {
			t.Fatalf("%d tokens issued of %d racing with a bound of %d", made, racers, max)
		}
		if err := s.PutEmbedToken(ctx, embedToken("app1", "r0x", now, time.Hour), 0); err != nil {
			t.Fatal(err)
		}
		if err := s.PutEmbedToken(ctx, embedToken("app1", "r0x", now, time.Hour), 0); !errors.Is(err, registry.ErrInvalid) {
			t.Fatalf("a token id issued twice: %v, want ErrInvalid", err)
		}
		revs := make(chan *registry.EmbedToken, 4)
		for i := range 4 {
			go func() {
				r, err := s.RevokeEmbedToken(ctx, "r0x", fmt.Sprint("admin", i))
				if err != nil {
					t.Error(err)
				}
				revs <- r
			}()
		}
		by := map[string]bool{}
		for range 4 {
			if r := <-revs; r != nil {
				by[r.RevokedBy] = true
			}
		}
		entries, _ := s.Audit(ctx, registry.AuditFilter{})
		n := 0
		for _, e := range entries {
			if e.Action == registry.ActionEmbedTokenRevoke {
				n++
			}
		}
		if len(by) != 1 || n != 1 {
			t.Fatalf("racing revocations: revoked by %v, %d audit entries; want one of each", by, n)
		}
	})
}
