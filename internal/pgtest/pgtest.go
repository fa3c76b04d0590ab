// Package pgtest runs throwaway PostgreSQL clusters for tests: initdb into a
// temporary directory, the postmaster as a child process listening on a unix
// socket in that directory and on 127.0.0.1 at a free port, without fsync
// and full page writes (a test's data dies with its directory; a commit
// still survives a killed server, not a power loss). No system service is
// assumed. As root (PostgreSQL refuses to run as root) the cluster runs as
// the user nobody.
//
// Tests of a package share one cluster started on first use, each with a
// fresh database (DB); a test that stops or restarts PostgreSQL gets a
// cluster of its own (New). A package using either calls Main from its
// TestMain, which stops the shared cluster when the tests end.
//
// The binaries come from $PGTEST_BIN, /usr/lib/postgresql/<newest>/bin or
// PATH. Without them a test is skipped, unless CI=true: then it fails, so
// that CI never passes by skipping the PostgreSQL store.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is one running (or stopped) PostgreSQL cluster.
type Cluster struct {
	bin  string // directory of initdb, postgres
	dir  string // temp root: data/, the socket, the log
	port int
	cred *syscall.Credential // nil when not root

	mu   sync.Mutex
	cmd  *exec.Cmd
	exit chan struct{} // closed when cmd exits
	dbs  atomic.Int64
}

// ErrNoPostgres says the PostgreSQL binaries were not found.
var ErrNoPostgres = errors.New("pgtest: PostgreSQL binaries not found (install Debian's postgresql package, or set PGTEST_BIN to the directory of initdb and postgres)")

// FindBin returns the directory holding initdb and postgres.
func FindBin() (string, error) {
	if d := os.Getenv("PGTEST_BIN"); d != "" {
		if exe(filepath.Join(d, "postgres")) && exe(filepath.Join(d, "initdb")) {
			return d, nil
		}
		return "", fmt.Errorf("%w: PGTEST_BIN=%s has no initdb and postgres", ErrNoPostgres, d)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if exe(filepath.Join(d, "postgres")) && exe(filepath.Join(d, "initdb")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if exe(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

func pgMajor(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func exe(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// skipOrFail skips t for a missing PostgreSQL, or fails it under CI=true.
func skipOrFail(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" || !errors.Is(err, ErrNoPostgres) {
		t.Fatalf("pgtest: %v", err)
	}
	t.Skipf("pgtest: %v", err)
}

// Start initialises a cluster in a new temporary directory and starts it.
// The caller must Close it.
func Start() (*Cluster, error) {
	bin, err := FindBin()
	if err != nil {
		return nil, err
	}
	// Short: the socket path must fit in 107 bytes.
	dir, err := os.MkdirTemp("", "pgtest")
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: running as root and no user nobody to run PostgreSQL as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	initdb := c.command(filepath.Join(bin, "initdb"), "-D", c.dataDir(), "-U", "postgres", "--auth=trust",
		"--no-sync", "-E", "UTF8", "--locale=C")
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	for attempt := 0; ; attempt++ {
		c.port, err = freePort()
		if err == nil {
			err = c.Restart()
		}
		if err == nil || attempt == 4 {
			break
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }

// LogFile is the server's log, for a test that failed to read.
func (c *Cluster) LogFile() string { return filepath.Join(c.dir, "postgres.log") }

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Dir = c.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGKILL}
	return cmd
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Restart starts the postmaster of a stopped cluster (on the same port and
// data) and waits until it accepts connections. Starting a running cluster
// is an error.
func (c *Cluster) Restart() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil {
		return errors.New("pgtest: cluster already running")
	}
	for attempt := 0; ; attempt++ {
		err := c.startLocked()
		// After Kill, the old backends hold the shared memory until they
		// notice the postmaster is gone; the new one refuses to start
		// until then.
		if err == nil || attempt == 100 || !strings.Contains(err.Error(), "pre-existing shared memory block") {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *Cluster) startLocked() error {
	logf, err := os.OpenFile(c.LogFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o666)
	if err != nil {
		return err
	}
	defer logf.Close()
	if c.cred != nil {
		os.Chown(c.LogFile(), int(c.cred.Uid), int(c.cred.Gid))
	}
	cmd := c.command(filepath.Join(c.bin, "postgres"), "-D", c.dataDir(),
		"-p", strconv.Itoa(c.port), "-k", c.dir, "-c", "listen_addresses=127.0.0.1",
		// fsync off: a commit is written to the OS, not flushed, so it
		// survives Kill (a process crash) but not a power loss, which a
		// test does not have. synchronous_commit stays on: off would lose
		// the last acknowledged commits on Kill.
		"-c", "fsync=off", "-c", "full_page_writes=off",
		"-c", "shared_buffers=32MB", "-c", "max_connections=200",
		"-c", "log_min_messages=warning", "-c", "log_statement=none")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	exit := make(chan struct{})
	go func() { cmd.Wait(); close(exit) }()
	c.cmd, c.exit = cmd, exit

	deadline := time.Now().Add(60 * time.Second) // a busy machine
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		if err == nil {
			conn.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		select {
		case <-exit:
			c.cmd = nil
			log, _ := os.ReadFile(c.LogFile())
			return fmt.Errorf("pgtest: postgres exited at start: %s", tail(log))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.stopLocked(syscall.SIGQUIT)
			return fmt.Errorf("pgtest: postgres did not accept connections in 60s: %v", err)
		}
	}
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Stop shuts the cluster down (a fast shutdown: sessions are ended,
// transactions in flight roll back) and waits for it; Restart starts it
// again. Stopping a stopped cluster does nothing.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopLocked(syscall.SIGINT)
}

// Kill ends the postmaster with SIGKILL, as a crash would: on Restart
// PostgreSQL recovers from its log.
func (c *Cluster) Kill() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopLocked(syscall.SIGKILL)
}

func (c *Cluster) stopLocked(sig syscall.Signal) error {
	if c.cmd == nil {
		return nil
	}
	c.cmd.Process.Signal(sig)
	select {
	case <-c.exit:
	case <-time.After(60 * time.Second):
		c.cmd.Process.Kill()
		<-c.exit
	}
	c.cmd = nil
	return nil
}

// Close stops the cluster and removes its directory.
func (c *Cluster) Close() error {
	err := c.Stop()
	os.RemoveAll(c.dir)
	return err
}

// Port is the TCP port the cluster listens on at 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// SocketDir is the directory of the cluster's unix socket.
func (c *Cluster) SocketDir() string { return c.dir }

// DSN is the postgres:// URL of database db over TCP on 127.0.0.1, as the
// superuser postgres (trust authentication).
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// CreateDB creates a new empty database and returns its DSN.
func (c *Cluster) CreateDB(ctx context.Context) (name, dsn string, err error) {
	name = fmt.Sprintf("t%d_%d", os.Getpid(), c.dbs.Add(1))
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return "", "", fmt.Errorf("pgtest: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", "", fmt.Errorf("pgtest: create database: %w", err)
	}
	return name, c.DSN(name), nil
}

// DropDB drops a database, ending its sessions first.
func (c *Cluster) DropDB(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	return err
}

// DB returns the DSN of a fresh database in the package's shared cluster
// (started on first use), dropped when t ends. Without PostgreSQL it skips
// t, or fails it under CI=true.
func DB(t testing.TB) string {
	t.Helper()
	c, err := shared()
	if err != nil {
		skipOrFail(t, err)
	}
	name, dsn, err := c.CreateDB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.DropDB(ctx, name); err != nil && !strings.Contains(err.Error(), "connect") {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	return dsn
}

// New starts a cluster of t's own, closed when t ends: for tests that stop,
// kill or restart PostgreSQL. Its database "postgres" exists. Without
// PostgreSQL it skips t, or fails it under CI=true.
func New(t testing.TB) *Cluster {
	t.Helper()
	c, err := Start()
	if err != nil {
		skipOrFail(t, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var (
	sharedOnce sync.Once
	sharedC    *Cluster
	sharedErr  error
)

func shared() (*Cluster, error) {
	sharedOnce.Do(func() { sharedC, sharedErr = Start() })
	return sharedC, sharedErr
}

// Main runs the package's tests and then stops the shared cluster, if one
// was started. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	if sharedC != nil {
		sharedC.Close()
	}
	return code
}
