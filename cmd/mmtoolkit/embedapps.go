package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
)

// embedApp is an embed app as the API answers it (docs/api.md#embedding).
type embedApp struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Origins  []string `json:"origins"`
	Teams    []string `json:"teams"`
	Channels []string `json:"channels"`
	Secret   string   `json:"secret"`
}

// listFlag is a repeatable flag; each value may also hold a comma-separated
// list (--origin a --origin b, or --origin a,b).
type listFlag struct {
	values []string
	set    bool
}

func (l *listFlag) String() string { return strings.Join(l.values, ",") }

func (l *listFlag) Set(v string) error {
	l.set = true
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			l.values = append(l.values, s)
		}
	}
	return nil
}

const embedAppsSynopsis = `[list] | show APP | create --name NAME --origin URL [--team TEAM] [--channel ID]
       mmtoolkit embed-apps update APP [--name] [--origin] [--team] [--channel]
       mmtoolkit embed-apps rotate-secret APP | revoke-tokens APP | delete APP [--yes]`

const embedAppsAbout = "The console's Embedding page (/admin/embed), system admins only: the apps whose\n" +
	"sites may embed channels (docs/embed.md). create prints the app's secret, once: give\n" +
	"it to the app's backend. update replaces what its flags give and keeps the rest;\n" +
	"rotate-secret makes a new secret (the old one stops working); revoke-tokens ends\n" +
	"every token issued so far; delete removes the app and its tokens."

// cmdEmbedApps is "embed-apps" and its subcommands, in kubectl's habit of
// a verb after the resource.
func cmdEmbedApps(args []string, stdout, stderr io.Writer) error {
	verb := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		verb, args = args[0], args[1:]
	}
	fs := newFlags("embed-apps "+verb, embedAppsSynopsis, embedAppsAbout, stderr)
	cf := addClientFlags(fs)
	var (
		asJSON            *bool
		name              *string
		yes               *bool
		origins, teams    listFlag
		channels          listFlag
		names             []string // the positional arguments verb takes
		addSpec, needsAck bool
	)
	switch verb {
	case "list":
		asJSON = addJSONFlag(fs)
	case "show":
		asJSON, names = addJSONFlag(fs), []string{"APP"}
	case "create", "update":
		asJSON, addSpec = addJSONFlag(fs), true
		if verb == "update" {
			names = []string{"APP"}
		}
	case "rotate-secret", "revoke-tokens":
		asJSON, names = addJSONFlag(fs), []string{"APP"}
	case "delete":
		names, needsAck = []string{"APP"}, true
		yes = fs.Bool("yes", false, "do not ask for confirmation")
	default:
		return usagef(fs, "unknown subcommand %q: use list, show, create, update, rotate-secret, revoke-tokens or delete", verb)
	}
	if addSpec {
		name = fs.String("name", "", "the app's name")
		fs.Var(&origins, "origin", "an origin (scheme://host[:port]) whose pages may frame the app's channels; repeat or comma-separate")
		fs.Var(&teams, "team", "a team (name or id) any of whose channels the app may embed; repeatable")
		fs.Var(&channels, "channel", "a channel id the app may embed; repeatable")
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := positional(fs, pos, names...); err != nil {
		return err
	}
	if verb == "create" && (*name == "" || len(origins.values) == 0) {
		return usagef(fs, "create needs --name and at least one --origin (the site that embeds, e.g. https://app.example)")
	}
	if needsAck && !*yes {
		if !stdinIsTerminal() {
			return usagef(fs, "--yes is required when not on a terminal: delete ends every embed of app %s", pos[0])
		}
		fmt.Fprintf(stderr, "Delete embed app %s and end its tokens? Type the app id to confirm: ", pos[0])
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		if strings.TrimSpace(line) != pos[0] {
			fmt.Fprintln(stderr, "not confirmed: nothing changed")
			return exitError(1)
		}
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	const base = "/api/v1/embed/apps"
	var (
		raw  json.RawMessage
		path = base
		app  = ""
	)
	if len(pos) > 0 {
		app = pos[0]
		path = base + "/" + url.PathEscape(app)
	}
	switch verb {
	case "list":
		var res struct {
			Apps []embedApp `json:"apps"`
		}
		if raw, err = c.getRaw(base, &res); err != nil {
			return explainEmbed(err, "")
		}
		if *asJSON {
			return writeRaw(stdout, raw)
		}
		if len(res.Apps) == 0 {
			fmt.Fprintln(stderr, `no embed apps: create one with "mmtoolkit embed-apps create --name NAME --origin URL --team TEAM"`)
			return nil
		}
		tw := newTable(stdout, "ID", "NAME", "ORIGINS", "TEAMS", "CHANNELS")
		for _, a := range res.Apps {
			tw.row(a.ID, a.Name, strings.Join(a.Origins, ", "), strings.Join(a.Teams, ", "), strings.Join(a.Channels, ", "))
		}
		return tw.flush()
	case "show":
		_, err = c.do("GET", path, "", nil, &raw)
	case "create", "update":
		spec := map[string]any{"name": *name, "origins": nonNilSlice(origins.values),
			"teams": nonNilSlice(teams.values), "channels": nonNilSlice(channels.values)}
		method := "POST"
		if verb == "update" {
			// PUT takes the whole app: what the flags do not give stays.
			var cur embedApp
			if _, err := c.getRaw(path, &cur); err != nil {
				return explainEmbed(err, app)
			}
			method = "PUT"
			if *name == "" {
				spec["name"] = cur.Name
			}
			for _, f := range []struct {
				key  string
				flag *listFlag
				cur  []string
			}{{"origins", &origins, cur.Origins}, {"teams", &teams, cur.Teams}, {"channels", &channels, cur.Channels}} {
				if !f.flag.set {
					spec[f.key] = nonNilSlice(f.cur)
				}
			}
		}
		body, _ := json.Marshal(spec)
		_, err = c.do(method, path, "application/json", strings.NewReader(string(body)), &raw)
	case "rotate-secret":
		_, err = c.do("POST", path+"/secret", "", nil, &raw)
	case "revoke-tokens":
		_, err = c.do("POST", path+"/tokens/revoke", "", nil, &raw)
	case "delete":
		if _, err = c.do("DELETE", path, "", nil, nil); err == nil {
			fmt.Fprintf(stdout, "embed app %s deleted, and its tokens\n", app)
		}
		return explainEmbed(err, app)
	}
	if err != nil {
		return explainEmbed(err, app)
	}
	if *asJSON {
		return writeRaw(stdout, raw)
	}
	var a embedApp
	if err := json.Unmarshal(raw, &a); err != nil {
		return err
	}
	switch verb {
	case "create":
		fmt.Fprintf(stdout, "created embed app %s (%s)\n", a.ID, a.Name)
	case "update":
		fmt.Fprintf(stdout, "updated embed app %s (%s); its tokens follow the new teams and channels now\n", a.ID, a.Name)
	case "revoke-tokens":
		fmt.Fprintf(stdout, "every token of embed app %s issued so far is revoked\n", a.ID)
		return nil
	}
	writeEmbedApp(stdout, a)
	if a.Secret != "" {
		fmt.Fprintf(stdout, "Secret:   %s\n(shown once: give it to the app's backend, which asks for tokens with the app id and it; docs/embed.md)\n", a.Secret)
	}
	return nil
}

func writeEmbedApp(w io.Writer, a embedApp) {
	fmt.Fprintf(w, "ID:       %s\nName:     %s\nOrigins:  %s\nTeams:    %s\nChannels: %s\n", a.ID, a.Name,
		cmpOr(strings.Join(a.Origins, ", "), "-"), cmpOr(strings.Join(a.Teams, ", "), "-"), cmpOr(strings.Join(a.Channels, ", "), "-"))
}

func writeRaw(w io.Writer, raw json.RawMessage) error {
	_, err := w.Write(append(raw, '\n'))
	return err
}

// explainEmbed names the command to run for an unknown app.
func explainEmbed(err error, app string) error {
	if ae := (*apiError)(nil); errors.As(err, &ae) && ae.Code == "embed_app_not_found" {
		return &apiError{Status: ae.Status, Code: ae.Code,
			Message: fmt.Sprintf("no embed app %s: run \"mmtoolkit embed-apps\" to list them", app)}
	}
	return explain(err, "", "", "")
}

var _ flag.Value = (*listFlag)(nil)
