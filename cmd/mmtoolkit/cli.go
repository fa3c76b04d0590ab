package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// usageError is a command line the command cannot run: an unknown flag, a
// missing argument, a value it does not take. run prints it with the
// command's name and a pointer to its --help, not the whole usage (which
// would bury the one line that says what was wrong), and exits 2.
type usageError struct {
	cmd, msg string
}

func (e *usageError) Error() string { return e.msg }

// usagef is a usage error of the command fs parses.
func usagef(fs *flag.FlagSet, format string, args ...any) error {
	return &usageError{cmd: fs.Name(), msg: fmt.Sprintf(format, args...)}
}

// parseFlags parses args with fs. --help prints the command's whole usage
// (and returns flag.ErrHelp: exit 0); any other parse error is a usage
// error naming the flag, as the flag package words it ("flag provided but
// not defined: -x", "invalid value \"y\" for flag -limit: ...").
func parseFlags(fs *flag.FlagSet, args []string) error {
	full := fs.Usage
	fs.Usage = func() {} // the flag package calls it on every error
	defer func() { fs.Usage = full }()
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		full()
		return err
	case err != nil:
		return usagef(fs, "%v", err)
	}
	return nil
}

// positional checks a command's arguments against their names (as the
// synopsis writes them, e.g. TEAM, PLUGIN): a missing one is named, and so
// is the first argument too many.
func positional(fs *flag.FlagSet, got []string, names ...string) error {
	if len(got) < len(names) {
		return usagef(fs, "missing %s (mmtoolkit %s %s)", names[len(got)], fs.Name(), strings.Join(names, " "))
	}
	if len(got) > len(names) {
		if len(names) == 0 {
			return usagef(fs, "unexpected argument %q: %s takes no arguments, only flags", got[0], fs.Name())
		}
		return usagef(fs, "unexpected argument %q after %s (mmtoolkit %s %s)", got[len(names)],
			strings.Join(names, " "), fs.Name(), strings.Join(names, " "))
	}
	return nil
}

// addJSONFlag is --json, which every read command has: the server's JSON
// (the shapes docs/api.md documents), indented, for scripts.
func addJSONFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("json", false, "print JSON (the API's shape, see docs/api.md) instead of a table")
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table writes aligned columns, as kubectl get and mmctl do.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// explain turns the server's error for a command about team, plugin and
// version into one that names the mmtoolkit command to run next; the
// server's messages name HTTP routes, which a person at a terminal does not
// type. Errors it does not know pass through with their code.
func explain(err error, team, plugin, version string) error {
	var ae *apiError
	if !errors.As(err, &ae) {
		return err
	}
	msg := ""
	switch ae.Code {
	case "version_not_found", "plugin_not_found", "team_not_found":
		if plugin == "" && team == "" { // a caller without the context: run's last resort
			return err
		}
	}
	switch ae.Code {
	case "version_not_found":
		msg = fmt.Sprintf("%s has no version %s: run \"mmtoolkit versions %s\" to list them", plugin, version, plugin)
	case "plugin_not_found":
		msg = fmt.Sprintf("no plugin has the id %s: run \"mmtoolkit plugins\" to list them (or push it first)", plugin)
	case "team_not_found":
		msg = fmt.Sprintf("no team %s: use a team's name or id; run \"mmtoolkit teams\" to list yours", team)
	case "invalid_token":
		msg = "the token is invalid or expired: log in again with --user (and --password or MMTOOLKIT_PASSWORD), or set a new MMTOOLKIT_TOKEN"
	case "unauthenticated":
		msg = "not logged in: pass --token, or --user and --password"
	case "route_not_found":
		msg = "the server does not know this request: it may be older than this mmtoolkit (\"mmtoolkit version\" prints this one's)"
	default:
		return err
	}
	return &apiError{Status: ae.Status, Code: ae.Code, Message: msg}
}

// checkPluginPath checks the path pack, push or sign was given before any
// work: it names the path when nothing is there, and, for a command that
// takes only a directory, when it is a file.
func checkPluginPath(path string, archiveOK bool) error {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		what := "the plugin's directory (the one holding plugin.json)"
		if archiveOK {
			what += " or its .tar.gz"
		}
		return fmt.Errorf("%s: no such file or directory: give %s", path, what)
	}
	if err != nil {
		return err
	}
	if !st.IsDir() && !archiveOK {
		return fmt.Errorf("%s is a file, not a directory: give the plugin's directory (the one holding plugin.json); push sends a .tar.gz as it is", path)
	}
	return nil
}

// message is how run prints a command's error: a package problem found
// on this machine by its message alone (pluginpkg.Error's text starts with
// its package name, which says nothing to a developer); anything else as
// it is.
func message(err error) string {
	var perr *pluginpkg.Error
	if errors.As(err, &perr) {
		if perr.File != "" && !strings.Contains(perr.Message, perr.File) {
			return perr.File + ": " + perr.Message
		}
		return perr.Message
	}
	msg := explain(err, "", "", "").Error()
	// Other errors of the packing code wrap their cause with their
	// package's name ("bundler: ..."): a trace for a programmer, noise
	// in front of a developer's file name.
	for _, pkg := range []string{"pluginpkg: ", "bundler: "} {
		msg = strings.ReplaceAll(msg, pkg, "")
	}
	return msg
}
