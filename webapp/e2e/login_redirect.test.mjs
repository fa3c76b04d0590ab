// After login the page goes to ?redirect_to= only when that is a path of
// this site as Chromium reads it (issue #15, F04): Chromium drops tabs and
// newlines from URLs and takes a backslash for a slash, so "/\t/evil.example"
// was "//evil.example", another site.
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';

import {binary, launch, startServer} from './harness.mjs';

describe('login redirect_to', () => {
    let server;
    let chrome;

    before(async () => {
        server = await startServer(await binary());
        chrome = await launch();
        if (!chrome && process.env.CI === 'true') {
            throw new Error('no Chromium');
        }
    });
    after(async () => {
        await chrome?.close();
        await server?.stop();
    });

    // After logging in at /login?redirect_to=<raw>, the page's URL.
    const landing = async (raw) => {
        const context = await chrome.browser.newContext();
        try {
            // Another site, if the page goes there, answers at once.
            await context.route((u) => u.hostname === 'evil.example', (r) => r.fulfill({contentType: 'text/html', body: 'evil'}));
            const page = await context.newPage();
            await page.goto(server.url + '/login?redirect_to=' + raw);
            await page.fill('input[name=loginId]', 'bob');
            await page.fill('input[name=password]', 'mmtoolkit');
            await page.click('button[type=submit]');
            await page.waitForURL((u) => !u.pathname.startsWith('/login'));
            return new URL(page.url());
        } finally {
            await context.close();
        }
    };

    for (const raw of ['%2F%09%2Fevil.example', '%2F%0a%2Fevil.example', '%2F%5Cevil.example', '%5C%5Cevil.example',
        '%2F.%2F%2Fevil.example', '%2F%2Fevil.example', 'https%3A%2F%2Fevil.example']) {
        it(`stays on the site for redirect_to=${raw}`, async (t) => {
            if (!chrome) {
                return t.skip('no Chromium');
            }
            const u = await landing(raw);
            assert.equal(u.origin, new URL(server.url).origin, `went to ${u}`);
            assert.equal(u.pathname, '/');
        });
    }

    it('goes to a path of the site', async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const u = await landing('%2Fdirectory');
        assert.equal(u.origin, new URL(server.url).origin);
        assert.equal(u.pathname, '/directory');
    });
});
