package server

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

func TestWorkerRunsEachKeyOnceAtATime(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var runs, running, maxRunning atomic.Int64
	w := newWorker("test", slog.New(slog.NewTextHandler(io.Discard, nil)), nil, func(ctx context.Context, j int) error {
		n := running.Add(1)
		if n > maxRunning.Load() {
			maxRunning.Store(n)
		}
		<-release
		running.Add(-1)
		runs.Add(1)
		return nil
	})
	defer w.close()
	w.enqueue("a", 1)
	w.enqueue("a", 1) // still pending: ignored
	w.enqueue("b", 2)
	if w.idle() {
		t.Fatal("idle with work queued")
	}
	close(release)
	for deadline := time.Now().Add(5 * time.Second); !w.idle(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("never idle")
		}
	}
	if runs.Load() != 2 || maxRunning.Load() != 1 {
		t.Fatalf("runs %d, at most %d at once; want 2 and 1", runs.Load(), maxRunning.Load())
	}
	w.enqueue("a", 1) // done before: runs again
	for deadline := time.Now().Add(5 * time.Second); runs.Load() != 3; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a finished key was not run again")
		}
	}
}
