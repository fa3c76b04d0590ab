package embed

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Spec is what an admin sets on an app.
type Spec struct {
	Name     string
	Origins  []string
	Teams    []string
	Channels []string
}

// Apps lists the apps, sorted by name then id.
func (e *Service) Apps(ctx context.Context) ([]registry.EmbedApp, error) {
	return e.store.EmbedApps(ctx)
}

// App returns one app (ErrAppNotFound).
func (e *Service) App(ctx context.Context, id string) (*registry.EmbedApp, error) {
	a, err := e.store.EmbedApp(ctx, id)
	if err != nil {
		return nil, storeError(err)
	}
	return a, nil
}

// CreateApp checks spec and stores a new app with a new secret, which it
// returns (the only time it is known). who is the admin, as the audit
// entry names them.
func (e *Service) CreateApp(ctx context.Context, who *identity.Identity, spec Spec) (registry.EmbedApp, string, error) {
	a, err := e.CheckSpec(ctx, who, spec)
	if err != nil {
		return registry.EmbedApp{}, "", err
	}
	a.ID = e.newID()
	secret := NewSecret()
	a.SecretHash = e.secretHash(a.ID, secret)
	a.CreatedBy = who.User.ID
	stored, err := e.store.CreateEmbedApp(ctx, a)
	return stored, secret, err
}

// UpdateApp sets what spec says on the app (its secret and tokens stay).
func (e *Service) UpdateApp(ctx context.Context, who *identity.Identity, id string, spec Spec) (registry.EmbedApp, error) {
	checked, err := e.CheckSpec(ctx, who, spec)
	if err != nil {
		return registry.EmbedApp{}, err
	}
	a, err := e.store.UpdateEmbedApp(ctx, id, who.User.ID, func(a *registry.EmbedApp) (registry.EmbedChange, error) {
		a.Name, a.Origins, a.Teams, a.Channels = checked.Name, checked.Origins, checked.Teams, checked.Channels
		return registry.EmbedChange{Action: registry.ActionEmbedAppUpdate,
			Detail: fmt.Sprintf("origins %s; %d team(s), %d channel(s)", strings.Join(a.Origins, " "), len(a.Teams), len(a.Channels))}, nil
	})
	return a, storeError(err)
}

// DeleteApp removes the app and its tokens, and ends the sessions this
// server made for them (best effort: a failure is logged, the app is gone).
func (e *Service) DeleteApp(ctx context.Context, who *identity.Identity, id string) error {
	refs, err := e.store.DeleteEmbedApp(ctx, id, who.User.ID)
	if err != nil {
		return storeError(err)
	}
	for _, ref := range refs {
		if e.minter == nil {
			e.log.Warn("embed: a deleted app's token had a session this server can no longer end (no upstream admin token)", "app", id)
			break
		}
		if err := e.minter.End(context.WithoutCancel(ctx), "", ref); err != nil {
			e.log.Warn("embed: end a session of a deleted app's token", "app", id, "err", err)
		}
	}
	return nil
}

// RotateSecret gives the app a new secret; the old one stops working at
// once. Tokens already issued stay valid until they expire (revoke them
// too when the secret leaked).
func (e *Service) RotateSecret(ctx context.Context, who *identity.Identity, id string) (registry.EmbedApp, string, error) {
	secret := NewSecret()
	a, err := e.store.UpdateEmbedApp(ctx, id, who.User.ID, func(a *registry.EmbedApp) (registry.EmbedChange, error) {
		a.SecretHash = e.secretHash(id, secret)
		return registry.EmbedChange{Action: registry.ActionEmbedSecretRotate}, nil
	})
	if err != nil {
		return registry.EmbedApp{}, "", storeError(err)
	}
	return a, secret, nil
}

// RevokeAll revokes every token the app was issued so far.
func (e *Service) RevokeAll(ctx context.Context, who *identity.Identity, id string) (registry.EmbedApp, error) {
	a, err := e.store.UpdateEmbedApp(ctx, id, who.User.ID, func(a *registry.EmbedApp) (registry.EmbedChange, error) {
		a.TokensNotBefore = e.Now()
		return registry.EmbedChange{Action: registry.ActionEmbedRevokeAll}, nil
	})
	return a, storeError(err)
}

// CheckSpec validates what an admin sets: a name, origins in the exact
// form browsers send, teams and channels that exist and the admin can see
// (teams may be given by name; they are stored by id). It returns the app
// to store, without id or secret.
func (e *Service) CheckSpec(ctx context.Context, who *identity.Identity, spec Spec) (registry.EmbedApp, error) {
	name := strings.TrimSpace(spec.Name)
	if name == "" || len(name) > MaxNameLen {
		return registry.EmbedApp{}, refuse(NameInvalid,
			"give the app a name of 1 to %d characters, as admins will recognise it", MaxNameLen)
	}
	if len(spec.Origins) == 0 || len(spec.Origins) > MaxOrigins {
		return registry.EmbedApp{}, refuse(OriginsInvalid,
			"list 1 to %d origins that may embed the app, e.g. [\"https://app.example.com\"]", MaxOrigins)
	}
	a := registry.EmbedApp{Name: name}
	for _, o := range spec.Origins {
		n, err := NormalizeOrigin(o)
		if err != nil {
			return registry.EmbedApp{}, refuse(OriginsInvalid, "%v", err)
		}
		if !slices.Contains(a.Origins, n) {
			a.Origins = append(a.Origins, n)
		}
	}
	if len(spec.Teams)+len(spec.Channels) == 0 || len(spec.Teams)+len(spec.Channels) > MaxTargets {
		return registry.EmbedApp{}, refuse(TargetsInvalid,
			"list the teams (any of their channels) and channels the app may show: 1 to %d in all", MaxTargets)
	}
	for _, t := range spec.Teams {
		team, err := e.identity.Team(ctx, who, strings.TrimSpace(t))
		if err != nil && !errors.Is(err, ErrNotVisible) {
			return registry.EmbedApp{}, err
		}
		if err != nil {
			return registry.EmbedApp{}, refuse(TeamUnknown, "no team %q: give teams by id or URL name", t)
		}
		if !slices.Contains(a.Teams, team.ID) {
			a.Teams = append(a.Teams, team.ID)
		}
	}
	for _, c := range spec.Channels {
		c = strings.TrimSpace(c)
		if !ValidID(c) {
			return registry.EmbedApp{}, refuse(ChannelUnknown, "%q is not a channel id (26 characters a-z, 0-9)", c)
		}
		_, _, err := e.identity.ChannelMembers(ctx, who, c)
		if err != nil && !errors.Is(err, ErrNotVisible) {
			return registry.EmbedApp{}, err
		}
		if err != nil {
			return registry.EmbedApp{}, refuse(ChannelUnknown, "no channel %s that you can see: give channel ids", c)
		}
		if !slices.Contains(a.Channels, c) {
			a.Channels = append(a.Channels, c)
		}
	}
	return a, nil
}

// Register registers (or updates) the app id with the given secret: the
// example app of docs/embed.md, registered at start. Not for production
// apps, whose secrets the server makes (CreateApp). Its teams and
// channels are taken as given (no admin to check them as), its origins
// normalised; an app already registered so writes nothing (no audit entry
// at every start).
func (e *Service) Register(ctx context.Context, id, secret string, spec Spec) error {
	if !ValidID(id) || !WellFormed(secret, SecretPrefix) {
		return fmt.Errorf("embed: register %q: the id is 26 characters a-z0-9 and the secret %s followed by %d base64url characters", id, SecretPrefix, RandomChars)
	}
	const actor = "mmtoolkit"
	var origins []string
	for _, o := range spec.Origins {
		n, err := NormalizeOrigin(o)
		if err != nil {
			return fmt.Errorf("embed: register %s: %w", id, err)
		}
		origins = append(origins, n)
	}
	hash := e.secretHash(id, secret)
	_, err := e.store.UpdateEmbedApp(ctx, id, actor, func(a *registry.EmbedApp) (registry.EmbedChange, error) {
		if a.Name == spec.Name && slices.Equal(a.Origins, origins) && slices.Equal(a.Teams, spec.Teams) &&
			slices.Equal(a.Channels, spec.Channels) && hmac.Equal(a.SecretHash, hash) {
			return registry.EmbedChange{}, errUnchanged
		}
		a.Name, a.Origins, a.Teams, a.Channels, a.SecretHash = spec.Name, origins, spec.Teams, spec.Channels, hash
		return registry.EmbedChange{Detail: "registered at start"}, nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if errors.Is(err, registry.ErrEmbedAppNotFound) {
		_, err = e.store.CreateEmbedApp(ctx, registry.EmbedApp{ID: id, Name: spec.Name, Origins: origins,
			Teams: spec.Teams, Channels: spec.Channels, SecretHash: hash, CreatedBy: actor})
	}
	return err
}

var errUnchanged = errors.New("embed: app unchanged")

// AuthenticateApp checks an app's backend credentials (Basic auth's id and
// secret): ErrAppUnknown or ErrSecretWrong, at the same cost, so timing
// does not tell ids apart.
func (e *Service) AuthenticateApp(ctx context.Context, id, secret string) (*registry.EmbedApp, error) {
	var a *registry.EmbedApp
	err := registry.ErrEmbedAppNotFound
	if ValidID(id) {
		a, err = e.store.EmbedApp(ctx, id)
	}
	if errors.Is(err, registry.ErrEmbedAppNotFound) {
		// Same work as a wrong secret, so timing does not tell ids apart.
		hmac.Equal(e.secretHash(id, secret), e.secretHash("", ""))
		return nil, ErrAppUnknown
	}
	if err != nil {
		return nil, err
	}
	if !WellFormed(secret, SecretPrefix) || !hmac.Equal(e.secretHash(a.ID, secret), a.SecretHash) {
		return nil, ErrSecretWrong
	}
	return a, nil
}
