package scheduler_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler"
)

// TestSettle: background work waits for pushes to pause, never longer
// than SettleMax, and not at all when none answered lately.
func TestSettle(t *testing.T) {
	t.Parallel()
	s := &scheduler.Settle{Pause: 80 * time.Millisecond, Max: 400 * time.Millisecond}
	took := func(ctx context.Context) time.Duration {
		start := time.Now()
		s.Wait(ctx)
		return time.Since(start)
	}
	if d := took(context.Background()); d > 20*time.Millisecond {
		t.Errorf("no push yet: waited %v", d)
	}
	s.Pushed()
	if d := took(context.Background()); d < 70*time.Millisecond {
		t.Errorf("right after a push: waited %v, want about %v", d, s.Pause)
	}
	// A push every 20 ms: the wait ends at SettleMax anyway. A busy
	// machine may stall the pusher for longer than BackgroundSettle, which
	// rightly ends the wait early: such a try does not count.
	for try := 0; ; try++ {
		var gap atomic.Int64 // the longest pause between pushes, in ns
		stop, stopped := make(chan struct{}), make(chan struct{})
		// The first gap counts from this push: a goroutine started late
		// on a busy machine is a pause between pushes too.
		first := time.Now()
		s.Pushed()
		go func() {
			defer close(stopped)
			last := first
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
					s.Pushed()
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
		if time.Duration(gap.Load()) >= s.Pause*3/4 && try < 5 {
			continue
		}
		if d < 380*time.Millisecond || d > 2*time.Second {
			t.Errorf("under a stream of pushes: waited %v, want about %v (longest pause between pushes %v)",
				d, s.Max, time.Duration(gap.Load()))
		}
		break
	}
	// A cancelled wait ends with its context, long before the pause it
	// waited for (which is long, so that a busy machine's delays cannot
	// pass for it).
	long := &scheduler.Settle{Pause: time.Minute, Max: time.Minute}
	long.Pushed()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	long.Wait(ctx)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a cancelled wait took %v", d)
	}
}
