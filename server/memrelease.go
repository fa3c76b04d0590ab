package server

import (
	"context"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// CompileMemory is what the program lets its servers do to the process's
// garbage collector around compiles. The collector's settings belong to the
// process, not to one Server (a test binary runs many, in parallel), so a
// Server changes none of them itself: it calls the policy its Config names.
// mmtoolkit serve installs GCOffDuringCompiles; nil (tests, embedders)
// leaves the collector alone.
type CompileMemory interface {
	// CompileStarted is called as a compile starts, CompileEnded as it
	// ends. Compiles overlap: a Server's up to Config.MaxCompiles, and
	// those of every Server sharing the policy.
	CompileStarted()
	CompileEnded()
	// Release is called once a Server's compiles have paused for
	// Timing.ReleaseAfter.
	Release()
}

// GCOffDuringCompiles is the policy mmtoolkit serve runs with: the
// collector off while compiles run (compileGC), and compile garbage given
// back to the operating system once pushes pause (memRelease). It is one
// policy for the process, as the collector is: every Server given it counts
// its compiles in the same place.
func GCOffDuringCompiles() CompileMemory { return &gcOff }

var gcOff compileGC

// beginCompile takes one of Config.MaxCompiles slots, waiting for one or
// giving up with ctx, and tells the memory policy a compile starts. Pushes
// and the source maps left for after them (sourceMaps) take the same slots:
// both run esbuild, whose memory is what the bound is for. endCompile
// undoes both.
func (s *Server) beginCompile(ctx context.Context) error {
	select {
	case s.compileSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if p := s.cfg.CompileMemory; p != nil {
		p.CompileStarted()
	}
	return nil
}

func (s *Server) endCompile() {
	if p := s.cfg.CompileMemory; p != nil {
		p.CompileEnded()
	}
	<-s.compileSlots
	s.compiled()
}

// defaultReleaseAfter is how long pushes must pause before the memory
// their compiles used goes back to the operating system. Not shorter:
// releasing between a developer's saves makes the next build regrow its
// heap under more frequent collections (measured: re-pushes of the typical
// plugin 132-138 -> 146-148 ms with 2 s and a save every 2 s).
const defaultReleaseAfter = 30 * time.Second

// memRelease has the policy return compile garbage to the OS once pushes
// pause. A typical plugin's build allocates about 90 MB, mostly garbage
// once it is stored; Go's background scavenger gives such memory back
// slowly, so after a burst of pushes an idle server kept several hundred MB
// resident (bench/push: 443 MB after 8 new typical plugins; 213 MB 3 s
// after a release, the rest being the build cache's contexts and the
// registry). One forced collection and release after the pause costs a few
// milliseconds of one core.
type memRelease struct {
	mu       sync.Mutex
	timer    *time.Timer
	stopped  bool
	released atomic.Uint64
}

// compiled notes that a compile ended; s.compileSlots says whether others
// still run. Without a policy there is nothing to release.
func (s *Server) compiled() {
	if s.cfg.CompileMemory == nil {
		return
	}
	m := &s.release
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	if m.timer == nil {
		m.timer = time.AfterFunc(s.cfg.Timing.ReleaseAfter, s.releaseIfIdle)
		return
	}
	m.timer.Reset(s.cfg.Timing.ReleaseAfter)
}

func (s *Server) releaseIfIdle() {
	if len(s.compileSlots) > 0 {
		s.compiled() // still compiling: when that one ends
		return
	}
	s.cfg.CompileMemory.Release()
	s.release.released.Add(1)
}

func (m *memRelease) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopped = true
	if m.timer != nil {
		m.timer.Stop()
	}
}

// compileGC turns the garbage collector off while compiles run, as
// esbuild's own command does for its builds: a typical plugin's build
// allocates about 80 MB in 100 ms, and collecting during it took 15 % of
// the build's CPU (cold build of the typical plugin in process: 133 ->
// 110 ms median with the collector off). A memory limit of the heap at the
// start plus compileHeadroom bounds the heap meanwhile: past it the
// collector runs anyway. The last compile to end restores the collector,
// which then collects the build's garbage at once.
type compileGC struct {
	mu      sync.Mutex
	running int
	percent int   // the GC percent before the first compile
	limit   int64 // the memory limit before the first compile
}

// compileHeadroom is how far the heap may grow during compiles before the
// collector runs anyway. Compiles are bounded by Config.MaxCompiles and a
// package's unpacked size.
const compileHeadroom = 1 << 30

// CompileStarted notes a compile starting; CompileEnded must follow.
func (g *compileGC) CompileStarted() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running++
	if g.running > 1 {
		return
	}
	heap := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	rtmetrics.Read(heap)
	g.limit = debug.SetMemoryLimit(-1) // reads it
	if bound := int64(heap[0].Value.Uint64()) + compileHeadroom; bound < g.limit {
		debug.SetMemoryLimit(bound) // an operator's lower GOMEMLIMIT stays
	}
	g.percent = debug.SetGCPercent(-1)
}

func (g *compileGC) CompileEnded() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running--
	if g.running > 0 {
		return
	}
	debug.SetGCPercent(g.percent)
	debug.SetMemoryLimit(g.limit)
}

// Release collects and returns the freed memory to the OS.
func (g *compileGC) Release() { debug.FreeOSMemory() }
