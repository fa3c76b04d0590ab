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
	// PutSourceMap stores blob as the source map of the version's bundle
	// of kind bundle (WebJS or MobileJS; the map is stored as
	// SourceMapOf[bundle]), described by a (its SHA-256, size, content type
	// and Key), in one transaction. The version must exist and have that
	// bundle. A version that already has its map keeps it: PutSourceMap then
	// writes nothing and returns nil.
	PutSourceMap(ctx context.Context, pluginID, version, bundle string, a Artifact, blob []byte) error
}

var _ SourceMaps = (*Bolt)(nil)

// PutSourceMap implements SourceMaps.
func (b *Bolt) PutSourceMap(ctx context.Context, pluginID, version, bundle string, a Artifact, blob []byte) error {
	err := func() error {
		kind, err := checkSourceMap(bundle, a, blob)
		if err != nil {
			return err
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
			if added, err := addSourceMap(v, bundle, kind, a); err != nil {
				return err
			} else if !added {
				return nil
			}
			blobs := tx.Bucket(bucketBlobs)
			if blobs.Get([]byte(a.SHA256)) == nil {
				if err := blobs.Put([]byte(a.SHA256), blob); err != nil {
					return err
				}
			}
			raw, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("encode version: %w", err)
			}
			return versions.Put([]byte(version), raw)
		})
	}()
	if err != nil {
		return fmt.Errorf("registry: source map of %s of %s@%s: %w", bundle, pluginID, version, err)
	}
	return nil
}

// checkSourceMap is what both stores require of a PutSourceMap, before
// their transaction: a bundle kind that has a source map (returned: the
// kind the map is stored as), a key that is a SHA-256, no variants yet,
// and a blob that matches a.
func checkSourceMap(bundle string, a Artifact, blob []byte) (kind string, err error) {
	kind, ok := SourceMapOf[bundle]
	switch {
	case !ok:
		return "", fmt.Errorf("%w: a %q has no source map", ErrInvalid, bundle)
	case a.Key != "" && !isSHA256(a.Key):
		return "", fmt.Errorf("%w: key %q is not 64 lowercase hex digits", ErrInvalid, a.Key)
	case len(a.Encodings) > 0:
		return "", fmt.Errorf("%w: a new source map has no precompressed variants yet", ErrInvalid)
	}
	return kind, checkBlob(a, blob)
}

// addSourceMap adds map a as artifact kind (the map of bundle) to the
// stored version v, for both stores: ErrInvalid when v has no such
// bundle, added false (nothing to write) when v already has its map.
func addSourceMap(v *Version, bundle, kind string, a Artifact) (added bool, err error) {
	if _, ok := v.Artifacts[bundle]; !ok {
		return false, fmt.Errorf("%w: the version has no %s for a %s", ErrInvalid, bundle, kind)
	}
	if _, ok := v.Artifacts[kind]; ok {
		return false, nil
	}
	v.Artifacts[kind] = a
	return true, nil
}
