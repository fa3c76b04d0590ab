// Package sandbox is the in-process stand-in for Mattermost that mmtoolkit
// runs when no --upstream is given: the subset of API v4 the webapp host and
// the reference plugins use (login, users, teams, channels, posts and the
// websocket's posted events), with Mattermost's paths, status codes and JSON
// field names, seeded with the demo users, teams, channels and posts of SPEC
// section 6. It is for development and tests; the same host code runs
// against a real server.
//
// Open gives a *Sandbox over a bbolt file; Handler serves its API v4;
// CreatePost, PatchPost and DeletePost are the same operations for Go
// callers; ChannelMembers tells the server who hears a channel's events.
// docs/sandbox.md lists the endpoints and what differs from Mattermost.
package sandbox

import (
	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"

	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Password is every sandbox user's password. The sandbox is for
// development and tests only; it never runs in front of a real Mattermost.
const Password = "mmtoolkit"

// Sentinel errors of the post operations. Channel lookups return
// apiv4proxy.ErrChannelNotFound.
var (
	// ErrPostNotFound is returned when no post has the given id, or it was
	// deleted.
	ErrPostNotFound = errors.New("post not found")
	// ErrUserNotFound is returned when no sandbox user has the given id.
	ErrUserNotFound = errors.New("user not found")
	// ErrForbidden is returned when the user may not do this: post in a
	// channel they are not a member of, edit or delete someone else's post.
	ErrForbidden = errors.New("permission denied")
	// ErrInvalidPost is returned (wrapped in an error that carries
	// Mattermost's error id) when a post breaks Mattermost's rules: a type
	// that is neither "" nor custom_*, a message over MaxMessageRunes, a
	// root_id that is not a root post of the same channel, oversized props.
	ErrInvalidPost = errors.New("invalid post")
)

// MaxMessageRunes is Mattermost's limit on a post's message
// (model.PostMessageMaxRunesV2: 65535 bytes / 4).
const MaxMessageRunes = 65535 / 4

// maxPropsRunes is Mattermost's limit on a post's props as JSON
// (model.PostPropsMaxUserRunes).
const maxPropsRunes = 800000 - 40000

// PostInput is what a client sets on a new post: the body of Mattermost's
// POST /api/v4/posts. Type is "" or starts with "custom_"; Props is free
// JSON the post type's renderer reads. CreateAt is honoured only from Go
// callers and system admins, as Mattermost does; zero means now.
type PostInput struct {
	ChannelID     string         `json:"channel_id"`
	Message       string         `json:"message"`
	Type          string         `json:"type"`
	Props         map[string]any `json:"props"`
	RootID        string         `json:"root_id"`
	PendingPostID string         `json:"pending_post_id"`
	CreateAt      int64          `json:"create_at"`
}

// PostPatch is Mattermost's PUT /api/v4/posts/{id}/patch body: nil fields
// are left alone; Props replaces the whole props object.
type PostPatch struct {
	Message  *string         `json:"message"`
	Props    *map[string]any `json:"props"`
	IsPinned *bool           `json:"is_pinned"`
}

// Post is a Mattermost post (model.Post) with the fields Mattermost 5.37
// sends; it marshals to exactly that field set (participants and metadata
// included). ReplyCount is the number of live replies in the post's thread.
type Post struct {
	ID            string         `json:"id"`
	CreateAt      int64          `json:"create_at"`
	UpdateAt      int64          `json:"update_at"`
	EditAt        int64          `json:"edit_at"`
	DeleteAt      int64          `json:"delete_at"`
	IsPinned      bool           `json:"is_pinned"`
	UserID        string         `json:"user_id"`
	ChannelID     string         `json:"channel_id"`
	RootID        string         `json:"root_id"`
	ParentID      string         `json:"parent_id"`
	OriginalID    string         `json:"original_id"`
	Message       string         `json:"message"`
	Type          string         `json:"type"`
	Props         map[string]any `json:"props"`
	Hashtags      string         `json:"hashtags"`
	PendingPostID string         `json:"pending_post_id"`
	ReplyCount    int64          `json:"reply_count"`
	LastReplyAt   int64          `json:"last_reply_at"`
}

// SeedID returns the stable id of a seeded sandbox object, so demo users,
// teams, channels and posts keep their ids across data directories and in
// docs and tests.
func SeedID(kind, name string) string {
	sum := sha256.Sum256([]byte("mmtoolkit-sandbox:" + kind + ":" + name))
	return apiv4proxy.EncodeID(sum[:16])
}

var bucketSessions = []byte("sessions")

// Sandbox is the in-process stand-in for Mattermost. Users, teams and
// channels are seed data, fixed at Open; sessions and posts live in the
// bbolt file so tokens and conversations survive restarts.
type Sandbox struct {
	db *bolt.DB

	users   map[string]*identity.User // by id
	byLogin map[string]*identity.User // by username and email
	teams   map[string]*identity.Team // by id
	byName  map[string]*identity.Team
	members map[string]map[string]identity.TeamMember // user id -> team id -> member

	channels      map[string]*channel   // by id
	channelByName map[string]*channel   // team id + "/" + name
	teamChannels  map[string][]*channel // team id -> by display name
	teamUsers     map[string][]string   // team id -> member user ids, by username

	mu       sync.RWMutex
	sessions map[string]string // token -> user id
	// identities caches each session's Identity: built once, shared by
	// every request of the session (callers treat it as read-only).
	identities map[string]*identity.Identity

	// postMu orders post writes with the aggregates below and the events
	// they publish, so websocket clients see a channel's posts in commit
	// order.
	postMu  sync.RWMutex
	stats   map[string]*channelStats // by channel id
	replies map[string]int64         // root post id -> live replies

	hub      *hub
	presence presence
}

// Open opens (or creates and seeds) the sandbox at path. Posts are seeded
// only while the store holds none, so a restart never duplicates them.
func Open(path string) (*Sandbox, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("sandbox: open %s: %w", path, err)
	}
	s := &Sandbox{
		db:            db,
		users:         map[string]*identity.User{},
		byLogin:       map[string]*identity.User{},
		teams:         map[string]*identity.Team{},
		byName:        map[string]*identity.Team{},
		members:       map[string]map[string]identity.TeamMember{},
		channels:      map[string]*channel{},
		channelByName: map[string]*channel{},
		teamChannels:  map[string][]*channel{},
		teamUsers:     map[string][]string{},
		sessions:      map[string]string{},
		identities:    map[string]*identity.Identity{},
		stats:         map[string]*channelStats{},
		replies:       map[string]int64{},
	}
	s.seedDirectory()
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketSessions)
		if err != nil {
			return err
		}
		if err := b.ForEach(func(k, v []byte) error {
			s.sessions[string(k)] = string(v)
			return nil
		}); err != nil {
			return err
		}
		return s.seedPosts(tx)
	})
	if err == nil {
		err = s.loadPostStats()
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sandbox: load %s: %w", path, err)
	}
	s.hub = newHub()
	go s.hub.run()
	return s, nil
}

// Close stops the websocket hub, closing every connection, and then the
// store. Requests still in flight after Close fail.
func (s *Sandbox) Close() error {
	s.hub.stop()
	return s.db.Close()
}

// Login checks a login id (username or email) and password and starts a
// session, returning its token.
func (s *Sandbox) Login(ctx context.Context, loginID, password string) (string, *identity.User, error) {
	u, ok := s.byLogin[strings.ToLower(strings.TrimSpace(loginID))]
	if !ok || subtle.ConstantTimeCompare([]byte(password), []byte(Password)) != 1 {
		return "", nil, apiv4proxy.ErrBadCredentials
	}
	token := apiv4proxy.NewID()
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).Put([]byte(token), []byte(u.ID))
	})
	if err != nil {
		return "", nil, fmt.Errorf("sandbox: login %s: %w", u.Username, err)
	}
	s.mu.Lock()
	s.sessions[token] = u.ID
	s.mu.Unlock()
	return token, u, nil
}

// Logout ends the session of token.
func (s *Sandbox) Logout(ctx context.Context, token string) error {
	s.mu.Lock()
	delete(s.sessions, token)
	delete(s.identities, token)
	s.mu.Unlock()
	err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketSessions).Delete([]byte(token)) })
	if err != nil {
		return fmt.Errorf("sandbox: logout: %w", err)
	}
	return nil
}

// Authenticate returns who token belongs to.
func (s *Sandbox) Authenticate(ctx context.Context, token string) (*identity.Identity, error) {
	if token == "" {
		return nil, apiv4proxy.ErrInvalidToken
	}
	s.mu.RLock()
	id, cached := s.identities[token]
	uid, ok := s.sessions[token]
	s.mu.RUnlock()
	if cached {
		return id, nil
	}
	if !ok {
		return nil, apiv4proxy.ErrInvalidToken
	}
	// Members is immutable seed data, so it can be shared.
	id = &identity.Identity{User: *s.users[uid], Members: s.members[uid],
		Teams: make(map[string]identity.Team, len(s.members[uid])), Token: token}
	for tid := range s.members[uid] {
		id.Teams[tid] = *s.teams[tid]
	}
	s.mu.Lock()
	if _, still := s.sessions[token]; still {
		s.identities[token] = id
	}
	s.mu.Unlock()
	return id, nil
}

// Team finds a team by id or by its URL name. Sandbox teams are open, so
// every caller may look every team up.
func (s *Sandbox) Team(ctx context.Context, who *identity.Identity, idOrName string) (*identity.Team, error) {
	if t, ok := s.teams[idOrName]; ok {
		return t, nil
	}
	if t, ok := s.byName[strings.ToLower(idOrName)]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("%w: %q", apiv4proxy.ErrTeamNotFound, idOrName)
}

// Teams lists every team, sorted by name.
func (s *Sandbox) Teams(ctx context.Context) ([]identity.Team, error) {
	out := make([]identity.Team, 0, len(s.teams))
	for _, t := range s.teams {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// DemoPassword is Password: the server shows it with the demo users on the
// sandbox's login page.
func (s *Sandbox) DemoPassword() string { return Password }

// Users lists every sandbox user, sorted by username.
func (s *Sandbox) Users() []identity.User {
	out := make([]identity.User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return out
}

// ChannelMembers returns the channel and the ids of its members (sorted by
// username), for telling a channel's members about an event. It returns an
// error wrapping apiv4proxy.ErrChannelNotFound when the channel is unknown
// or who is not a member of it; system admins may see every channel.
func (s *Sandbox) ChannelMembers(ctx context.Context, who *identity.Identity, channelID string) (*identity.Channel, []string, error) {
	ch, ok := s.channels[channelID]
	if !ok || who == nil || !s.canReadChannel(who, ch) {
		return nil, nil, fmt.Errorf("sandbox: channel %q: %w", channelID, apiv4proxy.ErrChannelNotFound)
	}
	c := ch.Channel
	return &c, append([]string(nil), s.teamUsers[ch.TeamID]...), nil
}
