package server

import (
	"context"
	"time"
)

// Background work yields to a push's aftermath. Right after a push
// answers, the pusher's open pages fetch the new bundle (26 ms later, median)
// and the pusher reads its answer; the work a push leaves (precompressing
// its blobs, its source maps, Hermes bytecode, blob files) would take both
// cores meanwhile. So each background job starts once no push has
// answered for backgroundSettle, but never waits longer than settleMax:
// a stream of pushes slows background work down without stopping it.
// Measured (bench/push -new, the typical plugin, the bundle fetched at
// once): 155-172 -> 124-132 ms median push to servable.
var backgroundSettle = 100 * time.Millisecond

var settleMax = time.Second

// pushed notes that a push is about to answer.
func (s *Server) pushed() { s.lastPush.Store(time.Now().UnixNano()) }

// settled waits until no push has answered for backgroundSettle, for at
// most settleMax, or until ctx ends.
func (s *Server) settled(ctx context.Context) {
	deadline := time.Now().Add(settleMax)
	for {
		wait := time.Until(time.Unix(0, s.lastPush.Load()).Add(backgroundSettle))
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
