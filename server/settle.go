package server

import (
	"time"

	"github.com/mmtoolkit/mmtoolkit/internal/app/sourcemaps"
)

// Timing holds a Server's waits and deadlines. Zero fields take the
// defaults; a test shortens them on its own Server rather than in package
// variables, so tests run in parallel.
type Timing struct {
	// BackgroundSettle and SettleMax: background work starts once no push
	// has answered for BackgroundSettle, but never waits longer than
	// SettleMax (scheduler.Settle). Defaults 100 ms and 1 s.
	BackgroundSettle time.Duration
	SettleMax        time.Duration
	// ReleaseAfter is how long compiles must pause before the memory
	// policy releases their garbage (publish.Compiles). Default 30 s.
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

// Background work yields to a push's aftermath (scheduler.Settle, the
// measurement behind it there): each job starts once no push has answered
// for Timing.BackgroundSettle, but never waits longer than
// Timing.SettleMax.
const (
	defaultBackgroundSettle = 100 * time.Millisecond
	defaultSettleMax        = time.Second
)
