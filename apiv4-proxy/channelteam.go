package apiv4proxy

import (
	"github.com/mmtoolkit/mmtoolkit/identity"

	"context"
	"errors"
	"fmt"
	"sync"
)

// channelTeams remembers the team of channels: a channel never moves to
// another team, so an answer stays true (a deleted channel's team is
// still its team). Bounded: emptied when it reaches maxChannelTeams.
type channelTeams struct {
	mu sync.Mutex
	m  map[string]string
}

const maxChannelTeams = 10_000

// ChannelTeam returns the id of the team a channel belongs to, "" for a
// direct or group message (which belong to no team), asking Mattermost
// with who's token (GET /api/v4/channels/{id}) the first time. The
// server uses it to learn which team a session looks at from the
// channel it views. Errors wrap ErrChannelNotFound when the channel does
// not exist or who cannot see it.
func (u *Upstream) ChannelTeam(ctx context.Context, who *identity.Identity, channelID string) (string, error) {
	if !isID(channelID) || who == nil || who.Token == "" {
		return "", fmt.Errorf("apiv4proxy: channel %q: %w", channelID, ErrChannelNotFound)
	}
	u.channelTeams.mu.Lock()
	tid, ok := u.channelTeams.m[channelID]
	u.channelTeams.mu.Unlock()
	if ok {
		return tid, nil
	}
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	var ch identity.Channel
	err := u.getJSON(ctx, who.Token, "/api/v4/channels/"+channelID, &ch)
	if errors.Is(err, errNotVisible) {
		err = ErrChannelNotFound
	}
	if err != nil {
		return "", fmt.Errorf("apiv4proxy: channel %s: %w", channelID, err)
	}
	if ch.ID != channelID {
		return "", fmt.Errorf("apiv4proxy: channel %s: the answer names channel %q: %w", channelID, ch.ID, ErrUpstreamUnavailable)
	}
	u.channelTeams.mu.Lock()
	if u.channelTeams.m == nil || len(u.channelTeams.m) >= maxChannelTeams {
		u.channelTeams.m = map[string]string{}
	}
	u.channelTeams.m[channelID] = ch.TeamID
	u.channelTeams.mu.Unlock()
	return ch.TeamID, nil
}
