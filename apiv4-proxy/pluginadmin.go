package apiv4proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// Sentinels of PluginAdmin's errors. A *PluginAdminError matches the one
// its Mattermost answer means (errors.Is); a call that never got an answer
// is ErrUpstreamUnavailable or ErrUpstreamTimeout.
var (
	// ErrUploadsDisabled: Mattermost answered 501 because plugins, or
	// plugin uploads, are turned off (PluginSettings.Enable,
	// EnableUploads) or it requires signed plugins (RequirePluginSignature).
	ErrUploadsDisabled = errors.New("plugin uploads are disabled on Mattermost")
	// ErrPluginAdminForbidden: the token's user lacks the permission
	// (manage_system: sysconsole_write_plugins, sysconsole_read_plugins).
	ErrPluginAdminForbidden = errors.New("not a Mattermost system admin")
	// ErrPluginNotInstalled: Mattermost has no plugin with that id.
	ErrPluginNotInstalled = errors.New("plugin not installed on Mattermost")
)

// PluginAdmin calls Mattermost's plugin management API (server/channels/
// api4/plugin.go) with the token of a system admin: upload, enable,
// disable, remove, and the lists of installed plugins and of their
// statuses. It is how mmtoolkit installs a package's server part on the
// Mattermost it fronts. Tokens are sent, never logged or put in errors.
type PluginAdmin struct {
	base    *url.URL
	client  *http.Client
	timeout time.Duration
}

// PluginAdminOptions configure NewPluginAdmin. Zero fields take defaults.
type PluginAdminOptions struct {
	// Timeout bounds each call but an upload (DefaultPluginAdminTimeout).
	Timeout time.Duration
	// UploadTimeout bounds an upload, body included
	// (DefaultPluginUploadTimeout): a server part is tens of megabytes.
	UploadTimeout time.Duration
	// Transport makes the requests: the one shared with the proxy and
	// identity (NewTransport); default a transport of its own.
	Transport http.RoundTripper
}

// Defaults of PluginAdminOptions.
const (
	DefaultPluginAdminTimeout  = 30 * time.Second
	DefaultPluginUploadTimeout = 5 * time.Minute
)

// maxAdminAnswer bounds what is read of an answer: the plugin lists of a
// Mattermost with hundreds of plugins are well under it.
const maxAdminAnswer = 8 << 20

// NewPluginAdmin returns a client of the Mattermost at baseURL (the
// --upstream URL; the rules of NewUpstream apply).
func NewPluginAdmin(baseURL string, opts PluginAdminOptions) (*PluginAdmin, error) {
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultPluginAdminTimeout
	}
	if opts.UploadTimeout <= 0 {
		opts.UploadTimeout = DefaultPluginUploadTimeout
	}
	if opts.Transport == nil {
		opts.Transport = NewTransport(nil, 2)
	}
	return &PluginAdmin{
		base: base,
		client: &http.Client{
			Transport:     opts.Transport,
			Timeout:       opts.UploadTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout: opts.Timeout,
	}, nil
}

// PluginAdminError is an error answer of Mattermost's plugin API: its
// status and its AppError body ({"id","message",...}), which says what is
// wrong in Mattermost's words.
type PluginAdminError struct {
	Op      string // "upload", "enable", ...
	Status  int
	ID      string // Mattermost's error id, "app.plugin.install_id.app_error"
	Message string
}

func (e *PluginAdminError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.ID != "" {
		return fmt.Sprintf("Mattermost plugin %s: %d %s (%s)", e.Op, e.Status, msg, e.ID)
	}
	return fmt.Sprintf("Mattermost plugin %s: %d %s", e.Op, e.Status, msg)
}

// Is maps Mattermost's answers to the sentinels.
func (e *PluginAdminError) Is(target error) bool {
	switch target {
	case ErrUploadsDisabled:
		return e.Status == http.StatusNotImplemented
	case ErrPluginAdminForbidden:
		return e.Status == http.StatusForbidden
	case ErrInvalidToken:
		return e.Status == http.StatusUnauthorized
	case ErrPluginNotInstalled:
		return e.ID == "app.plugin.not_installed.app_error"
	case ErrUpstreamUnavailable:
		return e.Status >= 500 && e.Status != http.StatusNotImplemented
	}
	return false
}

// PluginManifest is the part of Mattermost's model.Manifest the admin
// calls read.
type PluginManifest struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

// PluginsResponse is GET /api/v4/plugins: installed plugins, running
// (Active) or not (Inactive: disabled, or failed to start).
type PluginsResponse struct {
	Active   []PluginManifest `json:"active"`
	Inactive []PluginManifest `json:"inactive"`
}

// Find returns the installed plugin id and whether it is active.
func (r *PluginsResponse) Find(id string) (m PluginManifest, active, ok bool) {
	for _, p := range r.Active {
		if p.ID == id {
			return p, true, true
		}
	}
	for _, p := range r.Inactive {
		if p.ID == id {
			return p, false, true
		}
	}
	return PluginManifest{}, false, false
}

// Plugin states of PluginStatus.State (model.PluginState*).
const (
	PluginStateNotRunning          = 0
	PluginStateStarting            = 1
	PluginStateRunning             = 2
	PluginStateFailedToStart       = 3
	PluginStateFailedToStayRunning = 4
	PluginStateStopping            = 5
)

// PluginStatus is one entry of GET /api/v4/plugins/statuses (one per
// plugin and cluster node).
type PluginStatus struct {
	PluginID  string `json:"plugin_id"`
	ClusterID string `json:"cluster_id"`
	State     int    `json:"state"`
	Error     string `json:"error"`
	Version   string `json:"version"`
}

// Upload is POST /api/v4/plugins: archive (a plugin .tar.gz) in the
// multipart field "plugin", force=true to replace an installed plugin of
// the same id. Mattermost installs it without changing whether it is
// enabled (a new plugin starts disabled).
func (a *PluginAdmin) Upload(ctx context.Context, token string, archive []byte, force bool) (*PluginManifest, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("plugin", "plugin.tar.gz")
	if err != nil {
		return nil, err
	}
	fw.Write(archive)
	if force {
		mw.WriteField("force", "true")
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	var m PluginManifest
	err = a.call(ctx, "upload", http.MethodPost, "/api/v4/plugins", token, mw.FormDataContentType(), body.Bytes(), 0, &m)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// Enable is POST /api/v4/plugins/{id}/enable.
func (a *PluginAdmin) Enable(ctx context.Context, token, id string) error {
	return a.call(ctx, "enable", http.MethodPost, "/api/v4/plugins/"+url.PathEscape(id)+"/enable", token, "", nil, a.timeout, nil)
}

// Disable is POST /api/v4/plugins/{id}/disable.
func (a *PluginAdmin) Disable(ctx context.Context, token, id string) error {
	return a.call(ctx, "disable", http.MethodPost, "/api/v4/plugins/"+url.PathEscape(id)+"/disable", token, "", nil, a.timeout, nil)
}

// Remove is DELETE /api/v4/plugins/{id}.
func (a *PluginAdmin) Remove(ctx context.Context, token, id string) error {
	return a.call(ctx, "remove", http.MethodDelete, "/api/v4/plugins/"+url.PathEscape(id), token, "", nil, a.timeout, nil)
}

// Plugins is GET /api/v4/plugins.
func (a *PluginAdmin) Plugins(ctx context.Context, token string) (*PluginsResponse, error) {
	var r PluginsResponse
	if err := a.call(ctx, "list", http.MethodGet, "/api/v4/plugins", token, "", nil, a.timeout, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Statuses is GET /api/v4/plugins/statuses.
func (a *PluginAdmin) Statuses(ctx context.Context, token string) ([]PluginStatus, error) {
	var r []PluginStatus
	if err := a.call(ctx, "statuses", http.MethodGet, "/api/v4/plugins/statuses", token, "", nil, a.timeout, &r); err != nil {
		return nil, err
	}
	return r, nil
}

// call sends one request and decodes a 2xx answer into out (nil: ignore
// it). timeout 0 means the upload timeout of the client.
func (a *PluginAdmin) call(ctx context.Context, op, method, path, token, contentType string, body []byte, timeout time.Duration, out any) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	u := *a.base
	u.Path += path
	u.RawPath = ""
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("Mattermost plugin %s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return transportError(op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminAnswer))
	if err != nil {
		return transportError(op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &PluginAdminError{Op: op, Status: resp.StatusCode}
		var app struct {
			ID      string `json:"id"`
			Message string `json:"message"`
		}
		if json.Unmarshal(raw, &app) == nil {
			e.ID, e.Message = app.ID, app.Message
		}
		if e.ID == "" && (resp.StatusCode >= 500 || resp.StatusCode < 200 || resp.StatusCode >= 300 && resp.StatusCode < 400) && resp.StatusCode != http.StatusNotImplemented {
			// Not Mattermost's answer (a proxy's 502 page, a redirect).
			return fmt.Errorf("%w: plugin %s answered %d", ErrUpstreamUnavailable, op, resp.StatusCode)
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%w: plugin %s answered a body that is not Mattermost's JSON: %v", ErrUpstreamUnavailable, op, err)
		}
	}
	return nil
}

// transportError says whether a call without an answer ran out of time or
// could not reach Mattermost.
func transportError(op string, err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: plugin %s: %v", ErrUpstreamTimeout, op, trimURLError(err))
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: plugin %s: %v", ErrUpstreamUnavailable, op, trimURLError(err))
}

// trimURLError drops the "Post \"https://...\":" prefix url.Error adds:
// the message says what failed, the URL is the operator's own.
func trimURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
