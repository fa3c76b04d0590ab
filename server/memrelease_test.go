package server_test

import (
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/server"
)

func TestCompileMemoryReleasedWhenPushesPause(t *testing.T) {
	defer server.SetReleaseAfter(time.Second)() // longer than any push here, even on a loaded machine
	e := newEnv(t, server.Config{})
	// Three pushes in a row: one release, after the last.
	for _, v := range []string{"1.0.0", "1.0.1", "1.0.2"} {
		if r := e.push("dev", helloPlugin("com.example.mem", v)); r.status != 201 {
			t.Fatal(r.status, string(r.body))
		}
	}
	if n := e.srv.MemoryReleases(); n != 0 {
		t.Fatalf("%d releases while pushes kept coming", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.srv.MemoryReleases() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if n := e.srv.MemoryReleases(); n != 1 {
		t.Fatalf("%d releases after the pushes paused, want 1", n)
	}
}
