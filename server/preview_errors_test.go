package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/internal/app/previews"
)

// TestPreviewErrors: toError maps the previews' refusals, wrapped or not,
// to the statuses, codes and messages PUT /api/v1/plugins/{id}/preview
// answers (docs/api.md#previews), server_closing included, which no HTTP
// test reaches (a server closes after its requests).
func TestPreviewErrors(t *testing.T) {
	for _, tc := range []struct {
		err     error
		status  int
		code    string
		message string
	}{
		{&previews.TTLError{Seconds: 601}, http.StatusBadRequest, CodeBadPreviewTtl,
			"ttl_seconds 601 is out of range: send 1 to 600, or leave it out for 30"},
		{&previews.NotPrereleaseError{PluginID: "com.example.p", Version: "1.0.0"}, http.StatusBadRequest, CodePreviewNotPrerelease,
			"com.example.p 1.0.0 is a release"},
		{&previews.NotOwnerError{PluginID: "com.example.p", Version: "1.0.1-dev.1"}, http.StatusForbidden, CodeNotPreviewOwner,
			"com.example.p 1.0.1-dev.1 was pushed by someone else"},
		{previews.ErrClosed, http.StatusServiceUnavailable, CodeServerClosing, "the server is shutting down"},
	} {
		for _, err := range []error{tc.err, fmt.Errorf("take: %w", tc.err)} {
			e := toError(err)
			if e.Status != tc.status || e.Code != tc.code || !strings.HasPrefix(e.Message, tc.message) {
				t.Errorf("toError(%v) = %d %s %q, want %d %s %q...", err, e.Status, e.Code, e.Message, tc.status, tc.code, tc.message)
			}
		}
	}
}
