package server

import (
	"net/http"
	"sort"
	"strings"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"
)

// currentTeam is the one answer to "which team is this user looking at"
// for requests that carry no team of their own: GET /api/v4/plugins/webapp
// (Mattermost's webapp never names one) and whatever else serves per team
// without a {team} in its path. It returns the team's id, or "" when the
// user belongs to no team (nothing per team to serve then).
//
// In order:
//  1. the team the request names, ?team= or the X-Mmtoolkit-Team header
//     (mmtoolkit's own host sets it), by id or URL name: the caller must
//     be a member (not_team_member otherwise; system admins too, since a
//     team's plugins are for its members);
//  2. the team the session last showed, as its requests and websocket
//     actions told the proxy, else the team the user's sessions last
//     showed (sessionTeam, sessionteams.go);
//  3. the user's first team in the order Mattermost's webapp picks its
//     default team without a stored choice: by display name, case
//     folded, then by id.
//
// Never the union of the user's teams: enablement is per team, and a union
// would load, in every team, plugins only another team enabled.
func (s *Server) currentTeam(r *http.Request, who *identity.Identity) (string, error) {
	if ref := firstNonEmpty(r.Header.Get(teamHeader), queryParam(r.URL.RawQuery, "team")); ref != "" {
		t, err := s.identity.Team(r.Context(), who, ref)
		if err != nil {
			return "", err
		}
		if !who.CanAccessTeam(t.ID) {
			return "", errorf(http.StatusForbidden, CodeNotTeamMember, "you are not a member of team %s: name one of your teams", t.Name)
		}
		return t.ID, nil
	}
	return s.sessionTeam(apiv4proxy.TokenFromRequest(r), who), nil
}

// firstTeam is the user's first team by display name (case folded), then
// id; "" when the user has none.
func firstTeam(who *identity.Identity) string {
	ids := make([]string, 0, len(who.Members))
	for tid := range who.Members {
		ids = append(ids, tid)
	}
	name := func(tid string) string {
		if t, ok := who.Teams[tid]; ok {
			return strings.ToLower(firstNonEmpty(t.DisplayName, t.Name))
		}
		return ""
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := name(ids[i]), name(ids[j])
		if a != b {
			return a < b
		}
		return ids[i] < ids[j]
	})
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}
