package sandbox

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// apiServer is the sandbox's Handler on a real loopback server, with a
// client of its own so tests can close its idle connections.
type apiServer struct {
	t      *testing.T
	sb     *Sandbox
	url    string
	client *http.Client
	tokens map[string]string // username -> token
}

func newAPIServer(t *testing.T, sb *Sandbox) *apiServer {
	t.Helper()
	hs := httptest.NewServer(sb.Handler())
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		hs.Close()
	})
	return &apiServer{t: t, sb: sb, url: hs.URL, client: &http.Client{Transport: tr}, tokens: map[string]string{}}
}

// token logs username in once and remembers the token.
func (a *apiServer) token(username string) string {
	a.t.Helper()
	if tok, ok := a.tokens[username]; ok {
		return tok
	}
	tok, _, err := a.sb.Login(context.Background(), username, Password)
	if err != nil {
		a.t.Fatalf("login %s: %v", username, err)
	}
	a.tokens[username] = tok
	return tok
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request as username ("" for none).
func (a *apiServer) do(username, method, path, body string) reply {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if username != "" {
		req.Header.Set("Authorization", "Bearer "+a.token(username))
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func userID(username string) string { return SeedID("user", username) }
func teamID(name string) string     { return SeedID("team", name) }

// channelID is a seeded channel's id, "team/name".
func channelID(teamAndName string) string { return SeedID("channel", teamAndName) }
