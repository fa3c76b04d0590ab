package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The shapes of the server's answers the commands print (docs/api.md).

type teamInfo struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

type teamPluginState struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Latest    string    `json:"latest"`
	Enabled   bool      `json:"enabled"`
	Version   string    `json:"version"`
	Effective string    `json:"effective_version"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

type teamPlugins struct {
	Team    teamInfo          `json:"team"`
	Plugins []teamPluginState `json:"plugins"`
}

type slotDecl struct {
	Slot     string `json:"slot"`
	PostType string `json:"post_type,omitempty"`
}

func (s slotDecl) String() string {
	if s.PostType != "" {
		return s.Slot + ":" + s.PostType
	}
	return s.Slot
}

type pluginSummary struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Description   string     `json:"description"`
	Owner         string     `json:"owner"`
	Latest        string     `json:"latest"`
	Versions      []string   `json:"versions"`
	Certification string     `json:"certification"`
	Slots         []slotDecl `json:"slots"`
	CreatedAt     time.Time  `json:"created_at"`
}

type bundleInfo struct {
	URL      string `json:"url"`
	Size     int64  `json:"size"`
	GzipSize int64  `json:"gzip_size"`
	Pending  bool   `json:"pending,omitempty"`
}

type versionDetail struct {
	Version       string                `json:"version"`
	PushedAt      time.Time             `json:"pushed_at"`
	PushedBy      string                `json:"pushed_by"`
	Slots         []slotDecl            `json:"slots"`
	Bundles       map[string]bundleInfo `json:"bundles"`
	BuildMS       float64               `json:"build_ms"`
	Prebuilt      bool                  `json:"prebuilt"`
	Certification string                `json:"certification"`
	SignerKey     string                `json:"signer_key"`
}

type pluginDetail struct {
	Plugin   pluginSummary   `json:"plugin"`
	Versions []versionDetail `json:"versions"`
}

type crashReport struct {
	UserID   string    `json:"user_id"`
	TeamID   string    `json:"team_id"`
	Message  string    `json:"message"`
	Slot     string    `json:"slot"`
	Platform string    `json:"platform"`
	At       time.Time `json:"at"`
}

type versionHealth struct {
	Version string        `json:"version"`
	Crashes int           `json:"crashes"`
	Users   int           `json:"users"`
	Flagged bool          `json:"flagged"`
	LastAt  time.Time     `json:"last_at"`
	Recent  []crashReport `json:"recent"`
}

type auditEntry struct {
	Seq       uint64    `json:"seq"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	ActorName string    `json:"actor_name"`
	Action    string    `json:"action"`
	PluginID  string    `json:"plugin_id"`
	Version   string    `json:"version"`
	TeamID    string    `json:"team_id"`
	TeamName  string    `json:"team_name"`
	Detail    string    `json:"detail"`
}

// getRaw GETs path and returns the answer both as raw JSON (what --json
// prints, every field the server sent) and decoded into out.
func (c *client) getRaw(path string, out any) (json.RawMessage, error) {
	var raw json.RawMessage
	if _, err := c.do("GET", path, "", nil, &raw); err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("decode answer of GET %s: %w", path, err)
		}
	}
	return raw, nil
}

func (c *client) myTeams() ([]teamInfo, error) {
	var teams []teamInfo
	_, err := c.do("GET", "/api/v4/users/me/teams", "", nil, &teams)
	return teams, err
}

func (c *client) teamPlugins(team string) (*teamPlugins, error) {
	var tp teamPlugins
	if _, err := c.do("GET", "/api/v1/teams/"+url.PathEscape(team)+"/plugins", "", nil, &tp); err != nil {
		return nil, err
	}
	return &tp, nil
}

// setTeamPlugin is PUT /api/v1/teams/{team}/plugins/{id}: enabled nil
// keeps the team's enabled state (the server needs it, so it is read
// first); version "" keeps the pin, "latest" follows the latest.
func (c *client) setTeamPlugin(team, plugin string, enabled *bool, version string) (*teamPluginState, error) {
	if enabled == nil {
		tp, err := c.teamPlugins(team)
		if err != nil {
			return nil, err
		}
		st, err := tp.find(plugin)
		if err != nil {
			return nil, err
		}
		enabled = &st.Enabled
	}
	body := map[string]any{"enabled": *enabled}
	if version != "" {
		body["version"] = version
	}
	data, _ := json.Marshal(body)
	var st teamPluginState
	path := "/api/v1/teams/" + url.PathEscape(team) + "/plugins/" + url.PathEscape(plugin)
	if _, err := c.do("PUT", path, "application/json", strings.NewReader(string(data)), &st); err != nil {
		return nil, err
	}
	return &st, nil
}

func (tp *teamPlugins) find(plugin string) (*teamPluginState, error) {
	for i := range tp.Plugins {
		if tp.Plugins[i].ID == plugin {
			return &tp.Plugins[i], nil
		}
	}
	return nil, &apiError{Status: 404, Code: "plugin_not_found", Message: "no plugin " + plugin}
}

// auditQuery is GET /api/v1/audit's query.
func auditQuery(team, plugin, person string, limit int) string {
	q := url.Values{}
	for k, v := range map[string]string{"team": team, "plugin": plugin, "person": person} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// nonNilSlice makes an empty list print as [] in JSON.
func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ago says how long ago t was, as kubectl's AGE column does.
func ago(t time.Time, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(0, int(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
