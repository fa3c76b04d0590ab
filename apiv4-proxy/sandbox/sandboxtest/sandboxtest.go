// Package sandboxtest builds real sandbox Mattermosts for tests of other
// packages: a bbolt file in t.TempDir, closed when the test ends.
package sandboxtest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox"
)

// Open opens a freshly seeded sandbox; it is closed (hub and store) at
// the end of the test.
func Open(t testing.TB) *sandbox.Sandbox {
	t.Helper()
	sb, err := sandbox.Open(filepath.Join(t.TempDir(), "sandbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb
}

// Token logs a sandbox user (admin, dev, alice, bob, carol) in and returns
// the session token.
func Token(t testing.TB, sb *sandbox.Sandbox, username string) string {
	t.Helper()
	token, _, err := sb.Login(context.Background(), username, sandbox.Password)
	if err != nil {
		t.Fatalf("sandboxtest: login %s: %v", username, err)
	}
	return token
}

// UserID is a seeded user's id.
func UserID(username string) string { return sandbox.SeedID("user", username) }

// TeamID is a seeded team's id.
func TeamID(name string) string { return sandbox.SeedID("team", name) }

// ChannelID is a seeded channel's id, from "team/channel", e.g.
// "engineering/dev-talk".
func ChannelID(teamAndName string) string { return sandbox.SeedID("channel", teamAndName) }
