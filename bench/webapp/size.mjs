// Host JavaScript every page loads, per dependency, from esbuild's metafile
// of the last `make webapp` build (webapp/dist/meta-*.json).
//
// Exact: each output file's raw, gzip and brotli size (the build
// precompresses, so these are the bytes served). Per dependency: the bytes
// each npm package contributes to the output (esbuild's bytesInOutput) and,
// since gzip does not split by source, a gzip share estimated in proportion.
import {readdirSync, readFileSync, statSync} from 'node:fs';
import path from 'node:path';

const dist = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../webapp/dist');

function pkgOf(input) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    return m ? m[1] : 'mmtoolkit host (webapp/src)';
}

export function sizeReport() {
    const manifest = JSON.parse(readFileSync(path.join(dist, 'manifest.json'), 'utf8'));
    const report = {files: [], mainDeps: [], modules: []};
    // main.js, the chunks it imports (modulepreloaded by the shell) and the CSS.
    const every = [manifest.main.js, ...(manifest.main.chunks ?? []), manifest.main.css].filter(Boolean).map((u) => path.basename(u));
    let total = {size: 0, gzip: 0, br: 0};
    for (const f of every) {
        const s = manifest.files[f];
        report.files.push({file: f, ...s});
        total = {size: total.size + s.size, gzip: total.gzip + s.gzip, br: total.br + s.br};
    }
    report.total = total;
    const meta = JSON.parse(readFileSync(path.join(dist, 'meta-main.json'), 'utf8'));
    // Per dependency over every JavaScript file the page loads, each file's
    // gzip bytes shared among the packages in it.
    const byPkg = {};
    const gzByPkg = {};
    for (const f of every.filter((f) => f.endsWith('.js'))) {
        const out = Object.entries(meta.outputs).find(([o]) => path.basename(o) === f)[1];
        const inFile = {};
        for (const [input, {bytesInOutput}] of Object.entries(out.inputs)) {
            inFile[pkgOf(input)] = (inFile[pkgOf(input)] ?? 0) + bytesInOutput;
        }
        const sum = Object.values(inFile).reduce((a, b) => a + b, 0);
        for (const [pkg, bytes] of Object.entries(inFile)) {
            byPkg[pkg] = (byPkg[pkg] ?? 0) + bytes;
            gzByPkg[pkg] = (gzByPkg[pkg] ?? 0) + (sum ? manifest.files[f].gzip * bytes / sum : 0);
        }
    }
    report.mainDeps = Object.entries(byPkg).sort((a, b) => b[1] - a[1]).
        map(([pkg, bytes]) => ({pkg, bytes, gzipEstimate: Math.round(gzByPkg[pkg])}));
    for (const [mod, url] of Object.entries(manifest.modules)) {
        report.modules.push({module: mod, ...manifest.files[path.basename(url)]});
    }
    // Stylesheets loaded with a lazy module (bootstrap 3 with react-bootstrap)
    // or as one (icons: Font Awesome 4.7 and compass-icons).
    for (const [mod, url] of Object.entries(manifest.styles ?? {})) {
        report.modules.push({module: `${mod} (CSS)`, ...manifest.files[path.basename(url)]});
    }
    // Fonts: fetched only when a glyph is drawn, and only the first format
    // the browser takes (woff2 in every current browser).
    report.fonts = readdirSync(path.join(dist, 'static')).filter((f) => f.endsWith('.woff2')).
        map((file) => ({file, size: statSync(path.join(dist, 'static', file)).size}));
    // A page whose team has a prebuilt (webpack) bundle reading every lazy
    // library, or one the server cannot read for sure (it then lists them
    // all, bundler.ReferencedHostModules): the host plus every lazy module.
    report.withAllModules = report.modules.reduce((t, m) => ({size: t.size + m.size, gzip: t.gzip + m.gzip, br: t.br + m.br}), {...total});
    return report;
}

const kb = (n) => (n / 1024).toFixed(1);

if (import.meta.url === `file://${process.argv[1]}`) {
    const r = sizeReport();
    console.log('| file every page loads | raw KiB | gzip KiB | br KiB |\n|---|---:|---:|---:|');
    for (const f of r.files) {
        console.log(`| ${f.file} | ${kb(f.size)} | ${kb(f.gzip)} | ${kb(f.br)} |`);
    }
    console.log(`| **total** | ${kb(r.total.size)} | **${kb(r.total.gzip)}** | ${kb(r.total.br)} |\n`);
    console.log('| dependency in the host JavaScript every page loads | raw KiB in output | gzip KiB (estimated share) |\n|---|---:|---:|');
    for (const d of r.mainDeps.filter((d) => d.bytes > 512)) {
        console.log(`| ${d.pkg} | ${kb(d.bytes)} | ${kb(d.gzipEstimate)} |`);
    }
    const small = r.mainDeps.filter((d) => d.bytes <= 512);
    console.log(`| ${small.length} more packages under 0.5 KiB each | ${kb(small.reduce((a, d) => a + d.bytes, 0))} | |\n`);
    console.log('| lazy host module (only when a plugin needs it) | raw KiB | gzip KiB | br KiB |\n|---|---:|---:|---:|');
    for (const m of r.modules) {
        console.log(`| ${m.module} | ${kb(m.size)} | ${kb(m.gzip)} | ${kb(m.br)} |`);
    }
    for (const f of r.fonts) {
        console.log(`| font ${f.file} (when a glyph of it is drawn; woff2 is not recompressed) | ${kb(f.size)} | | |`);
    }
    const a = r.withAllModules;
    console.log(`| **host + every lazy module and stylesheet** (a prebuilt bundle reading them all; fonts not counted) | ${kb(a.size)} | **${kb(a.gzip)}** | ${kb(a.br)} |`);
    console.log(`\nsummary host-js-gzip-kib=${kb(r.total.gzip)} budget=200 ${r.total.gzip <= 200 * 1000 ? 'ok' : 'OVER'} with-all-lazy-modules-gzip-kib=${kb(a.gzip)}`);
}
