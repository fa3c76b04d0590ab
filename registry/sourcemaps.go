package registry

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// SourceMaps adds source maps to stored versions. A push may commit a
// version before its source maps exist (a first build leaves them for after
// the answer: bundler.Cache.BuildDeferred); the bundle already names its
// map by key, and the map joins the version when it is built. Like
// precompressed variants and bytecode it is derived from the pushed content:
// the version's package, bundles and what every manifest serves do not
// change. *Bolt implements it.
type SourceMaps interface {
	// PutSourceMap stores blob as the version's source map of kind (WebMap
	// or MobileMap), described by a (its SHA-256, size, content type and
	// Key), in one transaction. The version must exist and have the bundle
	// the map goes with (WebJS or MobileJS). A version that already has a
	// map of that kind keeps it: PutSourceMap then writes nothing and
	// returns nil.
	PutSourceMap(ctx context.Context, pluginID, version, kind string, a Artifact, blob []byte) error
}

var _ SourceMaps = (*Bolt)(nil)

// mapOf is the bundle kind each source map kind goes with.
var mapOf = map[string]string{WebMap: WebJS, MobileMap: MobileJS}

// PutSourceMap implements SourceMaps.
func (b *Bolt) PutSourceMap(ctx context.Context, pluginID, version, kind string, a Artifact, blob []byte) error {
	err := func() error {
		bundle, ok := mapOf[kind]
		switch {
		case !ok:
			return fmt.Errorf("%w: %q is not a source map kind", ErrInvalid, kind)
		case !isSHA256(a.SHA256) || a.Size != int64(len(blob)):
			return fmt.Errorf("%w: artifact %q size %d, blob has %d bytes", ErrInvalid, a.SHA256, a.Size, len(blob))
		case a.Key != "" && !isSHA256(a.Key):
			return fmt.Errorf("%w: key %q is not 64 lowercase hex digits", ErrInvalid, a.Key)
		case len(a.Encodings) > 0:
			return fmt.Errorf("%w: a new source map has no precompressed variants yet", ErrInvalid)
		case sha256Hex(blob) != a.SHA256:
			return ErrBlobMismatch
		}
		return b.update(ctx, func(tx *bolt.Tx) error {
			versions := tx.Bucket(bucketVersions).Bucket([]byte(pluginID))
			if versions == nil {
				return ErrPluginNotFound
			}
			v := new(Version)
			found, err := getJSON(versions, version, v)
			if err != nil {
				return err
			}
			if !found {
				return ErrVersionNotFound
			}
			if _, ok := v.Artifacts[bundle]; !ok {
				return fmt.Errorf("%w: the version has no %s for a %s", ErrInvalid, bundle, kind)
			}
			if _, ok := v.Artifacts[kind]; ok {
				return nil
			}
			blobs := tx.Bucket(bucketBlobs)
			if blobs.Get([]byte(a.SHA256)) == nil {
				if err := blobs.Put([]byte(a.SHA256), blob); err != nil {
					return err
				}
			}
			v.Artifacts[kind] = a
			raw, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("encode version: %w", err)
			}
			return versions.Put([]byte(version), raw)
		})
	}()
	if err != nil {
		return fmt.Errorf("registry: source map %s of %s@%s: %w", kind, pluginID, version, err)
	}
	return nil
}
