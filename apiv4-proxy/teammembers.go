package apiv4proxy

import (
	"github.com/mmtoolkit/mmtoolkit/identity"

	"context"
	"errors"
	"fmt"
)

// maxTeamMemberLookups bounds the users TeamMembers asks about in one call:
// it serves direct and group messages, which have at most 8 members.
const maxTeamMemberLookups = 16

// TeamMembers returns which of userIDs belong to team teamID, in the order
// given, asking Mattermost with who's token (GET
// /api/v4/teams/{team_id}/members/{user_id}, which needs view_team: who
// sees only teams they are in). A membership that was left (delete_at set)
// does not count. The server asks it before it lets a plugin's event into
// a direct or group message, whose channel belongs to no team.
func (u *Upstream) TeamMembers(ctx context.Context, who *identity.Identity, teamID string, userIDs []string) ([]string, error) {
	if who == nil || who.Token == "" || !isID(teamID) {
		return nil, fmt.Errorf("apiv4proxy: team %q members: %w", teamID, ErrTeamNotFound)
	}
	if len(userIDs) > maxTeamMemberLookups {
		return nil, fmt.Errorf("apiv4proxy: team %s members: %d users asked, at most %d", teamID, len(userIDs), maxTeamMemberLookups)
	}
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	var in []string
	for _, uid := range userIDs {
		if !isID(uid) {
			continue
		}
		var m struct {
			TeamID   string `json:"team_id"`
			UserID   string `json:"user_id"`
			DeleteAt int64  `json:"delete_at"`
		}
		err := u.getJSON(ctx, who.Token, "/api/v4/teams/"+teamID+"/members/"+uid, &m)
		if errors.Is(err, errNotVisible) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("apiv4proxy: team %s members: %w", teamID, err)
		}
		if m.TeamID == teamID && m.UserID == uid && m.DeleteAt == 0 {
			in = append(in, uid)
		}
	}
	return in, nil
}
