package publish

import (
	"context"
	"runtime"
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
	// ends. Compiles overlap: a Server's up to its MaxCompiles, and those
	// of every Server sharing the policy.
	CompileStarted()
	CompileEnded()
	// Release is called once a Server's compiles have paused for its
	// release delay (DefaultReleaseAfter).
	Release()
}

// GCOffDuringCompiles is the policy mmtoolkit serve runs with: the
// collector off while compiles run (compileGC), and compile garbage given
// back to the operating system once pushes pause (Compiles). It is one
// policy for the process, as the collector is: every Server given it counts
// its compiles in the same place.
func GCOffDuringCompiles() CompileMemory { return &gcOff }

var gcOff compileGC

// DefaultReleaseAfter is how long pushes must pause before the memory
// their compiles used goes back to the operating system. Not shorter:
// releasing between a developer's saves makes the next build regrow its
// heap under more frequent collections (measured: re-pushes of the typical
// plugin 132-138 -> 146-148 ms with 2 s and a save every 2 s).
const DefaultReleaseAfter = 30 * time.Second

// Compiles bounds the compiles running at once and tells the memory policy
// when they start and end. Pushes and the source maps left for after them
// take the same slots: both run esbuild, whose memory is what the bound is
// for (esbuild's memory grows with a package's sources, so the bound caps
// the server's memory under a burst of pushes).
//
// It also has the policy return compile garbage to the OS once compiles
// pause. A typical plugin's build allocates about 90 MB, mostly garbage
// once it is stored; Go's background scavenger gives such memory back
// slowly, so after a burst of pushes an idle server kept several hundred MB
// resident (bench/push: 443 MB after 8 new typical plugins; 213 MB 3 s
// after a release, the rest being the build cache's contexts and the
// registry). One forced collection and release after the pause costs a few
// milliseconds of one core.
type Compiles struct {
	slots        chan struct{}
	mem          CompileMemory // nil: nothing to tell, nothing to release
	releaseAfter time.Duration

	mu       sync.Mutex
	timer    *time.Timer
	stopped  bool
	released atomic.Uint64
}

// NewCompiles returns max slots (<= 0: GOMAXPROCS, at least 2) telling mem
// (nil: nobody) of compiles, and releasing their memory once they paused
// for releaseAfter (<= 0: DefaultReleaseAfter).
func NewCompiles(max int, mem CompileMemory, releaseAfter time.Duration) *Compiles {
	if max <= 0 {
		max = defaultSlots()
	}
	if releaseAfter <= 0 {
		releaseAfter = DefaultReleaseAfter
	}
	return &Compiles{slots: make(chan struct{}, max), mem: mem, releaseAfter: releaseAfter}
}

func defaultSlots() int { return max(runtime.GOMAXPROCS(0), 2) }

// Begin takes one slot, waiting for one or giving up with ctx, and tells
// the memory policy a compile starts. End undoes both.
func (c *Compiles) Begin(ctx context.Context) error {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if c.mem != nil {
		c.mem.CompileStarted()
	}
	return nil
}

// End gives back the slot Begin took.
func (c *Compiles) End() {
	if c.mem != nil {
		c.mem.CompileEnded()
	}
	<-c.slots
	c.compiled()
}

// Hold takes a slot as a compile would, telling nobody, until the returned
// func is called: a test's way to fill the slots.
func (c *Compiles) Hold() (release func()) {
	c.slots <- struct{}{}
	return func() { <-c.slots }
}

// Running is how many slots are taken.
func (c *Compiles) Running() int { return len(c.slots) }

// Releases counts the releases of compile memory to the OS.
func (c *Compiles) Releases() uint64 { return c.released.Load() }

// compiled notes that a compile ended; c.slots says whether others still
// run. Without a policy there is nothing to release.
func (c *Compiles) compiled() {
	if c.mem == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	if c.timer == nil {
		c.timer = time.AfterFunc(c.releaseAfter, c.releaseIfIdle)
		return
	}
	c.timer.Reset(c.releaseAfter)
}

func (c *Compiles) releaseIfIdle() {
	if len(c.slots) > 0 {
		c.compiled() // still compiling: when that one ends
		return
	}
	c.mem.Release()
	c.released.Add(1)
}

// Stop cancels a pending release (the server is closing).
func (c *Compiles) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	if c.timer != nil {
		c.timer.Stop()
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
// collector runs anyway. Compiles are bounded by the slots and a
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
