package mobile

import (
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSignVerify(t *testing.T) {
	priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub := priv.Public().(ed25519.PublicKey)
	body := []byte(`{"team":"t","platform":"ios","plugins":[]}` + "\n")
	sig := Sign(priv, body)
	if err := Verify(pub, body, sig); err != nil {
		t.Fatalf("own signature: %v", err)
	}
	for i := range body {
		tampered := append([]byte{}, body...)
		tampered[i] ^= 0x01
		if err := Verify(pub, tampered, sig); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("byte %d changed: %v, want ErrBadSignature", i, err)
		}
	}
	other, _ := GenerateKey()
	tests := map[string]string{
		"other key":   Sign(other, body),
		"not base64":  "%%%",
		"truncated":   sig[:20],
		"empty":       "",
		"flipped sig": strings.ToUpper(sig[:1]) + sig[1:] + "",
	}
	for name, s := range tests {
		if s == sig {
			continue
		}
		if err := Verify(pub, body, s); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", DefaultKeyFile)
	priv, created, err := LoadOrCreateKey(path)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreateKey: created=%v err=%v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	again, created, err := LoadOrCreateKey(path)
	if err != nil || created || !again.Equal(priv) {
		t.Fatalf("second LoadOrCreateKey: created=%v err=%v same=%v", created, err, again.Equal(priv))
	}
	if err := WriteKey(path, "", priv); err == nil {
		t.Fatal("WriteKey overwrote an existing key")
	}

	pubPath := filepath.Join(dir, PublicKeyFile)
	k2, _ := GenerateKey()
	if err := WriteKey(filepath.Join(dir, "k2.key"), pubPath, k2); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(pubPath)
	pub, err := ParsePublicKey(string(raw))
	if err != nil || !pub.Equal(k2.Public()) {
		t.Fatalf("public key file: %v", err)
	}
	if len(KeyID(pub)) != 16 {
		t.Fatalf("KeyID %q", KeyID(pub))
	}

	os.WriteFile(filepath.Join(dir, "junk.key"), []byte("not a key"), 0o600)
	if _, err := ReadKey(filepath.Join(dir, "junk.key")); !errors.Is(err, ErrBadKey) {
		t.Fatalf("junk key: %v", err)
	}
	if _, _, err := LoadOrCreateKey(filepath.Join(dir, "junk.key")); !errors.Is(err, ErrBadKey) {
		t.Fatalf("LoadOrCreateKey must not replace an unreadable key: %v", err)
	}
	if _, err := ParsePublicKey("AAAA"); !errors.Is(err, ErrBadKey) {
		t.Fatalf("short public key: %v", err)
	}
}
