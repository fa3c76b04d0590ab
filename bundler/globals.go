package bundler

import (
	"bytes"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/tdewolff/parse/v2"
	"github.com/tdewolff/parse/v2/js"
)

// A prebuilt (webpack-built) Mattermost bundle reads the host's libraries
// as globals, and the host loads its heavy ones (react-bootstrap,
// react-intl, react-router-dom, luxon) only when a bundle of the page
// needs them. Guessing too few is fatal: a bundle that reads a missing
// global throws ReferenceError before it calls registerPlugin. Guessing
// too many costs bytes. So ReferencedHostModules reads the bundle the way
// JavaScript does, with a parser, and answers "all of them" whenever it
// cannot be sure.
//
// Real bundles reach a global in several forms, all handled:
//
//   - a bare identifier: webpack's externals without output.library (the
//     starter template and every real plugin) emit `t=ReactIntl,n=React`;
//   - a member of the global object: window.X, window["X"], globalThis.X,
//     self.X, global.X (also top, parent, frames);
//   - a member of an alias of it: webpack 4 turns global.X into e.X with e
//     its global polyfill, webpack 5 into n.g.X. Any member named like a
//     host global, on any object, counts;
//   - a string: window[k] with k = "ReactIntl" somewhere, code run by eval
//     or new Function (webpack's eval devtool wraps every module in a
//     string). Any string or template text containing a host global's
//     name as a word counts.
//
// And "all of them" whenever: the source does not parse or is not UTF-8; it is nested too
// deeply to parse safely (nestingDepth); an identifier is spelled with
// escapes; the global object is indexed with a key that is not a literal
// (window[k]); eval or Function is called with anything but string
// literals, or referenced other than by a call (var e = eval). What is left
// unseen is a name assembled from pieces at run time and read through an
// alias of the global object; docs/webapp.md says so.

// globalObjects are the names of the global object in a browser script.
var globalObjects = map[string]bool{"window": true, "self": true, "globalThis": true, "global": true, "top": true, "parent": true, "frames": true}

// ReferencedHostModules returns the host modules (keys of HostGlobals,
// sorted, react-dom/client folded into react-dom) whose globals the script
// js may read; see above for how, and when it answers all of them.
func ReferencedHostModules(js []byte) []string {
	globals, all := referencedGlobals(js)
	seen := map[string]bool{}
	for mod, g := range HostGlobals {
		if mod == "react-dom/client" {
			continue
		}
		if all || globals[g] {
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

// hostGlobalNames are HostGlobals' values, the names looked for.
var hostGlobalNames = func() map[string]bool {
	m := map[string]bool{}
	for _, g := range HostGlobals {
		m[g] = true
	}
	return m
}()

// referencedGlobals returns the host globals src reads, or all=true when
// it cannot tell.
func referencedGlobals(src []byte) (globals map[string]bool, all bool) {
	// The parser and the walk recurse once per level of nesting: refuse
	// what could exhaust the stack, as for esbuild (depth.go).
	if len(src) > safeDepthBytes && nestingDepth(string(src), maxNesting) > maxNesting {
		return nil, true
	}
	// The parser reads bytes, a browser decoded text: on invalid UTF-8
	// they could see different programs.
	if !utf8.Valid(src) {
		return nil, true
	}
	ast, err := js.Parse(parse.NewInputBytes(src), js.Options{})
	if err != nil {
		return nil, true
	}
	v := &globalsVisitor{globals: map[string]bool{}}
	// A script's top-level var is a property of the global object: `var
	// ReactIntl = ReactIntl || {}` reads the host's. Counted, to be safe.
	for _, d := range ast.BlockStmt.Scope.Declared {
		if hostGlobalNames[string(d.Data)] {
			v.globals[string(d.Data)] = true
		}
	}
	js.Walk(v, ast)
	if v.all || v.evalRefs > v.evalLiteralCalls {
		return nil, true
	}
	return v.globals, false
}

type globalsVisitor struct {
	globals map[string]bool
	all     bool
	// evalRefs counts free references to eval and Function; evalLiteralCalls
	// those that are the callee of a call with only string literals.
	evalRefs, evalLiteralCalls int
}

// free reports whether v is a use of a global: declared nowhere in scope.
func free(v *js.Var) bool {
	for v.Link != nil {
		v = v.Link
	}
	return v.Decl == js.NoDecl
}

// globalObject reports whether e is a free identifier naming the global object.
func globalObject(e js.IExpr) bool {
	v, ok := e.(*js.Var)
	return ok && free(v) && globalObjects[string(v.Data)]
}

func (g *globalsVisitor) Enter(n js.INode) js.IVisitor {
	if g.all {
		return nil
	}
	switch n := n.(type) {
	case *js.Var:
		if bytes.IndexByte(n.Data, '\\') >= 0 {
			g.all = true // an escaped identifier: \u0052eact is React
			return nil
		}
		if free(n) {
			name := string(n.Data)
			if hostGlobalNames[name] {
				g.globals[name] = true
			}
			if name == "eval" || name == "Function" {
				g.evalRefs++
			}
		}
	case *js.DotExpr:
		g.member(n.Y)
	case *js.IndexExpr:
		if s, ok := stringLiteral(n.Y); ok {
			g.text(s)
		} else if globalObject(n.X) {
			g.all = true // window[k]: any global at all
			return nil
		}
	case *js.LiteralExpr:
		g.literal(*n)
	case *js.TemplateExpr:
		for _, p := range n.List {
			g.text(p.Value)
		}
		g.text(n.Tail)
	case *js.CallExpr:
		g.dynamicCode(n.X, &n.Args)
	case *js.NewExpr:
		g.dynamicCode(n.X, n.Args)
	case *js.PropertyName:
		g.text(n.Literal.Data) // {"ReactIntl": ...} or {ReactIntl: ...}: a key may become window[k]
	}
	return g
}

func (g *globalsVisitor) Exit(js.INode) {}

// member notes the name after a dot: x.ReactIntl, on any object.
func (g *globalsVisitor) member(y js.IExpr) {
	var name []byte
	switch y := y.(type) {
	case js.LiteralExpr:
		name = y.Data
	case *js.LiteralExpr:
		name = y.Data
	default:
		return // a #private name
	}
	if bytes.IndexByte(name, '\\') >= 0 {
		g.all = true
		return
	}
	if hostGlobalNames[string(name)] {
		g.globals[string(name)] = true
	}
}

// literal notes the words of a string literal; other literals hold none.
func (g *globalsVisitor) literal(l js.LiteralExpr) {
	if l.TokenType == js.StringToken {
		g.text(unquote(l.Data))
	}
}

// dynamicCode counts calls of eval and Function whose arguments are all
// string literals (their words were noted as strings).
func (g *globalsVisitor) dynamicCode(callee js.IExpr, args *js.Args) {
	v, ok := callee.(*js.Var)
	if !ok || !free(v) || (string(v.Data) != "eval" && string(v.Data) != "Function") {
		return
	}
	if args != nil {
		for _, a := range args.List {
			if _, ok := stringLiteral(a.Value); !ok || a.Rest {
				return
			}
		}
	}
	g.evalLiteralCalls++
}

// text notes every host global's name that appears in s as a whole word.
func (g *globalsVisitor) text(s []byte) {
	if bytes.IndexByte(s, '\\') >= 0 {
		s = unescape(s)
	}
	for name := range hostGlobalNames {
		for i := 0; ; {
			j := bytes.Index(s[i:], []byte(name))
			if j < 0 {
				break
			}
			j += i
			end := j + len(name)
			if (j == 0 || !identByte(s[j-1])) && (end == len(s) || !identByte(s[end])) {
				g.globals[name] = true
				break
			}
			i = j + 1
		}
	}
}

func identByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// stringLiteral returns the value of a string literal expression.
func stringLiteral(e js.IExpr) ([]byte, bool) {
	switch l := e.(type) {
	case *js.LiteralExpr:
		if l.TokenType == js.StringToken {
			return unquote(l.Data), true
		}
	case *js.TemplateExpr:
		if l.Tag == nil && len(l.List) == 0 {
			return l.Tail, true
		}
	}
	return nil, false
}

// unquote drops a string token's quotes (escapes are decoded by text).
func unquote(b []byte) []byte {
	if len(b) >= 2 {
		return b[1 : len(b)-1]
	}
	return b
}

// unescape decodes JavaScript's escapes well enough to find names: \xHH,
// \uHHHH, \u{H...}, and \c for any other c. What it cannot decode it keeps.
func unescape(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			out = append(out, s[i])
			continue
		}
		i++
		switch s[i] {
		case 'x':
			if r, ok := hexRune(s, i+1, i+3); ok {
				out = utf8.AppendRune(out, r)
				i += 2
				continue
			}
		case 'u':
			if i+1 < len(s) && s[i+1] == '{' {
				if end := bytes.IndexByte(s[i+1:], '}'); end > 0 {
					if r, ok := hexRune(s, i+2, i+1+end); ok {
						out = utf8.AppendRune(out, r)
						i += 1 + end
						continue
					}
				}
			} else if r, ok := hexRune(s, i+1, i+5); ok {
				out = utf8.AppendRune(out, r)
				i += 4
				continue
			}
		}
		out = append(out, s[i])
	}
	return out
}

func hexRune(s []byte, from, to int) (rune, bool) {
	if from >= to || to > len(s) || to-from > 6 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(s[from:to]), 16, 32)
	if err != nil || n > utf8.MaxRune {
		return 0, false
	}
	return rune(n), true
}
