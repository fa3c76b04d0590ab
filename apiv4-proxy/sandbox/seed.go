package sandbox

import (
	"github.com/mmtoolkit/mmtoolkit/identity"

	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// seededAt is the create_at of every seeded object: stable, so golden
// responses stay stable. Seeded posts follow it minute by minute.
var seededAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

type seedUser struct {
	username, first, last string
	systemAdmin           bool
	teams                 map[string]bool // team name -> team admin
}

// The demo users, teams and channels of SPEC section 6.
var (
	seedTeams = []identity.Team{
		{Name: "engineering", DisplayName: "Engineering"},
		{Name: "sales", DisplayName: "Sales"},
	}
	seedUsers = []seedUser{
		{"admin", "Ada", "Admin", true, map[string]bool{"engineering": true, "sales": true}},
		{"dev", "Dev", "Eloper", false, map[string]bool{"engineering": false}},
		{"alice", "Alice", "Anders", false, map[string]bool{"engineering": true}},
		{"bob", "Bob", "Baker", false, map[string]bool{"engineering": false}},
		{"carol", "Carol", "Chen", false, map[string]bool{"sales": false}},
	}
	// Every team has Mattermost's default town-square and one more open
	// channel. The second channel was "created" by admin, as a person would.
	seedChannels = []struct{ team, name, display, purpose, creator string }{
		{"engineering", "town-square", "Town Square", "", ""},
		{"engineering", "dev-talk", "Dev Talk", "Building, pushing and reviewing mmtoolkit plugins.", "admin"},
		{"sales", "town-square", "Town Square", "", ""},
		{"sales", "deals", "Deals", "Pipeline, prospects and customer visits.", "admin"},
	}
)

// seedPost is one seeded post; at is minutes after seededAt, so the
// seeded conversation has a stable order and stable timestamps.
type seedPost struct {
	channel string // team/name
	user    string
	at      int
	typ     string
	message string
	props   func(id func(string) string) map[string]any
}

// seedPostList is the seeded conversation: a welcome in every channel and,
// in both teams, a post for each reference plugin to render (docs/sandbox.md
// documents the prop shapes the plugins read).
var seedPostList = []seedPost{
	{channel: "engineering/town-square", user: "admin", at: 0,
		message: "Welcome to the mmtoolkit sandbox! This team has four people: @admin, @dev, @alice (team admin) and @bob."},
	{channel: "engineering/town-square", user: "alice", at: 2,
		message: "Plugins for this team live in the **App Center**: open it from the app bar to see what is enabled here. Team admins switch plugins on and off in the admin console."},
	{channel: "engineering/town-square", user: "bob", at: 4, typ: "custom_map_location",
		message: "Team lunch at the Berlin office on Friday.",
		props: func(func(string) string) map[string]any {
			return map[string]any{"latitude": 52.52, "longitude": 13.405, "label": "Berlin office"}
		}},
	{channel: "engineering/dev-talk", user: "dev", at: 1,
		message: "Tip: `mmtoolkit push ./my-plugin` compiles the TSX on the server and the new version is live in a second. #plugins"},
	{channel: "engineering/dev-talk", user: "alice", at: 3, typ: "custom_video_call",
		message: "Video call ended.",
		props: func(id func(string) string) map[string]any {
			return map[string]any{
				"call_id":      SeedID("call", "engineering/dev-talk"),
				"started_by":   id("alice"),
				"started_at":   seededAt + 3*60_000,
				"participants": []any{id("alice"), id("bob"), id("dev")},
				"ended_at":     seededAt + 18*60_000,
			}
		}},
	{channel: "sales/town-square", user: "admin", at: 0,
		message: "Welcome to the mmtoolkit sandbox! Sales is @admin and @carol. The **App Center** in the app bar shows the plugins this team uses."},
	{channel: "sales/town-square", user: "carol", at: 5, typ: "custom_map_location",
		message: "Customer visit next week.",
		props: func(func(string) string) map[string]any {
			return map[string]any{"latitude": 48.8584, "longitude": 2.2945, "label": "Customer visit: Paris"}
		}},
	{channel: "sales/deals", user: "carol", at: 1,
		message: "Q3 pipeline review on Thursday. #pipeline"},
	{channel: "sales/deals", user: "carol", at: 6, typ: "custom_video_call",
		message: "Video call ended.",
		props: func(id func(string) string) map[string]any {
			return map[string]any{
				"call_id":      SeedID("call", "sales/deals"),
				"started_by":   id("carol"),
				"started_at":   seededAt + 6*60_000,
				"participants": []any{id("carol"), id("admin")},
				"ended_at":     seededAt + 31*60_000,
			}
		}},
}

// seedDirectory builds the in-memory users, teams, memberships and
// channels. They are seed data, never written: ids come from SeedID.
func (s *Sandbox) seedDirectory() {
	for i := range seedTeams {
		t := seedTeams[i]
		t.ID = SeedID("team", t.Name)
		s.teams[t.ID], s.byName[t.Name] = &t, &t
	}
	for _, su := range seedUsers {
		roles := "system_user"
		if su.systemAdmin {
			roles = "system_admin system_user"
		}
		u := &identity.User{ID: SeedID("user", su.username), Username: su.username,
			Email: su.username + "@example.com", FirstName: su.first, LastName: su.last, Roles: roles}
		s.users[u.ID], s.byLogin[u.Username], s.byLogin[u.Email] = u, u, u
		s.members[u.ID] = map[string]identity.TeamMember{}
		for name, admin := range su.teams {
			tm := identity.TeamMember{TeamID: s.byName[name].ID, UserID: u.ID, Roles: "team_user"}
			if admin {
				tm.Roles = "team_user team_admin"
			}
			s.members[u.ID][tm.TeamID] = tm
			s.teamUsers[tm.TeamID] = append(s.teamUsers[tm.TeamID], u.ID)
		}
	}
	for tid := range s.teamUsers {
		ids := s.teamUsers[tid]
		sort.Slice(ids, func(i, j int) bool { return s.users[ids[i]].Username < s.users[ids[j]].Username })
	}
	for _, sc := range seedChannels {
		t := s.byName[sc.team]
		ch := &channel{
			Channel: identity.Channel{ID: SeedID("channel", sc.team+"/"+sc.name), TeamID: t.ID,
				Name: sc.name, DisplayName: sc.display, Type: "O"},
			purpose: sc.purpose,
		}
		if sc.creator != "" {
			ch.creatorID = SeedID("user", sc.creator)
		}
		s.channels[ch.ID] = ch
		s.channelByName[t.ID+"/"+ch.Name] = ch
		s.teamChannels[t.ID] = append(s.teamChannels[t.ID], ch)
		s.stats[ch.ID] = &channelStats{}
	}
	for tid := range s.teamChannels {
		chs := s.teamChannels[tid]
		// Mattermost lists a user's channels by display name.
		sort.Slice(chs, func(i, j int) bool { return chs[i].DisplayName < chs[j].DisplayName })
	}
}

// seedPosts writes the seeded conversation, inside Open's transaction, if
// the store has no posts yet: a data directory is seeded once.
func (s *Sandbox) seedPosts(tx *bolt.Tx) error {
	posts, err := tx.CreateBucketIfNotExists(bucketPosts)
	if err != nil {
		return err
	}
	keys, err := tx.CreateBucketIfNotExists(bucketPostKeys)
	if err != nil {
		return err
	}
	if k, _ := posts.Cursor().First(); k != nil {
		return nil
	}
	userID := func(name string) string { return SeedID("user", name) }
	nth := map[string]int{} // per channel: post ids are "team/channel/N"
	for _, sp := range seedPostList {
		team, name, _ := strings.Cut(sp.channel, "/")
		p := Post{
			ID:        SeedID("post", sp.channel+"/"+strconv.Itoa(nth[sp.channel])),
			CreateAt:  seededAt + int64(sp.at)*60_000,
			UserID:    userID(sp.user),
			ChannelID: SeedID("channel", team+"/"+name),
			Message:   sp.message,
			Type:      sp.typ,
			Props:     map[string]any{},
		}
		if sp.props != nil {
			p.Props = sp.props(userID)
		}
		nth[sp.channel]++
		p.UpdateAt = p.CreateAt
		p.Hashtags = parseHashtags(p.Message)
		if err := putPost(posts, keys, &p); err != nil {
			return fmt.Errorf("seed post %s: %w", p.ID, err)
		}
	}
	return nil
}
