//go:build unix

package server_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// BenchmarkPushHello: the whole HTTP push of a small TSX plugin (web and
// mobile entries) to its answer, when the version is servable: a re-push
// of a new version through the warm build cache, each op. What the
// pipeline adds around esbuild (checks, hashing, the store's transaction,
// the change feed's subscribers) is a larger share of it than of a
// typical plugin's push, so a change to the pipeline shows here first.
// cpu-ns/op is the process's CPU time (user and system) per push, which a
// busy machine disturbs less than the wall time.
func BenchmarkPushHello(b *testing.B) {
	e := newEnv(b, server.Config{})
	if r := e.push("dev", helloPlugin("com.example.bench", "1.0.0")); r.status != 201 {
		b.Fatal(r.status, string(r.body))
	}
	e.waitIdle()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		if r := e.push("dev", helloPlugin("com.example.bench", fmt.Sprintf("1.0.%d", i+1))); r.status != 201 {
			b.Fatal(r.status, string(r.body))
		}
	}
	e.waitIdle() // the background work the pushes left is theirs too
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
