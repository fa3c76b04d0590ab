package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// The store benchmarks read: SEED_DB (a file this command seeded, as
// bench/serving/run.sh does, with its .teams list), or else DefaultShape
// seeded into a temp dir once per process.
var (
	seedOnce sync.Once
	seedPath string
	seedErr  error
)

func seededStore(b *testing.B) (*registry.Bolt, []string) {
	b.Helper()
	seedOnce.Do(func() {
		if p := os.Getenv("SEED_DB"); p != "" {
			seedPath = p
			return
		}
		dir, err := os.MkdirTemp("", "mmtoolkit-seed-")
		if err != nil {
			seedErr = err
			return
		}
		seedPath = filepath.Join(dir, "registry.db")
		_, seedErr = Seed(context.Background(), seedPath, DefaultShape)
	})
	if seedErr != nil {
		b.Fatal(seedErr)
	}
	raw, err := os.ReadFile(seedPath + ".teams")
	if err != nil {
		b.Fatalf("%v: seed the file with this command first", err)
	}
	store, err := registry.Open(seedPath, &registry.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	return store, strings.Fields(string(raw))
}

// BenchmarkBuildAllTeams is the cold manifest cost: one op builds the web
// manifest of every seeded team with slots.Build, as the server does for
// each team after a change invalidates its cache. Besides ns/op (all teams)
// it reports the mean, p99 and max of one team's build.
func BenchmarkBuildAllTeams(b *testing.B) {
	store, teams := seededStore(b)
	ctx := context.Background()
	var per []time.Duration
	plugins := 0
	for b.Loop() {
		for _, t := range teams {
			t0 := time.Now()
			m, err := slots.Build(ctx, store, t, slots.Web)
			per = append(per, time.Since(t0))
			if err != nil {
				b.Fatal(err)
			}
			plugins += len(m.Plugins)
		}
	}
	if plugins == 0 {
		b.Fatal("no team has an enabled plugin: the store is not seeded as expected")
	}
	slices.Sort(per)
	var sum time.Duration
	for _, d := range per {
		sum += d
	}
	b.ReportMetric(float64(sum.Microseconds())/float64(len(per)), "us/team")
	b.ReportMetric(float64(per[len(per)*99/100].Microseconds()), "p99-us/team")
	b.ReportMetric(float64(per[len(per)-1].Microseconds()), "max-us/team")
	b.ReportMetric(float64(plugins)/float64(len(per)), "plugins/team")
}
