package apiv4proxy

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SandboxPassword is every sandbox user's password. The sandbox is for
// development and tests only; it never runs in front of a real Mattermost.
const SandboxPassword = "mmtoolkit"

// mmEncoding is Mattermost's id alphabet (model.NewId): 26 lowercase chars.
var mmEncoding = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

// NewID returns a random 26-character Mattermost-style id.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return mmEncoding.EncodeToString(b[:])
}

// SeedID returns the stable id of a seeded sandbox object, so demo users
// and teams keep their ids across data directories and in docs and tests.
func SeedID(kind, name string) string {
	sum := sha256.Sum256([]byte("mmtoolkit-sandbox:" + kind + ":" + name))
	return mmEncoding.EncodeToString(sum[:16])
}

type seedUser struct {
	username, first, last string
	systemAdmin           bool
	teams                 map[string]bool // team name -> team admin
}

// The demo users and teams of SPEC section 6.
var (
	seedTeams = []Team{
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

	users   map[string]*User // by id
	byLogin map[string]*User // by username and email
	teams   map[string]*Team // by id
	byName  map[string]*Team
	members map[string]map[string]TeamMember // user id -> team id -> member

	mu       sync.RWMutex
	sessions map[string]string // token -> user id
}

// OpenSandbox opens (or creates and seeds) the sandbox at path.
func OpenSandbox(path string) (*Sandbox, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("apiv4proxy: open sandbox %s: %w", path, err)
	}
	s := &Sandbox{
		db:       db,
		users:    map[string]*User{},
		byLogin:  map[string]*User{},
		teams:    map[string]*Team{},
		byName:   map[string]*Team{},
		members:  map[string]map[string]TeamMember{},
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
		u := &User{ID: SeedID("user", su.username), Username: su.username,
			Email: su.username + "@example.com", FirstName: su.first, LastName: su.last, Roles: roles}
		s.users[u.ID], s.byLogin[u.Username], s.byLogin[u.Email] = u, u, u
		s.members[u.ID] = map[string]TeamMember{}
		for name, admin := range su.teams {
			tm := TeamMember{TeamID: s.byName[name].ID, UserID: u.ID, Roles: "team_user"}
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
func (s *Sandbox) Login(ctx context.Context, loginID, password string) (string, *User, error) {
	u, ok := s.byLogin[strings.ToLower(strings.TrimSpace(loginID))]
	if !ok || subtle.ConstantTimeCompare([]byte(password), []byte(SandboxPassword)) != 1 {
		return "", nil, ErrBadCredentials
	}
	token := NewID()
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
func (s *Sandbox) Authenticate(ctx context.Context, token string) (*Identity, error) {
	if token == "" {
		return nil, ErrInvalidToken
	}
	s.mu.RLock()
	uid, ok := s.sessions[token]
	s.mu.RUnlock()
	if !ok {
		return nil, ErrInvalidToken
	}
	// The identity is built from immutable seed data, so it can be shared.
	return &Identity{User: *s.users[uid], Members: s.members[uid]}, nil
}

// Team finds a team by id or by its URL name.
func (s *Sandbox) Team(ctx context.Context, idOrName string) (*Team, error) {
	if t, ok := s.teams[idOrName]; ok {
		return t, nil
	}
	if t, ok := s.byName[strings.ToLower(idOrName)]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrTeamNotFound, idOrName)
}

// Teams lists every team, sorted by name.
func (s *Sandbox) Teams(ctx context.Context) ([]Team, error) {
	out := make([]Team, 0, len(s.teams))
	for _, t := range s.teams {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Users lists every sandbox user, sorted by username.
func (s *Sandbox) Users() []User {
	out := make([]User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return out
}
