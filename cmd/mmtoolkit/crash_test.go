package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// TestCrashConsistency SIGKILLs the server at random moments while one
// client pushes new versions and another toggles and pins the plugin for a
// team, until MMTOOLKIT_CRASH_OPS operations (default 200) were sent. After
// every kill:
//
//   - the store opens and registry.Verify passes: every version complete,
//     every blob (bundles, precompressed variants, Hermes bytecode) hashes
//     to its key, and the audit log has a push entry for each stored version
//     and none for another, and its enable/disable/pin entries replay to
//     exactly the stored team state;
//   - the restarted server lists every acknowledged version, serves bytes
//     that match each bundle's SHA-256 (bytecode included), and the team's
//     state is the last acknowledged toggle or the one in flight at the kill.
//
// MMTOOLKIT_CRASH_SEED replays a run (the seed is logged).
func TestCrashConsistency(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	ops := envInt(t, "MMTOOLKIT_CRASH_OPS", 200)
	seed := uint64(envInt(t, "MMTOOLKIT_CRASH_SEED", int(time.Now().UnixNano()&0x7fffffff)))
	t.Logf("MMTOOLKIT_CRASH_OPS=%d MMTOOLKIT_CRASH_SEED=%d", ops, seed)
	rng := mrand.New(mrand.NewPCG(seed, 1))
	start := time.Now()

	bin := filepath.Join(t.TempDir(), "mmtoolkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := t.TempDir()
	base := packVersion(t, bin, filepath.Join("..", "..", "docs", "examples", "hello"), "1.0.0")
	const pluginID = "com.example.hello"

	c := &crashRun{t: t, bin: bin, data: data, checked: map[string]bool{}, acked: map[string]bool{"1.0.0": true}}
	c.start()
	if status := c.push(base); status != http.StatusCreated {
		t.Fatalf("first push: %d", status)
	}

	sent, rounds, next := 0, 0, 1
	var cut []string // pushes the kill cut off
	for sent < ops {
		rounds++
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			stop     = make(chan struct{})
			inflight *toggle // the toggle whose answer the kill cut off
			pushed   []string
			acks     = make(chan struct{}, ops+2) // one per acknowledged operation
			idle     = make(chan struct{})        // both clients stopped (operations used up)
		)
		stopped := func() bool {
			select {
			case <-stop:
				return true
			default:
				return false
			}
		}
		claim := func() bool {
			mu.Lock()
			defer mu.Unlock()
			if sent >= ops {
				return false
			}
			sent++
			return true
		}
		wg.Add(2)
		go func() { // the pusher
			defer wg.Done()
			for !stopped() && claim() {
				mu.Lock()
				v := fmt.Sprintf("1.1.%d", next)
				next++
				mu.Unlock()
				status := c.push(withVersion(t, base, v))
				switch status {
				case http.StatusCreated:
					mu.Lock()
					c.acked[v] = true
					pushed = append(pushed, v)
					mu.Unlock()
					acks <- struct{}{}
				case 0: // killed before the answer: may or may not be stored
					mu.Lock()
					cut = append(cut, v)
					mu.Unlock()
					return
				default:
					t.Errorf("push %s: status %d", v, status)
					return
				}
			}
		}()
		go func() { // the team admin
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(seed, uint64(rounds)+1)) // its own: Rand is not safe to share
			for !stopped() && claim() {
				mu.Lock()
				tg := toggle{Enabled: !c.state.Enabled}
				if rng.IntN(3) == 0 && len(pushed) > 0 {
					tg.Version = pushed[rng.IntN(len(pushed))]
				}
				mu.Unlock()
				status := c.setState(tg)
				mu.Lock()
				switch status {
				case http.StatusOK:
					c.state = tg
				case 0:
					inflight = &tg
				default:
					t.Errorf("toggle %+v: status %d", tg, status)
				}
				mu.Unlock()
				if status != http.StatusOK {
					return
				}
				acks <- struct{}{}
				// About as many toggles as pushes: a toggle is much cheaper.
				time.Sleep(time.Duration(10+rng.IntN(40)) * time.Millisecond)
			}
		}()
		go func() { wg.Wait(); close(idle) }()
		// Kill after the round's k-th acknowledged operation (k in 1-8),
		// 0-150 ms later: after a fixed delay, a busy machine's server had
		// often acknowledged nothing yet, and such a round tests nothing.
		c.waitAcks(rounds, acks, idle, 1+rng.IntN(8))
		time.Sleep(time.Duration(rng.IntN(151)) * time.Millisecond)
		c.srv.kill(t)
		close(stop)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}

		bytecode := c.verifyStore()
		c.start()
		c.checkServed(pluginID, bytecode, rng)
		st := c.teamState(pluginID)
		switch {
		case st == c.state:
		case inflight != nil && st == *inflight:
			c.state = st // the cut-off toggle committed
		default:
			t.Fatalf("round %d: team state after restart %+v; last acknowledged %+v, in flight %+v", rounds, st, c.state, inflight)
		}
	}
	committed := 0
	for _, v := range cut {
		if c.stored[v] {
			committed++
		}
	}
	t.Logf("%d operations, %d SIGKILLs, %d versions acknowledged; of %d pushes cut off by a kill %d committed; %d distinct bundles checked; %v",
		sent, rounds, len(c.acked), len(cut), committed, len(c.checked), time.Since(start).Round(time.Millisecond))
}

// crashAckTimeout bounds the wait for a round's acknowledged operations:
// generous, for a machine so busy that a push takes seconds.
const crashAckTimeout = 90 * time.Second

// waitAcks returns once k operations of the round were acknowledged, or
// both clients stopped (the run's operations are used up); it fails the
// test if neither happens within crashAckTimeout.
func (c *crashRun) waitAcks(round int, acks <-chan struct{}, idle <-chan struct{}, k int) {
	timeout := time.After(crashAckTimeout)
	for got := 0; got < k; {
		select {
		case <-acks:
			got++
		case <-idle:
			return
		case <-timeout:
			c.t.Fatalf("round %d: %d of %d operations acknowledged in %v", round, got, k, crashAckTimeout)
		}
	}
}

type toggle struct {
	Enabled bool   `json:"enabled"`
	Version string `json:"version"`
}

type crashRun struct {
	t          *testing.T
	bin, data  string
	srv        *serverProc
	dev, alice string

	acked   map[string]bool // versions answered 201
	stored  map[string]bool // versions the server lists after the last restart
	state   toggle          // the last acknowledged team state
	checked map[string]bool // bundle URLs whose served bytes were checked
}

func (c *crashRun) start() {
	c.srv = startServer(c.t, c.bin, c.data)
	c.dev, c.alice = login(c.t, c.srv.url, "dev"), login(c.t, c.srv.url, "alice")
}

// do sends one request; 0 means no answer (the server was killed).
func (c *crashRun) do(method, url, token, ctype string, body []byte) (int, []byte) {
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil
	}
	return resp.StatusCode, b
}

func (c *crashRun) push(archive []byte) int {
	status, _ := c.do("POST", c.srv.url+"/api/v1/plugins", c.dev, "application/gzip", archive)
	return status
}

func (c *crashRun) setState(tg toggle) int {
	body, _ := json.Marshal(tg)
	status, _ := c.do("PUT", c.srv.url+"/api/v1/teams/engineering/plugins/com.example.hello", c.alice, "application/json", body)
	return status
}

func (c *crashRun) teamState(pluginID string) toggle {
	var out struct {
		Plugins []struct {
			ID      string
			Enabled bool
			Version string
		}
	}
	getJSON(c.t, c.srv.url+"/api/v1/teams/engineering/plugins", c.alice, &out)
	for _, p := range out.Plugins {
		if p.ID == pluginID {
			return toggle{Enabled: p.Enabled, Version: p.Version}
		}
	}
	c.t.Fatalf("team plugins list no %s", pluginID)
	return toggle{}
}

// verifyStore opens the killed server's file directly and checks every
// invariant; it returns the Hermes bytecode records, whose bytes the
// restarted server must then serve.
func (c *crashRun) verifyStore() []registry.Bytecode {
	c.t.Helper()
	st, err := registry.Open(filepath.Join(c.data, "registry.db"), nil)
	if err != nil {
		c.t.Fatalf("store after SIGKILL: %v", err)
	}
	defer st.Close()
	if err := st.Verify(context.Background()); err != nil {
		c.t.Fatalf("store after SIGKILL: %v", err)
	}
	bc, err := st.AllBytecode(context.Background())
	if err != nil {
		c.t.Fatal(err)
	}
	return bc
}

// checkServed lists the plugin's versions on the restarted server: every
// acknowledged version is there with its web and mobile bundles, and every
// bundle not checked in an earlier round (plus a sample of those that were)
// is served with bytes that hash to its name.
func (c *crashRun) checkServed(pluginID string, bytecode []registry.Bytecode, rng *mrand.Rand) {
	c.t.Helper()
	var detail struct {
		Versions []struct {
			Version string
			Bundles map[string]struct{ URL, SHA256 string }
		}
	}
	getJSON(c.t, c.srv.url+"/api/v1/plugins/"+pluginID, c.dev, &detail)
	stored := map[string]bool{}
	c.stored = stored
	want := map[string]string{} // URL -> SHA-256
	for _, v := range detail.Versions {
		stored[v.Version] = true
		for _, kind := range []string{"web", "mobile"} {
			if _, ok := v.Bundles[kind]; !ok {
				c.t.Errorf("version %s has no %s bundle", v.Version, kind)
			}
		}
		for _, b := range v.Bundles {
			want[b.URL] = b.SHA256
		}
	}
	for v := range c.acked {
		if !stored[v] {
			c.t.Errorf("version %s was acknowledged (201) but is gone after the restart", v)
		}
	}
	for _, bc := range bytecode {
		if bc.Error == "" {
			want["/bundles/"+bc.Artifact.SHA256+".hbc"] = bc.Artifact.SHA256
		}
	}
	for url, sum := range want {
		if c.checked[url] && rng.IntN(10) != 0 {
			continue
		}
		body := get(c.t, c.srv.url+url, "")
		if got := sha256.Sum256(body); hex.EncodeToString(got[:]) != sum {
			c.t.Errorf("%s: served bytes hash to %x", url, got)
		}
		c.checked[url] = true
	}
	if c.t.Failed() {
		c.t.FailNow()
	}
}

// withVersion rewrites a packed plugin: plugin.json gets version v and the
// web and mobile entries a statement naming it, so that every version has
// its own bundles and bytecode (not blobs shared with other versions).
func withVersion(t *testing.T, archive []byte, v string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	versionRe := regexp.MustCompile(`"version":\s*"[^"]*"`)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		switch name := strings.TrimPrefix(h.Name, "./"); {
		case path.Base(name) == "plugin.json" && strings.Count(name, "/") <= 1:
			body = versionRe.ReplaceAll(body, []byte(`"version": "`+v+`"`))
		case strings.HasSuffix(name, "webapp/index.tsx"), strings.HasSuffix(name, "mobile/index.tsx"):
			body = append(body, fmt.Sprintf("\n(globalThis as any).helloBuild = %q;\n", v)...)
		}
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return out.Bytes()
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a non-negative integer", name, s)
	}
	return n
}
