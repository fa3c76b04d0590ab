// The first load of a team's page, in Chromium: the shell embeds the team's
// manifest, puts its bundles and the host modules they need in the page,
// preloads the first API requests, and its boot script takes those and asks
// for the channel's posts; the host uses exactly these responses (no
// manifest request, nothing fetched twice, no preload left unused).
import assert from 'node:assert/strict';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {buildWebpackFixture} from './build_webpack_fixture.mjs';
import {binary, cli, launch, login, startServer, withShots} from './harness.mjs';

const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures');

describe('first load of a team page', () => {
    let bin;
    let server;
    let chrome;
    const pages = [];

    before(async () => {
        bin = await binary();
        server = await startServer(bin);
        chrome = await launch();
        await cli(bin, server, 'dev', 'push', path.join(fixtures, 'fixture'));
        await cli(bin, server, 'dev', 'push', await buildWebpackFixture()); // reads window.ReactIntl
        for (const p of ['e2e.fixture', 'e2e.webpack']) {
            await cli(bin, server, 'alice', 'enable', '--team', 'engineering', '--plugin', p);
        }
    });
    after(async () => {
        await chrome?.close();
        await server?.stop();
    });

    // A fresh context (empty cache) with the session cookie, as a returning user opens a link.
    const coldPage = async (user, p) => {
        const ctx = await chrome.browser.newContext({viewport: {width: 1280, height: 800}});
        await ctx.addCookies([{name: 'MMAUTHTOKEN', value: await login(server, user), url: server.url}]);
        const page = await ctx.newPage();
        pages.push(page);
        page.consoleLines = [];
        page.on('console', (m) => page.consoleLines.push(`${m.type()}: ${m.text()}`));
        page.on('pageerror', (e) => page.consoleLines.push(`pageerror: ${e.message}`));
        const requests = [];
        page.on('request', (r) => requests.push(new URL(r.url()).pathname + new URL(r.url()).search));
        await page.goto(server.url + p);
        await page.waitForFunction(() => window.mmtoolkitSlotsRendered !== undefined, null, {timeout: 15000});
        return {page, requests};
    };

    it('uses the embedded manifest and the preloaded bundles, each fetched once', withShots('boot-preloads', () => pages, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const {page, requests} = await coldPage('bob', '/engineering/channels/town-square');
        await page.locator('.webpack-badge').first().waitFor();
        await page.locator('.fixture-call').first().waitFor();
        const manifest = await page.evaluate(() => window.mmtoolkitHost.store.getState().plugins.plugins);
        const bundles = Object.values(manifest).map((p) => p.bundle.url);
        assert.equal(bundles.length, 2);
        const intl = await page.evaluate(() => document.querySelector('script[data-host-module="react-intl"]')?.getAttribute('src'));
        assert.ok(intl, 'react-intl loaded for the webpack plugin');
        assert.deepEqual(requests.filter((r) => r.startsWith('/api/v1/manifest')), [], 'the manifest is embedded, not requested');
        for (const u of [...bundles, intl]) {
            assert.equal(requests.filter((r) => r === u).length, 1, `${u} fetched once: ${requests.join(' ')}`);
        }
        // The host's ES module chunks are each fetched once too (modulepreload reused by the imports).
        const chunks = requests.filter((r) => r.startsWith('/static/chunk.'));
        assert.ok(chunks.length >= 2, `chunks: ${chunks}`);
        assert.equal(new Set(chunks).size, chunks.length, `a chunk fetched twice: ${chunks}`);
        // The first API requests: preloaded, taken by the boot script, each sent once.
        for (const u of ['/api/v4/users/me', '/api/v4/users/me/teams', '/api/v4/users/me/teams/members',
            '/api/v4/teams/name/engineering/channels/name/town-square?include_deleted=false']) {
            assert.equal(requests.filter((r) => r === u).length, 1, `${u}: ${requests.join(' ')}`);
        }
        assert.equal(requests.filter((r) => /^\/api\/v4\/channels\/[^/]+\/posts\?/.test(r)).length, 1, requests.join(' '));
        assert.deepEqual(await page.evaluate(() => Object.keys(window.mmtoolkitEarly)), [], 'the host took everything the boot script fetched');
        // Chromium warns when a preload goes unused or does not match its use (credentials, integrity).
        // (The sandbox's 404 for /api/v4/config/client is expected: the host falls back.)
        assert.deepEqual(page.consoleLines.filter((l) => /preload|integrity|pageerror/i.test(l)), []);
    }));

    it('an expired session still ends on the login page', withShots('boot-expired', () => pages, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        // The boot script's answers are 401s: the host asks again through
        // Client4, which fails the same way, and sends the person to log in.
        const ctx = await chrome.browser.newContext();
        await ctx.addCookies([{name: 'MMAUTHTOKEN', value: 'expired', url: server.url}]);
        const page = await ctx.newPage();
        pages.push(page);
        await page.goto(server.url + '/engineering/channels/town-square');
        await page.waitForURL(/\/login/);
        await page.locator('input[name=loginId]').waitFor();
    }));

    it('falls back to requesting the manifest when the shell has none for the URL', withShots('boot-fallback', () => pages, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        // The root URL names no team: the page picks bob's team and asks for its manifest.
        const {page, requests} = await coldPage('bob', '/');
        await page.waitForURL(/\/engineering\/channels\/town-square$/);
        assert.equal(await page.evaluate(() => document.getElementById('mmtoolkit-team')), null);
        assert.equal(requests.filter((r) => r.startsWith('/api/v1/manifest?team=')).length, 1, requests.join(' '));
        await page.locator('.webpack-badge').first().waitFor();
        await page.locator('.fixture-call').first().waitFor();
    }));
});
