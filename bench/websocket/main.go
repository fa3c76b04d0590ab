// Command websocket measures event fan-out: it starts mmtoolkit, connects
// N websocket clients (most in team engineering, some in sales), toggles a
// plugin for engineering R times, and reports how long each toggle took to
// reach every engineering client, that no sales client saw it, and the
// server's memory per idle connection.
//
//	go run ./bench/websocket -bin bin/mmtoolkit -clients 2000 -rounds 20
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mmtoolkit/mmtoolkit/bench/internal/benchserver"
)

func main() {
	bin := flag.String("bin", "bin/mmtoolkit", "mmtoolkit binary")
	clients := flag.Int("clients", 2000, "websocket clients")
	otherTeam := flag.Float64("other", 0.1, "share of clients in the other team (sales)")
	rounds := flag.Int("rounds", 20, "toggles to time")
	plugin := flag.String("plugin", "docs/examples/hello", "plugin to push and toggle")
	flag.Parse()
	if err := run(*bin, *clients, *otherTeam, *rounds, *plugin); err != nil {
		fmt.Fprintln(os.Stderr, "websocket bench:", err)
		os.Exit(1)
	}
}

func run(bin string, n int, other float64, rounds int, plugin string) error {
	srv, err := benchserver.Start(bin)
	if err != nil {
		return err
	}
	defer srv.Stop()
	url := srv.URL

	cli := func(user string, args ...string) error {
		c := exec.Command(bin, args...)
		c.Env = append(os.Environ(), "MMTOOLKIT_SERVER="+url, "MMTOOLKIT_USER="+user, "MMTOOLKIT_PASSWORD=mmtoolkit")
		if b, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("%v: %v %s", args, err, b)
		}
		return nil
	}
	var id struct{ ID string }
	raw, _ := os.ReadFile(filepath.Join(plugin, "plugin.json"))
	json.Unmarshal(raw, &id)
	if err := cli("dev", "push", plugin); err != nil {
		return err
	}
	tokens := map[string]string{}
	for _, u := range []string{"alice", "bob", "carol"} {
		if tokens[u], err = srv.Login(u); err != nil {
			return err
		}
	}

	rss0 := rss(srv.Pid)
	wsURL := "ws" + strings.TrimPrefix(url, "http") + "/api/v1/websocket"
	nOther := int(float64(n) * other)
	type conn struct {
		c     *websocket.Conn
		other bool
	}
	conns := make([]conn, 0, n)
	for i := 0; i < n; i++ {
		user := "bob"
		if i < nOther {
			user = "carol"
		}
		c, _, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Authorization": {"Bearer " + tokens[user]}})
		if err != nil {
			return fmt.Errorf("client %d: %w", i, err)
		}
		c.SetReadLimit(1 << 20)
		conns = append(conns, conn{c, i < nOther})
	}
	time.Sleep(500 * time.Millisecond)
	rss1 := rss(srv.Pid)

	// Every client reads in its own goroutine and reports arrivals.
	type arrival struct {
		round int
		at    time.Time
		other bool
	}
	arrivals := make(chan arrival, n*4)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func(c conn) {
			defer wg.Done()
			for {
				_, msg, err := c.c.ReadMessage()
				if err != nil {
					return
				}
				var ev struct{ Event string }
				json.Unmarshal(msg, &ev)
				if strings.HasPrefix(ev.Event, "plugin_") {
					arrivals <- arrival{at: time.Now(), other: c.other}
				}
			}
		}(c)
	}

	var lat []float64
	var lost, leaked int
	want := n - nOther
	var puts atomic.Int64
	for r := 0; r < rounds; r++ {
		body := fmt.Sprintf(`{"enabled":%t}`, r%2 == 0)
		req, _ := http.NewRequest("PUT", url+"/api/v1/teams/engineering/plugins/"+id.ID, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tokens["alice"])
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		puts.Add(1)
		got := 0
		deadline := time.After(5 * time.Second)
	collect:
		for got < want {
			select {
			case a := <-arrivals:
				if a.other {
					leaked++
					continue
				}
				got++
				lat = append(lat, float64(a.at.Sub(t0).Microseconds())/1000)
			case <-deadline:
				break collect
			}
		}
		lost += want - got
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range conns {
		c.c.Close()
	}
	wg.Wait()
	sort.Float64s(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	fmt.Printf("websocket: clients=%d team_clients=%d rounds=%d toggle_p50=%.1fms toggle_p99=%.1fms toggle_max=%.1fms lost=%d leaked_to_other_team=%d rss_idle_before=%.1fMiB rss_connected=%.1fMiB per_conn=%.1fKiB (2 cores shared by clients and server)\n",
		n, want, rounds, pct(0.5), pct(0.99), pct(1), lost, leaked, rss0/1024, rss1/1024, (rss1-rss0)/float64(n))
	if lost > 0 || leaked > 0 {
		return fmt.Errorf("lost %d, leaked %d events", lost, leaked)
	}
	return nil
}

// rss is a process's resident set in KiB.
func rss(pid int) float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	return 0
}
