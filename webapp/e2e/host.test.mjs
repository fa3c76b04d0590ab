// The host in Chromium against a real mmtoolkit server: what a person sees.
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';

import {binary, launch, loggedInPage, startServer, withShots} from './harness.mjs';

describe('webapp host', () => {
    let bin;
    let server;
    let chrome;
    const pages = [];

    before(async () => {
        bin = await binary();
        server = await startServer(bin);
        chrome = await launch();
    });
    after(async () => {
        await chrome?.close();
        await server?.stop();
    });

    it('logs in and shows the team, channels and posts', withShots('login', () => pages, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium (install: apt-get install -y chromium)');
        }
        const page = await loggedInPage(chrome.browser, server, 'bob');
        pages.push(page);
        assert.match(page.url(), /\/engineering\/channels\/town-square$/);
        assert.equal(await page.textContent('.channel-header h2'), 'Town Square');
        await page.waitForSelector('.post-message >> text=Welcome to the mmtoolkit sandbox');
        const channels = await page.locator('.channel-link').allTextContents();
        assert.deepEqual(channels.map((c) => c.replace('#', '')), ['Dev Talk', 'Town Square']);
        await page.click('.channel-link >> text=Dev Talk');
        await page.waitForSelector('.channel-header h2 >> text=Dev Talk');
        assert.match(page.url(), /\/engineering\/channels\/dev-talk$/);
    }));

    it('CSP blocks an injected inline script', withShots('csp', () => pages, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const page = pages[0] ?? await loggedInPage(chrome.browser, server, 'bob');
        const result = await page.evaluate(() => new Promise((resolve) => {
            document.addEventListener('securitypolicyviolation', (e) => resolve({blocked: e.violatedDirective, ran: Boolean(window.pwned)}), {once: true});
            const s = document.createElement('script');
            s.textContent = 'window.pwned = true';
            document.body.appendChild(s);
            setTimeout(() => resolve({blocked: '', ran: Boolean(window.pwned)}), 1000);
        }));
        assert.equal(result.ran, false, 'the inline script ran');
        assert.match(result.blocked, /^script-src/);
    }));
});
