package registry_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// crashStore is what the crash health tests call: both stores have it.
type crashStore interface {
	testStore
	registry.CrashLog
}

var (
	_ crashStore = (*registry.Bolt)(nil)
	_ crashStore = (*registry.Postgres)(nil)
)

// TestCrashHealth: reports count per version; a version is flagged at
// FlagCrashes crashes from FlagUsers users; the newest 20 reports and 100
// distinct users are kept; reports of what does not exist are refused.
func TestCrashHealth(t *testing.T) {
	forEachStoreClock(t, func(t *testing.T, st testStore) {
		s := st.(crashStore)
		const id = "com.example.crashy"
		registrytest.Push(t, s, dev, id, "1.0.0", []byte("a"))
		registrytest.Push(t, s, dev, id, "2.0.0", []byte("b"))
		report := func(version, user string, at time.Time) registry.Health {
			t.Helper()
			h, err := s.ReportCrash(ctx, registry.CrashReport{PluginID: id, Version: version, TeamID: "t1", UserID: user, Message: "boom", At: at})
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
		for _, tc := range []struct {
			name    string
			c       registry.CrashReport
			wantErr error
		}{
			{"unknown plugin", registry.CrashReport{PluginID: "com.example.none", Version: "1.0.0", UserID: "u"}, registry.ErrPluginNotFound},
			{"unknown version", registry.CrashReport{PluginID: id, Version: "9.9.9", UserID: "u"}, registry.ErrVersionNotFound},
		} {
			if _, err := s.ReportCrash(ctx, tc.c); !errors.Is(err, tc.wantErr) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.wantErr)
			}
		}
		if h, err := s.PluginHealth(ctx, id); err != nil || len(h) != 0 {
			t.Fatalf("health before any report: %v %v", h, err)
		}

		// 9 crashes from two users: not flagged; the tenth, from a third
		// user, flags the version.
		for i := range registry.FlagCrashes - 1 {
			if h := report("1.0.0", fmt.Sprint("u", i%2), time.Time{}); h.Flagged || h.Crashes != i+1 {
				t.Fatalf("report %d: %+v", i+1, h)
			}
		}
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		h := report("1.0.0", "u2", at)
		if !h.Flagged || h.Crashes != registry.FlagCrashes || h.Users != registry.FlagUsers || !h.LastAt.Equal(at) {
			t.Fatalf("tenth report from a third user: %+v", h)
		}
		if h.Recent[0].UserID != "u2" || !h.Recent[0].At.Equal(at) || h.Recent[1].At.IsZero() {
			t.Fatalf("recent, newest first, stamped by the store when not given: %+v", h.Recent[:2])
		}

		// Bounds: 20 recent reports, 100 distinct users.
		for i := range 110 {
			h = report("2.0.0", fmt.Sprint("user", i), time.Time{})
		}
		if h.Crashes != 110 || h.Users != 100 || len(h.Recent) != 20 || h.Recent[0].UserID != "user109" || h.Recent[19].UserID != "user90" {
			t.Fatalf("after 110 reports from 110 users: crashes %d users %d recent %d (newest %s, oldest %s)",
				h.Crashes, h.Users, len(h.Recent), h.Recent[0].UserID, h.Recent[len(h.Recent)-1].UserID)
		}
		all, err := s.PluginHealth(ctx, id)
		if err != nil || len(all) != 2 || all["1.0.0"].Crashes != 10 || all["2.0.0"].Crashes != 110 || all["2.0.0"].Version != "2.0.0" {
			t.Fatalf("plugin health: %v %v", all, err)
		}
		if only := all["1.0.0"].OnlyTeams(func(string) bool { return false }); len(only.Recent) != 0 || only.Crashes != 10 || !only.Flagged {
			t.Fatalf("scoped to no team: %+v", only)
		}
	})
}

// TestCrashReportsRacing: reports of one version racing (on PostgreSQL,
// from separate connections, as replicas receive them) all count.
func TestCrashReportsRacing(t *testing.T) {
	forEachStore(t, func(t *testing.T, st testStore) {
		s := st.(crashStore)
		const id = "com.example.crashy"
		registrytest.Push(t, s, dev, id, "1.0.0", []byte("a"))
		const reporters, each = 6, 4
		errs := make(chan error, reporters)
		for r := range reporters {
			go func() {
				for range each {
					if _, err := s.ReportCrash(ctx, registry.CrashReport{PluginID: id, Version: "1.0.0", UserID: fmt.Sprint("u", r), Message: "boom"}); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		for range reporters {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		h, err := s.PluginHealth(ctx, id)
		if got := h["1.0.0"]; err != nil || got.Crashes != reporters*each || got.Users != reporters || !got.Flagged {
			t.Fatalf("after %d racing reports from %d users: %+v %v", reporters*each, reporters, got, err)
		}
	})
}
