package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"

	bolt "go.etcd.io/bbolt"
)

// bucketSettings holds shared settings. Layout:
//
//	settings  name -> value bytes
//
// The bucket is created by the first write, so files written before
// settings existed open unchanged (same schema version).
var bucketSettings = []byte("settings")

// Shared settings: configuration every replica of one registry must agree
// on, so it lives in the store rather than in each process's flags or files.
const (
	// SettingMobileKey is the ed25519 private key that signs mobile
	// manifests (mobile.LoadOrCreateKey's file format): apps pin its public
	// key, so every replica must sign with the same one. The first replica
	// to start stores its key (InitSetting); the others use that one.
	SettingMobileKey = "mobile_signing_key"
	// SettingTrust is the package trust configuration (the keys trusted
	// per certification level and the minimum level), as the server
	// encodes it: a push must be judged the same whichever replica takes it.
	SettingTrust = "package_trust"
)

// ActionSetting records a change of a shared setting (Detail names it;
// values, which may be secret, are never logged).
const ActionSetting = "setting"

// ErrSettingNotFound is returned by Setting for a name never set.
var ErrSettingNotFound = errors.New("setting not found")

// maxSettingBytes bounds one setting: keys and small JSON documents.
const maxSettingBytes = 64 << 10

var settingName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Settings is configuration shared by every process serving one registry.
// *Bolt and *Postgres implement it.
type Settings interface {
	// Setting returns the value of name, or ErrSettingNotFound.
	Setting(ctx context.Context, name string) ([]byte, error)
	// InitSetting stores value under name unless name has a value, and
	// returns the value stored: the first caller's wins, so replicas that
	// start at once with different defaults agree on one.
	InitSetting(ctx context.Context, name string, value []byte, actor string) ([]byte, error)
	// SetSetting stores value under name, with an audit entry naming the
	// setting (not its value). Setting the value it has writes nothing.
	SetSetting(ctx context.Context, name string, value []byte, actor string) error
	// AllSettings returns every setting by name (for migrate).
	AllSettings(ctx context.Context) (map[string][]byte, error)
}

var _ Settings = (*Bolt)(nil)

func checkSetting(name string, value []byte, actor string) error {
	switch {
	case !settingName.MatchString(name):
		return fmt.Errorf("%w: setting name %q (lowercase letters, digits and _)", ErrInvalid, name)
	case len(value) > maxSettingBytes:
		return fmt.Errorf("%w: setting %s is %d bytes, at most %d", ErrInvalid, name, len(value), maxSettingBytes)
	case actor == "":
		return fmt.Errorf("%w: setting %s: no actor", ErrInvalid, name)
	}
	return nil
}

// Setting implements Settings.
func (b *Bolt) Setting(ctx context.Context, name string) ([]byte, error) {
	var out []byte
	err := b.view(ctx, func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketSettings)
		if bk == nil {
			return ErrSettingNotFound
		}
		raw := bk.Get([]byte(name))
		if raw == nil {
			return ErrSettingNotFound
		}
		out = bytes.Clone(raw)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("registry: setting %s: %w", name, err)
	}
	return out, nil
}

// InitSetting implements Settings.
func (b *Bolt) InitSetting(ctx context.Context, name string, value []byte, actor string) ([]byte, error) {
	if err := checkSetting(name, value, actor); err != nil {
		return nil, fmt.Errorf("registry: init setting: %w", err)
	}
	var out []byte
	err := b.update(ctx, func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(bucketSettings)
		if err != nil {
			return err
		}
		if raw := bk.Get([]byte(name)); raw != nil {
			out = bytes.Clone(raw)
			return errUnchanged
		}
		out = bytes.Clone(value)
		if err := bk.Put([]byte(name), out); err != nil {
			return err
		}
		_, err = appendAudit(tx, AuditEntry{At: b.now(), Actor: actor, Action: ActionSetting, Detail: "initialised " + name})
		return err
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return nil, fmt.Errorf("registry: init setting %s: %w", name, err)
	}
	return out, nil
}

// SetSetting implements Settings.
func (b *Bolt) SetSetting(ctx context.Context, name string, value []byte, actor string) error {
	if err := checkSetting(name, value, actor); err != nil {
		return fmt.Errorf("registry: set setting: %w", err)
	}
	err := b.update(ctx, func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(bucketSettings)
		if err != nil {
			return err
		}
		if raw := bk.Get([]byte(name)); raw != nil && bytes.Equal(raw, value) {
			return errUnchanged
		}
		if err := bk.Put([]byte(name), bytes.Clone(value)); err != nil {
			return err
		}
		_, err = appendAudit(tx, AuditEntry{At: b.now(), Actor: actor, Action: ActionSetting, Detail: "set " + name})
		return err
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return fmt.Errorf("registry: set setting %s: %w", name, err)
	}
	return nil
}

// AllSettings implements Settings.
func (b *Bolt) AllSettings(ctx context.Context) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := b.view(ctx, func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketSettings)
		if bk == nil {
			return nil
		}
		return bk.ForEach(func(k, v []byte) error {
			out[string(k)] = bytes.Clone(v)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("registry: settings: %w", err)
	}
	return out, nil
}
