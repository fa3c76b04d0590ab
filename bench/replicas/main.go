// Command replicas measures the PostgreSQL mode (issue #18) side by side
// with one bbolt process, in one run, on loopback: a sandbox server stands
// in for Mattermost, a throwaway PostgreSQL cluster (internal/pgtest) holds
// the registry, and nginx (internal/fleet) balances the replicas.
//
//	manifest   GET /api/v1/manifest req/s with 1, 2 and 3 PostgreSQL replicas
//	           behind nginx, one bbolt process behind the same nginx, and the
//	           bbolt process direct (wrk, median of ROUNDS runs, the order
//	           rotated each round), with the CPU time per request of the
//	           servers and nginx, and of PostgreSQL apart
//	roundtrips statements PostgreSQL ran per manifest request once warm, and
//	           for the first requests after a toggle (log_statement=all,
//	           counted in the cluster's log for the registry's database)
//	fanout     a toggle through replica 1 to N websocket clients of replica 2:
//	           p50/p99/max from the PUT to each client's event
//	push       push to servable: POST of the same plugin package (a new
//	           version each time) to bbolt until its manifest serves it, and to
//	           replica 1 until replica 2's manifest serves it
//
//	go run ./bench/replicas -bin bin/mmtoolkit
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/mmtoolkit/mmtoolkit/bench/internal/benchserver"
	"github.com/mmtoolkit/mmtoolkit/internal/fleet"
	"github.com/mmtoolkit/mmtoolkit/internal/pgtest"
)

func main() {
	bin := flag.String("bin", "bin/mmtoolkit", "mmtoolkit binary")
	clients := flag.Int("clients", 2000, "websocket clients of replica 2 (fanout)")
	rounds := flag.Int("rounds", 5, "wrk runs per target (median)")
	duration := flag.Int("duration", 3, "seconds per wrk run")
	toggles := flag.Int("toggles", 20, "toggles timed (fanout)")
	pushes := flag.Int("pushes", 8, "pushes timed per store")
	plugin := flag.String("plugin", "docs/examples/hello", "plugin pushed, toggled and served")
	only := flag.String("only", "", "comma-separated subset of manifest,roundtrips,fanout,push")
	flag.Parse()
	b := &bench{bin: *bin, plugin: *plugin, rounds: *rounds, duration: *duration}
	if err := b.run(*only, *clients, *toggles, *pushes); err != nil {
		fmt.Fprintln(os.Stderr, "replicas bench:", err)
		os.Exit(1)
	}
}

type bench struct {
	bin, plugin      string
	rounds, duration int

	pg       *pgtest.Cluster
	dsn, db  string
	mm       *benchserver.Server // the Mattermost
	bolt     *benchserver.Server
	replicas []*benchserver.Server
	tokens   map[string]string
	pluginID string
	work     string
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, "replicas: "+format+"\n", args...) }

func (b *bench) run(only string, clients, toggles, pushes int) error {
	want := func(name string) bool { return only == "" || strings.Contains(","+only+",", ","+name+",") }
	var err error
	if b.work, err = os.MkdirTemp("", "mmtoolkit-replicas"); err != nil {
		return err
	}
	defer os.RemoveAll(b.work)
	if b.pg, err = pgtest.Start(); err != nil {
		return err
	}
	defer b.pg.Close()
	ctx := context.Background()
	if b.db, b.dsn, err = b.pg.CreateDB(ctx); err != nil {
		return err
	}
	if b.mm, err = benchserver.Start(b.bin); err != nil {
		return err
	}
	defer b.mm.Stop()
	upstream := []string{"--upstream", b.mm.URL, "--hermesc", "off"}
	if b.bolt, err = benchserver.Start(b.bin, upstream...); err != nil {
		return err
	}
	defer b.bolt.Stop()
	for range 3 {
		r, err := benchserver.Start(b.bin, append(upstream, "--store", b.dsn)...)
		if err != nil {
			return err
		}
		defer r.Stop()
		b.replicas = append(b.replicas, r)
	}
	b.tokens = map[string]string{}
	for _, u := range []string{"alice", "bob", "dev"} {
		if b.tokens[u], err = b.mm.Login(u); err != nil {
			return err
		}
	}
	var id struct{ ID string }
	raw, err := os.ReadFile(filepath.Join(b.plugin, "plugin.json"))
	if err != nil {
		return err
	}
	json.Unmarshal(raw, &id)
	b.pluginID = id.ID
	// The same plugin, enabled for engineering, on both stores.
	for _, url := range []string{b.bolt.URL, b.replicas[0].URL} {
		if err := b.cli(url, "dev", "push", b.plugin); err != nil {
			return err
		}
		if err := b.cli(url, "alice", "enable", "--team", "engineering", "--plugin", b.pluginID); err != nil {
			return err
		}
	}
	fmt.Printf("# bench/replicas %s: %s cores shared by the load, nginx, PostgreSQL (fsync off) and every server (nothing pinned); loopback; a sandbox server as the Mattermost\n",
		time.Now().UTC().Format("2006-01-02T15:04Z"), nproc())
	if want("manifest") {
		if err := b.manifest(); err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
	}
	if want("roundtrips") {
		if err := b.roundTrips(ctx); err != nil {
			return fmt.Errorf("roundtrips: %w", err)
		}
	}
	if want("fanout") {
		if err := b.fanout(clients, toggles); err != nil {
			return fmt.Errorf("fanout: %w", err)
		}
	}
	if want("push") {
		if err := b.push(pushes); err != nil {
			return fmt.Errorf("push: %w", err)
		}
	}
	return nil
}

func (b *bench) cli(url, user string, args ...string) error {
	c := exec.Command(b.bin, args...)
	c.Env = append(os.Environ(), "MMTOOLKIT_SERVER="+url, "MMTOOLKIT_USER="+user, "MMTOOLKIT_PASSWORD=mmtoolkit", "MMTOOLKIT_TOKEN=")
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %v %s", args, err, out)
	}
	return nil
}

func hostport(url string) string { return strings.TrimPrefix(url, "http://") }

// manifest: req/s of one manifest request as bob, by target, alternating.
func (b *bench) manifest() error {
	type target struct {
		name string
		url  string
		stop func()
		// pids whose CPU time counts as the target's (servers, nginx
		// and its workers); pg: PostgreSQL's processes count apart
		pids []int
		pg   bool
	}
	var targets []target
	add := func(name string, backends ...*benchserver.Server) error {
		var hp []string
		for _, s := range backends {
			hp = append(hp, hostport(s.URL))
		}
		n, err := fleet.StartNginx(hp, fleet.Options{Workers: 1})
		if err != nil {
			return err
		}
		pids := []int{n.Pid()}
		for _, s := range backends {
			pids = append(pids, s.Pid)
		}
		targets = append(targets, target{name, n.URL, n.Stop, pids, strings.HasPrefix(name, "pg")})
		return nil
	}
	targets = append(targets, target{"bbolt-direct", b.bolt.URL, func() {}, []int{b.bolt.Pid}, false})
	if err := add("bbolt-nginx", b.bolt); err != nil {
		return err
	}
	for i := 1; i <= 3; i++ {
		if err := add(fmt.Sprintf("pg-%d-nginx", i), b.replicas[:i]...); err != nil {
			return err
		}
	}
	defer func() {
		for _, t := range targets {
			t.stop()
		}
	}()
	path := "/api/v1/manifest?team=engineering&platform=web"
	for _, t := range targets { // warm every cache, and check the answer
		if _, err := get(t.url+path, b.tokens["bob"]); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	results := map[string][]float64{}
	p99s := map[string][]float64{}
	cpus := map[string][]float64{}   // servers' and nginx's CPU µs per request
	pgCPUs := map[string][]float64{} // PostgreSQL's CPU µs per request
	postmaster := b.postmaster()
	for r := 0; r < b.rounds; r++ {
		// Each round starts with another target, so no target always
		// follows the same one.
		for i := range targets {
			t := targets[(i+r)%len(targets)]
			pids := withChildren(t.pids)
			pg0, cpu0 := cpuTime(withChildren([]int{postmaster})), cpuTime(pids)
			rps, p99, err := wrk(t.url+path, b.tokens["bob"], b.duration)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			n := rps * float64(b.duration)
			cpu := (cpuTime(pids) - cpu0) / n * 1e6
			pgCPU := (cpuTime(withChildren([]int{postmaster})) - pg0) / n * 1e6
			logf("%s round %d: %.0f req/s p99 %.2f ms, %.1f µs CPU per request (PostgreSQL %.2f)", t.name, r+1, rps, p99, cpu, pgCPU)
			results[t.name] = append(results[t.name], rps)
			p99s[t.name] = append(p99s[t.name], p99)
			cpus[t.name] = append(cpus[t.name], cpu)
			pgCPUs[t.name] = append(pgCPUs[t.name], pgCPU)
		}
	}
	base := median(results["bbolt-nginx"])
	var parts []string
	for _, t := range targets {
		parts = append(parts, fmt.Sprintf("%s=%.0f/s(p99 %.1fms, %.2fx, cpu %.1fus/req, postgres %.2fus/req)", t.name, median(results[t.name]),
			median(p99s[t.name]), median(results[t.name])/base, median(cpus[t.name]), median(pgCPUs[t.name])))
	}
	fmt.Printf("replicas-manifest: %s (wrk -t2 -c64, median of %d x %ds; ratios against bbolt behind the same nginx; cpu: the servers' and nginx's CPU time per request)\n",
		strings.Join(parts, " "), b.rounds, b.duration)
	return nil
}

// postmaster is the PostgreSQL cluster's postmaster pid (its data
// directory's postmaster.pid).
func (b *bench) postmaster() int {
	raw, _ := os.ReadFile(filepath.Join(b.pg.SocketDir(), "data", "postmaster.pid"))
	pid, _ := strconv.Atoi(strings.SplitN(string(raw), "\n", 2)[0])
	return pid
}

// withChildren is pids and their child processes (nginx's workers,
// PostgreSQL's backends), read from /proc.
func withChildren(pids []int) []int {
	out := append([]int(nil), pids...)
	parents := map[int]bool{}
	for _, p := range pids {
		parents[p] = true
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := procStat(pid); len(f) > 2 {
			if ppid, _ := strconv.Atoi(f[1]); parents[ppid] {
				out = append(out, pid)
			}
		}
	}
	return out
}

// procStat is /proc/PID/stat's fields after the command name (state,
// ppid, ...), nil if the process is gone.
func procStat(pid int) []string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(raw[i+1:]))
}

// cpuTime is the user and system CPU seconds of pids (clock ticks of
// 1/100 s, Linux's USER_HZ).
func cpuTime(pids []int) float64 {
	var ticks float64
	for _, p := range pids {
		if f := procStat(p); len(f) > 12 {
			u, _ := strconv.ParseFloat(f[11], 64)
			s, _ := strconv.ParseFloat(f[12], 64)
			ticks += u + s
		}
	}
	return ticks / 100
}

// wrk runs wrk against url and returns req/s and p99 (ms).
func wrk(url, token string, seconds int) (float64, float64, error) {
	out, err := exec.Command("wrk", "-t2", "-c64", fmt.Sprintf("-d%ds", seconds), "--latency",
		"-H", "Authorization: Bearer "+token, url).CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("wrk: %v %s", err, out)
	}
	s := string(out)
	if m := regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`).FindStringSubmatch(s); m != nil {
		return 0, 0, fmt.Errorf("%s non-2xx answers", m[1])
	}
	m := regexp.MustCompile(`Requests/sec:\s+([\d.]+)`).FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("wrk printed no rate: %s", s)
	}
	rps, _ := strconv.ParseFloat(m[1], 64)
	p99 := 0.0
	if m := regexp.MustCompile(`99%\s+([\d.]+)(us|ms|s)`).FindStringSubmatch(s); m != nil {
		p99, _ = strconv.ParseFloat(m[1], 64)
		switch m[2] {
		case "us":
			p99 /= 1000
		case "s":
			p99 *= 1000
		}
	}
	return rps, p99, nil
}

// roundTrips counts the transactions PostgreSQL ran in the registry's
// database (pg_stat_database: a statement outside a transaction is one, so
// each is at least one round trip) while the replicas answer manifests:
// once warm, and around a toggle (the write, then each replica's change-log
// read and first rebuild). Backends publish their counts when idle, at
// most every 10 s, so each reading waits for the counts to settle.
func (b *bench) roundTrips(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, b.pg.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	xacts := func() (int64, error) {
		var last int64 = -1
		for {
			conn.Exec(ctx, "SELECT pg_stat_clear_snapshot()")
			var n int64
			if err := conn.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1`, b.db).Scan(&n); err != nil {
				return 0, err
			}
			if n == last {
				return n, nil
			}
			last = n
			time.Sleep(11 * time.Second) // PGSTAT_IDLE_INTERVAL: an idle backend's counts are published within 10 s
		}
	}
	// Each replica also counts the statements it sends (its /metrics'
	// mmtoolkit_store_statements_total, the change log follower's apart):
	// -1 when a replica does not say.
	statements := func() int64 {
		var sum int64
		for _, r := range b.replicas {
			body, err := get(r.URL+"/metrics", "")
			m := regexp.MustCompile(`(?m)^mmtoolkit_store_statements_total (\d+)`).FindStringSubmatch(body)
			if err != nil || m == nil {
				return -1
			}
			n, _ := strconv.ParseInt(m[1], 10, 64)
			sum += n
		}
		return sum
	}
	path := "/api/v1/manifest?team=engineering&platform=web"
	const requests = 3000
	for _, r := range b.replicas { // warm
		if _, err := get(r.URL+path, b.tokens["bob"]); err != nil {
			return err
		}
	}
	// What runs without requests (background work, sweeps), over as long
	// as the requests take, is counted apart.
	xi, err := xacts()
	if err != nil {
		return err
	}
	t0 := time.Now()
	for i := 0; i < requests; i++ {
		if _, err := get(b.replicas[i%3].URL+path, b.tokens["bob"]); err != nil {
			return err
		}
	}
	took := time.Since(t0)
	x0, err := xacts()
	if err != nil {
		return err
	}
	loadXacts := x0 - xi
	x0, err = xacts()
	if err != nil {
		return err
	}
	time.Sleep(took)
	idleEnd, err := xacts()
	if err != nil {
		return err
	}
	idle := idleEnd - x0
	x0 = idleEnd
	s0 := statements()
	for i := 0; i < requests; i++ {
		if _, err := get(b.replicas[i%3].URL+path, b.tokens["bob"]); err != nil {
			return err
		}
	}
	s1 := statements()
	x1, err := xacts()
	if err != nil {
		return err
	}
	// A toggle off and on through replica 1, then manifests from each
	// replica until all three serve the plugin again.
	if err := b.setTeam(b.replicas[0].URL, false); err != nil {
		return err
	}
	if err := b.setTeam(b.replicas[0].URL, true); err != nil {
		return err
	}
	after := 0
	for _, r := range b.replicas {
		for {
			body, err := get(r.URL+path, b.tokens["bob"])
			if err != nil {
				return err
			}
			after++
			if strings.Contains(body, b.pluginID) {
				break
			}
		}
	}
	for i := 0; i < 30; i++ {
		if _, err := get(b.replicas[i%3].URL+path, b.tokens["bob"]); err != nil {
			return err
		}
		after++
	}
	s2 := statements()
	x2, err := xacts()
	if err != nil {
		return err
	}
	fmt.Printf("replicas-roundtrips: warm=%d,%d transactions in two runs of %d manifest requests (%.3f per request; idle for as long: %d) around_two_toggles=%d transactions (the two writes, every replica's change-log reads and rebuilds, %d manifest requests over 3 replicas); statements the replicas counted (mmtoolkit_store_statements_total): warm=%d around_two_toggles=%d\n",
		loadXacts, x1-x0, requests, float64(loadXacts+x1-x0)/(2*requests), idle, x2-x1, after, delta(s0, s1), delta(s1, s2))
	return nil
}

// delta is b-a, or -1 when either is unknown.
func delta(a, b int64) int64 {
	if a < 0 || b < 0 {
		return -1
	}
	return b - a
}

func (b *bench) setTeam(url string, enabled bool) error {
	req, _ := http.NewRequest("PUT", url+"/api/v1/teams/engineering/plugins/"+b.pluginID, strings.NewReader(fmt.Sprintf(`{"enabled":%t}`, enabled)))
	req.Header.Set("Authorization", "Bearer "+b.tokens["alice"])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("PUT team state: %d %s", resp.StatusCode, body)
	}
	return nil
}

// fanout: toggles through replica 1, timed to every websocket client of
// replica 2.
func (b *bench) fanout(n, rounds int) error {
	wsURL := "ws" + strings.TrimPrefix(b.replicas[1].URL, "http") + "/api/v1/websocket"
	arrivals := make(chan time.Time, n*4)
	var conns []*websocket.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, _, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Authorization": {"Bearer " + b.tokens["bob"]}})
		if err != nil {
			return fmt.Errorf("client %d: %w", i, err)
		}
		conns = append(conns, c)
		go func() {
			for {
				_, msg, err := c.ReadMessage()
				if err != nil {
					return
				}
				if bytes.Contains(msg, []byte(`"event":"plugin_`)) {
					arrivals <- time.Now()
				}
			}
		}()
	}
	var lat []float64
	lost := 0
	for r := 0; r < rounds; r++ {
		t0 := time.Now()
		if err := b.setTeam(b.replicas[0].URL, r%2 == 1); err != nil {
			return err
		}
		got := 0
		deadline := time.After(10 * time.Second)
	collect:
		for got < n {
			select {
			case at := <-arrivals:
				got++
				lat = append(lat, float64(at.Sub(t0).Microseconds())/1000)
			case <-deadline:
				break collect
			}
		}
		lost += n - got
	}
	sort.Float64s(lat)
	fmt.Printf("replicas-fanout: clients=%d rounds=%d toggle through replica 1 to clients of replica 2: p50=%.1fms p99=%.1fms max=%.1fms lost=%d (goal p99 < 250 ms)\n",
		n, rounds, pct(lat, 0.5), pct(lat, 0.99), pct(lat, 1), lost)
	if lost > 0 {
		return fmt.Errorf("%d events lost", lost)
	}
	// Leave the plugin enabled for what follows.
	return b.setTeam(b.replicas[0].URL, true)
}

// push: push to servable of the same package (a new version each time) on
// bbolt (servable from the same process) and PostgreSQL (pushed to replica
// 1, servable from replica 2), alternating.
func (b *bench) push(n int) error {
	var boltMS, pgMS, pgAnswerMS []float64
	firstRead := 0 // PostgreSQL pushes replica 2 served at its first read after the 201
	for i := 0; i < n; i++ {
		for _, pg := range []bool{false, true} {
			version := fmt.Sprintf("9.%d.%d", i, map[bool]int{false: 0, true: 1}[pg])
			pkg, err := b.pack(version)
			if err != nil {
				return err
			}
			to, from := b.bolt, b.bolt
			if pg {
				to, from = b.replicas[0], b.replicas[1]
			}
			t0 := time.Now()
			req, _ := http.NewRequest("POST", to.URL+"/api/v1/plugins", bytes.NewReader(pkg))
			req.Header.Set("Authorization", "Bearer "+b.tokens["dev"])
			req.Header.Set("Content-Type", "application/gzip")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 201 {
				return fmt.Errorf("push %s: %d %s", version, resp.StatusCode, body)
			}
			answered := time.Since(t0)
			for read := 0; ; read++ {
				m, err := get(from.URL+"/api/v1/manifest?team=engineering&platform=web", b.tokens["bob"])
				if err != nil {
					return err
				}
				if strings.Contains(m, `"version":"`+version+`"`) {
					if read == 0 && pg {
						firstRead++
					}
					break
				}
				if time.Since(t0) > time.Minute {
					return fmt.Errorf("%s not servable after a minute", version)
				}
			}
			ms := float64(time.Since(t0).Microseconds()) / 1000
			if pg {
				pgMS = append(pgMS, ms)
				pgAnswerMS = append(pgAnswerMS, float64(answered.Microseconds())/1000)
			} else {
				boltMS = append(boltMS, ms)
			}
		}
	}
	fmt.Printf("replicas-push: push to servable, %s, %d each alternating: bbolt median=%.0fms (same process) postgres median=%.0fms (pushed to replica 1, served by replica 2; 201 after %.0fms; replica 2 served it at its first read after the 201 %d of %d times) ratio=%.2fx\n",
		b.plugin, n, median(boltMS), median(pgMS), median(pgAnswerMS), firstRead, n, median(pgMS)/median(boltMS))
	return nil
}

// pack writes the plugin with another version as a .tar.gz and returns it.
func (b *bench) pack(version string) ([]byte, error) {
	dir := filepath.Join(b.work, "plugin-"+version)
	if err := exec.Command("cp", "-r", b.plugin, dir).Run(); err != nil {
		return nil, err
	}
	manifest := filepath.Join(dir, "plugin.json")
	raw, err := os.ReadFile(manifest)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	m["version"] = version
	raw, _ = json.Marshal(m)
	if err := os.WriteFile(manifest, raw, 0o644); err != nil {
		return nil, err
	}
	out := filepath.Join(b.work, "plugin-"+version+".tar.gz")
	if o, err := exec.Command(b.bin, "pack", "-o", out, dir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pack: %v %s", err, o)
	}
	return os.ReadFile(out)
}

func get(url, token string) (string, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return string(body), nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

func nproc() string {
	out, _ := exec.Command("nproc").Output()
	return strings.TrimSpace(string(out))
}
