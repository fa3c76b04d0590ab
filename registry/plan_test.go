package registry

import (
	"errors"
	"strings"
	"testing"
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
