package server_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// With every compile slot taken, a push waits its turn (it is not refused
// and does not compile alongside); a pusher who gives up takes nothing, and
// the next push after a slot frees goes through.
func TestPushesWaitForACompileSlot(t *testing.T) {
	e := newEnv(t, server.Config{MaxCompiles: 1})
	release := e.srv.HoldCompileSlot()

	// A pusher who gives up while waiting: nothing is stored.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", e.url+"/api/v1/plugins", bytes.NewReader(archive(t, helloPlugin("com.example.wait", "1.0.0"))))
	req.Header.Set("Authorization", "Bearer "+e.tokens["dev"])
	req.Header.Set("Content-Type", "application/gzip")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("a push compiled while the only slot was taken: %d", resp.StatusCode)
	}

	// A patient pusher is served once the slot frees.
	done := make(chan response, 1)
	go func() { done <- e.push("dev", helloPlugin("com.example.wait", "1.0.1")) }()
	select {
	case r := <-done:
		t.Fatalf("push finished while the slot was held: %d %s", r.status, r.body)
	case <-time.After(300 * time.Millisecond):
	}
	release()
	select {
	case r := <-done:
		if r.status != 201 {
			t.Fatalf("push after the slot freed: %d %s", r.status, r.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("push still waiting after the slot freed")
	}
	if r := e.do("dev", "GET", "/api/v1/plugins/com.example.wait", "", nil); !strings.Contains(string(r.body), `"1.0.1"`) || strings.Contains(string(r.body), `"1.0.0"`) {
		t.Fatalf("versions after one abandoned and one served push: %s", r.body)
	}
}
