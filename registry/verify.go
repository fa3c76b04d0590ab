package registry

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// maxProblems bounds Verify's report: past a few, more lines do not help.
const maxProblems = 20

// Verify checks the whole file against the store's invariants and returns
// ErrCorrupt listing what breaks them:
//
//   - bbolt's own page-level consistency check passes;
//   - every version a Plugin lists is stored, and every stored version is
//     listed; Versions is in semver order and Latest is its last element;
//   - every blob an artifact names is stored, hashes to its key and has the
//     recorded size;
//   - every version has exactly one push audit entry and every push entry
//     names a stored version (no audit line for work that did not commit),
//     or one a later prune entry removed;
//   - every team state names a stored plugin and, if pinned, version, and
//     replaying the team's enable, disable and pin audit entries for the
//     plugin (the pin as their Detail records it) gives exactly that state
//     (no audit line for a toggle that did not commit, no toggle without
//     its line);
//   - every Hermes bytecode record sits under its own source and version,
//     its source blob is stored, and its bytecode blob (unless the record
//     is a compile failure) is stored, hashes to its key and has its size.
//
// It reads and hashes every blob, so it is for start-up checks, operators and
// tests, not for a request path.
func (b *Bolt) Verify(ctx context.Context) error {
	var problems []string
	report := func(format string, args ...any) {
		if len(problems) < maxProblems {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	// bbolt's check reads the freelist, which writers change, so it runs in
	// a write transaction (rolled back) to exclude them. The rest needs only
	// a snapshot and must not hold up pushes while it hashes every blob.
	err := b.update(ctx, func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			report("bbolt: %v", err)
		}
		return errUnchanged
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return fmt.Errorf("registry: verify %s: %w", b.path, err)
	}
	err = b.view(ctx, func(tx *bolt.Tx) error {

		plugins := map[string]*Plugin{}
		if err := tx.Bucket(bucketPlugins).ForEach(func(k, v []byte) error {
			p := new(Plugin)
			if err := json.Unmarshal(v, p); err != nil {
				report("plugin %s: %v", k, err)
				return nil
			}
			if p.ID != string(k) {
				report("plugin %s: record says id %q", k, p.ID)
			}
			plugins[string(k)] = p
			return nil
		}); err != nil {
			return err
		}

		blobs := tx.Bucket(bucketBlobs)
		checked := map[string]bool{}
		checkBlob := func(what, sha string, size int64) {
			data := blobs.Get([]byte(sha))
			switch {
			case data == nil:
				report("%s: blob %s missing", what, sha)
			case size >= 0 && int64(len(data)) != size:
				report("%s: blob %s has %d bytes, record says %d", what, sha, len(data), size)
			case !checked[sha]:
				checked[sha] = true
				if got := sha256Hex(data); got != sha {
					report("blob %s hashes to %s", sha, got)
				}
			}
		}

		stored := map[string]bool{} // "id@version"
		allVersions := tx.Bucket(bucketVersions)
		if err := allVersions.ForEachBucket(func(id []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			p := plugins[string(id)]
			if p == nil {
				report("versions of %s stored without a plugin record", id)
			}
			var keys []string
			err := allVersions.Bucket(id).ForEach(func(k, raw []byte) error {
				key := string(id) + "@" + string(k)
				keys = append(keys, string(k))
				stored[key] = true
				var v Version
				if err := json.Unmarshal(raw, &v); err != nil {
					report("version %s: %v", key, err)
					return nil
				}
				if v.PluginID != string(id) || v.Version != string(k) {
					report("version %s: record says %s@%s", key, v.PluginID, v.Version)
				}
				for kind, a := range v.Artifacts {
					checkBlob(key+" "+kind, a.SHA256, a.Size)
					for enc, sha := range a.Encodings {
						size, ok := a.EncodedSizes[enc]
						if !ok {
							size = -1
						}
						checkBlob(key+" "+kind+" "+enc, sha, size)
					}
				}
				return nil
			})
			if err != nil || p == nil {
				return err
			}
			slices.SortFunc(keys, compareVersions)
			if !slices.Equal(keys, p.Versions) {
				report("plugin %s lists versions %v, stored are %v", id, p.Versions, keys)
			}
			if len(keys) > 0 && p.Latest != keys[len(keys)-1] {
				report("plugin %s: latest %q, highest stored %q", id, p.Latest, keys[len(keys)-1])
			}
			return nil
		}); err != nil {
			return err
		}
		for id := range plugins {
			if allVersions.Bucket([]byte(id)) == nil {
				report("plugin %s has no versions", id)
			}
		}

		// pushes counts each version's push entries since the last prune
		// entry that removed it; pushSeq is the last one's seq.
		pushes, pushSeq := map[string]int{}, map[string]uint64{}
		// replayed is each team's plugin state as its audit entries say,
		// by "team/plugin".
		replayed := map[string]*TeamState{}
		if err := tx.Bucket(bucketAudit).ForEach(func(k, raw []byte) error {
			var e AuditEntry
			if err := json.Unmarshal(raw, &e); err != nil {
				report("audit %x: %v", k, err)
				return nil
			}
			if len(k) != 8 || binary.BigEndian.Uint64(k) != e.Seq {
				report("audit %x: record says seq %d", k, e.Seq)
			}
			switch e.Action {
			case ActionEnable, ActionDisable, ActionPin:
				replayTeamAudit(replayed, e)
				return nil
			case ActionPrune:
				for _, v := range e.Versions {
					key := e.PluginID + "@" + v
					if pushes[key] == 0 {
						report("audit %d: prune of %s, which was not pushed", e.Seq, key)
					}
					delete(pushes, key)
				}
				return nil
			case ActionPush:
			default:
				return nil
			}
			key := e.PluginID + "@" + e.Version
			pushes[key]++
			pushSeq[key] = e.Seq
			return nil
		}); err != nil {
			return err
		}
		for key, n := range pushes {
			if n > 0 && !stored[key] {
				report("audit %d: push of %s, which is not stored (and no prune removed it)", pushSeq[key], key)
			}
		}
		for key := range stored {
			if n := pushes[key]; n != 1 {
				report("version %s has %d push audit entries, want 1", key, n)
			}
		}

		if err := tx.Bucket(bucketEncoding).ForEach(func(k, raw []byte) error {
			enc := map[string]Encoded{}
			if err := json.Unmarshal(raw, &enc); err != nil {
				report("encodings of %s: %v", k, err)
				return nil
			}
			if tx.Bucket(bucketBlobs).Get(k) == nil {
				report("encodings of %s: the blob itself is missing", k)
			}
			for coding, e := range enc {
				checkBlob("encoding "+coding+" of "+string(k), e.SHA256, e.Size)
			}
			return nil
		}); err != nil {
			return err
		}

		if bk := tx.Bucket(bucketBytecode); bk != nil {
			if err := bk.ForEach(func(k, raw []byte) error {
				var bc Bytecode
				if err := json.Unmarshal(raw, &bc); err != nil {
					report("bytecode %s: %v", k, err)
					return nil
				}
				if string(k) != string(bytecodeKey(bc.Source, bc.BytecodeVersion)) {
					report("bytecode %s: record says source %s version %d", k, bc.Source, bc.BytecodeVersion)
				}
				if blobs.Get([]byte(bc.Source)) == nil {
					report("bytecode %s: source blob %s missing", k, bc.Source)
				}
				if bc.Error != "" {
					if bc.Artifact.SHA256 != "" {
						report("bytecode %s: a failed compile names blob %s", k, bc.Artifact.SHA256)
					}
					return nil
				}
				checkBlob("bytecode "+string(k), bc.Artifact.SHA256, bc.Artifact.Size)
				return nil
			}); err != nil {
				return err
			}
		}

		teams := tx.Bucket(bucketTeams)
		err := teams.ForEachBucket(func(team []byte) error {
			return teams.Bucket(team).ForEach(func(k, raw []byte) error {
				var s TeamState
				if err := json.Unmarshal(raw, &s); err != nil {
					report("team %s plugin %s: %v", team, k, err)
					return nil
				}
				if s.TeamID != string(team) || s.PluginID != string(k) {
					report("team %s plugin %s: record says %s/%s", team, k, s.TeamID, s.PluginID)
				}
				if plugins[string(k)] == nil {
					report("team %s: state of unknown plugin %s", team, k)
				} else if s.Version != "" && !stored[string(k)+"@"+s.Version] {
					report("team %s: %s pinned to unknown version %s", team, k, s.Version)
				}
				key := string(team) + "/" + string(k)
				r := replayed[key]
				delete(replayed, key)
				switch {
				case r == nil:
					report("team %s: state of %s has no audit entry", team, k)
				case r.Enabled != s.Enabled || r.Version != s.Version:
					report("team %s: %s is enabled=%v version %q, its audit entries say enabled=%v version %q",
						team, k, s.Enabled, s.Version, r.Enabled, r.Version)
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
		for key := range replayed {
			report("audit: team changes of %s, which has no stored state", key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("registry: verify %s: %w", b.path, err)
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("registry: verify %s: %w: %s", b.path, ErrCorrupt, strings.Join(problems, "; "))
	}
	return nil
}

// replayTeamAudit applies an enable, disable or pin entry to replayed (team
// states by "team/plugin"), for both stores' Verify. The entry's version is
// the one the change concerns (a team following the latest names the
// version it served); the pin is in Detail: "pinned X", "follow latest",
// or nothing for an enable or disable that kept it (teamStateAudit).
func replayTeamAudit(replayed map[string]*TeamState, e AuditEntry) {
	key := e.TeamID + "/" + e.PluginID
	st := replayed[key]
	if st == nil {
		st = &TeamState{}
		replayed[key] = st
	}
	switch {
	case strings.HasPrefix(e.Detail, "pinned "):
		st.Version = strings.TrimPrefix(e.Detail, "pinned ")
	case e.Detail == "follow latest":
		st.Version = ""
	case e.Action == ActionPin:
		st.Version = e.Version
	}
	if e.Action != ActionPin {
		st.Enabled = e.Action == ActionEnable
	}
}
