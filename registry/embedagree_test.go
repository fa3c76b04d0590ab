package registry_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// TestEmbedStoresAgree: the same random sequence of token issues (times
// with fractions of milliseconds, so both stores must cut expiries to
// milliseconds alike; bounds; session refs), revocations, reads, sweeps of sessions to
// end, ended sessions and app deletions gets the same answers from bbolt
// and PostgreSQL: which tokens exist, the bound and prune decisions, the
// order of the sweep and of a deleted app's refs.
func TestEmbedStoresAgree(t *testing.T) {
	stores := []embedTestStore{
		openStore(t, "bolt", &registry.Options{NoSync: true}).(embedTestStore),
		openStore(t, "postgres", &registry.Options{}).(embedTestStore),
	}
	seed := uint64(4122026)
	rng := rand.New(rand.NewPCG(seed, seed))
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	// Times fall on a few hours (some a day apart, for prunes) plus a few
	// quarter milliseconds, and lifetimes are whole hours plus quarter
	// milliseconds, so that expiries, issues and sweeps often meet within
	// one millisecond, where cutting to milliseconds decides.
	at := func() time.Time {
		return base.Add(time.Duration(rng.IntN(4)+25*rng.IntN(2))*time.Hour + time.Duration(rng.IntN(8))*250*time.Microsecond)
	}
	outcome := func(err error) string {
		for _, s := range []error{registry.ErrEmbedAppNotFound, registry.ErrEmbedTokenNotFound, registry.ErrEmbedTooManyTokens, registry.ErrInvalid} {
			if errors.Is(err, s) {
				return s.Error()
			}
		}
		if err != nil {
			return "unexpected: " + err.Error()
		}
		return "ok"
	}
	token := func(tok *registry.EmbedToken, err error) string {
		if err != nil {
			return outcome(err)
		}
		return fmt.Sprintf("%s app %s expires %s ref %q revoked by %q", tok.ID, tok.AppID, tok.ExpiresAt.Format(time.RFC3339Nano), tok.SessionRef, tok.RevokedBy)
	}
	for _, s := range stores {
		for _, app := range []string{"app1", "app2"} {
			newEmbedApp(t, s, app)
		}
	}
	seen := map[string]int{}
	ops := 400
	if testing.Short() {
		ops = 150
	}
	for i := range ops {
		app, id := fmt.Sprint("app", 1+rng.IntN(2)), fmt.Sprint("tok", rng.IntN(25))
		var got [2]string
		var desc string
		switch op := rng.IntN(20); {
		case op < 9:
			created := at()
			tok := embedToken(app, id, created, time.Duration(1+rng.IntN(3))*time.Hour+time.Duration(rng.IntN(4))*250*time.Microsecond)
			if rng.IntN(2) == 0 {
				tok.SessionRef = "pat-" + id
			}
			max := rng.IntN(5)
			desc = fmt.Sprintf("issue %s of %s at %s, bound %d", id, app, created.Format(time.RFC3339Nano), max)
			for j, s := range stores {
				got[j] = outcome(s.PutEmbedToken(ctx, tok, max))
			}
		case op < 12:
			desc = "revoke " + id
			actor := fmt.Sprint("admin", rng.IntN(3))
			for j, s := range stores {
				got[j] = token(s.RevokeEmbedToken(ctx, id, actor))
			}
		case op < 15:
			desc = "read " + id
			for j, s := range stores {
				got[j] = token(s.EmbedToken(ctx, id))
			}
		case op < 17:
			now, limit := at(), rng.IntN(6)
			desc = fmt.Sprintf("sessions to end at %s, limit %d", now.Format(time.RFC3339Nano), limit)
			for j, s := range stores {
				toks, err := s.EmbedSessionsToEnd(ctx, now, limit)
				var ids []string
				for _, tok := range toks {
					ids = append(ids, tok.ID)
				}
				got[j] = fmt.Sprint(ids, err)
			}
		case op < 19:
			desc = "session of " + id + " ended"
			for j, s := range stores {
				got[j] = outcome(s.EmbedSessionEnded(ctx, id))
			}
		default:
			desc = "delete and recreate " + app
			for j, s := range stores {
				refs, err := s.DeleteEmbedApp(ctx, app, "admin")
				got[j] = fmt.Sprint(refs, err)
				newEmbedApp(t, s, app)
			}
		}
		seen[strings.SplitN(desc, " ", 2)[0]+" "+strings.Fields(got[0] + " x")[0]]++
		if got[0] != got[1] {
			t.Fatalf("op %d, %s:\n bolt     %s\n postgres %s", i, desc, got[0], got[1])
		}
	}
	for _, want := range []string{"issue ok", "issue too", "issue invalid", "revoke tok", "revoke embed", "read embed", "read tok", "sessions [tok", "delete [pat-"} {
		found := false
		for k := range seen {
			found = found || strings.HasPrefix(k, want)
		}
		if !found {
			t.Errorf("no operation had the outcome %q (%v): change the seed or the mix", want, seen)
		}
	}
	verifyIfAble(t, stores[1])
}
