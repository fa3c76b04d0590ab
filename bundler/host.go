package bundler

import (
	"encoding/json"
	"regexp"
	"strings"
)

// HostGlobals maps each host-provided module of a web bundle to the window
// global that Mattermost's webapp (and mmtoolkit's host) exposes for it:
// the externals of Mattermost's webpack-web-app-externals.cjs. A compiled
// plugin's import of one becomes module.exports = window.<Global>
// (hostModuleSource); a prebuilt bundle's reads of them are found by
// ReferencedHostModules.
var HostGlobals = map[string]string{
	"react":            "React",
	"react-dom":        "ReactDOM",
	"react-dom/client": "ReactDOM",
	"redux":            "Redux",
	"react-redux":      "ReactRedux",
	"prop-types":       "PropTypes",
	"react-intl":       "ReactIntl",
	"react-router-dom": "ReactRouterDom",
	"react-bootstrap":  "ReactBootstrap",
	"luxon":            "Luxon",
}

// jsxRuntimeShim is "react/jsx-runtime" for web bundles. Mattermost's
// webapp exposes only window.React (no jsx-runtime global), so plugins
// compiled with the automatic JSX runtime would have nothing to import.
// This shim implements jsx/jsxs/jsxDEV on React.createElement:
//
//   - key arrives as the third argument and goes back into props;
//   - jsxs marks a static children array, which createElement receives
//     spread so React does not ask for keys on it (as the real jsxs);
//   - jsx with an array child passes it as one child, so React still warns
//     about missing keys in a .map() as it would with the real runtime.
//
// React is read on every call, not captured: a host may replace
// window.React (Mattermost wraps parts of it) after the plugin loaded.
const jsxRuntimeShim = `"use strict";
function R() { return window.React; }
function make(type, props, key, isStatic) {
  var p = {}, children, k;
  for (k in props) {
    if (k !== "children" && Object.prototype.hasOwnProperty.call(props, k)) p[k] = props[k];
  }
  if (key !== undefined) p.key = key;
  children = props == null ? undefined : props.children;
  if (children === undefined) return R().createElement(type, p);
  if (isStatic && Array.isArray(children)) return R().createElement.apply(null, [type, p].concat(children));
  return R().createElement(type, p, children);
}
exports.jsx = function (type, props, key) { return make(type, props, key, false); };
exports.jsxs = function (type, props, key) { return make(type, props, key, true); };
exports.jsxDEV = function (type, props, key, isStatic) { return make(type, props, key, !!isStatic); };
Object.defineProperty(exports, "Fragment", { enumerable: true, get: function () { return R().Fragment; } });
`

// hostModuleSource is the virtual module standing for a web host module:
// exactly what webpack's externals produce (module.exports = the global),
// so default, namespace and named imports behave as in a Mattermost build.
func hostModuleSource(spec string) string {
	switch spec {
	case "react/jsx-runtime", "react/jsx-dev-runtime":
		return jsxRuntimeShim
	}
	return "module.exports = window." + HostGlobals[spec] + ";\n"
}

// cssInjection is prepended to a web bundle that imports CSS: one line that
// puts the bundle's CSS into a <style> tag, in place of webpack's
// style-loader, so a plugin stays a single .js file. The tag is marked with
// the plugin id; a previous version's tag is replaced, so an upgrade loaded
// without a page reload does not stack old styles. It runs before the
// plugin's code, as style-loader injects at import time.
func cssInjection(pluginID string, css []byte) []byte {
	id, _ := json.Marshal(pluginID) // Go escapes <, >, &, U+2028/9: safe in a script
	text, _ := json.Marshal(string(css))
	var b strings.Builder
	b.WriteString(`(()=>{if(typeof document>"u")return;const a="data-mmtoolkit-plugin",i=`)
	b.Write(id)
	b.WriteString(`;for(const o of document.querySelectorAll("style["+a+"]"))o.getAttribute(a)===i&&o.remove();const s=document.createElement("style");s.setAttribute(a,i);s.textContent=`)
	b.Write(text)
	b.WriteString(`;document.head.appendChild(s)})();`)
	return []byte(b.String())
}

// IconsModule is the style-only lazy host module with the icon fonts
// Mattermost's page always has: Font Awesome 4.7 (`fa fa-plug`) and
// compass-icons (`icon icon-brand-zoom`). It is not a global: the web host
// loads its stylesheet (webapp/src/modules/icons.css) before a plugin that
// lists it initializes. Every prebuilt bundle lists it (slots.Build), a
// compiled one when UsesIconClasses says so.
const IconsModule = "icons"

// iconClasses finds, in a compiled bundle's text, what a class attribute
// using either font must contain: a class starting with "fa-" or "icon-"
// (className="fa fa-plug", `icon-${name}`), or the bare class "fa"
// between quotes or spaces (classNames('fa', ...)). The prefix must not
// follow a class-name character, so "call-icon-x" or "sofa-" do not count.
var iconClasses = regexp.MustCompile("(?:^|[^A-Za-z0-9_-])(?:fa|icon)-|[\"'` ]fa[\"'` ]")

// UsesIconClasses reports whether a compiled web bundle may put a Font
// Awesome or compass-icons class on an element, so its page needs
// IconsModule. It reads literal text only: a class assembled from pieces
// none of which is such a literal ("ic" + "on-plug") is missed, which no
// plugin we know does; a match in unrelated text costs one stylesheet
// (about 10 KB gzip), never a glyph.
func UsesIconClasses(js []byte) bool {
	return iconClasses.Match(js)
}
