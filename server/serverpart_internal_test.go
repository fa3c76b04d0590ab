package server

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serverpart"
)

// TestAdminErrorMeans: the plugin API's errors reach internal/app/serverpart
// meaning what they mean there, with their text (messages quote it) and
// their apiv4proxy sentinels (toError maps those) kept.
func TestAdminErrorMeans(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err   error
		means []error
		api   bool // a *serverpart.APIError too
	}{
		{&apiv4proxy.PluginAdminError{Op: "upload", Status: 403, ID: "api.context.permissions.app_error"}, []error{serverpart.ErrAdminForbidden}, true},
		{&apiv4proxy.PluginAdminError{Op: "upload", Status: 401}, []error{serverpart.ErrAdminForbidden}, true},
		{&apiv4proxy.PluginAdminError{Op: "upload", Status: 501}, []error{serverpart.ErrUploadsDisabled}, true},
		{&apiv4proxy.PluginAdminError{Op: "remove", Status: 404, ID: "app.plugin.not_installed.app_error"}, []error{serverpart.ErrNotInstalled}, true},
		{&apiv4proxy.PluginAdminError{Op: "enable", Status: 500, ID: "app.plugin.activate.app_error"}, []error{serverpart.ErrUnavailable}, true},
		{&apiv4proxy.PluginAdminError{Op: "upload", Status: 400, ID: "app.plugin.install.app_error"}, nil, true},
		{fmt.Errorf("%w: plugin upload: i/o timeout", apiv4proxy.ErrUpstreamTimeout), []error{serverpart.ErrTimeout}, false},
		{fmt.Errorf("%w: plugin list answered 502", apiv4proxy.ErrUpstreamUnavailable), []error{serverpart.ErrUnavailable}, false},
	} {
		got := adminError(tc.err)
		if got.Error() != tc.err.Error() {
			t.Errorf("%v: text %q", tc.err, got.Error())
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("%v: the original error is lost", tc.err)
		}
		for _, m := range tc.means {
			if !errors.Is(got, m) {
				t.Errorf("%v: does not mean %v", tc.err, m)
			}
		}
		var ae *serverpart.APIError
		if errors.As(got, &ae) != tc.api {
			t.Errorf("%v: APIError %v, want %v", tc.err, ae, tc.api)
		}
		var pe *apiv4proxy.PluginAdminError
		if errors.As(tc.err, &pe) && ae != nil && (ae.Status != pe.Status || ae.ID != pe.ID || ae.Message != pe.Message) {
			t.Errorf("%v: APIError %+v", tc.err, ae)
		}
	}
	if adminError(nil) != nil {
		t.Error("adminError(nil) != nil")
	}
	plain := errors.New("context canceled")
	if adminError(plain) != plain {
		t.Error("an error that means nothing to serverpart is changed")
	}
}

// TestServerPartErrors: toError answers each of internal/app/serverpart's
// refusals (bare and wrapped) with the status and code the server answered
// before the package existed, and the package's message.
func TestServerPartErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind   serverpart.Kind
		status int
		code   string
	}{
		{serverpart.AdminRequired, http.StatusForbidden, CodeUpstreamAdminRequired},
		{serverpart.PluginForeign, http.StatusConflict, CodeUpstreamPluginForeign},
		{serverpart.UploadsDisabled, http.StatusConflict, CodeUpstreamUploadsDisabled},
		{serverpart.Timeout, http.StatusGatewayTimeout, CodeUpstreamTimeout},
		{serverpart.InstallFailed, http.StatusBadGateway, CodeUpstreamPluginInstallFailed},
		{serverpart.Unavailable, http.StatusBadGateway, CodeUpstreamUnavailable},
		{serverpart.DisableFailed, http.StatusBadGateway, CodeUpstreamPluginDisableFailed},
		{serverpart.NotFound, http.StatusNotFound, CodeServerPartNotFound},
		{serverpart.NoSuchVersion, http.StatusBadRequest, CodeServerPartNotFound},
	} {
		err := &serverpart.Error{Kind: tc.kind, Message: "what to do"}
		for _, err := range []error{err, fmt.Errorf("set: %w", err)} {
			if e := toError(err); e.Status != tc.status || e.Code != tc.code || e.Message != "what to do" {
				t.Errorf("toError(%v, kind %d) = %d %s %q, want %d %s", err, tc.kind, e.Status, e.Code, e.Message, tc.status, tc.code)
			}
		}
	}
	// Every kind the package has is in the table (Kinds run from 1 up).
	for k := serverpart.Kind(1); k <= serverpart.NoSuchVersion; k++ {
		if _, ok := serverPartErrors[k]; !ok {
			t.Errorf("serverpart.Kind %d has no status and code in serverPartErrors", k)
		}
	}
	if e := toError(serverpart.NoServerPart("com.example.x")); e.Status != http.StatusNotFound ||
		e.Message != "no version of com.example.x has a server part: push a Mattermost archive with server/dist to give it one" {
		t.Errorf("NoServerPart: %d %q", e.Status, e.Message)
	}
}
