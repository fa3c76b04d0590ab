package apiv4proxy_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/mattermosttest"
)

// serverArchive is a server-only plugin archive as mmtoolkit uploads it.
func serverArchive(t *testing.T, id, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []struct {
		name string
		mode int64
		body string
	}{
		{id + "/plugin.json", 0o644, `{"id":"` + id + `","name":"X","version":"` + version + `","server":{"executables":{"linux-amd64":"server/dist/plugin-linux-amd64"}}}`},
		{id + "/server/dist/plugin-linux-amd64", 0o755, "\x7fELF " + version},
	} {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.body))})
		tw.Write([]byte(f.body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// TestPluginAdmin: each call against the stand-in, and each failure mapped
// to its sentinel.
func TestPluginAdmin(t *testing.T) {
	mm := mattermosttest.New(t)
	plugins := mattermosttest.PluginAdmin(mm)
	admin := mm.Token(mm.AddUser("root", "system_user system_admin"))
	user := mm.Token(mm.AddUser("dev", ""))
	pa, err := apiv4proxy.NewPluginAdmin(mm.URL(), apiv4proxy.PluginAdminOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const id = "com.example.serverpart"

	m, err := pa.Upload(ctx, admin, serverArchive(t, id, "1.0.0"), true)
	if err != nil || m.ID != id || m.Version != "1.0.0" {
		t.Fatalf("upload: %+v, %v", m, err)
	}
	list, err := pa.Plugins(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if got, active, ok := list.Find(id); !ok || active || got.Version != "1.0.0" {
		t.Errorf("after upload: %+v active=%v installed=%v; want installed, not active (an upload does not enable)", got, active, ok)
	}
	if err := pa.Enable(ctx, admin, id); err != nil {
		t.Fatal(err)
	}
	list, _ = pa.Plugins(ctx, admin)
	if _, active, _ := list.Find(id); !active {
		t.Error("not active after enable")
	}
	st, err := pa.Statuses(ctx, admin)
	if err != nil || len(st) != 1 || st[0].State != apiv4proxy.PluginStateRunning || st[0].Version != "1.0.0" {
		t.Errorf("statuses %+v, %v", st, err)
	}
	if ip, _ := plugins.Installed(id); ip.Files["server/dist/plugin-linux-amd64"].Mode != 0o755 {
		t.Errorf("executable installed with mode %o", ip.Files["server/dist/plugin-linux-amd64"].Mode)
	}

	// Without force, an installed id is refused; with it, replaced and
	// still enabled.
	_, err = pa.Upload(ctx, admin, serverArchive(t, id, "1.1.0"), false)
	var pe *apiv4proxy.PluginAdminError
	if !errors.As(err, &pe) || pe.ID != "app.plugin.install_id.app_error" || pe.Status != http.StatusBadRequest {
		t.Errorf("upload without force: %v", err)
	}
	if _, err := pa.Upload(ctx, admin, serverArchive(t, id, "1.1.0"), true); err != nil {
		t.Fatal(err)
	}
	list, _ = pa.Plugins(ctx, admin)
	if got, active, _ := list.Find(id); got.Version != "1.1.0" || !active {
		t.Errorf("after a forced upload: %+v active=%v, want 1.1.0 still enabled", got, active)
	}

	for _, tc := range []struct {
		name  string
		setup func()
		call  func() error
		want  error
	}{
		{"not a system admin", nil, func() error { _, err := pa.Upload(ctx, user, serverArchive(t, id, "2.0.0"), true); return err }, apiv4proxy.ErrPluginAdminForbidden},
		{"bad token", nil, func() error { return pa.Enable(ctx, "nope", id) }, apiv4proxy.ErrInvalidToken},
		{"uploads disabled", func() { plugins.SetUploadsDisabled(true) }, func() error {
			defer plugins.SetUploadsDisabled(false)
			_, err := pa.Upload(ctx, admin, serverArchive(t, id, "2.0.0"), true)
			return err
		}, apiv4proxy.ErrUploadsDisabled},
		{"unknown plugin", nil, func() error { return pa.Disable(ctx, admin, "com.example.none") }, apiv4proxy.ErrPluginNotInstalled},
		{"upstream down", func() { plugins.Fail("enable", mattermosttest.Fault{}) }, func() error { return pa.Enable(ctx, admin, id) }, apiv4proxy.ErrUpstreamUnavailable},
		{"server error", func() {
			plugins.Fail("upload", mattermosttest.Fault{Status: 500, ID: "app.plugin.store_bundle.app_error", Message: "Unable to store the plugin to the configured file store."})
		}, func() error { _, err := pa.Upload(ctx, admin, serverArchive(t, id, "2.0.0"), true); return err }, apiv4proxy.ErrUpstreamUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			err := tc.call()
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}

	if err := pa.Remove(ctx, admin, id); err != nil {
		t.Fatal(err)
	}
	if _, ok := mm.Plugin(id); ok {
		t.Error("still installed after remove")
	}
	calls := plugins.Calls()
	if !slices.Contains(calls, "remove "+id) || !slices.Contains(calls, "enable "+id) {
		t.Errorf("calls %q", calls)
	}
}

// sampleBody reads the body of apiv4-proxy/testdata/<name>.json.
func sampleBody(t *testing.T, name string) json.RawMessage {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct{ Body json.RawMessage }
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return s.Body
}

// keysOf is the set of an object's keys (of its first element for a list),
// "" for anything else.
func keysOf(raw []byte) string {
	var list []map[string]json.RawMessage
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		raw, _ = json.Marshal(list[0])
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return ""
	}
	keys := slices.Sorted(maps.Keys(obj))
	return strings.Join(keys, ",")
}

// TestPluginAdminSamples: the stand-in answers the plugin admin API in the
// shapes of testdata/plugin_admin_*.json (Mattermost's), and the client
// reads those samples.
func TestPluginAdminSamples(t *testing.T) {
	mm := mattermosttest.New(t)
	plugins := mattermosttest.PluginAdmin(mm)
	admin := mm.Token(mm.AddUser("root", "system_user system_admin"))
	user := mm.Token(mm.AddUser("dev", ""))
	call := func(token, method, path, contentType string, body []byte) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, mm.URL()+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	upload := func(token string, force bool) (int, []byte) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("plugin", "p.tar.gz")
		fw.Write(serverArchive(t, "com.example.serverpart", "1.0.0"))
		if force {
			mw.WriteField("force", "true")
		}
		mw.Close()
		return call(token, "POST", "/api/v4/plugins", mw.FormDataContentType(), buf.Bytes())
	}
	if st, b := upload(admin, true); st != 201 {
		t.Fatalf("upload: %d %s", st, b)
	}
	call(admin, "POST", "/api/v4/plugins/com.example.serverpart/enable", "", nil)
	plugins.SetUploadsDisabled(false)
	for _, tc := range []struct {
		sample string
		status int
		get    func() (int, []byte)
	}{
		{"plugin_admin_list", 200, func() (int, []byte) { return call(admin, "GET", "/api/v4/plugins", "", nil) }},
		{"plugin_admin_statuses", 200, func() (int, []byte) { return call(admin, "GET", "/api/v4/plugins/statuses", "", nil) }},
		{"plugin_admin_forbidden", 403, func() (int, []byte) { return upload(user, true) }},
		{"plugin_admin_install_id", 400, func() (int, []byte) { return upload(admin, false) }},
		{"plugin_admin_not_installed", 404, func() (int, []byte) {
			return call(admin, "POST", "/api/v4/plugins/com.example.none/enable", "", nil)
		}},
		{"plugin_admin_upload_disabled", 501, func() (int, []byte) {
			plugins.SetUploadsDisabled(true)
			defer plugins.SetUploadsDisabled(false)
			return upload(admin, true)
		}},
	} {
		t.Run(tc.sample, func(t *testing.T) {
			want := sampleBody(t, tc.sample)
			st, got := tc.get()
			if st != tc.status || keysOf(got) != keysOf(want) {
				t.Errorf("%d %s\nwant %d with the keys %s", st, got, tc.status, keysOf(want))
			}
			var wantID, gotID struct{ ID string }
			json.Unmarshal(want, &wantID)
			json.Unmarshal(got, &gotID)
			if wantID.ID != gotID.ID {
				t.Errorf("error id %q, want %q", gotID.ID, wantID.ID)
			}
			if tc.sample == "plugin_admin_list" {
				var list struct {
					Active []map[string]json.RawMessage
				}
				json.Unmarshal(got, &list)
				var wantList struct {
					Active []map[string]json.RawMessage
				}
				json.Unmarshal(want, &wantList)
				// Manifests omit empty fields: the stand-in's keys are
				// some of the sample's, id, name and version always.
				if len(list.Active) != 1 {
					t.Fatalf("active %s", got)
				}
				for k := range list.Active[0] {
					if _, ok := wantList.Active[0][k]; !ok {
						t.Errorf("active manifest has %q, which Mattermost's does not", k)
					}
				}
				for _, k := range []string{"id", "name", "version"} {
					if _, ok := list.Active[0][k]; !ok {
						t.Errorf("active manifest lacks %q: %s", k, got)
					}
				}
			}
		})
	}
	// The client reads the samples as Mattermost would send them.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := map[string]string{"/api/v4/plugins": "plugin_admin_list", "/api/v4/plugins/statuses": "plugin_admin_statuses"}[r.URL.Path]
		w.Header().Set("Content-Type", "application/json")
		w.Write(sampleBody(t, name))
	}))
	defer srv.Close()
	pa, _ := apiv4proxy.NewPluginAdmin(srv.URL, apiv4proxy.PluginAdminOptions{})
	list, err := pa.Plugins(context.Background(), "tok")
	if m, active, ok := list.Find("com.example.serverpart"); err != nil || !ok || !active || m.Version != "1.0.0" {
		t.Errorf("sample list: %+v %v", list, err)
	}
	st, err := pa.Statuses(context.Background(), "tok")
	if err != nil || len(st) != 1 || st[0].State != apiv4proxy.PluginStateRunning {
		t.Errorf("sample statuses: %+v %v", st, err)
	}
}

// FuzzPluginAdminAnswer: whatever Mattermost (or something in front of
// it) answers, the client returns a result or an error of a known kind,
// never panics, and no error carries the token.
func FuzzPluginAdminAnswer(f *testing.F) {
	f.Add(200, []byte(`{"active":[{"id":"x","version":"1"}],"inactive":[]}`))
	f.Add(501, []byte(`{"id":"app.plugin.upload_disabled.app_error","message":"m","status_code":501}`))
	f.Add(403, []byte(`{"id":"api.context.permissions.app_error"}`))
	f.Add(502, []byte(`<html>bad gateway</html>`))
	f.Add(200, []byte(`not json`))
	f.Add(302, []byte(``))
	var status atomic.Int64
	var body atomic.Pointer[[]byte]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(status.Load()))
		w.Write(*body.Load())
	}))
	defer srv.Close()
	pa, err := apiv4proxy.NewPluginAdmin(srv.URL, apiv4proxy.PluginAdminOptions{})
	if err != nil {
		f.Fatal(err)
	}
	const token = "tok-fuzz-secret"
	f.Fuzz(func(t *testing.T, st int, b []byte) {
		if st < 200 || st > 599 {
			return
		}
		status.Store(int64(st))
		body.Store(&b)
		for _, call := range []func() error{
			func() error { _, err := pa.Plugins(context.Background(), token); return err },
			func() error { _, err := pa.Statuses(context.Background(), token); return err },
			func() error { return pa.Enable(context.Background(), token, "com.example.x") },
			func() error {
				_, err := pa.Upload(context.Background(), token, []byte("x"), true)
				return err
			},
		} {
			err := call()
			if err == nil {
				if st > 299 {
					t.Errorf("status %d answered no error", st)
				}
				continue
			}
			var pe *apiv4proxy.PluginAdminError
			if !errors.As(err, &pe) && !errors.Is(err, apiv4proxy.ErrUpstreamUnavailable) && !errors.Is(err, apiv4proxy.ErrUpstreamTimeout) {
				t.Errorf("status %d: error of no known kind: %v", st, err)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("the error shows the token: %v", err)
			}
		}
	})
}
