package main

import (
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSlowlorisHeaders opens 50 connections to `mmtoolkit serve` that send
// a request's headers one byte every 300 ms. The server closes each once
// its header timeout (10 s) passes, and meanwhile answers other clients at
// once: slow clients cost a goroutine each, not the service.
func TestSlowlorisHeaders(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary; takes the 10 s header timeout")
	}
	bin := filepath.Join(t.TempDir(), "mmtoolkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	srv := startServer(t, bin, t.TempDir())
	addr := strings.TrimPrefix(srv.url, "http://")

	const conns, headerTimeout = 50, 10 * time.Second
	start := time.Now()
	closedAfter := make([]time.Duration, conns)
	var wg sync.WaitGroup
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		wg.Add(2)
		go func() { // trickle a header that never ends
			defer wg.Done()
			io.WriteString(c, "POST /api/v1/plugins HTTP/1.1\r\nHost: "+addr+"\r\nX-Slow: ")
			for range 100 {
				time.Sleep(300 * time.Millisecond)
				if _, err := c.Write([]byte("a")); err != nil {
					return
				}
			}
		}()
		go func() { // see when the server ends it
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(3 * headerTimeout))
			io.Copy(io.Discard, c)
			closedAfter[i] = time.Since(start)
		}()
	}

	// Other clients are served promptly while the slow ones hang on.
	for time.Since(start) < headerTimeout-2*time.Second {
		t0 := time.Now()
		resp, err := http.Get(srv.url + "/healthz")
		if err != nil {
			t.Fatalf("healthz during the slow clients: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("healthz: %d", resp.StatusCode)
		}
		if d := time.Since(t0); d > time.Second {
			t.Errorf("healthz took %v", d)
		}
		time.Sleep(500 * time.Millisecond)
	}
	wg.Wait()
	for i, d := range closedAfter {
		if d < headerTimeout-time.Second || d > headerTimeout+5*time.Second {
			t.Errorf("connection %d closed after %v, want about the %v header timeout", i, d.Round(time.Millisecond), headerTimeout)
		}
	}
}
