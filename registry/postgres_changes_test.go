package registry_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mmtoolkit/mmtoolkit/internal/pgtest"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// TestPostgresChangeRowsOfKVEmbedServerParts: the writes replicas must hear
// of append their change row (KV puts and deletes, embed app changes and
// token revocations, server part states) with the payload that says what
// changed; writes that change nothing, refused writes, token issues and
// crash reports append none.
func TestPostgresChangeRowsOfKVEmbedServerParts(t *testing.T) {
	s := registrytest.OpenPostgres(t)
	registrytest.Push(t, s, dev, "com.example.x", "1.0.0", []byte("a"))
	since, err := s.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	put, err := s.KVPut(ctx, registry.KVWrite{PluginID: "com.example.x", Scope: "team:t1", Key: "k", Value: []byte(`1`), Actor: "u1"})
	must(err)
	if _, err := s.KVPut(ctx, registry.KVWrite{PluginID: "com.example.x", Scope: "team:t1", Key: "k", Value: []byte(`2`), IfRev: rev(0), Actor: "u1"}); err == nil {
		t.Fatal("a create-only put over an existing key passed")
	}
	must(s.KVDelete(ctx, registry.KVWrite{PluginID: "com.example.x", Scope: "team:t1", Key: "k", Actor: "u2"}))
	_, err = s.CreateEmbedApp(ctx, registry.EmbedApp{ID: "app1", Name: "App", SecretHash: []byte("h"), CreatedBy: "admin"})
	must(err)
	now := time.Now()
	must(s.PutEmbedToken(ctx, embedToken("app1", "tok1", now, time.Hour), 0))
	_, err = s.RevokeEmbedToken(ctx, "tok1", "admin")
	must(err)
	_, err = s.RevokeEmbedToken(ctx, "tok1", "admin")
	must(err)
	_, err = s.ReportCrash(ctx, registry.CrashReport{PluginID: "com.example.x", Version: "1.0.0", UserID: "u1", Message: "boom"})
	must(err)
	_, err = s.SetServerPart(ctx, registry.ServerPart{PluginID: "com.example.x", Pin: "1.0.0", Disabled: true, UpdatedBy: "admin"}, "")
	must(err)
	_, err = s.SetServerPart(ctx, registry.ServerPart{PluginID: "com.example.x", Pin: "1.0.0", Disabled: true, UpdatedBy: "admin"}, "")
	must(err)
	_, err = s.DeleteEmbedApp(ctx, "app1", "admin")
	must(err)

	changes, err := s.Changes(ctx, since, 0)
	must(err)
	var got []string
	for _, c := range changes {
		var payload map[string]any
		if err := json.Unmarshal(c.Payload, &payload); err != nil {
			t.Fatalf("change %d: %v", c.ID, err)
		}
		got = append(got, fmt.Sprintf("%s %v", c.Kind, payload))
	}
	want := []string{
		fmt.Sprintf("kv map[key:k plugin_id:com.example.x rev:%d scope:team:t1 updated_by:u1]", put.Rev),
		"kv map[deleted:true key:k plugin_id:com.example.x scope:team:t1 updated_by:u2]",
		"embed_app map[action:embed_app_create app_id:app1]",
		"embed_token map[app_id:app1 token_id:tok1]",
		"server_part map[disabled:true pin:1.0.0 plugin_id:com.example.x]",
		"embed_app map[action:embed_app_delete app_id:app1]",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("change rows:\n%v\nwant\n%v", got, want)
	}
}

// TestPostgresVerifyFindsKVEmbedDamage: Verify checks what the tables of
// KV, crash health, embed and server parts keep twice (counters, columns
// copied from records) against each other.
func TestPostgresVerifyFindsKVEmbedDamage(t *testing.T) {
	for _, tc := range []struct {
		name, damage, want string
	}{
		{"kv key count", `UPDATE kv_scopes SET keys = keys + 1`, "key count 2, 1 keys stored"},
		{"kv revision", `UPDATE kv_scopes SET rev = 1`, "the scope's last is 1"},
		{"health record", `UPDATE crash_health SET record = '{"plugin_id":"a.plugin","version":"9.9.9"}'`, "record says a.plugin@9.9.9"},
		{"token expiry column", `UPDATE embed_tokens SET expires_ms = 0`, "expires_ms 0"},
		{"token session column", `UPDATE embed_tokens SET session_ref = ''`, `session_ref ""`},
		{"app record", `UPDATE embed_apps SET record = '{"id":"other"}'`, `record says id "other"`},
		{"server part record", `UPDATE server_parts SET record = '{"plugin_id":"b.plugin"}'`, `record says plugin "b.plugin"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := registrytest.OpenPostgres(t)
			put(t, s, dev, "a.plugin", "1.0.0", []byte("bundle"))
			for _, k := range []string{"k1", "k2"} {
				if _, err := s.KVPut(ctx, registry.KVWrite{PluginID: "a.plugin", Scope: "s", Key: k, Value: []byte("1"), Actor: "u"}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.KVDelete(ctx, registry.KVWrite{PluginID: "a.plugin", Scope: "s", Key: "k1", Actor: "u"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ReportCrash(ctx, registry.CrashReport{PluginID: "a.plugin", Version: "1.0.0", UserID: "u", Message: "boom"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateEmbedApp(ctx, registry.EmbedApp{ID: "app1", SecretHash: []byte("h"), CreatedBy: "admin"}); err != nil {
				t.Fatal(err)
			}
			tok := embedToken("app1", "tok1", time.Now(), time.Hour)
			tok.SessionRef = "pat"
			if err := s.PutEmbedToken(ctx, tok, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := s.SetServerPart(ctx, registry.ServerPart{PluginID: "a.plugin", Disabled: true, UpdatedBy: "admin"}, ""); err != nil {
				t.Fatal(err)
			}
			if err := s.Verify(ctx); err != nil {
				t.Fatalf("Verify before the damage: %v", err)
			}
			conn, err := pgx.Connect(ctx, s.DSN())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, tc.damage); err != nil {
				t.Fatal(err)
			}
			if err := s.Verify(ctx); !errors.Is(err, registry.ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify() = %v, want ErrCorrupt mentioning %q", err, tc.want)
			}
		})
	}
}

// TestPostgresKVEmbedCrashServerPartsUnavailable: with the database down,
// every KV, crash log, embed and server part call fails with an error
// wrapping ErrUnavailable (which the server answers 503 with Retry-After),
// and works again once it is back, on the same store.
func TestPostgresKVEmbedCrashServerPartsUnavailable(t *testing.T) {
	c := pgtest.New(t)
	s := registrytest.OpenPostgresDSN(t, c.DSN("postgres"), nil)
	put(t, s, dev, "a.plugin", "1.0.0")
	kv := registry.KVWrite{PluginID: "a.plugin", Scope: "s", Key: "k", Value: []byte("1"), Actor: "u"}
	if _, err := s.KVPut(ctx, kv); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateEmbedApp(ctx, registry.EmbedApp{ID: "app1", SecretHash: []byte("h"), CreatedBy: "admin"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for name, call := range map[string]func() error{
		"KVGet":    func() error { _, err := s.KVGet(ctx, "a.plugin", "s", "k"); return err },
		"KVPut":    func() error { _, err := s.KVPut(ctx, kv); return err },
		"KVDelete": func() error { return s.KVDelete(ctx, kv) },
		"KVList":   func() error { _, err := s.KVList(ctx, "a.plugin", "s", "", "", 0); return err },
		"KVUsage":  func() error { _, _, err := s.KVUsage(ctx, "u"); return err },
		"ReportCrash": func() error {
			_, err := s.ReportCrash(ctx, registry.CrashReport{PluginID: "a.plugin", Version: "1.0.0", UserID: "u", Message: "boom"})
			return err
		},
		"PluginHealth": func() error { _, err := s.PluginHealth(ctx, "a.plugin"); return err },
		"EmbedApps":    func() error { _, err := s.EmbedApps(ctx); return err },
		"EmbedApp":     func() error { _, err := s.EmbedApp(ctx, "app1"); return err },
		"CreateEmbedApp": func() error {
			_, err := s.CreateEmbedApp(ctx, registry.EmbedApp{ID: "app2", SecretHash: []byte("h"), CreatedBy: "admin"})
			return err
		},
		"UpdateEmbedApp": func() error {
			_, err := s.UpdateEmbedApp(ctx, "app1", "admin", func(*registry.EmbedApp) (registry.EmbedChange, error) { return registry.EmbedChange{}, nil })
			return err
		},
		"DeleteEmbedApp":     func() error { _, err := s.DeleteEmbedApp(ctx, "app1", "admin"); return err },
		"PutEmbedToken":      func() error { return s.PutEmbedToken(ctx, embedToken("app1", "tok1", now, time.Hour), 10) },
		"EmbedToken":         func() error { _, err := s.EmbedToken(ctx, "tok1"); return err },
		"RevokeEmbedToken":   func() error { _, err := s.RevokeEmbedToken(ctx, "tok1", "admin"); return err },
		"EmbedSessionsToEnd": func() error { _, err := s.EmbedSessionsToEnd(ctx, now, 10); return err },
		"EmbedSessionEnded":  func() error { return s.EmbedSessionEnded(ctx, "tok1") },
		"ServerPart":         func() error { _, err := s.ServerPart(ctx, "a.plugin"); return err },
		"SetServerPart": func() error {
			_, err := s.SetServerPart(ctx, registry.ServerPart{PluginID: "a.plugin", Disabled: true, UpdatedBy: "admin"}, "")
			return err
		},
	} {
		if err := call(); !errors.Is(err, registry.ErrUnavailable) {
			t.Errorf("%s while the database is down: %v, want ErrUnavailable", name, err)
		}
	}
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	if e, err := s.KVPut(ctx, kv); err != nil || e.Rev != 2 {
		t.Fatalf("put after the restart: %+v %v, want rev 2", e, err)
	}
	if err := s.PutEmbedToken(ctx, embedToken("app1", "tok1", now, time.Hour), 10); err != nil {
		t.Fatalf("token after the restart: %v", err)
	}
}
