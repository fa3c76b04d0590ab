package registry

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrUnavailable wraps every error of a *Postgres call that failed because
// the database could not be reached or went away mid-call (refused or lost
// connection, server shutting down or starting up). Nothing the call wrote
// committed, except that a lost connection during COMMIT leaves the outcome
// unknown; retrying a write is safe because writes are idempotent or
// checked (versions are immutable, team states compare). The server answers
// it with 503 and Retry-After.
var ErrUnavailable = errors.New("registry database unavailable")

// Postgres limits. A registry is many small reads and a few large writes
// (a push carries megabytes of bundles); these bound what one replica asks
// of a database shared by many.
const (
	// DefaultMaxConns is the pool size of one replica when
	// Options.MaxConns is 0: enough for pushes, background work and the
	// misses of the server's caches at once; PostgreSQL's default
	// max_connections (100) then admits about ten replicas.
	DefaultMaxConns = 10
	// DefaultStatementTimeout bounds one statement when
	// Options.StatementTimeout is 0: a push of the largest package writes
	// about 100 MiB in one statement batch, which takes seconds, never a
	// minute; past it the statement is cancelled and the call fails
	// rather than holding a connection and its locks.
	DefaultStatementTimeout = 60 * time.Second
	// idleInTransactionTimeout ends the session of a client that opened a
	// transaction and stopped talking (a replica frozen mid-push): its
	// locks go with it.
	idleInTransactionTimeout = 2 * time.Minute
	// connectTimeout bounds dialling, so that a database that is down
	// makes calls fail with ErrUnavailable quickly instead of hanging.
	connectTimeout = 5 * time.Second
	// maxTxAttempts is how often a transaction that failed on a
	// serialisation failure or a deadlock is run again.
	maxTxAttempts = 8
	// ChangeRetention is how long rows of the change log are kept: a
	// replica that was away longer rebuilds its caches from the tables
	// instead of catching up from the log.
	ChangeRetention = 24 * time.Hour
	// changeSweepEvery is how often the store deletes expired change rows.
	changeSweepEvery = 10 * time.Minute
)

// changesLockKey is the pg_advisory_xact_lock key that orders change rows:
// a writer takes it right before appending its change row, at the end of its
// transaction, and holds it until commit. So change ids commit in id order,
// and a reader that has seen id N has seen every id below N (a bigserial on
// its own gives ids in the order transactions asked for them, not the order
// they committed: a reader catching up "after N" could skip a row). The
// value is arbitrary; it only must not collide with other advisory locks
// mmtoolkit takes (migrationsLockKey).
const changesLockKey = 0x6d6d746b_63686e67 // "mmtkchng"

// migrationsLockKey is the pg_advisory_xact_lock key migrations run under,
// so replicas starting at once migrate once.
const migrationsLockKey = 0x6d6d746b_6d696772 // "mmtkmigr"

// ChangesChannel is the NOTIFY channel a change row rings: its payload is
// the row's id. The row is the truth; the notification only says there is
// something to read.
const ChangesChannel = "mmtoolkit_changes"

// Change kinds: what a row of the change log says happened. Payloads are
// JSON objects described by each kind's payload type.
const (
	// ChangeVersion: a version was stored or its certification raised
	// (ChangeVersionPayload).
	ChangeVersion = "version"
	// ChangeTeamState: a team's state of a plugin changed
	// (ChangeTeamStatePayload).
	ChangeTeamState = "team_state"
	// ChangePrune: prereleases were pruned (ChangePrunePayload).
	ChangePrune = "prune"
	// ChangeEncodings: precompressed variants of a blob were stored
	// (ChangeBlobPayload).
	ChangeEncodings = "encodings"
	// ChangeSourceMap: a version got its source map
	// (ChangeVersionPayload, Kind set).
	ChangeSourceMap = "source_map"
	// ChangeBytecode: Hermes bytecode of a blob was stored
	// (ChangeBlobPayload, BytecodeVersion set).
	ChangeBytecode = "bytecode"
	// ChangeSetting: a shared setting changed (ChangeSettingPayload).
	ChangeSetting = "setting"
)

// ChangeVersionPayload is the payload of ChangeVersion and ChangeSourceMap.
type ChangeVersionPayload struct {
	PluginID string `json:"plugin_id"`
	Version  string `json:"version"`
	// Certified is set when an identical re-push raised the certification.
	Certified bool `json:"certified,omitempty"`
	// Kind is the artifact a ChangeSourceMap added (WebMap, MobileMap).
	Kind string `json:"kind,omitempty"`
}

// ChangeTeamStatePayload is the payload of ChangeTeamState: the state as
// stored after the change, and the state before it (WasEnabled,
// WasVersion), from which another replica tells its clients
// plugin_enabled, plugin_disabled or plugin_updated as the writer did.
type ChangeTeamStatePayload struct {
	TeamID     string `json:"team_id"`
	PluginID   string `json:"plugin_id"`
	Enabled    bool   `json:"enabled"`
	Version    string `json:"version,omitempty"`
	WasEnabled bool   `json:"was_enabled"`
	WasVersion string `json:"was_version,omitempty"`
}

// ChangePrunePayload is the payload of ChangePrune.
type ChangePrunePayload struct {
	PluginID  string   `json:"plugin_id"`
	Versions  []string `json:"versions"`
	Collected []string `json:"collected,omitempty"`
}

// ChangeBlobPayload is the payload of ChangeEncodings and ChangeBytecode.
type ChangeBlobPayload struct {
	SHA256          string `json:"sha256"`
	BytecodeVersion uint32 `json:"bytecode_version,omitempty"`
}

// ChangeSettingPayload is the payload of ChangeSetting.
type ChangeSettingPayload struct {
	Name string `json:"name"`
}

// Change is one row of the change log: every logical write of a *Postgres
// appends one in its own transaction, so replicas learn of it.
type Change struct {
	ID      int64           `json:"id"`
	At      time.Time       `json:"at"`
	Kind    string          `json:"kind"`
	Payload json.RawMessage `json:"payload"`
}

// MaxChangesLimit bounds one Changes read.
const MaxChangesLimit = 1000

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Postgres is the PostgreSQL Store: any number of processes (replicas) on
// one database, each with a bounded pool. Semantics are Bolt's, method for
// method: one transaction per logical write with its audit entry and its
// change row, immutable versions, content-addressed blobs. Records are
// stored as the same JSON Bolt stores, in `json` columns (which keep the
// bytes as written, unlike jsonb), next to the columns queries select on.
// No pgx type leaves the package. Every method is safe for concurrent use.
type Postgres struct {
	pool  *pgxpool.Pool
	clock func() time.Time
	dsn   string

	closeOnce sync.Once
	stop      chan struct{}
	done      chan struct{}

	// Change rows this process appended, while followers run
	// (postgres_listen.go).
	followers atomic.Int64
	ownMu     sync.Mutex
	own       map[int64]struct{}
	stmts     *statementCounter
}

var _ Store = (*Postgres)(nil)

// OpenPostgres connects to the database at dsn (a postgres:// URL or a
// key=value string), applies the migrations it lacks and starts the sweep of
// old change rows. opts.Clock, MaxConns and StatementTimeout apply; NoSync
// and LockTimeout are bbolt's. A database that cannot be reached is an
// error wrapping ErrUnavailable.
func OpenPostgres(ctx context.Context, dsn string, opts *Options) (*Postgres, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included.
		return nil, fmt.Errorf("registry: open postgres: %w: the store address is not a valid postgres:// URL or key=value string", ErrInvalid)
	}
	// Options first, then what the address says (pool_max_conns=,
	// statement_timeout=: an operator tunes a replica in its URL), then
	// the defaults.
	switch {
	case o.MaxConns > 0:
		cfg.MaxConns = o.MaxConns
	case !strings.Contains(dsn, "pool_max_conns"):
		cfg.MaxConns = int32(DefaultMaxConns)
	}
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = 30 * time.Second
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > connectTimeout {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	rp := cfg.ConnConfig.RuntimeParams
	if _, given := rp["statement_timeout"]; o.StatementTimeout > 0 || !given {
		timeout := DefaultStatementTimeout
		if o.StatementTimeout > 0 {
			timeout = o.StatementTimeout
		}
		rp["statement_timeout"] = strconv.FormatInt(timeout.Milliseconds(), 10)
	}
	rp["idle_in_transaction_session_timeout"] = strconv.FormatInt(idleInTransactionTimeout.Milliseconds(), 10)
	rp["timezone"] = "UTC"
	if rp["application_name"] == "" {
		rp["application_name"] = "mmtoolkit"
	}
	stmts := &statementCounter{} // postgres_listen.go
	cfg.ConnConfig.Tracer = stmts
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("registry: open postgres: %w", pgErr(err))
	}
	p := &Postgres{pool: pool, clock: o.Clock, dsn: dsn, stop: make(chan struct{}), done: make(chan struct{}), stmts: stmts}
	if err := p.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("registry: open postgres: %w", err)
	}
	go p.sweepChanges()
	return p, nil
}

// Close stops the change sweep and closes the pool, waiting for connections
// in use to be released. Closing twice is harmless; every other method then
// returns ErrClosed.
func (p *Postgres) Close() error {
	p.closeOnce.Do(func() {
		close(p.stop)
		<-p.done
		p.pool.Close()
	})
	return nil
}

// DSN is the address the store was opened with (it may carry a password:
// never print it).
func (p *Postgres) DSN() string { return p.dsn }

// closed reports whether Close was called.
func (p *Postgres) closed() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// now is the clock in UTC at microsecond precision (PostgreSQL's), without
// the monotonic reading, so what a write returns equals what a later read
// decodes.
func (p *Postgres) now() time.Time { return p.clock().UTC().Round(0).Truncate(time.Microsecond) }

// migration is one file of migrations/: NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the embedded migrations in version order. A file not
// named NNNN_name.sql, or two files with one number, is a build mistake:
// migrations fails rather than skip it.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || len(num) != 4 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration file %s is not named NNNN_name.sql", e.Name())
		}
		raw, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(raw)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("two migrations numbered %04d", out[i].version)
		}
	}
	return out, nil
}

// migrate applies the migrations the database lacks, each in its own
// transaction under one advisory lock, recording each in schema_migrations.
// Replicas starting at once queue on the lock: the first applies, the
// others find them applied. Migrations are forward only; a database with a
// migration this binary does not know was written by a newer binary, and
// is refused rather than guessed at (as Bolt refuses another schema).
func (p *Postgres) migrate(ctx context.Context) error {
	all, err := migrations()
	if err != nil {
		return err
	}
	known := map[int]bool{}
	for _, m := range all {
		known[m.version] = true
	}
	// The lock is taken in every transaction, so each one sees what the
	// previous holder committed.
	for _, m := range append(all, migration{}) {
		var newer []int
		err := p.tx(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationsLockKey)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version integer PRIMARY KEY,
				name text NOT NULL,
				applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
			if err != nil {
				return err
			}
			applied, err := pgx.CollectRows(rows, pgx.RowTo[int32])
			if err != nil {
				return err
			}
			newer = newer[:0]
			for _, v := range applied {
				if !known[int(v)] {
					newer = append(newer, int(v))
				}
			}
			if len(newer) > 0 || m.version == 0 || slices.Contains(applied, int32(m.version)) {
				return nil
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
			}
			_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name)
			return err
		})
		if err != nil {
			return err
		}
		if len(newer) > 0 {
			slices.Sort(newer)
			return fmt.Errorf("the database has schema migration %04d, which this binary does not know: it was written by a newer mmtoolkit; run that version", newer[0])
		}
	}
	return nil
}

// SchemaVersions returns the migrations applied to the database, lowest
// first: for operators and tests.
func (p *Postgres) SchemaVersions(ctx context.Context) ([]int, error) {
	var out []int
	err := p.read(ctx, func(q pgxQuerier) error {
		rows, err := q.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
		if err != nil {
			return err
		}
		vs, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		for _, v := range vs {
			out = append(out, int(v))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("registry: schema versions: %w", err)
	}
	return out, nil
}

// pgxQuerier is what reads need of a pool or a transaction.
type pgxQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// read runs fn on the pool: each statement on any connection, so fn must
// not rely on two statements seeing one snapshot (readTx does).
func (p *Postgres) read(ctx context.Context, fn func(q pgxQuerier) error) error {
	if p.closed() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return pgErr(fn(p.pool))
}

// readTx runs fn in a read-only REPEATABLE READ transaction: one snapshot
// for every statement, as a bbolt read transaction gives.
func (p *Postgres) readTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return p.runTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// tx runs fn in a READ COMMITTED read-write transaction and commits it. fn
// takes the row locks its checks need (SELECT ... FOR UPDATE), as bbolt's
// one writer made unnecessary. A serialisation failure or a deadlock rolls
// back and runs fn again (fn must not keep state across attempts but what
// it resets); errUnchanged rolls back and is returned as is, for the caller
// to treat as success.
func (p *Postgres) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return p.runTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
}

func (p *Postgres) runTx(ctx context.Context, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	if p.closed() {
		return ErrClosed
	}
	var err error
	for attempt := 0; attempt < maxTxAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err = p.runTxOnce(ctx, opts, fn)
		if !retryable(err) {
			break
		}
		// Back off a little, longer each time, so that the transactions
		// that collided do not collide again in lockstep.
		t := time.NewTimer(time.Duration(attempt+1) * time.Duration(1+time.Now().UnixNano()%7) * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return pgErr(err)
}

func (p *Postgres) runTxOnce(ctx context.Context, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	tx, err := p.pool.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// retryable reports a transaction that lost a race and may succeed when run
// again: a serialisation failure or a deadlock.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// pgErr turns errors that mean the database is out of reach into errors
// wrapping ErrUnavailable, and a closed pool into ErrClosed. Others pass.
func pgErr(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	if errors.Is(err, pgx.ErrTxClosed) || strings.Contains(err.Error(), "closed pool") {
		return ErrClosed
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // the caller gave up: not the database's doing
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"): // connection exception
			return true
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // shutdown, crash, starting up
			return true
		case pe.Code == "53300": // too many connections
			return true
		case pe.Code == "57014", pe.Code == "55P03": // statement timeout (or cancelled by an operator), lock timeout
			// The database is too busy or a lock is held too long: the
			// call wrote nothing, and a retry later may succeed.
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	if pgconn.Timeout(err) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"conn closed", "unexpected EOF", "broken pipe", "connection reset", "failed to connect", "connection refused"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// appendChange adds a change row to the log inside the caller's write
// transaction, and rings ChangesChannel on commit. Call it last in the
// transaction: it takes the lock that orders change rows (changesLockKey),
// which every writer then waits for until this transaction ends.
func (p *Postgres) appendChange(ctx context.Context, tx pgx.Tx, kind string, payload any) error {
	raw, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encode change: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(changesLockKey)); err != nil {
		return err
	}
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO changes (at, kind, payload) VALUES ($1, $2, $3) RETURNING id`,
		p.now(), kind, string(raw)).Scan(&id); err != nil {
		return fmt.Errorf("append change: %w", err)
	}
	p.noteOwnChange(id)
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, ChangesChannel, strconv.FormatInt(id, 10))
	return err
}

// Changes returns change rows with ids above afterID, lowest first, at most
// limit (0 or more than MaxChangesLimit means MaxChangesLimit). Ids commit
// in order (see changesLockKey), so a reader that applies every row it gets
// and asks again after the last id misses none that is still retained.
func (p *Postgres) Changes(ctx context.Context, afterID int64, limit int) ([]Change, error) {
	if limit <= 0 || limit > MaxChangesLimit {
		limit = MaxChangesLimit
	}
	out := []Change{}
	err := p.read(ctx, func(q pgxQuerier) error {
		rows, err := q.Query(ctx, `SELECT id, at, kind, payload::text FROM changes WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c Change
			var payload string
			if err := rows.Scan(&c.ID, &c.At, &c.Kind, &payload); err != nil {
				return err
			}
			c.At = c.At.UTC()
			c.Payload = json.RawMessage(payload)
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("registry: changes after %d: %w", afterID, err)
	}
	return out, nil
}

// LastChange returns the id of the newest change row, 0 when there is none:
// where a replica starting up begins to follow the log.
func (p *Postgres) LastChange(ctx context.Context) (int64, error) {
	var id int64
	err := p.read(ctx, func(q pgxQuerier) error {
		return q.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM changes`).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("registry: last change: %w", err)
	}
	return id, nil
}

// DeleteChangesBefore deletes change rows older than t and says how many;
// the store runs it every few minutes with ChangeRetention.
func (p *Postgres) DeleteChangesBefore(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := p.read(ctx, func(q pgxQuerier) error {
		tag, err := q.Exec(ctx, `DELETE FROM changes WHERE at < $1`, t)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("registry: delete changes: %w", err)
	}
	return n, nil
}

// sweepChanges deletes expired change rows until Close. Every replica runs
// it; the deletes are idempotent and cheap (an index range on at).
func (p *Postgres) sweepChanges() {
	defer close(p.done)
	t := time.NewTicker(changeSweepEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			p.DeleteChangesBefore(ctx, p.now().Add(-ChangeRetention)) // a failure is retried next tick
			cancel()
		}
	}
}

// pgAppendAudit adds e to the audit log inside the caller's write
// transaction, so the entry commits with the change it describes or not at
// all, and returns it with its Seq. Seqs are a sequence: increasing in
// insertion order, with gaps where a transaction rolled back.
func pgAppendAudit(ctx context.Context, tx pgx.Tx, e AuditEntry) (AuditEntry, error) {
	if err := tx.QueryRow(ctx, `SELECT nextval('audit_seq_seq')`).Scan(&e.Seq); err != nil {
		return e, fmt.Errorf("audit sequence: %w", err)
	}
	raw, err := json.Marshal(&e)
	if err != nil {
		return e, fmt.Errorf("encode audit entry: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit (seq, actor, action, plugin_id, team_id, record) VALUES ($1, $2, $3, $4, $5, $6)`,
		int64(e.Seq), e.Actor, e.Action, e.PluginID, e.TeamID, string(raw)); err != nil {
		return e, fmt.Errorf("write audit entry: %w", err)
	}
	return e, nil
}

// scanJSON decodes a json column read as text into v.
func scanJSON(raw string, v any) error {
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// keyedRecords reads rows of a key and a record (JSON as text), as the
// store's list queries return them, decoding each record into a new T for
// fn; a record that does not decode is an error naming it (what(key)).
func keyedRecords[T any](rows pgx.Rows, err error, what func(key string) string, fn func(key string, rec *T)) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var key, raw string
		if err := rows.Scan(&key, &raw); err != nil {
			return err
		}
		rec := new(T)
		if err := scanJSON(raw, rec); err != nil {
			return fmt.Errorf("%s: %w", what(key), err)
		}
		fn(key, rec)
	}
	return rows.Err()
}

// encodeJSON encodes v for a json column.
func encodeJSON(v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode: %w", err)
	}
	return string(raw), nil
}
