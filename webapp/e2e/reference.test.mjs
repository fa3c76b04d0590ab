// Zero config, as an operator starts it: a first `mmtoolkit serve` installs
// the three reference plugins and enables them for both sandbox teams, so a
// person who logs in sees them at once, with no push and no toggle.
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';

import {binary, launch, loggedInPage, startServer, withShots} from './harness.mjs';

describe('reference plugins, preinstalled', () => {
    let server;
    let chrome;
    const pages = [];
    const shots = () => pages;

    before(async () => {
        server = await startServer(await binary(), {referencePlugins: true});
        chrome = await launch();
    });
    after(async () => {
        for (const p of pages) {
            await p.context().close().catch(() => undefined);
        }
        await chrome?.close();
        await server?.stop();
    });

    for (const [user, team] of [['bob', 'engineering'], ['carol', 'sales']]) {
        it(`are there for ${user} in ${team} on a first start`, withShots(`reference-${team}`, shots, async (t) => {
            if (!chrome) {
                return t.skip('no Chromium');
            }
            assert.match(server.log(), /reference plugin mmtoolkit\.video 1\.0\.0: installed, enabled for 2 team\(s\)/);
            const page = await loggedInPage(chrome.browser, server, user);
            pages.push(page);
            await page.waitForFunction(() => window.mmtoolkitHost?.store.getState().plugins.settledAt > 0);
            const state = await page.evaluate(() => window.mmtoolkitHost.store.getState().plugins);
            assert.deepEqual(Object.keys(state.plugins).sort(), ['mmtoolkit.appcenter', 'mmtoolkit.map', 'mmtoolkit.video']);
            assert.deepEqual(Object.values(state.status).filter((s) => s.phase !== 'loaded'), [], JSON.stringify(state.status));
            // video: the call button; map: the seeded location post drawn
            // as a map; appcenter: its app-bar icon.
            await page.waitForSelector('[data-testid=video-call-button]');
            await page.waitForSelector('.mmtoolkit-map-svg path.map-land');
            await page.waitForSelector('.app-bar-icon[aria-label="Open the App Center"]');
            const crashes = await page.evaluate(() => window.mmtoolkitHost.store.getState().plugins.crashes);
            assert.deepEqual(crashes, [], 'a reference plugin crashed');
            assert.deepEqual(page.consoleLines.filter((l) => l.startsWith('pageerror')), []);
        }));
    }
});
