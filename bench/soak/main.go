// Command soak runs mmtoolkit under mixed load for a bounded time and
// checks that nothing degrades: manifest readers, websocket clients, and
// one operator pushing new versions and toggling the plugin for a team, all
// at once (issue #8, "Load and faults").
//
//	go run ./bench/soak -bin bin/mmtoolkit -duration 5m
//
// It passes when no request got a 5xx or a transport error, every
// websocket client stayed connected and received exactly the plugin events
// its team should see (engineering: one per toggle and one per push while
// enabled; sales: none), and, on runs of a minute or more, the server's
// anonymous memory at the end is within 25% (+16 MiB) of what it was at the
// warm point. It prints one summary line (key=value) and exits 1 when a
// check fails.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mmtoolkit/mmtoolkit/bench/internal/benchserver"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// Config is one soak run.
type Config struct {
	Bin            string
	Duration       time.Duration
	Readers        int           // manifest readers
	ReaderInterval time.Duration // pause between one reader's requests
	Clients        int           // websocket clients (a tenth in sales)
	PushRate       float64       // pushes per second
	ToggleRate     float64       // toggles per second
	Plugin         string        // plugin directory pushed and toggled
}

func main() {
	var c Config
	flag.StringVar(&c.Bin, "bin", "bin/mmtoolkit", "mmtoolkit binary")
	flag.DurationVar(&c.Duration, "duration", 5*time.Minute, "how long the load runs")
	flag.IntVar(&c.Readers, "readers", 500, "manifest readers")
	flag.DurationVar(&c.ReaderInterval, "reader-interval", 100*time.Millisecond, "pause between one reader's requests (0: none)")
	flag.IntVar(&c.Clients, "ws", 200, "websocket clients (90% in engineering, 10% in sales)")
	flag.Float64Var(&c.PushRate, "push-rate", 2, "pushes per second")
	flag.Float64Var(&c.ToggleRate, "toggle-rate", 1, "toggles per second")
	flag.StringVar(&c.Plugin, "plugin", "docs/examples/hello", "plugin directory pushed and toggled")
	flag.Parse()
	res, err := Run(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	fmt.Println(res.Line())
	if !res.OK() {
		for _, p := range res.Problems {
			fmt.Fprintln(os.Stderr, "soak:", p)
		}
		os.Exit(1)
	}
}

// Result is what a run measured.
type Result struct {
	Config Config
	Took   time.Duration

	Reads, NotModified, Read5xx, Read4xx, ReadErrors int64
	ReadP50, ReadP99                                 time.Duration

	Pushes, Toggles, Op5xx, OpErrors int64
	PushP50, PushP99                 time.Duration

	EventsWanted          int64 // per engineering client
	ClientsShort          int   // clients that missed events or got extra ones
	ClientsDropped        int   // clients disconnected during the run
	Delivered, ExtraSales int64 // events received in total; by sales clients

	RSSAnonWarmMiB, RSSAnonMaxMiB, RSSAnonEndMiB float64
	RSSWarmMiB, RSSEndMiB                        float64

	Problems []string
}

// OK reports whether every check passed.
func (r *Result) OK() bool { return len(r.Problems) == 0 }

// Line is the summary, one line of key=value.
func (r *Result) Line() string {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) }
	return fmt.Sprintf("soak duration=%s readers=%d ws=%d reads=%d reads_per_s=%.0f not_modified=%d read_p50_ms=%s read_p99_ms=%s "+
		"pushes=%d toggles=%d push_p50_ms=%s push_p99_ms=%s 5xx=%d errors=%d events_per_client=%d clients_short=%d clients_dropped=%d "+
		"sales_events=%d rss_anon_mib_warm=%.1f rss_anon_mib_max=%.1f rss_anon_mib_end=%.1f rss_mib_warm=%.1f rss_mib_end=%.1f ok=%v",
		r.Config.Duration, r.Config.Readers, r.Config.Clients, r.Reads, float64(r.Reads)/r.Took.Seconds(), r.NotModified,
		ms(r.ReadP50), ms(r.ReadP99), r.Pushes, r.Toggles, ms(r.PushP50), ms(r.PushP99), r.Read5xx+r.Op5xx, r.ReadErrors+r.OpErrors,
		r.EventsWanted, r.ClientsShort, r.ClientsDropped, r.ExtraSales,
		r.RSSAnonWarmMiB, r.RSSAnonMaxMiB, r.RSSAnonEndMiB, r.RSSWarmMiB, r.RSSEndMiB, r.OK())
}

// Run starts the server, loads it for c.Duration and checks the outcome.
func Run(c Config) (*Result, error) {
	files, id, err := readPlugin(c.Plugin)
	if err != nil {
		return nil, err
	}
	srv, err := benchserver.Start(c.Bin)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	tokens := map[string]string{}
	for _, u := range []string{"dev", "alice", "bob", "carol"} {
		if tokens[u], err = srv.Login(u); err != nil {
			return nil, err
		}
	}
	res := &Result{Config: c}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.Readers + 16}, Timeout: 30 * time.Second}
	op := &operator{url: srv.URL, client: client, dev: tokens["dev"], alice: tokens["alice"], id: id, files: files}
	if status, err := op.push(0); err != nil || status != http.StatusCreated {
		return nil, fmt.Errorf("first push: %d %v", status, err)
	}

	// Websocket clients, connected before the load starts.
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/websocket"
	nSales := c.Clients / 10
	clients := make([]*wsClient, c.Clients)
	for i := range clients {
		user, team := "bob", "engineering"
		if i < nSales {
			user, team = "carol", "sales"
		}
		wc, err := dialClient(wsURL, tokens[user], team, id)
		if err != nil {
			return nil, fmt.Errorf("websocket client %d: %w", i, err)
		}
		clients[i] = wc
	}
	defer func() {
		for _, wc := range clients {
			wc.conn.Close()
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), c.Duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup

	// Memory, sampled every second.
	var rssMu sync.Mutex
	type sample struct {
		at         time.Duration
		anon, full float64
	}
	var samples []sample
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				anon, full := rssMiB(srv.Pid)
				rssMu.Lock()
				samples = append(samples, sample{time.Since(start), anon, full})
				rssMu.Unlock()
			}
		}
	}()

	// Manifest readers: bob and carol, each revalidating its last ETag.
	var latMu sync.Mutex
	var readLat []time.Duration
	for i := range c.Readers {
		user, team := "bob", "engineering"
		if i%2 == 1 {
			user, team = "carol", "sales"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var etag string
			var mine []time.Duration
			defer func() { latMu.Lock(); readLat = append(readLat, mine...); latMu.Unlock() }()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/manifest?team="+team+"&platform=web", nil)
				req.Header.Set("Authorization", "Bearer "+tokens[user])
				if etag != "" {
					req.Header.Set("If-None-Match", etag)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						atomic.AddInt64(&res.ReadErrors, 1)
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(t0))
				atomic.AddInt64(&res.Reads, 1)
				switch {
				case resp.StatusCode == http.StatusNotModified:
					atomic.AddInt64(&res.NotModified, 1)
				case resp.StatusCode >= 500:
					atomic.AddInt64(&res.Read5xx, 1)
				case resp.StatusCode >= 400:
					atomic.AddInt64(&res.Read4xx, 1)
				default:
					etag = resp.Header.Get("ETag")
				}
				if c.ReaderInterval > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(c.ReaderInterval):
					}
				}
			}
		}()
	}

	// The operator: pushes and toggles on one schedule, one at a time, so
	// the events each team must see follow from what it did.
	var pushLat []time.Duration
	wg.Add(1)
	go func() {
		defer wg.Done()
		pushEvery := time.Duration(float64(time.Second) / c.PushRate)
		toggleEvery := time.Duration(float64(time.Second) / c.ToggleRate)
		nextPush, nextToggle := start, start.Add(toggleEvery/2)
		enabled := false
		version := 0
		for ctx.Err() == nil {
			next := nextPush
			if nextToggle.Before(next) {
				next = nextToggle
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(next)):
			}
			if !nextPush.After(nextToggle) {
				nextPush = nextPush.Add(pushEvery)
				version++
				t0 := time.Now()
				status, err := op.push(version)
				switch {
				case err != nil:
					res.OpErrors++
				case status >= 500:
					res.Op5xx++
				case status == http.StatusCreated:
					res.Pushes++
					pushLat = append(pushLat, time.Since(t0))
					if enabled {
						res.EventsWanted++ // plugin_updated
					}
				default:
					res.Problems = append(res.Problems, fmt.Sprintf("push %d: status %d", version, status))
				}
			} else {
				nextToggle = nextToggle.Add(toggleEvery)
				status, err := op.toggle(!enabled)
				switch {
				case err != nil:
					res.OpErrors++
				case status >= 500:
					res.Op5xx++
				case status == http.StatusOK:
					res.Toggles++
					enabled = !enabled
					res.EventsWanted++ // plugin_enabled or plugin_disabled
				default:
					res.Problems = append(res.Problems, fmt.Sprintf("toggle: status %d", status))
				}
			}
		}
	}()
	wg.Wait()
	res.Took = time.Since(start)

	// The last events may still be on their way.
	deadline := time.Now().Add(10 * time.Second)
	for _, wc := range clients {
		want := res.EventsWanted
		if wc.team == "sales" {
			want = 0
		}
		for wc.received.Load() < want && !wc.closed.Load() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(200 * time.Millisecond) // time for an extra event to show
	for _, wc := range clients {
		got := wc.received.Load()
		res.Delivered += got
		if wc.closed.Load() {
			res.ClientsDropped++
		}
		switch {
		case wc.team == "sales":
			res.ExtraSales += got
		case got != res.EventsWanted:
			res.ClientsShort++
		}
	}

	slices.Sort(readLat)
	slices.Sort(pushLat)
	res.ReadP50, res.ReadP99 = pct(readLat, 50), pct(readLat, 99)
	res.PushP50, res.PushP99 = pct(pushLat, 50), pct(pushLat, 99)
	rssMu.Lock()
	for _, s := range samples {
		// Warm: a tenth of the run, and at least 30 s into a long one.
		if res.RSSAnonWarmMiB == 0 && s.at >= max(c.Duration/10, min(30*time.Second, c.Duration/2)) {
			res.RSSAnonWarmMiB, res.RSSWarmMiB = s.anon, s.full
		}
		res.RSSAnonMaxMiB = max(res.RSSAnonMaxMiB, s.anon)
	}
	if n := len(samples); n > 0 {
		res.RSSAnonEndMiB, res.RSSEndMiB = samples[n-1].anon, samples[n-1].full
		if res.RSSAnonWarmMiB == 0 {
			res.RSSAnonWarmMiB, res.RSSWarmMiB = samples[0].anon, samples[0].full
		}
	}
	rssMu.Unlock()

	if n := res.Read5xx + res.Op5xx; n > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("%d answers were 5xx", n))
	}
	if n := res.ReadErrors + res.OpErrors; n > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("%d requests failed without an answer", n))
	}
	if res.Read4xx > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("%d manifest reads were 4xx", res.Read4xx))
	}
	if res.ClientsDropped > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("%d websocket clients were disconnected", res.ClientsDropped))
	}
	if res.ClientsShort > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("%d engineering clients did not get exactly the %d events", res.ClientsShort, res.EventsWanted))
	}
	if res.ExtraSales > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("sales clients got %d events of a plugin sales never enabled", res.ExtraSales))
	}
	if res.EventsWanted == 0 {
		res.Problems = append(res.Problems, "no toggle or push succeeded: nothing was checked")
	}
	// Memory is judged on runs long enough for the heap to reach its
	// working size (the real run is 5 minutes): in a few seconds the GC has
	// not settled and growth says nothing. Short runs still report it.
	if c.Duration >= time.Minute && res.RSSAnonEndMiB > res.RSSAnonWarmMiB*1.25+16 {
		res.Problems = append(res.Problems, fmt.Sprintf("anonymous memory grew from %.1f MiB to %.1f MiB", res.RSSAnonWarmMiB, res.RSSAnonEndMiB))
	}
	return res, nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

// operator pushes versions of one plugin and toggles it for engineering.
type operator struct {
	url, dev, alice, id string
	client              *http.Client
	files               map[string][]byte
}

// push sends version 1.0.n of the plugin, its web entry changed so that
// each version has its own bundle.
func (o *operator) push(n int) (int, error) {
	files := make(map[string][]byte, len(o.files))
	for k, v := range o.files {
		files[k] = v
	}
	var m map[string]any
	if err := json.Unmarshal(files["plugin.json"], &m); err != nil {
		return 0, err
	}
	m["version"] = fmt.Sprintf("1.0.%d", n)
	files["plugin.json"], _ = json.Marshal(m)
	if w, ok := m["webapp"].(map[string]any); ok {
		if entry, ok := w["entry"].(string); ok {
			files[entry] = append(append([]byte(nil), files[entry]...), fmt.Sprintf("\n;(globalThis as any).soakBuild = %d;\n", n)...)
		}
	}
	var buf bytes.Buffer
	if err := pluginpkg.WriteArchiveLevel(&buf, files, 1); err != nil {
		return 0, err
	}
	return o.do("POST", "/api/v1/plugins", o.dev, "application/gzip", &buf)
}

func (o *operator) toggle(enabled bool) (int, error) {
	return o.do("PUT", "/api/v1/teams/engineering/plugins/"+o.id, o.alice, "application/json",
		strings.NewReader(fmt.Sprintf(`{"enabled":%v}`, enabled)))
}

func (o *operator) do(method, path, token, ctype string, body io.Reader) (int, error) {
	req, _ := http.NewRequest(method, o.url+path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", ctype)
	resp, err := o.client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func readPlugin(dir string) (map[string][]byte, string, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		return nil, "", err
	}
	var m struct{ ID string }
	if err := json.Unmarshal(files["plugin.json"], &m); err != nil || m.ID == "" {
		return nil, "", fmt.Errorf("%s/plugin.json: no id (%v)", dir, err)
	}
	return files, m.ID, nil
}

// wsClient counts the plugin_* events about one plugin it receives.
type wsClient struct {
	conn     *websocket.Conn
	team     string
	received atomic.Int64
	closed   atomic.Bool
}

func dialClient(url, token, team, pluginID string) (*wsClient, error) {
	conn, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		return nil, err
	}
	wc := &wsClient{conn: conn, team: team}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var hello struct{ Event string }
	if err := conn.ReadJSON(&hello); err != nil || hello.Event != "hello" {
		conn.Close()
		return nil, fmt.Errorf("no hello: %v", errors.Join(err, fmt.Errorf("event %q", hello.Event)))
	}
	conn.SetReadDeadline(time.Time{})
	go func() {
		defer wc.closed.Store(true)
		for {
			var m struct {
				Event string
				Data  struct {
					PluginID string `json:"plugin_id"`
				}
			}
			if err := conn.ReadJSON(&m); err != nil {
				return
			}
			if strings.HasPrefix(m.Event, "plugin_") && m.Data.PluginID == pluginID {
				wc.received.Add(1)
			}
		}
	}()
	return wc, nil
}

// rssMiB returns a process's anonymous and total resident memory. The
// total includes the pages of the bbolt file it has mapped and read, which
// grows with the store; anonymous memory is the heap and stacks.
func rssMiB(pid int) (anon, total float64) {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "RssAnon:":
			anon = v / 1024
		case "VmRSS:":
			total = v / 1024
		}
	}
	return anon, total
}
