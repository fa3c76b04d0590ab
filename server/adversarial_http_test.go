package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// Adversarial HTTP edge cases (issue #15): what a hostile or broken client
// can do to the Edge's two lanes, each case pinned to the answer it gets.

// edgeWithTimeouts serves e through an Edge whose http.Server has the given
// read header and idle timeouts; it returns the listener's address.
func edgeWithTimeouts(t *testing.T, e *env, readHeader, idle time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	edge := e.srv.NewEdge(&http.Server{Handler: e.srv, ReadHeaderTimeout: readHeader, IdleTimeout: idle})
	go edge.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		edge.Shutdown(ctx)
	})
	return ln.Addr().String()
}

// TestFastLaneSilentConnectionClosedAtHeaderTimeout (F05): a connection
// that never sends a request is closed at the read header timeout, as
// net/http closes it, not held for the idle timeout; so is one that sends
// the start of a head and stops, counted from the connection's start.
func TestFastLaneSilentConnectionClosedAtHeaderTimeout(t *testing.T) {
	e := newEnv(t, server.Config{})
	const headerTimeout = 300 * time.Millisecond
	addr := edgeWithTimeouts(t, e, headerTimeout, time.Minute)
	for _, tt := range []struct {
		name  string
		first string // sent at once; then nothing
	}{
		{"silent", ""},
		{"a first byte then silence", "G"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			t0 := time.Now()
			c.SetReadDeadline(t0.Add(10 * time.Second)) // far past the header timeout, well short of the idle one
			if tt.first != "" {
				io.WriteString(c, tt.first)
			}
			_, err = io.ReadAll(c) // returns at the server's close
			d := time.Since(t0)
			if err != nil {
				t.Fatalf("not closed by the server after %v: %v", d, err)
			}
			if d < headerTimeout-50*time.Millisecond || d > headerTimeout+3*time.Second {
				t.Errorf("closed after %v, want about the header timeout %v", d, headerTimeout)
			}
		})
	}
}
