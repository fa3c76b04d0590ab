// Builds fixture plugins with REAL webpack, 5 or 4, the way a Mattermost
// plugin's own build does (the starter template's configuration, see
// run_webpack.cjs): the host's libraries are externals by bare global name,
// so the bundle reads `React`, `ReactBootstrap`, `Luxon` as free
// identifiers, not `window.X`. Tests of how the host and the server treat
// prebuilt bundles must use these, never an esbuild imitation.
//
// Usage:
//
//     import {buildWithWebpack, pluginDir} from './webpack/build.mjs';
//     const js = await buildWithWebpack('/path/to/src-dir', {webpack: 4, outDir});  // -> outDir/main.js
//     const dir = await pluginDir('/path/to/src-dir', {webpack: 5});               // ready to `mmtoolkit push`
//
// A source directory holds src/index.jsx (the entry) and, for pluginDir, a
// Mattermost plugin.json. Imports resolve from src/ and webapp/node_modules
// (webpack 5.x and webpack 4.47 under the npm alias "webpack4", babel-loader
// 8, @babel/preset-env and preset-react: devDependencies of
// webapp/package.json, installed by the Makefile's `npm ci`).
//
// Each build runs in a child process: webpack 4 hashes with md4, which
// Node 17+ only has with --openssl-legacy-provider, a flag only a process's
// start can set. Builds write only to outDir (or a fresh temp directory).
import {execFile} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';

const run = promisify(execFile);
const here = path.dirname(new URL(import.meta.url).pathname);

/** The fixture plugins' sources kept in this directory: plugins/<name>. */
export const fixtureSrc = (name) => path.join(here, 'plugins', name);

/**
 * Builds srcDir/src/index.jsx with webpack 4 or 5 into outDir/main.js and
 * returns that file's path. Rejects with webpack's errors.
 */
export async function buildWithWebpack(srcDir, {webpack = 5, outDir} = {}) {
    if (webpack !== 4 && webpack !== 5) {
        throw new Error(`webpack must be 4 or 5, not ${webpack}`);
    }
    const out = outDir ?? mkdtempSync(path.join(tmpdir(), `mmtoolkit-webpack${webpack}-`));
    const env = {...process.env};
    if (webpack === 4) {
        env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --openssl-legacy-provider`.trim();
    }
    try {
        await run(process.execPath, [path.join(here, 'run_webpack.cjs'), JSON.stringify({webpack, srcDir: path.resolve(srcDir), outDir: path.resolve(out)})], {env, maxBuffer: 16 << 20});
    } catch (e) {
        throw new Error(`webpack ${webpack} failed to build ${srcDir}:\n${e.stderr || e.stdout || e.message}`);
    }
    return path.join(out, 'main.js');
}

/**
 * Returns a fresh Mattermost-layout plugin directory built from srcDir:
 * srcDir/plugin.json (webapp.bundle_path set to webapp/dist/main.js, the
 * template's layout) and the webpack bundle at that path, ready for
 * `mmtoolkit push`. manifest overrides fields of plugin.json (e.g. id).
 */
export async function pluginDir(srcDir, {webpack = 5, manifest = {}} = {}) {
    const dir = mkdtempSync(path.join(tmpdir(), `mmtoolkit-webpack${webpack}-plugin-`));
    const dist = path.join(dir, 'webapp', 'dist');
    mkdirSync(dist, {recursive: true});
    await buildWithWebpack(srcDir, {webpack, outDir: dist});
    const m = {...JSON.parse(readFileSync(path.join(srcDir, 'plugin.json'), 'utf8')), ...manifest};
    m.webapp = {...m.webapp, bundle_path: 'webapp/dist/main.js'};
    writeFileSync(path.join(dir, 'plugin.json'), JSON.stringify(m, null, 2) + '\n');
    return dir;
}

