package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// client talks to a mmtoolkit server as one Mattermost user.
type client struct {
	server string
	token  string
	http   *http.Client
}

type clientFlags struct {
	server, token, user, password *string
}

// addClientFlags adds the flags of commands that talk to a server. The
// secrets (token, password) are read from the environment only when the
// flag is unset, in connect, never as flag defaults: the flag package
// prints defaults in --help and in every usage error, and a CI log would
// then hold the token.
func addClientFlags(fs *flag.FlagSet) clientFlags {
	return clientFlags{
		server:   fs.String("server", env("MMTOOLKIT_SERVER", "http://127.0.0.1:8065"), "mmtoolkit server URL (env MMTOOLKIT_SERVER)"),
		token:    fs.String("token", "", "Mattermost token (env MMTOOLKIT_TOKEN); or log in with --user and --password"),
		user:     fs.String("user", env("MMTOOLKIT_USER", ""), "Mattermost username or email to log in as (env MMTOOLKIT_USER)"),
		password: fs.String("password", "", "password for --user (env MMTOOLKIT_PASSWORD)"),
	}
}

// connect returns a client with a token: the one given (flag, else
// MMTOOLKIT_TOKEN), or one from logging in with Mattermost's POST
// /api/v4/users/login (password: flag, else MMTOOLKIT_PASSWORD, else asked
// for on the terminal without echo, as mmctl auth login does).
func (f clientFlags) connect() (*client, error) {
	if *f.token == "" {
		*f.token = os.Getenv("MMTOOLKIT_TOKEN")
	}
	if *f.password == "" {
		*f.password = os.Getenv("MMTOOLKIT_PASSWORD")
	}
	c := &client{server: strings.TrimRight(*f.server, "/"), token: *f.token, http: &http.Client{Timeout: 5 * time.Minute}}
	if c.token != "" {
		return c, nil
	}
	if *f.user == "" {
		return nil, errors.New("not logged in: pass --user (or set MMTOOLKIT_USER) with a password, or --token (sandbox: --user dev, password mmtoolkit)")
	}
	if *f.password == "" {
		p, err := readPassword(*f.user, c.server)
		if err != nil {
			return nil, err
		}
		*f.password = p
	}
	body, _ := json.Marshal(map[string]string{"login_id": *f.user, "password": *f.password})
	resp, err := c.http.Post(c.server+"/api/v4/users/login", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, unreachable(c.server, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var mm struct{ Message string }
		json.NewDecoder(resp.Body).Decode(&mm)
		if resp.StatusCode == http.StatusUnauthorized {
			// Mattermost's "Enter a valid email or username and/or
			// password." says what is wrong but not what to do.
			return nil, fmt.Errorf("log in as %s at %s: wrong username or password: check --user and --password (or MMTOOLKIT_USER, MMTOOLKIT_PASSWORD)", *f.user, c.server)
		}
		return nil, fmt.Errorf("log in as %s at %s: %s (%s)", *f.user, c.server, cmpOr(mm.Message, "the server refused"), resp.Status)
	}
	c.token = resp.Header.Get("Token")
	return c, nil
}

// errNoPassword is the answer to a login without a password where none can
// be asked for (no terminal: a script, CI).
var errNoPassword = errors.New("no password")

// readPassword asks for user's password on the terminal, without echo;
// without a terminal it says how to give one.
var readPassword = func(user, server string) (string, error) {
	if !stdinIsTerminal() {
		return "", fmt.Errorf("%w for %s: set MMTOOLKIT_PASSWORD, or pass --password, or log in with --token instead (stdin is not a terminal to ask on)", errNoPassword, user)
	}
	fmt.Fprintf(os.Stderr, "Password for %s at %s: ", user, server)
	p, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if len(p) == 0 {
		return "", fmt.Errorf("%w for %s: nothing was typed", errNoPassword, user)
	}
	return string(p), nil
}

// apiError is the server's error object.
type apiError struct {
	Status      int
	Code        string       `json:"code"`
	Message     string       `json:"message"`
	Diagnostics []diagnostic `json:"diagnostics"`
	File        string       `json:"file"`
}

type diagnostic struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Text   string `json:"text"`
}

func (e *apiError) Error() string {
	if e.File != "" {
		return fmt.Sprintf("%s: %s [%s]", e.File, e.Message, e.Code)
	}
	return fmt.Sprintf("%s [%s]", e.Message, e.Code)
}

// do sends a request, with header's name/value pairs, and decodes a JSON
// answer into out; a non-2xx answer is returned as *apiError.
func (c *client) do(method, path, contentType string, body io.Reader, out any, header ...string) (int, error) {
	req, err := http.NewRequest(method, c.server+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, unreachable(c.server, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		var wrapper struct {
			Error *apiError `json:"error"`
		}
		if json.Unmarshal(data, &wrapper) == nil && wrapper.Error != nil {
			wrapper.Error.Status = resp.StatusCode
			return resp.StatusCode, wrapper.Error
		}
		return resp.StatusCode, &apiError{Status: resp.StatusCode, Code: "http_" + fmt.Sprint(resp.StatusCode),
			Message: strings.TrimSpace(string(data))}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode answer of %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// unreachable is the error for a server that did not answer: where the
// command looked, why, and what to do.
func unreachable(server string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // without the method and URL again
	}
	return fmt.Errorf("cannot reach the mmtoolkit server at %s: %w: is it running (\"mmtoolkit serve\")? --server or MMTOOLKIT_SERVER says where it is", server, err)
}
