package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

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
	refs, err := checkPut(v, blobs, by)
	if err != nil {
		return PutResult{}, err
	}

	var res PutResult
	err = b.update(ctx, func(tx *bolt.Tx) error {
		plugins := tx.Bucket(bucketPlugins)
		var p Plugin
		exists, err := getJSON(plugins, v.PluginID, &p)
		if err != nil {
			return err
		}
		if exists {
			if err := checkOwner(v.PluginID, p.Owner, by); err != nil {
				return err
			}
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
			e, certified, err := planRepush(stored, v, by, b.now)
			if err != nil {
				return err
			}
			if !certified {
				res = PutResult{Created: false, Version: stored}
				return errUnchanged
			}
			raw, err := json.Marshal(stored)
			if err != nil {
				return fmt.Errorf("encode version: %w", err)
			}
			if err := versions.Put([]byte(v.Version), raw); err != nil {
				return err
			}
			if _, err := appendAudit(tx, e); err != nil {
				return err
			}
			res = PutResult{Created: false, Certified: true, Version: stored}
			return nil
		}

		stored := tx.Bucket(bucketBlobs)
		toWrite, err := planBlobs(refs, blobs, func(sha string) (int64, bool) {
			data := stored.Get([]byte(sha))
			return int64(len(data)), data != nil
		})
		if err != nil {
			return err
		}
		for _, sha := range toWrite {
			if err := stored.Put([]byte(sha), blobs[sha]); err != nil {
				return fmt.Errorf("store blob %s: %w", sha, err)
			}
		}

		rec, e := planNewVersion(&p, exists, v, by, b.now())
		raw, err := json.Marshal(&rec)
		if err != nil {
			return fmt.Errorf("encode version: %w", err)
		}
		if err := versions.Put([]byte(v.Version), raw); err != nil {
			return err
		}
		if err := putJSON(plugins, p.ID, &p); err != nil {
			return err
		}
		if _, err := appendAudit(tx, e); err != nil {
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

// checkPut is what both stores require of a PutVersion before their
// transaction: a valid record (validateVersion, whose blob references it
// returns) and blobs that hash to their keys.
func checkPut(v *Version, blobs map[string][]byte, by Pusher) ([]blobRef, error) {
	refs, err := validateVersion(v, by)
	if err != nil {
		return nil, err
	}
	for sha, data := range blobs {
		if got := sha256Hex(data); got != sha {
			return nil, fmt.Errorf("%w: keyed %s, content hashes to %s", ErrBlobMismatch, sha, got)
		}
	}
	return refs, nil
}

// checkOwner is ErrNotOwner unless by may push to the stored plugin id
// owned by owner: its owner or a system admin.
func checkOwner(id, owner string, by Pusher) error {
	if owner != by.UserID && !by.SystemAdmin {
		return fmt.Errorf("%w: %s is owned by %s", ErrNotOwner, id, owner)
	}
	return nil
}

// planRepush decides a push of a version already stored, for both stores:
// ErrVersionConflict for other content; certified false (nothing to
// write) unless v carries a higher certification; else stored's level and
// signer are raised (the content and artifacts stay as they are: versions
// are immutable) and the ActionCertify entry, stamped by now (called only
// then), is returned.
func planRepush(stored, v *Version, by Pusher, now func() time.Time) (e AuditEntry, certified bool, err error) {
	if stored.PackageSHA256 != v.PackageSHA256 {
		return AuditEntry{}, false, fmt.Errorf("%w: stored package %s, pushed %s", ErrVersionConflict, stored.PackageSHA256, v.PackageSHA256)
	}
	if v.Certification <= stored.Certification {
		return AuditEntry{}, false, nil
	}
	detail := fmt.Sprintf("%s -> %s", stored.Certification, v.Certification)
	if v.SignerKey != "" {
		detail += ", key " + v.SignerKey
	}
	stored.Certification, stored.SignerKey = v.Certification, v.SignerKey
	return AuditEntry{At: now(), Actor: by.UserID, Action: ActionCertify,
		PluginID: v.PluginID, Version: v.Version, Detail: detail}, true, nil
}

// planBlobs checks a new version's blob references against the blobs
// passed in and those stored (storedSize: a stored blob's size, and
// whether it is stored), for both stores: ErrMissingBlob for a blob
// neither passed nor stored, ErrInvalid for a size that is not the
// blob's. It returns the blobs to write (passed in, not yet stored), each
// once, in reference order.
func planBlobs(refs []blobRef, blobs map[string][]byte, storedSize func(sha string) (int64, bool)) ([]string, error) {
	var toWrite []string
	for _, r := range refs {
		n := int64(-1)
		if data, ok := blobs[r.sha256]; ok {
			n = int64(len(data))
			if _, ok := storedSize(r.sha256); !ok && !slices.Contains(toWrite, r.sha256) {
				toWrite = append(toWrite, r.sha256)
			}
		} else if size, ok := storedSize(r.sha256); ok {
			n = size
		} else {
			return nil, fmt.Errorf("%w: %s %s", ErrMissingBlob, r.what, r.sha256)
		}
		if r.size >= 0 && r.size != n {
			return nil, fmt.Errorf("%w: %s size %d, blob %s has %d bytes", ErrInvalid, r.what, r.size, r.sha256, n)
		}
	}
	return toWrite, nil
}

// planNewVersion shapes a new version's record and its plugin's, for both
// stores: the record pushed by by, at now unless v carries its time; p
// (the stored plugin, or a new one owned by by when !existed) lists the
// version in semver order with Latest its highest. It returns the record
// and the ActionPush entry, whose detail names the owner when a system
// admin pushed to another's plugin.
func planNewVersion(p *Plugin, existed bool, v *Version, by Pusher, now time.Time) (Version, AuditEntry) {
	rec := *v
	rec.PushedBy = by.UserID
	if rec.PushedAt.IsZero() {
		rec.PushedAt = now
	}
	detail := ""
	if !existed {
		*p = Plugin{ID: v.PluginID, Owner: by.UserID, CreatedAt: now}
	} else if p.Owner != by.UserID {
		detail = "system admin push; owner is " + p.Owner
	}
	// Versions is kept sorted, so a binary search finds the slot.
	at, _ := slices.BinarySearchFunc(p.Versions, v.Version, compareVersions)
	p.Versions = slices.Insert(p.Versions, at, v.Version)
	p.Latest = p.Versions[len(p.Versions)-1]
	return rec, AuditEntry{At: now, Actor: by.UserID, Action: ActionPush, PluginID: v.PluginID, Version: v.Version, Detail: detail}
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
