package console

import (
	"fmt"
	"net/url"
	"time"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// chrome is what every page's frame needs.
type chrome struct {
	Title   string
	Section string // "admin" or "directory": the current nav entry
	CSS     string
	Viewer  *Viewer // nil on an error page before authentication
	CSRF    string
}

type teamRow struct {
	P         *PluginInfo
	State     registry.TeamState
	Effective string
}

type teamPageData struct {
	Team  Team
	Rows  []teamRow
	Saved string
}

type versionRow struct {
	V      VersionInfo
	Health *registry.Health
}

type teamStateRow struct {
	Team      Team
	State     registry.TeamState
	Effective string
}

type pluginPageData struct {
	P        *PluginInfo
	Versions []versionRow
	// Teams are the viewer's teams with the plugin's state there.
	Teams []teamStateRow
	// Enabled counts the teams that have it enabled (all teams for a
	// system admin, the viewer's teams otherwise).
	Enabled    int
	CanKill    bool
	KilledDone bool
	Killed     int
	Users      map[string]string
	// ServerPart is the plugin's Mattermost server part, nil without one
	// (serverpart.go).
	ServerPart *ServerPart
}

type auditPageData struct {
	Team, Plugin, Person string
	AllTeams             bool
	Options              []Team
	Plugins              []*PluginInfo
	Entries              []registry.AuditEntry
	Teams                map[string]Team
	Users                map[string]string
}

type directoryData struct {
	Query   Query
	Results []*PluginInfo
	Total   int
	Page    int
	Pages   int
}

type directoryPluginData struct {
	P        *PluginInfo
	Versions []VersionInfo
	Teams    []teamStateRow
	// Member are the viewer's teams when they administer none: whether
	// the plugin is enabled there decides between "enabled in your team"
	// and "ask an admin".
	Member []teamStateRow
	Users  map[string]string
}

// firstNotEnabled is the first of the viewer's teams that does not have the
// plugin enabled: the one to ask an admin of.
func firstNotEnabled(rows []teamStateRow) (teamStateRow, bool) {
	for _, r := range rows {
		if !r.State.Enabled {
			return r, true
		}
	}
	return teamStateRow{}, false
}

// slotNames lists the catalogue's slots for the directory's filter.
func slotNames() []string {
	out := make([]string, len(slots.Catalogue))
	for i, s := range slots.Catalogue {
		out[i] = s.Name
	}
	return out
}

func userName(users map[string]string, id string) string {
	if n, ok := users[id]; ok {
		return "@" + n
	}
	return id
}

func teamName(teams map[string]Team, id string) string {
	if t, ok := teams[id]; ok {
		return t.DisplayName
	}
	return id
}

// size formats a byte count the way people read it.
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// when formats a time in UTC, to the minute.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func slotLabel(s string, postType string) string {
	if postType != "" {
		return s + " (" + postType + ")"
	}
	return s
}

func levelTitle(level string) string {
	switch level {
	case "official":
		return "Official: published by the operators of this server"
	case "certified":
		return "Certified: reviewed and signed by a certifier this server trusts"
	case "community":
		return "Community: signed by a community developer this server trusts"
	}
	return "Unverified: not signed by a key this server trusts"
}

func pageURL(q Query, page int) string {
	return fmt.Sprintf("/directory?q=%s&slot=%s&certification=%s&page=%d",
		queryEscape(q.Text), queryEscape(q.Slot), queryEscape(q.Certification), page)
}

func queryEscape(s string) string { return url.QueryEscape(s) }
