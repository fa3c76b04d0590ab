package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/mmtoolkit/mmtoolkit/mobile"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// Replicas of one registry (serve --store postgres://...) must sign mobile
// manifests with one key (apps pin it) and judge a pushed package's
// signature the same way whichever replica takes the push. So both live in
// the store (registry.Settings), not only in each process's files and flags.

// storedTrust is registry.SettingTrust's JSON: the keys trusted per level and
// the minimum level.
type storedTrust struct {
	Keys             []storedTrustKey       `json:"keys"`
	MinCertification registry.Certification `json:"min_certification"`
}

type storedTrustKey struct {
	Level registry.Certification `json:"level"`
	// Key is the public key as keygen's .pub file holds it (base64).
	Key string `json:"key"`
	// Source is the file the key was read from, for messages.
	Source string `json:"source,omitempty"`
}

// shareConfig makes cfg's mobile signing key and package trust the ones the
// store shares:
//
//   - the mobile key: the first replica to start stores its key (from --key
//     or <data>/mobile-signing.key); every later one signs with the stored
//     key, whatever its own file holds, and says so;
//   - trust: a replica started with --trust or --min-certification (or their
//     environment variables) stores them, replacing what was stored; one
//     started without uses what is stored. Start every replica with the
//     same trust flags, or give them to one and none to the others.
func shareConfig(ctx context.Context, st registry.Settings, cfg *server.Config, trustGiven bool, stdout io.Writer) error {
	if cfg.MobileKey != nil {
		mine, err := mobile.MarshalKey(cfg.MobileKey)
		if err != nil {
			return err
		}
		stored, err := st.InitSetting(ctx, registry.SettingMobileKey, mine, "serve")
		if err != nil {
			return fmt.Errorf("share the mobile signing key: %w", err)
		}
		if !bytes.Equal(stored, mine) {
			key, err := mobile.ParseKey(stored)
			if err != nil {
				return fmt.Errorf("the registry's mobile signing key: %w", err)
			}
			cfg.MobileKey = key
			fmt.Fprintf(stdout, "mobile manifests are signed with the registry's shared key %s (this replica's own key file is not used)\n",
				mobile.KeyID(key.Public().(ed25519.PublicKey)))
		}
	}

	if trustGiven {
		t := storedTrust{MinCertification: cfg.MinCertification, Keys: []storedTrustKey{}}
		for _, k := range cfg.TrustedKeys {
			t.Keys = append(t.Keys, storedTrustKey{Level: k.Level, Key: mobile.PublicKeyString(k.Key), Source: k.Source})
		}
		raw, err := json.Marshal(t)
		if err != nil {
			return err
		}
		if err := st.SetSetting(ctx, registry.SettingTrust, raw, "serve"); err != nil {
			return fmt.Errorf("share the package trust settings: %w", err)
		}
		return nil
	}
	raw, err := st.Setting(ctx, registry.SettingTrust)
	if errors.Is(err, registry.ErrSettingNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the shared package trust settings: %w", err)
	}
	var t storedTrust
	if err := json.Unmarshal(raw, &t); err != nil {
		return fmt.Errorf("the registry's package trust settings: %w", err)
	}
	cfg.MinCertification = t.MinCertification
	cfg.TrustedKeys = nil
	for _, k := range t.Keys {
		pub, err := mobile.ParsePublicKey(k.Key)
		if err != nil {
			return fmt.Errorf("the registry's package trust settings: key from %s: %w", k.Source, err)
		}
		cfg.TrustedKeys = append(cfg.TrustedKeys, server.TrustedKey{Key: pub, Level: k.Level, Source: k.Source + " (shared)"})
	}
	fmt.Fprintf(stdout, "package trust from the registry's shared settings: %d key(s), minimum certification %s\n", len(t.Keys), t.MinCertification)
	return nil
}

// flagGiven reports whether the flag was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
