// Command mmtoolkit is the Mattermost Developer Toolkit: one binary that runs
// the server and talks to it.
//
//	mmtoolkit serve                       run the server (sandbox Mattermost, bbolt store)
//	mmtoolkit push ./my-plugin            compile and publish a plugin
//	mmtoolkit pack ./my-plugin            make the shareable .tar.gz
//	mmtoolkit enable --team T --plugin P  turn a plugin on for a team
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
)

const usage = `mmtoolkit: the Mattermost Developer Toolkit.

Plugin developers push TSX source; the server compiles it with esbuild, keeps
every version, and serves each team the plugins its admins enabled.

Usage:
  mmtoolkit <command> [flags] [arguments]

Commands:
  serve     run the server (zero config: embedded store, sandbox Mattermost)
  push      compile and publish a plugin directory or .tar.gz
  pack      write a plugin directory as a shareable .tar.gz (only the files it uses)
  teams     list your teams
  enable    enable a plugin for a team (optionally pinning a version)
  disable   disable a plugin for a team
  keygen    write an ed25519 key pair (mobile manifests, or --purpose package)
  sign      sign a plugin directory or .tar.gz with a package key

Run "mmtoolkit <command> --help" for a command's flags.

A first session against the sandbox (users admin, dev, alice, bob, carol;
password "mmtoolkit"):
  mmtoolkit serve &
  export MMTOOLKIT_USER=dev MMTOOLKIT_PASSWORD=mmtoolkit
  mmtoolkit push docs/examples/hello
  MMTOOLKIT_USER=alice mmtoolkit enable --team engineering --plugin com.example.hello

In front of a real Mattermost: mmtoolkit serve --upstream https://mm.example.com
(identity, teams and roles then come from that server; log in with your account).

Environment: MMTOOLKIT_SERVER, MMTOOLKIT_TOKEN, MMTOOLKIT_USER, MMTOOLKIT_PASSWORD,
MMTOOLKIT_ADDR, MMTOOLKIT_DATA, MMTOOLKIT_UPSTREAM, MMTOOLKIT_KEY, MMTOOLKIT_HERMESC,
MMTOOLKIT_TRUST, MMTOOLKIT_MIN_CERTIFICATION, MMTOOLKIT_SIGNING_KEY provide flag defaults.
`

// errUsage makes main print the command's usage and exit 2.
var errUsage = errors.New("usage")

// exitError carries an exit status for errors already reported.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	commands := map[string]func([]string, io.Writer, io.Writer) error{
		"serve":   cmdServe,
		"push":    cmdPush,
		"pack":    cmdPack,
		"teams":   cmdTeams,
		"keygen":  cmdKeygen,
		"sign":    cmdSign,
		"enable":  func(a []string, o, e io.Writer) error { return cmdToggle(a, o, e, true) },
		"disable": func(a []string, o, e io.Writer) error { return cmdToggle(a, o, e, false) },
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "mmtoolkit: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := cmd(args[1:], stdout, stderr)
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &ee):
		return int(ee)
	}
	fmt.Fprintf(stderr, "mmtoolkit %s: %v\n", args[0], err)
	return 1
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// envBool reads a boolean environment variable (strconv.ParseBool's
// forms); unset or unreadable means def.
func envBool(key string, def bool) bool {
	if b, err := strconv.ParseBool(os.Getenv(key)); err == nil {
		return b
	}
	return def
}

// newFlags makes a command's flag set with a usage line a newcomer can read.
func newFlags(name, synopsis, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: mmtoolkit %s %s\n\n%s\n\nFlags:\n", name, synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}
