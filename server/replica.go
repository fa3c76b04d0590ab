package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Replicas. Any number of servers may share one PostgreSQL registry behind
// a load balancer. Each keeps its caches (manifests, the artifact index,
// merged plugin lists) and its websocket clients; what one changes reaches
// the others through the store's change log (registry.Follower: LISTEN/
// NOTIFY as the doorbell, the changes table as the truth), and each applies
// a change row the way the server that wrote it did (the change feed,
// changes.go).
// With bbolt there is one server and no log: nothing here runs.

// changeFeed is what a store shared by replicas offers (*registry.Postgres).
type changeFeed interface {
	LastChange(ctx context.Context) (int64, error)
	Follow(afterID int64, handle func(registry.FollowBatch) (int, error)) *registry.Follower
	PublishEvent(ctx context.Context, kind string, payload json.RawMessage) error
	BlobEncodings(ctx context.Context, sha string) (map[string]registry.Encoded, error)
}

// workClaimer is a store that makes background work happen once across
// replicas (*registry.Postgres.Claim).
type workClaimer interface {
	Claim(ctx context.Context, key string) (release func(), ok bool, err error)
}

// replica is the server's part in a fleet.
type replica struct {
	start    int64 // the change row the server's caches were built after
	follower *registry.Follower

	// Catch-ups on a miss, coalesced: see catchUp.
	catchUpMu      sync.Mutex
	catchUpStarted atomic.Uint64

	applied  atomic.Uint64 // change rows of other replicas applied
	skipped  atomic.Uint64 // claims another replica held
	resyncs  atomic.Uint64
	failures atomic.Uint64
}

// initFeed notes where the change log stands before the server reads the
// store to build its caches: rows after it are applied once following
// starts (some twice, harmlessly: adding what is indexed changes nothing).
func (s *Server) initFeed(ctx context.Context) error {
	feed, ok := s.store.(changeFeed)
	if !ok {
		return nil
	}
	start, err := feed.LastChange(ctx)
	if err != nil {
		return err
	}
	s.feed = feed
	s.replica.start = start
	return nil
}

// follow starts applying other replicas' changes (after the hub exists:
// changes publish events).
func (s *Server) follow() {
	if s.feed != nil {
		s.replica.follower = s.feed.Follow(s.replica.start, s.applyBatch)
	}
}

// stopFollowing stops applying changes (Close).
func (s *Server) stopFollowing() {
	if s.replica.follower != nil {
		s.replica.follower.Close()
	}
}

// applyBatch applies change rows from the log: those of other replicas
// (this server applied its own when it wrote them). A row whose reads fail
// because the database went away is delivered again later; one that cannot
// be understood is logged and skipped.
func (s *Server) applyBatch(b registry.FollowBatch) (int, error) {
	if b.Resync {
		if err := s.resync(); err != nil {
			return 0, err
		}
	}
	for i, fc := range b.Changes {
		if fc.Local {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
		c, ok, err := s.remoteChange(ctx, fc.Change)
		if err == nil && ok {
			s.changes.Publish(ctx, c)
		}
		cancel()
		if err != nil {
			if errors.Is(err, registry.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
				s.replica.failures.Add(1)
				return i, err
			}
			s.log.Error("change from another replica not applied", "id", fc.ID, "kind", fc.Kind, "err", err)
			continue
		}
		s.replica.applied.Add(1)
	}
	return len(b.Changes), nil
}

// resync rebuilds what the server derives from the store after missing
// change rows (away longer than the log keeps them): the artifact index is
// read again and every cache invalidated. Versions pruned meanwhile stay
// indexed until a restart (their blobs answer from the store: 404).
func (s *Server) resync() error {
	s.replica.resyncs.Add(1)
	s.log.Warn("rebuilding caches: this replica missed changes older than the change log keeps")
	ctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
	defer cancel()
	if err := s.indexArtifacts(ctx); err != nil {
		return err
	}
	s.changed()
	s.parts.Forget()
	s.quota.Forget()
	return nil
}

// catchUp applies every change row committed before it was called, for a
// request that missed (a bundle another replica stored a moment ago, before
// its notification arrived): so a push answered 201 by one replica is
// servable from every other at once. Callers that arrive while a catch-up
// runs share the next one, so a burst of misses costs the database one
// read at a time. It reports whether there was a log to read.
func (s *Server) catchUp(ctx context.Context) bool {
	f := s.replica.follower
	if f == nil {
		return false
	}
	ticket := s.replica.catchUpStarted.Load()
	s.replica.catchUpMu.Lock()
	defer s.replica.catchUpMu.Unlock()
	if s.replica.catchUpStarted.Load() > ticket {
		return true // one started after this request arrived has run
	}
	s.replica.catchUpStarted.Add(1)
	if err := f.CatchUp(ctx); err != nil {
		s.log.Warn("catching up with the change log", "err", err)
	}
	return true
}

// claim runs work unless another replica is doing it: with a store shared
// by replicas (workClaimer), under a claim keyed by key; done, asked under
// the claim, says whether a replica already finished it (then work does
// not run). Without such a store, work runs. A store that cannot be asked
// (the database is down) runs nothing: the next start redoes missing work.
func (s *Server) claim(ctx context.Context, key string, done func() (bool, error), work func() error) error {
	wc, ok := s.store.(workClaimer)
	if !ok {
		return work()
	}
	release, ok, err := wc.Claim(ctx, key)
	if err != nil {
		return err
	}
	if !ok {
		s.replica.skipped.Add(1)
		return nil
	}
	defer release()
	if done != nil {
		finished, err := done()
		if err != nil {
			return err
		}
		if finished {
			s.replica.skipped.Add(1)
			return nil
		}
	}
	return work()
}

// ReplicaStats is what /metrics and tests read of a server's part in a
// fleet.
type ReplicaStats struct {
	// Following: the store has a change log this server follows.
	Following bool
	// Connected: its notification connection is up.
	Connected bool
	// Applied counts change rows of other replicas applied; Reconnects
	// the notification connections lost; Skipped the background jobs
	// another replica did; Resyncs the rebuilds after missed rows.
	Applied, Reconnects, Skipped, Resyncs uint64
	// LastChange is the id of the last change row applied.
	LastChange int64
}

// Replica returns the server's replica statistics.
func (s *Server) Replica() ReplicaStats {
	st := ReplicaStats{Applied: s.replica.applied.Load(), Skipped: s.replica.skipped.Load(), Resyncs: s.replica.resyncs.Load()}
	if f := s.replica.follower; f != nil {
		st.Following, st.Connected, st.Reconnects, st.LastChange = true, f.Connected(), f.Reconnects(), f.Applied()
	}
	return st
}

// encoded reports whether another replica already stored sha's variants
// (then this server indexes them now, ahead of the change row).
func (s *Server) encoded(ctx context.Context, sha string) (bool, error) {
	if s.feed == nil {
		return false, nil
	}
	enc, err := s.feed.BlobEncodings(ctx, sha)
	if err != nil || len(enc) == 0 {
		return false, err
	}
	s.index.AddEncodings(sha, enc)
	return true, nil
}

// writeReplicaMetrics adds the replica's lines to /metrics: the change log
// it follows, and the statements its store sent (a bench divides them by
// the requests it made: 0 per manifest while nothing changes).
func (s *Server) writeReplicaMetrics(w io.Writer) {
	if c, ok := s.store.(interface{ Statements() uint64 }); ok {
		fmt.Fprintf(w, "# HELP mmtoolkit_store_statements_total Statements sent to the registry database (not counting the change log follower's).\n# TYPE mmtoolkit_store_statements_total counter\nmmtoolkit_store_statements_total %d\n", c.Statements())
	}
	st := s.Replica()
	if !st.Following {
		return
	}
	connected := 0
	if st.Connected {
		connected = 1
	}
	fmt.Fprintf(w, "# HELP mmtoolkit_replica_listening Whether the change log's notification connection is up.\n# TYPE mmtoolkit_replica_listening gauge\nmmtoolkit_replica_listening %d\n", connected)
	fmt.Fprintf(w, "# HELP mmtoolkit_replica_last_change The id of the last change row applied.\n# TYPE mmtoolkit_replica_last_change gauge\nmmtoolkit_replica_last_change %d\n", st.LastChange)
	fmt.Fprintf(w, "# HELP mmtoolkit_replica_changes_applied_total Change rows of other replicas applied.\n# TYPE mmtoolkit_replica_changes_applied_total counter\nmmtoolkit_replica_changes_applied_total %d\n", st.Applied)
	fmt.Fprintf(w, "# HELP mmtoolkit_replica_reconnects_total Notification connections lost and listened again.\n# TYPE mmtoolkit_replica_reconnects_total counter\nmmtoolkit_replica_reconnects_total %d\n", st.Reconnects)
	fmt.Fprintf(w, "# HELP mmtoolkit_replica_jobs_skipped_total Background jobs another replica did.\n# TYPE mmtoolkit_replica_jobs_skipped_total counter\nmmtoolkit_replica_jobs_skipped_total %d\n", st.Skipped)
	fmt.Fprintf(w, "# HELP mmtoolkit_replica_resyncs_total Cache rebuilds after missed change rows.\n# TYPE mmtoolkit_replica_resyncs_total counter\nmmtoolkit_replica_resyncs_total %d\n", st.Resyncs)
}
