package bundler

import (
	"strings"
	"sync"
)

// esbuild reads the real filesystem in two places that no plugin callback
// sees, and a plugin package is outside input, so both are closed here.
//
// Glob imports. With bundling on, esbuild turns require("./x/" + name) and
// import(`./x/${name}`) (also after inlining short constants) into a glob
// and lists the directory itself, relative to the importing module's
// ResolveDir, or to the process's working directory when that is empty.
// A package could thus pull any server file into its bundle or its
// diagnostics with require("../../../../etc/" + x), or make the server
// walk /proc. jailDir gives every module a ResolveDir that no relative path
// can leave: a chain of directories named NUL. Go refuses any path that
// contains a NUL byte before making a system call, and a pattern can climb
// out of at most one directory per byte of the module (".." segments come
// from the module's own text; esbuild inlines constants of at most three
// characters, one ".." per reference), so with more levels than the module
// has bytes the joined path always keeps a NUL and every lookup fails. Such
// imports then fail to resolve, with a diagnostic saying why.
//
// Source map comments. esbuild follows "//# sourceMappingURL=" in inputs:
// relative and file:// URLs are read from disk, and an inline map's
// file:// sources are read to fill sourcesContent, which would put server
// files in the plugin's source map. defangSourceMapComments breaks the
// marker so esbuild never sees one. Input maps are lost, as with webpack
// without source-map-loader: the bundle maps to the package's files as
// they are.

var jailDirs sync.Map // levels (a power of two) -> path

// jailDir returns a ResolveDir deeper than a module of n bytes can climb.
// Paths are shared per power of two, so builds do not allocate them anew.
func jailDir(n int) string {
	levels := 64
	for levels < n+2 {
		levels *= 2
	}
	if p, ok := jailDirs.Load(levels); ok {
		return p.(string)
	}
	p := "/" + strings.Repeat("\x00/", levels-1) + "\x00"
	jailDirs.Store(levels, p)
	return p
}

const sourceMapMarker = " sourceMappingURL="

// defangSourceMapComments replaces the marker esbuild's lexers look for
// (" sourceMappingURL=" after "//#", "//@" or "/*#") with one of the same
// length, so line and column positions, and thus the output's mappings,
// stay exact. It also alters the rare string literal holding the marker,
// which only source-map tooling has, never code that runs in a plugin.
func defangSourceMapComments(src string) string {
	if !strings.Contains(src, sourceMapMarker) {
		return src
	}
	return strings.ReplaceAll(src, sourceMapMarker, " sourceMappingURL_")
}
