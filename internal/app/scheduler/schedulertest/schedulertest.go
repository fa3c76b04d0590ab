// Package schedulertest helps the tests of background work on a
// scheduler.Scheduler: waiting for it to be idle, and a stand-in of the
// server's once-across-replicas claim.
package schedulertest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler"
)

// WaitIdle waits until s has run everything queued, failing t after 30 s.
func WaitIdle(t testing.TB, s *scheduler.Scheduler) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

// Once stands in for the claim that makes background work happen once
// across replicas (the server's claim over the store): it records the keys
// it is asked for and runs work unless done says it is done already.
type Once struct {
	mu   sync.Mutex
	keys []string
}

// Run has the signature of the Once hooks of precompress and bytecode.
func (o *Once) Run(_ context.Context, key string, done func() (bool, error), work func() error) error {
	o.mu.Lock()
	o.keys = append(o.keys, key)
	o.mu.Unlock()
	if ok, err := done(); ok || err != nil {
		return err
	}
	return work()
}

// Keys are the keys Run was asked for, in order.
func (o *Once) Keys() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.keys)
}
