package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/server"
)

func TestKVStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	e.push("dev", helloPlugin("com.example.apps", "1.0.0"))
	if r := e.setTeam("alice", "engineering", "com.example.apps", `{"enabled":true}`); r.status != 200 {
		t.Fatal(r.status, string(r.body))
	}
	kv := func(user, method, path, body string, hdr ...string) response {
		t.Helper()
		var rd *strings.Reader
		if body != "" {
			rd = strings.NewReader(body)
		} else {
			rd = strings.NewReader("")
		}
		return e.do(user, method, "/api/v1/plugins/com.example.apps/kv/"+path, "application/json", rd, hdr...)
	}

	// Team scope: the team admin writes, members read, others are refused.
	r := kv("alice", "PUT", "team:engineering/installed/jira", `{"installed":true}`)
	if r.status != 200 || r.header.Get("ETag") == "" {
		t.Fatalf("admin writes: %d %s", r.status, r.body)
	}
	etag := r.header.Get("ETag")
	if r := kv("bob", "GET", "team:engineering/installed/jira", ""); r.status != 200 || string(r.body) != `{"installed":true}` || r.header.Get("ETag") != etag {
		t.Fatalf("member reads: %d %s", r.status, r.body)
	}
	if r := kv("bob", "GET", "team:"+e.teams["engineering"]+"/installed/jira", ""); r.status != 200 {
		t.Fatalf("by team id: %d", r.status)
	}
	if r := kv("bob", "PUT", "team:engineering/installed/github", `{}`); r.status != 403 || r.errorCode(t) != "not_team_admin" {
		t.Fatalf("member writes team scope: %d %s", r.status, r.body)
	}
	if r := kv("carol", "GET", "team:engineering/installed/jira", ""); r.status != 403 || r.errorCode(t) != "not_team_member" {
		t.Fatalf("non-member reads: %d %s", r.status, r.body)
	}

	// Compare-and-set.
	if r := kv("alice", "PUT", "team:engineering/installed/jira", `{"installed":false}`, "If-Match", `"999"`); r.status != 412 || r.errorCode(t) != "kv_conflict" {
		t.Fatalf("stale If-Match: %d %s", r.status, r.body)
	}
	if r := kv("alice", "PUT", "team:engineering/installed/jira", `{"installed":false}`, "If-Match", etag); r.status != 200 {
		t.Fatalf("fresh If-Match: %d %s", r.status, r.body)
	}
	if r := kv("alice", "PUT", "team:engineering/installed/jira", `1`, "If-None-Match", "*"); r.status != 412 {
		t.Fatalf("create-only over existing: %d %s", r.status, r.body)
	}

	// User scope is the caller's own.
	if r := kv("bob", "PUT", "user/reviews/2026", `{"rating":5}`); r.status != 200 {
		t.Fatalf("user put: %d %s", r.status, r.body)
	}
	if r := kv("alice", "GET", "user/reviews/2026", ""); r.status != 404 || r.errorCode(t) != "kv_not_found" {
		t.Fatalf("alice sees bob's user key: %d %s", r.status, r.body)
	}
	kv("bob", "PUT", "user/reviews/2025", `{"rating":4}`)
	kv("bob", "PUT", "user/other", `1`)
	list := kv("bob", "GET", "user?prefix=reviews/", "")
	var l struct {
		Entries []struct {
			Key   string
			Value json.RawMessage
		}
	}
	json.Unmarshal(list.body, &l)
	if list.status != 200 || len(l.Entries) != 2 || l.Entries[0].Key != "reviews/2025" || string(l.Entries[1].Value) != `{"rating":5}` {
		t.Fatalf("list: %d %s", list.status, list.body)
	}
	if r := kv("bob", "DELETE", "user/other", ""); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}

	for _, tt := range []struct {
		method, path, body, code string
		status                   int
	}{
		{"PUT", "user/a", "not json", "kv_value_not_json", 400},
		{"PUT", "user/a", `"` + strings.Repeat("x", 70<<10) + `"`, "kv_value_too_large", 413},
		{"PUT", "user/a%20b", `1`, "kv_key_invalid", 400},
		{"PUT", "user/" + strings.Repeat("k", 300), `1`, "kv_key_invalid", 400},
		{"PUT", "nope/a", `1`, "kv_scope_invalid", 400},
		{"PUT", "team:nope/a", `1`, "team_not_found", 404},
		{"GET", "user/missing", "", "kv_not_found", 404},
		{"PUT", "user/a", `1`, "kv_precondition_invalid", 400},
	} {
		hdr := []string{}
		if tt.code == "kv_precondition_invalid" {
			hdr = []string{"If-Match", "abc"}
		}
		if r := kv("bob", tt.method, tt.path, tt.body, hdr...); r.status != tt.status || r.errorCode(t) != tt.code {
			t.Errorf("%s %.30s: %d %.200s", tt.method, tt.path, r.status, r.body)
		}
	}
	if r := e.do("bob", "GET", "/api/v1/plugins/com.example.none/kv/user/a", "", nil); r.status != 404 || r.errorCode(t) != "plugin_not_found" {
		t.Errorf("unknown plugin: %d %s", r.status, r.body)
	}
}

func TestKVMembersWriteWhenTheManifestSaysSo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	files := helloPlugin("com.example.board", "1.0.0")
	files["plugin.json"] = strings.Replace(files["plugin.json"], `"description"`, `"kv":{"team_write":"members"},"description"`, 1)
	if r := e.push("dev", files); r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	if r := e.setTeam("alice", "engineering", "com.example.board", `{"enabled":true}`); r.status != 200 {
		t.Fatal(r.status, string(r.body))
	}
	if r := e.do("bob", "PUT", "/api/v1/plugins/com.example.board/kv/team:engineering/note", "application/json", strings.NewReader(`"hi"`)); r.status != 200 {
		t.Fatalf("member write allowed by manifest: %d %s", r.status, r.body)
	}
}
