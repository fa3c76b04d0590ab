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
	c := newVerifier()
	// bbolt's check reads the freelist, which writers change, so it runs in
	// a write transaction (rolled back) to exclude them. The rest needs only
	// a snapshot and must not hold up pushes while it hashes every blob.
	err := b.update(ctx, func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			c.report("bbolt: %v", err)
		}
		return errUnchanged
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return fmt.Errorf("registry: verify %s: %w", b.path, err)
	}
	err = b.view(ctx, func(tx *bolt.Tx) error {

		if err := tx.Bucket(bucketPlugins).ForEach(func(k, v []byte) error {
			p := new(Plugin)
			if err := json.Unmarshal(v, p); err != nil {
				c.report("plugin %s: %v", k, err)
				return nil
			}
			c.plugin(string(k), p)
			return nil
		}); err != nil {
			return err
		}

		blobs := tx.Bucket(bucketBlobs)
		checked := map[string]bool{}
		c.blob = func(what, sha string, size int64) {
			data := blobs.Get([]byte(sha))
			switch {
			case data == nil:
				c.report("%s: blob %s missing", what, sha)
			case size >= 0 && int64(len(data)) != size:
				c.report("%s: blob %s has %d bytes, record says %d", what, sha, len(data), size)
			case !checked[sha]:
				checked[sha] = true
				if got := sha256Hex(data); got != sha {
					c.report("blob %s hashes to %s", sha, got)
				}
			}
		}

		allVersions := tx.Bucket(bucketVersions)
		if err := allVersions.ForEachBucket(func(id []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			orphan := c.orphanVersions(string(id))
			var keys []string
			err := allVersions.Bucket(id).ForEach(func(k, raw []byte) error {
				keys = append(keys, string(k))
				key := c.storedVersion(string(id), string(k))
				var v Version
				if err := json.Unmarshal(raw, &v); err != nil {
					c.report("version %s: %v", key, err)
					return nil
				}
				c.version(string(id), string(k), &v)
				return nil
			})
			if err != nil || orphan {
				return err
			}
			c.pluginVersions(string(id), keys)
			return nil
		}); err != nil {
			return err
		}
		c.pluginsWithoutVersions(func(id string) bool { return allVersions.Bucket([]byte(id)) != nil })

		if err := tx.Bucket(bucketAudit).ForEach(func(k, raw []byte) error {
			var e AuditEntry
			if err := json.Unmarshal(raw, &e); err != nil {
				c.report("audit %x: %v", k, err)
				return nil
			}
			if len(k) != 8 || binary.BigEndian.Uint64(k) != e.Seq {
				c.report("audit %x: record says seq %d", k, e.Seq)
			}
			c.audit(e)
			return nil
		}); err != nil {
			return err
		}
		c.auditDone()

		if err := tx.Bucket(bucketEncoding).ForEach(func(k, raw []byte) error {
			enc := map[string]Encoded{}
			if err := json.Unmarshal(raw, &enc); err != nil {
				c.report("encodings of %s: %v", k, err)
				return nil
			}
			c.encodings(string(k), enc, blobs.Get(k) != nil)
			return nil
		}); err != nil {
			return err
		}

		if bk := tx.Bucket(bucketBytecode); bk != nil {
			if err := bk.ForEach(func(k, raw []byte) error {
				var bc Bytecode
				if err := json.Unmarshal(raw, &bc); err != nil {
					c.report("bytecode %s: %v", k, err)
					return nil
				}
				if string(k) != string(bytecodeKey(bc.Source, bc.BytecodeVersion)) {
					c.report("bytecode %s: record says source %s version %d", k, bc.Source, bc.BytecodeVersion)
				}
				c.bytecode(string(k), bc, blobs.Get([]byte(bc.Source)) != nil)
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
					c.report("team %s plugin %s: %v", team, k, err)
					return nil
				}
				c.teamState(string(team), string(k), s)
				return nil
			})
		})
		if err != nil {
			return err
		}
		c.teamStatesDone()
		return nil
	})
	if err != nil {
		return fmt.Errorf("registry: verify %s: %w", b.path, err)
	}
	return c.err("registry: verify " + b.path)
}

// verifier is what both stores' Verify check alike, record by record as
// each store reads them: the records agree with their keys, plugins list
// the versions stored, the blobs records name are there (blob, which each
// store sets), the audit log accounts for every push, prune and team
// change. It keeps the first maxProblems problems.
type verifier struct {
	problems []string
	plugins  map[string]*Plugin
	stored   map[string]bool // "id@version"
	// pushes counts each version's push entries since the last prune
	// entry that removed it; pushSeq is the last one's seq.
	pushes  map[string]int
	pushSeq map[string]uint64
	// replayed is each team's plugin state as its audit entries say, by
	// "team/plugin".
	replayed map[string]*TeamState
	// blob checks a blob a record names (what), by its SHA-256 and the
	// size the record gives (-1: none): stored, of that size.
	blob func(what, sha string, size int64)
}

func newVerifier() *verifier {
	return &verifier{plugins: map[string]*Plugin{}, stored: map[string]bool{},
		pushes: map[string]int{}, pushSeq: map[string]uint64{}, replayed: map[string]*TeamState{}}
}

// report adds a problem, up to maxProblems.
func (c *verifier) report(format string, args ...any) {
	if len(c.problems) < maxProblems {
		c.problems = append(c.problems, fmt.Sprintf(format, args...))
	}
}

// err is ErrCorrupt listing the problems (sorted), or nil.
func (c *verifier) err(prefix string) error {
	if len(c.problems) == 0 {
		return nil
	}
	slices.Sort(c.problems)
	return fmt.Errorf("%s: %w: %s", prefix, ErrCorrupt, strings.Join(c.problems, "; "))
}

// plugin checks the plugin record stored under id.
func (c *verifier) plugin(id string, p *Plugin) {
	if p.ID != id {
		c.report("plugin %s: record says id %q", id, p.ID)
	}
	c.plugins[id] = p
}

// storedVersion notes that a version is stored under id and ver (whether
// or not its record decodes), and returns its key "id@ver".
func (c *verifier) storedVersion(id, ver string) string {
	key := id + "@" + ver
	c.stored[key] = true
	return key
}

// version checks the version record stored under id and ver, and the blobs
// its artifacts name.
func (c *verifier) version(id, ver string, v *Version) {
	key := id + "@" + ver
	if v.PluginID != id || v.Version != ver {
		c.report("version %s: record says %s@%s", key, v.PluginID, v.Version)
	}
	for kind, a := range v.Artifacts {
		c.blob(key+" "+kind, a.SHA256, a.Size)
		for enc, sha := range a.Encodings {
			size, ok := a.EncodedSizes[enc]
			if !ok {
				size = -1
			}
			c.blob(key+" "+kind+" "+enc, sha, size)
		}
	}
}

// orphanVersions reports versions stored under id when no plugin record
// was read for it, and says so.
func (c *verifier) orphanVersions(id string) bool {
	if c.plugins[id] == nil {
		c.report("versions of %s stored without a plugin record", id)
		return true
	}
	return false
}

// pluginVersions checks the versions stored under id (keys, in any order)
// against its plugin record, read before (orphanVersions false).
func (c *verifier) pluginVersions(id string, keys []string) {
	p := c.plugins[id]
	slices.SortFunc(keys, compareVersions)
	if !slices.Equal(keys, p.Versions) {
		c.report("plugin %s lists versions %v, stored are %v", id, p.Versions, keys)
	}
	if len(keys) > 0 && p.Latest != keys[len(keys)-1] {
		c.report("plugin %s: latest %q, highest stored %q", id, p.Latest, keys[len(keys)-1])
	}
}

// pluginsWithoutVersions reports the plugins read that have no versions
// stored (hasVersions false).
func (c *verifier) pluginsWithoutVersions(hasVersions func(id string) bool) {
	for id := range c.plugins {
		if !hasVersions(id) {
			c.report("plugin %s has no versions", id)
		}
	}
}

// audit replays one audit entry, in seq order: pushes and prunes count
// versions, team changes replay team states.
func (c *verifier) audit(e AuditEntry) {
	switch e.Action {
	case ActionEnable, ActionDisable, ActionPin:
		replayTeamAudit(c.replayed, e)
	case ActionPrune:
		for _, v := range e.Versions {
			key := e.PluginID + "@" + v
			if c.pushes[key] == 0 {
				c.report("audit %d: prune of %s, which was not pushed", e.Seq, key)
			}
			delete(c.pushes, key)
		}
	case ActionPush:
		key := e.PluginID + "@" + e.Version
		c.pushes[key]++
		c.pushSeq[key] = e.Seq
	}
}

// auditDone checks, once the whole log and every version are read, that
// each stored version has one push entry and each push entry a version.
func (c *verifier) auditDone() {
	for key, n := range c.pushes {
		if n > 0 && !c.stored[key] {
			c.report("audit %d: push of %s, which is not stored (and no prune removed it)", c.pushSeq[key], key)
		}
	}
	for key := range c.stored {
		if n := c.pushes[key]; n != 1 {
			c.report("version %s has %d push audit entries, want 1", key, n)
		}
	}
}

// encodings checks the variants of blob sha (sourceStored: whether that
// blob is stored).
func (c *verifier) encodings(sha string, enc map[string]Encoded, sourceStored bool) {
	if !sourceStored {
		c.report("encodings of %s: the blob itself is missing", sha)
	}
	for coding, e := range enc {
		c.blob("encoding "+coding+" of "+sha, e.SHA256, e.Size)
	}
}

// bytecode checks a bytecode record stored under key (sourceStored:
// whether its source blob is stored): a failed compile names no blob, a
// compile its blob.
func (c *verifier) bytecode(key string, bc Bytecode, sourceStored bool) {
	if !sourceStored {
		c.report("bytecode %s: source blob %s missing", key, bc.Source)
	}
	if bc.Error != "" {
		if bc.Artifact.SHA256 != "" {
			c.report("bytecode %s: a failed compile names blob %s", key, bc.Artifact.SHA256)
		}
		return
	}
	c.blob("bytecode "+key, bc.Artifact.SHA256, bc.Artifact.Size)
}

// teamState checks a team's state of plugin id, after the versions and the
// audit log were read: its record, its plugin and pin, and its audit
// entries' replay.
func (c *verifier) teamState(team, id string, s TeamState) {
	if s.TeamID != team || s.PluginID != id {
		c.report("team %s plugin %s: record says %s/%s", team, id, s.TeamID, s.PluginID)
	}
	if c.plugins[id] == nil {
		c.report("team %s: state of unknown plugin %s", team, id)
	} else if s.Version != "" && !c.stored[id+"@"+s.Version] {
		c.report("team %s: %s pinned to unknown version %s", team, id, s.Version)
	}
	key := team + "/" + id
	r := c.replayed[key]
	delete(c.replayed, key)
	switch {
	case r == nil:
		c.report("team %s: state of %s has no audit entry", team, id)
	case r.Enabled != s.Enabled || r.Version != s.Version:
		c.report("team %s: %s is enabled=%v version %q, its audit entries say enabled=%v version %q",
			team, id, s.Enabled, s.Version, r.Enabled, r.Version)
	}
}

// teamStatesDone reports the team changes the audit log has and no stored
// state answers, once every state was read.
func (c *verifier) teamStatesDone() {
	for key := range c.replayed {
		c.report("audit: team changes of %s, which has no stored state", key)
	}
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
