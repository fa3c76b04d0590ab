package server

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestSettled: background work waits for pushes to pause, never longer
// than SettleMax, and not at all when none answered lately.
func TestSettled(t *testing.T) {
	t.Parallel()
	s := &Server{cfg: Config{Timing: Timing{BackgroundSettle: 80 * time.Millisecond, SettleMax: 400 * time.Millisecond}}}
	took := func(ctx context.Context) time.Duration {
		start := time.Now()
		s.settled(ctx)
		return time.Since(start)
	}
	if d := took(context.Background()); d > 20*time.Millisecond {
		t.Errorf("no push yet: waited %v", d)
	}
	s.pushed()
	if d := took(context.Background()); d < 70*time.Millisecond {
		t.Errorf("right after a push: waited %v, want about %v", d, s.cfg.Timing.BackgroundSettle)
	}
	// A push every 20 ms: the wait ends at SettleMax anyway. A busy
	// machine may stall the pusher for longer than BackgroundSettle, which
	// rightly ends the wait early: such a try does not count.
	for try := 0; ; try++ {
		var gap atomic.Int64 // the longest pause between pushes, in ns
		stop, stopped := make(chan struct{}), make(chan struct{})
		s.pushed()
		go func() {
			defer close(stopped)
			last := time.Now()
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
					s.pushed()
					now := time.Now()
					if d := now.Sub(last); int64(d) > gap.Load() {
						gap.Store(int64(d))
					}
					last = now
				}
			}
		}()
		d := took(context.Background())
		close(stop)
		<-stopped
		if time.Duration(gap.Load()) >= s.cfg.Timing.BackgroundSettle*3/4 && try < 5 {
			continue
		}
		if d < 380*time.Millisecond || d > 2*time.Second {
			t.Errorf("under a stream of pushes: waited %v, want about %v (longest pause between pushes %v)",
				d, s.cfg.Timing.SettleMax, time.Duration(gap.Load()))
		}
		break
	}
	// A cancelled wait ends with its context, long before the pause it
	// waited for (which is long, so that a busy machine's delays cannot
	// pass for it).
	long := &Server{cfg: Config{Timing: Timing{BackgroundSettle: time.Minute, SettleMax: time.Minute}}}
	long.pushed()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	long.settled(ctx)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a cancelled wait took %v", d)
	}
}
