package publish

import (
	"runtime/debug"
	"testing"
)

// TestCompileGC: the collector is off from the first compile's start to
// the last one's end, under a memory limit, and both settings come back.
func TestCompileGC(t *testing.T) {
	var g compileGC
	percent := debug.SetGCPercent(150)
	defer debug.SetGCPercent(percent)
	limit := debug.SetMemoryLimit(-1)

	g.CompileStarted()
	g.CompileStarted()
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("GC percent during compiles: %d, want off", p)
	}
	if l := debug.SetMemoryLimit(-1); l >= limit || l < compileHeadroom {
		t.Errorf("memory limit during compiles: %d (was %d), want the heap plus %d", l, limit, compileHeadroom)
	}
	g.CompileEnded()
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("GC percent with one compile still running: %d, want off", p)
	}
	g.CompileEnded()
	if p, l := debug.SetGCPercent(150), debug.SetMemoryLimit(-1); p != 150 || l != limit {
		t.Errorf("after the compiles: GC percent %d, limit %d; want 150, %d", p, l, limit)
	}

	// An operator's lower limit is kept.
	debug.SetMemoryLimit(64 << 20)
	defer debug.SetMemoryLimit(limit)
	g.CompileStarted()
	if l := debug.SetMemoryLimit(-1); l != 64<<20 {
		t.Errorf("GOMEMLIMIT 64 MiB became %d during a compile", l)
	}
	g.CompileEnded()
}
