package server_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// env is a real server on loopback: a bbolt registry in a temp dir, the
// sandbox identity, and a token per sandbox user.
type env struct {
	t      testing.TB
	url    string
	srv    *server.Server
	store  *registry.Bolt
	tokens map[string]string
	teams  map[string]string // name -> id
}

func newEnv(t testing.TB, cfg server.Config) *env {
	t.Helper()
	return newEnvWith(t, cfg, nil)
}

// newEnvWith is newEnv whose server asks identity(sb) who callers are
// instead of the sandbox itself (nil: the sandbox).
func newEnvWith(t testing.TB, cfg server.Config, newIdentity func(*sandbox.Sandbox) server.Identity) *env {
	t.Helper()
	store := registrytest.Open(t)
	sb, err := sandbox.Open(filepath.Join(t.TempDir(), "sandbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	if cfg.Upstream == nil {
		cfg.Upstream = sb.Handler()
	} else {
		// Tests that bring a stand-in upstream still log in with the sandbox.
		stand := cfg.Upstream
		cfg.Upstream = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/v4/users/login" {
				sb.Handler().ServeHTTP(w, r)
				return
			}
			stand.ServeHTTP(w, r)
		})
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var id server.Identity = sb
	if newIdentity != nil {
		id = newIdentity(sb)
	}
	srv, err := server.New(store, id, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(srv.Close)
	t.Cleanup(hs.Close)
	e := &env{t: t, url: hs.URL, srv: srv, store: store, tokens: map[string]string{}, teams: map[string]string{}}
	for _, u := range []string{"admin", "dev", "alice", "bob", "carol"} {
		resp := e.do("", "POST", "/api/v4/users/login", "application/json",
			strings.NewReader(`{"login_id":"`+u+`","password":"mmtoolkit"}`))
		if resp.status != 200 || resp.header.Get("Token") == "" {
			t.Fatalf("login %s: %d %s", u, resp.status, resp.body)
		}
		e.tokens[u] = resp.header.Get("Token")
	}
	for _, name := range []string{"engineering", "sales"} {
		e.teams[name] = sandbox.SeedID("team", name)
	}
	return e
}

// waitIdle waits for background work: precompressed variants of pushed
// bundles.
func (e *env) waitIdle() {
	e.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !e.srv.Idle(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			e.t.Fatal("server still busy after 10 s")
		}
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return m
}

// errorCode returns error.code of an error body.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	if e == nil {
		t.Fatalf("no error object in %d %s", r.status, r.body)
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Errorf("error %v has no message", e["code"])
	}
	return e["code"].(string)
}

func (e *env) do(user, method, path, contentType string, body io.Reader, hdr ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[user])
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gzip: tests see the bytes sent
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, data}
}

func (e *env) push(user string, files map[string]string) response {
	e.t.Helper()
	return e.do(user, "POST", "/api/v1/plugins", "application/gzip", bytes.NewReader(archive(e.t, files)))
}

func archive(t testing.TB, files map[string]string) []byte {
	t.Helper()
	m := make(map[string][]byte, len(files))
	for k, v := range files {
		m[k] = []byte(v)
	}
	var buf bytes.Buffer
	if err := pluginpkg.WriteArchive(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawTar writes a .tar.gz with the given entry names as they are, for the
// unsafe archives pluginpkg.WriteArchive refuses to make.
func rawTar(t *testing.T, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, n := range names {
		body := []byte("{}")
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// linkTar is a .tar.gz whose plugin.json is a symlink.
func linkTar(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: "plugin.json", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink}); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func multipartBody(t *testing.T, field string, data []byte) (string, io.Reader) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile(field, "plugin.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return mw.FormDataContentType(), &buf
}

// helloPlugin is a small TSX plugin with a CSS import and a mobile entry.
func helloPlugin(id, version string) map[string]string {
	return map[string]string{
		"plugin.json": `{"id":"` + id + `","name":"Hello","version":"` + version + `",
			"description":"says hello",
			"webapp":{"entry":"webapp/index.tsx"},"mobile":{"entry":"mobile/index.tsx"},
			"slots":[{"slot":"post_type","post_type":"custom_hello"},{"slot":"channel_header_button"}]}`,
		"webapp/style.css": `.hello { color: red; }`,
		"webapp/index.tsx": `import React from 'react';
import './style.css';
const Hello = ({post}: {post: {message: string}}) => <div className="hello">{post.message}</div>;
(window as any).registerPlugin('` + id + `', {
  initialize(registry: any) {
    registry.registerPostTypeComponent('custom_hello', Hello);
    registry.registerChannelHeaderButtonAction(<span>hi</span>, () => {}, 'Hello', 'Hello');
  },
});
`,
		"mobile/index.tsx": `import React from 'react';
import {Text} from 'react-native';
export function initialize(registry: any) {
  registry.registerPostTypeComponent('custom_hello', ({post}: any) => <Text>{post.message}</Text>);
}
`,
	}
}

func userID(username string) string { return sandbox.SeedID("user", username) }
