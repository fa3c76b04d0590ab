package apiv4proxy_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
)

func ExampleTokenFromRequest() {
	r := httptest.NewRequest("GET", "/api/v4/users/me?access_token=q", nil)
	r.Header.Set("Cookie", "MMAUTHTOKEN=c")
	fmt.Println(apiv4proxy.TokenFromRequest(r)) // the cookie beats the query
	r.Header.Set("Authorization", "Bearer h")
	fmt.Println(apiv4proxy.TokenFromRequest(r)) // the header beats both
	// Output:
	// c
	// h
}

func ExampleSandbox_Login() {
	dir, _ := os.MkdirTemp("", "sandbox")
	defer os.RemoveAll(dir)
	sb, _ := apiv4proxy.OpenSandbox(filepath.Join(dir, "sandbox.db"))
	defer sb.Close()

	token, _, _ := sb.Login(context.Background(), "alice", apiv4proxy.SandboxPassword)
	id, _ := sb.Authenticate(context.Background(), token)
	eng, _ := sb.Team(context.Background(), "engineering")
	sales, _ := sb.Team(context.Background(), "sales")
	fmt.Println(id.User.Username, id.CanAdminTeam(eng.ID), id.CanReadTeam(sales.ID))
	// Output: alice true false
}
