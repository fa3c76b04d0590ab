package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// The admin console's changes and reads as commands: pin, rollback and
// follow change the version a team serves (the team page's version
// picker), audit reads the log, crashes the reports clients sent,
// disable-everywhere is the plugin page's kill switch.

func cmdPin(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("pin", "TEAM PLUGIN VERSION",
		"Serves one version of a plugin to a team, live, whatever is pushed later; the\n"+
			"plugin stays enabled or disabled as it is. \"mmtoolkit follow TEAM PLUGIN\" undoes\n"+
			"it. Needs that team's admin or a system admin. \"mmtoolkit versions PLUGIN\" lists\n"+
			"the versions.", stderr)
	cf := addClientFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := positional(fs, pos, "TEAM", "PLUGIN", "VERSION"); err != nil {
		return err
	}
	team, plugin, version := pos[0], pos[1], pos[2]
	if version == "latest" {
		return usagef(fs, "VERSION \"latest\": to follow the latest version run \"mmtoolkit follow %s %s\"", team, plugin)
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	st, err := c.setTeamPlugin(team, plugin, nil, version)
	if err != nil {
		return explain(err, team, plugin, version)
	}
	fmt.Fprintf(stdout, "%s: %s pinned to %s%s\n", team, st.ID, st.Version, stateNote(team, st))
	return nil
}

// stateNote is what a version change leaves to do: nothing when the plugin
// is enabled, else the command that serves it.
func stateNote(team string, st *teamPluginState) string {
	if st.Enabled {
		return " (enabled: open pages of the team switch to it now)"
	}
	return fmt.Sprintf(" (disabled: \"mmtoolkit enable %s %s\" serves it)", team, st.ID)
}

// teamPluginArgs parses a TEAM PLUGIN command line with the client flags
// and connects.
func teamPluginArgs(fs *flag.FlagSet, args []string) (team, plugin string, c *client, err error) {
	cf := addClientFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return "", "", nil, err
	}
	if err := positional(fs, pos, "TEAM", "PLUGIN"); err != nil {
		return "", "", nil, err
	}
	c, err = cf.connect()
	return pos[0], pos[1], c, err
}

func cmdFollow(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("follow", "TEAM PLUGIN",
		"Makes a team follow a plugin's latest version again (its newest release: previews,\n"+
			"the prereleases push --watch makes, are never served to teams that follow), undoing\n"+
			"a pin or a rollback. Needs that team's admin or a system admin.", stderr)
	team, plugin, c, err := teamPluginArgs(fs, args)
	if err != nil {
		return err
	}
	st, err := c.setTeamPlugin(team, plugin, nil, "latest")
	if err != nil {
		return explain(err, team, plugin, "")
	}
	serves := st.Effective
	if serves == "" {
		serves = "nothing yet (no release)"
	}
	fmt.Fprintf(stdout, "%s: %s follows the latest version, now %s%s\n", team, st.ID, serves, stateNote(team, st))
	return nil
}

func cmdRollback(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("rollback", "TEAM PLUGIN",
		"Pins the version the team served before the one it serves now (found in the audit\n"+
			"log: the version it followed before the last push, or its previous pin) and says\n"+
			"which. Run it again to go back. \"mmtoolkit follow TEAM PLUGIN\" follows the latest\n"+
			"again. Needs that team's admin or a system admin.", stderr)
	team, plugin, c, err := teamPluginArgs(fs, args)
	if err != nil {
		return err
	}
	var res struct {
		teamPluginState
		From string `json:"rolled_back_from"`
		To   string `json:"rolled_back_to"`
	}
	path := "/api/v1/teams/" + url.PathEscape(team) + "/plugins/" + url.PathEscape(plugin) + "/rollback"
	if _, err := c.do("POST", path, "", nil, &res); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Code == "no_previous_version" {
			// The server's "pin a version instead", as commands.
			return &apiError{Status: ae.Status, Code: ae.Code, Message: strings.TrimSuffix(ae.Message, ": pin a version instead") +
				fmt.Sprintf(": \"mmtoolkit versions %s\" lists the versions, \"mmtoolkit pin %s %s VERSION\" pins one", plugin, team, plugin)}
		}
		return explain(err, team, plugin, "")
	}
	from := res.From
	if from == "" {
		from = "none"
	}
	fmt.Fprintf(stdout, "%s: %s rolled back from %s to %s, pinned%s\n", team, res.ID, from, res.To, stateNote(team, &res.teamPluginState))
	fmt.Fprintf(stdout, "\"mmtoolkit follow %s %s\" follows the latest version again\n", team, res.ID)
	return nil
}

func cmdAudit(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit", "[--team TEAM] [--plugin PLUGIN] [--person USER] [--limit N] [--json]",
		"Reads the audit log, newest first: pushes, enables, disables, pins and raised\n"+
			"certifications, with who and when. A system admin reads every entry; a team admin\n"+
			"the entries of the teams they administer.", stderr)
	cf := addClientFlags(fs)
	team := fs.String("team", "", "only this team's entries (name or id)")
	plugin := fs.String("plugin", "", "only this plugin's entries")
	person := fs.String("person", "", "only what this user did (username, or user id)")
	limit := fs.Int("limit", 100, "at most this many entries (1 to 1000)")
	asJSON := addJSONFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := positional(fs, fs.Args()); err != nil {
		return err
	}
	if *limit < 1 || *limit > 1000 {
		return usagef(fs, "--limit %d: give a number from 1 to 1000", *limit)
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	var res struct {
		Entries []auditEntry `json:"entries"`
	}
	raw, err := c.getRaw("/api/v1/audit"+auditQuery(*team, *plugin, *person, *limit), &res)
	if err != nil {
		return explain(err, *team, *plugin, "")
	}
	if *asJSON {
		_, err := stdout.Write(append(raw, '\n'))
		return err
	}
	if len(res.Entries) == 0 {
		fmt.Fprintln(stderr, "no audit entries match")
		return nil
	}
	tw := newTable(stdout, "TIME", "WHO", "ACTION", "PLUGIN", "VERSION", "TEAM", "DETAIL")
	for _, e := range res.Entries {
		tw.row(e.At.Local().Format(time.DateTime), cmpOr(e.ActorName, e.Actor), e.Action, e.PluginID, e.Version,
			cmpOr(e.TeamName, e.TeamID), e.Detail)
	}
	return tw.flush()
}

func cmdCrashes(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("crashes", "[PLUGIN] [--json]",
		"Crash reports clients sent, per plugin version: counts, distinct users, whether the\n"+
			"version is flagged (10 crashes from 3 users; nothing is disabled automatically),\n"+
			"and with PLUGIN the latest messages. For system and team admins; a team admin sees\n"+
			"the reports of the teams they administer.", stderr)
	cf := addClientFlags(fs)
	asJSON := addJSONFlag(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return positional(fs, pos, "PLUGIN")
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	type pluginHealth struct {
		PluginID string          `json:"plugin_id"`
		Versions []versionHealth `json:"versions"`
	}
	var (
		all []pluginHealth
		raw []byte
	)
	if len(pos) == 1 {
		var one pluginHealth
		raw, err = c.getRaw("/api/v1/plugins/"+url.PathEscape(pos[0])+"/errors", &one)
		all = []pluginHealth{one}
	} else {
		var res struct {
			Plugins []pluginHealth `json:"plugins"`
		}
		raw, err = c.getRaw("/api/v1/crashes", &res)
		all = res.Plugins
	}
	if err != nil {
		return explain(err, "", strings.Join(pos, ""), "")
	}
	if *asJSON {
		_, err := stdout.Write(append(raw, '\n'))
		return err
	}
	n := 0
	tw := newTable(stdout, "PLUGIN", "VERSION", "CRASHES", "USERS", "FLAGGED", "LAST")
	for _, p := range all {
		for _, h := range p.Versions {
			flagged := "no"
			if h.Flagged {
				flagged = "yes"
			}
			tw.row(p.PluginID, h.Version, fmt.Sprint(h.Crashes), fmt.Sprint(h.Users), flagged, h.LastAt.Local().Format(time.DateTime))
			n++
		}
	}
	if n == 0 {
		fmt.Fprintln(stderr, "no crash reports")
		return nil
	}
	if err := tw.flush(); err != nil {
		return err
	}
	if len(pos) == 1 {
		fmt.Fprintln(stdout)
		tw := newTable(stdout, "VERSION", "TIME", "USER", "TEAM", "SLOT", "MESSAGE")
		for _, h := range all[0].Versions {
			for _, r := range h.Recent {
				tw.row(h.Version, r.At.Local().Format(time.DateTime), r.UserID, r.TeamID, r.Slot, firstLine(r.Message))
			}
		}
		return tw.flush()
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

// stdinIsTerminal is a var so tests can say what a terminal answers.
var stdinIsTerminal = func() bool { return term.IsTerminal(int(os.Stdin.Fd())) }

func cmdDisableEverywhere(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("disable-everywhere", "PLUGIN [--yes]",
		"The kill switch: disables a plugin in every team that has it enabled, at once (open\n"+
			"pages unload it). Each team keeps its pin and its admins can enable it again. System\n"+
			"admins only. Asks for confirmation on a terminal; --yes confirms in scripts.", stderr)
	cf := addClientFlags(fs)
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := positional(fs, pos, "PLUGIN"); err != nil {
		return err
	}
	id := pos[0]
	if !*yes {
		if !stdinIsTerminal() {
			return usagef(fs, "--yes is required when not on a terminal: the kill switch disables %s in every team", id)
		}
		fmt.Fprintf(stderr, "Disable %s in every team that has it enabled? Type the plugin id to confirm: ", id)
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		if strings.TrimSpace(line) != id {
			fmt.Fprintln(stderr, "not confirmed: nothing changed")
			return exitError(1)
		}
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	var res struct {
		Teams []string `json:"teams"`
	}
	if _, err := c.do("POST", "/api/v1/plugins/"+url.PathEscape(id)+"/disable-everywhere", "", nil, &res); err != nil {
		return explain(err, "", id, "")
	}
	if len(res.Teams) == 0 {
		fmt.Fprintf(stdout, "%s was enabled in no team: nothing changed\n", id)
		return nil
	}
	names := teamNames(c, res.Teams)
	fmt.Fprintf(stdout, "%s disabled in %d team(s): %s\n", id, len(res.Teams), strings.Join(names, ", "))
	return nil
}

// teamNames names team ids by the caller's teams where it can.
func teamNames(c *client, ids []string) []string {
	byID := map[string]string{}
	if teams, err := c.myTeams(); err == nil {
		for _, t := range teams {
			byID[t.ID] = t.Name
		}
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = cmpOr(byID[id], id)
	}
	return out
}
