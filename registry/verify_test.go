package registry_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// TestVerifyBytecodeAndToggles damages what Verify learned to check after
// pushes: Hermes bytecode records and blobs, and team states against the
// enable/disable/pin audit entries that describe them.
func TestVerifyBytecodeAndToggles(t *testing.T) {
	hbc := []byte("\xc6\x1f\xbc\x03\xc1\x03\x19\x1f\x62\x00\x00\x00bytecode")
	hbcSHA := registrytest.SHA256(hbc)
	js := []byte("module.exports = 1;")
	jsSHA := registrytest.SHA256(js)
	bytecodeKey := func(v int) []byte { return []byte(fmt.Sprintf("%s/%010d", jsSHA, v)) }
	// rewrite edits one JSON record; a nil bucket name means team1's state
	// of a.plugin.
	rewrite := func(tx *bolt.Tx, bucket, key []byte, edit func(m map[string]any)) error {
		b := tx.Bucket(bucket)
		if key == nil {
			b, key = tx.Bucket([]byte("teams")).Bucket([]byte("team1")), []byte("a.plugin")
		}
		m := map[string]any{}
		if err := json.Unmarshal(b.Get(key), &m); err != nil {
			return err
		}
		edit(m)
		raw, _ := json.Marshal(m)
		return b.Put(key, raw)
	}
	teamKey := func(tx *bolt.Tx) (*bolt.Bucket, []byte) {
		return tx.Bucket([]byte("teams")).Bucket([]byte("team1")), []byte("a.plugin")
	}
	tests := []struct {
		name   string
		damage func(tx *bolt.Tx) error
		want   string
	}{
		{"bytecode blob deleted", func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("blobs")).Delete([]byte(hbcSHA))
		}, "bytecode " + jsSHA + "/0000000098: blob " + hbcSHA + " missing"},
		{"bytecode blob changed", func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("blobs")).Put([]byte(hbcSHA), append([]byte("X"), hbc[1:]...))
		}, "hashes to"},
		{"bytecode size wrong", func(tx *bolt.Tx) error {
			return rewrite(tx, []byte("bytecode"), bytecodeKey(98), func(m map[string]any) {
				m["artifact"].(map[string]any)["size"] = 3
			})
		}, "record says 3"},
		{"bytecode under another key", func(tx *bolt.Tx) error {
			return rewrite(tx, []byte("bytecode"), bytecodeKey(98), func(m map[string]any) { m["bytecode_version"] = 96 })
		}, "record says source"},
		{"bytecode source missing", func(tx *bolt.Tx) error {
			return rewrite(tx, []byte("bytecode"), bytecodeKey(99), func(m map[string]any) {
				m["source"] = strings.Repeat("ab", 32)
			})
		}, "source blob"},
		{"failed compile names a blob", func(tx *bolt.Tx) error {
			return rewrite(tx, []byte("bytecode"), bytecodeKey(99), func(m map[string]any) {
				m["artifact"] = map[string]any{"sha256": hbcSHA, "size": len(hbc)}
			})
		}, "a failed compile names blob"},
		{"toggle audit entry lost", func(tx *bolt.Tx) error {
			// The last entry is the disable: without it the log says enabled.
			c := tx.Bucket([]byte("audit")).Cursor()
			k, _ := c.Last()
			return tx.Bucket([]byte("audit")).Delete(k)
		}, "its audit entries say enabled=true"},
		{"toggle without any audit entry", func(tx *bolt.Tx) error {
			team, k := teamKey(tx)
			raw := team.Get(k)
			other, err := tx.Bucket([]byte("teams")).CreateBucketIfNotExists([]byte("team2"))
			if err != nil {
				return err
			}
			return other.Put(k, []byte(strings.Replace(string(raw), `"team1"`, `"team2"`, 1)))
		}, "team team2: state of a.plugin has no audit entry"},
		{"toggle logged but not stored", func(tx *bolt.Tx) error {
			team, k := teamKey(tx)
			return team.Delete(k)
		}, "team changes of team1/a.plugin, which has no stored state"},
		{"state changed behind the log", func(tx *bolt.Tx) error {
			return rewrite(tx, []byte("teams"), nil, func(m map[string]any) { m["version"] = "1.0.0" })
		}, `version "1.0.0", its audit entries say enabled=false version ""`},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "registry.db")
			s, err := registry.Open(path, &registry.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			registrytest.Push(t, s, dev, "a.plugin", "1.0.0", []byte("web"), []byte("{}"), js)
			if err := s.PutBytecode(ctx, registry.Bytecode{Source: jsSHA, BytecodeVersion: 98,
				Artifact: registry.Artifact{SHA256: hbcSHA, Size: int64(len(hbc))}}, hbc); err != nil {
				t.Fatal(err)
			}
			if err := s.PutBytecode(ctx, registry.Bytecode{Source: jsSHA, BytecodeVersion: 99, Error: "hermesc: no"}, nil); err != nil {
				t.Fatal(err)
			}
			for _, st := range []registry.TeamState{
				{TeamID: "team1", PluginID: "a.plugin", Enabled: true, UpdatedBy: "alice"},
				{TeamID: "team1", PluginID: "a.plugin", Enabled: true, Version: "1.0.0", UpdatedBy: "alice"},
				{TeamID: "team1", PluginID: "a.plugin", Enabled: true, UpdatedBy: "alice"},
				{TeamID: "team1", PluginID: "a.plugin", Enabled: false, UpdatedBy: "alice"},
			} {
				if _, err := s.SetTeamState(ctx, st); err != nil {
					t.Fatal(err)
				}
			}
			verify(t, s)
			s.Close()

			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(tc.damage); err != nil {
				t.Fatal(err)
			}
			db.Close()

			s, err = registry.Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.Verify(ctx)
			if !errors.Is(err, registry.ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify() = %v, want ErrCorrupt mentioning %q", err, tc.want)
			}
		})
	}
}
