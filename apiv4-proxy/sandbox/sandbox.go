// Package sandbox is the in-process stand-in for Mattermost that mmtoolkit
// runs when no --upstream is given: the subset of API v4 the webapp host and
// the reference plugins use, with Mattermost's paths, status codes and JSON
// field names, seeded with the demo users and teams of SPEC section 6. It is
// for development and tests; the same host code runs against a real server.
package sandbox

import (
	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"

	"context"
	"crypto/sha256"
	"crypto/subtle"
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

// SeedID returns the stable id of a seeded sandbox object, so demo users
// and teams keep their ids across data directories and in docs and tests.
func SeedID(kind, name string) string {
	sum := sha256.Sum256([]byte("mmtoolkit-sandbox:" + kind + ":" + name))
	return apiv4proxy.EncodeID(sum[:16])
}

type seedUser struct {
	username, first, last string
	systemAdmin           bool
	teams                 map[string]bool // team name -> team admin
}

// The demo users and teams of SPEC section 6.
var (
	seedTeams = []apiv4proxy.Team{
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
)

var bucketSessions = []byte("sessions")

// Sandbox is the in-process stand-in for Mattermost: seeded users and teams,
// login sessions persisted in a bbolt file so tokens survive restarts.
type Sandbox struct {
	db *bolt.DB

	users   map[string]*apiv4proxy.User // by id
	byLogin map[string]*apiv4proxy.User // by username and email
	teams   map[string]*apiv4proxy.Team // by id
	byName  map[string]*apiv4proxy.Team
	members map[string]map[string]apiv4proxy.TeamMember // user id -> team id -> member

	mu       sync.RWMutex
	sessions map[string]string // token -> user id
}

// Open opens (or creates and seeds) the sandbox at path.
func Open(path string) (*Sandbox, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("apiv4proxy: open sandbox %s: %w", path, err)
	}
	s := &Sandbox{
		db:       db,
		users:    map[string]*apiv4proxy.User{},
		byLogin:  map[string]*apiv4proxy.User{},
		teams:    map[string]*apiv4proxy.Team{},
		byName:   map[string]*apiv4proxy.Team{},
		members:  map[string]map[string]apiv4proxy.TeamMember{},
		sessions: map[string]string{},
	}
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
		u := &apiv4proxy.User{ID: SeedID("user", su.username), Username: su.username,
			Email: su.username + "@example.com", FirstName: su.first, LastName: su.last, Roles: roles}
		s.users[u.ID], s.byLogin[u.Username], s.byLogin[u.Email] = u, u, u
		s.members[u.ID] = map[string]apiv4proxy.TeamMember{}
		for name, admin := range su.teams {
			tm := apiv4proxy.TeamMember{TeamID: s.byName[name].ID, UserID: u.ID, Roles: "team_user"}
			if admin {
				tm.Roles = "team_user team_admin"
			}
			s.members[u.ID][tm.TeamID] = tm
		}
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketSessions)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			s.sessions[string(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("apiv4proxy: load sandbox sessions: %w", err)
	}
	return s, nil
}

// Close closes the sandbox's store.
func (s *Sandbox) Close() error { return s.db.Close() }

// Login checks a login id (username or email) and password and starts a
// session, returning its token.
func (s *Sandbox) Login(ctx context.Context, loginID, password string) (string, *apiv4proxy.User, error) {
	u, ok := s.byLogin[strings.ToLower(strings.TrimSpace(loginID))]
	if !ok || subtle.ConstantTimeCompare([]byte(password), []byte(Password)) != 1 {
		return "", nil, apiv4proxy.ErrBadCredentials
	}
	token := apiv4proxy.NewID()
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).Put([]byte(token), []byte(u.ID))
	})
	if err != nil {
		return "", nil, fmt.Errorf("apiv4proxy: login %s: %w", u.Username, err)
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
	s.mu.Unlock()
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketSessions).Delete([]byte(token)) })
}

// Authenticate returns who token belongs to.
func (s *Sandbox) Authenticate(ctx context.Context, token string) (*apiv4proxy.Identity, error) {
	if token == "" {
		return nil, apiv4proxy.ErrInvalidToken
	}
	s.mu.RLock()
	uid, ok := s.sessions[token]
	s.mu.RUnlock()
	if !ok {
		return nil, apiv4proxy.ErrInvalidToken
	}
	// Members is immutable seed data, so it can be shared.
	id := &apiv4proxy.Identity{User: *s.users[uid], Members: s.members[uid],
		Teams: make(map[string]apiv4proxy.Team, len(s.members[uid])), Token: token}
	for tid := range s.members[uid] {
		id.Teams[tid] = *s.teams[tid]
	}
	return id, nil
}

// Team finds a team by id or by its URL name. Sandbox teams are open, so
// every caller may look every team up.
func (s *Sandbox) Team(ctx context.Context, who *apiv4proxy.Identity, idOrName string) (*apiv4proxy.Team, error) {
	if t, ok := s.teams[idOrName]; ok {
		return t, nil
	}
	if t, ok := s.byName[strings.ToLower(idOrName)]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("%w: %q", apiv4proxy.ErrTeamNotFound, idOrName)
}

// Teams lists every team, sorted by name.
func (s *Sandbox) Teams(ctx context.Context) ([]apiv4proxy.Team, error) {
	out := make([]apiv4proxy.Team, 0, len(s.teams))
	for _, t := range s.teams {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Users lists every sandbox user, sorted by username.
func (s *Sandbox) Users() []apiv4proxy.User {
	out := make([]apiv4proxy.User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return out
}
