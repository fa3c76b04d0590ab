package main

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
)

func cmdTeams(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("teams", "[flags]", "Lists your teams and, for each, the plugins enabled there.", stderr)
	cf := addClientFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	var teams []struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		DisplayName string `json:"display_name"`
	}
	if _, err := c.do("GET", "/api/v4/users/me/teams", "", nil, &teams); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TEAM\tID\tENABLED PLUGINS")
	for _, t := range teams {
		var tp struct {
			Plugins []struct {
				ID        string `json:"id"`
				Enabled   bool   `json:"enabled"`
				Version   string `json:"version"`
				Effective string `json:"effective_version"`
			} `json:"plugins"`
		}
		if _, err := c.do("GET", "/api/v1/teams/"+url.PathEscape(t.ID)+"/plugins", "", nil, &tp); err != nil {
			return err
		}
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
		if len(on) == 0 {
			on = []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Name, t.ID, strings.Join(on, ", "))
	}
	return tw.Flush()
}

func cmdToggle(args []string, stdout, stderr io.Writer, enable bool) error {
	name, verb := "enable", "Enables"
	if !enable {
		name, verb = "disable", "Disables"
	}
	fs := newFlags(name, "--team TEAM --plugin ID [--version V]",
		verb+" a plugin for one team, live. Needs that team's admin or a system admin.\n"+
			"--version pins a version (\"latest\" follows the newest again).", stderr)
	cf := addClientFlags(fs)
	team := fs.String("team", "", "team id or name (required)")
	plugin := fs.String("plugin", "", "plugin id (required)")
	version := fs.String("version", "", "pin this version; \"latest\" to follow the newest")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *team == "" || *plugin == "" || fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	body := fmt.Sprintf(`{"enabled":%t}`, enable)
	if *version != "" {
		body = fmt.Sprintf(`{"enabled":%t,"version":%q}`, enable, *version)
	}
	var st struct {
		ID        string `json:"id"`
		Enabled   bool   `json:"enabled"`
		Effective string `json:"effective_version"`
	}
	path := "/api/v1/teams/" + url.PathEscape(*team) + "/plugins/" + url.PathEscape(*plugin)
	if _, err := c.do("PUT", path, "application/json", strings.NewReader(body), &st); err != nil {
		return err
	}
	state := "disabled"
	if st.Enabled {
		state = "enabled"
	}
	fmt.Fprintf(stdout, "%s@%s %s for team %s\n", st.ID, st.Effective, state, *team)
	return nil
}
