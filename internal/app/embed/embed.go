// Package embed is the application logic of embedding (issue #19;
// docs/embed.md, "Security model"): the embed apps an admin registers, the
// app secrets and their keyed hash, the embed tokens issued to an app's
// backend or to a user signing in in a popup, their checks (known, not
// revoked, not expired, for which channels), their revocation, the
// Mattermost sessions tokens act with (sealed under a key only the token
// gives), and the sweep that ends the sessions of expired tokens.
//
// It sits between the HTTP edge (package server: the embed routes, Basic
// auth parsing, the frame headers, the route table an embed token reaches,
// the websocket relay, the console's page) and the store (registry's embed
// apps and tokens). Before it, these rules lived in server's handlers, so
// the admin API, the console and the start-up registration each reached
// the store through *Server; now they share one Service.
//
// The package imports neither net/http nor the HTTP edge (server,
// apiv4-proxy; internal/app's TestLayers). It takes what it needs as small
// interfaces (Store, Identity, Channels, Minter) and returns sentinel
// errors (ErrAppNotFound, ErrTokenExpired, ...) and *Refusal, which the
// HTTP edge maps to statuses and codes (server/errors.go's toError).
package embed

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Embed token and secret formats: a prefix that tells them apart from
// Mattermost tokens (and makes a leaked one easy to scan for), then 32
// random bytes in unpadded base64url.
const (
	TokenPrefix  = "mmte_"
	SecretPrefix = "mmts_"
	RandomChars  = 43 // base64url of 32 bytes, unpadded

	// Token lifetimes: the default and the most an app may ask for.
	DefaultTTL = 15 * time.Minute
	MaxTTL     = time.Hour
	MinTTL     = 10 * time.Second

	// DefaultTokensPerApp bounds an app's unexpired tokens: a leaked
	// secret cannot fill the store.
	DefaultTokensPerApp = 10_000

	// Bounds of an app's definition.
	MaxOrigins = 20
	MaxTargets = 200 // teams plus channels
	MaxNameLen = 80
)

// How a token was issued (registry.EmbedToken.Flow).
const (
	FlowBackend = "backend" // the app's backend vouched for the user
	FlowPopup   = "popup"   // the user signed in; the token acts with their own session
)

// Store is what embedding needs of the registry; *registry.Bolt and the
// PostgreSQL store have it.
type Store interface {
	registry.Embeds
}

// Identity is who callers are, as embedding asks: the user behind a
// session (a token's), and the teams and channels an admin names on an
// app.
type Identity interface {
	// Authenticate returns who a Mattermost session belongs to.
	Authenticate(ctx context.Context, token string) (*identity.Identity, error)
	// Team resolves a team id or URL name for the caller, or returns an
	// error wrapping ErrNotVisible when the caller sees no such team.
	Team(ctx context.Context, who *identity.Identity, idOrName string) (*identity.Team, error)
	// ChannelMembers returns a channel, or an error wrapping ErrNotVisible
	// when the caller cannot see it.
	ChannelMembers(ctx context.Context, who *identity.Identity, channelID string) (*identity.Channel, []string, error)
}

// Channels finds a channel as a session's user sees it in Mattermost: what
// a token's channels are checked against when it is issued.
type Channels interface {
	// Channel returns the channel, or an error wrapping ErrNotVisible
	// when Mattermost does not show it to the session's user.
	Channel(ctx context.Context, session, id string) (*identity.Channel, error)
}

// ErrNotVisible is what Identity and Channels answer for a team or channel
// Mattermost does not show the caller (unknown, or not theirs to see).
var ErrNotVisible = errors.New("embed: Mattermost does not show it")

// Minter makes the Mattermost sessions that backend-issued tokens act
// with: the app's backend vouches for a user, and the server needs a
// session of that user to act as them.
type Minter interface {
	// User finds a user by id, username or email (ErrUserUnknown).
	User(ctx context.Context, idOrLogin string) (*identity.User, error)
	// Mint starts a session for the user; ref ends it without the
	// session's secret ("" when ending needs the secret).
	Mint(ctx context.Context, userID string, ttl time.Duration) (session, ref string, err error)
	// End ends a session Mint made.
	End(ctx context.Context, session, ref string) error
}

// Config is what a Service is made of.
type Config struct {
	Store    Store
	Identity Identity
	Channels Channels
	// Minter makes sessions for the backend flow; nil: none possible
	// (the backend exchange answers ErrUpstreamTokenUnavailable).
	Minter Minter
	// Seed keys the hash of app secrets (the mobile signing key's seed,
	// which lives in its own file, not in the registry). Empty: a random
	// key, so secrets do not outlive the process.
	Seed []byte
	// NewID makes app ids, in Mattermost's id form (26 characters a-z,
	// 0-9); nil: random ids of that form.
	NewID func() string
	Log   *slog.Logger
}

// Service is embedding's application logic over its store. It is safe for
// concurrent use.
type Service struct {
	store    Store
	identity Identity
	channels Channels
	minter   Minter
	newID    func() string
	log      *slog.Logger
	// key makes the keyed hash of app secrets.
	key []byte
	// clock is the clock of issues and expiries (Now); tests move it
	// while relays of earlier connections still read it, hence atomic.
	clock     atomic.Pointer[func() time.Time]
	maxTokens atomic.Int64
	lastSweep atomic.Int64 // unix ns of the last Sweep
	// sweeps are the sweeps running; stop ends them (Close). closed,
	// under mu, keeps a sweep from starting once Close waits.
	mu      sync.Mutex
	closed  bool
	sweeps  sync.WaitGroup
	stop    context.Context
	stopped context.CancelFunc
}

// New returns a Service.
func New(c Config) *Service {
	e := &Service{store: c.Store, identity: c.Identity, channels: c.Channels, minter: c.Minter, newID: c.NewID, log: c.Log}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.newID == nil {
		e.newID = randomID
	}
	e.SetClock(time.Now)
	e.stop, e.stopped = context.WithCancel(context.Background())
	e.maxTokens.Store(DefaultTokensPerApp)
	if len(c.Seed) > 0 {
		sum := sha256.Sum256(append([]byte("mmtoolkit embed secret key\x00"), c.Seed...))
		e.key = sum[:]
	} else {
		e.key = make([]byte, 32)
		rand.Read(e.key)
	}
	return e
}

// Close ends a sweep in progress (its sessions are ended by a later
// one) and waits for it.
func (e *Service) Close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.stopped()
	e.sweeps.Wait()
}

// Now is the embed clock's time.
func (e *Service) Now() time.Time { return (*e.clock.Load())() }

// SetClock sets the embed clock.
func (e *Service) SetClock(now func() time.Time) { e.clock.Store(&now) }

// SetMaxTokens sets how many unexpired tokens an app may hold.
func (e *Service) SetMaxTokens(n int) { e.maxTokens.Store(int64(n)) }

// CanMint reports whether the backend flow can make sessions.
func (e *Service) CanMint() bool { return e.minter != nil }

// Sentinel errors of embedding; the HTTP edge gives each a status, a code
// and a message saying what to do.
var (
	// ErrAppNotFound: no embed app has the id an admin, a popup or a page
	// names. Deliberately not registry.ErrEmbedAppNotFound: a caller that
	// authenticates as an app gets ErrAppUnknown instead, and a token of a
	// deleted app ErrTokenRevoked.
	ErrAppNotFound = errors.New("embed: no embed app has this id")
	// ErrAppUnknown: an app's backend authenticates with an id no app has.
	ErrAppUnknown = errors.New("embed: unknown app id")
	// ErrSecretWrong: the secret is not the app's (or was rotated).
	ErrSecretWrong = errors.New("embed: wrong app secret")
	// ErrTokenInvalid: the token is malformed, unknown, or not the app's.
	ErrTokenInvalid = errors.New("embed: token unknown or malformed")
	// ErrTokenExpired: the token is past its expiry.
	ErrTokenExpired = errors.New("embed: token expired")
	// ErrTokenRevoked: revoked by itself, by its app's "revoke all", or
	// its app was deleted.
	ErrTokenRevoked = errors.New("embed: token revoked")
	// ErrTooManyTokens: the app holds the most unexpired tokens it may.
	ErrTooManyTokens = errors.New("embed: too many unexpired tokens for this app")
	// ErrUpstreamTokenUnavailable: the backend flow needs a session this
	// server cannot make (no Minter, or Mattermost refused the admin
	// token).
	ErrUpstreamTokenUnavailable = errors.New("embed: no session can be made for the user")
	// ErrUserUnknown: the backend names a user Mattermost does not have.
	ErrUserUnknown = errors.New("embed: unknown user")
)

// Reason says which rule a request broke; the HTTP edge maps each to a
// status and a code.
type Reason int

// The reasons of a Refusal.
const (
	NameInvalid       Reason = iota + 1 // an app's name is empty or too long
	OriginsInvalid                      // an app's origins: none, too many, or one malformed
	TargetsInvalid                      // an app's teams and channels: none, or too many
	TeamUnknown                         // an app names a team the admin cannot see
	ChannelUnknown                      // an app names a channel the admin cannot see
	TTLInvalid                          // a token's ttl_seconds out of bounds
	UserRequired                        // the backend exchange names no user
	ChannelsRequired                    // a teams-only app's token names no channel, or too many
	ChannelNotAllowed                   // a channel the app does not show, or the user cannot read
	ChannelsOneTeam                     // a token's channels span teams
)

// Refusal is a request embedding refuses, with what to do about it.
type Refusal struct {
	Reason  Reason
	Message string // for the client: what is wrong and what to do
}

func (r *Refusal) Error() string { return "embed: " + r.Message }

func refuse(reason Reason, format string, args ...any) *Refusal {
	return &Refusal{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// storeError turns the store's errors into this package's.
func storeError(err error) error {
	switch {
	case errors.Is(err, registry.ErrEmbedAppNotFound):
		return ErrAppNotFound
	case errors.Is(err, registry.ErrEmbedTooManyTokens):
		return ErrTooManyTokens
	}
	return err
}
