package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Content types of stored artifacts.
const (
	typeJS  = "text/javascript; charset=utf-8"
	typeMap = "application/json"
)

// brotliQuality trades push latency for bytes: quality 11 takes about a
// second per megabyte, 6 a few milliseconds, for a few percent more bytes.
const brotliQuality = 6

// publish is the push pipeline after the package is read: compile the web
// and mobile entries (concurrently), precompress every artifact, then store
// the version and its blobs in one registry transaction.
func (s *Server) publish(ctx context.Context, pkg *pluginpkg.Package, by registry.Pusher) (registry.PutResult, error) {
	t0 := time.Now()
	m := &pkg.Manifest
	v := &registry.Version{
		PluginID:      m.ID,
		Version:       m.Version,
		Manifest:      *m,
		RawManifest:   pkg.RawManifest,
		PackageSHA256: pkg.SHA256(),
		Artifacts:     map[string]registry.Artifact{},
		Warnings:      pkg.Warnings,
	}

	// Cheap checks first: an identical re-push or a conflicting one, and
	// ownership, need no compile. The registry checks again in its
	// transaction, so a race between two pushes still cannot go wrong.
	if p, err := s.store.Plugin(ctx, m.ID); err == nil {
		if p.Owner != by.UserID && !by.SystemAdmin {
			return registry.PutResult{}, registry.ErrNotOwner
		}
		if old, err := s.store.Version(ctx, m.ID, m.Version); err == nil {
			if old.PackageSHA256 == v.PackageSHA256 {
				return registry.PutResult{Created: false, Version: old}, nil
			}
			return registry.PutResult{}, registry.ErrVersionConflict
		}
	} else if !errors.Is(err, registry.ErrPluginNotFound) {
		return registry.PutResult{}, err
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
			web.res, web.err = bundler.Build(pkg, bundler.Web)
			s.metrics.compile("web", time.Since(t))
		}()
	}
	if m.Mobile != nil && m.Mobile.Entry != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			mobile.res, mobile.err = bundler.Build(pkg, bundler.Mobile)
			s.metrics.compile("mobile", time.Since(t))
		}()
	}
	wg.Wait()
	if err := errors.Join(web.err, mobile.err); err != nil {
		var ce *bundler.CompileError
		if errors.As(web.err, &ce) || errors.As(mobile.err, &ce) {
			return registry.PutResult{}, ce // the first target's diagnostics
		}
		return registry.PutResult{}, err
	}

	files := map[string]file{}
	switch {
	case web.res != nil:
		files[registry.WebJS] = file{web.res.JS, typeJS}
		files[registry.WebMap] = file{web.res.SourceMap, typeMap}
		v.HostModules = web.res.HostModules
		v.EsbuildMS += ms(web.res.Esbuild)
	case m.Webapp != nil && m.Webapp.BundlePath != "":
		js := pkg.Files[m.Webapp.BundlePath]
		files[registry.WebJS] = file{js, typeJS}
		if sm, ok := pkg.Files[m.Webapp.BundlePath+".map"]; ok {
			files[registry.WebMap] = file{sm, typeMap}
		}
		v.Prebuilt = true
		v.HostModules = referencedGlobals(js)
	}
	if mobile.res != nil {
		files[registry.MobileJS] = file{mobile.res.JS, typeJS}
		files[registry.MobileMap] = file{mobile.res.SourceMap, typeMap}
		v.EsbuildMS += ms(mobile.res.Esbuild)
	}

	blobs := make(map[string][]byte, len(files)*3)
	var mu sync.Mutex
	for kind, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, b := artifactOf(f)
			mu.Lock()
			v.Artifacts[kind] = a
			for k, data := range b {
				blobs[k] = data
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	v.BuildMS = ms(time.Since(t0))

	res, err := s.store.PutVersion(ctx, v, blobs, by)
	if err != nil {
		return registry.PutResult{}, err
	}
	if res.Created {
		s.addArtifacts(res.Version)
		s.changed()
		s.versionPushed(ctx, res.Version)
	}
	return res, nil
}

type file struct {
	data        []byte
	contentType string
}

// artifactOf hashes f and precompresses it; blobs holds every variant by
// its own SHA-256.
func artifactOf(f file) (registry.Artifact, map[string][]byte) {
	sha := sum(f.data)
	a := registry.Artifact{SHA256: sha, Size: int64(len(f.data)), ContentType: f.contentType,
		Encodings: map[string]string{}, EncodedSizes: map[string]int64{}}
	blobs := map[string][]byte{sha: f.data}
	var gz, br bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(f.data)
		zw.Close()
	}()
	go func() {
		defer wg.Done()
		bw := brotli.NewWriterLevel(&br, brotliQuality)
		bw.Write(f.data)
		bw.Close()
	}()
	wg.Wait()
	for coding, b := range map[string][]byte{"gzip": gz.Bytes(), "br": br.Bytes()} {
		// A compressed variant that saves nothing is not worth a header.
		if len(b) < len(f.data) {
			h := sum(b)
			a.Encodings[coding], a.EncodedSizes[coding], blobs[h] = h, int64(len(b)), b
		}
	}
	return a, blobs
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// globalRef finds the host globals a prebuilt (webpack-built) Mattermost
// bundle reads, e.g. window.React or window["ReactDOM"].
var globalRef = regexp.MustCompile(`window(?:\.([A-Za-z]+)|\[["']([A-Za-z]+)["']\])`)

// referencedGlobals maps the globals a prebuilt bundle reads back to the
// host modules they stand for, so the host can load on demand.
func referencedGlobals(js []byte) []string {
	byGlobal := map[string][]string{}
	for mod, g := range bundler.HostGlobals {
		byGlobal[g] = append(byGlobal[g], mod)
	}
	seen := map[string]bool{}
	for _, m := range globalRef.FindAllSubmatch(js, -1) {
		g := string(m[1]) + string(m[2])
		for _, mod := range byGlobal[g] {
			if mod == "react-dom/client" {
				continue
			}
			seen[mod] = true
		}
	}
	out := make([]string, 0, len(seen))
	for mod := range seen {
		out = append(out, mod)
	}
	sort.Strings(out)
	return out
}
