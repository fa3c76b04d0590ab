package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"time"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/internal/app/artifacts"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// bundleInfo describes one served artifact in API responses.
type bundleInfo struct {
	URL       string `json:"url"`
	SHA256    string `json:"sha256"`
	Integrity string `json:"integrity"`
	Size      int64  `json:"size"`
	GzipSize  int64  `json:"gzip_size,omitempty"`
	BrSize    int64  `json:"br_size,omitempty"`
	// Pending marks a source map still being built after the push: its URL
	// works (a request waits for it), the rest is known once it is stored.
	Pending bool `json:"pending,omitempty"`
}

var artifactNames = map[string]string{
	registry.WebJS: "web", registry.WebMap: "web_map",
	registry.MobileJS: "mobile", registry.MobileMap: "mobile_map", registry.MobileHermes: "mobile_hbc",
}

var artifactExt = map[string]string{
	registry.WebJS: "js", registry.WebMap: "map",
	registry.MobileJS: "js", registry.MobileMap: "map", registry.MobileHermes: "hbc",
}

func bundleOf(kind string, a registry.Artifact) bundleInfo {
	name := a.SHA256
	if a.Key != "" {
		name = a.Key // the name the bundle's sourceMappingURL gives its map
	}
	return bundleInfo{
		URL: slots.BundleURL(name, artifactExt[kind]), SHA256: a.SHA256, Integrity: slots.Integrity(a.SHA256),
		Size: a.Size, GzipSize: a.EncodedSizes["gzip"], BrSize: a.EncodedSizes["br"],
	}
}

// bundlesOf describes a version's artifacts, with the precompressed sizes
// known so far.
func (s *Server) bundlesOf(v *registry.Version) map[string]bundleInfo {
	out := make(map[string]bundleInfo, len(v.Artifacts))
	for kind, a := range v.Artifacts {
		if artifactNames[kind] == "" {
			continue // an icon or a screenshot, not a bundle
		}
		if known, ok := s.index.Artifact(a.SHA256); ok {
			a = known
		}
		out[artifactNames[kind]] = bundleOf(kind, a)
	}
	for bundle, kind := range registry.SourceMapOf {
		if js, ok := v.Artifacts[bundle]; ok && artifacts.MissingSourceMap(v, bundle) {
			if key := s.maps.Pending(js.SHA256); key != "" {
				out[artifactNames[kind]] = bundleInfo{URL: slots.BundleURL(key, "map"), Pending: true}
			}
		}
	}
	return out
}

type pushResponse struct {
	ID            string                 `json:"id"`
	Version       string                 `json:"version"`
	Created       bool                   `json:"created"`
	Certified     bool                   `json:"certified,omitempty"`
	PackageSHA256 string                 `json:"package_sha256"`
	Certification registry.Certification `json:"certification"`
	SignerKey     string                 `json:"signer_key,omitempty"`
	Bundles       map[string]bundleInfo  `json:"bundles"`
	BuildMS       float64                `json:"build_ms"`
	EsbuildMS     float64                `json:"esbuild_ms"`
	Slots         []pluginpkg.SlotDecl   `json:"slots"`
	HostModules   []string               `json:"host_modules"`
	Prebuilt      bool                   `json:"prebuilt,omitempty"`
	Warnings      []string               `json:"warnings"`
	// ServerPart says what happened to the package's server part
	// (serverpart.go); absent when it has none.
	ServerPart *serverPartInfo `json:"server_part,omitempty"`
}

// eventPluginBuildFailed tells the pusher's open pages that a push did not
// compile, with the diagnostics, so the page shows them as an overlay.
const eventPluginBuildFailed = "plugin_build_failed"

type buildFailedData struct {
	PluginID    string               `json:"plugin_id"`
	Version     string               `json:"version"`
	Target      string               `json:"target"`
	Message     string               `json:"message"`
	Diagnostics []bundler.Diagnostic `json:"diagnostics"`
}

// servePush is POST /api/v1/plugins: the body is the package .tar.gz, or a
// multipart form with the archive in field "plugin" (Mattermost's upload form).
func (s *Server) servePush(w http.ResponseWriter, r *http.Request) {
	who := caller(r)
	lim := s.cfg.Limits
	if lim.MaxArchiveBytes == 0 {
		lim.MaxArchiveBytes = pluginpkg.DefaultLimits.MaxArchiveBytes
	}
	// The reader enforces the archive limit with a precise error; this only
	// stops a client that keeps sending after that.
	maxBody := pushBodyLimit(lim.MaxArchiveBytes)
	// What the push holds, from its first byte to its answer, is charged
	// to the budget of pushes in flight (pushbudget.go).
	share, err := s.pushBudget.reserve(r.ContentLength, maxBody)
	if err != nil {
		s.metrics.push("rejected")
		s.writeError(w, r, err)
		return
	}
	defer share.release()
	lim.Reserve = share.charge
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	stall := newStallReader(w, r.Body, s.cfg.Timing)
	r.Body = stall

	body, err := pushBody(r)
	if err != nil {
		s.metrics.push("rejected")
		s.writeError(w, r, err)
		return
	}
	pkg, err := pluginpkg.ReadArchive(body.archive, lim, slots.Known)
	if err == nil {
		err = body.rest() // a signature field after the archive
	}
	if err != nil {
		// The deadline stays: net/http reads what is left of the body
		// before answering, and must not wait on a stalled client for it.
		s.metrics.push("rejected")
		s.writeError(w, r, bodyError(w, err, lim.MaxArchiveBytes, s.cfg.Timing))
		return
	}
	stall.done()
	cert, err := s.trust.Certify(pkg, body.signature)
	if err != nil {
		s.metrics.push("rejected")
		s.writeError(w, r, err)
		return
	}
	// A server part is installed on Mattermost with the pusher's token
	// when they are a system admin there (serverpart.go).
	part := &partCall{token: apiv4proxy.TokenFromRequest(r), admin: who.User.SystemAdmin()}
	res, err := s.publishCertified(withPartCall(r.Context(), part), pkg, registry.Pusher{UserID: who.User.ID, SystemAdmin: who.User.SystemAdmin()}, cert)
	if err != nil {
		s.metrics.push("failed")
		var ce *bundler.CompileError
		if errors.As(err, &ce) {
			// The developer's open pages show the errors (push --watch).
			s.hub.publish(outbound{UserIDs: map[string]bool{who.User.ID: true}}, wsEvent{
				Event: eventPluginBuildFailed,
				Data: buildFailedData{PluginID: pkg.Manifest.ID, Version: pkg.Manifest.Version,
					Target: ce.Target.String(), Message: toError(err).Message, Diagnostics: nonNil(ce.Diagnostics)},
				Broadcast: wsBroadcast{UserID: who.User.ID},
			}, nil)
		}
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	switch {
	case res.Created:
		status = http.StatusCreated
		s.metrics.push("created")
		s.log.Info("plugin pushed", "id", res.Version.PluginID, "version", res.Version.Version,
			"by", who.User.Username, "build_ms", res.Version.BuildMS, "certification", res.Version.Certification)
	case res.Certified:
		s.metrics.push("certified")
		s.log.Info("plugin certified", "id", res.Version.PluginID, "version", res.Version.Version,
			"by", who.User.Username, "certification", res.Version.Certification, "key", res.Version.SignerKey)
	default:
		s.metrics.push("unchanged")
	}
	v := res.Version
	writeJSON(w, status, pushResponse{
		ID: v.PluginID, Version: v.Version, Created: res.Created, Certified: res.Certified, PackageSHA256: v.PackageSHA256,
		Certification: v.Certification, SignerKey: v.SignerKey,
		Bundles: s.bundlesOf(v), BuildMS: v.BuildMS, EsbuildMS: v.EsbuildMS,
		Slots: nonNil(v.Manifest.Slots), HostModules: nonNil(v.HostModules), Prebuilt: v.Prebuilt,
		Warnings: nonNil(v.Warnings), ServerPart: part.reportFor(v),
	})
}

// pushRequest is what a push sends: the archive, and a detached signature
// (SignatureHeader, or multipart field "signature") when there is one.
type pushRequest struct {
	archive   io.Reader
	signature []byte
	// rest reads what follows the archive in a multipart form, once the
	// archive has been read.
	rest func() error
}

// pushBody finds the archive and any detached signature in the request.
func pushBody(r *http.Request) (*pushRequest, error) {
	sig, err := detachedSignature(r)
	if err != nil {
		return nil, err
	}
	req := &pushRequest{signature: sig, rest: func() error { return nil }}
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct != "" && err != nil {
		return nil, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			"cannot parse Content-Type %q: send the package as application/gzip or multipart/form-data", ct)
	}
	switch mt {
	case "", "application/gzip", "application/x-gzip", "application/octet-stream", "application/x-tar+gzip", "application/x-compressed-tar":
		req.archive = r.Body
		return req, nil
	case "multipart/form-data":
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, errorf(http.StatusBadRequest, CodeBadMultipart, "the multipart body cannot be read: %v", err)
		}
		// readParts reads fields up to the archive (or, after it, to the
		// end), keeping a signature met on the way. Fields other than
		// plugin and signature are skipped, but each still costs a
		// header's parsing, so there may be only a few.
		parts := 0
		readParts := func(afterArchive bool) error {
			for {
				if parts++; parts > maxFormParts {
					return errorf(http.StatusBadRequest, CodeBadMultipart,
						"the multipart form has more than %d fields: send the package in field \"plugin\" and, if signed, the signature in field \"signature\"", maxFormParts)
				}
				part, err := mr.NextPart()
				if err == io.EOF {
					if afterArchive {
						return nil
					}
					return errorf(http.StatusBadRequest, CodePluginFieldMissing,
						"the multipart form has no field \"plugin\": put the package .tar.gz in a field named plugin")
				}
				if err != nil {
					return errorf(http.StatusBadRequest, CodeBadMultipart, "the multipart body cannot be read: %v", err)
				}
				switch part.FormName() {
				case "plugin":
					if afterArchive {
						return errorf(http.StatusBadRequest, CodeBadMultipart, "the multipart form has two \"plugin\" fields: send one package")
					}
					req.archive = part
					return nil
				case "signature":
					if req.signature != nil {
						return errorf(http.StatusBadRequest, CodeSignatureConflict,
							"two detached signatures were sent (a \"signature\" field and the %s header, or two fields): send one", SignatureHeader)
					}
					data, err := io.ReadAll(io.LimitReader(part, pluginpkg.MaxSignatureBytes+1))
					if err != nil {
						return errorf(http.StatusBadRequest, CodeBadMultipart, "the multipart body cannot be read: %v", err)
					}
					if len(data) > pluginpkg.MaxSignatureBytes {
						return errorf(http.StatusBadRequest, pluginpkg.CodeSignatureMalformed,
							"the \"signature\" field is over %d bytes: it must hold the signature file (%s) that `mmtoolkit sign` writes", pluginpkg.MaxSignatureBytes, pluginpkg.SignatureFile)
					}
					req.signature = data
				}
			}
		}
		if err := readParts(false); err != nil {
			return nil, err
		}
		req.rest = func() error { return readParts(true) }
		return req, nil
	}
	return nil, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
		"Content-Type %s is not a package: send the .tar.gz as application/gzip, or multipart/form-data with field \"plugin\"", mt)
}

// maxFormParts bounds the fields of a multipart push: plugin, signature
// and whatever a browser's upload form adds beside them.
const maxFormParts = 16

// A push body must keep arriving: a read may wait Timing.PushBodyIdle for
// data, and the whole upload may take Timing.PushBodyMax (a 100 MiB package
// on a slow link), so a client that stalls or trickles holds its
// connection for seconds, not for the server's whole read timeout.
const (
	defaultPushBodyIdle = 30 * time.Second
	defaultPushBodyMax  = 5 * time.Minute
)

// stallReader moves the connection's read deadline on before each read of
// the body.
type stallReader struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	end  time.Time
}

func newStallReader(w http.ResponseWriter, body io.ReadCloser, t Timing) *stallReader {
	return &stallReader{ReadCloser: body, rc: http.NewResponseController(w), idle: t.PushBodyIdle, end: time.Now().Add(t.PushBodyMax)}
}

func (s *stallReader) Read(p []byte) (int, error) {
	deadline := time.Now().Add(s.idle)
	if deadline.After(s.end) {
		deadline = s.end
	}
	s.rc.SetReadDeadline(deadline) // an error only means the writer cannot: the server's timeouts still hold
	return s.ReadCloser.Read(p)
}

// done lifts the deadline once the body is read: net/http's background
// read (which notices a client that leaves) must not end the request while
// it compiles.
func (s *stallReader) done() { s.rc.SetReadDeadline(time.Time{}) }

// bodyError says why reading a push body failed when the archive itself
// was not the problem (pluginpkg.ReadArchive returns those failures as they
// are): the client stalled, sent too much, or broke off.
func bodyError(w http.ResponseWriter, err error, maxArchive int64, t Timing) error {
	var (
		perr *pluginpkg.Error
		serr *Error
		mbe  *http.MaxBytesError
	)
	switch {
	case err == nil, errors.As(err, &perr), errors.As(err, &serr):
		return err
	}
	// The connection's read side is broken or out of time: it cannot carry
	// another request.
	w.Header().Set("Connection", "close")
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errorf(http.StatusRequestTimeout, CodeBodyTimeout,
			"the upload stalled (no data for %v) or took over %v: push again on a steadier connection", t.PushBodyIdle, t.PushBodyMax)
	case errors.As(err, &mbe):
		return &pluginpkg.Error{Code: pluginpkg.CodeArchiveTooLarge, Limit: maxArchive,
			Message: "the request body is over the archive limit; remove server executables and files the plugin does not use"}
	}
	return errorf(http.StatusBadRequest, CodeBadRequestBody,
		"the request body could not be read to its end (%v): send the whole package again", err)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
