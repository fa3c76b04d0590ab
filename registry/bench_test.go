package registry_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// BenchmarkPutVersion pushes versions with a fresh 16 KiB bundle each (so
// every push writes a new blob), with and without fsync: "sync" is what a
// push costs in production, "nosync" the store's own work.
func BenchmarkPutVersion(b *testing.B) {
	for _, sync := range []bool{true, false} {
		name := "nosync"
		if sync {
			name = "sync"
		}
		b.Run(name, func(b *testing.B) {
			s, err := registry.Open(filepath.Join(b.TempDir(), "registry.db"), &registry.Options{NoSync: !sync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			benchPuts(b, s)
		})
	}
	// PostgreSQL as the throwaway cluster runs it: fsync off, so compare
	// it with "nosync" (a production server's fsync adds its disk's flush).
	b.Run("postgres", func(b *testing.B) { benchPuts(b, registrytest.OpenPostgres(b)) })
}

func benchPuts(b *testing.B, s registry.Store) {
	bundle := make([]byte, 16<<10)
	by := registry.Pusher{UserID: "dev"}
	b.SetBytes(int64(len(bundle)))
	for i := 0; b.Loop(); i++ {
		copy(bundle, fmt.Sprintf("/* %d */", i))
		v := &registry.Version{
			PluginID:      "bench.plugin",
			Version:       fmt.Sprintf("1.%d.0", i),
			PackageSHA256: registrytest.SHA256(bundle),
			Artifacts: map[string]registry.Artifact{
				registry.WebJS: {SHA256: registrytest.SHA256(bundle), Size: int64(len(bundle))},
			},
		}
		if _, err := s.PutVersion(ctx, v, map[string][]byte{v.PackageSHA256: bundle}, by); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVersionRead reads one of 100 stored versions: the manifest path
// does this per enabled plugin.
func BenchmarkVersionRead(b *testing.B) {
	benchStores(b, benchVersionRead)
}

func benchVersionRead(b *testing.B, s registry.Store) {
	for i := range 100 {
		registrytest.Push(b, s, dev, "bench.plugin", fmt.Sprintf("1.%d.0", i))
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.Version(ctx, "bench.plugin", fmt.Sprintf("1.%d.0", i%100)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkTeamStates reads a team's states for 50 plugins: once per manifest
// request.
func BenchmarkTeamStates(b *testing.B) {
	benchStores(b, benchTeamStates)
}

func benchTeamStates(b *testing.B, s registry.Store) {
	for i := range 50 {
		id := fmt.Sprintf("bench%02d.plugin", i)
		registrytest.Push(b, s, dev, id, "1.0.0")
		if _, err := s.SetTeamState(ctx, registry.TeamState{TeamID: "engineering", PluginID: id, Enabled: true, UpdatedBy: "alice"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			states, err := s.TeamStates(ctx, "engineering")
			if err != nil || len(states) != 50 {
				b.Errorf("TeamStates() = %d states, %v", len(states), err)
				return
			}
		}
	})
}

// benchStores runs fn on a bbolt store and on a PostgreSQL one (a database
// of the throwaway cluster, over TCP on loopback).
func benchStores(b *testing.B, fn func(b *testing.B, s registry.Store)) {
	b.Run("bolt", func(b *testing.B) { fn(b, registrytest.Open(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, registrytest.OpenPostgres(b)) })
}

// BenchmarkSetTeamStateParallel toggles plugins of many teams from parallel
// callers: the write path replicas share (on PostgreSQL, every toggle's
// commit takes the change log's ordering lock).
func BenchmarkSetTeamStateParallel(b *testing.B) {
	benchStores(b, func(b *testing.B, s registry.Store) {
		for i := range 8 {
			registrytest.Push(b, s, dev, fmt.Sprintf("bench%d.plugin", i), "1.0.0")
		}
		var n atomic.Int64
		b.SetParallelism(4)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			w := n.Add(1)
			for i := 0; pb.Next(); i++ {
				if _, err := s.SetTeamState(ctx, registry.TeamState{TeamID: fmt.Sprint("team", w), PluginID: fmt.Sprintf("bench%d.plugin", i%8),
					Enabled: (i/8)%2 == 0, UpdatedBy: "alice"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
