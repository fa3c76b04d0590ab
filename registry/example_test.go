package registry_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// A push stores a version with its bundle; a team admin then enables the
// plugin for one team. Both land in the audit log.
func Example() {
	dir, err := os.MkdirTemp("", "registry-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := registry.Open(filepath.Join(dir, "registry.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()

	bundle := []byte(`window.registerPlugin("com.example.map", {initialize() {}});`)
	sum := sha256.Sum256(bundle)
	sha := hex.EncodeToString(sum[:])
	v := &registry.Version{
		PluginID:      "com.example.map",
		Version:       "1.2.0",
		PackageSHA256: sha, // normally the hash of the pushed .tar.gz
		Artifacts: map[string]registry.Artifact{
			registry.WebJS: {SHA256: sha, Size: int64(len(bundle)), ContentType: "text/javascript"},
		},
	}
	res, err := s.PutVersion(ctx, v, map[string][]byte{sha: bundle}, registry.Pusher{UserID: "dev"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created:", res.Created)

	// The same content again is a no-op, not an error.
	res, err = s.PutVersion(ctx, v, map[string][]byte{sha: bundle}, registry.Pusher{UserID: "dev"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created again:", res.Created)

	if _, err := s.SetTeamState(ctx, registry.TeamState{
		TeamID: "engineering", PluginID: "com.example.map", Enabled: true, Version: "1.2.0", UpdatedBy: "alice",
	}); err != nil {
		log.Fatal(err)
	}
	entries, err := s.Audit(ctx, registry.AuditFilter{PluginID: "com.example.map"})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println(e.Seq, e.Actor, e.Action, e.PluginID, e.Version, e.TeamID, e.Detail)
	}
	// Output:
	// created: true
	// created again: false
	// 2 alice enable com.example.map 1.2.0 engineering pinned 1.2.0
	// 1 dev push com.example.map 1.2.0
}

// Several processes share one registry on PostgreSQL: each opens the same
// database (the first applies the schema), writes with the same methods as
// on bbolt, and follows the change log for what the others wrote.
func ExampleOpenPostgres() {
	ctx := context.Background()
	s, err := registry.OpenPostgres(ctx, "postgres://mmtoolkit@db.internal/mmtoolkit?pool_max_conns=10", nil)
	if err != nil {
		log.Fatal(err) // errors.Is(err, registry.ErrUnavailable) while the database is down
	}
	defer s.Close()
	last, err := s.LastChange(ctx)
	if err != nil {
		log.Fatal(err)
	}
	changes, err := s.Changes(ctx, last, 100) // what others write from now on
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range changes {
		fmt.Println(c.ID, c.Kind, string(c.Payload))
	}
}
