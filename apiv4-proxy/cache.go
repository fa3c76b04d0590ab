package apiv4proxy

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// lru is a bounded cache whose entries also expire: the bound keeps memory
// flat whatever tokens clients send, the expiry bounds how long an answer of
// the upstream (a session, a channel's members) is trusted after it changed.
type lru[K comparable, V any] struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	order *list.List // front = most recently used; elements hold *lruEntry
	items map[K]*list.Element
	now   func() time.Time
}

type lruEntry[K comparable, V any] struct {
	key     K
	value   V
	expires time.Time
}

func newLRU[K comparable, V any](max int, ttl time.Duration, now func() time.Time) *lru[K, V] {
	return &lru[K, V]{ttl: ttl, max: max, order: list.New(), items: make(map[K]*list.Element), now: now}
}

// get returns the live value of key; an expired entry is dropped.
func (c *lru[K, V]) get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	e := el.Value.(*lruEntry[K, V])
	if !c.now().Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, key)
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return e.value, true
}

// add stores value under key for the cache's TTL, evicting the least
// recently used entry when full.
func (c *lru[K, V]) add(key K, value V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	expires := c.now().Add(c.ttl)
	if el, ok := c.items[key]; ok {
		e := el.Value.(*lruEntry[K, V])
		e.value, e.expires = value, expires
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&lruEntry[K, V]{key: key, value: value, expires: expires})
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*lruEntry[K, V]).key)
	}
}

// remove drops key.
func (c *lru[K, V]) remove(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.Remove(el)
		delete(c.items, key)
	}
}

// len is the number of entries, expired ones included.
func (c *lru[K, V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// flight makes concurrent callers asking for the same key share one call:
// when a hundred requests arrive with the same new token, the upstream sees
// one round of requests, not a hundred.
type flight[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*flightCall[V]
}

type flightCall[V any] struct {
	done  chan struct{}
	value V
	err   error
}

// do runs fn once for all concurrent callers of key. fn runs detached from
// any one caller's cancellation (it gets context.WithoutCancel of the first
// caller's ctx), so a caller that gives up does not fail the others; each
// caller still stops waiting when its own ctx ends.
func (f *flight[K, V]) do(ctx context.Context, key K, fn func(context.Context) (V, error)) (V, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = make(map[K]*flightCall[V])
	}
	c, ok := f.calls[key]
	if !ok {
		c = &flightCall[V]{done: make(chan struct{})}
		f.calls[key] = c
		go func(ctx context.Context) {
			c.value, c.err = fn(ctx)
			f.mu.Lock()
			delete(f.calls, key)
			f.mu.Unlock()
			close(c.done)
		}(context.WithoutCancel(ctx))
	}
	f.mu.Unlock()
	select {
	case <-c.done:
		return c.value, c.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}
