package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// cmdPlugins is "plugins" (the catalogue, as the directory lists it) and
// "plugins show ID" (one plugin, as its console page shows it).
func cmdPlugins(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "show" || args[0] == "get" || args[0] == "describe") {
		return cmdPluginShow(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "list" {
		args = args[1:]
	}
	fs := newFlags("plugins", "[--search WORDS] [--slot SLOT] [--certification LEVEL] [--json]\n       mmtoolkit plugins show PLUGIN [--json]",
		"Lists the plugins on the server, as the plugin directory does: id, name, latest\n"+
			"version, its certification, the number of versions and the slots it fills.\n"+
			"\"plugins show PLUGIN\" shows one with its versions and, for an admin, its state in\n"+
			"your teams and its crash reports.", stderr)
	cf := addClientFlags(fs)
	search := fs.String("search", "", "only plugins whose id, name or description holds every one of these words")
	slot := fs.String("slot", "", "only plugins filling this slot (e.g. channel_header_button, post_type)")
	level := fs.String("certification", "", "only plugins whose latest version is at this level (official, certified, community, unverified)")
	asJSON := addJSONFlag(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef(fs, "unexpected argument %q: to see one plugin run \"mmtoolkit plugins show %s\"; to search, --search %q", pos[0], pos[0], pos[0])
	}
	switch *level {
	case "", "official", "certified", "community", "unverified":
	default:
		return usagef(fs, "--certification %q: use official, certified, community or unverified", *level)
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	var cat struct {
		Plugins []pluginSummary `json:"plugins"`
	}
	if _, err := c.getRaw("/api/v1/plugins", &cat); err != nil {
		return explain(err, "", "", "")
	}
	words := strings.Fields(strings.ToLower(*search))
	var out []pluginSummary
	for _, p := range cat.Plugins {
		text := strings.ToLower(p.ID + " " + p.Name + " " + p.Description)
		if slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(text, w) }) {
			continue
		}
		if *slot != "" && !slices.ContainsFunc(p.Slots, func(s slotDecl) bool { return s.Slot == *slot }) {
			continue
		}
		if *level != "" && p.Certification != *level {
			continue
		}
		out = append(out, p)
	}
	if *asJSON {
		return printJSON(stdout, map[string]any{"plugins": nonNilSlice(out)})
	}
	if len(out) == 0 {
		if len(cat.Plugins) == 0 {
			fmt.Fprintln(stderr, "no plugins on this server yet: push one with \"mmtoolkit push DIR\"")
		} else {
			fmt.Fprintf(stderr, "none of the %d plugins matches\n", len(cat.Plugins))
		}
		return nil
	}
	tw := newTable(stdout, "ID", "NAME", "LATEST", "CERTIFICATION", "VERSIONS", "SLOTS")
	for _, p := range out {
		tw.row(p.ID, p.Name, p.Latest, p.Certification, fmt.Sprint(len(p.Versions)), slotList(p.Slots))
	}
	return tw.flush()
}

func slotList(slots []slotDecl) string {
	var names []string
	for _, s := range slots {
		if n := s.String(); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

func cmdPluginShow(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plugins show", "PLUGIN [--json]",
		"Shows one plugin: its name, description, owner and slots, every version (newest\n"+
			"first) with its certification, push time, pusher and bundle sizes; for an admin,\n"+
			"its state in the teams you administer and the crash reports per version.", stderr)
	cf := addClientFlags(fs)
	asJSON := addJSONFlag(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := positional(fs, pos, "PLUGIN"); err != nil {
		return err
	}
	id := pos[0]
	c, err := cf.connect()
	if err != nil {
		return err
	}
	var d pluginDetail
	raw, err := c.getRaw("/api/v1/plugins/"+url.PathEscape(id), &d)
	if err != nil {
		return explain(err, "", id, "")
	}
	if *asJSON {
		_, err := stdout.Write(append(raw, '\n'))
		return err
	}
	p := d.Plugin
	fmt.Fprintf(stdout, "%s  %s\n", p.ID, p.Name)
	if p.Description != "" {
		fmt.Fprintf(stdout, "  %s\n", p.Description)
	}
	fmt.Fprintf(stdout, "Latest:  %s (%s)\n", p.Latest, p.Certification)
	fmt.Fprintf(stdout, "Owner:   %s\n", p.Owner)
	fmt.Fprintf(stdout, "Slots:   %s\n", cmpOr(slotList(p.Slots), "-"))
	fmt.Fprintf(stdout, "Created: %s\n", p.CreatedAt.Local().Format(time.DateTime))

	// Crash reports and team states are for admins: a member's 403 is
	// not an error here, the section is just not shown.
	var health struct {
		Versions []versionHealth `json:"versions"`
	}
	_, herr := c.getRaw("/api/v1/plugins/"+url.PathEscape(id)+"/errors", &health)
	crashes := map[string]versionHealth{}
	for _, h := range health.Versions {
		crashes[h.Version] = h
	}
	fmt.Fprintln(stdout)
	if err := writeVersions(stdout, d, crashes, herr == nil); err != nil {
		return err
	}
	if herr != nil && !isForbidden(herr) {
		fmt.Fprintf(stderr, "warning: crash reports not read: %v\n", herr)
	}
	teams, err := c.myTeams()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	tw := newTable(stdout, "TEAM", "STATE", "SERVES", "PIN")
	for _, t := range teams {
		tp, err := c.teamPlugins(t.ID)
		if err != nil {
			return err
		}
		st, err := tp.find(id)
		if err != nil {
			continue
		}
		state := "disabled"
		if st.Enabled {
			state = "enabled"
		}
		pin := "follows latest"
		if st.Version != "" {
			pin = "pinned"
		}
		tw.row(t.Name, state, st.Effective, pin)
	}
	return tw.flush()
}

func isForbidden(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == 403
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// writeVersions is the versions table of versions and plugins show;
// withCrashes adds the crash counts (admins only).
func writeVersions(w io.Writer, d pluginDetail, crashes map[string]versionHealth, withCrashes bool) error {
	header := []string{"VERSION", "CERTIFICATION", "PUSHED", "BY", "WEB", "MOBILE", "NOTE"}
	if withCrashes {
		header = append(header, "CRASHES")
	}
	tw := newTable(w, header...)
	now := time.Now()
	for _, v := range d.Versions {
		var notes []string
		if v.Version == d.Plugin.Latest {
			notes = append(notes, "latest")
		}
		if semver.Prerelease("v"+v.Version) != "" {
			notes = append(notes, "preview")
		}
		if v.Prebuilt {
			notes = append(notes, "prebuilt")
		}
		row := []string{v.Version, v.Certification, ago(v.PushedAt, now) + " ago", v.PushedBy,
			bundleSize(v.Bundles, "web"), bundleSize(v.Bundles, "mobile"), strings.Join(notes, ", ")}
		if withCrashes {
			h := crashes[v.Version]
			cell := fmt.Sprint(h.Crashes)
			if h.Flagged {
				cell += " (flagged)"
			}
			row = append(row, cell)
		}
		tw.row(row...)
	}
	return tw.flush()
}

func bundleSize(b map[string]bundleInfo, kind string) string {
	if x, ok := b[kind]; ok {
		return size(x.Size)
	}
	return ""
}

func cmdVersions(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("versions", "PLUGIN [--json]",
		"Lists a plugin's versions, newest first: certification, when and by whom each was\n"+
			"pushed, bundle sizes; \"latest\" marks the newest, \"preview\" a prerelease (a\n"+
			"push --watch build). Pin one for a team with \"mmtoolkit pin TEAM PLUGIN VERSION\".", stderr)
	cf := addClientFlags(fs)
	asJSON := addJSONFlag(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := positional(fs, pos, "PLUGIN"); err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	var d pluginDetail
	raw, err := c.getRaw("/api/v1/plugins/"+url.PathEscape(pos[0]), &d)
	if err != nil {
		return explain(err, "", pos[0], "")
	}
	if *asJSON {
		var v struct {
			Versions json.RawMessage `json:"versions"`
		}
		json.Unmarshal(raw, &v)
		return printJSON(stdout, map[string]any{"plugin_id": d.Plugin.ID, "versions": v.Versions})
	}
	return writeVersions(stdout, d, nil, false)
}
