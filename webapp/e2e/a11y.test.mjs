// Accessibility (issue #20, item 6): axe-core's WCAG 2 A and AA rules,
// injected into Chromium, find no violation on the login page, a channel
// with the reference plugins, the admin console's pages, the directory and
// the mobile preview. Before, color-contrast failed there (secondary text
// at Mattermost's .56-.64 opacity, under 4.5:1).
//
// The console pages allow no script (their Content-Security-Policy), so the
// pages are opened with bypassCSP: axe is the test's script, not the page's.
import assert from 'node:assert/strict';
import {mkdirSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {artifacts, binary, launch, startServer} from './harness.mjs';

const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** The violations of WCAG 2 A and AA rules on the page, one line per element. */
async function violations(page) {
    // Not hovering anything: a hovered post's tint is a transient state.
    await page.mouse.move(0, 0);
    await page.addScriptTag({path: axeSource});
    const result = await page.evaluate(async () => await window.axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']},
        resultTypes: ['violations'],
    }));
    return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}: ${(n.any[0] ?? n.all[0] ?? n.none[0])?.message ?? v.help}`));
}

describe('accessibility (axe-core, WCAG 2 A and AA)', () => {
    let server;
    let chrome;
    let context;
    let page;

    before(async () => {
        server = await startServer(await binary(), {referencePlugins: true});
        chrome = await launch();
        if (!chrome) {
            if (process.env.CI === 'true') {
                throw new Error('no Chromium');
            }
            return;
        }
        context = await chrome.browser.newContext({viewport: {width: 1280, height: 800}, bypassCSP: true});
        page = await context.newPage();
    });
    after(async () => {
        await context?.close();
        await chrome?.close();
        await server?.stop();
    });

    const check = async (name) => {
        const found = await violations(page);
        if (found.length > 0) {
            mkdirSync(artifacts, {recursive: true});
            const file = path.join(artifacts, `a11y-${name}.png`);
            await page.screenshot({path: file, fullPage: true}).catch(() => undefined);
            console.error(`screenshot: ${file}`);
        }
        assert.deepEqual(found, [], `${name}: ${found.length} violation(s)`);
    };

    it('the login page', async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        await page.goto(server.url + '/login');
        await page.locator('.demo-logins').waitFor();
        await check('login');
    });

    it('a channel with the reference plugins', async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        await page.fill('input[name=loginId]', 'admin'); // a system admin: every console page
        await page.fill('input[name=password]', 'mmtoolkit');
        await page.click('button[type=submit]');
        await page.waitForSelector('.channel-header h2');
        await page.waitForFunction(() => window.mmtoolkitSlotsRendered !== undefined);
        await check('channel');
    });

    for (const [name, p] of [
        ['admin console', '/admin'],
        ['team page', '/admin/teams/engineering'],
        ['plugin page', '/admin/plugins/mmtoolkit.map'],
        ['kill switch confirmation', '/admin/plugins/mmtoolkit.map/disable-everywhere'],
        ['audit log', '/admin/audit'],
        ['directory', '/directory'],
        ['directory plugin page', '/directory/mmtoolkit.map'],
    ]) {
        it(`the ${name} (${p})`, async (t) => {
            if (!chrome) {
                return t.skip('no Chromium');
            }
            const r = await page.goto(server.url + p);
            assert.equal(r.status(), 200);
            await check(name.replaceAll(' ', '-'));
        });
    }

    it('a "not found" channel', async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        await page.goto(server.url + '/engineering/channels/no-such-channel');
        await page.locator('.not-found').waitFor();
        await check('not-found');
    });

    it('the mobile preview', async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        await page.goto(server.url + '/mobile-preview?team=engineering');
        await page.getByText('Plugins', {exact: true}).waitFor();
        // Every plugin's mobile part has rendered (or said why not).
        await page.waitForFunction(() => !document.body.textContent.includes('— loading'));
        await check('mobile-preview');
    });
});
