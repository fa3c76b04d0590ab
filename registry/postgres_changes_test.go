package registry_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

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
