package sandbox

import (
	"github.com/mmtoolkit/mmtoolkit/identity"
)

// channel is a seeded channel. Sandbox channels are open and every member
// of the team is a member of every channel of it (docs/sandbox.md).
type channel struct {
	identity.Channel
	purpose   string
	creatorID string
}

// channelStats are the counters Mattermost keeps on a channel row. As in
// Mattermost, system posts move last_post_at but are not counted, and
// deleting a post does not decrement the counts.
type channelStats struct {
	lastPostAt   int64
	totalMsg     int64
	totalMsgRoot int64
}

// isChannelMember: the sandbox's membership rule, every team member is in
// every channel of the team.
func (s *Sandbox) isChannelMember(userID string, ch *channel) bool {
	_, ok := s.members[userID][ch.TeamID]
	return ok
}

// canReadChannel: members, and system admins for every channel (their
// role carries read_channel everywhere in Mattermost).
func (s *Sandbox) canReadChannel(who *identity.Identity, ch *channel) bool {
	return who.User.SystemAdmin() || s.isChannelMember(who.User.ID, ch)
}

func (s *Sandbox) channelStats(id string) channelStats {
	s.postMu.RLock()
	defer s.postMu.RUnlock()
	return *s.stats[id]
}

// mmChannel is model.Channel as Mattermost 5.37 sends it.
type mmChannel struct {
	ID                string         `json:"id"`
	CreateAt          int64          `json:"create_at"`
	UpdateAt          int64          `json:"update_at"`
	DeleteAt          int64          `json:"delete_at"`
	TeamID            string         `json:"team_id"`
	Type              string         `json:"type"`
	DisplayName       string         `json:"display_name"`
	Name              string         `json:"name"`
	Header            string         `json:"header"`
	Purpose           string         `json:"purpose"`
	LastPostAt        int64          `json:"last_post_at"`
	TotalMsgCount     int64          `json:"total_msg_count"`
	ExtraUpdateAt     int64          `json:"extra_update_at"`
	CreatorID         string         `json:"creator_id"`
	SchemeID          *string        `json:"scheme_id"`
	Props             map[string]any `json:"props"`
	GroupConstrained  *bool          `json:"group_constrained"`
	Shared            *bool          `json:"shared"`
	TotalMsgCountRoot int64          `json:"total_msg_count_root"`
	PolicyID          *string        `json:"policy_id"`
}

func (s *Sandbox) mmChannel(ch *channel) mmChannel {
	st := s.channelStats(ch.ID)
	return mmChannel{
		ID: ch.ID, CreateAt: seededAt, UpdateAt: seededAt, TeamID: ch.TeamID, Type: ch.Type,
		DisplayName: ch.DisplayName, Name: ch.Name, Purpose: ch.purpose,
		LastPostAt: st.lastPostAt, TotalMsgCount: st.totalMsg, CreatorID: ch.creatorID,
		TotalMsgCountRoot: st.totalMsgRoot,
	}
}

// mmChannelMember is model.ChannelMember as Mattermost 5.37 sends it.
type mmChannelMember struct {
	ChannelID     string            `json:"channel_id"`
	UserID        string            `json:"user_id"`
	Roles         string            `json:"roles"`
	LastViewedAt  int64             `json:"last_viewed_at"`
	MsgCount      int64             `json:"msg_count"`
	MentionCount  int64             `json:"mention_count"`
	NotifyProps   map[string]string `json:"notify_props"`
	LastUpdateAt  int64             `json:"last_update_at"`
	SchemeGuest   bool              `json:"scheme_guest"`
	SchemeUser    bool              `json:"scheme_user"`
	SchemeAdmin   bool              `json:"scheme_admin"`
	ExplicitRoles string            `json:"explicit_roles"`
}

// mmChannelMember renders a membership. The sandbox keeps no read state:
// every member has read everything (msg_count is the channel's count,
// last_viewed_at its last post), so no channel shows as unread.
func (s *Sandbox) mmChannelMember(ch *channel, userID string) mmChannelMember {
	st := s.channelStats(ch.ID)
	return mmChannelMember{
		ChannelID: ch.ID, UserID: userID, Roles: "channel_user",
		LastViewedAt: st.lastPostAt, MsgCount: st.totalMsg,
		// model.GetDefaultChannelNotifyProps of 5.37.
		NotifyProps: map[string]string{
			"desktop": "default", "email": "default", "ignore_channel_mentions": "default",
			"mark_unread": "all", "push": "default",
		},
		LastUpdateAt: seededAt, SchemeUser: true,
	}
}
