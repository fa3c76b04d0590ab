package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/internal/app/notify"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serving"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// Event names, as Mattermost's webapp knows them.
const (
	eventPluginEnabled  = "plugin_enabled"
	eventPluginDisabled = "plugin_disabled"
	eventPluginUpdated  = "plugin_updated"
)

// pluginEventData is the data of plugin_enabled and plugin_updated: the
// team's manifest entry for the plugin, what the host needs to load it.
type pluginEventData struct {
	TeamID   string        `json:"team_id"`
	PluginID string        `json:"plugin_id"`
	Plugin   *slots.Plugin `json:"plugin,omitempty"`
}

// tellPluginEvent delivers what internal/app/notify decided a change
// means for a team's pages (the feed's "plugin events" subscriber).
func (s *Server) tellPluginEvent(ctx context.Context, e notify.Event) {
	if e.Kind == notify.Previews {
		// The team serves the same version, but a pin now keeps a
		// developer's preview out (or letting go of it lets it in).
		for user := range s.previews.Users(e.PluginID) {
			s.publishUserPluginEvent(ctx, user, e.TeamID, e.PluginID)
		}
		return
	}
	s.publishPluginEvent(ctx, e.TeamID, e.PluginID, string(e.Kind))
}

func (s *Server) publishPluginEvent(ctx context.Context, teamID, pluginID, event string) {
	// Developers who preview the plugin get their own entry (preview.go),
	// never the team's, which would swap their preview out.
	devs := s.previews.Users(pluginID)
	for user := range devs {
		if event == eventPluginDisabled {
			s.hub.publish(outbound{TeamID: teamID, UserIDs: map[string]bool{user: true}}, wsEvent{Event: event,
				Data: pluginEventData{TeamID: teamID, PluginID: pluginID}, Broadcast: wsBroadcast{TeamID: teamID}}, nil)
			continue
		}
		s.publishUserPluginEvent(ctx, user, teamID, pluginID)
	}
	data := pluginEventData{TeamID: teamID, PluginID: pluginID}
	if event != eventPluginDisabled {
		m, err := s.manifest(ctx, manifestKey{teamID, slots.Web})
		if err != nil {
			s.log.Error("plugin event: build manifest", "team", teamID, "err", err)
			return
		}
		for i := range m.manifest.Plugins {
			if m.manifest.Plugins[i].ID == pluginID {
				data.Plugin = &m.manifest.Plugins[i]
			}
		}
		if data.Plugin == nil {
			return // nothing to load on the web (e.g. mobile only)
		}
	}
	s.hub.publish(outbound{TeamID: teamID, Except: devs}, wsEvent{Event: event, Data: data, Broadcast: wsBroadcast{TeamID: teamID}}, nil)
}

// Limits of custom plugin events.
const (
	maxEventBytes   = 64 << 10
	eventRate       = 50  // per user per second, sustained
	eventBurst      = 100 // WebRTC ICE candidates come in bursts
	eventNameMaxLen = 64
)

var eventName = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

type publishRequest struct {
	Event     string          `json:"event"`
	ChannelID string          `json:"channel_id"`
	TeamID    string          `json:"team_id"`
	UserIDs   []string        `json:"user_ids"`
	Data      json.RawMessage `json:"data"`
	// OmitConnectionID skips the sender's own connection (from its hello).
	OmitConnectionID string `json:"omit_connection_id"`
}

// servePublishEvent is POST /api/v1/plugins/{id}/events: a plugin's client
// sends custom_<id>_<event> to the members of a channel or a team (WebRTC
// signalling for the video plugin). The sender must belong there, and the
// plugin must be enabled for that team.
func (s *Server) servePublishEvent(w http.ResponseWriter, r *http.Request) {
	who := caller(r)
	if !s.eventLimiter.allow(who.User.ID, time.Now()) {
		w.Header().Set("Retry-After", "1")
		s.writeError(w, r, errorf(http.StatusTooManyRequests, CodeRateLimited,
			"more than %d events per second: slow down and retry after a second", eventRate))
		return
	}
	var req publishRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxEventBytes))
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.writeError(w, r, errorf(http.StatusRequestEntityTooLarge, CodeEventTooLarge,
				"an event is at most %d KiB: send less data, or store it in the plugin KV store and send its key", maxEventBytes>>10))
			return
		}
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeBadRequest,
			`the body must be JSON like {"event":"offer","channel_id":"...","data":{...}}: %v`, err))
		return
	}
	if !eventName.MatchString(req.Event) {
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeBadEventName,
			"event %q: use 1-%d characters of a-z, 0-9 and _", req.Event, eventNameMaxLen))
		return
	}
	if (req.ChannelID == "") == (req.TeamID == "") {
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeBadEventTarget,
			`say where the event goes: exactly one of "channel_id" or "team_id"`))
		return
	}
	pluginID := chi.URLParam(r, "id")
	to := outbound{OmitConn: req.OmitConnectionID}
	bc := wsBroadcast{SenderID: who.User.ID}
	if req.ChannelID != "" {
		ch, members, err := s.identity.ChannelMembers(r.Context(), who, req.ChannelID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		to.UserIDs = make(map[string]bool, len(members))
		for _, u := range members {
			to.UserIDs[u] = true
		}
		if !to.UserIDs[who.User.ID] {
			s.writeError(w, r, fmt.Errorf("%w: not a member", apiv4proxy.ErrChannelNotFound))
			return
		}
		bc.ChannelID, bc.TeamID = ch.ID, ch.TeamID
		if ch.TeamID == "" {
			// A direct or group message belongs to no team: the plugin
			// must be served in a team the sender and every recipient
			// share (before, this case skipped the check entirely).
			if err := s.requireSharedTeam(r.Context(), who, members, pluginID); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
	} else {
		t, err := s.identity.Team(r.Context(), who, req.TeamID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !who.CanAccessTeam(t.ID) {
			s.writeError(w, r, errorf(http.StatusForbidden, CodeNotTeamMember,
				"you are not a member of team %s: events go only to teams you belong to", t.Name))
			return
		}
		to.TeamID, bc.TeamID = t.ID, t.ID
	}
	if len(req.UserIDs) > 0 {
		only := make(map[string]bool, len(req.UserIDs))
		for _, u := range req.UserIDs {
			if to.UserIDs == nil || to.UserIDs[u] {
				only[u] = true
			}
		}
		to.UserIDs = only
	}
	if bc.TeamID != "" {
		if _, err := s.teamVersion(r.Context(), bc.TeamID, pluginID); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	data := req.Data
	if req.Data == nil {
		data = json.RawMessage(`{}`)
	}
	// To this server's clients and, through the change log, to every
	// other replica's (changes.go); delivered counts this server's.
	n, err := s.publishPluginCustomEvent(r.Context(), to, "custom_"+pluginID+"_"+req.Event, data, bc)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]int{"delivered": n})
}

// teamMembership is what an identity provider offers when it can say which
// users belong to a team (apiv4proxy.Upstream asks Mattermost). Without it
// no recipient of a direct message can be shown to share a team with the
// sender, so plugin events to direct and group messages are refused.
type teamMembership interface {
	TeamMembers(ctx context.Context, who *identity.Identity, teamID string, userIDs []string) ([]string, error)
}

// maxDMRecipients bounds the membership lookups of one event: Mattermost's
// group messages have at most 8 members.
const maxDMRecipients = 16

// requireSharedTeam lets a plugin event into a direct or group channel
// only when some team serves the plugin (teamVersion) and the sender and
// every other member of the channel belong to it: a plugin enabled nowhere,
// or only in a team the recipient is not in, must not reach them. The
// sender's teams are tried in id order; membership answers are reused for
// lookupTTL (see membershipCache).
func (s *Server) requireSharedTeam(ctx context.Context, who *identity.Identity, members []string, pluginID string) error {
	others := make([]string, 0, len(members))
	for _, u := range members {
		if u != who.User.ID {
			others = append(others, u)
		}
	}
	sort.Strings(others)
	teams := make([]string, 0, len(who.Members))
	for tid := range who.Members {
		teams = append(teams, tid)
	}
	sort.Strings(teams)
	lookup, canLookup := s.identity.(teamMembership)
	for _, tid := range teams {
		if _, err := s.teamVersion(ctx, tid, pluginID); err != nil {
			if serving.IsNotServed(err) {
				continue
			}
			return err
		}
		if len(others) == 0 {
			return nil // a direct message to oneself
		}
		if !canLookup || len(others) > maxDMRecipients {
			break
		}
		all, err := s.memberships.allMembers(ctx, lookup, who, tid, others)
		if err != nil {
			return err
		}
		if all {
			return nil
		}
	}
	if _, err := s.store.Plugin(ctx, pluginID); err != nil {
		return err
	}
	return errorf(http.StatusNotFound, CodePluginNotEnabled,
		"plugin %s is not enabled for a team that you and everyone in this conversation share: ask a team admin of a common team to enable it", pluginID)
}

// membershipCache remembers, for lookupTTL, whether a list of users all
// belong to a team: a video call's signalling sends dozens of events into
// one direct channel within seconds, and each would otherwise ask
// Mattermost again. Bounded: it is emptied when it reaches maxEntries.
type membershipCache struct {
	mu      sync.Mutex
	entries map[string]membershipEntry
}

type membershipEntry struct {
	all     bool
	expires time.Time
}

const (
	lookupTTL            = 10 * time.Second // apiv4proxy.DefaultLookupTTL
	membershipMaxEntries = 10_000
)

func (c *membershipCache) allMembers(ctx context.Context, lookup teamMembership, who *identity.Identity, teamID string, userIDs []string) (bool, error) {
	key := who.User.ID + "\x00" + teamID + "\x00" + strings.Join(userIDs, ",")
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.all, nil
	}
	in, err := lookup.TeamMembers(ctx, who, teamID, userIDs)
	if err != nil {
		return false, err
	}
	set := make(map[string]bool, len(in))
	for _, u := range in {
		set[u] = true
	}
	all := true
	for _, u := range userIDs {
		all = all && set[u]
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= membershipMaxEntries {
		c.entries = map[string]membershipEntry{}
	}
	c.entries[key] = membershipEntry{all: all, expires: now.Add(lookupTTL)}
	c.mu.Unlock()
	return all, nil
}

// rateLimiter is a token bucket per key.
type rateLimiter struct {
	mu      sync.Mutex
	rate    float64
	burst   float64
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate, burst float64) *rateLimiter {
	return &rateLimiter{rate: rate, burst: burst, buckets: map[string]*bucket{}}
}

func (l *rateLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) > 100_000 { // bound memory: forget idle users
			for k, v := range l.buckets {
				if now.Sub(v.last) > time.Minute {
					delete(l.buckets, k)
				}
			}
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
