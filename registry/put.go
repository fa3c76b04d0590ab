package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/semver"
)

// PutVersion stores v, the blobs its artifacts name and an audit entry in one
// write transaction: a crash or an error at any point leaves none of it.
//
// blobs maps SHA-256 hex to bytes. Every blob passed in must hash to its key
// (ErrBlobMismatch); blobs no artifact names are not stored; an artifact blob
// neither passed in nor already stored is ErrMissingBlob, so a caller may
// leave out blobs it knows are stored. Hashing happens before the write lock
// is taken, so large bundles do not hold up other writers.
//
// The first pusher of an id owns it; others get ErrNotOwner unless they are
// system admins. Pushing an existing version again with the same
// PackageSHA256 writes nothing and returns the stored version with Created
// false, unless v carries a higher Certification: then only the stored
// version's Certification and SignerKey are raised (Certified true, audited
// as ActionCertify). Another PackageSHA256 is ErrVersionConflict. v itself is not
// modified; PutResult.Version is the record as stored (PushedBy set,
// PushedAt from the store's clock unless v carried one).
func (b *Bolt) PutVersion(ctx context.Context, v *Version, blobs map[string][]byte, by Pusher) (PutResult, error) {
	if v == nil {
		return PutResult{}, fmt.Errorf("registry: put: %w: nil version", ErrInvalid)
	}
	res, err := b.putVersion(ctx, v, blobs, by)
	if err != nil {
		return PutResult{}, fmt.Errorf("registry: put %s@%s: %w", v.PluginID, v.Version, err)
	}
	return res, nil
}

// blobRef is one blob a version names, with the size its record claims.
type blobRef struct {
	what   string // "web.js" or "web.js gzip", for error messages
	sha256 string
	size   int64 // -1 when the record does not say
}

func (b *Bolt) putVersion(ctx context.Context, v *Version, blobs map[string][]byte, by Pusher) (PutResult, error) {
	refs, err := validateVersion(v, by)
	if err != nil {
		return PutResult{}, err
	}
	for sha, data := range blobs {
		if got := sha256Hex(data); got != sha {
			return PutResult{}, fmt.Errorf("%w: keyed %s, content hashes to %s", ErrBlobMismatch, sha, got)
		}
	}

	var res PutResult
	err = b.update(ctx, func(tx *bolt.Tx) error {
		plugins := tx.Bucket(bucketPlugins)
		var p Plugin
		exists, err := getJSON(plugins, v.PluginID, &p)
		if err != nil {
			return err
		}
		if exists && p.Owner != by.UserID && !by.SystemAdmin {
			return fmt.Errorf("%w: %s is owned by %s", ErrNotOwner, v.PluginID, p.Owner)
		}

		versions, err := tx.Bucket(bucketVersions).CreateBucketIfNotExists([]byte(v.PluginID))
		if err != nil {
			return err
		}
		if raw := versions.Get([]byte(v.Version)); raw != nil {
			stored := new(Version)
			if err := json.Unmarshal(raw, stored); err != nil {
				return fmt.Errorf("decode stored version: %w", err)
			}
			if stored.PackageSHA256 != v.PackageSHA256 {
				return fmt.Errorf("%w: stored package %s, pushed %s", ErrVersionConflict, stored.PackageSHA256, v.PackageSHA256)
			}
			if v.Certification <= stored.Certification {
				res = PutResult{Created: false, Version: stored}
				return errUnchanged
			}
			// The same content, now vouched for more: raise the level. The
			// content and artifacts stay as they are (versions are immutable).
			detail := fmt.Sprintf("%s -> %s", stored.Certification, v.Certification)
			if v.SignerKey != "" {
				detail += ", key " + v.SignerKey
			}
			stored.Certification, stored.SignerKey = v.Certification, v.SignerKey
			raw, err := json.Marshal(stored)
			if err != nil {
				return fmt.Errorf("encode version: %w", err)
			}
			if err := versions.Put([]byte(v.Version), raw); err != nil {
				return err
			}
			if _, err := appendAudit(tx, AuditEntry{At: b.now(), Actor: by.UserID, Action: ActionCertify,
				PluginID: v.PluginID, Version: v.Version, Detail: detail}); err != nil {
				return err
			}
			res = PutResult{Created: false, Certified: true, Version: stored}
			return nil
		}

		stored := tx.Bucket(bucketBlobs)
		var toWrite []string
		for _, r := range refs {
			n := int64(-1)
			if data, ok := blobs[r.sha256]; ok {
				n = int64(len(data))
				if stored.Get([]byte(r.sha256)) == nil && !slices.Contains(toWrite, r.sha256) {
					toWrite = append(toWrite, r.sha256)
				}
			} else if data := stored.Get([]byte(r.sha256)); data != nil {
				n = int64(len(data))
			} else {
				return fmt.Errorf("%w: %s %s", ErrMissingBlob, r.what, r.sha256)
			}
			if r.size >= 0 && r.size != n {
				return fmt.Errorf("%w: %s size %d, blob %s has %d bytes", ErrInvalid, r.what, r.size, r.sha256, n)
			}
		}
		for _, sha := range toWrite {
			if err := stored.Put([]byte(sha), blobs[sha]); err != nil {
				return fmt.Errorf("store blob %s: %w", sha, err)
			}
		}

		now := b.now()
		rec := *v
		rec.PushedBy = by.UserID
		if rec.PushedAt.IsZero() {
			rec.PushedAt = now
		}
		raw, err := json.Marshal(&rec)
		if err != nil {
			return fmt.Errorf("encode version: %w", err)
		}
		if err := versions.Put([]byte(v.Version), raw); err != nil {
			return err
		}

		detail := ""
		if !exists {
			p = Plugin{ID: v.PluginID, Owner: by.UserID, CreatedAt: now}
		} else if p.Owner != by.UserID {
			detail = "system admin push; owner is " + p.Owner
		}
		// Versions is kept sorted, so a binary search finds the slot.
		at, _ := slices.BinarySearchFunc(p.Versions, v.Version, compareVersions)
		p.Versions = slices.Insert(p.Versions, at, v.Version)
		p.Latest = p.Versions[len(p.Versions)-1]
		if err := putJSON(plugins, p.ID, &p); err != nil {
			return err
		}
		if _, err := appendAudit(tx, AuditEntry{
			At:       now,
			Actor:    by.UserID,
			Action:   ActionPush,
			PluginID: v.PluginID,
			Version:  v.Version,
			Detail:   detail,
		}); err != nil {
			return err
		}

		// Decode what was written so the caller gets exactly what a later
		// Version call returns, sharing no maps or slices with v.
		out := new(Version)
		if err := json.Unmarshal(raw, out); err != nil {
			return err
		}
		res = PutResult{Created: true, Version: out}
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return res, nil
	}
	if err != nil {
		return PutResult{}, err
	}
	return res, nil
}

// validateVersion checks what the store relies on (keys, hashes, semver) and
// lists the blobs v names. Manifest rules belong to pluginpkg.
func validateVersion(v *Version, by Pusher) ([]blobRef, error) {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	switch {
	case by.UserID == "":
		return nil, invalid("pusher has no user id")
	case v.PluginID == "":
		return nil, invalid("empty plugin id")
	case !validVersion(v.Version):
		return nil, invalid("version %q is not semver (MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD])", v.Version)
	case v.Manifest.ID != "" && v.Manifest.ID != v.PluginID:
		return nil, invalid("manifest id %q differs from plugin id", v.Manifest.ID)
	case v.Manifest.Version != "" && v.Manifest.Version != v.Version:
		return nil, invalid("manifest version %q differs from version", v.Manifest.Version)
	case !isSHA256(v.PackageSHA256):
		return nil, invalid("package sha256 %q is not 64 lowercase hex digits", v.PackageSHA256)
	case !v.Certification.Valid():
		return nil, invalid("certification %d is not a level", uint8(v.Certification))
	}
	var refs []blobRef
	for _, kind := range slices.Sorted(maps.Keys(v.Artifacts)) {
		a := v.Artifacts[kind]
		if kind == "" || !isSHA256(a.SHA256) {
			return nil, invalid("artifact %q: sha256 %q is not 64 lowercase hex digits", kind, a.SHA256)
		}
		if a.Key != "" && !isSHA256(a.Key) {
			return nil, invalid("artifact %q: key %q is not 64 lowercase hex digits", kind, a.Key)
		}
		refs = append(refs, blobRef{what: kind, sha256: a.SHA256, size: a.Size})
		for _, enc := range slices.Sorted(maps.Keys(a.Encodings)) {
			sha := a.Encodings[enc]
			if enc == "" || !isSHA256(sha) {
				return nil, invalid("artifact %q encoding %q: sha256 %q is not 64 lowercase hex digits", kind, enc, sha)
			}
			size, ok := a.EncodedSizes[enc]
			if !ok {
				size = -1
			}
			refs = append(refs, blobRef{what: kind + " " + enc, sha256: sha, size: size})
		}
	}
	return refs, nil
}

// validVersion accepts full semver without a "v": "1.2.0", "1.2.0-beta.1",
// "1.2.0+build". x/mod/semver also takes "1.2" as "1.2.0"; that is refused so
// that one version cannot be stored under two keys.
func validVersion(s string) bool {
	v := "v" + s
	if !semver.IsValid(v) {
		return false
	}
	base, _, _ := strings.Cut(v, "+")
	return semver.Canonical(v) == base
}

// compareVersions orders by semver precedence (1.9.0 < 1.10.0, 2.0.0-rc.1 <
// 2.0.0); build metadata does not count there, so the bytes break ties to
// keep the order total.
func compareVersions(a, b string) int {
	if c := semver.Compare("v"+a, "v"+b); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}
