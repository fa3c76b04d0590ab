package registry_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// TestSettings: shared settings are stored once by the first InitSetting
// (every later caller gets that value), changed by SetSetting with an audit
// entry that names the setting and never its value.
func TestSettings(t *testing.T) {
	forEachStore(t, func(t *testing.T, s testStore) {
		if _, err := s.Setting(ctx, registry.SettingMobileKey); !errors.Is(err, registry.ErrSettingNotFound) {
			t.Fatalf("unset: %v, want ErrSettingNotFound", err)
		}
		// Replicas starting at once, each with its own new key: one wins.
		var wg sync.WaitGroup
		got := make([][]byte, 8)
		for i := range got {
			wg.Go(func() {
				v, err := s.InitSetting(ctx, registry.SettingMobileKey, []byte(fmt.Sprintf("key of replica %d", i)), "mmtoolkit")
				if err != nil {
					t.Error(err)
				}
				got[i] = v
			})
		}
		wg.Wait()
		for i := range got {
			if string(got[i]) != string(got[0]) {
				t.Fatalf("replicas disagree: %q and %q", got[0], got[i])
			}
		}
		stored, err := s.Setting(ctx, registry.SettingMobileKey)
		if err != nil || string(stored) != string(got[0]) {
			t.Fatalf("Setting = %q %v, want %q", stored, err, got[0])
		}

		if err := s.SetSetting(ctx, registry.SettingTrust, []byte(`{"min":"community"}`), "admin"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSetting(ctx, registry.SettingTrust, []byte(`{"min":"community"}`), "admin"); err != nil {
			t.Fatal(err)
		}
		all, err := s.AllSettings(ctx)
		if err != nil || len(all) != 2 || string(all[registry.SettingTrust]) != `{"min":"community"}` {
			t.Fatalf("AllSettings = %q %v", all, err)
		}
		entries := audit(t, s, registry.AuditFilter{})
		if len(entries) != 2 {
			t.Fatalf("%d audit entries, want 2 (one init, one set; the unchanged set writes none): %+v", len(entries), entries)
		}
		for _, e := range entries {
			if e.Action != registry.ActionSetting || strings.Contains(e.Detail, "key of replica") || strings.Contains(e.Detail, "community") {
				t.Errorf("audit entry %+v: want a setting entry without the value", e)
			}
		}
		for _, bad := range []struct{ name, actor string }{{"Bad Name", "admin"}, {"ok", ""}} {
			if err := s.SetSetting(ctx, bad.name, []byte("x"), bad.actor); !errors.Is(err, registry.ErrInvalid) {
				t.Errorf("SetSetting(%q, actor %q) = %v, want ErrInvalid", bad.name, bad.actor, err)
			}
		}
		verify(t, s)
	})
}
