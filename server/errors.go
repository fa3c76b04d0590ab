package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/internal/app/previews"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serverpart"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serving"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Error is an error with the HTTP status and the stable code clients see.
// Handlers return it for problems they detect themselves; errors of the
// domain packages are translated by toError.
type Error struct {
	Status  int
	Code    string
	Message string
	// Details are extra fields of the error object (diagnostics, file, ...).
	Details map[string]any
	// RetryAfter, when positive, is sent as the Retry-After header (seconds).
	RetryAfter int
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// sizeCodes are the package limits answered with 413.
var sizeCodes = map[string]bool{
	pluginpkg.CodeArchiveTooLarge:  true,
	pluginpkg.CodeUnpackedTooLarge: true,
	pluginpkg.CodeTooManyFiles:     true,
	pluginpkg.CodeManifestTooLarge: true,
	pluginpkg.CodeImageTooLarge:    true,
	pluginpkg.CodeTooManyEntries:   true,
	pluginpkg.CodeNamesTooLarge:    true,
	pluginpkg.CodeBundleTooLarge:   true,
}

// sentinels maps the domain packages' sentinel errors to what a client
// sees. The message of each says what the user can do next.
var sentinels = []struct {
	err     error
	status  int
	code    string
	message string
}{
	{registry.ErrVersionConflict, http.StatusConflict, CodeVersionConflict,
		"this version was already pushed with different content; versions are immutable: bump \"version\" in plugin.json and push again"},
	{registry.ErrNotOwner, http.StatusForbidden, CodeNotOwner,
		"this plugin id belongs to another developer (its first pusher); only they or a system admin may push it: choose another id"},
	{registry.ErrKVNotFound, http.StatusNotFound, CodeKvNotFound,
		"no value under this key: write it first with PUT"},
	{registry.ErrKVConflict, http.StatusPreconditionFailed, CodeKvConflict,
		"the value changed since you read it (If-Match) or already exists (If-None-Match: *): read it again and retry"},
	{registry.ErrKVTooManyKeys, http.StatusConflict, CodeKvTooManyKeys,
		"this scope already holds the most keys a plugin may keep: delete keys you no longer need"},
	{registry.ErrPluginNotFound, http.StatusNotFound, CodePluginNotFound,
		"no plugin has this id: check the id, or push the plugin first"},
	{registry.ErrVersionNotFound, http.StatusNotFound, CodeVersionNotFound,
		"the plugin has no such version: GET /api/v1/plugins/{id} lists its versions"},
	{apiv4proxy.ErrTeamNotFound, http.StatusNotFound, CodeTeamNotFound,
		"no team has this id or name: use the team's id or its URL name (GET /api/v4/users/me/teams lists yours)"},
	{apiv4proxy.ErrChannelNotFound, http.StatusNotFound, CodeChannelNotFound,
		"no channel has this id, or you are not in it: check the channel id"},
	{apiv4proxy.ErrUpstreamTimeout, http.StatusGatewayTimeout, CodeUpstreamTimeout,
		"the Mattermost server did not answer in time: retry; if it persists, check the Mattermost server"},
	{apiv4proxy.ErrUpstreamUnavailable, http.StatusBadGateway, CodeUpstreamUnavailable,
		"the Mattermost server cannot be reached or failed: retry; if it persists, check the Mattermost server"},
	{apiv4proxy.ErrInvalidToken, http.StatusUnauthorized, CodeInvalidToken,
		"the Mattermost token is invalid or expired: log in again (POST /api/v4/users/login)"},
}

// toError is the one place that maps errors to statuses and codes. The
// message of each says what the user can do next.
func toError(err error) *Error {
	var (
		e    *Error
		perr *pluginpkg.Error
		cerr *bundler.CompileError
		nse  *serving.NotServedError
		tle  *serving.TooLowError
		pte  *previews.TTLError
		pnp  *previews.NotPrereleaseError
		pno  *previews.NotOwnerError
		spe  *serverpart.Error
	)
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &nse):
		return errNotServed(nse.PluginID)
	case errors.As(err, &tle):
		return certificationTooLow(tle)
	case errors.As(err, &pte):
		return errorf(http.StatusBadRequest, CodeBadPreviewTtl, "ttl_seconds %d is out of range: send 1 to %d, or leave it out for %d",
			pte.Seconds, int(previews.MaxTTL/time.Second), int(previews.DefaultTTL/time.Second))
	case errors.As(err, &pnp):
		return errorf(http.StatusBadRequest, CodePreviewNotPrerelease,
			"%s %s is a release, which teams that follow the latest version already serve: preview a prerelease (push --watch pushes one per save)", pnp.PluginID, pnp.Version)
	case errors.As(err, &pno):
		return errorf(http.StatusForbidden, CodeNotPreviewOwner,
			"%s %s was pushed by someone else: only its developer previews a prerelease; a team admin can pin it for a team", pno.PluginID, pno.Version)
	case errors.Is(err, previews.ErrClosed):
		return errorf(http.StatusServiceUnavailable, CodeServerClosing, "the server is shutting down: start the watch again when it is back")
	case errors.As(err, &spe):
		return serverPartError(spe) // serverpart.go
	case errors.As(err, &perr):
		status := http.StatusBadRequest
		if sizeCodes[perr.Code] {
			status = http.StatusRequestEntityTooLarge
		}
		if signatureCodes[perr.Code] {
			status = http.StatusUnprocessableEntity
		}
		d := map[string]any{}
		if perr.File != "" {
			d["file"] = perr.File
		}
		if perr.Field != "" {
			d["field"] = perr.Field
		}
		if perr.Limit != 0 {
			d["limit"] = perr.Limit
		}
		return &Error{Status: status, Code: perr.Code, Message: perr.Message, Details: d}
	case errors.As(err, &cerr):
		diags := cerr.Diagnostics
		if diags == nil {
			diags = []bundler.Diagnostic{}
		}
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeCompileError,
			Message: fmt.Sprintf("the %s entry does not compile: fix the %d problem(s) listed in diagnostics and push again", cerr.Target, len(diags)),
			Details: map[string]any{"target": cerr.Target.String(), "diagnostics": diags}}
	}
	if e, ok := publishError(err); ok { // quota.go
		return e
	}
	if e, ok := embedError(err); ok { // embed.go
		return e
	}
	if errors.Is(err, registry.ErrUnavailable) {
		// PostgreSQL is down or restarting: the store's pool reconnects
		// by itself, so the same request succeeds later.
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeStoreUnavailable, RetryAfter: storeRetryAfter,
			Message: "the registry's database cannot be reached right now: retry in a few seconds; if it persists, the server's operator must check PostgreSQL"}
	}
	if errors.Is(err, registry.ErrEventTooLarge) {
		return errorf(http.StatusRequestEntityTooLarge, CodeEventTooLarge,
			"the event and its recipients are too large to pass to the other servers: send less data, or send it to fewer users")
	}
	for _, m := range sentinels {
		if errors.Is(err, m.err) {
			return &Error{Status: m.status, Code: m.code, Message: m.message}
		}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternalError,
		Message: "the server failed; the error is logged: retry, and report it if it persists"}
}

// storeRetryAfter is the Retry-After, in seconds, of store_unavailable.
const storeRetryAfter = 5

// writeError writes err as {"error":{"code","message",...details}}.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := toError(err)
	if e.Status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeErrorBody(w, e)
}

func writeErrorBody(w http.ResponseWriter, e *Error) {
	body := make(map[string]any, len(e.Details)+2)
	for k, v := range e.Details {
		body[k] = v
	}
	body["code"], body["message"] = e.Code, e.Message
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if e.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="mmtoolkit"`)
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(map[string]any{"error": body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func (s *Server) serveAPINotFound(w http.ResponseWriter, r *http.Request) {
	writeErrorBody(w, errorf(http.StatusNotFound, CodeRouteNotFound,
		"no API route %s %s: see docs/api.md for the routes", r.Method, r.URL.Path))
}

func (s *Server) serveMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	writeErrorBody(w, errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
		"%s is not allowed on %s: see docs/api.md for the routes", r.Method, r.URL.Path))
}
