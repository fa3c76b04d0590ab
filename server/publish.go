package server

import (
	"context"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/internal/app/publish"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// The publish pipeline (checks, compiles, artifacts, quota, the store call
// and the change it publishes) is internal/app/publish's; the server gives
// it the parts that are the server's: the build cache, the source maps left
// for after a push, the files a package carries besides its bundles, and a
// server part's install on Mattermost around the store call.

// Content types of stored artifacts.
const (
	typeJS  = publish.TypeJS
	typeMap = publish.TypeMap
)

// file is one artifact a version stores (publish.File).
type file = publish.File

// newPublisher is the server's publish pipeline; the build cache and the
// source maps must exist.
func (s *Server) newPublisher() *publish.Publisher {
	return publish.New(publish.Config{
		Store:    s.store,
		Feed:     &s.changes, // changes.go: indexes, manifests, events, background work
		Compiles: s.compiles,
		Quota:    s.quota,
		Builder:  s.buildCache,
		Maps:     deferredMaps{s},
		Hooks: publish.Hooks{
			Prebuilt: func(pkg *pluginpkg.Package, js []byte, files map[string]file) []string {
				addDistFiles(pkg, files) // compat.go: chunks, images, fonts under /static/plugins/<id>/
				// Parsed, not matched: webpack's bare React as well as
				// window.React, in the bundle and in the chunks it loads later.
				return prebuiltHostModules(pkg, js)
			},
			Files: func(pkg *pluginpkg.Package, files map[string]file) error {
				addImages(pkg, files)
				addPublicFiles(pkg, files) // publicfiles.go: public/ under /plugins/<id>/public/
				// serverpart.go: kept, and installed on Mattermost by Store.
				return addServerPart(pkg, files)
			},
			Store: func(ctx context.Context, v *registry.Version, files map[string]file, put func() (registry.PutResult, error)) (registry.PutResult, error) {
				var blob []byte
				if f, ok := files[artifactServerPart]; ok {
					blob = f.Data
				}
				return s.publishServerPart(ctx, v, blob, put)
			},
			Stored:   s.settle.Pushed, // before the background work the feed starts (settle.go)
			Compiled: s.metrics.compile,
		},
	})
}

// publishCertified stores pkg at cert's level (publish.Publisher.Publish).
func (s *Server) publishCertified(ctx context.Context, pkg *pluginpkg.Package, by registry.Pusher, cert publish.Certification) (registry.PutResult, error) {
	return s.publisher.Publish(ctx, pkg, by, cert)
}

// publishBuiltin stores a package the binary itself carries (Preinstall's
// reference plugins) at the Official level: the binary is the signature. A
// version already stored at a lower level (by an older binary) is raised.
func (s *Server) publishBuiltin(ctx context.Context, pkg *pluginpkg.Package, by registry.Pusher) (registry.PutResult, error) {
	return s.publisher.Publish(ctx, pkg, by, publish.Builtin)
}

// deferredMaps hands the publisher's deferred source maps to internal/app/sourcemaps.
type deferredMaps struct{ s *Server }

func (d deferredMaps) Room() bool { return d.s.maps.Room() }

func (d deferredMaps) Add(pkg *pluginpkg.Package, res *bundler.Result, bundle, pluginID, version string) {
	d.s.maps.Add(pkg, res, bundle, pluginID, version)
}
