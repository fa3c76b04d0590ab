package previews

import (
	"sync"
	"sync/atomic"
	"time"
)

// Clock is the time leases expire by: the real one in the server, a fake
// one a test moves forward (so a test of expiry never sleeps).
type Clock interface {
	Now() time.Time
	// AfterFunc runs f in its own goroutine once d has passed, unless the
	// returned Timer is stopped first (time.AfterFunc).
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is what a lease keeps of its expiry timer (*time.Timer).
type Timer interface {
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// leases holds the developers' leases. Every method is safe for
// concurrent use.
type leases struct {
	clock  Clock
	mu     sync.RWMutex
	byUser map[string]map[string]*lease // user id -> plugin id -> lease
	// count is the number of leases: the manifest's check for "anyone
	// previewing at all?" without the lock.
	count  atomic.Int64
	closed bool
}

// lease is one developer's preview of one plugin.
type lease struct {
	user, plugin, version string
	// teams are the developer's teams as of the last renewal: where the
	// end of an expired lease is announced.
	teams   []string
	expires time.Time
	timer   Timer
}

// set takes or renews user's lease on plugin for version and returns the
// version it previewed before ("" when it had no lease). expired runs (on
// a timer goroutine) when the lease ends because nobody renewed it.
func (p *leases) set(user, plugin, version string, teams []string, ttl time.Duration, expired func(*lease)) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return "", ErrClosed
	}
	if p.byUser == nil {
		p.byUser = map[string]map[string]*lease{}
	}
	mine := p.byUser[user]
	if mine == nil {
		mine = map[string]*lease{}
		p.byUser[user] = mine
	}
	prev := ""
	l := mine[plugin]
	if l != nil {
		prev = l.version
		l.timer.Stop() // a callback already running finds the new expiry and leaves
	} else {
		l = &lease{user: user, plugin: plugin}
		mine[plugin] = l
		p.count.Add(1)
	}
	l.version, l.teams, l.expires = version, teams, p.clock.Now().Add(ttl)
	l.timer = p.clock.AfterFunc(ttl, func() {
		if p.expire(l) {
			expired(l)
		}
	})
	return prev, nil
}

// expire removes l if it is still the lease of its user and plugin and was
// not renewed meanwhile.
func (p *leases) expire(l *lease) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byUser[l.user][l.plugin] != l || p.clock.Now().Before(l.expires) {
		return false
	}
	p.remove(l)
	return true
}

// end removes user's lease on plugin and returns it (nil when none).
func (p *leases) end(user, plugin string) *lease {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.byUser[user][plugin]
	if l != nil {
		l.timer.Stop()
		p.remove(l)
	}
	return l
}

func (p *leases) remove(l *lease) {
	delete(p.byUser[l.user], l.plugin)
	if len(p.byUser[l.user]) == 0 {
		delete(p.byUser, l.user)
	}
	p.count.Add(-1)
}

// of returns what user previews, plugin id -> version; nil when nothing.
// It takes no lock when nobody previews anything (the manifest's path).
func (p *leases) of(user string) map[string]string {
	if p.count.Load() == 0 {
		return nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	mine := p.byUser[user]
	if len(mine) == 0 {
		return nil
	}
	out := make(map[string]string, len(mine))
	for id, l := range mine {
		out[id] = l.version
	}
	return out
}

// users returns who previews plugin, nil when nobody.
func (p *leases) users(plugin string) map[string]bool {
	if p.count.Load() == 0 {
		return nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out map[string]bool
	for user, mine := range p.byUser {
		if mine[plugin] != nil {
			if out == nil {
				out = map[string]bool{}
			}
			out[user] = true
		}
	}
	return out
}

// shown returns every version of plugin a lease names: pruning keeps
// them. nil when none.
func (p *leases) shown(plugin string) map[string]bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out map[string]bool
	for _, mine := range p.byUser {
		if l := mine[plugin]; l != nil {
			if out == nil {
				out = map[string]bool{}
			}
			out[l.version] = true
		}
	}
	return out
}

// close stops every timer; later sets fail with ErrClosed.
func (p *leases) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, mine := range p.byUser {
		for _, l := range mine {
			l.timer.Stop()
		}
	}
}
