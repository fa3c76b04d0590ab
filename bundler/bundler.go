// Package bundler compiles a plugin package into bundles with esbuild's Go
// API, entirely in memory: sources are read from pluginpkg.Package.Files and
// nothing is written to disk.
//
// A web bundle is a minified IIFE in which host modules (react, react-dom,
// redux, ...) are read from the globals Mattermost's webapp exposes
// (window.React, window.ReactDOM, ...), exactly like a Mattermost plugin built
// with webpack externals. A mobile bundle is a minified CommonJS-style
// function body whose host modules (react, react/jsx-runtime, react-native,
// the host SDK) are provided by the app through require at evaluation time.
//
// Problems in the plugin's source are data: a *CompileError holding
// Diagnostics with file, line, column and text.
package bundler

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNoEntry is returned when the manifest names no entry for the target
// asked for: no webapp.entry (a plugin that has only a prebuilt
// webapp.bundle_path, or no web part) or no mobile.entry.
var ErrNoEntry = errors.New("no entry for this target in plugin.json")

// Target is what a build produces.
type Target int

const (
	// Web is an IIFE for the Redux webapp host.
	Web Target = iota
	// Mobile is a bundle for the React Native host library: a CommonJS
	// function body the host evaluates with its own require (the exact
	// contract is in Build's documentation).
	Mobile
)

func (t Target) String() string {
	if t == Mobile {
		return "mobile"
	}
	return "web"
}

// MobileHostModules are provided by the React Native host at evaluation time.
var MobileHostModules = []string{
	"react", "react/jsx-runtime", "react/jsx-dev-runtime", "react-native", "@mmtoolkit/mobile",
}

// Diagnostic is one problem esbuild found, located in the plugin's files.
// File is the package-relative path; Line is 1-based, Column 0-based as in
// esbuild (printed 1-based by FormatDiagnostic).
type Diagnostic struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Text   string `json:"text"`
}

// String formats d as file:line:col: text, the form editors jump to.
func (d Diagnostic) String() string {
	if d.File == "" {
		return d.Text
	}
	return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Column+1, d.Text)
}

// CompileError is returned when the plugin's source does not compile.
type CompileError struct {
	Target      Target
	Diagnostics []Diagnostic
}

func (e *CompileError) Error() string {
	lines := make([]string, 0, len(e.Diagnostics))
	for _, d := range e.Diagnostics {
		lines = append(lines, d.String())
	}
	return fmt.Sprintf("bundler: %s build failed:\n%s", e.Target, strings.Join(lines, "\n"))
}

// Result is one compiled bundle.
type Result struct {
	Target Target
	// JS is the minified bundle. It ends with a sourceMappingURL comment
	// naming "<SourceMapKey>.map", relative, so it resolves next to the
	// bundle under /bundles/.
	JS []byte
	// SourceMap is the bundle's source map; nil when BuildDeferred left it
	// for later.
	SourceMap []byte
	// SourceMapKey names the source map (see build.sourceMapKey): known
	// before the map is built, and the same for the same map.
	SourceMapKey string
	// HostModules are the host modules the bundle imports (sorted), so a host
	// can load libraries only some plugins need on demand. For Web they are
	// keys of HostGlobals (react/jsx-runtime counts as "react", whose global
	// its shim reads); for Mobile, the exact names the bundle require()s.
	HostModules []string
	// Inputs are the package files the import graph reached (sorted), for
	// `mmtoolkit pack`: every module loaded, plus the package.json and
	// tsconfig.json files that steered resolution (without them the packed
	// plugin would resolve differently). plugin.json, the icon and other
	// assets the manifest names are the caller's to add.
	Inputs []string
	// Warnings esbuild reported that did not stop the build.
	Warnings []Diagnostic
	// Esbuild is the time spent inside esbuild's Build call.
	Esbuild time.Duration
}
