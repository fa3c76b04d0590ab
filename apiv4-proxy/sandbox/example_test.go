package sandbox_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

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
	fmt.Println(id.User.Username, id.CanAdminTeam(eng.ID), id.CanReadTeam(sales.ID))
	// Output: alice true false
}
