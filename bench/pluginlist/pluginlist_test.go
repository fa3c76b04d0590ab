// Package pluginlist measures what mmtoolkit adds to Mattermost's own
// GET /api/v4/plugins/webapp when it fronts it (issue 16): the merged list
// (Mattermost's entries plus the caller's team's plugins) against the
// same request sent straight to the Mattermost, side by side in one run.
//
// The Mattermost is the stand-in (apiv4-proxy/mattermosttest) with 6
// plugins installed; mmtoolkit runs in-process exactly as serve --upstream
// builds it (apiv4proxy.Upstream for identity, apiv4proxy.NewProxy for
// /api/v4, the Edge on a loopback listener), with 3 plugins enabled for
// the caller's team. Keep-alive connections, each sending one request at
// a time to every target in turn, so every target sees the same machine:
// one connection (each target's own latency), then 16 (under load);
// latency is the client's, request written to body read.
//
// Targets:
//
//   - direct: the stand-in itself;
//
//   - merged: through mmtoolkit, as it runs (the merged list cached per
//     user and team);
//
//   - merged-uncached: through mmtoolkit with the cache off
//     (PluginListTTL < 0): every request asks Mattermost and merges, what
//     the first request after a change costs;
//
//   - proxied: GET /api/v4/users/me through mmtoolkit, for scale (the
//     plain proxy's cost on the same machine).
//
//     go test -run '^$' -bench . -benchtime 3000x ./bench/pluginlist/
//
// Goal (issue 16): merged adds at most 1 ms p50 to direct.
package pluginlist

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/mattermosttest"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// front starts mmtoolkit in front of mm and returns its URL.
func front(b *testing.B, mm *mattermosttest.Mattermost, ttl time.Duration) string {
	b.Helper()
	up, err := apiv4proxy.NewUpstream(mm.URL(), apiv4proxy.UpstreamOptions{})
	if err != nil {
		b.Fatal(err)
	}
	proxy, err := apiv4proxy.NewProxy(mm.URL(), apiv4proxy.ProxyOptions{})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(registrytest.Open(b), up, server.Config{Upstream: proxy, Fronting: true, PluginListTTL: ttl,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	edge := srv.NewEdge(hs)
	go edge.Serve(ln)
	b.Cleanup(func() { edge.Shutdown(context.Background()); srv.Close() })
	return "http://" + ln.Addr().String()
}

// push pushes a small plugin through url and enables it for team.
func push(b *testing.B, url, token, team, id string) {
	b.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []struct{ name, body string }{
		{"plugin.json", `{"id":"` + id + `","name":"` + id + `","version":"1.0.0","webapp":{"entry":"index.js"}}`},
		{"index.js", `window.registerPlugin("` + id + `", {initialize() {}});`},
	} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(f.body))
	}
	tw.Close()
	zw.Close()
	do(b, "POST", url+"/api/v1/plugins", token, "application/gzip", buf.Bytes())
	do(b, "PUT", url+"/api/v1/teams/"+team+"/plugins/"+id, token, "application/json", []byte(`{"enabled":true}`))
}

func do(b *testing.B, method, url, token, ctype string, body []byte) {
	b.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", ctype)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode >= 300 {
		b.Fatalf("%s %s: %d %s", method, url, res.StatusCode, out)
	}
}

type target struct {
	name, url string
	client    *http.Client
	lat       []time.Duration
	size      int
}

func (t *target) get(b *testing.B, token string) {
	req, _ := http.NewRequest("GET", t.url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	res, err := t.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	t.lat = append(t.lat, time.Since(start))
	if res.StatusCode != 200 {
		b.Fatalf("%s: %d", t.name, res.StatusCode)
	}
	t.size = int(n)
}

func pct(d []time.Duration, p float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[int(float64(len(s)-1)*p)]) / 1e6
}

func BenchmarkPluginList(b *testing.B) {
	mm := mattermosttest.New(b)
	admin := mm.AddUser("admin", "system_user system_admin")
	team := mm.AddTeam("engineering", false)
	mm.AddMember(team.ID, admin.ID, "team_user team_admin")
	token := mm.Token(admin)
	for _, id := range []string{"com.mattermost.calls", "playbooks", "focalboard", "com.github.manland.mattermost-plugin-gitlab", "zoom", "jitsi"} {
		// Props as real plugins carry them, so entries are of a real size.
		mm.InstallPlugin([]byte(`{"id":"`+id+`","name":"`+id+`","version":"2.1.0","min_server_version":"9.5.0",
			"homepage_url":"https://github.com/mattermost/`+id+`","support_url":"https://github.com/mattermost/`+id+`/issues",
			"icon_path":"assets/icon.svg","webapp":{"bundle_path":"webapp/dist/main.js"},"props":{"calls_enabled":true,"max_participants":8}}`),
			[]byte(strings.Repeat("x", 1000)+id))
	}
	cached, uncached := front(b, mm, 0), front(b, mm, -1)
	for i, id := range []string{"com.example.hello", "com.example.poll", "com.example.todo"} {
		push(b, cached, token, team.ID, id)
		push(b, uncached, token, team.ID, fmt.Sprint(id, i))
	}
	urls := [][2]string{
		{"direct", mm.URL() + "/api/v4/plugins/webapp"},
		{"merged", cached + "/api/v4/plugins/webapp"},
		{"merged-uncached", uncached + "/api/v4/plugins/webapp"},
		{"proxied-users-me", cached + "/api/v4/users/me"},
	}
	// One connection: each target's own latency. 16: the same under load,
	// every connection going through the targets in turn.
	for _, conns := range []int{1, 16} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) { measure(b, conns, urls, token) })
	}
}

// measure sends b.N rounds (one request to each target, in turn) over
// conns connections per target, and reports each target's p50 and p99.
func measure(b *testing.B, conns int, urls [][2]string, token string) {
	workers := make([][]*target, conns)
	for w := range workers {
		for _, u := range urls {
			workers[w] = append(workers[w], &target{name: u[0], url: u[1],
				client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}})
		}
		for range 50 { // warm up connections, caches and the identity cache
			for _, t := range workers[w] {
				t.get(b, token)
			}
		}
		for _, t := range workers[w] {
			t.lat = t.lat[:0]
		}
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < b.N; i += conns {
				for _, t := range workers[w] {
					t.get(b, token)
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	all := make([]*target, len(urls))
	for i := range urls {
		all[i] = &target{name: urls[i][0]}
		for w := range workers {
			all[i].lat = append(all[i].lat, workers[w][i].lat...)
			all[i].size = workers[w][i].size
		}
	}
	direct := pct(all[0].lat, 0.5)
	for _, t := range all {
		short := strings.ReplaceAll(t.name, "-", "_")
		b.ReportMetric(pct(t.lat, 0.5), short+"_p50_ms")
		b.ReportMetric(pct(t.lat, 0.99), short+"_p99_ms")
		if t.name != "direct" && !strings.HasPrefix(t.name, "proxied") {
			b.ReportMetric(pct(t.lat, 0.5)-direct, short+"_added_p50_ms")
		}
		b.Logf("%s, %d connection(s): %d bytes, p50 %.3f ms, p99 %.3f ms", t.name, conns, t.size, pct(t.lat, 0.5), pct(t.lat, 0.99))
	}
	b.ReportMetric(0, "ns/op")
}
