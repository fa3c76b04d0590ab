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
	t.Parallel()
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

// TestSourceMapsWaitForACompileSlot: the source maps a push leaves for
// after its answer are compiles too, bounded by the same MaxCompiles: with
// the only slot taken, they wait, and are built once it frees.
func TestSourceMapsWaitForACompileSlot(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{MaxCompiles: 1})
	holdMaps := e.srv.HoldSourceMaps()
	defer holdMaps()
	r := e.push("dev", helloPlugin("com.example.mapslot", "1.0.0"))
	if r.status != 201 {
		t.Fatalf("push: %d %s", r.status, r.body)
	}
	webMap, _ := r.json(t)["bundles"].(map[string]any)["web_map"].(map[string]any)
	if webMap["pending"] != true {
		t.Fatalf("web_map: %v, want it left for after the answer", webMap)
	}

	release := e.srv.HoldCompileSlot()
	holdMaps() // the maps may be built now, but for the slot
	// Long enough for the maps of this small plugin to be built on a busy
	// machine if nothing held them (a few hundred ms).
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if e.srv.Idle() {
			release()
			t.Fatal("source maps built while the only compile slot was taken")
		}
	}
	release()
	e.waitIdle()
	if m := e.do("", "GET", webMap["url"].(string), "", nil); m.status != 200 {
		t.Fatalf("map after the slot freed: %d %s", m.status, m.body)
	}
}
