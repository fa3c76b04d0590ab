package sandbox_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox"
)

// TestStartAndEndSession: a session started without a password acts as
// the user until EndSession ends it by its reference; the reference is
// not a token.
func TestStartAndEndSession(t *testing.T) {
	sb, err := sandbox.Open(filepath.Join(t.TempDir(), "sandbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	ctx := context.Background()
	bob, err := sb.FindUser(ctx, "BOB@example.com")
	if err != nil || bob.Username != "bob" {
		t.Fatalf("find bob by email: %+v %v", bob, err)
	}
	if _, err := sb.FindUser(ctx, "nobody"); !errors.Is(err, sandbox.ErrUserNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	token, ref, err := sb.StartSession(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if who, err := sb.Authenticate(ctx, token); err != nil || who.User.ID != bob.ID {
		t.Fatalf("session: %+v %v", who, err)
	}
	if _, err := sb.Authenticate(ctx, ref); err == nil {
		t.Fatal("the reference authenticates")
	}
	if err := sb.EndSession(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Authenticate(ctx, token); err == nil {
		t.Fatal("the session still works after EndSession")
	}
	if err := sb.EndSession(ctx, ref); err != nil {
		t.Fatalf("ending twice: %v", err)
	}
	if _, _, err := sb.StartSession(ctx, "nope"); !errors.Is(err, sandbox.ErrUserNotFound) {
		t.Fatalf("unknown user's session: %v", err)
	}
}
