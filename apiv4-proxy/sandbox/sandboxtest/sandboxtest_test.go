package sandboxtest_test

import (
	"context"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox/sandboxtest"
)

func TestOpenAndToken(t *testing.T) {
	sb := sandboxtest.Open(t)
	id, err := sb.Authenticate(context.Background(), sandboxtest.Token(t, sb, "alice"))
	if err != nil || id.User.ID != sandboxtest.UserID("alice") || !id.CanAdminTeam(sandboxtest.TeamID("engineering")) {
		t.Fatalf("%+v %v", id, err)
	}
	ch, members, err := sb.ChannelMembers(context.Background(), id, sandboxtest.ChannelID("engineering/dev-talk"))
	if err != nil || ch.Name != "dev-talk" || len(members) != 4 {
		t.Fatalf("%+v %v %v", ch, members, err)
	}
}
