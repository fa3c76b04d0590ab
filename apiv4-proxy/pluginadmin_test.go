package apiv4proxy_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"slices"
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
