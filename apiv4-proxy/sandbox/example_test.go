package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox"
)

func ExampleSandbox_Login() {
	dir, _ := os.MkdirTemp("", "sandbox")
	defer os.RemoveAll(dir)
	sb, _ := sandbox.Open(filepath.Join(dir, "sandbox.db"))
	defer sb.Close()

	token, _, _ := sb.Login(context.Background(), "alice", sandbox.Password)
	id, _ := sb.Authenticate(context.Background(), token)
	eng, _ := sb.Team(context.Background(), nil, "engineering")
	sales, _ := sb.Team(context.Background(), nil, "sales")
	fmt.Println(id.User.Username, id.CanAdminTeam(eng.ID), id.CanAccessTeam(sales.ID))
	// Output: alice true false
}

// A Go caller (a test, the seeding) posts as a user; members of the
// channel see it in the channel's posts and on the websocket.
func ExampleSandbox_CreatePost() {
	dir, _ := os.MkdirTemp("", "sandbox")
	defer os.RemoveAll(dir)
	sb, _ := sandbox.Open(filepath.Join(dir, "sandbox.db"))
	defer sb.Close()

	ctx := context.Background()
	p, err := sb.CreatePost(ctx, sandbox.SeedID("user", "bob"), sandbox.PostInput{
		ChannelID: sandbox.SeedID("channel", "engineering/dev-talk"),
		Message:   "Lunch?",
		Type:      "custom_map_location",
		Props:     map[string]any{"latitude": 52.52, "longitude": 13.405, "label": "Berlin office"},
	})
	fmt.Println(p.Type, p.Props["label"], err)

	// carol is in sales only: the channel is not hers to post in.
	_, err = sb.CreatePost(ctx, sandbox.SeedID("user", "carol"), sandbox.PostInput{
		ChannelID: sandbox.SeedID("channel", "engineering/dev-talk"), Message: "hi"})
	fmt.Println(errors.Is(err, sandbox.ErrForbidden))
	// Output:
	// custom_map_location Berlin office <nil>
	// true
}

// The server asks who is in a channel before relaying a plugin's event.
func ExampleSandbox_ChannelMembers() {
	dir, _ := os.MkdirTemp("", "sandbox")
	defer os.RemoveAll(dir)
	sb, _ := sandbox.Open(filepath.Join(dir, "sandbox.db"))
	defer sb.Close()

	ctx := context.Background()
	token, _, _ := sb.Login(ctx, "alice", sandbox.Password)
	alice, _ := sb.Authenticate(ctx, token)
	ch, members, _ := sb.ChannelMembers(ctx, alice, sandbox.SeedID("channel", "engineering/town-square"))
	fmt.Println(ch.DisplayName, len(members))
	_, _, err := sb.ChannelMembers(ctx, alice, sandbox.SeedID("channel", "sales/deals"))
	fmt.Println(errors.Is(err, apiv4proxy.ErrChannelNotFound))
	// Output:
	// Town Square 4
	// true
}
