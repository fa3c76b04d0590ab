package sandbox

import (
	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// StartSession starts a session for a user without their password and
// returns its token and a reference to it: mmtoolkit's embed tokens
// (docs/embed.md) act with a session of their own, minted when an app's
// backend vouches for the user, as a real Mattermost mints a user access
// token for an admin. The reference ends the session (EndSession) without
// being able to act as it, as an access token's id does. It returns an
// error wrapping ErrUserNotFound for an unknown user.
func (s *Sandbox) StartSession(ctx context.Context, userID string) (token, ref string, err error) {
	u, ok := s.users[userID]
	if !ok {
		return "", "", fmt.Errorf("sandbox: start session: %w: %q", ErrUserNotFound, userID)
	}
	token = apiv4proxy.NewID()
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).Put([]byte(token), []byte(u.ID))
	})
	if err != nil {
		return "", "", fmt.Errorf("sandbox: start session for %s: %w", u.Username, err)
	}
	s.mu.Lock()
	s.sessions[token] = u.ID
	s.mu.Unlock()
	return token, sessionRef(token), nil
}

// sessionRef names a session by a hash of its token.
func sessionRef(token string) string {
	sum := sha256.Sum256([]byte("mmtoolkit-sandbox:session:" + token))
	return hex.EncodeToString(sum[:])
}

// EndSession ends the session StartSession named ref. A session that
// already ended is no error.
func (s *Sandbox) EndSession(ctx context.Context, ref string) error {
	var token string
	s.mu.RLock()
	for t := range s.sessions {
		if sessionRef(t) == ref {
			token = t
			break
		}
	}
	s.mu.RUnlock()
	if token == "" {
		return nil
	}
	return s.Logout(ctx, token)
}

// FindUser finds a user by id, username or email (ErrUserNotFound).
func (s *Sandbox) FindUser(ctx context.Context, idOrLogin string) (*identity.User, error) {
	if u, ok := s.users[idOrLogin]; ok {
		c := *u
		return &c, nil
	}
	if u, ok := s.byLogin[strings.ToLower(strings.TrimSpace(idOrLogin))]; ok {
		c := *u
		return &c, nil
	}
	return nil, fmt.Errorf("sandbox: %w: %q", ErrUserNotFound, idOrLogin)
}
