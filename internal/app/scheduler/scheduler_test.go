package scheduler_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler"
)

// logBuf is a log the scheduler writes and a test reads.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newScheduler(t *testing.T, cfg scheduler.Config) (*scheduler.Scheduler, *logBuf) {
	t.Helper()
	lb := &logBuf{}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s := scheduler.New(cfg)
	t.Cleanup(s.Close)
	return s, lb
}

// gate is a job that says when it starts and runs until released.
type gate struct {
	started chan struct{}
	release chan struct{}
}

func newGate() *gate { return &gate{started: make(chan struct{}), release: make(chan struct{})} }

func (g *gate) job(ctx context.Context) error {
	close(g.started)
	select {
	case <-g.release:
	case <-ctx.Done():
	}
	return nil
}

// waitIdle fails t unless s becomes idle within a generous bound.
func waitIdle(t *testing.T, s *scheduler.Scheduler) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitIdle(ctx); err != nil {
		t.Fatal("never idle:", err)
	}
}

// recorder notes the jobs run, in order.
type recorder struct {
	mu  sync.Mutex
	ran []string
}

func (r *recorder) job(name string) scheduler.Job {
	return func(context.Context) error {
		r.mu.Lock()
		r.ran = append(r.ran, name)
		r.mu.Unlock()
		return nil
	}
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ran)
}

func TestEnqueueDedupesByKey(t *testing.T) {
	t.Parallel()
	s, _ := newScheduler(t, scheduler.Config{})
	g := newGate()
	var runs atomic.Int64
	count := func(context.Context) error { runs.Add(1); return nil }
	s.Enqueue(scheduler.Precompress, "a", g.job)
	<-g.started
	if !s.Enqueue(scheduler.Precompress, "a", count) { // running: ignored
		t.Fatal("asking for a running key reported a drop")
	}
	s.Enqueue(scheduler.Precompress, "b", count)
	s.Enqueue(scheduler.Precompress, "b", count) // waiting: ignored
	s.Enqueue(scheduler.BlobFile, "a", count)    // another kind's key "a": its own job
	close(g.release)
	waitIdle(t, s)
	if n := runs.Load(); n != 2 {
		t.Fatalf("%d jobs ran, want 2 (b once, blob file a once)", n)
	}
	s.Enqueue(scheduler.Precompress, "a", count) // done before: runs again
	waitIdle(t, s)
	if n := runs.Load(); n != 3 {
		t.Fatalf("%d jobs ran, want a finished key run again", n)
	}
}

func TestEnqueueDropsWhatDoesNotFit(t *testing.T) {
	t.Parallel()
	s, log := newScheduler(t, scheduler.Config{Bound: 2})
	g := newGate()
	rec := &recorder{}
	s.Enqueue(scheduler.Precompress, "running", g.job)
	<-g.started // the running job takes no room
	for _, k := range []string{"1", "2"} {
		if !s.Enqueue(scheduler.Precompress, k, rec.job(k)) {
			t.Fatalf("job %s dropped with room left", k)
		}
	}
	returned := make(chan bool)
	go func() { returned <- s.Enqueue(scheduler.Precompress, "3", rec.job("3")) }()
	select {
	case ok := <-returned:
		if ok {
			t.Fatal("a job over the bound was queued")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Enqueue blocked on a full queue")
	}
	if got := log.String(); !strings.Contains(got, "precompress queue full") || !strings.Contains(got, "key=3") {
		t.Errorf("log after the drop: %q", got)
	}
	if !s.Enqueue(scheduler.SourceMap, "m", rec.job("m")) { // another kind has its own bound
		t.Fatal("a full precompress queue dropped a source map")
	}
	close(g.release)
	waitIdle(t, s)
	if got, want := rec.list(), []string{"m", "1", "2"}; !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	if !s.Enqueue(scheduler.Precompress, "3", rec.job("3")) {
		t.Fatal("dropped with the queue empty again")
	}
	waitIdle(t, s)
}

func TestOrderBetweenKinds(t *testing.T) {
	t.Parallel()
	s, _ := newScheduler(t, scheduler.Config{})
	g := newGate()
	rec := &recorder{}
	s.Enqueue(scheduler.Precompress, "running", g.job)
	<-g.started
	// Asked in the reverse of the order they run in, two of a kind.
	for _, j := range []struct {
		kind scheduler.Kind
		key  string
	}{
		{scheduler.Precompress, "p1"}, {scheduler.BlobFile, "f1"}, {scheduler.Precompress, "p2"},
		{scheduler.Prune, "x1"}, {scheduler.Bytecode, "c1"}, {scheduler.BlobFile, "f2"},
		{scheduler.SourceMap, "m1"}, {scheduler.Bytecode, "c2"}, {scheduler.Prune, "x2"}, {scheduler.SourceMap, "m2"},
	} {
		s.Enqueue(j.kind, j.key, rec.job(j.key))
	}
	close(g.release)
	waitIdle(t, s)
	want := []string{"m1", "m2", "c1", "c2", "x1", "x2", "f1", "f2", "p1", "p2"}
	if got := rec.list(); !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
}

// TestSourceMapOvertakesABacklog: a map asked for behind a long
// precompression backlog runs right after the job running.
func TestSourceMapOvertakesABacklog(t *testing.T) {
	t.Parallel()
	s, _ := newScheduler(t, scheduler.Config{})
	g := newGate()
	var after atomic.Int64 // precompression jobs run before the map
	mapDone := make(chan int64, 1)
	s.Enqueue(scheduler.Precompress, "running", g.job)
	<-g.started
	for i := range 1000 {
		s.Enqueue(scheduler.Precompress, fmt.Sprint(i), func(context.Context) error { after.Add(1); return nil })
	}
	s.Enqueue(scheduler.SourceMap, "m", func(context.Context) error { mapDone <- after.Load(); return nil })
	close(g.release)
	if n := <-mapDone; n != 0 {
		t.Fatalf("the map ran after %d queued precompression jobs, want 0", n)
	}
	waitIdle(t, s)
}

func TestBeforeRunsAheadOfEachJob(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	var beforeCtx atomic.Bool
	s, _ := newScheduler(t, scheduler.Config{Before: func(ctx context.Context) {
		beforeCtx.Store(ctx != nil)
		rec.job("before")(ctx)
	}})
	g := newGate()
	s.Enqueue(scheduler.Precompress, "g", g.job)
	<-g.started
	s.Enqueue(scheduler.Precompress, "a", rec.job("a"))
	s.Enqueue(scheduler.Bytecode, "b", rec.job("b"))
	close(g.release)
	waitIdle(t, s)
	if got, want := rec.list(), []string{"before", "before", "b", "before", "a"}; !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	if !beforeCtx.Load() {
		t.Error("before got no context")
	}
}

// TestBeforeHoldsTheJob: a job does not start while Before waits (pushes
// have not paused), and the scheduler is busy meanwhile.
func TestBeforeHoldsTheJob(t *testing.T) {
	t.Parallel()
	entered, settle := make(chan struct{}, 1), make(chan struct{})
	s, _ := newScheduler(t, scheduler.Config{Before: func(ctx context.Context) {
		entered <- struct{}{}
		select {
		case <-settle:
		case <-ctx.Done():
		}
	}})
	var ran atomic.Bool
	s.Enqueue(scheduler.Precompress, "a", func(context.Context) error { ran.Store(true); return nil })
	<-entered
	if ran.Load() || s.Idle() {
		t.Fatalf("while before waits: ran %v, idle %v; want neither", ran.Load(), s.Idle())
	}
	close(settle)
	waitIdle(t, s)
	if !ran.Load() {
		t.Fatal("the job did not run once before returned")
	}
}

func TestIdleOnlyWhenNothingWaitsOrRuns(t *testing.T) {
	t.Parallel()
	s, _ := newScheduler(t, scheduler.Config{})
	if !s.Idle() {
		t.Fatal("a new scheduler is busy")
	}
	g1, g2 := newGate(), newGate()
	s.Enqueue(scheduler.Precompress, "1", g1.job)
	if s.Idle() {
		t.Fatal("idle with a job queued")
	}
	<-g1.started
	s.Enqueue(scheduler.Precompress, "2", g2.job)
	if s.Idle() {
		t.Fatal("idle with a job running")
	}
	close(g1.release)
	<-g2.started // the first job has finished: the second runs
	if s.Idle() {
		t.Fatal("idle between two jobs")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.WaitIdle(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitIdle with a job running and its context ended: %v", err)
	}
	close(g2.release)
	waitIdle(t, s)
	if !s.Idle() {
		t.Fatal("WaitIdle returned but not idle")
	}
}

func TestFailedJobIsLoggedAndFinishes(t *testing.T) {
	t.Parallel()
	s, log := newScheduler(t, scheduler.Config{})
	s.Enqueue(scheduler.Bytecode, "abc", func(context.Context) error { return errors.New("hermesc crashed") })
	waitIdle(t, s)
	if got := log.String(); !strings.Contains(got, "hermes bytecode failed") || !strings.Contains(got, "hermesc crashed") {
		t.Errorf("log: %q", got)
	}
	ran := make(chan struct{})
	s.Enqueue(scheduler.Bytecode, "abc", func(context.Context) error { close(ran); return nil })
	<-ran // a failed key may be asked for again
}

func TestCloseInterruptsAndReturns(t *testing.T) {
	t.Parallel()
	s, log := newScheduler(t, scheduler.Config{})
	started, interrupted := make(chan struct{}), make(chan error, 1)
	s.Enqueue(scheduler.Bytecode, "long", func(ctx context.Context) error {
		close(started)
		<-ctx.Done() // a job that would otherwise run forever
		interrupted <- ctx.Err()
		return ctx.Err()
	})
	var waitingRan atomic.Bool
	s.Enqueue(scheduler.Precompress, "waiting", func(context.Context) error { waitingRan.Store(true); return nil })
	<-started
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return")
	}
	if err := <-interrupted; !errors.Is(err, context.Canceled) {
		t.Errorf("the running job's context: %v", err)
	}
	if waitingRan.Load() {
		t.Error("a waiting job ran after Close")
	}
	if !s.Idle() {
		t.Error("busy after Close")
	}
	if s.Enqueue(scheduler.Precompress, "late", func(context.Context) error { t.Error("ran after Close"); return nil }) {
		t.Error("Enqueue after Close reported the job queued")
	}
	s.Close() // twice: no panic, no wait
	if strings.Contains(log.String(), "failed") {
		t.Errorf("an interrupted job was logged as failed: %s", log.String())
	}
}

// TestCloseDuringBefore: Close ends a Before still waiting for pushes to
// pause; the job it held does not run.
func TestCloseDuringBefore(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	s, _ := newScheduler(t, scheduler.Config{Before: func(ctx context.Context) {
		close(entered)
		<-ctx.Done()
	}})
	var ran atomic.Bool
	s.Enqueue(scheduler.Precompress, "a", func(context.Context) error { ran.Store(true); return nil })
	<-entered
	s.Close()
	if ran.Load() {
		t.Fatal("the job ran after Close ended its wait")
	}
}

// TestOneJobAtATime: however many ask at once, jobs run one after another.
func TestOneJobAtATime(t *testing.T) {
	t.Parallel()
	s, _ := newScheduler(t, scheduler.Config{})
	var running, most, runs atomic.Int64
	job := func(context.Context) error {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		runs.Add(1)
		running.Add(-1)
		return nil
	}
	kinds := []scheduler.Kind{scheduler.SourceMap, scheduler.Bytecode, scheduler.Prune, scheduler.BlobFile, scheduler.Precompress}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				s.Enqueue(kinds[(g+i)%len(kinds)], fmt.Sprint(g, "/", i), job)
			}
		})
	}
	wg.Wait()
	waitIdle(t, s)
	if runs.Load() != 400 || most.Load() != 1 {
		t.Fatalf("%d jobs ran, at most %d at once; want 400 and 1", runs.Load(), most.Load())
	}
}

// TestOrderIsChosenAfterBefore: the job to run is chosen once Before
// returns, so a map asked for while Before waited (a push's maps are asked
// for after its blobs' precompression) runs ahead of the job that was
// waiting first.
func TestOrderIsChosenAfterBefore(t *testing.T) {
	t.Parallel()
	entered, settle := make(chan struct{}, 1), make(chan struct{})
	var first atomic.Bool
	rec := &recorder{}
	s, _ := newScheduler(t, scheduler.Config{Before: func(ctx context.Context) {
		if first.CompareAndSwap(false, true) {
			entered <- struct{}{}
			<-settle
		}
	}})
	s.Enqueue(scheduler.Precompress, "p", rec.job("p"))
	<-entered
	s.Enqueue(scheduler.SourceMap, "m", rec.job("m"))
	close(settle)
	waitIdle(t, s)
	if got, want := rec.list(), []string{"m", "p"}; !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
}
