package server

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

type pluginSummary struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Owner       string   `json:"owner"`
	Latest      string   `json:"latest"`
	Versions    []string `json:"versions"`
	// Certification is the latest version's level (each version has its own).
	Certification registry.Certification `json:"certification"`
	Slots         []pluginpkg.SlotDecl   `json:"slots"`
	CreatedAt     time.Time              `json:"created_at"`
}

type versionDetail struct {
	Version     string                `json:"version"`
	PushedAt    time.Time             `json:"pushed_at"`
	PushedBy    string                `json:"pushed_by"`
	Slots       []pluginpkg.SlotDecl  `json:"slots"`
	Bundles     map[string]bundleInfo `json:"bundles"`
	BuildMS     float64               `json:"build_ms"`
	HostModules []string              `json:"host_modules"`
	Prebuilt    bool                  `json:"prebuilt,omitempty"`
	Warnings    []string              `json:"warnings"`
	MinServer   string                `json:"min_server_version,omitempty"`
	// Certification is the level the version's signature earned at push;
	// SignerKey the signing key's fingerprint ("builtin" for the reference
	// plugins the binary carries).
	Certification registry.Certification `json:"certification"`
	SignerKey     string                 `json:"signer_key,omitempty"`
}

func (s *Server) summary(r *http.Request, p *registry.Plugin) (pluginSummary, *registry.Version, error) {
	v, err := s.store.Version(r.Context(), p.ID, p.Latest)
	if err != nil {
		return pluginSummary{}, nil, err
	}
	return pluginSummary{
		ID: p.ID, Name: v.Manifest.Name, Description: v.Manifest.Description, Owner: p.Owner,
		Latest: p.Latest, Versions: nonNil(p.Versions), Certification: v.Certification,
		Slots: nonNil(v.Manifest.Slots), CreatedAt: p.CreatedAt,
	}, v, nil
}

// serveCatalogue is GET /api/v1/plugins: every plugin with its latest
// version's name, description and slots.
func (s *Server) serveCatalogue(w http.ResponseWriter, r *http.Request) {
	plugins, err := s.store.Plugins(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]pluginSummary, 0, len(plugins))
	for _, p := range plugins {
		sum, _, err := s.summary(r, p)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out = append(out, sum)
	}
	writeJSON(w, http.StatusOK, map[string]any{"plugins": out})
}

// servePlugin is GET /api/v1/plugins/{id}: the plugin and every version.
func (s *Server) servePlugin(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.Plugin(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sum, _, err := s.summary(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	versions := make([]versionDetail, 0, len(p.Versions))
	for i := len(p.Versions) - 1; i >= 0; i-- { // newest first
		v, err := s.store.Version(r.Context(), p.ID, p.Versions[i])
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		versions = append(versions, versionDetail{
			Version: v.Version, PushedAt: v.PushedAt, PushedBy: v.PushedBy, Slots: nonNil(v.Manifest.Slots),
			Bundles: s.bundlesOf(v), BuildMS: v.BuildMS, HostModules: nonNil(v.HostModules), Prebuilt: v.Prebuilt,
			Warnings: nonNil(v.Warnings), MinServer: v.Manifest.MinServerVersion,
			Certification: v.Certification, SignerKey: v.SignerKey,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"plugin": sum, "versions": versions})
}
