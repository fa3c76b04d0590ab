package main

import (
	"fmt"
	"io"
	"strings"
)

func cmdTeams(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("teams", "[flags]", "Lists your teams and, for each, the plugins enabled there.", stderr)
	cf := addClientFlags(fs)
	asJSON := addJSONFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := positional(fs, fs.Args()); err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	teams, err := c.myTeams()
	if err != nil {
		return err
	}
	var all []teamPlugins
	for _, t := range teams {
		tp, err := c.teamPlugins(t.ID)
		if err != nil {
			return err
		}
		all = append(all, *tp)
	}
	if *asJSON {
		return printJSON(stdout, map[string]any{"teams": nonNilSlice(all)})
	}
	tw := newTable(stdout, "TEAM", "ID", "ENABLED PLUGINS")
	for _, tp := range all {
		var on []string
		for _, p := range tp.Plugins {
			if p.Enabled {
				s := p.ID + "@" + p.Effective
				if p.Version != "" {
					s += " (pinned)"
				}
				on = append(on, s)
			}
		}
		tw.row(tp.Team.Name, tp.Team.ID, strings.Join(on, ", "))
	}
	return tw.flush()
}

func cmdToggle(args []string, stdout, stderr io.Writer, enable bool) error {
	name, verb := "enable", "Enables"
	if !enable {
		name, verb = "disable", "Disables"
	}
	fs := newFlags(name, "TEAM PLUGIN | --team TEAM --plugin PLUGIN [--version V]",
		verb+" a plugin for one team, live. Needs that team's admin or a system admin.\n"+
			"--version pins a version (\"latest\" follows the newest again); mmtoolkit pin,\n"+
			"rollback and follow change the version without changing enabled or disabled.", stderr)
	cf := addClientFlags(fs)
	team := fs.String("team", "", "team name or id (or the first argument)")
	plugin := fs.String("plugin", "", "plugin id (or the second argument)")
	version := fs.String("version", "", "pin this version; \"latest\" to follow the newest")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *team == "" && *plugin == "" && len(pos) > 0 { // enable TEAM PLUGIN, as pin takes them
		if err := positional(fs, pos, "TEAM", "PLUGIN"); err != nil {
			return err
		}
		*team, *plugin, pos = pos[0], pos[1], nil
	}
	switch {
	case *team == "":
		return usagef(fs, "--team is required: the team's name or id (mmtoolkit teams lists yours)")
	case *plugin == "":
		return usagef(fs, "--plugin is required: the plugin's id (mmtoolkit plugins lists them)")
	}
	if err := positional(fs, pos); err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	st, err := c.setTeamPlugin(*team, *plugin, &enable, *version)
	if err != nil {
		return explain(err, *team, *plugin, *version)
	}
	state := "disabled"
	if st.Enabled {
		state = "enabled"
	}
	fmt.Fprintf(stdout, "%s@%s %s for team %s\n", st.ID, st.Effective, state, *team)
	return nil
}
