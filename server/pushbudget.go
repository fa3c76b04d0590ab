package server

import (
	"fmt"
	"net/http"
	"sync"
)

// Pushes in flight hold their package in memory from the first byte read
// until the version is stored: the files ReadArchive keeps, then the
// compiled bundles beside them. MaxCompiles bounds only the compiles, which
// start after the whole archive is read, so three 100 MiB pushes arriving
// together once held 2.1 GB before any of them waited (issue #15 F03).
// pushBudget bounds what they hold together: a push reserves its declared
// Content-Length (the archive limit when it declares none) before reading a
// byte, and more as the archive unpacks past that, file by file before each
// file is read (pluginpkg.Limits.Reserve). A push that does not fit is
// answered 503 push_budget_exhausted with Retry-After at once, never queued:
// a queued upload would hold its connection and its client's bytes in
// kernel buffers all the same.

// DefaultPushBudget is Config.PushBudgetBytes' default: room for one push at
// the unpacked limit with others beside it.
const DefaultPushBudget = 512 << 20

// pushBudgetRetryAfter is the Retry-After of push_budget_exhausted, in
// seconds: about the time a large push takes to finish.
const pushBudgetRetryAfter = 5

// pushBudget is a weighted semaphore that never waits.
type pushBudget struct {
	mu   sync.Mutex
	max  int64
	used int64
}

func (b *pushBudget) tryAcquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.max-b.used {
		return false
	}
	b.used += n
	return true
}

func (b *pushBudget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// inFlight is the bytes reserved now.
func (b *pushBudget) inFlight() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

func (b *pushBudget) exhausted() *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: CodePushBudgetExhausted, RetryAfter: pushBudgetRetryAfter,
		Message: fmt.Sprintf("the server is reading as many pushes as its memory budget for pushes in flight allows (%d MiB): retry in %d seconds (`mmtoolkit push` does not retry by itself)", b.max>>20, pushBudgetRetryAfter),
		Details: map[string]any{"limit": b.max}}
}

// pushReservation is one push's share of the budget.
type pushReservation struct {
	b    *pushBudget
	held int64 // reserved
	kept int64 // charged by the archive reader so far
}

// reserve takes a push's first share: declared bytes, or maxBody when the
// request declares no length (or more than maxBody, which the body's
// limit refuses anyway).
func (b *pushBudget) reserve(declared, maxBody int64) (*pushReservation, error) {
	n := declared
	if n <= 0 || n > maxBody {
		n = maxBody
	}
	if !b.tryAcquire(n) {
		return nil, b.exhausted()
	}
	return &pushReservation{b: b, held: n}, nil
}

// charge is pluginpkg.Limits.Reserve: what the reader keeps past the
// reservation is reserved too, before the bytes are read.
func (r *pushReservation) charge(n int64) error {
	r.kept += n
	if more := r.kept - r.held; more > 0 {
		if !r.b.tryAcquire(more) {
			return r.b.exhausted()
		}
		r.held = r.kept
	}
	return nil
}

func (r *pushReservation) release() { r.b.release(r.held) }

// pushBodyLimit is the most a push body may send: the archive limit, and a
// margin for a multipart form's fields around the archive.
func pushBodyLimit(maxArchive int64) int64 { return maxArchive + 1<<20 }

// newPushBudget checks that the budget can hold the largest push the
// limits let through: below that, such a push could never be read.
func newPushBudget(budget, maxBody, maxUnpacked int64) (*pushBudget, error) {
	if budget == 0 {
		budget = DefaultPushBudget
	}
	if need := max(maxBody, maxUnpacked); budget < need {
		return nil, fmt.Errorf("server: the push budget (%d MiB) is smaller than the largest push the package limits allow (%d MiB): raise it", budget>>20, need>>20)
	}
	return &pushBudget{max: budget}, nil
}
