package server

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
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
	return bundleInfo{
		URL: slots.BundleURL(a.SHA256, artifactExt[kind]), SHA256: a.SHA256, Integrity: slots.Integrity(a.SHA256),
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
		if known, ok := s.artifact(a.SHA256); ok {
			a = known
		}
		out[artifactNames[kind]] = bundleOf(kind, a)
	}
	return out
}

type pushResponse struct {
	ID            string                `json:"id"`
	Version       string                `json:"version"`
	Created       bool                  `json:"created"`
	PackageSHA256 string                `json:"package_sha256"`
	Bundles       map[string]bundleInfo `json:"bundles"`
	BuildMS       float64               `json:"build_ms"`
	EsbuildMS     float64               `json:"esbuild_ms"`
	Slots         []pluginpkg.SlotDecl  `json:"slots"`
	HostModules   []string              `json:"host_modules"`
	Prebuilt      bool                  `json:"prebuilt,omitempty"`
	Warnings      []string              `json:"warnings"`
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
	r.Body = http.MaxBytesReader(w, r.Body, lim.MaxArchiveBytes+1<<20)

	body, err := pushBody(r)
	if err != nil {
		s.metrics.push("rejected")
		s.writeError(w, r, err)
		return
	}
	pkg, err := pluginpkg.ReadArchive(body, lim, slots.Known)
	if err != nil {
		s.metrics.push("rejected")
		s.writeError(w, r, err)
		return
	}
	res, err := s.publish(r.Context(), pkg, registry.Pusher{UserID: who.User.ID, SystemAdmin: who.User.SystemAdmin()})
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
	s.metrics.push("unchanged")
	if res.Created {
		status = http.StatusCreated
		s.metrics.push("created")
		s.log.Info("plugin pushed", "id", res.Version.PluginID, "version", res.Version.Version,
			"by", who.User.Username, "build_ms", res.Version.BuildMS)
	}
	v := res.Version
	writeJSON(w, status, pushResponse{
		ID: v.PluginID, Version: v.Version, Created: res.Created, PackageSHA256: v.PackageSHA256,
		Bundles: s.bundlesOf(v), BuildMS: v.BuildMS, EsbuildMS: v.EsbuildMS,
		Slots: nonNil(v.Manifest.Slots), HostModules: nonNil(v.HostModules), Prebuilt: v.Prebuilt,
		Warnings: nonNil(v.Warnings),
	})
}

// pushBody finds the archive in the request.
func pushBody(r *http.Request) (io.Reader, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct != "" && err != nil {
		return nil, errorf(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"cannot parse Content-Type %q: send the package as application/gzip or multipart/form-data", ct)
	}
	switch mt {
	case "", "application/gzip", "application/x-gzip", "application/octet-stream", "application/x-tar+gzip", "application/x-compressed-tar":
		return r.Body, nil
	case "multipart/form-data":
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "bad_multipart", "the multipart body cannot be read: %v", err)
		}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return nil, errorf(http.StatusBadRequest, "plugin_field_missing",
					"the multipart form has no field \"plugin\": put the package .tar.gz in a field named plugin")
			}
			if err != nil {
				return nil, errorf(http.StatusBadRequest, "bad_multipart", "the multipart body cannot be read: %v", err)
			}
			if part.FormName() == "plugin" {
				return part, nil
			}
		}
	}
	return nil, errorf(http.StatusUnsupportedMediaType, "unsupported_media_type",
		"Content-Type %s is not a package: send the .tar.gz as application/gzip, or multipart/form-data with field \"plugin\"", mt)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
