package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// serverPart is GET /api/v1/plugins/{id}/server-part's answer.
type serverPart struct {
	PluginID   string   `json:"plugin_id"`
	Versions   []string `json:"versions"`
	Pin        string   `json:"pin"`
	Follows    string   `json:"follows"`
	Disabled   bool     `json:"disabled"`
	Mattermost bool     `json:"mattermost"`
	State      string   `json:"state"`
	Version    string   `json:"version"`
	Error      string   `json:"error"`
}

// cmdServerPart is the console plugin page's "server part" section: the
// Mattermost server part of a plugin pushed as a Mattermost archive, what
// Mattermost runs of it, and the version pin and on/off switch of it.
func cmdServerPart(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("server-part", "PLUGIN [--pin VERSION | --follow] [--enable | --disable] [--json]",
		"Shows the Mattermost server part of a plugin pushed as a Mattermost archive (its\n"+
			"server/dist executables): the versions that have one, the one mmtoolkit installs on\n"+
			"the Mattermost behind it, and what Mattermost runs. --pin, --follow, --enable and\n"+
			"--disable change it (installed on Mattermost at once; audited). Mattermost runs a\n"+
			"server part for every team: system admins only.", stderr)
	cf := addClientFlags(fs)
	pin := fs.String("pin", "", "install this version's server part and keep it whatever is pushed later")
	follow := fs.Bool("follow", false, "install the latest version's server part, and each newer one pushed")
	enable := fs.Bool("enable", false, "enable it on Mattermost (after the kill switch, say)")
	disable := fs.Bool("disable", false, "disable it on Mattermost")
	asJSON := addJSONFlag(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := positional(fs, pos, "PLUGIN"); err != nil {
		return err
	}
	switch {
	case *pin != "" && *follow:
		return usagef(fs, "--pin and --follow: give one (--pin keeps a version, --follow takes each new one)")
	case *enable && *disable:
		return usagef(fs, "--enable and --disable: give one")
	case *pin == "latest":
		return usagef(fs, "--pin latest: to follow the latest version give --follow")
	}
	id := pos[0]
	c, err := cf.connect()
	if err != nil {
		return err
	}
	path := "/api/v1/plugins/" + url.PathEscape(id) + "/server-part"
	var sp serverPart
	raw, err := c.getRaw(path, &sp)
	if err != nil {
		return explain(err, "", id, "")
	}
	if *pin != "" || *follow || *enable || *disable {
		// The PUT takes both; what was not given stays as it is.
		body := map[string]any{"pin": sp.Pin, "enabled": !sp.Disabled}
		switch {
		case *pin != "":
			body["pin"] = *pin
		case *follow:
			body["pin"] = ""
		}
		if *enable || *disable {
			body["enabled"] = *enable
		}
		data, _ := json.Marshal(body)
		var res json.RawMessage
		if _, err := c.do("PUT", path, "application/json", strings.NewReader(string(data)), &res); err != nil {
			v, _ := body["pin"].(string)
			return explain(err, "", id, v)
		}
		raw = res
		sp = serverPart{}
		if err := json.Unmarshal(raw, &sp); err != nil {
			return err
		}
	}
	if *asJSON {
		_, err := stdout.Write(append(raw, '\n'))
		return err
	}
	wanted := sp.Follows + " (follows the latest)"
	if sp.Pin != "" {
		wanted = sp.Pin + " (pinned)"
	}
	if sp.Disabled {
		wanted += ", disabled"
	}
	state := sp.State
	if sp.Version != "" {
		state += ", version " + sp.Version
	}
	if sp.Error != "" {
		state += ": " + sp.Error
	}
	fmt.Fprintf(stdout, "%s server part\n", sp.PluginID)
	fmt.Fprintf(stdout, "Versions:   %s\n", strings.Join(sp.Versions, ", "))
	fmt.Fprintf(stdout, "Installs:   %s\n", wanted)
	fmt.Fprintf(stdout, "Mattermost: %s\n", state)
	return nil
}
