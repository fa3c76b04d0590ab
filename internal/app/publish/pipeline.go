package publish

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

// Publish is the push pipeline after the package is read and its
// signature checked (Certify): compile the web and mobile entries
// (concurrently), then store the version, its level and its blobs in one
// registry transaction, and publish changes.VersionStored. The version is
// servable when that commits; precompressed variants follow from the
// feed's subscribers. An identical re-push with a higher level raises the
// stored version's level, compiles nothing and publishes
// changes.VersionCertified; one with the same level or lower stores
// nothing and answers the stored version (Created false).
func (p *Publisher) Publish(ctx context.Context, pkg *pluginpkg.Package, by registry.Pusher, cert Certification) (registry.PutResult, error) {
	t0 := time.Now()
	st := p.cfg.Store
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
	owner := by.UserID // whose quota the version counts against
	if pl, err := st.Plugin(ctx, m.ID); err == nil {
		owner = pl.Owner
		if pl.Owner != by.UserID && !by.SystemAdmin {
			return registry.PutResult{}, registry.ErrNotOwner
		}
		if old, err := st.Version(ctx, m.ID, m.Version); err == nil {
			if old.PackageSHA256 == v.PackageSHA256 {
				if cert.Level <= old.Certification {
					return registry.PutResult{Created: false, Version: old}, nil
				}
				v.Artifacts = old.Artifacts
				res, err := st.PutVersion(ctx, v, nil, by)
				if err == nil && res.Certified {
					p.cfg.Feed.Publish(ctx, changes.VersionCertified{Version: res.Version})
				}
				return res, err
			}
			return registry.PutResult{}, registry.ErrVersionConflict
		}
	} else if !errors.Is(err, registry.ErrPluginNotFound) {
		return registry.PutResult{}, err
	}

	web, mobile, err := p.compile(ctx, pkg, cert)
	if err != nil {
		return registry.PutResult{}, err
	}

	files := map[string]File{}
	var deferred []*bundler.Result // built without their maps: Maps makes them
	for _, res := range []*bundler.Result{web, mobile} {
		if res == nil {
			continue
		}
		js := bundleKind[res.Target]
		files[js] = File{Data: res.JS, ContentType: TypeJS}
		if res.SourceMap != nil {
			files[registry.SourceMapOf[js]] = File{Data: res.SourceMap, ContentType: TypeMap, Key: res.SourceMapKey}
		} else {
			deferred = append(deferred, res)
		}
		v.EsbuildMS += ms(res.Esbuild)
	}
	if web != nil {
		v.HostModules = web.HostModules
		if bundler.UsesIconClasses(web.JS) {
			// Its page needs Mattermost's icon fonts (prebuilt bundles
			// get them in slots.Build).
			v.HostModules = append(slices.Clip(v.HostModules), bundler.IconsModule)
		}
	} else if m.Webapp != nil && m.Webapp.BundlePath != "" {
		js := pkg.Files[m.Webapp.BundlePath]
		files[registry.WebJS] = File{Data: js, ContentType: TypeJS}
		if sm, ok := pkg.Files[m.Webapp.BundlePath+".map"]; ok {
			files[registry.WebMap] = File{Data: sm, ContentType: TypeMap}
		}
		v.Prebuilt = true
		if h := p.cfg.Hooks.Prebuilt; h != nil {
			v.HostModules = h(pkg, js, files)
		}
	}
	if h := p.cfg.Hooks.Files; h != nil {
		if err := h(pkg, files); err != nil {
			return registry.PutResult{}, err
		}
	}
	blobs := make(map[string][]byte, len(files))
	for kind, f := range files {
		sha := Sum(f.Data)
		v.Artifacts[kind] = registry.Artifact{SHA256: sha, Size: int64(len(f.Data)), ContentType: f.ContentType, Key: f.Key}
		blobs[sha] = f.Data
	}
	v.BuildMS = ms(time.Since(t0))

	// A developer's save that changed nothing served stores nothing.
	if prev, err := sameAsLastBuild(ctx, st, v, by); err != nil || prev != nil {
		return registry.PutResult{Version: prev}, err
	}

	res, err := p.cfg.Quota.Store(ctx, st, owner, v, cert.Signer == BuiltinSigner, func() (registry.PutResult, error) {
		put := func() (registry.PutResult, error) { return st.PutVersion(ctx, v, blobs, by) }
		if h := p.cfg.Hooks.Store; h != nil {
			return h(ctx, v, files, put)
		}
		return put()
	})
	if err != nil {
		return registry.PutResult{}, err
	}
	if res.Created {
		if h := p.cfg.Hooks.Stored; h != nil {
			h() // before the background work the change starts
		}
		p.cfg.Feed.Publish(ctx, changes.VersionStored{Version: res.Version, Blobs: blobs})
		for _, r := range deferred {
			p.cfg.Maps.Add(pkg, r, v.Artifacts[bundleKind[r.Target]].SHA256, v.PluginID, v.Version)
		}
	}
	return res, nil
}

// compile builds the package's web and mobile entries, concurrently, in
// one compile slot.
func (p *Publisher) compile(ctx context.Context, pkg *pluginpkg.Package, cert Certification) (web, mobile *bundler.Result, err error) {
	m := &pkg.Manifest
	// One of MaxCompiles slots, held while both entries compile.
	if err := p.cfg.Compiles.Begin(ctx); err != nil {
		return nil, nil, err
	}

	// A push through the build cache leaves its source maps for after the
	// answer when they would cost a cold build, unless maps already wait.
	// Plugins the binary carries are compiled once, at start-up, maps
	// included: keeping their contexts would only hold memory.
	build := p.cfg.Cold
	if b := p.cfg.Builder; b != nil && cert.Signer != BuiltinSigner {
		build = b.Build
		if p.cfg.Maps != nil && p.cfg.Maps.Room() {
			build = b.BuildDeferred
		}
	}
	var webErr, mobileErr error
	var wg sync.WaitGroup
	run := func(t bundler.Target, res **bundler.Result, err *error) {
		defer wg.Done()
		start := time.Now()
		*res, *err = build(pkg, t)
		if h := p.cfg.Hooks.Compiled; h != nil {
			h(t.String(), time.Since(start))
		}
	}
	if m.Webapp != nil && m.Webapp.Entry != "" {
		wg.Add(1)
		go run(bundler.Web, &web, &webErr)
	}
	if m.Mobile != nil && m.Mobile.Entry != "" {
		wg.Add(1)
		go run(bundler.Mobile, &mobile, &mobileErr)
	}
	wg.Wait()
	p.cfg.Compiles.End()
	if err := errors.Join(webErr, mobileErr); err != nil {
		var ce *bundler.CompileError
		if errors.As(webErr, &ce) || errors.As(mobileErr, &ce) {
			return nil, nil, ce // the first target's diagnostics
		}
		return nil, nil, err
	}
	return web, mobile, nil
}

// bundleKind is the artifact kind of each target's bundle.
var bundleKind = map[bundler.Target]string{bundler.Web: registry.WebJS, bundler.Mobile: registry.MobileJS}

// Sum is the hex SHA-256 an artifact is stored by.
func Sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
