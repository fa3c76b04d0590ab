package apiv4proxy_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

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

// A proxy and identity in front of a Mattermost (here a stand-in that
// knows one token).
func ExampleNewProxy() {
	mm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if apiv4proxy.TokenFromRequest(r) != "t0ken" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/api/v4/users/me":
			fmt.Fprint(w, `{"id":"u1","username":"alice","roles":"system_user"}`)
		case "/api/v4/users/me/teams/members":
			fmt.Fprint(w, `[{"team_id":"t1","user_id":"u1","roles":"team_user team_admin"}]`)
		case "/api/v4/users/me/teams":
			fmt.Fprint(w, `[{"id":"t1","name":"engineering","display_name":"Engineering"}]`)
		default:
			fmt.Fprintf(w, "upstream saw %s %s from %s", r.Method, r.URL.Path, r.Header.Get("X-Forwarded-For"))
		}
	}))
	defer mm.Close()

	id, _ := apiv4proxy.NewUpstream(mm.URL, apiv4proxy.UpstreamOptions{})
	who, err := id.Authenticate(context.Background(), "t0ken")
	fmt.Println(who.User.Username, who.CanAdminTeam("t1"), err)
	_, err = id.Authenticate(context.Background(), "wrong")
	fmt.Println(err)

	proxy, _ := apiv4proxy.NewProxy(mm.URL, apiv4proxy.ProxyOptions{})
	front := httptest.NewServer(proxy)
	defer front.Close()
	req, _ := http.NewRequest("GET", front.URL+"/api/v4/system/ping", nil)
	req.Header.Set("Authorization", "Bearer t0ken")
	resp, _ := http.DefaultClient.Do(req)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(body))
	// Output:
	// alice true <nil>
	// apiv4proxy: authenticate token sha256:8810ad581e59: Mattermost answered 401: invalid or expired session
	// upstream saw GET /api/v4/system/ping from 127.0.0.1
}
