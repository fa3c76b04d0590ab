package registry

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The planning functions both stores call before or inside their own
// transaction (check*, plan*): the rules the store suite (forEachStore)
// does not reach through both stores are tested here, on the function.

func TestCheckEncodings(t *testing.T) {
	gz, br := []byte("gzip bytes"), []byte("brotli bytes")
	enc := map[string]Encoded{
		"gzip": {SHA256: sha256Hex(gz), Size: int64(len(gz))},
		"br":   {SHA256: sha256Hex(br), Size: int64(len(br))},
	}
	all := map[string][]byte{sha256Hex(gz): gz, sha256Hex(br): br}
	for _, tc := range []struct {
		name  string
		enc   map[string]Encoded
		blobs map[string][]byte
		want  error
		names string // the coding the error names
	}{
		{"all there", enc, all, nil, ""},
		{"none", map[string]Encoded{}, nil, nil, ""},
		{"bytes missing", enc, map[string][]byte{sha256Hex(gz): gz}, ErrMissingBlob, "br"},
		{"bytes differ", enc, map[string][]byte{sha256Hex(gz): gz, sha256Hex(br): gz}, ErrBlobMismatch, "br"},
		{"size differs", map[string]Encoded{"gzip": {SHA256: sha256Hex(gz), Size: 3}}, all, ErrInvalid, "gzip"},
		// Both wrong: the first coding in order ("br") is named, on both stores.
		{"first in coding order", enc, map[string][]byte{}, ErrMissingBlob, "br"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkEncodings("src", tc.enc, tc.blobs)
			if !errors.Is(err, tc.want) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), "encodings of src: "+tc.names) {
				t.Errorf("%v does not name coding %s", err, tc.names)
			}
		})
	}
}

func TestCheckSourceMap(t *testing.T) {
	m := []byte(`{"version":3}`)
	a := Artifact{SHA256: sha256Hex(m), Size: int64(len(m)), ContentType: "application/json"}
	for _, tc := range []struct {
		name     string
		bundle   string
		a        Artifact
		want     error
		wantKind string
	}{
		{"web", WebJS, a, nil, WebMap},
		{"mobile", MobileJS, a, nil, MobileMap},
		{"keyed", WebJS, func() Artifact { b := a; b.Key = sha256Hex([]byte("k")); return b }(), nil, WebMap},
		{"kind without a map", MobileHermes, a, ErrInvalid, ""},
		{"key not a sha256", WebJS, func() Artifact { b := a; b.Key = "K"; return b }(), ErrInvalid, ""},
		{"with variants", WebJS, func() Artifact { b := a; b.Encodings = map[string]string{"gzip": a.SHA256}; return b }(), ErrInvalid, ""},
		{"bytes differ", WebJS, func() Artifact { b := a; b.SHA256 = sha256Hex([]byte("other")); return b }(), ErrBlobMismatch, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, err := checkSourceMap(tc.bundle, tc.a, m)
			if !errors.Is(err, tc.want) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
			if err == nil && kind != tc.wantKind {
				t.Errorf("kind %q, want %q", kind, tc.wantKind)
			}
		})
	}
}

func TestPlanKVPut(t *testing.T) {
	rev := func(r uint64) *uint64 { return &r }
	cur := KVEntry{Key: "k", Value: []byte("12345"), Rev: 7, UpdatedBy: "alice"}
	for _, tc := range []struct {
		name      string
		w         KVWrite
		exists    bool
		scopeKeys int
		want      error
		wantGrows kvUsage
	}{
		{"new key", KVWrite{Key: "k", Value: []byte("ab"), Actor: "bob"}, false, 0, nil, kvUsage{1, 3}},
		{"own entry shrinks", KVWrite{Key: "k", Value: []byte("ab"), Actor: "alice"}, true, 1, nil, kvUsage{0, -3}},
		{"own entry grows", KVWrite{Key: "k", Value: []byte("1234567"), Actor: "alice"}, true, 1, nil, kvUsage{0, 2}},
		{"takeover", KVWrite{Key: "k", Value: []byte("ab"), Actor: "bob"}, true, 1, nil, kvUsage{1, 3}},
		{"scope full", KVWrite{Key: "n", Actor: "bob", MaxKeys: 2}, false, 2, ErrKVTooManyKeys, kvUsage{}},
		{"scope full, key exists", KVWrite{Key: "k", Actor: "bob", MaxKeys: 2}, true, 2, nil, kvUsage{1, 1}},
		{"if absent, exists", KVWrite{Key: "k", Actor: "bob", IfRev: rev(0)}, true, 1, ErrKVConflict, kvUsage{}},
		{"if rev, other rev", KVWrite{Key: "k", Actor: "bob", IfRev: rev(6)}, true, 1, ErrKVConflict, kvUsage{}},
		{"if rev, absent", KVWrite{Key: "k", Actor: "bob", IfRev: rev(7)}, false, 1, ErrKVConflict, kvUsage{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := planKVPut(tc.w, cur, tc.exists, func() int { return tc.scopeKeys })
			if !errors.Is(err, tc.want) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			if p.grows != tc.wantGrows || p.charge != (kvUsage{1, kvSize(tc.w.Key, tc.w.Value)}) || p.replaces != tc.exists {
				t.Errorf("plan %+v, want grows %+v", p, tc.wantGrows)
			}
			if tc.exists && (p.prevUser != "alice" || p.release != (kvUsage{-1, -6})) {
				t.Errorf("plan %+v: want alice released of 1 key, 6 bytes", p)
			}
		})
	}
	// Only what grows is held to the quota.
	over := kvUsage{Keys: 5, Bytes: 500}
	w := KVWrite{MaxActorKeys: 4, MaxActorBytes: 400}
	for _, tc := range []struct {
		grows kvUsage
		want  error
	}{{kvUsage{1, 1}, ErrKVQuota}, {kvUsage{0, 1}, ErrKVQuota}, {kvUsage{1, 0}, ErrKVQuota}, {kvUsage{0, -3}, nil}, {kvUsage{0, 0}, nil}} {
		if err := (kvPutPlan{grows: tc.grows}).checkQuota(w, over); !errors.Is(err, tc.want) {
			t.Errorf("grows %+v over the bounds: %v, want %v", tc.grows, err, tc.want)
		}
	}
	if err := (kvPutPlan{grows: kvUsage{1, 1}}).checkQuota(KVWrite{}, over); err != nil {
		t.Errorf("no bounds: %v", err)
	}
}

func TestCheckEmbedToken(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ok := EmbedToken{ID: "t1", AppID: "app", UserID: "u", CreatedAt: at, ExpiresAt: at.Add(time.Minute)}
	for _, tc := range []struct {
		name string
		edit func(*EmbedToken)
		want error
	}{
		{"valid", func(*EmbedToken) {}, nil},
		{"id of 128 bytes", func(t *EmbedToken) { t.ID = strings.Repeat("x", 128) }, nil},
		{"id of 129 bytes", func(t *EmbedToken) { t.ID = strings.Repeat("x", 129) }, ErrInvalid},
		{"no id", func(t *EmbedToken) { t.ID = "" }, ErrInvalid},
		{"no app", func(t *EmbedToken) { t.AppID = "" }, ErrInvalid},
		{"no user", func(t *EmbedToken) { t.UserID = "" }, ErrInvalid},
		{"no creation", func(t *EmbedToken) { t.CreatedAt = time.Time{} }, ErrInvalid},
		{"expires when created", func(t *EmbedToken) { t.ExpiresAt = t.CreatedAt }, ErrInvalid},
	} {
		tok := ok
		tc.edit(&tok)
		if err := checkEmbedToken(tok); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestPlanEmbedWrites(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	calls := 0
	now := func() time.Time { calls++; return at }

	a := EmbedApp{ID: "app", Name: "A", CreatedBy: "admin"}
	e := planNewEmbedApp(&a, at)
	if a.CreatedAt != at || a.UpdatedAt != at || a.UpdatedBy != "admin" ||
		!reflect.DeepEqual(e, AuditEntry{At: at, Actor: "admin", Action: ActionEmbedAppCreate, Detail: "app app: name A"}) {
		t.Errorf("create: app %+v, entry %+v", a, e)
	}

	// fn's error writes nothing and reads no clock; fn may not move the id.
	boom := errors.New("boom")
	if _, err := planEmbedAppUpdate(&a, "app", "root", func(*EmbedApp) (EmbedChange, error) { return EmbedChange{}, boom }, now); !errors.Is(err, boom) || calls != 0 {
		t.Errorf("update whose fn fails: %v, %d clock reads", err, calls)
	}
	e, err := planEmbedAppUpdate(&a, "app", "root", func(x *EmbedApp) (EmbedChange, error) {
		x.ID, x.Name = "moved", "B"
		return EmbedChange{Detail: "renamed"}, nil
	}, now)
	if err != nil || a.ID != "app" || a.Name != "B" || a.UpdatedBy != "root" ||
		!reflect.DeepEqual(e, AuditEntry{At: at, Actor: "root", Action: ActionEmbedAppUpdate, Detail: "app app: renamed"}) {
		t.Errorf("update: app %+v, entry %+v, %v", a, e, err)
	}
	e, _ = planEmbedAppUpdate(&a, "app", "root", func(*EmbedApp) (EmbedChange, error) {
		return EmbedChange{Action: ActionEmbedSecretRotate}, nil
	}, now)
	if e.Action != ActionEmbedSecretRotate || e.Detail != "app app" {
		t.Errorf("rotate: entry %+v", e)
	}

	tok := EmbedToken{ID: "0123456789abcdef", AppID: "app", UserID: "u"}
	e, revoked := planEmbedRevoke(&tok, "root", now)
	if !revoked || tok.RevokedAt != at || tok.RevokedBy != "root" ||
		!reflect.DeepEqual(e, AuditEntry{At: at, Actor: "root", Action: ActionEmbedTokenRevoke, Detail: "app app: user u, token 0123456789ab"}) {
		t.Errorf("revoke: token %+v, entry %+v", tok, e)
	}
	before := calls
	if _, revoked := planEmbedRevoke(&tok, "other", now); revoked || tok.RevokedBy != "root" || calls != before {
		t.Errorf("revoke again: revoked %v, token %+v, %d more clock reads", revoked, tok, calls-before)
	}
}

func TestCheckTeamState(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    TeamState
		want error
	}{
		{"valid", TeamState{TeamID: "t", PluginID: "p", UpdatedBy: "u"}, nil},
		{"no team", TeamState{PluginID: "p", UpdatedBy: "u"}, ErrInvalid},
		{"no plugin", TeamState{TeamID: "t", UpdatedBy: "u"}, ErrInvalid},
		{"no actor", TeamState{TeamID: "t", PluginID: "p"}, ErrInvalid},
	} {
		if err := checkTeamState(tc.s); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestPlanBlobs(t *testing.T) {
	a, b, c := []byte("a"), []byte("bb"), []byte("ccc")
	sa, sb, sc := sha256Hex(a), sha256Hex(b), sha256Hex(c)
	stored := map[string]int64{sb: 2}
	storedSize := func(sha string) (int64, bool) { n, ok := stored[sha]; return n, ok }
	for _, tc := range []struct {
		name  string
		refs  []blobRef
		blobs map[string][]byte
		want  []string
		err   error
	}{
		// Passed in and not stored: written once, in reference order.
		{"new and shared", []blobRef{{"web.js", sc, 3}, {"web.js gzip", sa, -1}, {"mobile.js", sc, 3}}, map[string][]byte{sa: a, sc: c}, []string{sc, sa}, nil},
		{"stored, not passed", []blobRef{{"web.js", sb, 2}}, nil, nil, nil},
		{"stored and passed: not written again", []blobRef{{"web.js", sb, 2}}, map[string][]byte{sb: b}, nil, nil},
		{"neither", []blobRef{{"web.js", sa, 1}}, nil, nil, ErrMissingBlob},
		{"size of a blob passed in", []blobRef{{"web.js", sa, 2}}, map[string][]byte{sa: a}, nil, ErrInvalid},
		{"size of a stored blob", []blobRef{{"web.js", sb, 3}}, nil, nil, ErrInvalid},
	} {
		got, err := planBlobs(tc.refs, tc.blobs, storedSize)
		if !errors.Is(err, tc.err) || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v, %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}
