// Package artifacts is the artifact index of mmtoolkit's application layer:
// every blob the server can serve (bundles, source maps, Hermes bytecode,
// a package's icons and files), by SHA-256, with its content type and its
// precompressed variants, plus the other names a request may use for one:
// the first 16 hex digits of a JavaScript bundle's SHA-256 (Mattermost-style
// bundle names carry only those), a source map's key (the name its bundle
// gives it before the map exists) and a plugin's file path (the highest
// version that has the file: those URLs carry no version).
//
// The index is derived data. It is filled once from the store at start-up
// (Load: one read of every version, which also returns what the background
// workers need from that read) and kept current by the change feed
// (Subscribe): a version, a source map or bytecode stored, variants
// precompressed, blobs pruned. So a bundle request, on the serving hot path,
// answers from memory: a lookup takes a read lock and allocates nothing
// (BenchmarkLookup). What the server does with an answer (negotiating an
// encoding, ETags, the bytes from its cache or a file) stays in the HTTP edge.
//
// The package imports no net/http.
package artifacts

import (
	"context"
	"strings"
	"sync"

	"golang.org/x/mod/semver"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Index is the artifact index. The zero value is not usable: call New.
// It is safe for concurrent use; an Artifact it returns is never changed
// afterwards (adding variants replaces the index's value, copy-on-write),
// so a caller may keep it without a lock.
type Index struct {
	mu        sync.RWMutex
	artifacts map[string]registry.Artifact // by identity SHA-256
	// byPrefix maps the first 16 hex digits of each JavaScript artifact's
	// SHA-256 to the whole: Mattermost-style bundle names carry only those.
	byPrefix map[string]string
	// mapKeys maps a source map's key (the name its bundle gives it) to
	// its SHA-256.
	mapKeys map[string]string
	// pathFiles maps plugin id + "\x00" + kind of the files served by
	// their path in the package (a prebuilt dist's chunks and images, the
	// public/ folder) to the highest version's artifact: those URLs carry
	// no version, and a request must not read every version to find one.
	pathFiles map[string]pathFile
}

// pathFile is a file served by its path: the highest version that has it.
type pathFile struct{ version, sha string }

// New returns an empty index.
func New() *Index {
	return &Index{
		artifacts: map[string]registry.Artifact{},
		byPrefix:  map[string]string{},
		mapKeys:   map[string]string{},
		pathFiles: map[string]pathFile{},
	}
}

// Artifact returns the artifact whose identity SHA-256 is sha, with the
// precompressed variants known so far. It is the bundle-serving hot path:
// no allocation.
func (x *Index) Artifact(sha string) (registry.Artifact, bool) {
	x.mu.RLock()
	a, ok := x.artifacts[sha]
	x.mu.RUnlock()
	return a, ok
}

// ByPrefix returns the SHA-256 of the JavaScript artifact whose SHA-256
// starts with prefix (16 hex digits: collisions are not a practical
// concern).
func (x *Index) ByPrefix(prefix string) (string, bool) {
	x.mu.RLock()
	sha, ok := x.byPrefix[prefix]
	x.mu.RUnlock()
	return sha, ok
}

// SourceMapNamed returns the SHA-256 of the source map a bundle names by
// key (registry.Artifact.Key).
func (x *Index) SourceMapNamed(key string) (string, bool) {
	x.mu.RLock()
	sha, ok := x.mapKeys[key]
	x.mu.RUnlock()
	return sha, ok
}

// PathFile returns the artifact of kind (dist/..., public/...) of the
// highest version of plugin id that has it.
func (x *Index) PathFile(id, kind string) (registry.Artifact, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	f, ok := x.pathFiles[id+"\x00"+kind]
	if !ok {
		return registry.Artifact{}, false
	}
	a, ok := x.artifacts[f.sha]
	return a, ok
}

// Len is the number of artifacts indexed (the mmtoolkit_artifacts gauge).
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.artifacts)
}

// isPathKind reports whether artifacts of kind are served by their path in
// the package: a prebuilt webapp's output directory, the public/ folder.
func isPathKind(kind string) bool {
	return strings.HasPrefix(kind, "dist/") || strings.HasPrefix(kind, "public/")
}

// AddVersion learns every artifact of a stored version.
func (x *Index) AddVersion(v *registry.Version) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for kind, a := range v.Artifacts {
		x.addLocked(a)
		if isPathKind(kind) {
			k := v.PluginID + "\x00" + kind
			if had, ok := x.pathFiles[k]; !ok || semver.Compare("v"+had.version, "v"+v.Version) < 0 {
				x.pathFiles[k] = pathFile{version: v.Version, sha: a.SHA256}
			}
		}
	}
}

// AddArtifact learns one artifact (a source map built after its push).
func (x *Index) AddArtifact(a registry.Artifact) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.addLocked(a)
}

// AddBytecode makes a stored bytecode blob servable (/bundles/<sha>.hbc).
// A failed compile (Bytecode.Error) stored no blob: nothing is indexed.
func (x *Index) AddBytecode(bc registry.Bytecode) {
	if bc.Error != "" {
		return
	}
	x.AddArtifact(bc.Artifact)
}

func (x *Index) addLocked(a registry.Artifact) {
	if a.Key != "" {
		x.mapKeys[a.Key] = a.SHA256
	}
	if known, ok := x.artifacts[a.SHA256]; ok && len(known.Encodings) > 0 {
		return // a blob shared with an earlier version, already compressed
	}
	x.artifacts[a.SHA256] = a
	if strings.HasPrefix(a.ContentType, "text/javascript") {
		x.byPrefix[a.SHA256[:16]] = a.SHA256
	}
}

// AddEncodings records precompressed variants of a blob the index knows
// (of an unknown one, nothing: its version's change comes first).
func (x *Index) AddEncodings(sha string, enc map[string]registry.Encoded) {
	x.mu.Lock()
	defer x.mu.Unlock()
	a, ok := x.artifacts[sha]
	if !ok {
		return
	}
	encodings := make(map[string]string, len(enc)+len(a.Encodings))
	sizes := make(map[string]int64, len(enc)+len(a.Encodings))
	for c, sha := range a.Encodings {
		encodings[c], sizes[c] = sha, a.EncodedSizes[c]
	}
	for c, e := range enc {
		encodings[c], sizes[c] = e.SHA256, e.Size
	}
	// Copy-on-write: readers hold the old Artifact value without the lock.
	a.Encodings, a.EncodedSizes = encodings, sizes
	x.artifacts[sha] = a
}

// Forget drops blobs no version names any more (pruned): their SHA-256,
// prefix, source map key and path entries go, so their URLs answer 404.
func (x *Index) Forget(shas []string) {
	gone := make(map[string]bool, len(shas))
	for _, sha := range shas {
		gone[sha] = true
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for sha := range gone {
		delete(x.artifacts, sha)
		if len(sha) >= 16 && x.byPrefix[sha[:16]] == sha {
			delete(x.byPrefix, sha[:16])
		}
	}
	for k, sha := range x.mapKeys {
		if gone[sha] {
			delete(x.mapKeys, k)
		}
	}
	for k, f := range x.pathFiles {
		if gone[f.sha] {
			delete(x.pathFiles, k)
		}
	}
}

// BlobSizes maps every blob the index serves to its length, by SHA-256:
// identity artifacts and their precompressed variants (the blob files
// check the files they find against it).
func (x *Index) BlobSizes() map[string]int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	sizes := make(map[string]int64, 2*len(x.artifacts))
	for sha, a := range x.artifacts {
		sizes[sha] = a.Size
		for c, esha := range a.Encodings {
			sizes[esha] = a.EncodedSizes[c]
		}
	}
	return sizes
}

// Uncompressed returns the artifacts of at least minSize bytes that have
// no precompressed variant yet: pushes whose compression a restart
// interrupted, and stores written before compression moved out of the
// push.
func (x *Index) Uncompressed(minSize int64) []registry.Artifact {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var todo []registry.Artifact
	for _, a := range x.artifacts {
		if len(a.Encodings) == 0 && a.Size >= minSize {
			todo = append(todo, a)
		}
	}
	return todo
}

// Subscribe keeps the index current from the feed: versions, source maps
// and (successful) bytecode stored are learnt, variants recorded, pruned
// blobs forgotten. A certification raised changes no artifact. Subscribe
// it before the parts that read the index on the same change (the events
// of a push name its bundles).
func (x *Index) Subscribe(f *changes.Feed) {
	f.Subscribe("artifact index", x.apply)
}

func (x *Index) apply(_ context.Context, c changes.Change) {
	switch c := c.(type) {
	case changes.VersionStored:
		x.AddVersion(c.Version)
	case changes.SourceMapStored:
		x.AddArtifact(c.Artifact)
	case changes.BytecodeStored:
		x.AddBytecode(c.Bytecode)
	case changes.EncodingsStored:
		x.AddEncodings(c.SHA, c.Encodings)
	case changes.BlobsPruned:
		x.Forget(c.SHAs)
	}
}
