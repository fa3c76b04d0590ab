// Package scheduler runs a server's background work: the jobs a push
// leaves for after its answer (source maps, Hermes bytecode, pruning old
// prereleases, blob files, precompressed variants) and those a start finds
// missing. There is one Scheduler per server and it runs one job at a
// time: the work shares a small machine's cores with pushes and requests,
// and one job at a time bounds what it takes from them (a source map also
// takes one of the server's compile slots, as a push does). Several queues
// each running their own job, as before, let a burst of background work
// take every core right when the pusher's pages fetch the new bundle.
//
// A job is known by its kind and a key (a blob's SHA-256, a map's key):
// asking again while it waits or runs does nothing, asking after it ran
// runs it again. Each kind's queue is bounded and never blocks the asker:
// a job that does not fit is dropped and logged, and its owner redoes
// missing work at the next start, as it does for a job Close interrupts.
// Before each job the scheduler calls its Before hook (the server's is
// Settle.Wait: wait until pushes pause), so background work yields to a
// push's aftermath without stopping under a stream of pushes. The job to
// run is chosen once Before returns.
//
// # Order between kinds
//
// The next job is the oldest of the first kind, in the order below, that
// has one waiting (strict priority, first in first out within a kind):
//
//  1. SourceMap: a developer's tools may be waiting for it right now
//     (a request for /bundles/<key>.map waits up to 30 s), and at most a
//     few wait (the server builds the map with the bundle otherwise).
//  2. Bytecode: mobile apps get the JS bundle until it exists; one per
//     pushed version.
//  3. Prune: one transaction per prerelease pushed; it frees storage and
//     makes the pruned versions' URLs answer 404.
//  4. BlobFile: writing a served blob to a file is cheap, and each job
//     holds the blob's bytes until it runs.
//  5. Precompress: the longest queue (every blob of every push, and a
//     start's whole backlog) and the most CPU per job; until a blob's
//     variants exist it is served as it is, so nothing waits for them.
//
// Priority rather than round-robin: a source map then waits at most for
// the one job running, not for one job of every other kind. One job at a
// time rather than a worker per queue: the maps then no longer share the
// two cores with the precompression of the same push. Measured against
// the queues of before, alternating on the same machine, plugins/map's
// web map requested as the push answered (as bench/push -maps does): after
// a fresh server's first push it arrived 133-279 ms after the answer
// (median 158, 5 runs) instead of 211-661 ms (median 393) at a load
// average of 4-5; over bench/push -new -maps -n 4, medians of 365-740 ms
// instead of 562-1305 ms at 12-17. The push itself was no slower (bench/ab
// push: new/old 0.75-0.86, every figure within its noise). The kinds
// above precompression are bounded by pushes (a few jobs each), so
// precompression is delayed by a push's other work, never starved by it
// for longer than that work takes. A running job is not preempted: a map
// asked for during a long bytecode compile waits for it to end.
//
// The package imports no net/http: it knows nothing of what its jobs do.
package scheduler

import (
	"context"
	"log/slog"
	"sync"
)

// A Kind names a kind of background job and fixes its place in the order
// (see the package comment). The kinds are this package's variables.
type Kind struct {
	name string
	rank int
}

// The kinds, in the order their jobs run.
var (
	SourceMap   = Kind{"source map", 0}
	Bytecode    = Kind{"hermes bytecode", 1}
	Prune       = Kind{"prune prereleases", 2}
	BlobFile    = Kind{"blob files", 3}
	Precompress = Kind{"precompress", 4}
)

const nKinds = 5

// String is the kind's name, as logs give it.
func (k Kind) String() string { return k.name }

// DefaultBound is how many jobs of one kind may wait when Config.Bound is
// 0: a start's backlog of precompression fits, for a registry of a few
// thousand blobs.
const DefaultBound = 4096

// Config sets up a Scheduler.
type Config struct {
	// Log gets a line for every job dropped or failed; nil is
	// slog.Default().
	Log *slog.Logger
	// Before runs ahead of each job, with the scheduler's context (ended
	// by Close); nil runs jobs at once.
	Before func(context.Context)
	// Bound is how many jobs of one kind may wait (the one running aside);
	// 0 is DefaultBound.
	Bound int
}

// Job is the work of one job. Its context ends when the Scheduler closes:
// a job should then return soon; its work is redone at the next start.
// An error is logged, unless the context ended.
type Job func(ctx context.Context) error

// Scheduler runs background jobs one at a time, in the order of their
// kinds. Its methods are safe for concurrent use.
type Scheduler struct {
	log    *slog.Logger
	before func(context.Context)
	bound  int

	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
	wake   chan struct{} // a job was queued

	mu      sync.Mutex
	queues  [nKinds][]queued
	pending map[jobKey]bool // waiting or running
	running bool
	closed  bool
	// idle is closed while no job waits or runs; a new one is made when
	// a job is queued.
	idle chan struct{}
}

type jobKey struct {
	rank int
	key  string
}

type queued struct {
	kind Kind
	key  string
	job  Job
}

// New starts a Scheduler; Close stops it.
func New(cfg Config) *Scheduler {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Bound <= 0 {
		cfg.Bound = DefaultBound
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{log: cfg.Log, before: cfg.Before, bound: cfg.Bound, cancel: cancel,
		done: make(chan struct{}), wake: make(chan struct{}, 1), pending: map[jobKey]bool{}, idle: make(chan struct{})}
	close(s.idle)
	go s.run(ctx)
	return s
}

// Enqueue asks for job, of kind k, known by key; it returns at once. It
// reports whether the job waits or runs now: false when the scheduler is
// closed or k's queue is full (then the job is dropped, and logged).
// Asking for a key that waits or runs does nothing and reports true: the
// job given is not kept.
func (s *Scheduler) Enqueue(k Kind, key string, job Job) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.log.Debug(k.name+" not queued: stopping", "key", key)
		return false
	}
	jk := jobKey{k.rank, key}
	if s.pending[jk] {
		s.mu.Unlock()
		return true
	}
	if len(s.queues[k.rank]) >= s.bound {
		s.mu.Unlock()
		s.log.Warn(k.name+" queue full; the work is redone at the next start", "key", key)
		return false
	}
	if s.idleLocked() {
		s.idle = make(chan struct{})
	}
	s.pending[jk] = true
	s.queues[k.rank] = append(s.queues[k.rank], queued{k, key, job})
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default: // already woken
	}
	return true
}

// Idle reports whether no job waits or runs.
func (s *Scheduler) Idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idleLocked()
}

// WaitIdle waits until no job waits or runs, or ctx ends (its error).
func (s *Scheduler) WaitIdle(ctx context.Context) error {
	for {
		s.mu.Lock()
		idle := s.idle
		s.mu.Unlock()
		select {
		case <-idle:
			// A job queued between the close and this read made a new
			// channel: idle only if it is still the current one.
			if s.Idle() {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// idleLocked: s.mu held.
func (s *Scheduler) idleLocked() bool { return !s.running && len(s.pending) == 0 }

// Close stops the scheduler: the job running has its context ended and is
// waited for; jobs waiting are dropped. Their owners redo the work at the
// next start. Enqueue after Close drops the job.
func (s *Scheduler) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.done
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	<-s.done
	s.mu.Lock()
	s.queues = [nKinds][]queued{}
	clear(s.pending)
	if !s.running {
		select {
		case <-s.idle:
		default:
			close(s.idle)
		}
	}
	s.mu.Unlock()
}

func (s *Scheduler) run(ctx context.Context) {
	defer close(s.done)
	for {
		if !s.waiting() {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
				continue
			}
		}
		// The job is chosen after Before: a map asked for while it waited
		// (a push's maps follow its blobs' precompression) goes first.
		if s.before != nil {
			s.before(ctx)
		}
		if ctx.Err() != nil {
			return
		}
		q, ok := s.next()
		if !ok {
			continue
		}
		if err := q.job(ctx); err != nil && ctx.Err() == nil {
			s.log.Error(q.kind.name+" failed", "key", q.key, "err", err)
		}
		s.finish(q)
		if ctx.Err() != nil {
			return
		}
	}
}

// waiting reports whether a job waits.
func (s *Scheduler) waiting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending) > 0 && !s.closed
}

// next takes the job to run, marking it running.
func (s *Scheduler) next() (queued, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return queued{}, false
	}
	for r := range s.queues {
		if q := s.queues[r]; len(q) > 0 {
			j := q[0]
			q[0] = queued{} // let the job's bytes go once it ran
			s.queues[r] = q[1:]
			s.running = true
			return j, true
		}
	}
	return queued{}, false
}

// finish ends q: asking for its key again runs it again.
func (s *Scheduler) finish(q queued) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running = false
	delete(s.pending, jobKey{q.kind.rank, q.key})
	if s.idleLocked() {
		select {
		case <-s.idle:
		default:
			close(s.idle)
		}
	}
}
