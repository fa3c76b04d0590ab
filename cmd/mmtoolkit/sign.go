package main

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/mobile"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/server"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// Key files `mmtoolkit keygen --purpose package` writes.
const (
	packageKeyFile    = "package-signing.key"
	packagePubKeyFile = "package-signing.pub"
)

// cmdSign writes a detached signature over a package's canonical SHA-256.
func cmdSign(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sign", "PACKAGE --key KEYFILE",
		"Signs a plugin package with an ed25519 key (mmtoolkit keygen --purpose package).\n"+
			"PACKAGE is a directory or a .tar.gz. A directory is signed as `mmtoolkit pack` packs it\n"+
			"(the files its entries import) and the signature is written to DIR/"+pluginpkg.SignatureFile+", which\n"+
			"pack and push then carry; an archive gets FILE.tar.gz.sig beside it, which push sends.\n"+
			"The signature covers every file of the package: change one and sign again.", stderr)
	key := fs.String("key", env("MMTOOLKIT_SIGNING_KEY", ""), "private key file (PEM, from keygen --purpose package; env MMTOOLKIT_SIGNING_KEY)")
	out := fs.String("o", "", "where to write the signature (default DIR/"+pluginpkg.SignatureFile+" or FILE.tar.gz.sig)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := positional(fs, pos, "PACKAGE"); err != nil {
		return err
	}
	if *key == "" {
		return usagef(fs, "--key is required: the private key file to sign with (mmtoolkit keygen --purpose package writes one)")
	}
	if err := checkPluginPath(pos[0], true); err != nil {
		return err
	}
	priv, err := mobile.ReadKey(*key)
	if err != nil {
		return err
	}
	path := pos[0]
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	var (
		m      *pluginpkg.Manifest
		digest string
		dest   = *out
	)
	if st.IsDir() {
		pkg, files, err := packedFiles(path, stderr)
		if err != nil {
			return err
		}
		m, digest = &pkg.Manifest, (&pluginpkg.Package{Files: files}).SHA256()
		if dest == "" {
			dest = filepath.Join(path, pluginpkg.SignatureFile)
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		pkg, err := pluginpkg.ReadArchive(f, pluginpkg.Limits{}, slots.Known)
		f.Close()
		if err != nil {
			return err
		}
		m, digest = &pkg.Manifest, pkg.SHA256()
		if dest == "" {
			dest = path + ".sig"
		}
	}
	sig, err := pluginpkg.SignDigest(priv, digest)
	if err != nil {
		return err
	}
	if err := os.WriteFile(dest, sig.Marshal(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signed %s@%s (package sha256 %s) with key %s: %s\n",
		m.ID, m.Version, digest, pluginpkg.KeyFingerprint(sig.Key()), dest)
	return nil
}

// parseInterspersed parses flags that may come before or after the
// positional arguments ("sign DIR --key K" as well as "sign --key K DIR"),
// and returns the positional ones. After "--" everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stops at the first non-flag, or consumes a "--".
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// signatureFor returns the plugin.sig to put in an archive of files (the
// digest of which is computed here): a new one made with key, else the one
// the package directory carries, checked against the files. A stale
// plugin.sig (the files changed since `mmtoolkit sign`) is an error, so a
// package is never shared with a signature that fails on the server.
func signatureFor(files map[string][]byte, existing []byte, key ed25519.PrivateKey, dir string) ([]byte, error) {
	digest := (&pluginpkg.Package{Files: files}).SHA256()
	if key != nil {
		sig, err := pluginpkg.SignDigest(key, digest)
		if err != nil {
			return nil, err
		}
		return sig.Marshal(), nil
	}
	if existing == nil {
		return nil, nil
	}
	sig, err := pluginpkg.ParseSignature(existing)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, pluginpkg.SignatureFile), err)
	}
	if err := sig.Verify(digest); err != nil {
		return nil, fmt.Errorf("%s no longer matches the package (the files changed after it was signed): sign again with `mmtoolkit sign %s --key KEYFILE`, or delete it to pack unsigned",
			filepath.Join(dir, pluginpkg.SignatureFile), dir)
	}
	return existing, nil
}

// readPublicKey reads a trusted key: the base64 line keygen writes to its
// .pub file, or a PEM "PUBLIC KEY" (openssl pkey -pubout).
func readPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if block, _ := pem.Decode(data); block != nil {
		switch block.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			pub, ok := k.(ed25519.PublicKey)
			if !ok {
				return nil, fmt.Errorf("%s holds a %T, not an ed25519 public key", path, k)
			}
			return pub, nil
		case "PRIVATE KEY":
			return nil, fmt.Errorf("%s is a private key: give the server the public key (the .pub file keygen wrote next to it); keep the private key with the signer", path)
		}
		return nil, fmt.Errorf("%s holds a PEM %q block, not a public key", path, block.Type)
	}
	pub, err := mobile.ParsePublicKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w (want the .pub file `mmtoolkit keygen --purpose package` writes)", path, err)
	}
	return pub, nil
}

// trustFlag is serve's repeatable --trust LEVEL=KEYFILE.
type trustFlag struct{ keys []server.TrustedKey }

func (t *trustFlag) String() string {
	parts := make([]string, len(t.keys))
	for i, k := range t.keys {
		parts[i] = k.Level.String() + "=" + k.Source
	}
	return strings.Join(parts, ",")
}

func (t *trustFlag) Set(v string) error {
	level, path, ok := strings.Cut(v, "=")
	if !ok || path == "" {
		return fmt.Errorf("want LEVEL=PUBLIC_KEY_FILE, e.g. certified=keys/certifier.pub")
	}
	c, err := registry.ParseCertification(level)
	if err != nil {
		return err
	}
	if c == registry.Unverified {
		return fmt.Errorf("unverified needs no key: every unsigned package is unverified; trust keys for official, certified or community")
	}
	pub, err := readPublicKey(path)
	if err != nil {
		return err
	}
	t.keys = append(t.keys, server.TrustedKey{Key: pub, Level: c, Source: path})
	return nil
}

// levelFlag is serve's --min-certification.
type levelFlag struct{ c registry.Certification }

func (l *levelFlag) String() string { return l.c.String() }
func (l *levelFlag) Set(v string) (err error) {
	l.c, err = registry.ParseCertification(v)
	return err
}

// certificationFlags adds serve's --trust and --min-certification, with
// their defaults from MMTOOLKIT_TRUST (entries separated by commas or
// spaces) and MMTOOLKIT_MIN_CERTIFICATION.
func certificationFlags(fs *flag.FlagSet) (*trustFlag, *levelFlag, error) {
	trust, min := &trustFlag{}, &levelFlag{}
	for _, entry := range strings.FieldsFunc(os.Getenv("MMTOOLKIT_TRUST"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		if err := trust.Set(entry); err != nil {
			return nil, nil, fmt.Errorf("MMTOOLKIT_TRUST %q: %w", entry, err)
		}
	}
	if v := os.Getenv("MMTOOLKIT_MIN_CERTIFICATION"); v != "" {
		if err := min.Set(v); err != nil {
			return nil, nil, fmt.Errorf("MMTOOLKIT_MIN_CERTIFICATION: %w", err)
		}
	}
	fs.Var(trust, "trust", "trust an ed25519 public key for a certification level: LEVEL=KEYFILE with LEVEL\nofficial, certified or community (repeatable; env MMTOOLKIT_TRUST, comma-separated).\nA push signed with any other key is refused")
	fs.Var(min, "min-certification", "lowest certification level a plugin version may have to be enabled and served:\nofficial, certified, community or unverified (env MMTOOLKIT_MIN_CERTIFICATION) (default unverified)")
	return trust, min, nil
}

// detachedSignatureFor finds the signature push sends beside an archive:
// the --signature file, else FILE.sig when it exists.
func detachedSignatureFor(path, explicit string) ([]byte, string, error) {
	name := explicit
	if name == "" {
		name = path + ".sig"
		if _, err := os.Stat(name); errors.Is(err, os.ErrNotExist) {
			return nil, "", nil
		}
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, "", err
	}
	if _, err := pluginpkg.ParseSignature(data); err != nil {
		return nil, "", fmt.Errorf("%s: %w", name, err)
	}
	return data, name, nil
}
