package registry_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// TestPrunePrereleases: pruning keeps the developer's newest N
// prereleases, those a team pins and those protected (a live preview),
// never a release or another developer's build; it removes the rest with
// their health, and the blobs only they named with those blobs' variants
// and bytecode, in one audited transaction the store still verifies after.
func TestPrunePrereleases(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, s testStore) {
		dev, admin := registry.Pusher{UserID: "dev"}, registry.Pusher{UserID: "admin", SystemAdmin: true}
		const id = "com.example.a"
		shared := []byte("// a source map every build shares\n")
		push := func(by registry.Pusher, v string) *registry.Version {
			return registrytest.Push(t, s, by, id, v, []byte("web "+v), shared, []byte("mobile "+v))
		}
		push(dev, "1.0.0")
		var builds []*registry.Version
		for i := 1; i <= 7; i++ {
			builds = append(builds, push(dev, fmt.Sprintf("1.0.1-dev.%d", i)))
		}
		push(admin, "1.0.1-dev.100") // another developer's
		if _, err := s.SetTeamState(ctx, registry.TeamState{TeamID: "t1", PluginID: id, Enabled: true, Version: "1.0.1-dev.2", UpdatedBy: "alice"}); err != nil {
			t.Fatal(err)
		}
		// dev.1's mobile bundle has bytecode; dev.1 also had a crash reported.
		first := builds[0]
		hbc := []byte("hermes bytecode of dev.1")
		if err := s.PutBytecode(ctx, registry.Bytecode{Source: first.Artifacts[registry.MobileJS].SHA256, BytecodeVersion: 96,
			Artifact: registry.Artifact{SHA256: registrytest.SHA256(hbc), Size: int64(len(hbc))}}, hbc); err != nil {
			t.Fatal(err)
		}
		// The crash log is another interface; every store has it once
		// PostgreSQL's lands (then its health must go with the version).
		crashes, hasCrashes := s.(registry.CrashLog)
		if hasCrashes {
			if _, err := crashes.ReportCrash(ctx, registry.CrashReport{PluginID: id, Version: first.Version, TeamID: "t1", UserID: "dev", Message: "boom"}); err != nil {
				t.Fatal(err)
			}
		}

		res, err := s.PrunePrereleases(ctx, registry.PruneQuery{PluginID: id, PushedBy: "dev", Keep: 2,
			Protect: map[string]bool{"1.0.1-dev.3": true}, Actor: "mmtoolkit"})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"1.0.1-dev.1", "1.0.1-dev.4", "1.0.1-dev.5"}
		if !slices.Equal(res.Versions, want) {
			t.Fatalf("pruned %v, want %v (kept: the 2 newest, the pinned dev.2, the protected dev.3, the release, admin's)", res.Versions, want)
		}
		// Per version: web, its gzip, mobile, its gzip; dev.1 also its bytecode.
		if res.Blobs != 3*4+1 {
			t.Errorf("collected %d blobs, want %d", res.Blobs, 3*4+1)
		}
		p, err := s.Plugin(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if wantLeft := []string{"1.0.0", "1.0.1-dev.2", "1.0.1-dev.3", "1.0.1-dev.6", "1.0.1-dev.7", "1.0.1-dev.100"}; !slices.Equal(p.Versions, wantLeft) || p.Latest != "1.0.1-dev.100" {
			t.Errorf("plugin lists %v (latest %s), want %v", p.Versions, p.Latest, wantLeft)
		}
		for _, v := range want {
			if _, err := s.Version(ctx, id, v); !errors.Is(err, registry.ErrVersionNotFound) {
				t.Errorf("version %s: %v, want ErrVersionNotFound", v, err)
			}
		}
		for kind, a := range first.Artifacts {
			_, err := s.Blob(ctx, a.SHA256)
			if kind == registry.WebMap {
				if err != nil {
					t.Errorf("the shared blob went with dev.1: %v", err)
				}
				continue
			}
			if !errors.Is(err, registry.ErrBlobNotFound) {
				t.Errorf("dev.1's %s blob: %v, want collected", kind, err)
			}
			if _, err := s.Blob(ctx, a.Encodings["gzip"]); !errors.Is(err, registry.ErrBlobNotFound) {
				t.Errorf("dev.1's %s gzip blob: %v, want collected", kind, err)
			}
		}
		if bc, err := s.Bytecode(ctx, first.Artifacts[registry.MobileJS].SHA256); err != nil || len(bc) != 0 {
			t.Errorf("dev.1's bytecode records: %v %v, want none", bc, err)
		}
		if _, err := s.Blob(ctx, registrytest.SHA256(hbc)); !errors.Is(err, registry.ErrBlobNotFound) {
			t.Errorf("dev.1's bytecode blob: %v, want collected", err)
		}
		if hasCrashes {
			if h, err := crashes.PluginHealth(ctx, id); err != nil || len(h) != 0 {
				t.Errorf("health after pruning the crashed version: %v %v", h, err)
			}
		}
		audit, err := s.Audit(ctx, registry.AuditFilter{PluginID: id, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if e := audit[0]; e.Action != registry.ActionPrune || e.Actor != "mmtoolkit" || !slices.Equal(e.Versions, want) {
			t.Errorf("last audit entry: %+v, want the prune", e)
		}
		// Both stores word the entry alike (one pruneAudit).
		wantDetail := fmt.Sprintf("removed 1.0.1-dev.1, 1.0.1-dev.4, 1.0.1-dev.5 (prereleases pushed by dev, who keeps their newest 2); %d blob(s), %d bytes collected",
			res.Blobs, res.BlobBytes)
		if e := audit[0]; e.Detail != wantDetail {
			t.Errorf("prune entry's detail %q, want %q", e.Detail, wantDetail)
		}
		if err := s.Verify(ctx); err != nil {
			t.Errorf("after pruning: %v", err)
		}

		// Nothing more to prune: nothing written.
		if res, err := s.PrunePrereleases(ctx, registry.PruneQuery{PluginID: id, PushedBy: "dev", Keep: 2,
			Protect: map[string]bool{"1.0.1-dev.3": true}, Actor: "mmtoolkit"}); err != nil || len(res.Versions) != 0 {
			t.Errorf("second prune: %+v %v, want nothing", res, err)
		}
		if again, _ := s.Audit(ctx, registry.AuditFilter{PluginID: id, Limit: 1}); again[0].Seq != audit[0].Seq {
			t.Errorf("a prune with nothing to do wrote audit entry %+v", again[0])
		}
		// A pruned version pushed again is a version like any other.
		push(dev, "1.0.1-dev.4")
		if err := s.Verify(ctx); err != nil {
			t.Errorf("after pushing a pruned version again: %v", err)
		}
	})
}
