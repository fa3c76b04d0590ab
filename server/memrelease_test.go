package server_test

import (
	rtmetrics "runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// recordingMemory is a server.CompileMemory that counts what the server
// asks of it.
type recordingMemory struct {
	mu                sync.Mutex
	running, started  int
	releases          int
	releasedCompiling int // releases asked while a compile ran
}

func (p *recordingMemory) CompileStarted() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running++
	p.started++
}

func (p *recordingMemory) CompileEnded() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running--
}

func (p *recordingMemory) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releases++
	if p.running > 0 {
		p.releasedCompiling++
	}
}

func (p *recordingMemory) counts() (running, started, releases, releasedCompiling int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running, p.started, p.releases, p.releasedCompiling
}

// TestCompileMemoryReleasedWhenPushesPause: the server tells its memory
// policy about every compile, and asks it once to release their garbage
// after the pushes paused.
func TestCompileMemoryReleasedWhenPushesPause(t *testing.T) {
	t.Parallel()
	p := new(recordingMemory)
	// ReleaseAfter longer than any push here, even on a loaded machine.
	e := newEnv(t, server.Config{CompileMemory: p, Timing: server.Timing{ReleaseAfter: time.Second}})
	// Three pushes in a row: one release, after the last.
	for _, v := range []string{"1.0.0", "1.0.1", "1.0.2"} {
		if r := e.push("dev", helloPlugin("com.example.mem", v)); r.status != 201 {
			t.Fatal(r.status, string(r.body))
		}
	}
	if n := e.srv.MemoryReleases(); n != 0 {
		t.Fatalf("%d releases while pushes kept coming", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.srv.MemoryReleases() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if n := e.srv.MemoryReleases(); n != 1 {
		t.Fatalf("%d releases after the pushes paused, want 1", n)
	}
	running, started, releases, compiling := p.counts()
	// Three pushes, and the source maps the first left for later.
	if started < 3 || running != 0 || releases != 1 || compiling != 0 {
		t.Errorf("policy: %d compiles started, %d still running, %d releases (%d during a compile); want >= 3, 0, 1, 0",
			started, running, releases, compiling)
	}
}

// TestCompilesLeaveTheCollectorAlone: a Server without a memory policy (as
// in every other test) changes none of the process's collector settings
// while it compiles; the collector is the program's (cmd/mmtoolkit serve
// passes server.GCOffDuringCompiles). Not parallel: it watches settings of
// the whole process.
func TestCompilesLeaveTheCollectorAlone(t *testing.T) {
	settings := []rtmetrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	rtmetrics.Read(settings)
	before := [2]uint64{settings[0].Value.Uint64(), settings[1].Value.Uint64()}
	e := newEnv(t, server.Config{})

	stop, changed := make(chan struct{}), make(chan [2]uint64, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []rtmetrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
		for {
			select {
			case <-stop:
				return
			default:
			}
			rtmetrics.Read(s)
			if now := [2]uint64{s[0].Value.Uint64(), s[1].Value.Uint64()}; now != before {
				changed <- now
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	for _, v := range []string{"1.0.0", "1.0.1"} { // the second with its maps
		if r := e.push("dev", helloPlugin("com.example.gc", v)); r.status != 201 {
			t.Fatal(r.status, string(r.body))
		}
	}
	e.waitIdle() // the first push's source maps too
	close(stop)
	wg.Wait()
	select {
	case now := <-changed:
		t.Fatalf("collector settings changed during compiles: GOGC %d, memory limit %d (were %d, %d)",
			int64(now[0]), now[1], int64(before[0]), before[1])
	default:
	}
	if n := e.srv.MemoryReleases(); n != 0 {
		t.Errorf("%d memory releases without a policy", n)
	}
}
