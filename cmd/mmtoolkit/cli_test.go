package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// TestUsageErrors: a command line a command cannot run exits 2 with one
// line naming the flag or argument that is wrong (and a pointer to
// --help), never the whole usage.
func TestUsageErrors(t *testing.T) {
	t.Setenv("MMTOOLKIT_SERVER", "http://127.0.0.1:1") // nothing may be sent
	notATerminal(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"push"}, "missing DIR|FILE.tar.gz"},
		{[]string{"push", "a", "b"}, `unexpected argument "b"`},
		{[]string{"push", "--bogus", "x"}, "flag provided but not defined: -bogus"},
		{[]string{"pack"}, "missing DIR"},
		{[]string{"sign", "dir"}, "--key is required"},
		{[]string{"keygen", "--purpose", "x"}, `--purpose "x": use mobile or package`},
		{[]string{"keygen", "extra"}, `unexpected argument "extra": keygen takes no arguments`},
		{[]string{"serve", "--addr"}, "flag needs an argument: -addr"},
		{[]string{"serve", "extra"}, `unexpected argument "extra": serve takes no arguments`},
		{[]string{"enable", "--team", "engineering"}, "--plugin is required"},
		{[]string{"disable", "--plugin", "p"}, "--team is required"},
		{[]string{"enable", "engineering"}, "missing PLUGIN"},
		{[]string{"pin", "engineering", "p"}, "missing VERSION (mmtoolkit pin TEAM PLUGIN VERSION)"},
		{[]string{"pin", "engineering", "p", "latest"}, `run "mmtoolkit follow engineering p"`},
		{[]string{"rollback"}, "missing TEAM"},
		{[]string{"follow", "t", "p", "x"}, `unexpected argument "x" after TEAM PLUGIN`},
		{[]string{"versions"}, "missing PLUGIN"},
		{[]string{"plugins", "com.x"}, `"mmtoolkit plugins show com.x"`},
		{[]string{"plugins", "--certification", "gold"}, `--certification "gold": use official`},
		{[]string{"plugins", "show"}, "missing PLUGIN"},
		{[]string{"audit", "--limit", "0"}, "--limit 0: give a number from 1 to 1000"},
		{[]string{"audit", "--limit", "x"}, `invalid value "x" for flag -limit`},
		{[]string{"crashes", "a", "b"}, `unexpected argument "b"`},
		{[]string{"disable-everywhere", "p"}, "--yes is required when not on a terminal"},
		{[]string{"version", "x"}, `unexpected argument "x"`},
		{[]string{"pussh"}, `unknown command "pussh" (did you mean "push"?)`},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
		if strings.Contains(stderr.String(), "Usage:") || strings.Contains(stderr.String(), "Flags:") {
			t.Errorf("%q printed the whole usage:\n%s", tc.args, stderr.String())
		}
		if n := strings.Count(strings.TrimSpace(stderr.String()), "\n"); n > 1 {
			t.Errorf("%q: %d lines, want the error and the --help pointer:\n%s", tc.args, n+1, stderr.String())
		}
	}
	// --help still prints the whole usage, and exits 0.
	var stdout, stderr bytes.Buffer
	if code := run([]string{"pin", "--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "Usage: mmtoolkit pin TEAM PLUGIN VERSION") {
		t.Errorf("pin --help: exit %d\n%s", code, stderr.String())
	}
}

func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 0 || !regexp.MustCompile(`^mmtoolkit \S+ .*go1\.\d+`).MatchString(stdout.String()) {
			t.Errorf("%q: exit %d %q %q", args, code, stdout.String(), stderr.String())
		}
	}
	var stdout bytes.Buffer
	if code := run([]string{"version", "--json"}, &stdout, io.Discard); code != 0 {
		t.Fatal(code)
	}
	var v struct{ Version, Go string }
	if err := json.Unmarshal(stdout.Bytes(), &v); err != nil || v.Version == "" || v.Go == "" {
		t.Errorf("version --json: %v %s", err, stdout.String())
	}
}

// cliEnv is a real server on loopback (registry, sandbox identity) that
// the CLI runs against in-process, as a sandbox user.
type cliEnv struct {
	t   *testing.T
	url string
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	sb, err := sandbox.Open(filepath.Join(t.TempDir(), "sandbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	srv, err := server.New(registrytest.Open(t), sb, server.Config{Upstream: sb.Handler(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(srv.Close)
	t.Cleanup(hs.Close)
	t.Setenv("MMTOOLKIT_SERVER", hs.URL)
	t.Setenv("MMTOOLKIT_PASSWORD", "mmtoolkit")
	t.Setenv("MMTOOLKIT_TOKEN", "")
	t.Setenv("GOGC", "100") // push's oneShotGC must not switch this process's collector off
	notATerminal(t)
	return &cliEnv{t: t, url: hs.URL}
}

// as runs the CLI as user and returns its exit code and outputs.
func (e *cliEnv) as(user string, args ...string) (int, string, string) {
	e.t.Helper()
	e.t.Setenv("MMTOOLKIT_USER", user)
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// ok runs the CLI as user, which must succeed, and returns its stdout.
func (e *cliEnv) ok(user string, args ...string) string {
	e.t.Helper()
	code, out, errOut := e.as(user, args...)
	if code != 0 {
		e.t.Fatalf("%s: mmtoolkit %q: exit %d\n%s%s", user, args, code, out, errOut)
	}
	return out
}

// fails runs the CLI as user, which must exit 1 with every want in its
// stderr, and never a raw API route.
func (e *cliEnv) fails(user string, want []string, args ...string) {
	e.t.Helper()
	code, out, errOut := e.as(user, args...)
	if code != 1 {
		e.t.Errorf("%s: mmtoolkit %q: exit %d, want 1\n%s%s", user, args, code, out, errOut)
	}
	for _, w := range want {
		if !strings.Contains(errOut, w) {
			e.t.Errorf("%s: mmtoolkit %q: stderr %q lacks %q", user, args, errOut, w)
		}
	}
	if regexp.MustCompile(`(GET|PUT|POST) /api/`).MatchString(errOut) {
		e.t.Errorf("%s: mmtoolkit %q: the error names a route, not a command: %s", user, args, errOut)
	}
}

// helloAt copies docs/examples/hello with another version.
func helloAt(t *testing.T, version string) string {
	t.Helper()
	dir := t.TempDir()
	copyDir(t, filepath.Join("..", "..", "docs", "examples", "hello"), dir)
	mf := filepath.Join(dir, "plugin.json")
	raw, _ := os.ReadFile(mf)
	os.WriteFile(mf, regexp.MustCompile(`"version":\s*"[^"]*"`).ReplaceAll(raw, []byte(`"version": "`+version+`"`)), 0o644)
	return dir
}

// TestLoginErrors: a missing password says how to give one (or is asked
// for on a terminal); a wrong one says what to check, not Mattermost's
// "Enter a valid email or username and/or password".
func TestLoginErrors(t *testing.T) {
	e := newCLIEnv(t)
	t.Setenv("MMTOOLKIT_PASSWORD", "")
	e.fails("dev", []string{"no password for dev: set MMTOOLKIT_PASSWORD, or pass --password"}, "plugins")
	e.fails("dev", []string{"log in as dev", "wrong username or password: check --user and --password"}, "plugins", "--password", "nope")
	_, _, errOut := e.as("dev", "plugins", "--password", "nope")
	if strings.Contains(errOut, "Enter a valid") {
		t.Errorf("Mattermost's wording leaked: %s", errOut)
	}
	e.fails("", []string{"not logged in: pass --user"}, "plugins")
	t.Setenv("MMTOOLKIT_TOKEN", "not-a-token")
	e.fails("", []string{"the token is invalid or expired: log in again with --user", "[invalid_token]"}, "plugins")
	t.Setenv("MMTOOLKIT_TOKEN", "")
	t.Setenv("MMTOOLKIT_SERVER", "http://127.0.0.1:1")
	t.Setenv("MMTOOLKIT_PASSWORD", "mmtoolkit")
	e.fails("dev", []string{"cannot reach the mmtoolkit server at http://127.0.0.1:1", `is it running ("mmtoolkit serve")?`}, "plugins")
	t.Setenv("MMTOOLKIT_TOKEN", "some-token")
	e.fails("dev", []string{"cannot reach the mmtoolkit server at http://127.0.0.1:1", "connection refused"}, "audit")
	t.Setenv("MMTOOLKIT_TOKEN", "")
	t.Setenv("MMTOOLKIT_SERVER", e.url)
	t.Setenv("MMTOOLKIT_PASSWORD", "")

	// On a terminal the password is asked for.
	asked := ""
	defer func(f func(string, string) (string, error)) { readPassword = f }(readPassword)
	readPassword = func(user, server string) (string, error) { asked = user; return "mmtoolkit", nil }
	e.ok("dev", "plugins")
	if asked != "dev" {
		t.Errorf("the password was not asked for (asked %q)", asked)
	}
}

// TestCompileErrorPathsFromTheWorkingDirectory: push names a compile
// error's file from where the command ran, as the plugin directory was
// given, so a terminal or an editor opens it.
func TestCompileErrorPathsFromTheWorkingDirectory(t *testing.T) {
	e := newCLIEnv(t)
	dir := helloAt(t, "1.0.0")
	os.WriteFile(filepath.Join(dir, "webapp", "index.tsx"), []byte("import React from 'react';\nconst x = 1 +;\n"), 0o644)
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, dir)
	if err != nil {
		t.Fatal(err)
	}
	push := func(path, want string) {
		t.Helper()
		code, _, errOut := e.as("dev", "push", path)
		want = regexp.QuoteMeta(want) + `:2:\d+: `
		if code != 1 || !regexp.MustCompile(`(?m)^`+want).MatchString(errOut) {
			t.Errorf("push %s: exit %d, want a line starting %s:\n%s", path, code, want, errOut)
		}
	}
	file := filepath.Join("webapp", "index.tsx")
	// Far from the working directory, the absolute path is the shorter.
	push(rel, filepath.Join(dir, file))
	push(dir, filepath.Join(dir, file))
	// From just above it, relative however it was given.
	t.Chdir(filepath.Dir(dir))
	push(dir, filepath.Join(filepath.Base(dir), file))
	push(filepath.Base(dir), filepath.Join(filepath.Base(dir), file))
	t.Chdir(dir)
	push(".", file)
}

// TestPluginPathErrors: what pack and push were given is named in their
// errors, and described as what it is (a directory without plugin.json,
// a file, nothing), without a Go package name in front.
func TestPluginPathErrors(t *testing.T) {
	e := newCLIEnv(t)
	empty := t.TempDir()
	notGzip := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notGzip, []byte("hello"), 0o644)
	missing := filepath.Join(t.TempDir(), "nothere")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"pack", empty}, empty + " is a directory without plugin.json: run the command on the plugin's root directory"},
		{[]string{"push", empty}, empty + " is a directory without plugin.json"},
		{[]string{"pack", notGzip}, notGzip + " is a file, not a directory"},
		{[]string{"pack", missing}, missing + ": no such file or directory: give the plugin's directory"},
		{[]string{"push", missing}, missing + ": no such file or directory: give the plugin's directory (the one holding plugin.json) or its .tar.gz"},
		{[]string{"push", notGzip}, notGzip + ": archive is not gzip-compressed"},
	} {
		code, _, errOut := e.as("dev", tc.args...)
		if code != 1 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "pluginpkg:") || strings.Contains(errOut, "bundler:") {
			t.Errorf("%q: exit %d %q, want 1 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestCLIDocNamesEveryFlag: docs/cli.md names every flag of every command
// (as --help lists them), so the page cannot fall behind the binary.
func TestCLIDocNamesEveryFlag(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	var invocations [][]string
	for name := range commands {
		invocations = append(invocations, []string{name})
	}
	invocations = append(invocations, []string{"plugins", "show"})
	for _, verb := range []string{"show", "create", "update", "rotate-secret", "revoke-tokens", "delete"} {
		invocations = append(invocations, []string{"embed-apps", verb})
	}
	flagRE := regexp.MustCompile(`(?m)^  -(\S+)`)
	for _, inv := range invocations {
		var stdout, stderr bytes.Buffer
		if code := run(append(inv, "--help"), &stdout, &stderr); code != 0 {
			t.Errorf("%q --help: exit %d %s", inv, code, stderr.String())
			continue
		}
		if !strings.Contains(string(doc), "`"+inv[0]) && !strings.Contains(string(doc), " "+inv[0]+" ") {
			t.Errorf("docs/cli.md does not name the command %q", inv[0])
		}
		for _, m := range flagRE.FindAllStringSubmatch(stderr.String(), -1) {
			if !regexp.MustCompile(`(^|[^\w-])--?` + regexp.QuoteMeta(m[1]) + `([^\w-]|$)`).Match(doc) {
				t.Errorf("docs/cli.md does not name %s's flag --%s: add it to the command's row", strings.Join(inv, " "), m[1])
			}
		}
	}
}

// notATerminal makes the commands see no terminal on stdin, as under go
// test (whose stdin is /dev/null), also when the test binary runs in one.
func notATerminal(t *testing.T) {
	real := stdinIsTerminal
	stdinIsTerminal = func() bool { return false }
	t.Cleanup(func() { stdinIsTerminal = real })
}
