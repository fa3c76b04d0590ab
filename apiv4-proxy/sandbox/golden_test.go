package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGoldenResponses replays a conversation with the sandbox's API v4 and
// compares every response with testdata/golden/<step>.json. Volatile
// values are normalised: request ids, the ids of posts the test creates
// (named <post-N> in creation order) and timestamps taken during the test
// (<now>). UPDATE_GOLDEN=1 rewrites the files.
func TestGoldenResponses(t *testing.T) {
	sb, _ := openSandbox(t)
	api := newAPIServer(t, sb)
	start := time.Now().UnixMilli()
	n := newNormaliser(start)

	engTown, engDev := channelID("engineering/town-square"), channelID("engineering/dev-talk")
	vars := map[string]string{
		"{eng}": teamID("engineering"), "{sales}": teamID("sales"),
		"{eng-town}": engTown, "{eng-dev}": engDev, "{sales-deals}": channelID("sales/deals"),
		"{alice}": userID("alice"), "{dev}": userID("dev"), "{bob}": userID("bob"),
		"{since}": strconv.FormatInt(start-1, 10), "{unknown}": "zzzzzzzzzzzzzzzzzzzzzzzzzz",
		"{long}": strings.Repeat("x", MaxMessageRunes+1),
	}
	expand := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, k, v)
		}
		return s
	}

	steps := []struct {
		name, user, method, path, body string
		status                         int
		newPost                        string // remember the created post's id as vars[newPost]
	}{
		{"system_ping", "", "GET", "/api/v4/system/ping", "", 200, ""},
		{"users_me", "bob", "GET", "/api/v4/users/me", "", 200, ""},
		{"users_me_no_token", "", "GET", "/api/v4/users/me", "", 401, ""},
		{"user_other", "bob", "GET", "/api/v4/users/{alice}", "", 200, ""},
		{"user_unknown", "bob", "GET", "/api/v4/users/{unknown}", "", 404, ""},
		{"user_bad_id", "bob", "GET", "/api/v4/users/nope", "", 400, ""},
		{"users_ids", "bob", "POST", "/api/v4/users/ids", `["{alice}","{dev}","{unknown}","{alice}"]`, 200, ""},
		{"users_ids_empty", "bob", "POST", "/api/v4/users/ids", `[]`, 400, ""},
		{"user_team_channels", "bob", "GET", "/api/v4/users/me/teams/{eng}/channels", "", 200, ""},
		{"user_team_channels_by_id", "carol", "GET", "/api/v4/users/" + userID("carol") + "/teams/{sales}/channels", "", 200, ""},
		{"user_team_channels_other_team", "bob", "GET", "/api/v4/users/me/teams/{sales}/channels", "", 403, ""},
		{"user_team_channels_other_user", "bob", "GET", "/api/v4/users/{alice}/teams/{eng}/channels", "", 403, ""},
		{"user_team_channel_members", "bob", "GET", "/api/v4/users/me/teams/{eng}/channels/members", "", 200, ""},
		{"users_in_team", "bob", "GET", "/api/v4/users?in_team={eng}", "", 200, ""},
		{"users_in_team_page", "bob", "GET", "/api/v4/users?in_team={eng}&page=1&per_page=2", "", 200, ""},
		{"users_in_team_not_member", "carol", "GET", "/api/v4/users?in_team={eng}", "", 403, ""},
		{"users_in_team_bad_id", "bob", "GET", "/api/v4/users?in_team=abc", "", 400, ""},
		{"users_all", "carol", "GET", "/api/v4/users", "", 200, ""},
		{"channel_by_name", "bob", "GET", "/api/v4/teams/{eng}/channels/name/town-square", "", 200, ""},
		{"channel_by_team_name", "bob", "GET", "/api/v4/teams/name/engineering/channels/name/dev-talk", "", 200, ""},
		{"channel_by_name_missing", "bob", "GET", "/api/v4/teams/{eng}/channels/name/no-such-channel", "", 404, ""},
		{"channel_by_name_other_team", "carol", "GET", "/api/v4/teams/name/engineering/channels/name/town-square", "", 403, ""},
		{"channel_by_team_name_missing_team", "bob", "GET", "/api/v4/teams/name/nope/channels/name/town-square", "", 404, ""},
		{"channel", "bob", "GET", "/api/v4/channels/{eng-dev}", "", 200, ""},
		{"channel_unknown", "bob", "GET", "/api/v4/channels/{unknown}", "", 404, ""},
		{"channel_bad_id", "bob", "GET", "/api/v4/channels/abc", "", 400, ""},
		{"channel_not_member", "carol", "GET", "/api/v4/channels/{eng-town}", "", 403, ""},
		{"channel_admin_not_member", "admin", "GET", "/api/v4/channels/{eng-town}", "", 200, ""},
		{"channel_members", "bob", "GET", "/api/v4/channels/{eng-town}/members", "", 200, ""},
		{"channel_members_page", "bob", "GET", "/api/v4/channels/{eng-town}/members?page=1&per_page=3", "", 200, ""},
		{"channel_members_not_member", "carol", "GET", "/api/v4/channels/{eng-town}/members", "", 403, ""},
		{"channel_posts_seeded", "bob", "GET", "/api/v4/channels/{eng-town}/posts", "", 200, ""},
		{"channel_posts_seeded_dev_talk", "bob", "GET", "/api/v4/channels/{eng-dev}/posts", "", 200, ""},
		{"channel_posts_sales_deals", "carol", "GET", "/api/v4/channels/{sales-deals}/posts", "", 200, ""},
		{"channel_posts_page", "bob", "GET", "/api/v4/channels/{eng-town}/posts?page=1&per_page=1", "", 200, ""},
		{"channel_posts_not_member", "carol", "GET", "/api/v4/channels/{eng-town}/posts", "", 403, ""},
		{"channel_posts_unknown", "bob", "GET", "/api/v4/channels/{unknown}/posts", "", 403, ""},
		{"posts_create", "bob", "POST", "/api/v4/posts",
			`{"channel_id":"{eng-town}","message":"hello #golden world","pending_post_id":"pending-1"}`, 201, "{post-1}"},
		{"posts_create_custom_type", "bob", "POST", "/api/v4/posts",
			`{"channel_id":"{eng-town}","message":"Meet here","type":"custom_map_location","props":{"latitude":48.8584,"longitude":2.2945,"label":"Eiffel Tower"}}`,
			201, "{post-2}"},
		{"posts_create_reply", "alice", "POST", "/api/v4/posts",
			`{"channel_id":"{eng-town}","message":"see you there","root_id":"{post-1}"}`, 201, "{post-3}"},
		{"posts_create_bad_type", "bob", "POST", "/api/v4/posts",
			`{"channel_id":"{eng-town}","message":"x","type":"not_custom"}`, 400, ""},
		{"posts_create_system_type", "bob", "POST", "/api/v4/posts",
			`{"channel_id":"{eng-town}","message":"x","type":"system_join_team"}`, 400, ""},
		{"posts_create_too_long", "bob", "POST", "/api/v4/posts", `{"channel_id":"{eng-town}","message":"{long}"}`, 400, ""},
		{"posts_create_reply_to_reply", "bob", "POST", "/api/v4/posts",
			`{"channel_id":"{eng-town}","message":"x","root_id":"{post-3}"}`, 400, ""},
		{"posts_create_not_member", "carol", "POST", "/api/v4/posts", `{"channel_id":"{eng-town}","message":"hi"}`, 403, ""},
		{"posts_create_unknown_channel", "bob", "POST", "/api/v4/posts", `{"channel_id":"{unknown}","message":"hi"}`, 403, ""},
		{"posts_create_bad_body", "bob", "POST", "/api/v4/posts", `{"channel_id":`, 400, ""},
		{"post_get", "bob", "GET", "/api/v4/posts/{post-1}", "", 200, ""},
		{"post_get_not_member", "carol", "GET", "/api/v4/posts/{post-1}", "", 403, ""},
		{"post_get_unknown", "bob", "GET", "/api/v4/posts/{unknown}", "", 404, ""},
		{"post_patch", "bob", "PUT", "/api/v4/posts/{post-1}/patch", `{"message":"hello #edited world"}`, 200, ""},
		{"post_patch_props", "bob", "PUT", "/api/v4/posts/{post-2}/patch", `{"props":{"latitude":1,"longitude":2,"label":"moved"}}`, 200, ""},
		{"post_patch_not_owner", "alice", "PUT", "/api/v4/posts/{post-1}/patch", `{"message":"mine now"}`, 403, ""},
		{"post_patch_unknown", "bob", "PUT", "/api/v4/posts/{unknown}/patch", `{"message":"x"}`, 403, ""},
		{"channel_posts_since", "bob", "GET", "/api/v4/channels/{eng-town}/posts?since={since}", "", 200, ""},
		{"post_delete_not_owner", "dev", "DELETE", "/api/v4/posts/{post-2}", "", 403, ""},
		{"post_delete_team_admin", "alice", "DELETE", "/api/v4/posts/{post-2}", "", 200, ""},
		{"post_get_deleted", "bob", "GET", "/api/v4/posts/{post-2}", "", 404, ""},
		{"channel_posts_after_changes", "bob", "GET", "/api/v4/channels/{eng-town}/posts", "", 200, ""},
		{"channel_posts_before", "bob", "GET", "/api/v4/channels/{eng-town}/posts?before={post-1}&per_page=2", "", 200, ""},
		{"channel_posts_after", "bob", "GET", "/api/v4/channels/{eng-town}/posts?after=" + SeedID("post", "engineering/town-square/1") + "&per_page=2", "", 200, ""},
		{"channel_after_changes", "bob", "GET", "/api/v4/channels/{eng-town}", "", 200, ""},
		{"teams_name", "bob", "GET", "/api/v4/teams/name/engineering", "", 200, ""},
		{"teams_name_missing", "bob", "GET", "/api/v4/teams/name/no-such-team", "", 404, ""},
		{"license_client", "bob", "GET", "/api/v4/license/client?format=old", "", 200, ""},
		{"license_client_new_format", "bob", "GET", "/api/v4/license/client", "", 501, ""},
		{"config_client", "bob", "GET", "/api/v4/config/client?format=old", "", 200, ""},
		{"config_client_limited", "", "GET", "/api/v4/config/client?format=old", "", 200, ""},
		{"config_client_no_format", "", "GET", "/api/v4/config/client", "", 501, ""},
		{"config_client_bad_format", "bob", "GET", "/api/v4/config/client?format=new", "", 400, ""},
		{"roles_names", "alice", "POST", "/api/v4/roles/names", `["team_admin","channel_user","nope","team_admin"]`, 200, ""},
		{"roles_names_empty", "alice", "POST", "/api/v4/roles/names", `[]`, 400, ""},
		{"role_by_name", "bob", "GET", "/api/v4/roles/name/system_user", "", 200, ""},
		{"preferences_none", "bob", "GET", "/api/v4/users/me/preferences", "", 200, ""},
		{"preferences_save", "bob", "PUT", "/api/v4/users/{bob}/preferences",
			`[{"user_id":"{bob}","category":"theme","name":"","value":"{\"type\":\"Onyx\"}"}]`, 200, ""},
		{"preferences_after_save", "bob", "GET", "/api/v4/users/me/preferences", "", 200, ""},
		{"preferences_save_other_user", "bob", "PUT", "/api/v4/users/{alice}/preferences",
			`[{"user_id":"{alice}","category":"theme","name":"","value":"{}"}]`, 403, ""},
		{"preferences_save_wrong_user_id", "bob", "PUT", "/api/v4/users/{bob}/preferences",
			`[{"user_id":"{alice}","category":"theme","name":"","value":"{}"}]`, 400, ""},
		{"statuses_ids", "bob", "POST", "/api/v4/users/status/ids", `["{alice}","{unknown}"]`, 200, ""},
		{"status_me", "bob", "GET", "/api/v4/users/me/status", "", 200, ""},
		{"not_found", "bob", "GET", "/api/v4/nope", "", 404, ""},
		{"wrong_method", "bob", "POST", "/api/v4/channels/{eng-town}", "", 404, ""},
		{"websocket_not_upgrade", "", "GET", "/api/v4/websocket", "", 400, ""},
	}
	for _, st := range steps {
		got := api.do(st.user, st.method, expand(st.path), expand(st.body))
		if got.status != st.status {
			t.Errorf("%s: status %d, want %d: %s", st.name, got.status, st.status, got.body)
		}
		if got.status < 300 && st.newPost != "" {
			var p struct{ ID string }
			if err := json.Unmarshal(got.body, &p); err != nil || p.ID == "" {
				t.Fatalf("%s: no post id in %s", st.name, got.body)
			}
			vars[st.newPost] = p.ID
			n.name(p.ID, strings.Trim(st.newPost, "{}"))
			// Distinct create_at, so the order of new posts is stable.
			time.Sleep(2 * time.Millisecond)
		}
		doc := map[string]any{"status": got.status, "body": json.RawMessage(got.body)}
		if len(got.body) == 0 {
			doc["body"] = nil
		}
		checkGolden(t, st.name, n.normalise(t, doc))
	}
}

var unsavedPostID = regexp.MustCompile(`id=[a-z0-9]{26}$`)

// normaliser replaces what changes from run to run.
type normaliser struct {
	start int64
	names map[string]string // id -> <name>
}

func newNormaliser(start int64) *normaliser {
	return &normaliser{start: start, names: map[string]string{}}
}

func (n *normaliser) name(id, name string) { n.names[id] = "<" + name + ">" }

func (n *normaliser) normalise(t *testing.T, doc any) []byte {
	t.Helper()
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // keep <now> and <post-1> readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(n.walk("", v)); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func (n *normaliser) walk(key string, v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[n.str(k)] = n.walk(k, x)
		}
		return out
	case []any:
		for i := range v {
			v[i] = n.walk(key, v[i])
		}
		return v
	case string:
		if key == "request_id" {
			return "<request_id>"
		}
		if key == "post" && strings.HasPrefix(v, "{") {
			// A websocket post is JSON in a string: normalise inside.
			var inner any
			d := json.NewDecoder(strings.NewReader(v))
			d.UseNumber()
			if d.Decode(&inner) == nil {
				b, _ := json.Marshal(n.walk("", inner))
				return string(b)
			}
		}
		if key == "detailed_error" {
			// A rejected post's detail names the id it would have had.
			return unsavedPostID.ReplaceAllString(n.str(v), "id=<unsaved>")
		}
		return n.str(v)
	case json.Number:
		if i, err := v.Int64(); err == nil && (strings.HasSuffix(key, "_at") || key == "server_time") &&
			i >= n.start && i <= time.Now().UnixMilli()+60_000 {
			return "<now>"
		}
		return v
	}
	return v
}

func (n *normaliser) str(s string) string {
	for id, name := range n.names {
		s = strings.ReplaceAll(s, id, name)
	}
	return s
}

// checkGolden compares got with testdata/golden/<name>.json, or rewrites
// the file when UPDATE_GOLDEN=1.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".json")
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%s: %v (run with UPDATE_GOLDEN=1 to create it)", name, err)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (UPDATE_GOLDEN=1 rewrites it):\n%s", name, path, lineDiff(string(want), string(got)))
	}
}

// lineDiff is a small LCS line diff: "-" lines are the golden file's,
// "+" lines the response's; unchanged lines are left out.
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			i, j = i+1, j+1
		case j < len(y) && (i == len(x) || lcs[i][j+1] >= lcs[i+1][j]):
			fmt.Fprintf(&out, "%4d + %s\n", j+1, y[j])
			j++
		default:
			fmt.Fprintf(&out, "%4d - %s\n", i+1, x[i])
			i++
		}
	}
	return out.String()
}

// TestGoldenFilesAreUsed keeps testdata/golden free of files no step
// writes any more.
func TestGoldenFilesAreUsed(t *testing.T) {
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		t.Skip("rewriting golden files")
	}
	src, err := os.ReadFile("golden_test.go")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	sort.Strings(files)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if !bytes.Contains(src, []byte(`{"`+name+`", `)) {
			t.Errorf("%s is not produced by any step of TestGoldenResponses; delete it", f)
		}
	}
}
