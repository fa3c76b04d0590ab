// Runs a bundle the way a host would and prints what the plugin rendered.
//
//   node harness.js web bundle.js      IIFE with window globals, as the webapp
//   node harness.js mobile bundle.js   CommonJS body with a host require, as
//                                      the React Native host library
//
// React here is a stub: createElement records elements, and render() below
// expands components into a plain tree of host elements, which the Go test
// compares. That is enough to prove the bundle's JSX (classic or the
// automatic runtime shim), keys, fragments and host globals are wired right.
'use strict';
const fs = require('fs');

const [mode, file] = process.argv.slice(2);
const code = fs.readFileSync(file, 'utf8');

const Fragment = Symbol.for('react.fragment');
class Component {
  constructor(props) { this.props = props; this.state = {}; }
  setState(s) { Object.assign(this.state, typeof s === 'function' ? s(this.state, this.props) : s); }
}
const created = [];
const React = {
  Fragment,
  Component,
  PureComponent: Component,
  createElement(type, props, ...children) {
    if (type === undefined) throw new Error('createElement: type is undefined (a missing import?)');
    const p = Object.assign({}, props);
    const key = p.key === undefined || p.key === null ? null : String(p.key);
    delete p.key;
    if (children.length === 1) p.children = children[0];
    else if (children.length > 1) p.children = children;
    created.push(typeof type === 'string' ? type : (type.displayName || type.name || 'anonymous'));
    return { $$element: true, type, key, props: p };
  },
  useState(init) { return [typeof init === 'function' ? init() : init, () => {}]; },
  useMemo(f) { return f(); },
  useCallback(f) { return f; },
  useEffect() {},
  useRef(v) { return { current: v }; },
  memo(c) { return c; },
};

function render(node) {
  if (node === null || node === undefined || typeof node === 'boolean') return [];
  if (typeof node === 'string' || typeof node === 'number') return [String(node)];
  if (Array.isArray(node)) return node.flatMap(render);
  if (!node.$$element) throw new Error('not an element: ' + JSON.stringify(node));
  const { type, key, props } = node;
  if (type === Fragment) return render(props.children);
  if (typeof type === 'function') {
    const out = type.prototype && type.prototype.render ? new type(props).render() : type(props);
    return render(out);
  }
  const el = { tag: type };
  if (key !== null) el.key = key;
  for (const [k, v] of Object.entries(props)) {
    if (k === 'children') continue;
    el[k] = typeof v === 'function' ? '[function]' : v;
  }
  const children = render(props.children);
  if (children.length) el.children = children;
  return [el];
}

const registrations = [];
const registry = new Proxy({}, {
  get(_, method) {
    return (...args) => {
      const reg = { method: String(method) };
      const comp = args.find((a) => typeof a === 'function');
      if (reg.method === 'registerTranslations' && comp) {
        reg.translations = {};
        for (const locale of ['de', 'fr', 'xx']) {
          try {
            reg.translations[locale] = comp(locale);
          } catch (e) {
            reg.translations[locale] = 'error: ' + e.message;
          }
        }
      } else if (/Component$/.test(reg.method) && comp) {
        reg.rendered = render(React.createElement(comp, { post: { id: 'p1', message: 'hello' }, theme: {} }));
      }
      const strings = args.filter((a) => typeof a === 'string');
      if (strings.length) reg.args = strings;
      registrations.push(reg);
      return 'registration-' + registrations.length;
    };
  },
});

const styles = [];
const document = {
  head: { appendChild(el) { styles.push(el); } },
  createElement(tag) {
    const attrs = {};
    return {
      tag, attrs, textContent: '',
      setAttribute(k, v) { attrs[k] = String(v); },
      getAttribute(k) { return attrs[k]; },
      remove() { styles.splice(styles.indexOf(this), 1); },
    };
  },
  querySelectorAll(sel) {
    const m = /^style\[([^\]=]+)\]$/.exec(sel);
    return m ? styles.filter((s) => s.tag === 'style' && m[1] in s.attrs) : [];
  },
};

const plugins = [];
let plugin;
if (mode === 'web') {
  globalThis.document = document;
  globalThis.window = {
    React,
    ReactDOM: { render() {} },
    PropTypes: { string: () => null, node: () => null, func: () => null },
    Redux: { combineReducers: (r) => r },
    ReactRedux: { connect: () => (c) => c },
    registerPlugin(id, p) { plugins.push(id); plugin = p; },
  };
  require('vm').runInThisContext(code, { filename: file });
} else {
  const jsxRuntime = {
    Fragment,
    jsx(type, props, key) {
      const { children, ...rest } = props;
      if (key !== undefined) rest.key = key;
      return children === undefined ? React.createElement(type, rest) : React.createElement(type, rest, children);
    },
  };
  jsxRuntime.jsxs = jsxRuntime.jsx;
  const hostModules = {
    react: React,
    'react/jsx-runtime': jsxRuntime,
    'react-native': { View: 'View', Text: 'Text', Pressable: 'Pressable', StyleSheet: { create: (s) => s } },
    '@mmtoolkit/mobile': { registerPlugin(id, p) { plugins.push(id); plugin = p; } },
  };
  const required = [];
  const hostRequire = (name) => {
    required.push(name);
    if (!(name in hostModules)) throw new Error('host has no module ' + name);
    return hostModules[name];
  };
  const module = { exports: {} };
  new Function('require', 'module', 'exports', code)(hostRequire, module, module.exports);
  if (!plugin && module.exports.default) { plugin = module.exports.default; plugins.push('(module.exports.default)'); }
}

if (!plugin) throw new Error('the bundle registered no plugin');

async function main() {
  // Mattermost does not await initialize; awaiting here lets a test plugin
  // finish registrations that wait on a dynamic import().
  await plugin.initialize(registry, { getState: () => ({}), dispatch() {}, subscribe() {} });
  const out = { plugins, registrations };
  if (globalThis.__mmtoolkitTest !== undefined) out.global = globalThis.__mmtoolkitTest;
  if (styles.length) out.styles = styles.map((s) => ({ attrs: s.attrs, css: s.textContent }));
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
