package apiv4proxy

import (
	"github.com/mmtoolkit/mmtoolkit/identity"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// UpstreamOptions configures an Upstream. Zero fields take the defaults.
type UpstreamOptions struct {
	// Timeout bounds one round of requests to Mattermost (authenticating a
	// token is three requests made at once). Default 10s.
	Timeout time.Duration
	// CacheTTL is how long an authenticated token is trusted without asking
	// Mattermost again: a revoked token keeps working for at most this long.
	// Default 30s.
	CacheTTL time.Duration
	// CacheSize bounds the identities kept (least recently used go first).
	// Default 10,000.
	CacheSize int
	// LookupTTL is how long a team looked up by name or a channel's member
	// list is reused for the same caller. Default 10s.
	LookupTTL time.Duration
	// Transport makes the requests: the one shared with the proxy and
	// PluginAdmin (NewTransport); default a transport of its own.
	Transport http.RoundTripper
}

// Defaults of UpstreamOptions.
const (
	DefaultUpstreamTimeout = 10 * time.Second
	DefaultCacheTTL        = 30 * time.Second
	DefaultCacheSize       = 10_000
	DefaultLookupTTL       = 10 * time.Second
)

// Limits of what is read from Mattermost for identity and lookups.
const (
	// maxUpstreamJSON bounds one response body: users/me of a user in
	// hundreds of teams is a few hundred KiB.
	maxUpstreamJSON = 8 << 20
	// membersPerPage is Mattermost's largest page size for channel members.
	membersPerPage = 200
	// maxMemberPages bounds ChannelMembers to 10,000 members, so that one
	// huge channel cannot keep a request busy for minutes.
	maxMemberPages = 50
)

// Upstream is identity from a real Mattermost: who a token belongs to, its
// teams and roles, teams by name, channels' members. It asks Mattermost
// with the caller's own token, so it sees exactly what the caller may see,
// and caches the answers briefly. It is safe for concurrent use.
//
// Identities handed out share their Members and Teams maps with the cache:
// callers must not modify them.
type Upstream struct {
	base    string // scheme://host/subpath, no trailing slash
	client  *http.Client
	timeout time.Duration

	// The caches are keyed by SHA-256 of the token, and the cached
	// identities carry no token, so a memory dump holds no tokens.
	identities *lru[tokenHash, *identity.Identity]
	authFlight flight[tokenHash, *identity.Identity]
	teams      *lru[lookupKey, identity.Team]
	channels   *lru[lookupKey, channelMembers]
	// channelTeams: ChannelTeam (channelteam.go).
	channelTeams channelTeams
}

type tokenHash [sha256.Size]byte

func hashToken(token string) tokenHash { return sha256.Sum256([]byte(token)) }

// String names a token in errors and logs without revealing it.
func (h tokenHash) String() string { return "sha256:" + hex.EncodeToString(h[:6]) }

type lookupKey struct {
	token   tokenHash
	subject string
}

type channelMembers struct {
	channel identity.Channel
	members []string
}

// NewUpstream returns identity backed by the Mattermost at baseURL (for
// example https://mm.example.com or https://example.com/chat).
func NewUpstream(baseURL string, opts UpstreamOptions) (*Upstream, error) {
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultUpstreamTimeout
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.LookupTTL <= 0 {
		opts.LookupTTL = DefaultLookupTTL
	}
	if opts.Transport == nil {
		opts.Transport = NewTransport(nil, 64)
	}
	return &Upstream{
		base: base.String(),
		client: &http.Client{
			Transport: opts.Transport,
			// A redirect here means a misconfigured base URL or a login
			// page; following it could send the token to another host.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout:    opts.Timeout,
		identities: newLRU[tokenHash, *identity.Identity](opts.CacheSize, opts.CacheTTL, time.Now),
		teams:      newLRU[lookupKey, identity.Team](opts.CacheSize, opts.LookupTTL, time.Now),
		channels:   newLRU[lookupKey, channelMembers](opts.CacheSize, opts.LookupTTL, time.Now),
	}, nil
}

// Authenticate returns who token belongs to, asking Mattermost for
// users/me, users/me/teams/members and users/me/teams at once, unless the
// answer is cached. Concurrent calls with the same uncached token share one
// round of requests. Errors wrap ErrInvalidToken (Mattermost answered 401),
// ErrUpstreamTimeout or ErrUpstreamUnavailable.
func (u *Upstream) Authenticate(ctx context.Context, token string) (*identity.Identity, error) {
	if token == "" {
		return nil, fmt.Errorf("apiv4proxy: authenticate: no token: %w", ErrInvalidToken)
	}
	key := hashToken(token)
	if id, ok := u.identities.get(key); ok {
		return withToken(id, token), nil
	}
	id, err := u.authFlight.do(ctx, key, func(ctx context.Context) (*identity.Identity, error) {
		id, err := u.fetchIdentity(ctx, token)
		if err == nil {
			u.identities.add(key, id)
		}
		return id, err
	})
	if err != nil {
		return nil, fmt.Errorf("apiv4proxy: authenticate token %s: %w", key, err)
	}
	return withToken(id, token), nil
}

// Forget drops token's cached identity, so that its next use asks
// Mattermost again (after a logout, for example).
func (u *Upstream) Forget(token string) { u.identities.remove(hashToken(token)) }

// withToken returns a copy of a cached identity carrying the caller's token.
func withToken(id *identity.Identity, token string) *identity.Identity {
	c := *id
	c.Token = token
	return &c
}

// mmUser, mmTeam and mmMember are the fields mmtoolkit reads of
// Mattermost's objects; Mattermost sends many more.
type mmUser struct {
	identity.User
	DeleteAt int64 `json:"delete_at"`
}

type mmTeam struct {
	identity.Team
	DeleteAt int64 `json:"delete_at"`
}

type mmMember struct {
	identity.TeamMember
	DeleteAt    int64 `json:"delete_at"`
	SchemeAdmin bool  `json:"scheme_admin"`
}

func (u *Upstream) fetchIdentity(ctx context.Context, token string) (*identity.Identity, error) {
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	var (
		me      mmUser
		members []mmMember
		teams   []mmTeam
	)
	calls := [...]struct {
		path string
		dst  any
	}{
		{"/api/v4/users/me", &me},
		{"/api/v4/users/me/teams/members", &members},
		{"/api/v4/users/me/teams", &teams},
	}
	var (
		wg   sync.WaitGroup
		errs [len(calls)]error
	)
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = u.getJSON(ctx, token, calls[i].path, calls[i].dst); errs[i] != nil {
				cancel() // one failure decides; do not wait for the others
			}
		}()
	}
	wg.Wait()
	err := worstError(errs[:])
	if errors.Is(err, ErrInvalidToken) {
		// Any of the three may have been first to say so; name none.
		return nil, fmt.Errorf("Mattermost answered 401: %w", ErrInvalidToken)
	}
	if err != nil {
		return nil, err
	}
	if me.ID == "" {
		return nil, fmt.Errorf("GET /api/v4/users/me: no user id in the answer: %w", ErrUpstreamUnavailable)
	}
	if me.DeleteAt != 0 {
		return nil, fmt.Errorf("GET /api/v4/users/me: user %s is deactivated: %w", me.Username, ErrInvalidToken)
	}
	id := &identity.Identity{User: me.User, Members: make(map[string]identity.TeamMember, len(members)), Teams: make(map[string]identity.Team, len(teams))}
	for _, m := range members {
		if m.DeleteAt != 0 || m.TeamID == "" {
			continue // left the team
		}
		// With team schemes, admin rights show as scheme_admin rather
		// than an explicit team_admin role.
		if m.SchemeAdmin && !m.TeamAdmin() {
			m.Roles = strings.TrimSpace(m.Roles + " team_admin")
		}
		id.Members[m.TeamID] = m.TeamMember
	}
	for _, t := range teams {
		if _, member := id.Members[t.ID]; member && t.DeleteAt == 0 {
			id.Teams[t.ID] = t.Team
		}
	}
	return id, nil
}

// worstError picks the error that decides a round of concurrent requests:
// a rejected token beats a timeout, which beats anything else; the
// cancellations caused by the first failure never win.
func worstError(errs []error) error {
	var timeout, other error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, ErrInvalidToken):
			return err
		case errors.Is(err, ErrUpstreamTimeout):
			timeout = err
		case errors.Is(err, context.Canceled) && other != nil:
		default:
			if other == nil || errors.Is(other, context.Canceled) {
				other = err
			}
		}
	}
	if timeout != nil {
		return timeout
	}
	return other
}

// Team finds a team by id or URL name for who: among who's teams first,
// else by asking Mattermost with who's token, which answers for teams who
// may see (open teams, every team for system admins). Errors wrap
// ErrTeamNotFound when Mattermost says 403 or 404.
func (u *Upstream) Team(ctx context.Context, who *identity.Identity, idOrName string) (*identity.Team, error) {
	name := strings.ToLower(idOrName)
	if who != nil {
		if t, ok := who.Teams[idOrName]; ok {
			return &t, nil
		}
		for _, t := range who.Teams {
			if t.Name == name {
				return &t, nil
			}
		}
	}
	var paths []string
	if isID(idOrName) {
		paths = append(paths, "/api/v4/teams/"+idOrName)
	}
	if isTeamName(name) {
		paths = append(paths, "/api/v4/teams/name/"+name)
	}
	if who == nil || who.Token == "" || len(paths) == 0 {
		return nil, fmt.Errorf("apiv4proxy: team %q: %w", idOrName, ErrTeamNotFound)
	}
	key := lookupKey{hashToken(who.Token), name}
	if t, ok := u.teams.get(key); ok {
		return &t, nil
	}
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	for _, p := range paths {
		var t mmTeam
		err := u.getJSON(ctx, who.Token, p, &t)
		if errors.Is(err, errNotVisible) {
			continue // an id-shaped name: try it as a name next
		}
		if err != nil {
			return nil, fmt.Errorf("apiv4proxy: team %q: %w", idOrName, err)
		}
		if t.ID == "" || t.DeleteAt != 0 {
			break
		}
		u.teams.add(key, t.Team)
		return &t.Team, nil
	}
	return nil, fmt.Errorf("apiv4proxy: team %q: %w", idOrName, ErrTeamNotFound)
}

// ChannelMembers returns a channel and the ids of its members (at most
// 10,000), asking Mattermost with who's token. Errors wrap
// ErrChannelNotFound when the channel does not exist or who cannot see it.
// The answer is reused for LookupTTL, so membership changes show within it.
func (u *Upstream) ChannelMembers(ctx context.Context, who *identity.Identity, channelID string) (*identity.Channel, []string, error) {
	if !isID(channelID) || who == nil || who.Token == "" {
		return nil, nil, fmt.Errorf("apiv4proxy: channel %q: %w", channelID, ErrChannelNotFound)
	}
	key := lookupKey{hashToken(who.Token), channelID}
	if cm, ok := u.channels.get(key); ok {
		return &cm.channel, slices.Clone(cm.members), nil
	}
	cm, err := u.fetchChannelMembers(ctx, who.Token, channelID)
	if errors.Is(err, errNotVisible) {
		err = ErrChannelNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("apiv4proxy: channel %s members: %w", channelID, err)
	}
	u.channels.add(key, cm)
	return &cm.channel, slices.Clone(cm.members), nil
}

func (u *Upstream) fetchChannelMembers(ctx context.Context, token, channelID string) (channelMembers, error) {
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	var cm channelMembers
	if err := u.getJSON(ctx, token, "/api/v4/channels/"+channelID, &cm.channel); err != nil {
		return cm, err
	}
	if cm.channel.ID == "" {
		return cm, fmt.Errorf("GET /api/v4/channels/%s: no channel id in the answer: %w", channelID, ErrUpstreamUnavailable)
	}
	for page := 0; page < maxMemberPages; page++ {
		var ms []struct {
			UserID string `json:"user_id"`
		}
		path := fmt.Sprintf("/api/v4/channels/%s/members?page=%d&per_page=%d", channelID, page, membersPerPage)
		if err := u.getJSON(ctx, token, path, &ms); err != nil {
			return cm, err
		}
		for _, m := range ms {
			cm.members = append(cm.members, m.UserID)
		}
		if len(ms) < membersPerPage {
			break
		}
	}
	return cm, nil
}

// errNotVisible is Mattermost's 403 or 404: the object does not exist or
// the caller may not see it, which callers answer alike.
var errNotVisible = errors.New("not found or not visible")

// getJSON GETs path from Mattermost with token and decodes a 200 answer
// into dst. Errors carry the path, never the token.
func (u *Upstream) getJSON(ctx context.Context, token, path string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.base+path, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	resp, err := u.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, roundTripError(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("GET %s: answered 401: %w", path, ErrInvalidToken)
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("GET %s: answered %d: %w", path, resp.StatusCode, errNotVisible)
	default:
		return fmt.Errorf("GET %s: answered %d: %w", path, resp.StatusCode, ErrUpstreamUnavailable)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxUpstreamJSON)).Decode(dst); err != nil {
		if e := roundTripError(err); !errors.Is(e, ErrUpstreamUnavailable) {
			return fmt.Errorf("GET %s: reading the answer: %w", path, e)
		}
		return fmt.Errorf("GET %s: the answer is not the JSON Mattermost sends (%v): %w", path, err, ErrUpstreamUnavailable)
	}
	return nil
}

// roundTripError classifies a failed exchange with Mattermost: timeouts
// (ours or the caller's deadline) are ErrUpstreamTimeout, a caller that
// went away stays context.Canceled, the rest is ErrUpstreamUnavailable.
func roundTripError(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fmt.Errorf("%v: %w", err, ErrUpstreamTimeout)
	case errors.Is(err, context.Canceled):
		return err
	}
	return fmt.Errorf("%v: %w", err, ErrUpstreamUnavailable)
}

// isID reports whether s has the shape of a Mattermost id (model.IsValidId):
// 26 characters of lowercase letters and digits. Only such strings are put
// in request paths, so no caller-controlled text can change the path.
func isID(s string) bool {
	if len(s) != 26 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// isTeamName reports whether s can be a Mattermost team URL name:
// 2-64 characters of lowercase letters, digits, '-' and '_'.
func isTeamName(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// parseBaseURL checks an upstream base URL from configuration: http or
// https, a host, no credentials, query or fragment; a trailing slash is
// dropped so that paths append cleanly to a subpath.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("apiv4proxy: upstream URL %q: %w", raw, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("apiv4proxy: upstream URL %q: the scheme must be http or https", raw)
	case u.Host == "":
		return nil, fmt.Errorf("apiv4proxy: upstream URL %q: no host", raw)
	case u.User != nil:
		return nil, fmt.Errorf("apiv4proxy: upstream URL %q: credentials do not belong in the URL", raw)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("apiv4proxy: upstream URL %q: no query or fragment allowed", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	if hasDotSegment(u.Path) {
		return nil, fmt.Errorf("apiv4proxy: upstream URL %q: no . or .. segments allowed", raw)
	}
	return u, nil
}
