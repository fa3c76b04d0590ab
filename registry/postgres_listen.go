package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Following the change log. Every write of a *Postgres appends a change
// row and rings ChangesChannel (appendChange); a replica follows the log to
// learn what the others changed: it LISTENs on a connection of its own, and
// on each notification reads the rows after the last one it applied. The
// notification is only a doorbell: a lost connection loses notifications,
// never rows, so after reconnecting the follower reads every row it missed
// (ids commit in order, see changesLockKey) before waiting again.

// Follow timing. Variables so tests can shorten them.
var (
	// followPoll is how long the follower waits for a notification
	// before it reads the log anyway and checks its connection: a
	// connection that died silently (a half-open TCP link) is noticed
	// within it.
	followPoll = 30 * time.Second
	// followBackoffMin and followBackoffMax bound the wait between
	// attempts to reconnect, doubling from the first to the second.
	followBackoffMin = 100 * time.Millisecond
	followBackoffMax = 5 * time.Second
)

// FollowerApplicationName is the application_name of a follower's
// notification connection (pg_stat_activity shows it).
const FollowerApplicationName = "mmtoolkit-follower"

// FollowedChange is a change row as a follower delivers it.
type FollowedChange struct {
	Change
	// Local says this process wrote the row (through the same *Postgres):
	// the writer has already applied it.
	Local bool
}

// FollowBatch is what a follower hands its handler at once: rows in id
// order. Resync says rows may have been missed (the follower was away
// longer than ChangeRetention, and the rows it had not read were swept):
// the handler must rebuild what it derives from the store rather than
// apply the batch as a complete account.
type FollowBatch struct {
	Changes []FollowedChange
	Resync  bool
}

// Follower follows the change log from one id on; see Follow.
type Follower struct {
	p      *Postgres
	handle func(FollowBatch) (int, error)
	resync bool // a Resync batch not yet applied; f.mu

	mu      sync.Mutex // serialises reads of the log and calls of handle
	applied atomic.Int64

	connected  atomic.Bool
	reconnects atomic.Uint64
	cancel     context.CancelFunc
	done       chan struct{}
}

// Follow starts following the change log after afterID (LastChange, read
// before the caller built what it derives from the store): handle gets
// every row written after it, in id order, one batch at a time, never two
// calls at once, and returns how many of the batch's rows it applied. An
// error (say, the database went away while it read what a row names)
// makes the follower deliver the rest again later, from the first row not
// applied. It runs until Close. A database that is unreachable, or a
// notification connection that breaks, is retried with backoff; on
// reconnecting, every row written meanwhile is delivered before new ones.
func (p *Postgres) Follow(afterID int64, handle func(FollowBatch) (applied int, err error)) *Follower {
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), followCtx{}, true))
	f := &Follower{p: p, handle: handle, cancel: cancel, done: make(chan struct{})}
	f.applied.Store(afterID)
	p.followers.Add(1)
	go f.run(ctx)
	return f
}

// Applied is the id of the last row the follower delivered (or started
// after).
func (f *Follower) Applied() int64 { return f.applied.Load() }

// Connected reports whether the follower is listening now.
func (f *Follower) Connected() bool { return f.connected.Load() }

// Reconnects counts the times the follower lost its connection and
// listened again.
func (f *Follower) Reconnects() uint64 { return f.reconnects.Load() }

// Close stops following and waits for a handler call in progress.
func (f *Follower) Close() {
	f.cancel()
	<-f.done
}

// CatchUp delivers every row committed before it was called and not yet
// delivered, before it returns: a caller that must see what another
// replica has just written (a bundle asked for right after its push was
// answered elsewhere) asks it rather than wait for the notification.
func (f *Follower) CatchUp(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.readLocked(ctx, false)
}

func (f *Follower) run(ctx context.Context) {
	defer close(f.done)
	defer f.p.followers.Add(-1)
	backoff := followBackoffMin
	for ctx.Err() == nil {
		f.listen(ctx) // the error only says when to try again
		if ctx.Err() != nil {
			return
		}
		if f.connected.Swap(false) {
			backoff = followBackoffMin // it worked for a while: retry soon
		}
		f.reconnects.Add(1)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, followBackoffMax)
	}
}

// listen holds one notification connection until it fails: LISTEN first,
// then read what was missed, then read after every notification (or every
// followPoll). It returns the error that ended the connection.
func (f *Follower) listen(ctx context.Context) error {
	if f.p.closed() {
		<-ctx.Done()
		return ErrClosed
	}
	cfg := f.p.pool.Config().ConnConfig.Copy()
	// Named, so an operator (or a test) tells it from the pool's.
	cfg.RuntimeParams["application_name"] = FollowerApplicationName
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return pgErr(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{ChangesChannel}.Sanitize()); err != nil {
		return pgErr(err)
	}
	// Rows committed before LISTEN rang no bell this connection heard:
	// read them now, checking first that they were not swept.
	f.mu.Lock()
	err = f.readLocked(ctx, true)
	f.mu.Unlock()
	if err != nil {
		return err
	}
	f.connected.Store(true)
	for {
		wctx, cancel := context.WithTimeout(ctx, followPoll)
		_, err := conn.WaitForNotification(wctx)
		timedOut := wctx.Err() != nil && ctx.Err() == nil
		cancel()
		if err != nil && !timedOut {
			return pgErr(err)
		}
		if timedOut {
			// Nothing rang: check the connection is alive.
			pctx, cancel := context.WithTimeout(ctx, connectTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return pgErr(err)
			}
		}
		// One read answers every notification queued so far.
		f.mu.Lock()
		err = f.readLocked(ctx, false)
		f.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// readLocked delivers the rows after Applied, in batches of at most
// MaxChangesLimit. checkGap first asks whether rows after Applied were
// swept (the follower was away past ChangeRetention): then the first batch
// says Resync. f.mu held.
func (f *Follower) readLocked(ctx context.Context, checkGap bool) error {
	if after := f.applied.Load(); checkGap && after > 0 {
		var oldest int64
		err := f.p.read(ctx, func(q pgxQuerier) error {
			// An empty log was swept whole: the sequence says whether
			// rows were written after the follower's last.
			return q.QueryRow(ctx, `SELECT coalesce((SELECT min(id) FROM changes), (SELECT last_value + 1 FROM changes_id_seq))`).Scan(&oldest)
		})
		if err != nil {
			return err
		}
		// Ids have gaps (rolled-back writes), so this may resync when
		// nothing was lost; that costs a rebuild, never a lost change.
		f.resync = f.resync || oldest > after+1
	}
	for {
		resync := f.resync
		after := f.applied.Load()
		rows, err := f.p.Changes(ctx, after, MaxChangesLimit)
		if err != nil {
			return err
		}
		if len(rows) == 0 && !resync {
			return nil
		}
		batch := FollowBatch{Changes: make([]FollowedChange, len(rows)), Resync: resync}
		for i, c := range rows {
			batch.Changes[i] = FollowedChange{Change: c, Local: f.p.ownChange(c.ID)}
		}
		n, err := f.handle(batch)
		n = max(0, min(n, len(rows)))
		if n > 0 || err == nil {
			f.resync = false
		}
		if n > 0 {
			f.applied.Store(rows[n-1].ID)
			f.p.forgetOwnUpTo(rows[n-1].ID)
		}
		if err != nil {
			if n < len(rows) {
				return fmt.Errorf("registry: apply change %d: %w", rows[n].ID, err)
			}
			return fmt.Errorf("registry: apply changes: %w", err)
		}
		if len(rows) < MaxChangesLimit {
			return nil
		}
	}
}

// noteOwnChange remembers that this process appended change row id, so its
// followers deliver it as Local. Only while a follower runs: without one,
// nothing would forget the ids.
func (p *Postgres) noteOwnChange(id int64) {
	if p.followers.Load() == 0 {
		return
	}
	p.ownMu.Lock()
	if p.own == nil {
		p.own = map[int64]struct{}{}
	}
	p.own[id] = struct{}{}
	p.ownMu.Unlock()
}

func (p *Postgres) ownChange(id int64) bool {
	p.ownMu.Lock()
	defer p.ownMu.Unlock()
	_, ok := p.own[id]
	return ok
}

// forgetOwnUpTo forgets own ids up to id: ids commit in order, so an id
// at or below one delivered was delivered or never committed (its
// transaction rolled back).
func (p *Postgres) forgetOwnUpTo(id int64) {
	p.ownMu.Lock()
	defer p.ownMu.Unlock()
	for k := range p.own {
		if k <= id {
			delete(p.own, k)
		}
	}
}

// ChangePluginEvent is a plugin's custom websocket event published through
// one replica (POST /api/v1/plugins/{id}/events) for the clients of every
// replica (ChangePluginEventPayload).
const ChangePluginEvent = "plugin_event"

// MaxPluginEventBytes bounds a plugin event's payload in the change log:
// the event's data (the server takes at most 64 KiB) and its recipients,
// every member of a channel (Mattermost's largest reach tens of thousands,
// 29 bytes each).
const MaxPluginEventBytes = 4 << 20

// ErrEventTooLarge is returned by PublishEvent for a payload over
// MaxPluginEventBytes.
var ErrEventTooLarge = errors.New("event too large")

// PublishEvent appends a change row of kind with payload (a JSON object)
// that records no other write: an event every replica delivers to its own
// clients. Payloads are bounded by MaxPluginEventBytes; the row goes with
// the log's retention like every other.
func (p *Postgres) PublishEvent(ctx context.Context, kind string, payload json.RawMessage) error {
	if len(payload) > MaxPluginEventBytes {
		return fmt.Errorf("registry: publish %s: %w (%d bytes, at most %d)", kind, ErrEventTooLarge, len(payload), MaxPluginEventBytes)
	}
	if !json.Valid(payload) {
		return fmt.Errorf("registry: publish %s: %w: the payload is not JSON", kind, ErrInvalid)
	}
	err := p.tx(ctx, func(tx pgx.Tx) error {
		return p.appendChange(ctx, tx, kind, payload)
	})
	if err != nil {
		return fmt.Errorf("registry: publish %s: %w", kind, err)
	}
	return nil
}

// statementCounter counts the statements a store sends (a pgx tracer), but
// those of its followers: what the server's requests and writes cost the
// database, which the hot path must keep at zero while nothing changes.
type statementCounter struct{ n atomic.Uint64 }

// followCtx marks the contexts of a follower's statements.
type followCtx struct{}

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	if ctx.Value(followCtx{}) == nil {
		c.n.Add(1)
	}
	return ctx
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Statements returns how many statements the store has sent to the
// database (round trips, but for a follower's: LISTEN, its pings and its
// reads of the change log). Tests and /metrics read it.
func (p *Postgres) Statements() uint64 { return p.stmts.n.Load() }
