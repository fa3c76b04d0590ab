package sandbox

import (
	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"

	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func identityOf(t *testing.T, sb *Sandbox, username string) *identity.Identity {
	t.Helper()
	token, _, err := sb.Login(context.Background(), username, Password)
	if err != nil {
		t.Fatal(err)
	}
	id, err := sb.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestChannelMembers(t *testing.T) {
	sb, _ := openSandbox(t)
	ctx := context.Background()
	town := channelID("engineering/town-square")
	engineering := []string{userID("admin"), userID("alice"), userID("bob"), userID("dev")}
	for _, tc := range []struct {
		user, channel string
		want          []string // nil: not found
	}{
		{"bob", town, engineering},
		{"alice", channelID("engineering/dev-talk"), engineering},
		{"carol", channelID("sales/deals"), []string{userID("admin"), userID("carol")}},
		{"carol", town, nil},                         // not a member
		{"bob", "zzzzzzzzzzzzzzzzzzzzzzzzzz", nil},   // unknown
		{"admin", town, engineering},                 // system admin (and member)
		{"bob", channelID("sales/town-square"), nil}, // other team
		{"admin", channelID("sales/town-square"), []string{userID("admin"), userID("carol")}},
	} {
		ch, members, err := sb.ChannelMembers(ctx, identityOf(t, sb, tc.user), tc.channel)
		if tc.want == nil {
			if !errors.Is(err, apiv4proxy.ErrChannelNotFound) {
				t.Errorf("%s on %s: %v, want ErrChannelNotFound", tc.user, tc.channel, err)
			}
			continue
		}
		if err != nil || ch.ID != tc.channel || !reflect.DeepEqual(members, tc.want) {
			t.Errorf("%s on %s: %+v %v %v", tc.user, tc.channel, ch, members, err)
		}
	}
	if _, _, err := sb.ChannelMembers(ctx, nil, town); !errors.Is(err, apiv4proxy.ErrChannelNotFound) {
		t.Errorf("nil identity: %v", err)
	}
	// A system admin outside the team still sees the channel.
	outsider := identityOf(t, sb, "carol")
	outsider.User.Roles = "system_admin system_user"
	if ch, _, err := sb.ChannelMembers(ctx, outsider, town); err != nil || ch.Name != "town-square" || ch.Type != "O" {
		t.Errorf("system admin outside the team: %+v %v", ch, err)
	}
}

func TestCreatePostRules(t *testing.T) {
	sb, _ := openSandbox(t)
	ctx := context.Background()
	town := channelID("engineering/town-square")
	root, err := sb.CreatePost(ctx, userID("bob"), PostInput{ChannelID: town, Message: "root"})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := sb.CreatePost(ctx, userID("alice"), PostInput{ChannelID: town, Message: "reply", RootID: root.ID})
	if err != nil || reply.ReplyCount != 1 {
		t.Fatalf("reply: %+v %v", reply, err)
	}
	other, _ := sb.CreatePost(ctx, userID("carol"), PostInput{ChannelID: channelID("sales/deals"), Message: "x"})
	for _, tc := range []struct {
		name string
		user string
		in   PostInput
		want error // nil: created
		id   string
	}{
		{"plain", "bob", PostInput{ChannelID: town, Message: "hi"}, nil, ""},
		{"custom type", "bob", PostInput{ChannelID: town, Type: "custom_video_call", Props: map[string]any{"call_id": "c"}}, nil, ""},
		{"longest message", "bob", PostInput{ChannelID: town, Message: strings.Repeat("é", MaxMessageRunes)}, nil, ""},
		{"system admin anywhere", "admin", PostInput{ChannelID: channelID("sales/deals"), Message: "x"}, nil, ""},
		{"bad type", "bob", PostInput{ChannelID: town, Type: "video"}, ErrInvalidPost, "model.post.is_valid.type.app_error"},
		{"system type", "bob", PostInput{ChannelID: town, Type: "system_join_team"}, ErrInvalidPost, "model.post.is_valid.type.app_error"},
		{"message too long", "bob", PostInput{ChannelID: town, Message: strings.Repeat("é", MaxMessageRunes+1)},
			ErrInvalidPost, "model.post.is_valid.message_length.app_error"},
		{"bad root id", "bob", PostInput{ChannelID: town, RootID: "x"}, ErrInvalidPost, "model.post.is_valid.root_id.app_error"},
		{"unknown root", "bob", PostInput{ChannelID: town, RootID: "zzzzzzzzzzzzzzzzzzzzzzzzzz"},
			ErrInvalidPost, "api.post.create_post.root_id.app_error"},
		{"reply to a reply", "bob", PostInput{ChannelID: town, RootID: reply.ID}, ErrInvalidPost, "api.post.create_post.root_id.app_error"},
		{"root in another channel", "admin", PostInput{ChannelID: town, RootID: other.ID},
			ErrInvalidPost, "api.post.create_post.channel_root_id.app_error"},
		{"not a member", "carol", PostInput{ChannelID: town}, ErrForbidden, ""},
		{"unknown channel", "bob", PostInput{ChannelID: "zzzzzzzzzzzzzzzzzzzzzzzzzz"}, apiv4proxy.ErrChannelNotFound, ""},
		{"unknown user", "nobody", PostInput{ChannelID: town}, ErrUserNotFound, ""},
	} {
		p, err := sb.CreatePost(ctx, userID(tc.user), tc.in)
		switch {
		case tc.want == nil && (err != nil || len(p.ID) != 26 || p.CreateAt == 0 || p.UpdateAt != p.CreateAt):
			t.Errorf("%s: %+v %v", tc.name, p, err)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		case tc.id != "":
			if pe, ok := isPostErr(err); !ok || pe.id != tc.id {
				t.Errorf("%s: %v, want Mattermost error %s", tc.name, err, tc.id)
			}
		}
	}
}

func TestPatchAndDeletePermissions(t *testing.T) {
	sb, _ := openSandbox(t)
	ctx := context.Background()
	town := channelID("engineering/town-square")
	p, _ := sb.CreatePost(ctx, userID("bob"), PostInput{ChannelID: town, Message: "call", Type: "custom_video_call",
		Props: map[string]any{"participants": []any{userID("bob")}}})
	msg := "call (edited)"
	props := map[string]any{"participants": []any{userID("bob"), userID("dev")}}

	if _, err := sb.PatchPost(ctx, userID("dev"), p.ID, PostPatch{Props: &props}); !errors.Is(err, ErrForbidden) {
		t.Errorf("dev patches bob's post: %v", err)
	}
	if _, err := sb.PatchPost(ctx, userID("alice"), p.ID, PostPatch{Props: &props}); !errors.Is(err, ErrForbidden) {
		t.Errorf("team admin patches bob's post: %v (Mattermost keeps edit_others_posts for system admins)", err)
	}
	got, err := sb.PatchPost(ctx, userID("bob"), p.ID, PostPatch{Props: &props})
	if err != nil || got.EditAt != 0 || got.UpdateAt <= p.UpdateAt || len(got.Props["participants"].([]any)) != 2 {
		t.Errorf("props patch: %+v %v (props alone do not set edit_at)", got, err)
	}
	got, err = sb.PatchPost(ctx, userID("admin"), p.ID, PostPatch{Message: &msg})
	if err != nil || got.EditAt == 0 || got.Message != msg || got.Type != "custom_video_call" {
		t.Errorf("system admin edits: %+v %v", got, err)
	}
	long := strings.Repeat("x", MaxMessageRunes+1)
	if _, err := sb.PatchPost(ctx, userID("bob"), p.ID, PostPatch{Message: &long}); !errors.Is(err, ErrInvalidPost) {
		t.Errorf("too long an edit: %v", err)
	}

	if _, err := sb.DeletePost(ctx, userID("dev"), p.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("dev deletes bob's post: %v", err)
	}
	reply, _ := sb.CreatePost(ctx, userID("dev"), PostInput{ChannelID: town, Message: "joining", RootID: p.ID})
	if _, err := sb.DeletePost(ctx, userID("alice"), p.ID); err != nil {
		t.Errorf("team admin deletes: %v", err)
	}
	for _, id := range []string{p.ID, reply.ID} {
		if _, err := sb.Post(ctx, identityOf(t, sb, "bob"), id); !errors.Is(err, ErrPostNotFound) {
			t.Errorf("post %s after its thread was deleted: %v", id, err)
		}
	}
	if _, err := sb.DeletePost(ctx, userID("bob"), p.ID); !errors.Is(err, ErrPostNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
	if _, err := sb.PatchPost(ctx, userID("bob"), p.ID, PostPatch{Message: &msg}); !errors.Is(err, ErrPostNotFound) {
		t.Errorf("patching a deleted post: %v", err)
	}
}

// TestPostsSurviveRestart: posts, edits and deletions are in the bbolt
// file; reopening neither loses them nor seeds the demo posts again, and
// the derived counters come back the same.
func TestPostsSurviveRestart(t *testing.T) {
	sb, path := openSandbox(t)
	ctx := context.Background()
	town := channelID("engineering/town-square")
	seeded, err := sb.channelPosts(town, postsQuery{perPage: maxPerPage})
	if err != nil {
		t.Fatal(err)
	}
	root, _ := sb.CreatePost(ctx, userID("bob"), PostInput{ChannelID: town, Message: "persist me", Type: "custom_map_location",
		Props: map[string]any{"latitude": 1.5, "longitude": 2.5, "label": "here"}})
	sb.CreatePost(ctx, userID("alice"), PostInput{ChannelID: town, Message: "a reply", RootID: root.ID})
	gone, _ := sb.CreatePost(ctx, userID("bob"), PostInput{ChannelID: town, Message: "delete me"})
	sb.DeletePost(ctx, userID("bob"), gone.ID)
	msg := "persist me (edited)"
	sb.PatchPost(ctx, userID("bob"), root.ID, PostPatch{Message: &msg})
	before, _ := sb.channelPosts(town, postsQuery{perPage: maxPerPage})
	statsBefore := sb.channelStats(town)
	sb.Close()

	sb2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer sb2.Close()
	after, err := sb2.channelPosts(town, postsQuery{perPage: maxPerPage})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Errorf("posts changed across a restart:\nbefore %+v\nafter  %+v", before, after)
	}
	if len(after.Order) != len(seeded.Order)+2 {
		t.Errorf("%d posts after restart, want the %d seeded ones and 2 new (seeded twice?)", len(after.Order), len(seeded.Order))
	}
	if p := after.Posts[root.ID]; p.Message != msg || p.EditAt == 0 || p.ReplyCount != 1 || p.Props["label"] != "here" {
		t.Errorf("root after restart: %+v", p)
	}
	if st := sb2.channelStats(town); st != statsBefore {
		t.Errorf("channel counters %+v after restart, %+v before", st, statsBefore)
	}
	var total int
	sb2.db.View(func(tx *bolt.Tx) error { total = tx.Bucket(bucketPosts).Stats().KeyN; return nil })
	if want := len(seedPostList) + 3; total != want {
		t.Errorf("%d stored posts, want %d", total, want)
	}
}

func TestParseHashtags(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "",
		"no tags here":               "",
		"#one and #two.":             "#one #two",
		"(#wrapped) ##double #a":     "#wrapped #double",
		"#1digit #ok-dash_under.dot": "#ok-dash_under.dot",
		"#straße #日本":                "#straße #日本",
	} {
		if got := parseHashtags(in); got != want {
			t.Errorf("parseHashtags(%q) = %q, want %q", in, got, want)
		}
	}
}
