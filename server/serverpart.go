package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/internal/app/serverpart"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/webapp/console"
)

// A Mattermost plugin archive may carry a server part, which mmtoolkit
// installs on the upstream Mattermost (docs/proxy.md, "Server part"). The
// orchestration (install, put back on failure, which version runs, pin,
// the kill switch, the record and its change) is internal/app/serverpart's;
// this file is its HTTP edge: the route, the caller's token carried from a
// request to the change it asks for, the console adapter, and the mapping
// of serverpart.Error to statuses and codes.

// PluginAdmin is what the server asks of the upstream Mattermost's plugin
// API; *apiv4proxy.PluginAdmin implements it.
type PluginAdmin interface {
	Upload(ctx context.Context, token string, archive []byte, force bool) (*apiv4proxy.PluginManifest, error)
	Enable(ctx context.Context, token, id string) error
	Disable(ctx context.Context, token, id string) error
	Remove(ctx context.Context, token, id string) error
	Plugins(ctx context.Context, token string) (*apiv4proxy.PluginsResponse, error)
	Statuses(ctx context.Context, token string) ([]apiv4proxy.PluginStatus, error)
}

// partAdmin adapts a PluginAdmin to serverpart.PluginAdmin: apiv4proxy's
// types to the application layer's, and its errors made to match what
// they mean there (adminError).
type partAdmin struct{ pa PluginAdmin }

// newPartAdmin is nil without a PluginAdmin (no Mattermost).
func newPartAdmin(pa PluginAdmin) serverpart.PluginAdmin {
	if pa == nil {
		return nil
	}
	return partAdmin{pa}
}

func (a partAdmin) Upload(ctx context.Context, token string, archive []byte) error {
	_, err := a.pa.Upload(ctx, token, archive, true) // replace what Mattermost has
	return adminError(err)
}

func (a partAdmin) Enable(ctx context.Context, token, id string) error {
	return adminError(a.pa.Enable(ctx, token, id))
}

func (a partAdmin) Disable(ctx context.Context, token, id string) error {
	return adminError(a.pa.Disable(ctx, token, id))
}

func (a partAdmin) Remove(ctx context.Context, token, id string) error {
	return adminError(a.pa.Remove(ctx, token, id))
}

func (a partAdmin) Plugins(ctx context.Context, token string) ([]serverpart.Installed, error) {
	list, err := a.pa.Plugins(ctx, token)
	if err != nil {
		return nil, adminError(err)
	}
	out := make([]serverpart.Installed, 0, len(list.Active)+len(list.Inactive))
	for _, m := range list.Active {
		out = append(out, serverpart.Installed{ID: m.ID, Version: m.Version, Active: true})
	}
	for _, m := range list.Inactive {
		out = append(out, serverpart.Installed{ID: m.ID, Version: m.Version})
	}
	return out, nil
}

func (a partAdmin) Statuses(ctx context.Context, token string) ([]serverpart.Status, error) {
	st, err := a.pa.Statuses(ctx, token)
	if err != nil {
		return nil, adminError(err)
	}
	out := make([]serverpart.Status, len(st))
	for i, p := range st {
		out[i] = serverpart.Status{PluginID: p.PluginID, Error: p.Error,
			Failed: p.State == apiv4proxy.PluginStateFailedToStart || p.State == apiv4proxy.PluginStateFailedToStayRunning}
	}
	return out, nil
}

// adminErrors are the sentinels of apiv4proxy's plugin API and what they
// mean to serverpart.
var adminErrors = []struct{ from, to error }{
	{apiv4proxy.ErrPluginAdminForbidden, serverpart.ErrAdminForbidden},
	{apiv4proxy.ErrInvalidToken, serverpart.ErrAdminForbidden},
	{apiv4proxy.ErrUploadsDisabled, serverpart.ErrUploadsDisabled},
	{apiv4proxy.ErrPluginNotInstalled, serverpart.ErrNotInstalled},
	{apiv4proxy.ErrUpstreamTimeout, serverpart.ErrTimeout},
	{apiv4proxy.ErrUpstreamUnavailable, serverpart.ErrUnavailable},
}

// adminError makes err also match the serverpart sentinels (and
// *serverpart.APIError) its apiv4proxy ones mean, keeping its text and
// the apiv4proxy errors it wraps (toError still maps those).
func adminError(err error) error {
	if err == nil {
		return nil
	}
	var means []error
	for _, m := range adminErrors {
		if errors.Is(err, m.from) {
			means = append(means, m.to)
		}
	}
	var pe *apiv4proxy.PluginAdminError
	if errors.As(err, &pe) {
		means = append(means, &serverpart.APIError{Status: pe.Status, ID: pe.ID, Message: pe.Message})
	}
	if len(means) == 0 {
		return err
	}
	return &meaningError{err: err, means: means}
}

// meaningError is an error of the plugin API with what it means to
// serverpart.
type meaningError struct {
	err   error
	means []error
}

func (e *meaningError) Error() string { return e.err.Error() }

func (e *meaningError) Unwrap() []error { return append([]error{e.err}, e.means...) }

// artifactServerPart is the artifact kind of a version's server part
// (serverpart.Archive).
const artifactServerPart = serverpart.Artifact

// serverPartInfo is what a push answer (server_part) says about a
// version's server part.
type serverPartInfo = serverpart.Info

// addServerPart adds the package's server part to the files a push stores:
// a deterministic Mattermost plugin archive (the same package always gives
// the same bytes, so an identical re-push stores nothing new).
func addServerPart(pkg *pluginpkg.Package, files map[string]file) error {
	if len(pkg.Server) == 0 {
		return nil
	}
	data, err := serverpart.Archive(pkg)
	if err != nil {
		return err
	}
	files[artifactServerPart] = file{Data: data, ContentType: serverpart.ContentType}
	return nil
}

// partCall is who asks for a server part change: the request's token and
// whether its user is a Mattermost system admin. A push carries it in its
// context (withPartCall), through the publish pipeline to its Store hook
// (publishServerPart), and gets the report back in it.
type partCall struct {
	token  string
	admin  bool
	report *serverPartInfo
}

type partCallKey struct{}

func withPartCall(ctx context.Context, c *partCall) context.Context {
	return context.WithValue(ctx, partCallKey{}, c)
}

func partCallFrom(ctx context.Context) *partCall {
	c, _ := ctx.Value(partCallKey{}).(*partCall)
	if c == nil {
		c = &partCall{}
	}
	return c
}

func (c *partCall) caller() serverpart.Caller {
	return serverpart.Caller{Token: c.token, Admin: c.admin}
}

// reportFor is the push answer's server_part for v: what the push did, or
// for an identical re-push (which returns before the server part is
// looked at) that nothing was done.
func (c *partCall) reportFor(v *registry.Version) *serverPartInfo {
	if c.report != nil {
		return c.report
	}
	return serverpart.Unchanged(v)
}

// publishServerPart is the publish pipeline's Store hook: put (the
// registry write of v) with the server part's install on Mattermost
// around it (serverpart.Manager.Publish), as the caller in ctx.
func (s *Server) publishServerPart(ctx context.Context, v *registry.Version, blob []byte, put func() (registry.PutResult, error)) (registry.PutResult, error) {
	call := partCallFrom(ctx)
	res, info, err := s.parts.Publish(ctx, call.caller(), v, blob, put)
	if info != nil {
		call.report = info
	}
	return res, err
}

// serverPartErrors are the statuses and codes of serverpart.Error's kinds
// (toError).
var serverPartErrors = map[serverpart.Kind]struct {
	status int
	code   string
}{
	serverpart.AdminRequired:   {http.StatusForbidden, CodeUpstreamAdminRequired},
	serverpart.PluginForeign:   {http.StatusConflict, CodeUpstreamPluginForeign},
	serverpart.UploadsDisabled: {http.StatusConflict, CodeUpstreamUploadsDisabled},
	serverpart.Timeout:         {http.StatusGatewayTimeout, CodeUpstreamTimeout},
	serverpart.InstallFailed:   {http.StatusBadGateway, CodeUpstreamPluginInstallFailed},
	serverpart.Unavailable:     {http.StatusBadGateway, CodeUpstreamUnavailable},
	serverpart.DisableFailed:   {http.StatusBadGateway, CodeUpstreamPluginDisableFailed},
	serverpart.NotFound:        {http.StatusNotFound, CodeServerPartNotFound},
	serverpart.NoSuchVersion:   {http.StatusBadRequest, CodeServerPartNotFound},
}

// serverPartError is what a client sees of e.
func serverPartError(e *serverpart.Error) *Error {
	m, ok := serverPartErrors[e.Kind]
	if !ok {
		return &Error{Status: http.StatusInternalServerError, Code: CodeInternalError, Message: e.Message}
	}
	return &Error{Status: m.status, Code: m.code, Message: e.Message}
}

// serveServerPart is GET and PUT /api/v1/plugins/{id}/server-part, for
// system admins: the state of the plugin's server part (serverpart.View),
// and a change of it, body {"pin": "1.2.0" or "" to follow the latest,
// "enabled": true}, answered with the new state.
func (s *Server) serveServerPart(w http.ResponseWriter, r *http.Request) {
	who := caller(r)
	if !who.User.SystemAdmin() {
		s.writeError(w, r, errorf(http.StatusForbidden, CodeNotSystemAdmin,
			"only a system admin may see or change a plugin's server part: Mattermost runs it for every team"))
		return
	}
	call := serverpart.Caller{Token: apiv4proxy.TokenFromRequest(r), Admin: true}
	id := chi.URLParam(r, "id")
	if r.Method == http.MethodPut {
		var in struct {
			Pin     string `json:"pin"`
			Enabled *bool  `json:"enabled"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&in); err != nil || in.Enabled == nil {
			s.writeError(w, r, errorf(http.StatusBadRequest, CodeBadRequestBody,
				`send {"pin": "<version>" or "" to follow the latest, "enabled": true or false}`))
			return
		}
		if in.Pin == "latest" {
			in.Pin = ""
		}
		if err := s.parts.Set(r.Context(), call, who.User.ID, id, in.Pin, *in.Enabled); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	view, err := s.parts.Status(r.Context(), call, id)
	if err == nil && view == nil {
		err = serverpart.NoServerPart(id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view)
}

// ServerPart and SetServerPart make the console's plugin page show and
// change the server part (console.ServerParts), with the viewer's session
// as the caller.
func (c *consoleAdapter) ServerPart(ctx context.Context, v *console.Viewer, pluginID string) (*console.ServerPart, error) {
	view, err := c.s.parts.Status(ctx, serverpart.Caller{Token: v.Session, Admin: v.SystemAdmin}, pluginID)
	if err != nil || view == nil {
		return nil, consoleError(err)
	}
	return &console.ServerPart{Versions: view.Versions, Pin: view.Pin, Follows: view.Follows, Disabled: view.Disabled,
		Mattermost: view.Mattermost, State: view.State, Version: view.Version, Error: view.Error}, nil
}

func (c *consoleAdapter) SetServerPart(ctx context.Context, v *console.Viewer, pluginID, pin string, enabled bool) error {
	who := v.Data.(*identity.Identity)
	if !who.User.SystemAdmin() {
		return console.ErrForbidden
	}
	return consoleError(c.s.parts.Set(ctx, serverpart.Caller{Token: v.Session, Admin: true}, who.User.ID, pluginID, pin, enabled))
}
