// A Mattermost plugin repository pushed as a folder, as it is after
// `npm ci`: plugin.json names only webapp.bundle_path, the sources import
// their src/ folders by bare name (the starter template's webpack
// resolve.modules), SCSS with partials, an image, a font, a package with
// an "exports" map and one with a "browser" field, and node_modules/ full
// of files nothing imports. The CLI packs the import graph, the server
// compiles it, and Chromium renders the SCSS-styled component and the
// image.
import assert from 'node:assert/strict';
import {copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {binary, cli, launch, loggedInPage, startServer, webappDir, withShots} from './harness.mjs';
import {pluginDir} from './webpack/build.mjs';

const ID = 'e2e.sourcefolder';

// A 1x1 red PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');
// A TrueType font every install of the browser tests has (playwright-core's icon font).
const FONT = path.join(webappDir, 'node_modules/playwright-core/lib/vite/recorder/assets/codicon-DCmgc-ay.ttf');

function write(dir, files) {
    for (const [p, body] of Object.entries(files)) {
        const full = path.join(dir, p);
        mkdirSync(path.dirname(full), {recursive: true});
        writeFileSync(full, body);
    }
}

function makeRepository() {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmtoolkit-source-folder-'));
    write(dir, {
        'plugin.json': JSON.stringify({
            id: ID, name: 'Source folder', version: '1.0.0', min_server_version: '9.0.0',
            server: {executables: {'linux-amd64': 'server/dist/plugin-linux-amd64'}},
            webapp: {bundle_path: 'webapp/dist/main.js'},
        }, null, 2),
        'README.md': '# Source folder\n',
        'server/plugin.go': 'package main\n',
        'webapp/package.json': JSON.stringify({name: 'source-folder-webapp', private: true}),
        'webapp/tsconfig.json': JSON.stringify({compilerOptions: {jsx: 'react-jsx', strict: true}}),
        'webapp/webpack.config.js': "module.exports = {resolve: {modules: ['src', 'node_modules']}};\n",
        'webapp/src/manifest.ts': `export const id = '${ID}';\n`,
        'webapp/src/selectors/index.ts': 'export const greeting = (): string => "hello from src/selectors";\n',
        'webapp/src/components/badge.tsx': "import {greeting} from 'selectors';\nimport logo from '../images/logo.png';\n" +
            'export function Badge() { return <span className="sf-badge">{greeting()}<img className="sf-logo" src={logo} width={8} height={8}/></span>; }\n',
        'webapp/src/images/logo.png': PNG,
        'webapp/src/styles/_vars.scss': '$brand: #123456;\n$pad: 3px;\n',
        'webapp/src/styles/main.scss': "@use 'vars';\n@font-face { font-family: SourceFolderFont; src: url(../fonts/icons.ttf) format('truetype'); }\n" +
            '.sf-root { color: vars.$brand; padding: vars.$pad * 2; .sf-title { font-family: SourceFolderFont; } }\n',
        'webapp/src/index.tsx': `import {id} from './manifest';
import {Badge} from 'components/badge';
import {viaExports} from 'pkg-exports';
import browserOnly from 'pkg-browser';
import './styles/main.scss';

function Root() {
    return <div className="sf-root" data-env={process.env.NODE_ENV} data-global={typeof global}>
        <span className="sf-title">{viaExports} {browserOnly}</span> <Badge/>
    </div>;
}
(window as any).registerPlugin(id, {initialize(registry: any) { registry.registerRootComponent(Root); }});
`,
        'webapp/src/index.test.tsx': "test('not sent', () => {});\n",
        'node_modules/pkg-exports/package.json': JSON.stringify({
            name: 'pkg-exports', version: '1.0.0', main: './cjs/index.cjs',
            exports: {'.': {import: './esm/index.mjs', require: './cjs/index.cjs'}},
        }),
        'node_modules/pkg-exports/esm/index.mjs': "export const viaExports = 'exports-esm';\n",
        'node_modules/pkg-exports/cjs/index.cjs': "exports.viaExports = 'exports-cjs';\n",
        'node_modules/pkg-browser/package.json': JSON.stringify({name: 'pkg-browser', version: '1.0.0', main: 'node.js', browser: 'browser.js'}),
        'node_modules/pkg-browser/node.js': "module.exports = 'node';\n",
        'node_modules/pkg-browser/browser.js': "module.exports = 'browser';\n",
    });
    mkdirSync(path.join(dir, 'webapp/src/fonts'), {recursive: true});
    copyFileSync(FONT, path.join(dir, 'webapp/src/fonts/icons.ttf'));
    // What npm ci leaves that nothing imports: more files than a package may hold.
    for (let p = 0; p < 60; p++) {
        const files = {[`node_modules/unused-${p}/package.json`]: '{"name":"unused"}'};
        for (let i = 0; i < 100; i++) {
            files[`node_modules/unused-${p}/lib/f${i}.js`] = 'module.exports = 1;\n';
        }
        write(dir, files);
    }
    return dir;
}

describe('a plugin repository pushed as a folder', () => {
    let bin;
    let server;
    let chrome;
    let repo;
    const pages = [];

    before(async () => {
        bin = await binary();
        server = await startServer(bin);
        chrome = await launch();
        repo = makeRepository();
    });
    after(async () => {
        for (const p of pages) {
            await p.context().close().catch(() => undefined);
        }
        await chrome?.close();
        await server?.stop();
        if (repo) {
            rmSync(repo, {recursive: true, force: true});
        }
    });

    it('compiles on the server and renders the SCSS-styled component, the image and the font', withShots('source-folder', () => pages, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const {stdout, stderr} = await cli(bin, server, 'dev', 'push', repo);
        assert.match(stdout, new RegExp(`pushed ${ID.replace('.', '\\.')}@1\\.0\\.0`));
        assert.match(stderr, /webapp: built from webapp\/src\/index\.tsx/);
        await cli(bin, server, 'alice', 'enable', '--team', 'engineering', '--plugin', ID);

        const page = await loggedInPage(chrome.browser, server, 'bob');
        pages.push(page);
        const root = page.locator('.sf-root');
        await root.waitFor();
        assert.equal(await page.textContent('.sf-title'), 'exports-esm browser');
        assert.equal(await page.textContent('.sf-badge'), 'hello from src/selectors');
        assert.equal(await root.getAttribute('data-env'), 'production');
        assert.equal(await root.getAttribute('data-global'), 'object');
        // SCSS: a variable from a partial through @use, arithmetic, nesting.
        const style = await root.evaluate((el) => ({color: getComputedStyle(el).color, padding: getComputedStyle(el).paddingTop}));
        assert.deepEqual(style, {color: 'rgb(18, 52, 86)', padding: '6px'});
        // The image imported by a component, and the font the stylesheet names.
        await page.waitForFunction(() => document.querySelector('.sf-logo')?.complete);
        assert.equal(await page.locator('.sf-logo').evaluate((img) => img.naturalWidth), 1);
        assert.equal(await page.evaluate(async () => {
            await document.fonts.load('12px SourceFolderFont');
            return document.fonts.check('12px SourceFolderFont');
        }), true);
        assert.equal(await page.locator('.sf-title').evaluate((el) => getComputedStyle(el).fontFamily), 'SourceFolderFont');
    }));

    it('serves a prebuilt plugin\'s code-split chunk where webpack\'s runtime asks for it', withShots('prebuilt-chunk', () => pages, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        // Built by real webpack 5, the public path set at run time as real
        // plugins set it, a chunk loaded by import().
        const src = mkdtempSync(path.join(tmpdir(), 'mmtoolkit-chunked-src-'));
        write(src, {
            'plugin.json': JSON.stringify({id: 'e2e.chunked', name: 'Chunked', version: '1.0.0', webapp: {bundle_path: 'webapp/dist/main.js'}}),
            'src/index.jsx': `import React from 'react';
__webpack_public_path__ = (window.basename || '') + '/static/plugins/e2e.chunked/';
function Root() {
    const [text, setText] = React.useState('loading');
    React.useEffect(() => { import('./lazy').then((m) => setText(m.default())); }, []);
    return <div className="chunked-root">{text}</div>;
}
window.registerPlugin('e2e.chunked', {initialize(registry) { registry.registerRootComponent(Root); }});
`,
            'src/lazy.js': "export default function lazy() { return 'loaded from a chunk'; }\n",
        });
        const dir = await pluginDir(src, {webpack: 5});
        try {
            const {stdout} = await cli(bin, server, 'dev', 'push', dir);
            assert.match(stdout, /pushed e2e\.chunked@1\.0\.0/);
            await cli(bin, server, 'alice', 'enable', '--team', 'engineering', '--plugin', 'e2e.chunked');
            const page = await loggedInPage(chrome.browser, server, 'bob');
            pages.push(page);
            // Root components mount in a hidden container: read the text.
            await page.waitForFunction(() => document.querySelector('.chunked-root')?.textContent === 'loaded from a chunk');
            const chunks = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).filter((u) => u.includes('/static/plugins/e2e.chunked/')));
            assert.equal(chunks.length, 1, `chunk requests: ${chunks}`);
            const r = await fetch(chunks[0]);
            assert.equal(r.status, 200);
            assert.equal(r.headers.get('content-type'), 'text/javascript; charset=utf-8');
        } finally {
            rmSync(src, {recursive: true, force: true});
            rmSync(dir, {recursive: true, force: true});
        }
    }));
});
