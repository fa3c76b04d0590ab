package sandbox

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// sample is one response of a real Mattermost 5.37 in
// testdata/mattermost (copied from shared/reference/mattermost-api-samples).
type sample struct {
	Status  string              `json:"status"`
	Headers map[string][]string `json:"headers"`
	Body    json.RawMessage     `json:"body"`
}

func readSample(t *testing.T, name string) sample {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "mattermost", name))
	if err != nil {
		t.Fatal(err)
	}
	var s sample
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

// object decodes a JSON object, or the first element of an array of them.
func object(t *testing.T, what string, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err == nil {
		return m
	}
	var arr []map[string]any
	if err := json.Unmarshal(b, &arr); err != nil || len(arr) == 0 {
		t.Fatalf("%s: not a JSON object or non-empty array: %s", what, b)
	}
	return arr[0]
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// sameFields reports fields only one side has. newer lists fields the
// sandbox sends that 5.37 does not (newer Mattermost versions do);
// omitted lists fields 5.37 leaves out when empty (omitempty) and the
// sample happens to have.
func sameFields(t *testing.T, what string, got, want map[string]any, newer, omitted []string) {
	t.Helper()
	for _, k := range keys(want) {
		if _, ok := got[k]; !ok && !slices.Contains(omitted, k) {
			t.Errorf("%s: the sandbox lacks Mattermost's field %q", what, k)
		}
	}
	for _, k := range keys(got) {
		if _, ok := want[k]; !ok && !slices.Contains(newer, k) {
			t.Errorf("%s: the sandbox sends %q, which Mattermost 5.37 does not", what, k)
		}
	}
}

// TestFieldSetsMatchMattermost compares the field sets of the sandbox's
// objects (user, team, team member, channel, channel member, post, post
// list, AppError, ping) with real Mattermost responses, and the status
// codes and error values where the request can be the same.
func TestFieldSetsMatchMattermost(t *testing.T) {
	sb, _ := openSandbox(t)
	api := newAPIServer(t, sb)
	eng := teamID("engineering")
	town := channelID("engineering/town-square")

	check := func(what, sampleName string, got reply, newer, omitted []string) map[string]any {
		t.Helper()
		s := readSample(t, sampleName)
		if want := strings.Fields(s.Status)[1]; want != itoa(got.status) {
			t.Errorf("%s: status %d, Mattermost %s", what, got.status, s.Status)
		}
		g := object(t, what, got.body)
		sameFields(t, what, g, object(t, sampleName, s.Body), newer, omitted)
		return g
	}

	// Users: failed_attempts is omitempty in Mattermost; the sample's user
	// had just failed a login.
	check("GET /users/me", "users_me.json", api.do("bob", "GET", "/api/v4/users/me", ""), nil, []string{"failed_attempts"})
	login := api.do("", "POST", "/api/v4/users/login", `{"login_id":"bob","password":"mmtoolkit"}`)
	check("POST /users/login", "users_me.json", login, nil, []string{"failed_attempts"})
	if login.header.Get("Token") == "" {
		t.Error("login: no Token header")
	}

	check("GET /teams/name/{name}", "teams_name.json", api.do("bob", "GET", "/api/v4/teams/name/engineering", ""), nil, nil)
	check("GET /users/me/teams/members", "users_me_teams_members.json",
		api.do("bob", "GET", "/api/v4/users/me/teams/members", ""), nil, nil)

	// Channels, alone and in the user's list.
	check("GET /teams/{id}/channels/name/{name}", "channel_by_name.json",
		api.do("bob", "GET", "/api/v4/teams/"+eng+"/channels/name/town-square", ""), nil, nil)
	list := api.do("bob", "GET", "/api/v4/users/me/teams/"+eng+"/channels", "")
	check("GET /users/me/teams/{id}/channels", "users_me_team_channels.json", list, nil, nil)
	var channels []map[string]any
	json.Unmarshal(list.body, &channels)
	want := object(t, "sample", readSample(t, "users_me_team_channels.json").Body)
	for _, ch := range channels {
		sameFields(t, "channel "+ch["name"].(string), ch, want, nil, nil)
	}

	// Posts: created, and in a channel's list.
	created := check("POST /posts", "posts_create.json", api.do("bob", "POST", "/api/v4/posts",
		`{"channel_id":"`+town+`","message":"Meet here","type":"custom_map_location","props":{"label":"Eiffel Tower","latitude":48.8584,"longitude":2.2945}}`),
		nil, nil)
	if created["type"] != "custom_map_location" || created["props"].(map[string]any)["label"] != "Eiffel Tower" {
		t.Errorf("created post lost its type or props: %v", created)
	}
	posts := check("GET /channels/{id}/posts", "channel_posts.json",
		api.do("bob", "GET", "/api/v4/channels/"+town+"/posts", ""), []string{"has_next"}, nil)
	samplePosts := object(t, "sample", readSample(t, "channel_posts.json").Body)["posts"].(map[string]any)
	var samplePost map[string]any
	for _, p := range samplePosts {
		samplePost = p.(map[string]any)
	}
	for id, p := range posts["posts"].(map[string]any) {
		sameFields(t, "post "+id, p.(map[string]any), samplePost, nil, nil)
	}

	// Channel members: no sample; model.ChannelMember of 5.37.
	members := object(t, "members", api.do("bob", "GET", "/api/v4/channels/"+town+"/members", "").body)
	wantMember := map[string]any{}
	for _, k := range []string{"channel_id", "user_id", "roles", "last_viewed_at", "msg_count", "mention_count",
		"notify_props", "last_update_at", "scheme_guest", "scheme_user", "scheme_admin", "explicit_roles"} {
		wantMember[k] = true
	}
	sameFields(t, "channel member", members, wantMember, nil, nil)

	// AppErrors: same fields and, where the request is the same, the same
	// id, message and detail.
	for _, tc := range []struct {
		sample string
		got    reply
	}{
		{"users_me_no_token.json", api.do("", "GET", "/api/v4/users/me", "")},
		{"users_me_bad_token.json", func() reply {
			api.tokens["badtoken"] = "badtoken123"
			return api.do("badtoken", "GET", "/api/v4/users/me", "")
		}()},
		{"teams_name_missing.json", api.do("bob", "GET", "/api/v4/teams/name/no-such-team", "")},
		{"posts_create_bad_type.json", api.do("bob", "POST", "/api/v4/posts",
			`{"channel_id":"`+town+`","message":"x","type":"not_custom"}`)},
	} {
		got := check("AppError like "+tc.sample, tc.sample, tc.got, nil, nil)
		want := object(t, tc.sample, readSample(t, tc.sample).Body)
		for _, k := range []string{"id", "message", "detailed_error", "status_code"} {
			if got[k] != want[k] {
				t.Errorf("%s: %s = %v, Mattermost %v", tc.sample, k, got[k], want[k])
			}
		}
		if got["request_id"] != tc.got.header.Get("X-Request-Id") {
			t.Errorf("%s: request_id %v is not the X-Request-Id %q", tc.sample, got["request_id"], tc.got.header.Get("X-Request-Id"))
		}
	}

	ping := api.do("", "GET", "/api/v4/system/ping", "")
	check("GET /system/ping", "system_ping.json", ping, nil, nil)
	if !strings.HasPrefix(ping.header.Get("X-Version-Id"), "5.37.0.") {
		t.Errorf("X-Version-Id %q", ping.header.Get("X-Version-Id"))
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestSampleCopiesMatchShared checks that testdata/mattermost still holds
// the reference samples verbatim, when shared/ is checked out beside the
// repository (CI clones it there).
func TestSampleCopiesMatchShared(t *testing.T) {
	shared := filepath.Join("..", "..", "..", "shared", "reference", "mattermost-api-samples")
	if _, err := os.Stat(shared); err != nil {
		// The copies in testdata are what the other tests use; this one only
		// notices drift, so a checkout without shared/ beside it skips it.
		t.Skipf("%s not checked out beside the repository", shared)
	}
	copies, _ := filepath.Glob(filepath.Join("testdata", "mattermost", "*.json"))
	if len(copies) == 0 {
		t.Fatal("no samples in testdata/mattermost")
	}
	for _, c := range copies {
		mine, _ := os.ReadFile(c)
		theirs, err := os.ReadFile(filepath.Join(shared, filepath.Base(c)))
		if err != nil {
			t.Errorf("%s: %v", c, err)
			continue
		}
		if !bytes.Equal(mine, theirs) {
			t.Errorf("%s differs from the reference sample; copy it again", c)
		}
	}
}
