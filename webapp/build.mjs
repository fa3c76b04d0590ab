// Builds the host into dist/: content-hashed files under dist/static/, each
// precompressed (gzip, brotli), an asset manifest the Go shell reads
// (dist/manifest.json), and esbuild's metafiles for the size report.
//
// Two builds, on purpose:
//   - main: the app and the core libraries every page needs (React,
//     ReactDOM, Redux, ReactRedux, PropTypes, the mattermost-redux store,
//     the Mattermost client), which it also puts on window for plugins;
//   - modules: one file per heavy library only some plugins use
//     (react-bootstrap, react-router-dom, react-intl, luxon). They read React and
//     friends from window, exactly as a webpack-built plugin does, so there
//     is one React on the page however the files are loaded.
import * as esbuild from 'esbuild';
import {brotliCompressSync, constants, gzipSync} from 'node:zlib';
import {mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const dist = path.join(here, 'dist');
const out = path.join(dist, 'static');

// Core modules the main bundle exposes; lazy modules resolve them to these.
export const coreGlobals = {
    react: 'React',
    'react-dom': 'ReactDOM',
    'prop-types': 'PropTypes',
    redux: 'Redux',
    'react-redux': 'ReactRedux',
};

// Lazy host modules: the manifest's host_modules name -> entry point. A
// module's entry may import CSS (react-bootstrap imports bootstrap 3's):
// it is written beside the script and listed under manifest.styles, and
// the host loads it with the script. A .css entry is a style-only module
// (icons: Font Awesome 4.7 and compass-icons, which Mattermost's page
// always has); the server lists it in host_modules for the plugins that
// may use those classes (server/hostglobals.go, styleModules).
export const lazyModules = {
    'react-bootstrap': 'src/modules/react_bootstrap.ts',
    icons: 'src/modules/icons.css',
    'react-intl': 'src/modules/react_intl.ts',
    'react-router-dom': 'src/modules/react_router_dom.ts',
    luxon: 'src/modules/luxon.ts',
};

// The main build's split points. Each group is a virtual entry point that
// re-exports some libraries; esbuild moves the code both main.tsx and a
// group reach into a chunk of its own (code splitting works by the set of
// entry points that reach a module). The entries themselves are never
// loaded. Groups are chosen for chunks of similar size: a script's parse
// and compile run on one thread, several scripts on several.
export const vendorGroups = {
    react: ['react', 'react-dom', 'react-dom/client', 'react-redux', 'prop-types', '@mattermost/client'],
    store: ['mattermost-redux/store', 'mattermost-redux/action_types', '@reduxjs/toolkit'],
};

const vendorPlugin = {
    name: 'vendor-groups',
    setup(build) {
        build.onResolve({filter: /^vendor:/}, (args) => ({path: args.path.slice('vendor:'.length), namespace: 'vendor'}));
        build.onLoad({filter: /.*/, namespace: 'vendor'}, (args) => ({
            contents: vendorGroups[args.path].map((m, i) => `export * as m${i} from ${JSON.stringify(m)};`).join('\n'),
            resolveDir: here,
            loader: 'js',
        }));
    },
};

const globalsPlugin = {
    name: 'core-globals',
    setup(build) {
        const filter = new RegExp(`^(${Object.keys(coreGlobals).join('|')}|react-dom/client|react/jsx-runtime)$`);
        build.onResolve({filter}, (args) => ({path: args.path, namespace: 'core-global'}));
        build.onLoad({filter: /.*/, namespace: 'core-global'}, (args) => {
            if (args.path === 'react/jsx-runtime') {
                return {contents: 'module.exports = {jsx: (t, p, k) => window.React.createElement(t, k === undefined ? p : {...p, key: k}), jsxs: (t, p, k) => window.React.createElement(t, k === undefined ? p : {...p, key: k}), Fragment: window.React.Fragment};', loader: 'js'};
            }
            const g = coreGlobals[args.path.replace('/client', '')];
            return {contents: `module.exports = window.${g};`, loader: 'js'};
        });
    },
};

const common = {
    bundle: true,
    minify: process.env.MMTOOLKIT_MINIFY !== '0',
    sourcemap: 'linked',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    outdir: out,
    entryNames: '[name].[hash]',
    assetNames: '[name].[hash]',
    metafile: true,
    legalComments: 'none',
    jsx: 'automatic',
    define: {'process.env.NODE_ENV': '"production"'},
    logLevel: 'warning',
};

export async function build() {
    rmSync(out, {recursive: true, force: true});
    mkdirSync(out, {recursive: true});
    const main = await esbuild.build({
        ...common,
        // main.js is an ES module split into chunks of about the same size
        // (see vendorGroups): the shell modulepreloads every chunk, and
        // Chromium parses and compiles each on its own background thread
        // while the others download, instead of one 580 KiB script on one.
        entryPoints: {main: 'src/main.tsx', ...Object.fromEntries(Object.keys(vendorGroups).map((g) => [`vendor-${g}`, `vendor:${g}`]))},
        format: 'esm',
        splitting: true,
        chunkNames: 'chunk.[hash]',
        // V8's explicit compile hint: the host runs nearly all of its
        // functions at start, so compile them eagerly on the background
        // thread while the script streams instead of lazily on the main
        // thread. Measured with bench/webapp, A/B alternating, 15 cold loads
        // each: slots rendered 416/450 ms median vs 442/479 without.
        banner: {js: '//# allFunctionsCalledOnLoad'},
        loader: {'.svg': 'file'},
        plugins: [vendorPlugin],
    });
    // The boot script the shell inlines (src/boot.ts): tiny, no imports.
    const boot = await esbuild.build({
        ...common,
        entryPoints: ['src/boot.ts'],
        outdir: undefined,
        sourcemap: false,
        write: false,
        metafile: false,
        format: 'iife',
    });
    const embed = await buildEmbed();
    const modules = await esbuild.build({
        ...common,
        entryPoints: Object.fromEntries(Object.entries(lazyModules).map(([name, file]) => [name, file])),
        format: 'iife',
        plugins: [globalsPlugin],
        // The icon fonts and bootstrap's glyphicons, each its own hashed
        // file: a browser downloads a font only when a glyph of it is
        // drawn, and only the first format it supports (woff2).
        loader: {'.woff2': 'file', '.woff': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file'},
    });

    const manifest = {main: {js: '', css: '', chunks: []}, modules: {}, styles: {}, files: {}};
    const bootJS = boot.outputFiles[0].text;
    if (/<\/script|<!--/i.test(bootJS)) {
        throw new Error('src/boot.ts must not contain "</script" or "<!--": the shell inlines it');
    }
    writeFileSync(path.join(dist, 'boot.js'), bootJS);
    manifest.boot = 'boot.js';
    for (const [file, info] of Object.entries({...main.metafile.outputs, ...modules.metafile.outputs})) {
        const name = path.basename(file);
        if (name.startsWith('vendor-')) {
            // A split point's own entry file: nothing loads it.
            rmSync(path.join(out, name), {force: true});
            continue;
        }
        if (name.endsWith('.map')) {
            continue;
        }
        const entry = info.entryPoint ? path.basename(info.entryPoint) : '';
        if (name.startsWith('chunk.') && name.endsWith('.js')) {
            manifest.main.chunks.push(`/static/${name}`);
        }
        if (entry === 'main.tsx') {
            manifest.main.js = `/static/${name}`;
            if (info.cssBundle) {
                manifest.main.css = `/static/${path.basename(info.cssBundle)}`;
            }
        }
        for (const [mod, src] of Object.entries(lazyModules)) {
            if (info.entryPoint !== src) {
                continue;
            }
            if (name.endsWith('.css')) {
                manifest.styles[mod] = `/static/${name}`;
                continue;
            }
            manifest.modules[mod] = `/static/${name}`;
            if (info.cssBundle) {
                manifest.styles[mod] = `/static/${path.basename(info.cssBundle)}`;
            }
        }
    }
    manifest.embed = embed;
    // Precompress once here so the server never compresses at request time.
    for (const name of readdirSync(out)) {
        if (!/\.(js|css|svg|ttf|eot)$/.test(name)) { // woff and woff2 are compressed already
            continue;
        }
        const raw = readFileSync(path.join(out, name));
        const gz = gzipSync(raw, {level: 9});
        const br = brotliCompressSync(raw, {params: {[constants.BROTLI_PARAM_QUALITY]: 11}});
        writeFileSync(path.join(out, name + '.gz'), gz);
        writeFileSync(path.join(out, name + '.br'), br);
        manifest.files[name] = {size: raw.length, gzip: gz.length, br: br.length};
    }
    writeFileSync(path.join(dist, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    writeFileSync(path.join(dist, 'meta-main.json'), JSON.stringify(main.metafile));
    writeFileSync(path.join(dist, 'meta-modules.json'), JSON.stringify(modules.metafile));
    return manifest;
}

// The embed (docs/embed.md), three pieces:
//   - embed.js, the host page's script (src/embed/element.ts): tiny, no
//     React, served at the stable URL /embed/v1/embed.js, so it is written
//     to dist/ (with .gz and .br) rather than under a hashed name;
//   - the frame's app (src/embed/frame.tsx): the host's runtime with the
//     channel view only, split at the same vendorGroups as main. Chunks
//     main also has come out byte-identical, under the same names;
//   - the sign-in popup's script (src/embed/signin.ts), hashed under static/;
//   - the frame's boot script (src/embed/frame_boot.ts), which the frame page
//     inlines: dist/embed-boot.js.
// embed.d.ts, the element's types, is copied beside embed.js.
async function buildEmbed() {
    const frame = await esbuild.build({
        ...common,
        entryPoints: {'embed-frame': 'src/embed/frame.tsx', ...Object.fromEntries(Object.keys(vendorGroups).map((g) => [`vendor-${g}`, `vendor:${g}`]))},
        format: 'esm',
        splitting: true,
        chunkNames: 'chunk.[hash]',
        banner: {js: '//# allFunctionsCalledOnLoad'},
        loader: {'.svg': 'file'},
        plugins: [vendorPlugin],
    });
    const out = {frame: {js: '', css: '', chunks: []}, script: 'embed.js', types: 'embed.d.ts', signin: '', boot: 'embed-boot.js'};
    for (const [file, info] of Object.entries(frame.metafile.outputs)) {
        const name = path.basename(file);
        if (name.startsWith('vendor-')) {
            rmSync(path.join(dist, 'static', name), {force: true});
            continue;
        }
        if (name.endsWith('.map')) {
            continue;
        }
        if (name.startsWith('chunk.') && name.endsWith('.js')) {
            out.frame.chunks.push(`/static/${name}`);
        }
        if (info.entryPoint === 'src/embed/frame.tsx') {
            out.frame.js = `/static/${name}`;
            if (info.cssBundle) {
                out.frame.css = `/static/${path.basename(info.cssBundle)}`;
            }
        }
    }
    const signin = await esbuild.build({...common, entryPoints: {'embed-signin': 'src/embed/signin.ts'}, format: 'iife', sourcemap: false});
    for (const [file, info] of Object.entries(signin.metafile.outputs)) {
        if (info.entryPoint) {
            out.signin = `/static/${path.basename(file)}`;
        }
    }
    // The frame's boot script, inlined by the frame page as boot.js is by the shell.
    const boot = await esbuild.build({...common, entryPoints: ['src/embed/frame_boot.ts'], outdir: undefined, sourcemap: false, write: false, metafile: false, format: 'iife'});
    if (/<\/script|<!--/i.test(boot.outputFiles[0].text)) {
        throw new Error('src/embed/frame_boot.ts must not contain "</script" or "<!--": the frame page inlines it');
    }
    writeFileSync(path.join(dist, out.boot), boot.outputFiles[0].text);
    const script = await esbuild.build({...common, entryPoints: ['src/embed/element.ts'], outdir: undefined, sourcemap: false, write: false, metafile: false, format: 'iife'});
    const js = script.outputFiles[0].contents;
    writeFileSync(path.join(dist, 'embed.js'), js);
    writeFileSync(path.join(dist, 'embed.js.gz'), gzipSync(js, {level: 9}));
    writeFileSync(path.join(dist, 'embed.js.br'), brotliCompressSync(js, {params: {[constants.BROTLI_PARAM_QUALITY]: 11}}));
    writeFileSync(path.join(dist, 'embed.d.ts'), readFileSync(path.join(here, 'src/embed/embed.d.ts')));
    out.scriptSize = {size: js.length, gzip: gzipSync(js, {level: 9}).length};
    writeFileSync(path.join(dist, 'meta-embed.json'), JSON.stringify(frame.metafile));
    return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
    const t0 = performance.now();
    const m = await build();
    const js = [m.main.js, ...m.main.chunks].map((u) => m.files[path.basename(u)]);
    const kib = (k) => (js.reduce((a, f) => a + f[k], 0) / 1024).toFixed(0);
    console.log(`webapp: built ${m.main.js} and ${m.main.chunks.length} chunks (${kib('size')} KiB, ${kib('gzip')} KiB gzip) and ${Object.keys(m.modules).length} lazy modules in ${Math.round(performance.now() - t0)} ms`);
    console.log(`webapp: embed.js ${m.embed.scriptSize.size} bytes (${m.embed.scriptSize.gzip} gzip), frame ${m.embed.frame.js} and ${m.embed.frame.chunks.length} chunks`);
}
