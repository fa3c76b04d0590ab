package publish_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/internal/app/publish"
)

// memory records what Compiles tells the policy.
type memory struct {
	mu                     sync.Mutex
	running, started       int
	releasedWhileCompiling int
	released               chan struct{}
}

func (m *memory) CompileStarted() { m.mu.Lock(); m.running++; m.started++; m.mu.Unlock() }
func (m *memory) CompileEnded()   { m.mu.Lock(); m.running--; m.mu.Unlock() }
func (m *memory) Release() {
	m.mu.Lock()
	if m.running > 0 {
		m.releasedWhileCompiling++
	}
	m.mu.Unlock()
	m.released <- struct{}{}
}

// TestCompilesTellThePolicy: every compile is told, and compile memory is
// released once, after compiles paused.
func TestCompilesTellThePolicy(t *testing.T) {
	m := &memory{released: make(chan struct{}, 4)}
	// A release delay far longer than the loop below, even on a busy
	// machine: one release, after the last compile.
	c := publish.NewCompiles(2, m, time.Second)
	defer c.Stop()
	for range 3 {
		if err := c.Begin(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.End()
	}
	<-m.released
	for c.Releases() == 0 { // counted once Release returned
		runtime.Gosched()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started != 3 || m.running != 0 || m.releasedWhileCompiling != 0 || c.Releases() != 1 {
		t.Fatalf("started %d, running %d, released while compiling %d, releases %d", m.started, m.running, m.releasedWhileCompiling, c.Releases())
	}
}
