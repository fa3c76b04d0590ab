// Every window global Mattermost gives plugins, as a REAL webpack build
// reaches it. The fixture (e2e/webpack/plugins/globals) is built by webpack
// 5 and by webpack 4 with the starter template's configuration: its
// libraries are externals read as bare identifiers (ReactBootstrap, Luxon,
// ...), which the server must find by parsing the bundle so the page loads
// the lazy host modules before the bundle runs. Each build is pushed as
// Mattermost-layout plugin, enabled for a team and used in Chromium.
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';

import {api, binary, cli, launch, loggedInPage, login, startServer, withShots} from './harness.mjs';
import {fixtureSrc, pluginDir} from './webpack/build.mjs';

const builds = [5, 4];

describe('window globals for webpack-built plugins', () => {
    let bin;
    let server;
    let chrome;
    const pages = [];
    const shots = () => pages;
    const dirs = {};

    before(async () => {
        bin = await binary();
        server = await startServer(bin);
        chrome = await launch();
        // Built before the tests so a build failure names webpack, not the page.
        for (const w of builds) {
            dirs[w] = await pluginDir(fixtureSrc('globals'), {webpack: w, manifest: {id: `e2e.globals${w}`, name: `E2E Globals webpack ${w}`}});
        }
    });
    after(async () => {
        for (const p of pages) {
            await p.context().close().catch(() => undefined);
        }
        await chrome?.close();
        await server?.stop();
    });

    it('webpack 5: @mattermost/shared imports resolve through loadSharedDependency', withShots('globals-shared', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        await cli(bin, server, 'dev', 'push', await pluginDir(fixtureSrc('shared'), {webpack: 5}));
        await cli(bin, server, 'alice', 'enable', '--team', 'engineering', '--plugin', 'e2e.shared');
        const errors = [];
        const page = await loggedInPage(chrome.browser, server, 'bob', '/engineering/channels/town-square');
        pages.push(page);
        page.on('pageerror', (e) => errors.push(e.message));
        const button = page.locator('button.shared-button');
        await button.waitFor();
        assert.match(await button.getAttribute('class'), /\bbtn-tertiary\b/);
        assert.equal(await page.getAttribute('.with-tooltip:has(button.shared-button)', 'title'), 'Shared tooltip');
        assert.deepEqual(errors, []);
    }));

    for (const w of builds) {
        it(`webpack ${w}: every global is there before the bundle runs, and each one works`, withShots(`globals-webpack${w}`, shots, async (t) => {
            if (!chrome) {
                return t.skip('no Chromium');
            }
            const id = `e2e.globals${w}`;
            const team = w === 5 ? 'engineering' : 'sales';
            const admin = w === 5 ? 'alice' : 'admin';
            const user = w === 5 ? 'bob' : 'carol';
            const pushed = await cli(bin, server, 'dev', 'push', dirs[w]);
            t.diagnostic(pushed.stdout.trim());
            await cli(bin, server, admin, 'enable', '--team', team, '--plugin', id);
            // The server found the libraries the bundle reads by bare name.
            const token = await login(server, user);
            const teamObj = await api(server, token, 'GET', `/api/v4/teams/name/${team}`);
            const manifest = await api(server, token, 'GET', `/api/v1/manifest?team=${teamObj.id}&platform=web`);
            const entry = manifest.plugins.find((p) => p.id === id);
            assert.ok(entry, `${id} in the manifest: ${JSON.stringify(manifest)}`);
            for (const m of ['react-bootstrap', 'react-intl', 'react-router-dom', 'luxon']) {
                assert.ok(entry.host_modules.includes(m), `host_modules ${JSON.stringify(entry.host_modules)} lacks ${m}`);
            }

            const errors = [];
            const page = await loggedInPage(chrome.browser, server, user, `/${team}/channels/town-square`);
            pages.push(page);
            page.on('pageerror', (e) => errors.push(e.message));
            await page.waitForFunction(() => window.mmtoolkitHost?.store.getState().plugins.settledAt > 0);
            const probe = page.locator('.globals-probe');
            await probe.waitFor();

            // registerPlugin was called, and at load every global was there.
            assert.ok(await page.evaluate((pid) => Boolean(window.plugins[pid]), id), 'registerPlugin called');
            const loaded = await page.evaluate(() => window.globalsFixture.loaded);
            for (const [g, type] of Object.entries(loaded.bare)) {
                assert.notEqual(type, 'undefined', `bare ${g} undefined at load`);
                assert.equal(loaded.viaWindow[g], type, `window.${g}`);
            }
            assert.equal(loaded.bare.basename, 'string');
            assert.equal(loaded.regeneratorMark, 'function');
            assert.deepEqual(loaded.viaGlobalObject, {global: 'object', globalThis: 'object', self: 'object'});
            for (const [lib, type] of Object.entries(loaded.libraries)) {
                assert.notEqual(type, 'undefined', `${lib} (bare external) undefined at load`);
            }

            // Each one usable.
            await page.locator('.globals-rb.badge').waitFor(); // ReactBootstrap's Badge
            assert.equal(await page.textContent('.globals-luxon'), '2024 May 06');
            assert.match(await page.getAttribute('.globals-ts time', 'datetime'), /^2024-01-02T12:00:00/);
            assert.match(await page.textContent('.globals-ts time'), /2024/);
            assert.equal(await page.textContent('.globals-intl'), 'intl works');
            assert.equal(await page.getAttribute('.globals-link', 'href'), '/engineering/channels/town-square');
            assert.equal(await page.textContent('.globals-formatted strong'), 'strong');
            assert.equal(await page.textContent('.globals-probe .BotTag'), 'BOT');
            assert.match(await page.getAttribute('.globals-probe img.Avatar', 'src'), /\/api\/v4\/users\/nobody\/image/);
            assert.equal(await page.textContent('.globals-notify'), 'notify');
            await page.waitForSelector('.globals-probe[data-shared="function"]'); // loadSharedDependency resolved
            assert.equal(await probe.getAttribute('data-ws'), 'true', 'ProductApi.WebSocketProvider gives the host client');
            assert.equal(await page.getAttribute('.globals-context', 'data-has-client'), 'true', 'class contextType = WebSocketProvider');

            // dispatch(WebappUtils.modals.openModal(...)) shows the modal.
            await page.click('.globals-open-modal');
            await page.waitForSelector('.globals-modal >> text=hello modal');
            await page.click('.globals-modal-close');
            await page.waitForSelector('.globals-modal', {state: 'detached'});

            // openInteractiveDialog renders every element type.
            await page.click('.globals-open-dialog');
            const d = page.locator('.interactive-dialog');
            await d.waitFor();
            assert.equal(await d.locator('input[name=name]').inputValue(), 'Ada');
            assert.equal(await d.locator('input[name=age]').getAttribute('type'), 'number');
            assert.equal(await d.locator('textarea[name=notes]').count(), 1);
            assert.deepEqual(await d.locator('select[name=colour] option').allTextContents(), ['', 'Red', 'Blue']);
            assert.equal(await d.locator('input[type=checkbox][name=agree]').count(), 1);
            assert.equal(await d.locator('input[type=radio][name=size]').count(), 2);
            await d.locator('button >> text=Cancel').click();
            await d.waitFor({state: 'detached'});

            // ProductApi's RHS actions reach the store.
            await page.click('.globals-select-post');
            await page.waitForFunction(() => window.mmtoolkitHost.store.getState().views.rhs.selectedPostId === 'p1');
            await page.click('.globals-close-rhs');
            await page.waitForFunction(() => !window.mmtoolkitHost.store.getState().views.rhs.isSidebarOpen);

            assert.deepEqual(errors, [], 'page errors');
            assert.ok(!page.consoleLines.some((l) => /ReferenceError|is not defined/.test(l)), page.consoleLines.join('\n'));
        }));
    }
});
