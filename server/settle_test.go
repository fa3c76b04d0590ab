package server

import (
	"context"
	"testing"
	"time"
)

// TestSettled: background work waits for pushes to pause, never longer
// than settleMax, and not at all when none answered lately.
func TestSettled(t *testing.T) {
	defer func(s, m time.Duration) { backgroundSettle, settleMax = s, m }(backgroundSettle, settleMax)
	backgroundSettle, settleMax = 80*time.Millisecond, 400*time.Millisecond
	s := &Server{}
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
		t.Errorf("right after a push: waited %v, want about %v", d, backgroundSettle)
	}
	// A push every 20 ms: the wait ends at settleMax anyway.
	stop := make(chan struct{})
	s.pushed()
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				s.pushed()
			}
		}
	}()
	d := took(context.Background())
	close(stop)
	if d < 380*time.Millisecond || d > 2*time.Second {
		t.Errorf("under a stream of pushes: waited %v, want about %v", d, settleMax)
	}
	s.pushed()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if d := took(ctx); d > 60*time.Millisecond {
		t.Errorf("a cancelled wait took %v", d)
	}
}
