package registry

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Embedding (issue #19, docs/embed.md): an admin registers an embed app
// (the origins that may frame a channel, the teams and channels it may
// show, a secret for its backend); the app's backend, or a user signing in
// in a popup, gets short-lived embed tokens scoped to channels.
//
// bucketEmbed holds both. Layout:
//
//	embed  "apps"   -> (bucket) app id -> EmbedApp JSON
//	       "tokens" -> (bucket) app id -> (bucket) expiry ms (8 bytes big-endian) + token id -> EmbedToken JSON
//	       "index"  -> (bucket) token id -> app id + "\x00" + key in the app's token bucket
//
// Token keys start with their expiry, so expired tokens are pruned from the
// front of an app's bucket and live ones counted from a seek, without
// decoding a record. The bucket is created by the first write, so files
// written before embedding existed open unchanged (same schema version).
var (
	bucketEmbed       = []byte("embed")
	bucketEmbedApps   = []byte("apps")
	bucketEmbedTokens = []byte("tokens")
	bucketEmbedIndex  = []byte("index")
)

// Sentinel errors of embedding.
var (
	// ErrEmbedAppNotFound is returned when no embed app has the given id.
	ErrEmbedAppNotFound = errors.New("embed app not found")
	// ErrEmbedAppExists is returned by CreateEmbedApp when the id is taken.
	ErrEmbedAppExists = errors.New("embed app exists")
	// ErrEmbedTokenNotFound is returned when no stored token has the given
	// id (never issued, or pruned a day after it expired).
	ErrEmbedTokenNotFound = errors.New("embed token not found")
	// ErrEmbedTooManyTokens is returned by PutEmbedToken when the app
	// already has the most unexpired tokens it may hold.
	ErrEmbedTooManyTokens = errors.New("too many unexpired embed tokens for this app")
)

// Embeds is the store of embed apps and their tokens (embedding, see
// internal/app/embed); *Bolt and *Postgres implement it.
type Embeds interface {
	EmbedApps(ctx context.Context) ([]EmbedApp, error)
	EmbedApp(ctx context.Context, id string) (*EmbedApp, error)
	CreateEmbedApp(ctx context.Context, a EmbedApp) (EmbedApp, error)
	UpdateEmbedApp(ctx context.Context, id, actor string, fn func(*EmbedApp) (EmbedChange, error)) (EmbedApp, error)
	DeleteEmbedApp(ctx context.Context, id, actor string) ([]string, error)
	EmbedSessionsToEnd(ctx context.Context, now time.Time, limit int) ([]EmbedToken, error)
	EmbedSessionEnded(ctx context.Context, id string) error
	PutEmbedToken(ctx context.Context, t EmbedToken, maxLive int) error
	EmbedToken(ctx context.Context, id string) (*EmbedToken, error)
	RevokeEmbedToken(ctx context.Context, id, actor string) (*EmbedToken, error)
}

var (
	_ Embeds = (*Bolt)(nil)
	_ Embeds = (*Postgres)(nil)
)

// Audit actions of embedding. The entry's Detail names the app
// ("app <id>"); token issues are not audited (one per user per quarter of
// an hour would drown the log), revocations are.
const (
	ActionEmbedAppCreate    = "embed_app_create"
	ActionEmbedAppUpdate    = "embed_app_update"
	ActionEmbedAppDelete    = "embed_app_delete"
	ActionEmbedSecretRotate = "embed_secret_rotate"
	ActionEmbedRevokeAll    = "embed_tokens_revoke_all"
	ActionEmbedTokenRevoke  = "embed_token_revoke"
)

// EmbedPruneAfter is how long an expired token's record is kept, so that
// it is still answered "expired" rather than "unknown" for a while.
const EmbedPruneAfter = 24 * time.Hour

// EmbedApp is a registered embedding app.
type EmbedApp struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Origins may frame the app's channels (scheme://host[:port]).
	Origins []string `json:"origins"`
	// Teams: any channel of these teams; Channels: these channels.
	Teams    []string `json:"teams"`
	Channels []string `json:"channels"`
	// SecretHash is the keyed hash of the app's secret (the server hashes;
	// the secret itself is never stored).
	SecretHash []byte `json:"secret_hash"`
	// TokensNotBefore revokes every token issued at or before it ("revoke
	// all tokens").
	TokensNotBefore time.Time `json:"tokens_not_before,omitempty"`
	CreatedBy       string    `json:"created_by"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedBy       string    `json:"updated_by"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// EmbedToken is the stored record of an embed token. The token itself is
// never stored: ID is a hash of it.
type EmbedToken struct {
	ID       string   `json:"id"`
	AppID    string   `json:"app_id"`
	UserID   string   `json:"user_id"`
	TeamID   string   `json:"team_id"`
	Channels []string `json:"channels"`
	// Flow is how it was issued: "backend" (app secret) or "popup" (the
	// user's own session).
	Flow string `json:"flow"`
	// Session is the Mattermost session the token acts with, sealed with a
	// key only the token gives (so the store alone reveals no session).
	Session []byte `json:"session"`
	// SessionRef ends the session without its secret (the id of an
	// upstream user access token), or "".
	SessionRef string    `json:"session_ref,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	RevokedAt  time.Time `json:"revoked_at,omitempty"`
	RevokedBy  string    `json:"revoked_by,omitempty"`
}

// EmbedChange is what an UpdateEmbedApp function did, for the audit log.
type EmbedChange struct {
	Action string // one of the ActionEmbed* constants
	Detail string // appended to "app <id>"
}

// EmbedApps lists the embed apps, sorted by name then id.
func (b *Bolt) EmbedApps(ctx context.Context) ([]EmbedApp, error) {
	out := []EmbedApp{}
	err := b.view(ctx, func(tx *bolt.Tx) error {
		apps := embedBucket(tx, bucketEmbedApps)
		if apps == nil {
			return nil
		}
		return apps.ForEach(func(k, v []byte) error {
			var a EmbedApp
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("decode app %s: %w", k, err)
			}
			out = append(out, a)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("registry: embed apps: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// EmbedApp returns one app (ErrEmbedAppNotFound).
func (b *Bolt) EmbedApp(ctx context.Context, id string) (*EmbedApp, error) {
	var a EmbedApp
	err := b.view(ctx, func(tx *bolt.Tx) error {
		apps := embedBucket(tx, bucketEmbedApps)
		if apps == nil {
			return ErrEmbedAppNotFound
		}
		found, err := getJSON(apps, id, &a)
		if err == nil && !found {
			err = ErrEmbedAppNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("registry: embed app %s: %w", id, err)
	}
	return &a, nil
}

// checkNewEmbedApp is what both stores require of an app to create.
func checkNewEmbedApp(a EmbedApp) error {
	switch {
	case a.ID == "":
		return fmt.Errorf("registry: create embed app: %w: empty id", ErrInvalid)
	case a.CreatedBy == "":
		return fmt.Errorf("registry: create embed app %s: %w: no actor (CreatedBy)", a.ID, ErrInvalid)
	case len(a.SecretHash) == 0:
		return fmt.Errorf("registry: create embed app %s: %w: no secret hash", a.ID, ErrInvalid)
	}
	return nil
}

// checkEmbedActor is what both stores require of a change to an app or a
// token (what, for the error): an actor for its audit entry.
func checkEmbedActor(what, actor string) error {
	if actor == "" {
		return fmt.Errorf("registry: %s: %w: no actor", what, ErrInvalid)
	}
	return nil
}

// planNewEmbedApp stamps an app to create, for both stores (created and
// updated now, by its creator), and returns its audit entry.
func planNewEmbedApp(a *EmbedApp, now time.Time) AuditEntry {
	a.CreatedAt = now
	a.UpdatedAt, a.UpdatedBy = a.CreatedAt, a.CreatedBy
	return AuditEntry{At: a.CreatedAt, Actor: a.CreatedBy, Action: ActionEmbedAppCreate,
		Detail: embedDetail(a.ID, "name "+a.Name)}
}

// planEmbedAppUpdate runs an UpdateEmbedApp's fn on the stored app a, for
// both stores, and stamps the result: its id kept (fn may not move it),
// updated by actor at now() (called only when fn succeeds). It returns the
// audit entry (ActionEmbedAppUpdate unless fn names another action), or
// fn's error.
func planEmbedAppUpdate(a *EmbedApp, id, actor string, fn func(*EmbedApp) (EmbedChange, error), now func() time.Time) (AuditEntry, error) {
	change, err := fn(a)
	if err != nil {
		return AuditEntry{}, err
	}
	a.ID = id
	a.UpdatedAt, a.UpdatedBy = now(), actor
	if change.Action == "" {
		change.Action = ActionEmbedAppUpdate
	}
	return AuditEntry{At: a.UpdatedAt, Actor: actor, Action: change.Action, Detail: embedDetail(id, change.Detail)}, nil
}

// CreateEmbedApp stores a new app with its audit entry in one transaction.
// a.ID, a.CreatedBy and a.SecretHash must be set; the store stamps the
// times (CreatedAt, UpdatedAt).
func (b *Bolt) CreateEmbedApp(ctx context.Context, a EmbedApp) (EmbedApp, error) {
	if err := checkNewEmbedApp(a); err != nil {
		return a, err
	}
	err := b.update(ctx, func(tx *bolt.Tx) error {
		apps, err := createEmbedBucket(tx, bucketEmbedApps)
		if err != nil {
			return err
		}
		if apps.Get([]byte(a.ID)) != nil {
			return ErrEmbedAppExists
		}
		e := planNewEmbedApp(&a, b.now())
		if err := putJSON(apps, a.ID, &a); err != nil {
			return err
		}
		_, err = appendAudit(tx, e)
		return err
	})
	if err != nil {
		return EmbedApp{}, fmt.Errorf("registry: create embed app %s: %w", a.ID, err)
	}
	return a, nil
}

// UpdateEmbedApp changes an app in one transaction with its audit entry:
// fn gets the stored app to change in place and says what it did. An
// error from fn writes nothing and is returned as is (wrapped).
// UpdatedAt and UpdatedBy are set by the store; for "revoke all", fn sets
// TokensNotBefore by the clock tokens are issued with.
func (b *Bolt) UpdateEmbedApp(ctx context.Context, id, actor string, fn func(*EmbedApp) (EmbedChange, error)) (EmbedApp, error) {
	if err := checkEmbedActor("update embed app "+id, actor); err != nil {
		return EmbedApp{}, err
	}
	var out EmbedApp
	err := b.update(ctx, func(tx *bolt.Tx) error {
		apps := embedBucket(tx, bucketEmbedApps)
		if apps == nil {
			return ErrEmbedAppNotFound
		}
		var a EmbedApp
		found, err := getJSON(apps, id, &a)
		if err != nil {
			return err
		}
		if !found {
			return ErrEmbedAppNotFound
		}
		e, err := planEmbedAppUpdate(&a, id, actor, fn, b.now)
		if err != nil {
			return err
		}
		if err := putJSON(apps, id, &a); err != nil {
			return err
		}
		out = a
		_, err = appendAudit(tx, e)
		return err
	})
	if err != nil {
		return EmbedApp{}, fmt.Errorf("registry: update embed app %s: %w", id, err)
	}
	return out, nil
}

// DeleteEmbedApp removes an app and every token it was issued, with the
// audit entry, in one transaction. It returns the SessionRef of the deleted
// tokens that had one, for the caller to end those sessions.
func (b *Bolt) DeleteEmbedApp(ctx context.Context, id, actor string) ([]string, error) {
	if err := checkEmbedActor("delete embed app "+id, actor); err != nil {
		return nil, err
	}
	var refs []string
	err := b.update(ctx, func(tx *bolt.Tx) error {
		apps := embedBucket(tx, bucketEmbedApps)
		if apps == nil || apps.Get([]byte(id)) == nil {
			return ErrEmbedAppNotFound
		}
		if err := apps.Delete([]byte(id)); err != nil {
			return err
		}
		if tokens := embedBucket(tx, bucketEmbedTokens); tokens != nil && tokens.Bucket([]byte(id)) != nil {
			index := embedBucket(tx, bucketEmbedIndex)
			if err := tokens.Bucket([]byte(id)).ForEach(func(k, v []byte) error {
				var t EmbedToken
				if json.Unmarshal(v, &t) == nil && t.SessionRef != "" {
					refs = append(refs, t.SessionRef)
				}
				return index.Delete(k[8:])
			}); err != nil {
				return err
			}
			if err := tokens.DeleteBucket([]byte(id)); err != nil {
				return err
			}
		}
		_, err := appendAudit(tx, AuditEntry{At: b.now(), Actor: actor, Action: ActionEmbedAppDelete, Detail: embedDetail(id, "")})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("registry: delete embed app %s: %w", id, err)
	}
	return refs, nil
}

// EmbedSessionsToEnd returns up to limit tokens expired at now whose
// session the server made and has not ended yet (SessionRef set): a
// Mattermost user access token lives until it is revoked, so the server
// ends each one once its embed token is over.
func (b *Bolt) EmbedSessionsToEnd(ctx context.Context, now time.Time, limit int) ([]EmbedToken, error) {
	var out []EmbedToken
	end := embedExpiryKey(now)
	err := b.view(ctx, func(tx *bolt.Tx) error {
		tokens := embedBucket(tx, bucketEmbedTokens)
		if tokens == nil {
			return nil
		}
		return tokens.ForEachBucket(func(app []byte) error {
			c := tokens.Bucket(app).Cursor()
			for k, v := c.First(); k != nil && bytes.Compare(k[:8], end) <= 0 && len(out) < limit; k, v = c.Next() {
				if !bytes.Contains(v, []byte(`"session_ref"`)) {
					continue // cannot have one: skip decoding it
				}
				var t EmbedToken
				if err := json.Unmarshal(v, &t); err != nil {
					return fmt.Errorf("decode token of app %s: %w", app, err)
				}
				if t.SessionRef != "" {
					out = append(out, t)
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("registry: embed sessions to end: %w", err)
	}
	return out, nil
}

// EmbedSessionEnded clears a token's SessionRef once its session ended. A
// token no longer stored is no error.
func (b *Bolt) EmbedSessionEnded(ctx context.Context, id string) error {
	err := b.update(ctx, func(tx *bolt.Tx) error {
		bk, raw := embedTokenRecord(tx, id)
		if raw == nil {
			return errUnchanged
		}
		var t EmbedToken
		if err := json.Unmarshal(raw, &t); err != nil {
			return err
		}
		if t.SessionRef == "" {
			return errUnchanged
		}
		t.SessionRef = ""
		raw, err := json.Marshal(&t)
		if err != nil {
			return err
		}
		return bk.Put(append(embedExpiryKey(t.ExpiresAt), t.ID...), raw)
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return fmt.Errorf("registry: embed session ended: %w", err)
	}
	return nil
}

// PutEmbedToken stores a new token of an existing app. In the same
// transaction it prunes the app's tokens expired more than EmbedPruneAfter
// before t.CreatedAt, and refuses with ErrEmbedTooManyTokens when the app
// already holds maxLive tokens unexpired at t.CreatedAt (revoked ones
// count until they expire). maxLive <= 0 means no bound.
func (b *Bolt) PutEmbedToken(ctx context.Context, t EmbedToken, maxLive int) error {
	if err := checkEmbedToken(t); err != nil {
		return err
	}
	err := b.update(ctx, func(tx *bolt.Tx) error {
		if apps := embedBucket(tx, bucketEmbedApps); apps == nil || apps.Get([]byte(t.AppID)) == nil {
			return ErrEmbedAppNotFound
		}
		tokens, err := createEmbedBucket(tx, bucketEmbedTokens)
		if err != nil {
			return err
		}
		index, err := createEmbedBucket(tx, bucketEmbedIndex)
		if err != nil {
			return err
		}
		if index.Get([]byte(t.ID)) != nil {
			return fmt.Errorf("%w: token id exists", ErrInvalid)
		}
		app, err := tokens.CreateBucketIfNotExists([]byte(t.AppID))
		if err != nil {
			return err
		}
		// Prune from the front: keys are ordered by expiry.
		pruneBefore := embedExpiryKey(t.CreatedAt.Add(-EmbedPruneAfter))
		c := app.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:8], pruneBefore) < 0; k, _ = c.First() {
			if err := index.Delete(k[8:]); err != nil {
				return err
			}
			if err := c.Delete(); err != nil {
				return err
			}
		}
		if maxLive > 0 {
			live := 0
			for k, _ := c.Seek(embedExpiryKey(t.CreatedAt)); k != nil; k, _ = c.Next() {
				if live++; live >= maxLive {
					return ErrEmbedTooManyTokens
				}
			}
		}
		key := append(embedExpiryKey(t.ExpiresAt), t.ID...)
		raw, err := json.Marshal(&t)
		if err != nil {
			return err
		}
		if err := app.Put(key, raw); err != nil {
			return err
		}
		return index.Put([]byte(t.ID), append([]byte(t.AppID+"\x00"), key...))
	})
	if err != nil {
		return fmt.Errorf("registry: put embed token of app %s: %w", t.AppID, err)
	}
	return nil
}

// checkEmbedToken is what both stores require of a token to store: an id
// of 1 to 128 bytes, an app, a user, a creation time and a later expiry.
func checkEmbedToken(t EmbedToken) error {
	switch {
	case len(t.ID) == 0 || len(t.ID) > 128:
		return fmt.Errorf("registry: put embed token: %w: id of %d bytes", ErrInvalid, len(t.ID))
	case t.AppID == "" || t.UserID == "" || t.CreatedAt.IsZero() || !t.ExpiresAt.After(t.CreatedAt):
		return fmt.Errorf("registry: put embed token: %w: app, user, creation and a later expiry are required", ErrInvalid)
	}
	return nil
}

// planEmbedRevoke marks the stored token t revoked by actor at now(), for
// both stores, and returns its audit entry; revoked false (nothing to
// write, now not called) when it already was.
func planEmbedRevoke(t *EmbedToken, actor string, now func() time.Time) (e AuditEntry, revoked bool) {
	if !t.RevokedAt.IsZero() {
		return AuditEntry{}, false
	}
	t.RevokedAt, t.RevokedBy = now(), actor
	return AuditEntry{At: t.RevokedAt, Actor: actor, Action: ActionEmbedTokenRevoke,
		Detail: embedDetail(t.AppID, "user "+t.UserID+", token "+shortID(t.ID))}, true
}

// EmbedToken returns a token's record by its id (ErrEmbedTokenNotFound).
func (b *Bolt) EmbedToken(ctx context.Context, id string) (*EmbedToken, error) {
	var t EmbedToken
	err := b.view(ctx, func(tx *bolt.Tx) error {
		_, raw := embedTokenRecord(tx, id)
		if raw == nil {
			return ErrEmbedTokenNotFound
		}
		return json.Unmarshal(raw, &t)
	})
	if err != nil {
		return nil, fmt.Errorf("registry: embed token: %w", err)
	}
	return &t, nil
}

// RevokeEmbedToken marks a token revoked, with its audit entry, and returns
// the record. Revoking a revoked token changes nothing and writes no entry.
func (b *Bolt) RevokeEmbedToken(ctx context.Context, id, actor string) (*EmbedToken, error) {
	if err := checkEmbedActor("revoke embed token", actor); err != nil {
		return nil, err
	}
	var t EmbedToken
	err := b.update(ctx, func(tx *bolt.Tx) error {
		bk, raw := embedTokenRecord(tx, id)
		if raw == nil {
			return ErrEmbedTokenNotFound
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return err
		}
		e, revoked := planEmbedRevoke(&t, actor, b.now)
		if !revoked {
			return errUnchanged
		}
		raw, err := json.Marshal(&t)
		if err != nil {
			return err
		}
		if err := bk.Put(append(embedExpiryKey(t.ExpiresAt), t.ID...), raw); err != nil {
			return err
		}
		_, err = appendAudit(tx, e)
		return err
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return nil, fmt.Errorf("registry: revoke embed token: %w", err)
	}
	return &t, nil
}

// embedTokenRecord finds a token's bucket and record through the index.
func embedTokenRecord(tx *bolt.Tx, id string) (*bolt.Bucket, []byte) {
	index, tokens := embedBucket(tx, bucketEmbedIndex), embedBucket(tx, bucketEmbedTokens)
	if index == nil || tokens == nil {
		return nil, nil
	}
	ref := index.Get([]byte(id))
	appID, key, ok := bytes.Cut(ref, []byte{0})
	if !ok {
		return nil, nil
	}
	bk := tokens.Bucket(appID)
	if bk == nil {
		return nil, nil
	}
	return bk, bk.Get(key)
}

func embedExpiryKey(t time.Time) []byte {
	ms := t.UnixMilli()
	if ms < 0 {
		ms = 0
	}
	return binary.BigEndian.AppendUint64(nil, uint64(ms))
}

func embedBucket(tx *bolt.Tx, name []byte) *bolt.Bucket {
	root := tx.Bucket(bucketEmbed)
	if root == nil {
		return nil
	}
	return root.Bucket(name)
}

func createEmbedBucket(tx *bolt.Tx, name []byte) (*bolt.Bucket, error) {
	root, err := tx.CreateBucketIfNotExists(bucketEmbed)
	if err != nil {
		return nil, err
	}
	return root.CreateBucketIfNotExists(name)
}

func embedDetail(appID, rest string) string {
	if rest == "" {
		return "app " + appID
	}
	return "app " + appID + ": " + rest
}

// shortID names a token in the audit log by a prefix of its id (a hash),
// enough to tell tokens apart, useless to present.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
