package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Content types of stored artifacts.
const (
	typeJS  = "text/javascript; charset=utf-8"
	typeMap = "application/json"
)

// publish stores pkg as an unverified version (see publishCertified).
func (s *Server) publish(ctx context.Context, pkg *pluginpkg.Package, by registry.Pusher) (registry.PutResult, error) {
	return s.publishCertified(ctx, pkg, by, certification{Level: registry.Unverified})
}

// publishBuiltin stores a package the binary itself carries (Preinstall's
// reference plugins) at the Official level: the binary is the signature. A
// version already stored at a lower level (by an older binary) is raised.
func (s *Server) publishBuiltin(ctx context.Context, pkg *pluginpkg.Package, by registry.Pusher) (registry.PutResult, error) {
	return s.publishCertified(ctx, pkg, by, certification{Level: registry.Official, Signer: BuiltinSigner})
}

// publishCertified is the push pipeline after the package is read and its
// signature checked (certify): compile the web and mobile entries
// (concurrently), then store the version, its level and its blobs in one
// registry transaction. The version is servable when that commits;
// precompressed variants follow from the compressor. An identical re-push
// with a higher level raises the stored version's level and compiles
// nothing.
func (s *Server) publishCertified(ctx context.Context, pkg *pluginpkg.Package, by registry.Pusher, cert certification) (registry.PutResult, error) {
	t0 := time.Now()
	m := &pkg.Manifest
	v := &registry.Version{
		PluginID:      m.ID,
		Version:       m.Version,
		Manifest:      *m,
		RawManifest:   pkg.RawManifest,
		PackageSHA256: pkg.SHA256(),
		Artifacts:     map[string]registry.Artifact{},
		Certification: cert.Level,
		SignerKey:     cert.Signer,
		Warnings:      pkg.Warnings,
	}

	// Cheap checks first: an identical re-push or a conflicting one, and
	// ownership, need no compile. The registry checks again in its
	// transaction, so a race between two pushes still cannot go wrong.
	owner := by.UserID // whose quota the version counts against (quota.go)
	if p, err := s.store.Plugin(ctx, m.ID); err == nil {
		owner = p.Owner
		if p.Owner != by.UserID && !by.SystemAdmin {
			return registry.PutResult{}, registry.ErrNotOwner
		}
		if old, err := s.store.Version(ctx, m.ID, m.Version); err == nil {
			if old.PackageSHA256 == v.PackageSHA256 {
				if cert.Level <= old.Certification {
					return registry.PutResult{Created: false, Version: old}, nil
				}
				v.Artifacts = old.Artifacts
				res, err := s.store.PutVersion(ctx, v, nil, by)
				if err == nil && res.Certified {
					s.changes.Publish(ctx, changes.VersionCertified{Version: res.Version}) // changes.go
				}
				return res, err
			}
			return registry.PutResult{}, registry.ErrVersionConflict
		}
	} else if !errors.Is(err, registry.ErrPluginNotFound) {
		return registry.PutResult{}, err
	}

	// One of MaxCompiles slots, held while both entries compile.
	if err := s.beginCompile(ctx); err != nil { // memrelease.go
		return registry.PutResult{}, err
	}

	// A push through the build cache leaves its source maps for after the
	// answer when they would cost a cold build (sourceMaps), unless maps
	// already wait. Plugins the binary carries are compiled once, at
	// start-up, maps included: keeping their contexts would only hold
	// memory.
	build := s.buildCache.Build
	if s.maps.room() {
		build = s.buildCache.BuildDeferred
	}
	if cert.Signer == BuiltinSigner {
		build = bundler.Build
	}
	type built struct {
		res *bundler.Result
		err error
	}
	var web, mobile built
	var wg sync.WaitGroup
	if m.Webapp != nil && m.Webapp.Entry != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			web.res, web.err = build(pkg, bundler.Web)
			s.metrics.compile("web", time.Since(t))
		}()
	}
	if m.Mobile != nil && m.Mobile.Entry != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			mobile.res, mobile.err = build(pkg, bundler.Mobile)
			s.metrics.compile("mobile", time.Since(t))
		}()
	}
	wg.Wait()
	s.endCompile()
	if err := errors.Join(web.err, mobile.err); err != nil {
		var ce *bundler.CompileError
		if errors.As(web.err, &ce) || errors.As(mobile.err, &ce) {
			return registry.PutResult{}, ce // the first target's diagnostics
		}
		return registry.PutResult{}, err
	}

	files := map[string]file{}
	var deferred []*bundler.Result // built without their maps: sourceMaps makes them
	for _, res := range []*bundler.Result{web.res, mobile.res} {
		if res == nil {
			continue
		}
		js := bundleKind[res.Target]
		files[js] = file{data: res.JS, contentType: typeJS}
		if res.SourceMap != nil {
			files[registry.SourceMapOf[js]] = file{data: res.SourceMap, contentType: typeMap, key: res.SourceMapKey}
		} else {
			deferred = append(deferred, res)
		}
		v.EsbuildMS += ms(res.Esbuild)
	}
	if web.res != nil {
		v.HostModules = web.res.HostModules
		if bundler.UsesIconClasses(web.res.JS) {
			// Its page needs Mattermost's icon fonts (prebuilt bundles
			// get them in slots.Build).
			v.HostModules = append(slices.Clip(v.HostModules), bundler.IconsModule)
		}
	} else if m.Webapp != nil && m.Webapp.BundlePath != "" {
		js := pkg.Files[m.Webapp.BundlePath]
		files[registry.WebJS] = file{data: js, contentType: typeJS}
		if sm, ok := pkg.Files[m.Webapp.BundlePath+".map"]; ok {
			files[registry.WebMap] = file{data: sm, contentType: typeMap}
		}
		v.Prebuilt = true
		addDistFiles(pkg, files) // compat.go: chunks, images, fonts under /static/plugins/<id>/
		// Parsed, not matched: webpack's bare React as well as window.React,
		// in the bundle and in the chunks it loads later.
		v.HostModules = prebuiltHostModules(pkg, js)
	}

	addImages(pkg, files)
	addPublicFiles(pkg, files) // publicfiles.go: public/ under /plugins/<id>/public/
	// serverpart.go: kept, and installed on Mattermost below.
	if err := addServerPart(pkg, files); err != nil {
		return registry.PutResult{}, err
	}
	blobs := make(map[string][]byte, len(files))
	for kind, f := range files {
		sha := sum(f.data)
		v.Artifacts[kind] = registry.Artifact{SHA256: sha, Size: int64(len(f.data)), ContentType: f.contentType, Key: f.key}
		blobs[sha] = f.data
	}
	v.BuildMS = ms(time.Since(t0))

	// A developer's save that changed nothing served stores nothing
	// (preview.go).
	if prev, err := s.sameAsLastBuild(ctx, v, by); err != nil || prev != nil {
		return registry.PutResult{Version: prev}, err
	}

	var serverPart []byte
	if f, ok := files[artifactServerPart]; ok {
		serverPart = f.data
	}
	res, err := s.quota.store(ctx, s.store, owner, v, cert.Signer == BuiltinSigner, func() (registry.PutResult, error) {
		// Within the quota's check: a version over quota installs nothing.
		return s.publishServerPart(ctx, v, serverPart, func() (registry.PutResult, error) {
			return s.store.PutVersion(ctx, v, blobs, by)
		})
	})
	if err != nil {
		return registry.PutResult{}, err
	}
	if res.Created {
		s.pushed() // before the background work the feed starts (settle.go)
		// Indexes the version, invalidates manifests, tells the teams,
		// queues precompression and bytecode (changes.go).
		s.changes.Publish(ctx, changes.VersionStored{Version: res.Version, Blobs: blobs})
		for _, r := range deferred {
			s.maps.add(pkg, r, v.Artifacts[bundleKind[r.Target]].SHA256, v.PluginID, v.Version)
		}
		s.prunePrereleases(res.Version) // preview_prune.go
	}
	return res, nil
}

type file struct {
	data        []byte
	contentType string
	key         string // a compiled source map's key (registry.Artifact.Key)
}

// bundleKind is the artifact kind of each target's bundle.
var bundleKind = map[bundler.Target]string{bundler.Web: registry.WebJS, bundler.Mobile: registry.MobileJS}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
