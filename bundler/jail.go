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
// imports then fail to resolve, with a diagnostic saying why. (The only
// directory esbuild then lists is "/", on its way down the chain: names,
// no contents.)
//
// Source map comments. esbuild follows "//# sourceMappingURL=" in inputs:
// relative and file:// URLs are read from disk, and an inline map's
// file:// sources are read to fill sourcesContent, which would put server
// files in the plugin's source map. defangSourceMapComments breaks the
// marker so esbuild never sees one. Input maps are lost, as with webpack
// without source-map-loader: the bundle maps to the package's files as
// they are.

var jailDirs sync.Map // levels (a power of two) -> path

// moduleJail is the ResolveDir for a module with source src. The deep jail
// costs esbuild a pass over the path for every module (a tenth of a typical
// build's CPU when every module gets one), so modules that provably hold
// no computed import get the shallow one.
func moduleJail(src string) string {
	if mayHaveComputedImport(src) {
		return jailDir(len(src))
	}
	return jailDir(0)
}

// mayHaveComputedImport reports whether src might contain a require() or
// import() call whose argument is not a single quoted string, the only
// calls esbuild turns into directory globs. It errs towards true, and reads
// src as if all of it were code (a word in a string or comment counts):
// every standalone "require" must be a call with one literal argument, a
// member access (require.resolve) or followed by a name (prose, or the end
// of a statement), every "import" followed by "(" must have a literal
// argument, and any \u escape, which could spell "require" in an
// identifier, counts as a computed import. So (require)(x), require!(x),
// require<T>(x), (require as any)(x), `var r = require` and the like count.
func mayHaveComputedImport(src string) bool {
	if strings.Contains(src, `\u`) {
		return true
	}
	for _, word := range []string{"require", "import"} {
		for at := 0; ; {
			i := strings.Index(src[at:], word)
			if i < 0 {
				break
			}
			start, end := at+i, at+i+len(word)
			at = end
			if start > 0 && (isIdentByte(src[start-1]) || src[start-1] == '.') {
				continue // part of a longer name, or a property: not the global
			}
			if end < len(src) && isIdentByte(src[end]) {
				continue // a longer name
			}
			after := skipSpaceAndComments(src[end:])
			switch {
			case strings.HasPrefix(after, "("):
				arg, ok := skipQuotedString(skipSpaceAndComments(after[1:]))
				if !ok {
					return true
				}
				if next := skipSpaceAndComments(arg); !strings.HasPrefix(next, ")") && !strings.HasPrefix(next, ",") {
					return true
				}
			case after == "":
			case after[0] >= 0x80, after[0] == '<', after[0] == '-':
				// Unicode white space, or an HTML-like comment ("<!--",
				// "-->"), may stand between the word and a "(".
				return true
			case strings.HasPrefix(after, ".") && !strings.HasPrefix(after, "..."):
				// require.resolve(...), import.meta: never a glob
			case word == "import":
				// import x from "y", import {a} from "y", import "y", or
				// prose in a comment ("used to import `jQuery`"): only
				// "import(" is a call.
			case isIdentByte(after[0]):
				// "require the posts" is prose or two statements, never a
				// call, unless a TypeScript cast carries require on:
				// (require as any)(x).
				if name, _, _ := cutName(after); name == "as" || name == "satisfies" {
					return true
				}
			default:
				return true // require used as a value: r = require; (require)(x)
			}
		}
	}
	return false
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// skipSpaceAndComments drops leading white space and comments. An
// unterminated block comment leaves nothing.
func skipSpaceAndComments(s string) string {
	for {
		s = strings.TrimLeft(s, " \t\r\n\v\f")
		switch {
		case strings.HasPrefix(s, "//"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return ""
			}
			s = s[i:]
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s[2:], "*/")
			if i < 0 {
				return ""
			}
			s = s[2+i+2:]
		default:
			return s
		}
	}
}

// skipQuotedString drops a leading '...' or "..." literal; ok is false when
// s does not start with a complete one.
func skipQuotedString(s string) (rest string, ok bool) {
	if s == "" || (s[0] != '\'' && s[0] != '"') {
		return s, false
	}
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case q:
			return s[i+1:], true
		case '\n':
			return s, false
		}
	}
	return s, false
}

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
