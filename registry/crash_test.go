package registry_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/semver"

	"github.com/mmtoolkit/mmtoolkit/internal/pgtest"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// The crash test re-runs this test binary as a child that writes to a real
// registry file (with fsync) until the parent SIGKILLs it at a random moment,
// usually in the middle of a commit. After each kill the parent reopens the
// file and checks the store's invariants. A SIGKILL leaves the kernel's page
// cache intact, so this is a process crash, not a power cut: it proves that
// no code path writes half a push, not that the disk honours fsync.
const (
	crashPathEnv  = "REGISTRY_CRASH_CHILD_DB"
	crashRoundEnv = "REGISTRY_CRASH_CHILD_ROUND"
)

// TestCrashChild is the child's body; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashPathEnv)
	if path == "" {
		return
	}
	round, _ := strconv.Atoi(os.Getenv(crashRoundEnv))
	if err := crashChild(path, round); err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// crashChild pushes versions and changes team states until killed, printing
// one line per acknowledged write: the parent checks that each survived.
// Each version has a fresh random bundle (tens of KiB, so commits span many
// pages) and a bundle shared by all versions (stored once).
func crashChild(path string, round int) error {
	s, err := openCrashStore(path, &registry.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	fmt.Println("ready")
	shared := bytes.Repeat([]byte("shared host shim;\n"), 4<<10)
	by := registry.Pusher{UserID: "crash"}
	// Bounded, so an orphan whose parent died does not run forever.
	began := time.Now()
	for i := 0; i < 100_000 && time.Since(began) < 30*time.Second; i++ {
		id := fmt.Sprintf("crash%d.plugin", i%3)
		unique := make([]byte, 16<<10+mrand.IntN(64<<10))
		rand.Read(unique)
		v, blobs := registrytest.Version(id, fmt.Sprintf("%d.%d.0", round, i), unique, shared)
		if _, err := s.PutVersion(context.Background(), v, blobs, by); err != nil {
			return err
		}
		fmt.Printf("put %s@%s\n", v.PluginID, v.Version)
		if i%4 == 3 { // an idempotent re-push now and then: must write nothing
			if res, err := s.PutVersion(context.Background(), v, blobs, by); err != nil || res.Created {
				return fmt.Errorf("re-push: created %v, err %v", res.Created, err)
			}
		}
		st, err := s.SetTeamState(context.Background(), registry.TeamState{
			TeamID: fmt.Sprint("team", i%2), PluginID: id, Enabled: i%3 != 0, Version: v.Version, UpdatedBy: "crash",
		})
		if err != nil {
			return err
		}
		fmt.Printf("team %s %s %s\n", st.TeamID, st.PluginID, st.Version)
	}
	return s.Close()
}

// openCrashStore opens the store at addr: a PostgreSQL URL, else a bbolt
// file.
func openCrashStore(addr string, opts *registry.Options) (testStore, error) {
	if strings.HasPrefix(addr, "postgres://") {
		return registry.OpenPostgres(context.Background(), addr, opts)
	}
	return registry.Open(addr, opts)
}

// TestCrashConsistency runs on both stores: on bbolt the child's process
// dies mid-commit with the file; on PostgreSQL the database sees the
// child's connections drop mid-transaction, as it sees a replica SIGKILLed
// mid-push.
func TestCrashConsistency(t *testing.T) {
	if os.Getenv(crashPathEnv) != "" {
		return // this is a child
	}
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "registry.db")
			if kind == "postgres" {
				path = pgtest.DB(t)
			}
			crashConsistency(t, path)
		})
	}
}

func crashConsistency(t *testing.T, path string) {
	// Each round waits for the child to acknowledge 1-8 writes, then kills
	// it 0-20 ms later: on a busy machine a fixed delay after the start
	// mostly killed children before their first write (4-9 of 60 rounds
	// wrote), and such a round proves nothing. The budget stops adding
	// rounds, never the first minRounds.
	rounds, minRounds, budget := 60, 10, 10*time.Second
	if testing.Short() {
		rounds, minRounds, budget = 10, 5, 3*time.Second
	}
	start := time.Now()
	acked, roundsWithWrites, round := 0, 0, 1
	for ; round <= rounds && (round <= minRounds || time.Since(start) < budget); round++ {
		lines := runAndKill(t, path, round, 1+mrand.IntN(8), time.Duration(mrand.IntN(21))*time.Millisecond)

		s, err := openCrashStore(path, nil) // bbolt: real fsync, as in production
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		if err := s.Verify(ctx); err != nil {
			s.Close()
			t.Fatalf("round %d: %v", round, err)
		}
		// Every write the child acknowledged must have survived. A team
		// state may since have moved on to a later version (a write that
		// committed just before the kill, unacknowledged), never back.
		lastPin := map[[2]string]string{}
		for _, line := range lines {
			f := strings.Fields(line)
			switch f[0] {
			case "put":
				acked++
				id, version, _ := strings.Cut(f[1], "@")
				if _, err := s.Version(ctx, id, version); err != nil {
					t.Errorf("round %d: acknowledged push lost: %v", round, err)
				}
			case "team":
				acked++
				lastPin[[2]string{f[1], f[2]}] = f[3]
			}
		}
		for k, want := range lastPin {
			states, err := s.TeamStates(ctx, k[0])
			if got := states[k[1]].Version; err != nil || semver.Compare("v"+got, "v"+want) < 0 {
				t.Errorf("round %d: acknowledged team state %s %s pinned %s lost: pinned %q, %v", round, k[0], k[1], want, got, err)
			}
		}
		if len(lines) > 0 {
			roundsWithWrites++
		}
		s.Close()
	}
	s, err := openCrashStore(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, _ := s.Stats(ctx)
	t.Logf("%d kills in %v: %d acknowledged writes all survived; %d rounds wrote before the kill; store holds %d versions, %d blobs, %d audit entries",
		round-1, time.Since(start).Round(time.Millisecond), acked, roundsWithWrites, st.Versions, st.Blobs, st.AuditEntries)
	if roundsWithWrites != round-1 {
		t.Fatalf("%d of %d rounds wrote before the kill: every round must", roundsWithWrites, round-1)
	}
}

// ackTimeout bounds the wait for a child's acknowledged writes: generous,
// for a machine so busy that a commit with fsync takes seconds.
const ackTimeout = 60 * time.Second

// runAndKill starts the child on path, waits until it has acknowledged
// acks writes, lets it go on for d, SIGKILLs it and returns the lines it
// printed.
func runAndKill(t *testing.T, path string, round, acks int, d time.Duration) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashPathEnv+"="+path, crashRoundEnv+"="+strconv.Itoa(round))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	select {
	case line, ok := <-lines:
		if !ok || line != "ready" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: child did not start: %q %s", round, line, stderr.String())
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("round %d: child did not open the store in 10s: %s", round, stderr.String())
	}
	var got []string
	var kill <-chan time.Time // armed at the acks-th acknowledged write
	timeout := time.After(ackTimeout)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				// The child must not have finished or failed before the kill.
				err := cmd.Wait()
				t.Fatalf("round %d: child exited before the kill (%v): %s", round, err, stderr.String())
			}
			got = append(got, line)
			if len(got) == acks {
				kill = time.After(d)
			}
		case <-timeout:
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: %d of %d writes acknowledged in %v: %s", round, len(got), acks, ackTimeout, stderr.String())
		case <-kill:
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			for line := range lines { // what it printed before dying
				got = append(got, line)
			}
			cmd.Wait() // "signal: killed", expected
			return got
		}
	}
}
