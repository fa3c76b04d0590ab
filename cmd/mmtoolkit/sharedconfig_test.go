package main

import (
	"context"
	"crypto/ed25519"
	"io"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/mobile"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// TestShareConfig: replicas of one registry sign mobile manifests with the
// key the first one stored and judge packages with the trust settings the
// last one started with flags stored.
func TestShareConfig(t *testing.T) {
	ctx := context.Background()
	st := registrytest.Open(t)
	newKey := func() ed25519.PrivateKey {
		k, err := mobile.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	keyA, keyB := newKey(), newKey()
	trusted := server.TrustedKey{Key: newKey().Public().(ed25519.PublicKey), Level: registry.Certified, Source: "keys/certifier.pub"}

	a := server.Config{MobileKey: keyA, TrustedKeys: []server.TrustedKey{trusted}, MinCertification: registry.Community}
	if err := shareConfig(ctx, st, &a, true, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !a.MobileKey.Equal(keyA) {
		t.Error("the first replica's key was replaced")
	}

	var out strings.Builder
	b := server.Config{MobileKey: keyB}
	if err := shareConfig(ctx, st, &b, false, &out); err != nil {
		t.Fatal(err)
	}
	if !b.MobileKey.Equal(keyA) {
		t.Error("the second replica signs with its own key, not the shared one")
	}
	if b.MinCertification != registry.Community || len(b.TrustedKeys) != 1 || !b.TrustedKeys[0].Key.Equal(trusted.Key) || b.TrustedKeys[0].Level != registry.Certified {
		t.Errorf("second replica's trust: %+v, want the first's", b)
	}
	if !strings.Contains(out.String(), "shared key") || !strings.Contains(out.String(), "package trust") {
		t.Errorf("the second replica did not say it uses shared settings:\n%s", out.String())
	}

	// A replica started with other trust flags replaces them for all
	// replicas started after it.
	c := server.Config{MobileKey: newKey(), MinCertification: registry.Official}
	if err := shareConfig(ctx, st, &c, true, io.Discard); err != nil {
		t.Fatal(err)
	}
	d := server.Config{MobileKey: newKey()}
	if err := shareConfig(ctx, st, &d, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	if d.MinCertification != registry.Official || len(d.TrustedKeys) != 0 || !d.MobileKey.Equal(keyA) {
		t.Errorf("after a replica with other flags: %+v", d)
	}
}
