// Command mmtoolkit is the Mattermost Developer Toolkit: one binary that runs
// the server and talks to it.
//
//	mmtoolkit serve                       run the server (sandbox Mattermost, bbolt store)
//	mmtoolkit push ./my-plugin            compile and publish a plugin
//	mmtoolkit pack ./my-plugin            make the shareable .tar.gz
//	mmtoolkit enable TEAM PLUGIN          turn a plugin on for a team
//	mmtoolkit plugins, versions, pin, rollback, follow, audit, crashes:
//	                                      what the admin console does
//
// docs/cli.md describes every command.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

const usage = `mmtoolkit: the Mattermost Developer Toolkit.

Plugin developers push TSX source; the server compiles it with esbuild, keeps
every version, and serves each team the plugins its admins enabled.

Usage:
  mmtoolkit <command> [flags] [arguments]

Commands:
  serve       run the server (zero config: embedded store, sandbox Mattermost)
  migrate     copy a bbolt registry into PostgreSQL (serve --store postgres://...)

 Developers:
  push        compile and publish a plugin directory or .tar.gz
  pack        write a plugin directory as a shareable .tar.gz (only the files it uses)
  keygen      write an ed25519 key pair (mobile manifests, or --purpose package)
  sign        sign a plugin directory or .tar.gz with a package key

 Everyone:
  plugins     list the plugins (plugins show ID: one plugin with its versions)
  versions    list a plugin's versions
  teams       list your teams and the plugins each serves

 Team admins (what the admin console does):
  enable      enable a plugin for a team
  disable     disable a plugin for a team
  pin         serve one version of a plugin to a team
  rollback    pin the version a team served before the current one
  follow      make a team follow a plugin's latest version again
  audit       read the audit log
  crashes     crash reports clients sent, per plugin version
  disable-everywhere  the kill switch: disable a plugin in every team (system admins)
  server-part the Mattermost server part of a plugin: state, pin, on/off (system admins)
  embed-apps  the apps whose sites may embed channels: list, create, update, rotate-secret,
              revoke-tokens, delete (system admins)

  version     print this mmtoolkit's version (also --version)

Run "mmtoolkit <command> --help" for a command's flags; docs/cli.md has them all.
Read commands take --json. Exit status: 0 done, 1 failed, 2 bad command line.

A first session against the sandbox (users admin, dev, alice, bob, carol;
password "mmtoolkit"):
  mmtoolkit serve &
  export MMTOOLKIT_USER=dev MMTOOLKIT_PASSWORD=mmtoolkit
  mmtoolkit push docs/examples/hello
  MMTOOLKIT_USER=alice mmtoolkit enable --team engineering --plugin com.example.hello

In front of a real Mattermost: mmtoolkit serve --upstream https://mm.example.com
(identity, teams and roles then come from that server; log in with your account).

Environment: MMTOOLKIT_SERVER, MMTOOLKIT_TOKEN, MMTOOLKIT_USER, MMTOOLKIT_PASSWORD,
MMTOOLKIT_ADDR, MMTOOLKIT_DATA, MMTOOLKIT_STORE, MMTOOLKIT_UPSTREAM, MMTOOLKIT_KEY, MMTOOLKIT_HERMESC,
MMTOOLKIT_TRUST, MMTOOLKIT_MIN_CERTIFICATION, MMTOOLKIT_SIGNING_KEY provide flag defaults.
`

// errUsage makes main exit 2 after a command printed its own usage
// message; commands return usagef instead, which says what was wrong.
var errUsage = errors.New("usage")

// exitError carries an exit status for errors already reported.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 2 && args[0] == "help" { // "help push" is "push --help"
			return run([]string{args[1], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" || args[0] == "-v" {
		args = append([]string{"version"}, args[1:]...)
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "mmtoolkit: unknown command %q%s\nRun \"mmtoolkit --help\" for the commands.\n", args[0], didYouMean(args[0]))
		return 2
	}
	err := cmd(args[1:], stdout, stderr)
	var (
		ee exitError
		ue *usageError
	)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "mmtoolkit %s: %s\nRun \"mmtoolkit %s --help\" for its flags and arguments.\n", ue.cmd, ue.msg, ue.cmd)
		return 2
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &ee):
		return int(ee)
	}
	fmt.Fprintf(stderr, "mmtoolkit %s: %s\n", args[0], message(err))
	return 1
}

// commands are mmtoolkit's commands by name (run looks them up; an init
// adds them, since help refers to the table).
var commands map[string]func([]string, io.Writer, io.Writer) error

func init() {
	commands = map[string]func([]string, io.Writer, io.Writer) error{
		"serve":              cmdServe,
		"migrate":            cmdMigrate,
		"push":               cmdPush,
		"pack":               cmdPack,
		"teams":              cmdTeams,
		"keygen":             cmdKeygen,
		"sign":               cmdSign,
		"enable":             func(a []string, o, e io.Writer) error { return cmdToggle(a, o, e, true) },
		"disable":            func(a []string, o, e io.Writer) error { return cmdToggle(a, o, e, false) },
		"plugins":            cmdPlugins,
		"plugin":             cmdPlugins, // kubectl and mmctl take either
		"versions":           cmdVersions,
		"pin":                cmdPin,
		"rollback":           cmdRollback,
		"follow":             cmdFollow,
		"audit":              cmdAudit,
		"crashes":            cmdCrashes,
		"disable-everywhere": cmdDisableEverywhere,
		"server-part":        cmdServerPart,
		"embed-apps":         cmdEmbedApps,
		"version":            cmdVersion,
	}
}

// didYouMean suggests the command a mistyped name is closest to (one
// edit, or a prefix), as git does.
func didYouMean(name string) string {
	best := ""
	for c := range commands {
		if strings.HasPrefix(c, name) || editDistance(c, name) <= 2 {
			if best == "" || c < best {
				best = c
			}
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
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
// Parse it with parseFlags: --help prints this usage; a parse error is a
// usageError, printed by run in one line.
func newFlags(name, synopsis, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse errors come back as usage errors
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: mmtoolkit %s %s\n\n%s\n\nFlags:\n", name, synopsis, about)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}
