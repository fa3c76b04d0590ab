package fleet

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// TestNginxBalancesAndSkipsADeadBackend: requests go round robin over the
// backends; one that refuses connections is skipped without an error.
func TestNginxBalancesAndSkipsADeadBackend(t *testing.T) {
	if _, err := FindNginx(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	var backends []string
	for _, name := range []string{"a", "b"} {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) }))
		t.Cleanup(s.Close)
		backends = append(backends, strings.TrimPrefix(s.URL, "http://"))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	n, err := StartNginx(append(backends, dead), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	seen := map[string]int{}
	for range 12 {
		resp, err := http.Get(n.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("through nginx: %d %s", resp.StatusCode, body)
		}
		seen[string(body)]++
	}
	if seen["a"] == 0 || seen["b"] == 0 || len(seen) != 2 {
		t.Errorf("answers by backend: %v, want both", seen)
	}
}
