package pluginpkg_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// testKey is a fixed key, so signatures in these tests are stable.
func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func signedPackage(t *testing.T) (*pluginpkg.Package, map[string][]byte) {
	t.Helper()
	files := map[string][]byte{
		"plugin.json":      []byte(manifest()),
		"webapp/index.tsx": []byte(entryTSX),
	}
	pkg := readFiles(t, files)
	sig, err := pluginpkg.SignDigest(testKey(1), pkg.SHA256())
	if err != nil {
		t.Fatal(err)
	}
	files[pluginpkg.SignatureFile] = sig.Marshal()
	return pkg, files
}

func readFiles(t *testing.T, files map[string][]byte) *pluginpkg.Package {
	t.Helper()
	var buf bytes.Buffer
	if err := pluginpkg.WriteArchive(&buf, files); err != nil {
		t.Fatal(err)
	}
	pkg, err := pluginpkg.ReadArchive(&buf, pluginpkg.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

func code(err error) string {
	var pe *pluginpkg.Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestSignatureRoundTrip: plugin.sig travels beside the files without being
// one of them, so the digest is the same signed or not, and it verifies.
func TestSignatureRoundTrip(t *testing.T) {
	unsigned, files := signedPackage(t)
	pkg := readFiles(t, files)
	if pkg.Signature == nil {
		t.Fatal("plugin.sig was not picked up")
	}
	if _, ok := pkg.Files[pluginpkg.SignatureFile]; ok {
		t.Fatal("plugin.sig is among the package files")
	}
	if pkg.SHA256() != unsigned.SHA256() {
		t.Fatal("the signature changed the package digest")
	}
	sig, err := pluginpkg.ParseSignature(pkg.Signature)
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Verify(pkg.SHA256()); err != nil {
		t.Fatal(err)
	}
	if !sig.Key().Equal(testKey(1).Public()) {
		t.Error("Key is not the signer's")
	}
	if !bytes.Equal(sig.Marshal(), pkg.Signature) {
		t.Errorf("Marshal does not reproduce the file:\n%s\n%s", sig.Marshal(), pkg.Signature)
	}
	// Deterministic: signing again gives the same bytes.
	again, _ := pluginpkg.SignDigest(testKey(1), pkg.SHA256())
	if !bytes.Equal(again.Marshal(), pkg.Signature) {
		t.Error("signing is not deterministic")
	}
	if fp := pluginpkg.KeyFingerprint(sig.Key()); !strings.HasPrefix(fp, "SHA256:") || len(fp) != 7+43 {
		t.Errorf("fingerprint %q", fp)
	}
}

// TestSignatureTamperedPackage: one changed byte of one file breaks it.
func TestSignatureTamperedPackage(t *testing.T) {
	_, files := signedPackage(t)
	files["webapp/index.tsx"] = append(append([]byte{}, files["webapp/index.tsx"]...), ' ')
	pkg := readFiles(t, files)
	sig, err := pluginpkg.ParseSignature(pkg.Signature)
	if err != nil {
		t.Fatal(err)
	}
	err = sig.Verify(pkg.SHA256())
	if code(err) != pluginpkg.CodeSignatureMismatch || !strings.Contains(err.Error(), "changed after signing") {
		t.Fatalf("tampered package: %v", err)
	}
}

// TestSignatureForged: a signature file whose digest was edited to match a
// tampered package, or whose key was swapped, does not verify.
func TestSignatureForged(t *testing.T) {
	pkg, _ := signedPackage(t)
	good, _ := pluginpkg.SignDigest(testKey(1), pkg.SHA256())

	other := strings.Repeat("ab", 32)
	forged := *good
	forged.PackageSHA256 = other
	sig, err := pluginpkg.ParseSignature(forged.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Verify(other); code(err) != pluginpkg.CodeSignatureInvalid {
		t.Errorf("edited digest: %v", err)
	}

	swapped := *good
	swapped.PublicKey = base64.StdEncoding.EncodeToString(testKey(2).Public().(ed25519.PublicKey))
	sig, err = pluginpkg.ParseSignature(swapped.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Verify(pkg.SHA256()); code(err) != pluginpkg.CodeSignatureInvalid {
		t.Errorf("swapped key: %v", err)
	}
}

func TestParseSignatureRejects(t *testing.T) {
	good, _ := pluginpkg.SignDigest(testKey(1), strings.Repeat("0", 64))
	edit := func(f func(s *pluginpkg.Signature)) string {
		s := *good
		f(&s)
		return string(s.Marshal())
	}
	for name, in := range map[string]string{
		"empty":         "",
		"not json":      "hello",
		"array":         "[]",
		"unknown field": strings.Replace(string(good.Marshal()), `"format"`, `"extra": 1, "format"`, 1),
		"trailing":      string(good.Marshal()) + "{}",
		"format 2":      edit(func(s *pluginpkg.Signature) { s.Format = 2 }),
		"rsa":           edit(func(s *pluginpkg.Signature) { s.Algorithm = "rsa" }),
		"short sha":     edit(func(s *pluginpkg.Signature) { s.PackageSHA256 = "abc" }),
		"upper sha":     edit(func(s *pluginpkg.Signature) { s.PackageSHA256 = strings.Repeat("A", 64) }),
		"short key":     edit(func(s *pluginpkg.Signature) { s.PublicKey = "AAAA" }),
		"url base64": edit(func(s *pluginpkg.Signature) {
			s.Signature = strings.NewReplacer("+", "-", "/", "_").Replace(s.Signature) + "x"
		}),
		"short sig": edit(func(s *pluginpkg.Signature) { s.Signature = s.PublicKey }),
		"huge":      `{"format":1,"algorithm":"` + strings.Repeat("x", pluginpkg.MaxSignatureBytes) + `"}`,
	} {
		if _, err := pluginpkg.ParseSignature([]byte(in)); code(err) != pluginpkg.CodeSignatureMalformed {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestOversizedSignatureFileRejectedOnRead: a plugin.sig too large to be a
// signature stops the read with the signature's code.
func TestOversizedSignatureFileRejectedOnRead(t *testing.T) {
	files := map[string][]byte{
		"plugin.json":           []byte(manifest()),
		"webapp/index.tsx":      []byte(entryTSX),
		pluginpkg.SignatureFile: bytes.Repeat([]byte("x"), pluginpkg.MaxSignatureBytes+1),
	}
	var buf bytes.Buffer
	if err := pluginpkg.WriteArchive(&buf, files); err != nil {
		t.Fatal(err)
	}
	if _, err := pluginpkg.ReadArchive(&buf, pluginpkg.Limits{}, nil); code(err) != pluginpkg.CodeSignatureMalformed {
		t.Fatalf("oversized plugin.sig: %v", err)
	}
}

// FuzzParseSignature: any input either fails with CodeSignatureMalformed or
// parses to a signature that re-encodes to an equivalent one; Verify never
// panics and never accepts a digest other than the one named.
func FuzzParseSignature(f *testing.F) {
	good, _ := pluginpkg.SignDigest(testKey(1), strings.Repeat("0", 64))
	f.Add(good.Marshal())
	f.Add([]byte(`{"format":1,"algorithm":"ed25519","package_sha256":"","public_key":"","signature":""}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := pluginpkg.ParseSignature(data)
		if err != nil {
			if code(err) != pluginpkg.CodeSignatureMalformed {
				t.Fatalf("error without the malformed code: %v", err)
			}
			return
		}
		again, err := pluginpkg.ParseSignature(s.Marshal())
		if err != nil {
			t.Fatalf("re-encoded signature does not parse: %v\n%s", err, s.Marshal())
		}
		if again.PackageSHA256 != s.PackageSHA256 || again.PublicKey != s.PublicKey || again.Signature != s.Signature {
			t.Fatalf("round trip changed the signature: %+v -> %+v", s, again)
		}
		verr := s.Verify(s.PackageSHA256)
		if verr != nil && code(verr) != pluginpkg.CodeSignatureInvalid {
			t.Fatalf("Verify: %v", verr)
		}
		other := strings.Repeat("f", 64)
		if other == s.PackageSHA256 {
			other = strings.Repeat("e", 64)
		}
		if s.Verify(other) == nil {
			t.Fatal("a signature verified another digest")
		}
	})
}
