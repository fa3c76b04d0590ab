package bundler

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
)

// tsconfig is the tsconfig.json (or jsconfig.json) that governs a build:
// the one nearest the entry file, with its "extends" chain merged.
//
// Only what changes the output is used: baseUrl and paths (resolution of
// the plugin's own folders, done here because esbuild never sees the
// files), and the JSX and class-field settings, handed to esbuild as
// TsconfigRaw. The raw config is rebuilt from those settings alone, so
// esbuild never follows an "extends" to the real filesystem.
type tsconfig struct {
	file  string   // package-relative path of the config found
	files []string // file and every config it extends, for Inputs

	baseURL   string // package-relative directory; valid when hasBaseURL
	hasBase   bool
	paths     []tsPath
	pathsBase string // what paths targets are relative to

	raw string // {"compilerOptions": {...}} for esbuild's TsconfigRaw
}

type tsPath struct {
	prefix, suffix string
	star           bool
	targets        []string
}

// tsPassThrough are the compilerOptions esbuild reads from a tsconfig to
// transform code.
var tsPassThrough = []string{
	"alwaysStrict", "experimentalDecorators", "importsNotUsedAsValues", "jsx",
	"jsxFactory", "jsxFragmentFactory", "jsxImportSource", "preserveValueImports",
	"strict", "target", "useDefineForClassFields", "verbatimModuleSyntax",
}

// tsconfigDiagnostic is a problem with a tsconfig file.
type tsconfigDiagnostic struct{ Diagnostic }

func (e *tsconfigDiagnostic) Error() string { return e.Diagnostic.String() }

// loadTSConfig finds the config governing entry: the nearest tsconfig.json
// or jsconfig.json walking up from the entry's directory, as tsc and esbuild
// find it. It returns nil, nil when there is none.
func loadTSConfig(tree *fileTree, entry string) (*tsconfig, error) {
	for dir := parentDir(entry); ; dir = parentDir(dir) {
		for _, name := range []string{"tsconfig.json", "jsconfig.json"} {
			p := path.Join(dir, name)
			if !tree.isFile(p) {
				continue
			}
			ts := &tsconfig{file: p}
			merged, err := ts.read(tree, p, 0)
			if err != nil {
				return nil, err
			}
			if err := ts.apply(merged); err != nil {
				return nil, err
			}
			return ts, nil
		}
		if dir == "" {
			return nil, nil
		}
	}
}

// tsMerged is compilerOptions after "extends", with the directories that
// baseUrl and paths are relative to.
type tsMerged struct {
	options   map[string]json.RawMessage
	baseDir   string // dir of the config that set baseUrl
	pathsDir  string // dir of the config that set paths
	hasPaths  bool
	hasBase   bool
	baseValue string
}

func (ts *tsconfig) read(tree *fileTree, file string, depth int) (*tsMerged, error) {
	// Bound the work: a cycle would recurse forever, and configs that each
	// extend the next one many times over would multiply.
	if depth > 10 {
		return nil, &tsconfigDiagnostic{Diagnostic{File: file, Line: 1, Text: "\"extends\" chain is too deep (a cycle?)"}}
	}
	if len(ts.files) >= 32 {
		return nil, &tsconfigDiagnostic{Diagnostic{File: file, Line: 1, Text: "\"extends\" names more than 32 configs in all"}}
	}
	ts.files = append(ts.files, file)
	data, _ := tree.read(file)
	src := stripJSONC(data)
	var doc struct {
		Extends         json.RawMessage            `json:"extends"`
		CompilerOptions map[string]json.RawMessage `json:"compilerOptions"`
	}
	if err := json.Unmarshal(src, &doc); err != nil {
		d := Diagnostic{File: file, Line: 1, Text: "invalid JSON: " + err.Error()}
		if se, ok := err.(*json.SyntaxError); ok {
			d.Line, d.Column = lineCol(src, int(se.Offset))
			d.Text = "invalid JSON: " + se.Error()
		}
		return nil, &tsconfigDiagnostic{d}
	}
	dir := parentDir(file)
	merged := &tsMerged{options: map[string]json.RawMessage{}}

	var bases []string
	if len(doc.Extends) > 0 {
		var one string
		if json.Unmarshal(doc.Extends, &one) == nil {
			bases = []string{one}
		} else if json.Unmarshal(doc.Extends, &bases) != nil {
			return nil, &tsconfigDiagnostic{Diagnostic{File: file, Line: 1, Text: "\"extends\" must be a string or an array of strings"}}
		}
	}
	for _, b := range bases {
		bf, ok := findExtends(tree, dir, b)
		if !ok {
			return nil, &tsconfigDiagnostic{Diagnostic{File: file, Line: 1,
				Text: fmt.Sprintf("cannot find %q named by \"extends\" in the package", b)}}
		}
		base, err := ts.read(tree, bf, depth+1)
		if err != nil {
			return nil, err
		}
		for k, v := range base.options {
			merged.options[k] = v
		}
		if base.hasBase {
			merged.hasBase, merged.baseDir, merged.baseValue = true, base.baseDir, base.baseValue
		}
		if base.hasPaths {
			merged.hasPaths, merged.pathsDir = true, base.pathsDir
		}
	}
	for k, v := range doc.CompilerOptions {
		merged.options[k] = v
		switch k {
		case "baseUrl":
			var s string
			if json.Unmarshal(v, &s) == nil {
				merged.hasBase, merged.baseDir, merged.baseValue = true, dir, s
			}
		case "paths":
			merged.hasPaths, merged.pathsDir = true, dir
		}
	}
	return merged, nil
}

// findExtends resolves an "extends" value: a path relative to the config, or
// a config shipped in a package in node_modules/ (@tsconfig/..., ...).
func findExtends(tree *fileTree, dir, spec string) (string, bool) {
	var candidates []string
	if isRelative(spec) {
		p, ok := joinRel(dir, spec)
		if !ok {
			return "", false
		}
		candidates = []string{p, p + ".json"}
	} else {
		for d := dir; ; d = parentDir(d) {
			p := path.Join(d, "node_modules", spec)
			candidates = append(candidates, p, p+".json", path.Join(p, "tsconfig.json"))
			if d == "" {
				break
			}
		}
	}
	for _, c := range candidates {
		if tree.isFile(c) {
			return c, true
		}
	}
	return "", false
}

func (ts *tsconfig) apply(m *tsMerged) error {
	if m.hasBase {
		p, ok := joinRel(m.baseDir, m.baseValue)
		if !ok {
			return &tsconfigDiagnostic{Diagnostic{File: ts.file, Line: 1, Text: "\"baseUrl\" points outside the package"}}
		}
		ts.baseURL, ts.hasBase = p, true
	}
	if raw, ok := m.options["paths"]; ok && m.hasPaths {
		var paths map[string][]string
		if err := json.Unmarshal(raw, &paths); err != nil {
			return &tsconfigDiagnostic{Diagnostic{File: ts.file, Line: 1, Text: "\"paths\" must map patterns to arrays of strings"}}
		}
		ts.pathsBase = m.pathsDir
		if ts.hasBase {
			ts.pathsBase = ts.baseURL
		}
		for pattern, targets := range paths {
			p := tsPath{targets: targets}
			if i := strings.IndexByte(pattern, '*'); i >= 0 {
				p.prefix, p.suffix, p.star = pattern[:i], pattern[i+1:], true
			} else {
				p.prefix = pattern
			}
			ts.paths = append(ts.paths, p)
		}
		// TypeScript tries the pattern with the longest prefix first.
		sort.Slice(ts.paths, func(i, j int) bool {
			a, b := ts.paths[i], ts.paths[j]
			if a.star != b.star {
				return !a.star
			}
			if len(a.prefix) != len(b.prefix) {
				return len(a.prefix) > len(b.prefix)
			}
			return a.prefix+"*"+a.suffix < b.prefix+"*"+b.suffix
		})
	}

	opts := map[string]json.RawMessage{}
	for _, k := range tsPassThrough {
		if v, ok := m.options[k]; ok {
			opts[k] = v
		}
	}
	raw, err := json.Marshal(map[string]any{"compilerOptions": opts}) // map keys sort: deterministic
	if err != nil {
		return err
	}
	ts.raw = string(raw)
	return nil
}

// resolve applies paths, then baseUrl, to a bare import of the plugin's own
// source, as tsc does before it looks in node_modules.
func (ts *tsconfig) resolve(r *resolver, spec string) (string, bool) {
	for _, p := range ts.paths {
		var match string
		switch {
		case !p.star && spec == p.prefix:
		case p.star && len(spec) >= len(p.prefix)+len(p.suffix) &&
			strings.HasPrefix(spec, p.prefix) && strings.HasSuffix(spec, p.suffix):
			match = spec[len(p.prefix) : len(spec)-len(p.suffix)]
		default:
			continue
		}
		for _, t := range p.targets {
			c, ok := joinRel(ts.pathsBase, strings.Replace(t, "*", match, 1))
			if !ok {
				continue
			}
			if f, ok := r.loadAsFileOrDirectory(c); ok {
				return f, true
			}
			if r.generatedManifest(c) {
				return generatedManifestFile, true
			}
		}
		break // only the best-matching pattern counts
	}
	if ts.hasBase {
		if c, ok := joinRel(ts.baseURL, spec); ok {
			if f, ok := r.loadAsFileOrDirectory(c); ok {
				return f, true
			}
			if r.generatedManifest(c) {
				return generatedManifestFile, true
			}
		}
	}
	return "", false
}

// lineCol turns a byte offset into a 1-based line and 0-based column.
func lineCol(src []byte, off int) (int, int) {
	if off > len(src) {
		off = len(src)
	}
	line, col := 1, 0
	for _, c := range src[:off] {
		if c == '\n' {
			line++
			col = 0
		} else {
			col++
		}
	}
	return line, col
}
