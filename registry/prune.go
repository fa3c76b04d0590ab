package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/semver"
)

// ActionPrune records the removal of a developer's old prereleases
// (AuditEntry.Versions lists them). Versions are otherwise immutable and
// kept for ever; prereleases are dev builds (push --watch stores one per
// save) that no team follows, so only the last few of each developer are
// worth keeping.
const ActionPrune = "prune"

// PruneQuery says which prereleases PrunePrereleases removes.
type PruneQuery struct {
	PluginID string
	// PushedBy is the developer whose prereleases are pruned: each
	// developer keeps their own last Keep.
	PushedBy string
	// Keep is how many of the developer's newest prereleases stay (at
	// least 1).
	Keep int
	// Protect are versions kept whatever their age (a live preview).
	Protect map[string]bool
	// Actor is who the audit entry names.
	Actor string
}

// PruneResult says what PrunePrereleases removed.
type PruneResult struct {
	// Versions removed, lowest first; empty when there was nothing to do.
	Versions []string
	// Blobs is how many blobs no remaining record names were removed with
	// them (bundles, source maps, precompressed variants, bytecode), and
	// BlobBytes their size.
	Blobs     int
	BlobBytes int64
	// Collected are the SHA-256s of every blob removed, for caches of them
	// to forget.
	Collected []string
}

// PrunePrereleases removes the prereleases of q.PluginID pushed by
// q.PushedBy but its newest q.Keep, except versions a team pins and those
// in q.Protect, in one transaction with one ActionPrune audit entry: the
// versions, their crash health, and every blob only they named (with its
// precompressed variants and Hermes bytecode; blobs another version or
// record names stay). Releases are never pruned, nor another developer's
// prereleases. Nothing to remove writes nothing.
//
// It reads every version record of the store to know which blobs stay
// named, so it runs after a push, off the request's path.
func (b *Bolt) PrunePrereleases(ctx context.Context, q PruneQuery) (PruneResult, error) {
	if err := checkPruneQuery(q); err != nil {
		return PruneResult{}, err
	}
	var res PruneResult
	err := b.update(ctx, func(tx *bolt.Tx) error {
		plugins := tx.Bucket(bucketPlugins)
		var p Plugin
		exists, err := getJSON(plugins, q.PluginID, &p)
		if err != nil {
			return err
		}
		if !exists {
			return ErrPluginNotFound
		}
		versions := tx.Bucket(bucketVersions).Bucket([]byte(q.PluginID))
		if versions == nil {
			return errUnchanged
		}
		pinned := map[string]bool{}
		teams := tx.Bucket(bucketTeams)
		if err := teams.ForEachBucket(func(team []byte) error {
			var s TeamState
			found, err := getJSON(teams.Bucket(team), q.PluginID, &s)
			if found && s.Version != "" {
				pinned[s.Version] = true
			}
			return err
		}); err != nil {
			return err
		}

		// The developer's prereleases, newest first.
		var mine []*Version
		for _, ver := range prereleasesNewestFirst(p.Versions) {
			var v Version
			if _, err := getJSON(versions, ver, &v); err != nil {
				return err
			}
			if v.PushedBy == q.PushedBy {
				mine = append(mine, &v)
			}
		}
		gone := planPrune(q, mine, pinned)
		if len(gone) == 0 {
			return errUnchanged
		}

		// Remove the versions and their health.
		res.Versions = prunePlugin(&p, gone)
		for _, v := range gone {
			if err := versions.Delete([]byte(v.Version)); err != nil {
				return err
			}
			if hb := tx.Bucket(bucketHealth).Bucket([]byte(q.PluginID)); hb != nil {
				if err := hb.Delete([]byte(v.Version)); err != nil {
					return err
				}
			}
		}
		if err := putJSON(plugins, p.ID, &p); err != nil {
			return err
		}
		if err := collectBlobs(tx, gone, &res); err != nil {
			return err
		}
		_, err = appendAudit(tx, pruneAudit(q, res, b.now()))
		return err
	})
	if errors.Is(err, errUnchanged) {
		return PruneResult{}, nil
	}
	if err != nil {
		return PruneResult{}, fmt.Errorf("registry: prune %s: %w", q.PluginID, err)
	}
	return res, nil
}

// checkPruneQuery is what both stores require of a PrunePrereleases: a
// plugin, a developer, an actor, and at least one prerelease kept.
func checkPruneQuery(q PruneQuery) error {
	if q.PluginID == "" || q.PushedBy == "" || q.Actor == "" || q.Keep < 1 {
		return fmt.Errorf("registry: prune: %w: plugin, developer and actor are required, keep at least 1", ErrInvalid)
	}
	return nil
}

// prereleasesNewestFirst returns the prereleases among versions (a
// plugin's list, in semver order), newest first.
func prereleasesNewestFirst(versions []string) []string {
	var out []string
	for i := len(versions) - 1; i >= 0; i-- {
		if semver.Prerelease("v"+versions[i]) != "" {
			out = append(out, versions[i])
		}
	}
	return out
}

// planPrune decides what a prune removes, for both stores: of mine (the
// developer's prereleases, newest first) all but the newest q.Keep, except
// those a team pins (pinned) and those in q.Protect. Nothing (nil) when
// the developer has no more than q.Keep.
func planPrune(q PruneQuery, mine []*Version, pinned map[string]bool) []*Version {
	if len(mine) <= q.Keep {
		return nil
	}
	var gone []*Version
	for _, v := range mine[q.Keep:] {
		if !pinned[v.Version] && !q.Protect[v.Version] {
			gone = append(gone, v)
		}
	}
	return gone
}

// prunePlugin takes the versions gone off the plugin's record p, for both
// stores, and returns them lowest first. Latest stays right: the newest
// prerelease is always kept, and releases are never pruned.
func prunePlugin(p *Plugin, gone []*Version) []string {
	removed := map[string]bool{}
	var versions []string
	for _, v := range gone {
		removed[v.Version] = true
		versions = append(versions, v.Version)
	}
	slices.SortFunc(versions, compareVersions)
	p.Versions = slices.DeleteFunc(p.Versions, func(v string) bool { return removed[v] })
	p.Latest = p.Versions[len(p.Versions)-1]
	return versions
}

// pruneAudit is the ActionPrune entry of a prune that removed what res
// says, for both stores.
func pruneAudit(q PruneQuery, res PruneResult, now time.Time) AuditEntry {
	return AuditEntry{
		At: now, Actor: q.Actor, Action: ActionPrune, PluginID: q.PluginID, Versions: res.Versions,
		Detail: fmt.Sprintf("removed %s (prereleases pushed by %s, who keeps their newest %d); %d blob(s), %d bytes collected",
			strings.Join(res.Versions, ", "), q.PushedBy, q.Keep, res.Blobs, res.BlobBytes),
	}
}

// addArtifactBlobs adds to set the blobs arts name (their bytes and their
// precompressed variants), for both stores' prunes: what the versions
// gone named are the candidates to collect, what the others name stays.
func addArtifactBlobs(set map[string]bool, arts map[string]Artifact) {
	for _, a := range arts {
		set[a.SHA256] = true
		for _, sha := range a.Encodings {
			set[sha] = true
		}
	}
}

// collectBlobs removes, inside tx, the blobs the removed versions named
// that no remaining record names, with the precompressed variants and the
// Hermes bytecode derived from them.
func collectBlobs(tx *bolt.Tx, gone []*Version, res *PruneResult) error {
	candidates := map[string]bool{}
	for _, v := range gone {
		addArtifactBlobs(candidates, v.Artifacts)
	}
	// What stays named: every remaining version's artifacts, and what is
	// derived from those (variants, bytecode).
	named := map[string]bool{}
	all := tx.Bucket(bucketVersions)
	if err := all.ForEachBucket(func(id []byte) error {
		return all.Bucket(id).ForEach(func(_, raw []byte) error {
			var v Version
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			addArtifactBlobs(named, v.Artifacts)
			return nil
		})
	}); err != nil {
		return err
	}
	enc := tx.Bucket(bucketEncoding)
	bc := tx.Bucket(bucketBytecode)
	derived := func(source string, fn func(sha string)) error {
		e := map[string]Encoded{}
		if _, err := getJSON(enc, source, &e); err != nil {
			return err
		}
		for _, x := range e {
			fn(x.SHA256)
		}
		if bc == nil {
			return nil
		}
		prefix := []byte(source + "/")
		c := bc.Cursor()
		for k, raw := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, raw = c.Next() {
			var r Bytecode
			if err := json.Unmarshal(raw, &r); err != nil {
				return err
			}
			if r.Artifact.SHA256 != "" {
				fn(r.Artifact.SHA256)
			}
		}
		return nil
	}
	for sha := range named {
		if err := derived(sha, func(d string) { named[d] = true }); err != nil {
			return err
		}
	}
	extra := map[string]bool{}
	for sha := range candidates {
		if !named[sha] {
			if err := derived(sha, func(d string) { extra[d] = true }); err != nil {
				return err
			}
		}
	}
	for d := range extra {
		candidates[d] = true
	}

	blobs := tx.Bucket(bucketBlobs)
	for sha := range candidates {
		if named[sha] {
			continue
		}
		if data := blobs.Get([]byte(sha)); data != nil {
			res.Blobs++
			res.BlobBytes += int64(len(data))
			res.Collected = append(res.Collected, sha)
			if err := blobs.Delete([]byte(sha)); err != nil {
				return err
			}
		}
		if err := enc.Delete([]byte(sha)); err != nil {
			return err
		}
		if bc != nil {
			prefix := []byte(sha + "/")
			var keys [][]byte
			c := bc.Cursor()
			for k, _ := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, _ = c.Next() {
				keys = append(keys, slices.Clone(k))
			}
			for _, k := range keys {
				if err := bc.Delete(k); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
