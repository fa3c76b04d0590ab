package embed

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Issued is a token just issued: the token itself (known only now), when
// it expires, whom and what it is for.
type Issued struct {
	Token     string
	ExpiresAt time.Time
	UserID    string
	TeamID    string
	Channels  []identity.Channel // in the order asked, without repeats
}

// TTL is the lifetime a request's ttl_seconds asks for: DefaultTTL for 0,
// else between MinTTL and MaxTTL (TTLInvalid).
func TTL(seconds int) (time.Duration, error) {
	if seconds == 0 {
		return DefaultTTL, nil
	}
	ttl := time.Duration(seconds) * time.Second
	if ttl < MinTTL || ttl > MaxTTL {
		return 0, refuse(TTLInvalid,
			"ttl_seconds is between %d and %d (default %d)", int(MinTTL.Seconds()), int(MaxTTL.Seconds()), int(DefaultTTL.Seconds()))
	}
	return ttl, nil
}

// IssueBackend is the backend flow: the app (authenticated by
// AuthenticateApp) vouches for user (id, username or email); a session
// of the user is made for the token (and ended again when the token
// cannot be issued). A successful issue starts a Sweep.
func (e *Service) IssueBackend(ctx context.Context, app *registry.EmbedApp, user string, channels []string, ttlSeconds int) (*Issued, error) {
	ttl, err := TTL(ttlSeconds)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(user) == "" {
		return nil, refuse(UserRequired, "say which user the token is for: \"user\" is their Mattermost user id, username or email")
	}
	if e.minter == nil {
		return nil, ErrUpstreamTokenUnavailable
	}
	u, err := e.minter.User(ctx, strings.TrimSpace(user))
	if err != nil {
		return nil, err
	}
	session, ref, err := e.minter.Mint(ctx, u.ID, ttl)
	if err != nil {
		return nil, err
	}
	out, err := e.issue(ctx, app, session, ref, FlowBackend, channels, ttl)
	if err != nil {
		e.minter.End(context.WithoutCancel(ctx), session, ref)
		return nil, err
	}
	e.Sweep()
	return out, nil
}

// IssuePopup is the popup flow: the user, signed in to this server with
// session, gets a token for the app appID that acts with that session.
func (e *Service) IssuePopup(ctx context.Context, appID, session string, channels []string, ttlSeconds int) (*Issued, error) {
	ttl, err := TTL(ttlSeconds)
	if err != nil {
		return nil, err
	}
	app, err := e.App(ctx, appID)
	if err != nil {
		return nil, err
	}
	return e.issue(ctx, app, session, "", FlowPopup, channels, ttl)
}

// issue checks the channels against the app and the user (with the
// session the token will act with), then stores the token.
func (e *Service) issue(ctx context.Context, app *registry.EmbedApp, session, ref, flow string, channels []string, ttl time.Duration) (*Issued, error) {
	who, err := e.identity.Authenticate(ctx, session)
	if err != nil {
		return nil, err
	}
	if len(channels) == 0 {
		if len(app.Channels) == 0 {
			return nil, refuse(ChannelsRequired, "this app may show whole teams: list the \"channels\" the token is for")
		}
		channels = app.Channels
	}
	if len(channels) > MaxTargets {
		return nil, refuse(ChannelsRequired, "a token is for at most %d channels", MaxTargets)
	}
	out := &Issued{UserID: who.User.ID, Channels: []identity.Channel{}}
	var ids []string
	for _, id := range channels {
		if !ValidID(id) {
			return nil, refuse(ChannelNotAllowed, "%q is not a channel id", id)
		}
		ch, err := e.channels.Channel(ctx, session, id)
		if err != nil && !errors.Is(err, ErrNotVisible) {
			return nil, err
		}
		if err != nil || !Allows(app, ch.TeamID, ch.ID) {
			return nil, refuse(ChannelNotAllowed,
				"channel %s is not one this app may show to this user: an admin lists the app's teams and channels in the admin console, and the user must be able to read the channel", id)
		}
		if out.TeamID == "" {
			out.TeamID = ch.TeamID
		} else if out.TeamID != ch.TeamID {
			return nil, refuse(ChannelsOneTeam, "a token is for the channels of one team: ask for one token per team")
		}
		if !slices.Contains(ids, ch.ID) {
			ids = append(ids, ch.ID)
			out.Channels = append(out.Channels, *ch)
		}
	}
	now := e.Now()
	token := newRandom(TokenPrefix)
	rec := registry.EmbedToken{ID: tokenID(token), AppID: app.ID, UserID: who.User.ID, TeamID: out.TeamID, Channels: ids,
		Flow: flow, Session: sealSession(token, session), SessionRef: ref, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := e.store.PutEmbedToken(ctx, rec, int(e.maxTokens.Load())); err != nil {
		return nil, storeError(err)
	}
	out.Token, out.ExpiresAt = token, rec.ExpiresAt
	return out, nil
}

// Allows reports whether the app (as it is now) may show a channel of a
// team.
func Allows(a *registry.EmbedApp, teamID, channelID string) bool {
	return slices.Contains(a.Channels, channelID) || slices.Contains(a.Teams, teamID)
}

// Grant is an embed token that was checked: the token, its record, its
// app as it is now, and the Mattermost session it acts with.
type Grant struct {
	Token   string
	Record  *registry.EmbedToken
	App     *registry.EmbedApp
	Session string
}

// Allows reports whether the token may reach a channel: it was issued for
// it and the app (as edited since) still allows it.
func (g *Grant) Allows(channelID string) bool {
	return slices.Contains(g.Record.Channels, channelID) && Allows(g.App, g.Record.TeamID, channelID)
}

// Grant checks an embed token: known (ErrTokenInvalid), not revoked by
// itself, by the app's "revoke all" or by the app's deletion
// (ErrTokenRevoked), not expired (ErrTokenExpired).
func (e *Service) Grant(ctx context.Context, token string) (*Grant, error) {
	if !WellFormed(token, TokenPrefix) {
		return nil, ErrTokenInvalid
	}
	rec, err := e.store.EmbedToken(ctx, tokenID(token))
	if errors.Is(err, registry.ErrEmbedTokenNotFound) {
		return nil, ErrTokenInvalid
	}
	if err != nil {
		return nil, err
	}
	app, err := e.store.EmbedApp(ctx, rec.AppID)
	if errors.Is(err, registry.ErrEmbedAppNotFound) {
		return nil, ErrTokenRevoked
	}
	if err != nil {
		return nil, err
	}
	if !rec.RevokedAt.IsZero() || (!app.TokensNotBefore.IsZero() && !rec.CreatedAt.After(app.TokensNotBefore)) {
		return nil, ErrTokenRevoked
	}
	if !e.Now().Before(rec.ExpiresAt) {
		return nil, ErrTokenExpired
	}
	session, err := openSession(token, rec.Session)
	if err != nil {
		return nil, ErrTokenInvalid
	}
	return &Grant{Token: token, Record: rec, App: app, Session: session}, nil
}

// RevokeToken revokes a token by its value, as its app's backend (appID:
// only the app's own tokens; ErrTokenInvalid for another's) or an admin
// (appID ""), for the audit log as actor.
func (e *Service) RevokeToken(ctx context.Context, token, appID, actor string) error {
	if !WellFormed(token, TokenPrefix) {
		return ErrTokenInvalid
	}
	rec, err := e.store.EmbedToken(ctx, tokenID(token))
	if errors.Is(err, registry.ErrEmbedTokenNotFound) || (err == nil && appID != "" && rec.AppID != appID) {
		return ErrTokenInvalid
	}
	if err != nil {
		return err
	}
	return e.revoke(ctx, token, rec, actor)
}

// Revoke revokes a checked token (the embed signing out).
func (e *Service) Revoke(ctx context.Context, g *Grant, actor string) error {
	return e.revoke(ctx, g.Token, g.Record, actor)
}

// revoke marks the token revoked and ends the session it acted with when
// this server made that session (the backend flow); a popup token's
// session is the user's own and stays.
func (e *Service) revoke(ctx context.Context, token string, rec *registry.EmbedToken, actor string) error {
	if _, err := e.store.RevokeEmbedToken(ctx, rec.ID, actor); err != nil {
		return err
	}
	if rec.Flow == FlowBackend && e.minter != nil {
		if session, err := openSession(token, rec.Session); err == nil {
			if err := e.minter.End(context.WithoutCancel(ctx), session, rec.SessionRef); err != nil {
				e.log.Warn("embed: end the session of a revoked token", "app", rec.AppID, "err", err)
			} else if rec.SessionRef != "" {
				e.store.EmbedSessionEnded(context.WithoutCancel(ctx), rec.ID)
			}
		}
	}
	return nil
}

// SweepEvery is how often, at most, Sweep looks for expired tokens whose
// session is still open.
const SweepEvery = time.Minute

// Sweep ends, in the background, the sessions this server made for tokens
// that have expired (an upstream user access token lives until it is
// revoked). It runs after issues, which are what open sessions, at most
// once per SweepEvery of the embed clock.
func (e *Service) Sweep() {
	if e.minter == nil {
		return
	}
	now := e.Now()
	last := e.lastSweep.Load()
	if now.UnixNano()-last < int64(SweepEvery) || !e.lastSweep.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	e.sweeps.Add(1)
	go func() {
		defer e.sweeps.Done()
		ctx, cancel := context.WithTimeout(e.stop, 30*time.Second)
		defer cancel()
		toks, err := e.store.EmbedSessionsToEnd(ctx, now, 200)
		if err != nil {
			e.log.Warn("embed: find sessions to end", "err", err)
			return
		}
		for _, t := range toks {
			if err := e.minter.End(ctx, "", t.SessionRef); err != nil {
				e.log.Warn("embed: end the session of an expired token", "app", t.AppID, "err", err)
				continue
			}
			if err := e.store.EmbedSessionEnded(ctx, t.ID); err != nil {
				e.log.Warn("embed: record an ended session", "app", t.AppID, "err", err)
			}
		}
	}()
}
