package registry

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Plugin returns the plugin with the given id, or ErrPluginNotFound.
func (b *Bolt) Plugin(ctx context.Context, id string) (*Plugin, error) {
	p := new(Plugin)
	err := b.view(ctx, func(tx *bolt.Tx) error {
		found, err := getJSON(tx.Bucket(bucketPlugins), id, p)
		if err == nil && !found {
			err = ErrPluginNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("registry: plugin %s: %w", id, err)
	}
	return p, nil
}

// Plugins lists every plugin sorted by id (bbolt keeps keys in byte order).
func (b *Bolt) Plugins(ctx context.Context) ([]*Plugin, error) {
	out := []*Plugin{}
	err := b.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPlugins).ForEach(func(k, v []byte) error {
			p := new(Plugin)
			if err := json.Unmarshal(v, p); err != nil {
				return fmt.Errorf("decode plugin %s: %w", k, err)
			}
			out = append(out, p)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("registry: plugins: %w", err)
	}
	return out, nil
}

// Version returns one version. An unknown plugin is ErrPluginNotFound, a
// known plugin without that version ErrVersionNotFound, so that a caller can
// tell the user which of the two is wrong.
func (b *Bolt) Version(ctx context.Context, pluginID, version string) (*Version, error) {
	v := new(Version)
	err := b.view(ctx, func(tx *bolt.Tx) error {
		versions := tx.Bucket(bucketVersions).Bucket([]byte(pluginID))
		if versions == nil {
			return ErrPluginNotFound
		}
		found, err := getJSON(versions, version, v)
		if err == nil && !found {
			err = ErrVersionNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("registry: version %s@%s: %w", pluginID, version, err)
	}
	return v, nil
}
