package main

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"path/filepath"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/mobile"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// cmdKeygen writes a new mobile signing key pair.
func cmdKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keygen", "[-o DIR]",
		"Writes a new ed25519 key pair for signing mobile manifests: DIR/"+mobile.DefaultKeyFile+"\n"+
			"(private, mode 0600; give it to serve --key) and DIR/"+mobile.PublicKeyFile+" (base64;\n"+
			"the key React Native apps pin). Existing files are never overwritten: apps that\n"+
			"pinned a key refuse manifests signed by another.", stderr)
	dir := fs.String("o", ".", "directory to write the key pair to (created if missing)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	priv, err := mobile.GenerateKey()
	if err != nil {
		return err
	}
	keyPath := filepath.Join(*dir, mobile.DefaultKeyFile)
	pubPath := filepath.Join(*dir, mobile.PublicKeyFile)
	if err := mobile.WriteKey(keyPath, pubPath, priv); err != nil {
		return err
	}
	pub := priv.Public().(ed25519.PublicKey)
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
