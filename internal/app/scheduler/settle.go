package scheduler

import (
	"context"
	"sync/atomic"
	"time"
)

// Settle is the Before hook that makes background work yield to a push's
// aftermath. Right after a push answers, the pusher's open pages fetch the
// new bundle (26 ms later, median) and the pusher reads its answer; the
// work a push leaves (its source maps, Hermes bytecode, precompressing its
// blobs, blob files) would take both cores meanwhile. So each job starts
// once no push has answered for Pause, but never waits longer than Max: a
// stream of pushes slows background work down without stopping it.
// Measured (bench/push -new, the typical plugin, the bundle fetched at
// once): 155-172 -> 124-132 ms median push to servable.
//
// Its zero value waits for nothing; set Pause and Max before use.
type Settle struct {
	Pause, Max time.Duration
	last       atomic.Int64 // unix ns of the last push
}

// Pushed notes that a push is about to answer.
func (s *Settle) Pushed() { s.last.Store(time.Now().UnixNano()) }

// Wait waits until no push has answered for Pause, for at most Max, or
// until ctx ends.
func (s *Settle) Wait(ctx context.Context) {
	deadline := time.Now().Add(s.Max)
	for {
		wait := time.Until(time.Unix(0, s.last.Load()).Add(s.Pause))
		if rest := time.Until(deadline); rest < wait {
			wait = rest
		}
		if wait <= 0 {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
