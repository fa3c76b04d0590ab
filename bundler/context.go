package bundler

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
)

// Context imports: require(`./i18n/${locale}.json`) and
// import('./panels/' + name) are how webpack plugins load one of several
// files chosen at run time (webpack calls the result a context module).
// esbuild would expand them by listing directories on the disk, which the
// bundler never allows (jail.go); instead, the simple and common shapes are
// rewritten here, before esbuild parses the module, into a static require
// of a generated module holding one thunk per matching package file:
//
//	require(`./i18n/${locale}.json`)
//	  -> require("mmtoolkit-context:{...}")(locale)
//
// The generated module returns require(file) for require() and the promise
// of import(file) for import(), so each keeps its semantics, and throws
// (or rejects with) webpack's "Cannot find module" error for other values.
// Shapes not recognised here stay as they are and fail with a diagnostic.

const contextScheme = "mmtoolkit-context:"

// maxContextFiles bounds what one context import may pull in.
const maxContextFiles = 500

// contextSpec is one context import, carried in the generated module's
// specifier so that equal calls share a module and output stays
// deterministic whatever order esbuild loads modules in.
type contextSpec struct {
	Importer string `json:"i"` // package file holding the call
	Dynamic  bool   `json:"d"` // import() rather than require()
	Prefix   string `json:"p"` // "./i18n/": starts with ./ or ../
	Suffix   string `json:"s"` // ".json"
}

// rewriteContextImports rewrites the context imports of src (the package
// file importer). Everything it does not recognise is left alone.
func rewriteContextImports(src, importer string) string {
	var out strings.Builder
	last := 0
	words := wordFinder{src: src}
	for {
		start, word := words.next()
		if start < 0 {
			break
		}
		end := start + len(word)
		call, ok := parseContextCall(src[end:])
		if !ok || start < last || !codeAt(src, start) {
			continue
		}
		spec := contextSpec{Importer: importer, Dynamic: word == "import", Prefix: call.prefix, Suffix: call.suffix}
		id, _ := json.Marshal(spec)
		lit, _ := json.Marshal(contextScheme + string(id))
		out.WriteString(src[last:start])
		fmt.Fprintf(&out, "require(%s)(%s)", lit, call.expr)
		last = end + call.length
	}
	if last == 0 {
		return src
	}
	out.WriteString(src[last:])
	return out.String()
}

// wordFinder yields, in order, the standalone occurrences of "require" and
// "import" in src (not part of a longer name, not after a "."). Each word's
// next position is remembered, so the scan stays linear.
type wordFinder struct {
	src      string
	at       [2]int // where to search next, per word
	pending  [2]int // next occurrence found, -1 none left; valid when found[i]
	found    [2]bool
	finished [2]bool
}

var callWords = [2]string{"require", "import"}

func (w *wordFinder) next() (int, string) {
	for {
		for k := range callWords {
			if !w.found[k] && !w.finished[k] {
				i := strings.Index(w.src[w.at[k]:], callWords[k])
				if i < 0 {
					w.finished[k] = true
				} else {
					w.pending[k], w.found[k] = w.at[k]+i, true
				}
			}
		}
		k := -1
		for j := range callWords {
			if w.found[j] && (k < 0 || w.pending[j] < w.pending[k]) {
				k = j
			}
		}
		if k < 0 {
			return -1, ""
		}
		start, end := w.pending[k], w.pending[k]+len(callWords[k])
		w.found[k], w.at[k] = false, end
		if start > 0 && (isIdentByte(w.src[start-1]) || w.src[start-1] == '.') {
			continue // part of a longer name, or a property: not the global
		}
		if end < len(w.src) && isIdentByte(w.src[end]) {
			continue // a longer name
		}
		return start, callWords[k]
	}
}

type contextCall struct {
	prefix, suffix, expr string
	length               int // bytes of src consumed after the word, through ")"
}

// parseContextCall parses what follows "require"/"import" when it is one of
//
//	(`prefix${expr}suffix`)
//	('prefix' + expr)
//	('prefix' + expr + 'suffix')
//
// with expr a name or a chain of property names (locale, props.locale) and
// prefix starting with ./ or ../. Anything else is not a context import.
func parseContextCall(s string) (contextCall, bool) {
	var c contextCall
	rest := skipSpaceAndComments(s)
	if !strings.HasPrefix(rest, "(") {
		return c, false
	}
	rest = skipSpaceAndComments(rest[1:])
	switch {
	case strings.HasPrefix(rest, "`"):
		body := rest[1:]
		open := strings.Index(body, "${")
		if open < 0 || strings.ContainsAny(body[:open], "`\\") {
			return c, false
		}
		c.prefix = body[:open]
		expr, after, ok := cutName(body[open+2:])
		if !ok || !strings.HasPrefix(after, "}") {
			return c, false
		}
		c.expr = expr
		tail := after[1:]
		closeTick := strings.IndexByte(tail, '`')
		if closeTick < 0 || strings.ContainsAny(tail[:closeTick], "$\\") {
			return c, false
		}
		c.suffix = tail[:closeTick]
		rest = tail[closeTick+1:]
	case strings.HasPrefix(rest, "'") || strings.HasPrefix(rest, `"`):
		prefix, after, ok := cutSimpleString(rest)
		if !ok {
			return c, false
		}
		c.prefix = prefix
		after = skipSpaceAndComments(after)
		if !strings.HasPrefix(after, "+") {
			return c, false
		}
		expr, after, ok := cutName(skipSpaceAndComments(after[1:]))
		if !ok {
			return c, false
		}
		c.expr = expr
		after = skipSpaceAndComments(after)
		if strings.HasPrefix(after, "+") {
			suffix, more, ok := cutSimpleString(skipSpaceAndComments(after[1:]))
			if !ok {
				return c, false
			}
			c.suffix, after = suffix, more
		}
		rest = after
	default:
		return c, false
	}
	rest = skipSpaceAndComments(rest)
	if !strings.HasPrefix(rest, ")") {
		return c, false
	}
	if !strings.HasPrefix(c.prefix, "./") && !strings.HasPrefix(c.prefix, "../") {
		return c, false
	}
	if strings.ContainsAny(c.prefix+c.suffix, "*?\n") {
		return c, false
	}
	c.length = len(s) - len(rest) + 1
	return c, true
}

// cutName cuts a leading name or property chain (a.b.c) off s.
func cutName(s string) (name, rest string, ok bool) {
	i := 0
	for i < len(s) && (isIdentByte(s[i]) || (s[i] == '.' && i > 0 && i+1 < len(s) && isIdentByte(s[i+1]))) {
		i++
	}
	if i == 0 || s[0] >= '0' && s[0] <= '9' {
		return "", s, false
	}
	return s[:i], s[i:], true
}

// cutSimpleString cuts a leading quoted string without escapes off s.
func cutSimpleString(s string) (value, rest string, ok bool) {
	if s == "" || (s[0] != '\'' && s[0] != '"') {
		return "", s, false
	}
	end := strings.IndexByte(s[1:], s[0])
	if end < 0 || strings.ContainsAny(s[1:1+end], "\\\n") {
		return "", s, false
	}
	return s[1 : 1+end], s[2+end:], true
}

// parseContextSpec reads a specifier written by rewriteContextImports.
func parseContextSpec(spec string) (contextSpec, bool) {
	var c contextSpec
	raw, ok := strings.CutPrefix(spec, contextScheme)
	if !ok || json.Unmarshal([]byte(raw), &c) != nil {
		return c, false
	}
	return c, true
}

// contextModule generates the module for c: a thunk per package file the
// pattern matches, keyed by the value the computed part must take.
func contextModule(tree *fileTree, c contextSpec) (string, error) {
	base, ok := joinRel(parentDir(c.Importer), c.Prefix)
	if !ok {
		return "", fmt.Errorf("cannot import %q: it points outside the package", c.Prefix+"*"+c.Suffix)
	}
	// "./i18n/" lists i18n/; "./icon-" lists the importer's directory for
	// files starting with "icon-".
	dir, namePrefix := base, ""
	if !strings.HasSuffix(c.Prefix, "/") {
		dir, namePrefix = parentDir(base), path.Base(base)
		if base == "" {
			dir, namePrefix = "", ""
		}
	}
	keys := map[string]string{} // key -> file
	tree.list(dir, func(f string) {
		rel := f
		if dir != "" {
			var ok bool
			if rel, ok = strings.CutPrefix(f, dir+"/"); !ok {
				return
			}
		}
		if strings.Contains("/"+rel, "/node_modules/") || !strings.HasPrefix(rel, namePrefix) || !strings.HasSuffix(rel, c.Suffix) ||
			len(rel) < len(namePrefix)+len(c.Suffix) {
			return
		}
		if !loadable(path.Ext(f)) {
			return // README.md, LICENSE, ...: webpack would fail on them too
		}
		key := rel[len(namePrefix) : len(rel)-len(c.Suffix)]
		keys[key] = f
		if c.Suffix == "" {
			// webpack also answers "./i18n/de" for i18n/de.json.
			if ext := path.Ext(key); ext != "" && strings.Contains(strings.Join(probeExts, " "), ext) {
				if _, taken := keys[strings.TrimSuffix(key, ext)]; !taken {
					keys[strings.TrimSuffix(key, ext)] = f
				}
			}
		}
	})
	if len(keys) > maxContextFiles {
		return "", fmt.Errorf("cannot import %q: it matches %d files of the package, more than %d", c.Prefix+"*"+c.Suffix, len(keys), maxContextFiles)
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)

	load := "require"
	if c.Dynamic {
		load = "import"
	}
	var b strings.Builder
	b.WriteString("var m = {\n")
	for _, k := range sorted {
		key, _ := json.Marshal(k)
		target, _ := json.Marshal("/" + keys[k]) // package-absolute: see OnResolve
		fmt.Fprintf(&b, "  %s: function () { return %s(%s); },\n", key, load, target)
	}
	prefix, _ := json.Marshal(c.Prefix)
	suffix, _ := json.Marshal(c.Suffix)
	fail := "throw e;"
	if c.Dynamic {
		fail = "return Promise.reject(e);"
	}
	fmt.Fprintf(&b, `};
module.exports = function (k) {
  if (Object.prototype.hasOwnProperty.call(m, k)) return m[k]();
  var e = new Error("Cannot find module '" + %s + k + %s + "'");
  e.code = "MODULE_NOT_FOUND";
  %s
};
`, prefix, suffix, fail)
	return b.String(), nil
}

// codeAt reports whether offset i of src is code rather than the inside of
// a string or comment, judging by its line alone (JS strings cannot span
// lines; a multi-line template or comment is missed, and rewriting inside
// one is harmless: the replacement holds no backtick or "*/"). A call that
// is not rewritten stays a computed import and fails with a diagnostic, so
// erring towards false is safe.
func codeAt(src string, i int) bool {
	line := strings.LastIndexByte(src[:i], '\n') + 1
	var quote byte
	for j := line; j < i; j++ {
		c := src[j]
		switch {
		case quote != 0:
			if c == '\\' {
				j++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '/' && j+1 < i && src[j+1] == '/':
			return false
		case c == '/' && j+1 < i && src[j+1] == '*':
			end := strings.Index(src[j+2:i], "*/")
			if end < 0 {
				return false
			}
			j += 2 + end + 1
		}
	}
	return quote == 0
}
