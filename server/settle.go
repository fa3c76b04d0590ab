package server

import (
	"context"
	"time"

	"github.com/mmtoolkit/mmtoolkit/internal/app/sourcemaps"
)

// Timing holds a Server's waits and deadlines. Zero fields take the
// defaults; a test shortens them on its own Server rather than in package
// variables, so tests run in parallel.
type Timing struct {
	// BackgroundSettle and SettleMax: background work starts once no push
	// has answered for BackgroundSettle, but never waits longer than
	// SettleMax (settled). Defaults 100 ms and 1 s.
	BackgroundSettle time.Duration
	SettleMax        time.Duration
	// ReleaseAfter is how long compiles must pause before the memory
	// policy releases their garbage (memRelease). Default 30 s.
	ReleaseAfter time.Duration
	// MapWait bounds how long a request for a source map being built waits
	// for it (internal/app/sourcemaps). Default 30 s.
	MapWait time.Duration
	// WebsocketRevalidate is how often a websocket's token is checked
	// again (websocket.go). Default apiv4proxy.DefaultCacheTTL.
	WebsocketRevalidate time.Duration
	// EmbedRecheck is how often an embed websocket asks the store whether
	// its token was revoked (embed_websocket.go). Default 5 s.
	EmbedRecheck time.Duration
	// PushBodyIdle and PushBodyMax: a push body's read may wait
	// PushBodyIdle for data, the whole upload PushBodyMax (push.go).
	// Defaults 30 s and 5 min.
	PushBodyIdle time.Duration
	PushBodyMax  time.Duration
}

// withDefaults fills t's zero fields.
func (t Timing) withDefaults() Timing {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.BackgroundSettle, defaultBackgroundSettle)
	def(&t.SettleMax, defaultSettleMax)
	def(&t.ReleaseAfter, defaultReleaseAfter)
	def(&t.MapWait, sourcemaps.DefaultWait)
	def(&t.WebsocketRevalidate, defaultWSRevalidate)
	def(&t.EmbedRecheck, defaultEmbedWSRecheck)
	def(&t.PushBodyIdle, defaultPushBodyIdle)
	def(&t.PushBodyMax, defaultPushBodyMax)
	return t
}

// Background work yields to a push's aftermath. Right after a push
// answers, the pusher's open pages fetch the new bundle (26 ms later, median)
// and the pusher reads its answer; the work a push leaves (precompressing
// its blobs, its source maps, Hermes bytecode, blob files) would take both
// cores meanwhile. So each background job starts once no push has
// answered for Timing.BackgroundSettle, but never waits longer than
// Timing.SettleMax: a stream of pushes slows background work down without
// stopping it. Measured (bench/push -new, the typical plugin, the bundle
// fetched at once): 155-172 -> 124-132 ms median push to servable.
const (
	defaultBackgroundSettle = 100 * time.Millisecond
	defaultSettleMax        = time.Second
)

// pushed notes that a push is about to answer.
func (s *Server) pushed() { s.lastPush.Store(time.Now().UnixNano()) }

// settled waits until no push has answered for Timing.BackgroundSettle,
// for at most Timing.SettleMax, or until ctx ends.
func (s *Server) settled(ctx context.Context) {
	deadline := time.Now().Add(s.cfg.Timing.SettleMax)
	for {
		wait := time.Until(time.Unix(0, s.lastPush.Load()).Add(s.cfg.Timing.BackgroundSettle))
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
