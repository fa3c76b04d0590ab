package main

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"path/filepath"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/mobile"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// cmdKeygen writes a new ed25519 key pair: for signing mobile manifests
// (the default) or plugin packages. Both are the same kind of key in the
// same files; the purpose picks the file names and the hints printed.
func cmdKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keygen", "[--purpose mobile|package] [-o DIR]",
		"Writes a new ed25519 key pair. Existing files are never overwritten.\n\n"+
			"--purpose mobile (default): DIR/"+mobile.DefaultKeyFile+" (private, mode 0600; give it to\n"+
			"serve --key) and DIR/"+mobile.PublicKeyFile+" (base64; the key React Native apps pin: apps that\n"+
			"pinned a key refuse manifests signed by another).\n\n"+
			"--purpose package: DIR/"+packageKeyFile+" (private; mmtoolkit sign DIR --key it, or\n"+
			"pack --key) and DIR/"+packagePubKeyFile+" (base64; the server's operator trusts it for a level\n"+
			"with serve --trust LEVEL=FILE).", stderr)
	dir := fs.String("o", ".", "directory to write the key pair to (created if missing)")
	purpose := fs.String("purpose", "mobile", "what the key signs: mobile (manifests) or package (plugin packages)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := positional(fs, fs.Args()); err != nil {
		return err
	}
	keyName, pubName := mobile.DefaultKeyFile, mobile.PublicKeyFile
	switch *purpose {
	case "mobile":
	case "package", "sign":
		keyName, pubName = packageKeyFile, packagePubKeyFile
	default:
		return usagef(fs, "--purpose %q: use mobile or package", *purpose)
	}
	priv, err := mobile.GenerateKey()
	if err != nil {
		return err
	}
	keyPath := filepath.Join(*dir, keyName)
	pubPath := filepath.Join(*dir, pubName)
	if err := mobile.WriteKey(keyPath, pubPath, priv); err != nil {
		return err
	}
	pub := priv.Public().(ed25519.PublicKey)
	if keyName == packageKeyFile {
		fmt.Fprintf(stdout, "private key: %s (keep it secret; mmtoolkit sign ./my-plugin --key %s)\n", keyPath, keyPath)
		fmt.Fprintf(stdout, "public key:  %s (fingerprint %s; servers trust it with serve --trust certified=%s)\n%s\n",
			pubPath, pluginpkg.KeyFingerprint(pub), pubPath, mobile.PublicKeyString(pub))
		return nil
	}
	fmt.Fprintf(stdout, "private key: %s (keep it secret; mmtoolkit serve --key %s)\n", keyPath, keyPath)
	fmt.Fprintf(stdout, "public key:  %s (key id %s)\n%s\n", pubPath, mobile.KeyID(pub), mobile.PublicKeyString(pub))
	return nil
}

// mobileConfig loads (or on first start creates) the mobile signing key and
// finds hermesc, for serve.
func mobileConfig(data, keyPath, hermesc string, stdout io.Writer) (server.Config, error) {
	var cfg server.Config
	if keyPath == "" {
		keyPath = filepath.Join(data, mobile.DefaultKeyFile)
	}
	priv, created, err := mobile.LoadOrCreateKey(keyPath)
	if err != nil {
		return cfg, err
	}
	cfg.MobileKey = priv
	pub := mobile.PublicKeyString(priv.Public().(ed25519.PublicKey))
	if created {
		fmt.Fprintf(stdout, "created the mobile signing key %s; apps pin its public key %s\n", keyPath, pub)
	}
	if hermesc != "off" {
		p, err := bundler.FindHermesc(hermesc)
		switch {
		case err == nil:
			cfg.Hermesc = p
		case hermesc != "":
			return cfg, err // a path given explicitly must work
		default:
			fmt.Fprintf(stdout, "no hermesc (run `make mobile`): mobile bundles are served as JS only\n")
		}
	}
	return cfg, nil
}
