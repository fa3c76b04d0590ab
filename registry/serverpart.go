package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketServerParts holds what mmtoolkit wants of each plugin's server
// part on the upstream Mattermost. Layout:
//
//	serverparts  plugin id -> ServerPart JSON
//
// The bucket is created by the first SetServerPart, so files written
// before server parts existed open unchanged (same schema version). The
// server part's bytes are a version's artifact (a blob, counted like any
// other); this is only the plugin-wide choice of which version runs.
var bucketServerParts = []byte("serverparts")

// ActionServerPart is the audit action of a change to a ServerPart.
const ActionServerPart = "server_part"

// ServerPart is the plugin-wide state of a plugin's server part on the
// upstream Mattermost, which runs one server part per plugin for all
// teams. The zero value follows the latest version, enabled.
type ServerPart struct {
	PluginID string `json:"plugin_id"`
	// Pin is the version whose server part Mattermost should run; ""
	// follows the highest version that has one.
	Pin string `json:"pin,omitempty"`
	// Disabled is set by the kill switch: Mattermost keeps the server
	// part installed but not running until a system admin enables it.
	Disabled  bool      `json:"disabled,omitempty"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitempty"`
}

// ServerParts stores ServerPart records. *Bolt implements it.
type ServerParts interface {
	// ServerPart returns the plugin's record (the zero value, PluginID
	// set, when it has none).
	ServerPart(ctx context.Context, pluginID string) (ServerPart, error)
	// SetServerPart writes s (UpdatedAt set by the store) and an audit
	// entry with detail in one transaction. s.UpdatedBy is the actor and
	// must be set; a pinned version must exist. The plugin must exist.
	SetServerPart(ctx context.Context, s ServerPart, detail string) (ServerPart, error)
}

var _ ServerParts = (*Bolt)(nil)

func (b *Bolt) ServerPart(ctx context.Context, pluginID string) (ServerPart, error) {
	out := ServerPart{PluginID: pluginID}
	err := b.view(ctx, func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketServerParts)
		if bk == nil {
			return nil
		}
		_, err := getJSON(bk, pluginID, &out)
		return err
	})
	if err != nil {
		return ServerPart{}, fmt.Errorf("registry: server part %s: %w", pluginID, err)
	}
	return out, nil
}

func (b *Bolt) SetServerPart(ctx context.Context, s ServerPart, detail string) (ServerPart, error) {
	if err := checkServerPart(s); err != nil {
		return ServerPart{}, err
	}
	var out ServerPart
	err := b.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketPlugins).Get([]byte(s.PluginID)) == nil {
			return ErrPluginNotFound
		}
		if s.Pin != "" {
			versions := tx.Bucket(bucketVersions).Bucket([]byte(s.PluginID))
			if versions == nil || versions.Get([]byte(s.Pin)) == nil {
				return fmt.Errorf("pin %s: %w", s.Pin, ErrVersionNotFound)
			}
		}
		bk, err := tx.CreateBucketIfNotExists(bucketServerParts)
		if err != nil {
			return err
		}
		prev := ServerPart{PluginID: s.PluginID}
		if _, err := getJSON(bk, s.PluginID, &prev); err != nil {
			return err
		}
		next, e, changed := planServerPart(prev, s, detail, b.now)
		if !changed {
			out = prev
			return errUnchanged
		}
		if err := putJSON(bk, s.PluginID, &next); err != nil {
			return err
		}
		if _, err := appendAudit(tx, e); err != nil {
			return err
		}
		out = next
		return nil
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return ServerPart{}, fmt.Errorf("registry: set server part %s: %w", s.PluginID, err)
	}
	return out, nil
}

// checkServerPart is what both stores require of a SetServerPart: a plugin
// id and an actor.
func checkServerPart(s ServerPart) error {
	switch {
	case s.PluginID == "":
		return fmt.Errorf("registry: set server part: %w: empty plugin id", ErrInvalid)
	case s.UpdatedBy == "":
		return fmt.Errorf("registry: set server part %s: %w: no actor (UpdatedBy)", s.PluginID, ErrInvalid)
	}
	return nil
}

// planServerPart is the write SetServerPart makes over prev, for both
// stores: nothing (changed false) when the pin and the switch are as
// they were, else the record to store, stamped by now (called only then),
// and its audit entry.
func planServerPart(prev, s ServerPart, detail string, now func() time.Time) (next ServerPart, e AuditEntry, changed bool) {
	if prev.Pin == s.Pin && prev.Disabled == s.Disabled {
		return ServerPart{}, AuditEntry{}, false
	}
	next = ServerPart{PluginID: s.PluginID, Pin: s.Pin, Disabled: s.Disabled, UpdatedBy: s.UpdatedBy, UpdatedAt: now()}
	return next, AuditEntry{At: next.UpdatedAt, Actor: s.UpdatedBy, Action: ActionServerPart,
		PluginID: s.PluginID, Version: s.Pin, Detail: detail}, true
}
