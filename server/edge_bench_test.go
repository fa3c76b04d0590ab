package server_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/proxytest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// BenchmarkEdgeProxyGET is one small GET of /api/v4 through the Edge's fast
// lane and the proxy to a Mattermost, as `serve --upstream` runs it, over
// loopback. The upstream and the client are loops over raw connections
// that allocate nothing per request, so -benchmem counts the server's
// allocations. bench/proxy measures the same against nginx.
func BenchmarkEdgeProxyGET(b *testing.B) {
	body := `{"id":"s36pyg4oqtfftpt6hrnxbydbze","username":"user1","roles":"system_user","status":"online"}`
	upstream := proxytest.RawUpstream(b, fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"+
		"Date: Tue, 24 Nov 2026 06:33:00 GMT\r\n\r\n%s", len(body), body))
	proxy, err := apiv4proxy.NewProxy(upstream, apiv4proxy.ProxyOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	e := newEnv(b, server.Config{Upstream: proxy})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	edge := e.srv.NewEdge(&http.Server{Handler: e.srv, ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute}) // as `serve` sets them
	go edge.Serve(ln)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		edge.Shutdown(ctx)
	})
	req := []byte("GET /api/v4/users/me/status HTTP/1.1\r\nHost: " + ln.Addr().String() + "\r\n" +
		"Accept: */*\r\nAccept-Encoding: gzip, deflate, br\r\nAuthorization: Bearer 8x4pbgk5ifbx8ba5kx5ex6zh4o\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\r\nX-Requested-With: XMLHttpRequest\r\n\r\n")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for pb.Next() {
			if _, err := c.Write(req); err != nil {
				b.Error(err)
				return
			}
			status, n, err := readAnswer(br)
			if err != nil || status != http.StatusOK || n != len(body) {
				b.Errorf("got %d with %d bytes, %v", status, n, err)
				return
			}
		}
	})
	b.StopTimer()
	if edge.HandedOff() != 0 {
		b.Fatalf("%d connections went to net/http: the fast lane did not serve the benchmark", edge.HandedOff())
	}
}

// readAnswer reads one answer with a Content-Length body, allocating
// nothing, and returns its status and body length.
func readAnswer(br *bufio.Reader) (status, n int, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, 0, fmt.Errorf("bad status line %q", line)
	}
	status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	n = -1
	for {
		if line, err = br.ReadSlice('\n'); err != nil {
			return 0, 0, err
		}
		if len(line) <= 2 {
			break
		}
		if name, value, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(name, []byte("Content-Length")) {
			n, _ = strconv.Atoi(string(bytes.TrimSpace(value)))
		}
	}
	if n < 0 {
		return 0, 0, fmt.Errorf("an answer without Content-Length")
	}
	_, err = br.Discard(n)
	return status, n, err
}
