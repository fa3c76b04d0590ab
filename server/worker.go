package server

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
)

// worker runs background jobs one at a time, after the request that asked
// for them has been answered: precompressing bundles, compiling Hermes
// bytecode. One at a time bounds the CPU they take from requests on a small
// machine. A job is known by a key (a blob's SHA-256): asking again while
// it waits or runs does nothing. The queue is bounded and never blocks the
// asker; a job that does not fit is dropped and logged, and the owner redoes
// missing work at the next start.
type worker[J any] struct {
	name string
	log  *slog.Logger
	// before runs ahead of each job (Server.settled); nil runs jobs at once.
	before func(context.Context)
	do     func(context.Context, J) error

	queue chan keyedJob[J]

	mu      sync.Mutex
	pending map[string]bool

	busy   atomic.Int64
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type keyedJob[J any] struct {
	key string
	job J
}

func newWorker[J any](name string, log *slog.Logger, before func(context.Context), do func(context.Context, J) error) *worker[J] {
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker[J]{name: name, log: log, before: before, do: do, queue: make(chan keyedJob[J], 4096),
		pending: map[string]bool{}, cancel: cancel}
	w.wg.Add(1)
	go w.run(ctx)
	return w
}

// enqueue asks for job; it returns at once.
func (w *worker[J]) enqueue(key string, job J) {
	w.mu.Lock()
	if w.pending[key] {
		w.mu.Unlock()
		return
	}
	w.pending[key] = true
	w.mu.Unlock()
	w.busy.Add(1)
	select {
	case w.queue <- keyedJob[J]{key, job}:
	default:
		w.finish(key)
		w.log.Warn(w.name+" queue full; the work is redone at the next start", "key", key)
	}
}

func (w *worker[J]) finish(key string) {
	w.mu.Lock()
	delete(w.pending, key)
	w.mu.Unlock()
	w.busy.Add(-1)
}

func (w *worker[J]) run(ctx context.Context) {
	defer w.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case kj := <-w.queue:
			if w.before != nil {
				w.before(ctx)
			}
			if err := w.do(ctx, kj.job); err != nil && ctx.Err() == nil {
				w.log.Error(w.name+" failed", "key", kj.key, "err", err)
			}
			w.finish(kj.key)
		}
	}
}

// idle reports whether no job waits or runs.
func (w *worker[J]) idle() bool { return w.busy.Load() == 0 }

// close stops the worker; a job it interrupts is redone at the next start.
func (w *worker[J]) close() {
	w.cancel()
	w.wg.Wait()
}
