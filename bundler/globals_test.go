package bundler

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestReferencedHostModules: every form in which a prebuilt bundle reads a
// host global is found, and anything the detector cannot follow loads
// every module. The first cases are the shapes webpack 5 and 4 emit for
// externals without output.library (bare identifiers), which a text
// search for window.X missed: those bundles threw ReferenceError.
func TestReferencedHostModules(t *testing.T) {
	all := sortedHostModules()
	tests := []struct {
		name, src string
		want      []string
	}{
		{"webpack 5 externals: bare identifiers",
			`(()=>{var e={12:e=>{"use strict";e.exports=ReactIntl},34:e=>{"use strict";e.exports=React}},t={};function r(n){return e[n](t)}const o=r(12),n=r(34);window.registerPlugin("x",{})})();`,
			[]string{"react", "react-intl"}},
		{"webpack 5 minified externals",
			`(()=>{"use strict";const e=ReactBootstrap,t=Luxon,n=React;window.registerPlugin("x",{initialize(){t.DateTime.now()}})})();`,
			[]string{"luxon", "react", "react-bootstrap"}},
		{"webpack 4 externals",
			`!function(e){var t={};function n(r){return e[r].call(null,{},{},n)}n(0)}([function(e,t,n){n(1)},function(e,t){e.exports=ReactRouterDom}]);`,
			[]string{"react-router-dom"}},
		{"window.X", `window.ReactDOM.render(1)`, []string{"react-dom"}},
		{"window['X']", `window['ReactIntl'].x`, []string{"react-intl"}},
		{"globalThis.X", `globalThis.Redux`, []string{"redux"}},
		{"self.X", `self.ReactRedux`, []string{"react-redux"}},
		{"global.X", `global.PropTypes`, []string{"prop-types"}},
		{"webpack 5 global alias n.g.X", `var n={g:globalThis};n.g.Luxon.DateTime`, []string{"luxon"}},
		{"webpack 4 global polyfill alias", `(function(e){e.ReactBootstrap.Modal})(function(){return this}())`, []string{"react-bootstrap"}},
		{"optional member", `a?.ReactIntl`, []string{"react-intl"}},
		{"name in a string", `var k="ReactIntl";x[k]`, []string{"react-intl"}},
		{"name in a template", "var k=`${a}ReactRouterDom`;x[k]", []string{"react-router-dom"}},
		{"escaped name in a string", `x["React\u0049ntl"]`, []string{"react-intl"}},
		{"webpack eval devtool", `eval("module.exports = ReactBootstrap;\n//# sourceURL=webpack://x")`, []string{"react-bootstrap"}},
		{"object key", `var m={"Luxon":1}`, []string{"luxon"}},
		{"typeof guard", `typeof ReactIntl!=="undefined"&&ReactIntl.x`, []string{"react-intl"}},
		{"no host global", `window.registerPlugin("x",{})`, []string{}},
		{"a longer name is not the global", `var ReactIntlX=1;x.ReactBootstrapModal;y="ReactRouterDomain"`, []string{}},
		{"a top-level var is the global object's property", `var ReactIntl=ReactIntl||{};`, []string{"react-intl"}},
		{"shadowed local is not a read", `function f(React){return React.x}var g=function(){let Luxon=1;return Luxon}`, []string{}},
		{"a local named window is not the global object", `function f(window,k){return window[k]}`, []string{}},
		{"new Function with a literal (webpack 4 polyfill)", `var g=new Function("return this")();`, []string{}},

		{"computed key on window", `var k=a+b;window[k]`, all},
		{"computed key on globalThis", `globalThis[f()]`, all},
		{"computed key on self", `self[x].y`, all},
		{"eval of a variable", `eval(code)`, all},
		{"Function of a variable", `new Function(code)()`, all},
		{"eval by alias", `var e=eval;e("x")`, all},
		{"escaped identifier", `\u0052eactIntl.x`, all},
		{"parse failure", `var = ;`, all},
		{"unterminated", `function(){`, all},
		{"too deep to parse safely", "var x=" + strings.Repeat("[", 200_000) + strings.Repeat("]", 200_000) + ";", all},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ReferencedHostModules([]byte(tc.src))
			if !slices.Equal(got, tc.want) {
				t.Errorf("ReferencedHostModules(%.80q) = %q, want %q", tc.src, got, tc.want)
			}
		})
	}
}

// FuzzReferencedGlobals: the detector parses any bundle a developer
// pushes. It must not panic or hang, and must stay conservative: a name
// read bare in the source is always found, whatever precedes it.
func FuzzReferencedGlobals(f *testing.F) {
	f.Add(`(()=>{var e={1:e=>{e.exports=ReactIntl}};window.registerPlugin("x",{})})();`)
	f.Add("window[`${a}`]")
	f.Add(`x["\u{52}eactIntl"];/re[/]/.test(y)`)
	f.Add(`class A{#p=1;static s=window.Luxon;get [k](){}}`)
	f.Add(`eval("ReactBootstrap")`)
	all := sortedHostModules()
	f.Fuzz(func(t *testing.T, src string) {
		got := ReferencedHostModules([]byte(src))
		if !slices.IsSorted(got) {
			t.Fatalf("not sorted: %q", got)
		}
		for _, m := range got {
			if !slices.Contains(all, m) {
				t.Fatalf("%q is not a host module", m)
			}
		}
		// A statement reading ReactIntl after any source is either found
		// or the whole answer is "all" (the source did not parse). Sources
		// that spell ReactIntl themselves may declare it: skipped.
		if strings.Contains(src, "ReactIntl") || strings.Contains(src, `\`) {
			return
		}
		more := ReferencedHostModules([]byte(src + "\n;ReactIntl;\n"))
		if !slices.Contains(more, "react-intl") {
			t.Fatalf("ReferencedHostModules(%q + ReactIntl) = %q: the bare read was missed", src, more)
		}
	})
}

// sortedHostModules is every host module a bundle can ask for.
func sortedHostModules() []string {
	var out []string
	for mod := range HostGlobals {
		if mod != "react-dom/client" {
			out = append(out, mod)
		}
	}
	slices.Sort(out)
	return out
}

// BenchmarkReferencedHostModules: a webpack-5-shaped bundle of about
// 100 KB (400 modules, minified, externals read bare), the size of a
// small real plugin; the server parses each prebuilt bundle once per push.
func BenchmarkReferencedHostModules(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`(()=>{var e={1:e=>{"use strict";e.exports=React},2:e=>{"use strict";e.exports=ReactIntl},`)
	for i := 3; i < 400; i++ {
		fmt.Fprintf(&sb, `%d:(e,t,n)=>{"use strict";n.r(t),n.d(t,{default:()=>o});var r=n(1),a=n(2);function o(e){const[t,n]=(0,r.useState)(e.v||0),i=(0,a.useIntl)();return r.createElement("div",{className:"m%d",onClick:()=>n(t+1)},i.formatMessage({id:"m%d",defaultMessage:"Clicked {n} times"},{n:t}))}},`, i, i, i)
	}
	sb.WriteString(`},t={};function r(n){var o=t[n];if(void 0!==o)return o.exports;var i=t[n]={exports:{}};return e[n](i,i.exports,r),i.exports}window.registerPlugin("x",{initialize(){}})})();`)
	js := []byte(sb.String())
	b.SetBytes(int64(len(js)))
	b.ReportAllocs()
	for b.Loop() {
		ReferencedHostModules(js)
	}
}
