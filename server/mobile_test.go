package server_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/mobile"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
	"github.com/mmtoolkit/mmtoolkit/server"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// hermesc finds the project's hermesc; under CI=true it must exist.
func hermesc(t *testing.T) string {
	t.Helper()
	p, err := bundler.FindHermesc(os.Getenv("MMTOOLKIT_HERMESC"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("hermesc is required under CI=true (make mobile installs it): %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	return p
}

// mobilePlugin is a plugin with a React Native entry for runtimes in rng.
func mobilePlugin(id, version, rng string) map[string]string {
	files := helloPlugin(id, version)
	files["plugin.json"] = `{"id":"` + id + `","name":"Hello","version":"` + version + `",
		"webapp":{"entry":"webapp/index.tsx"},"mobile":{"entry":"mobile/index.tsx","runtime":"` + rng + `"},
		"slots":[{"slot":"post_type","post_type":"custom_hello"},{"slot":"channel_header_button"},{"slot":"call_button"}]}`
	return files
}

func (e *env) enable(id string) {
	e.t.Helper()
	r := e.do("alice", "PUT", "/api/v1/teams/engineering/plugins/"+id, "application/json", strings.NewReader(`{"enabled":true}`))
	if r.status != 200 {
		e.t.Fatalf("enable %s: %d %s", id, r.status, r.body)
	}
}

func mustPush(e *env, files map[string]string) {
	e.t.Helper()
	if r := e.push("dev", files); r.status != 201 {
		e.t.Fatalf("push: %d %s", r.status, r.body)
	}
}

func decodeMobile(t *testing.T, r response) slots.MobileManifest {
	t.Helper()
	var m slots.MobileManifest
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return m
}

func TestMobilePublicKey(t *testing.T) {
	t.Parallel()
	key, _ := mobile.GenerateKey()
	e := newEnv(t, server.Config{MobileKey: key})
	r := e.do("", "GET", "/api/v1/mobile/public-key", "", nil)
	if r.status != 200 {
		t.Fatalf("public key without a token: %d %s", r.status, r.body)
	}
	body := r.json(t)
	pub, err := mobile.ParsePublicKey(body["public_key"].(string))
	if err != nil || !pub.Equal(key.Public()) || body["algorithm"] != "ed25519" || body["key_id"] != mobile.KeyID(pub) {
		t.Fatalf("public key %v (%v)", body, err)
	}
}

func TestMobileManifest(t *testing.T) {
	t.Parallel()
	key, _ := mobile.GenerateKey()
	pub := key.Public().(ed25519.PublicKey)
	e := newEnv(t, server.Config{MobileKey: key})
	mustPush(e, mobilePlugin("com.example.one", "1.0.0", ">=1.0.0 <2.0.0"))
	mustPush(e, mobilePlugin("com.example.two", "1.0.0", "^2.0.0"))
	mustPush(e, mobilePlugin("com.example.off", "1.0.0", ""))
	e.enable("com.example.one")
	e.enable("com.example.two")

	path := "/api/v1/mobile/manifest?team=engineering&platform=ios&runtime=1.2.0"
	r := e.do("bob", "GET", path, "", nil)
	if r.status != 200 {
		t.Fatalf("manifest: %d %s", r.status, r.body)
	}
	sig := r.header.Get(mobile.SignatureHeader)
	if err := mobile.Verify(pub, r.body, sig); err != nil {
		t.Fatalf("signature over the body: %v", err)
	}
	if r.header.Get(mobile.KeyIDHeader) != mobile.KeyID(pub) {
		t.Errorf("key id header %q", r.header.Get(mobile.KeyIDHeader))
	}
	t.Run("one changed byte fails", func(t *testing.T) {
		for _, i := range []int{0, len(r.body) / 2, len(r.body) - 2} {
			b := append([]byte{}, r.body...)
			b[i] ^= 0x20
			if err := mobile.Verify(pub, b, sig); err == nil {
				t.Fatalf("byte %d changed and the signature still verifies", i)
			}
		}
	})

	m := decodeMobile(t, r)
	if m.Team != e.teams["engineering"] || m.Platform != slots.IOS || m.Runtime != "1.2.0" || len(m.Plugins) != 1 {
		t.Fatalf("manifest %s", r.body)
	}
	p := m.Plugins[0]
	if p.ID != "com.example.one" || p.Format != "js" || p.Version != "1.0.0" {
		t.Fatalf("entry %+v", p)
	}
	if len(p.Slots) != 2 || p.Slots[0].Slot != "post_type" || p.Slots[1].Slot != "call_button" {
		t.Errorf("slots %+v: want the mobile slots only", p.Slots)
	}
	if len(m.Skipped) != 1 || m.Skipped[0].ID != "com.example.two" || m.Skipped[0].Reason != "runtime" {
		t.Errorf("skipped %+v: the incompatible runtime is excluded and said so", m.Skipped)
	}

	t.Run("bundle matches its hash", func(t *testing.T) {
		b := e.do("", "GET", p.URL, "", nil)
		h := sha256.Sum256(b.body)
		if b.status != 200 || hex.EncodeToString(h[:]) != p.SHA256 || int64(len(b.body)) != p.Size {
			t.Fatalf("bundle %d, %d bytes", b.status, len(b.body))
		}
		if !strings.Contains(string(b.body), `require("react-native")`) {
			t.Errorf("mobile bundle does not require react-native from the host: %.200s", b.body)
		}
	})

	t.Run("304", func(t *testing.T) {
		etag := r.header.Get("ETag")
		nm := e.do("bob", "GET", path, "", nil, "If-None-Match", etag)
		if etag == "" || nm.status != 304 || len(nm.body) != 0 {
			t.Fatalf("If-None-Match %s: %d %s", etag, nm.status, nm.body)
		}
		e.enable("com.example.off")
		changed := e.do("bob", "GET", path, "", nil, "If-None-Match", etag)
		if changed.status != 200 || changed.header.Get("ETag") == etag {
			t.Fatalf("after enabling a plugin: %d, etag %s", changed.status, changed.header.Get("ETag"))
		}
		if err := mobile.Verify(pub, changed.body, changed.header.Get(mobile.SignatureHeader)); err != nil {
			t.Fatal(err)
		}
		if n := len(decodeMobile(t, changed).Plugins); n != 2 {
			t.Fatalf("%d plugins after enabling com.example.off, want 2", n)
		}
	})

	t.Run("runtime 2 gets the other plugin", func(t *testing.T) {
		m := decodeMobile(t, e.do("bob", "GET", "/api/v1/mobile/manifest?team="+e.teams["engineering"]+"&platform=android&runtime=2.0.1", "", nil))
		var ids []string
		for _, p := range m.Plugins {
			ids = append(ids, p.ID)
		}
		if strings.Join(ids, ",") != "com.example.off,com.example.two" || m.Platform != slots.Android {
			t.Fatalf("plugins %v on %s", ids, m.Platform)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			user, query string
			status      int
			code        string
		}{
			{"", "team=engineering&platform=ios&runtime=1.0.0", 401, "unauthenticated"},
			{"bob", "platform=ios&runtime=1.0.0", 400, "team_required"},
			{"bob", "team=engineering&platform=web&runtime=1.0.0", 400, "unknown_platform"},
			{"bob", "team=engineering&runtime=1.0.0", 400, "unknown_platform"},
			{"bob", "team=engineering&platform=ios", 400, "bad_runtime"},
			{"bob", "team=engineering&platform=ios&runtime=latest", 400, "bad_runtime"},
			{"bob", "team=engineering&platform=ios&runtime=1.0.0&bytecode=x98", 400, "bad_bytecode"},
			{"bob", "team=engineering&platform=ios&runtime=1.0.0&bytecode=-1", 400, "bad_bytecode"},
			{"bob", "team=engineering&platform=ios&runtime=1.0.0&bytecode=99999999999", 400, "bad_bytecode"},
			{"bob", "team=nowhere&platform=ios&runtime=1.0.0", 404, "team_not_found"},
			{"carol", "team=engineering&platform=ios&runtime=1.0.0", 403, "not_team_member"},
		} {
			r := e.do(tc.user, "GET", "/api/v1/mobile/manifest?"+tc.query, "", nil)
			if r.status != tc.status || r.errorCode(t) != tc.code {
				t.Errorf("%s as %q: %d %s, want %d %s", tc.query, tc.user, r.status, r.body, tc.status, tc.code)
			}
		}
	})
}

func TestMobileBytecode(t *testing.T) {
	t.Parallel()
	hc := hermesc(t)
	key, _ := mobile.GenerateKey()
	e := newEnv(t, server.Config{MobileKey: key, Hermesc: hc})
	h, err := bundler.NewHermes(context.Background(), hc)
	if err != nil {
		t.Fatal(err)
	}
	mustPush(e, mobilePlugin("com.example.one", "1.0.0", ""))
	e.enable("com.example.one")
	e.waitIdle()

	get := func(bytecode string) slots.MobilePlugin {
		t.Helper()
		r := e.do("bob", "GET", "/api/v1/mobile/manifest?team=engineering&platform=ios&runtime=1.0.0&bytecode="+bytecode, "", nil)
		if r.status != 200 {
			t.Fatalf("manifest: %d %s", r.status, r.body)
		}
		if err := mobile.Verify(key.Public().(ed25519.PublicKey), r.body, r.header.Get(mobile.SignatureHeader)); err != nil {
			t.Fatal(err)
		}
		m := decodeMobile(t, r)
		if len(m.Plugins) != 1 {
			t.Fatalf("manifest %s", r.body)
		}
		return m.Plugins[0]
	}
	p := get(itoa(h.Version))
	if p.Format != "hbc" || p.BytecodeVersion != h.Version || !strings.HasSuffix(p.URL, ".hbc") {
		t.Fatalf("entry for bytecode %d: %+v", h.Version, p)
	}
	b := e.do("", "GET", p.URL, "", nil)
	v, err := bundler.BytecodeVersion(b.body)
	sum := sha256.Sum256(b.body)
	if b.status != 200 || err != nil || v != h.Version || hex.EncodeToString(sum[:]) != p.SHA256 ||
		b.header.Get("Content-Type") != bundler.BytecodeContentType || !strings.Contains(b.header.Get("Cache-Control"), "immutable") {
		t.Fatalf("bytecode %d %v version %d, headers %v", b.status, err, v, b.header)
	}
	gz := e.do("", "GET", p.URL, "", nil, "Accept-Encoding", "gzip")
	if gz.header.Get("Content-Encoding") != "gzip" || len(gz.body) >= len(b.body) {
		t.Errorf("bytecode is not precompressed: %q, %d bytes of %d", gz.header.Get("Content-Encoding"), len(gz.body), len(b.body))
	}
	if js := get(itoa(h.Version - 1)); js.Format != "js" || !strings.HasSuffix(js.URL, ".js") {
		t.Fatalf("another bytecode version gets JS: %+v", js)
	}
	if js := get(""); js.Format != "js" {
		t.Fatalf("no bytecode asked, got %+v", js)
	}
	t.Logf("bytecode %d: JS %d bytes, HBC %d bytes", h.Version, get("").Size, p.Size)
}

// versionCounting is a store that counts the versions read.
type versionCounting struct {
	*registry.Bolt
	reads atomic.Int64
}

func (c *versionCounting) Version(ctx context.Context, pluginID, version string) (*registry.Version, error) {
	c.reads.Add(1)
	return c.Bolt.Version(ctx, pluginID, version)
}

// A server started with hermesc compiles what was pushed while it had none.
// Its start-up reads each stored version once (indexing the artifacts and
// finding the mobile bundles without bytecode, together).
func TestMobileBytecodeBackfill(t *testing.T) {
	t.Parallel()
	hc := hermesc(t)
	e := newEnv(t, server.Config{})
	mustPush(e, mobilePlugin("com.example.one", "1.0.0", ""))
	two := mobilePlugin("com.example.one", "1.0.1", "")
	two["mobile/index.tsx"] += "\nexport const second = 2;\n" // another mobile bundle
	mustPush(e, two)
	e.waitIdle()
	if all, _ := e.store.AllBytecode(context.Background()); len(all) != 0 {
		t.Fatalf("bytecode without hermesc: %+v", all)
	}
	store := &versionCounting{Bolt: e.store}
	srv, err := server.New(store, nil, server.Config{Hermesc: hc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if n := store.reads.Load(); n != 2 {
		t.Errorf("start-up read versions %d times, want each of the 2 once", n)
	}
	for deadline := time.Now().Add(20 * time.Second); !srv.Idle(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("still compiling after 20 s")
		}
	}
	all, err := e.store.AllBytecode(context.Background())
	if err != nil || len(all) != 2 || all[0].Error != "" || all[0].Artifact.Size == 0 || all[1].Error != "" {
		t.Fatalf("bytecode after a restart with hermesc: %+v %v", all, err)
	}
}

func TestMobileBadHermesc(t *testing.T) {
	t.Parallel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := server.New(registrytest.Open(t), nil, server.Config{Hermesc: "/nonexistent/hermesc", Logger: quiet}); err == nil {
		t.Fatal("a hermesc that does not run was accepted")
	}
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

func TestMobilePreview(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	_, built := mobile.PreviewScript()
	if !built && os.Getenv("CI") == "true" {
		t.Fatal("the binary has no mobile preview under CI=true: make builds mobile/preview/dist/preview.js first")
	}
	page := e.do("", "GET", "/mobile-preview?team=engineering", "", nil)
	js := e.do("", "GET", "/mobile-preview/preview.js", "", nil)
	if !built {
		if page.status != 503 || js.status != 404 {
			t.Fatalf("without the preview: page %d, script %d", page.status, js.status)
		}
		t.Skip("mobile/preview/dist/preview.js not built (make build): page says so")
	}
	if page.status != 200 || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") || !strings.Contains(string(page.body), `src="/mobile-preview/preview.js"`) {
		t.Fatalf("page %d %s", page.status, page.body)
	}
	if js.status != 200 || !strings.Contains(string(js.body), "react-native-web") && len(js.body) < 10000 {
		t.Fatalf("script %d, %d bytes", js.status, len(js.body))
	}
}
