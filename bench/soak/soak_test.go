package main

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestSoakSmoke runs the soak small and short (50 readers, 20 websocket
// clients, 8 s) so that the tool keeps working; the real run is
// `bash bench/soak/soak.sh` (5 minutes). Memory stability is judged only
// on runs of a minute or more; here it is reported, not checked.
func TestSoakSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and loads the binary for 8 s")
	}
	bin := filepath.Join(t.TempDir(), "mmtoolkit")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/mmtoolkit").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	res, err := Run(Config{Bin: bin, Duration: 8 * time.Second, Readers: 50, ReaderInterval: 100 * time.Millisecond,
		Clients: 20, PushRate: 2, ToggleRate: 1, Plugin: "../../docs/examples/hello"})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Line())
	if !res.OK() {
		t.Fatalf("%v", res.Problems)
	}
	if res.Pushes < 4 || res.Toggles < 4 || res.Reads < 500 {
		t.Errorf("too little load got through: %d pushes, %d toggles, %d reads", res.Pushes, res.Toggles, res.Reads)
	}
}
