// Pages that say what they are (issue #20, item 3): an unknown team or
// channel URL is a "not found" view without a composer; the directory's
// slot chips are chips and it tells a member whose team has the plugin that
// it is enabled; the kill switch asks first; the audit log names the version
// an enable or a disable concerned; the sandbox's login page shows the demo
// users; the mobile preview is phone-wide on a desktop screen. Each test
// failed before its fix.
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';

import {api, binary, launch, loggedInPage, login, startServer, withShots} from './harness.mjs';

describe('pages', () => {
    let server;
    let chrome;
    let adminToken;
    const pages = [];
    const shots = () => pages;

    const open = async (user, p) => {
        const page = await loggedInPage(chrome.browser, server, user);
        pages.push(page);
        if (p) {
            page.lastResponse = await page.goto(server.url + p);
        }
        return page;
    };
    const state = async (team, id) => (await api(server, adminToken, 'GET', `/api/v1/teams/${team}/plugins`)).plugins.find((p) => p.id === id);

    before(async () => {
        server = await startServer(await binary(), {referencePlugins: true});
        chrome = await launch();
        if (!chrome && process.env.CI === 'true') {
            throw new Error('no Chromium');
        }
        adminToken = await login(server, 'admin');
    });
    after(async () => {
        for (const p of pages) {
            await p.context().close().catch(() => undefined);
        }
        await chrome?.close();
        await server?.stop();
    });

    it('an unknown team or channel URL is a "not found" view with no composer; a known one is the channel', withShots('pages-not-found', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const bob = await open('bob');
        for (const [p, title] of [['/nosuchteam/channels/town-square', 'Team not found'], ['/sales/channels/town-square', 'Team not found'],
            ['/engineering/channels/no-such-channel', 'Channel not found'], ['/nosuchteam', 'Team not found']]) {
            await bob.goto(server.url + p);
            await bob.locator('.not-found h2').waitFor();
            assert.equal(await bob.locator('.not-found h2').textContent(), title, p);
            assert.equal(await bob.locator('.post-box').count(), 0, `${p}: a composer`);
            assert.equal(await bob.locator('.channel-header').count(), 0, `${p}: a channel header`);
        }
        // The way back, and a real channel still opens.
        await bob.getByRole('link', {name: 'Go to Town Square'}).click();
        await bob.waitForURL(/\/engineering\/channels\/town-square$/);
        await bob.locator('.post-box').waitFor();
        assert.equal(await bob.locator('.not-found').count(), 0);
        await bob.goto(server.url + '/engineering/channels/dev-talk');
        await bob.locator('.post-box').waitFor();
        assert.equal(await bob.locator('.not-found').count(), 0);
    }));

    it('the directory\'s slot chips are chips, not 42 px blocks', withShots('pages-chips', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const bob = await open('bob', '/directory');
        const chips = bob.locator('.directory .chips li');
        assert.ok(await chips.count() > 0, 'no slot chips');
        for (const box of await chips.evaluateAll((els) => els.map((e) => {
            const r = e.getBoundingClientRect();
            const s = getComputedStyle(e);
            return {h: r.height, display: s.display, border: s.borderBottomWidth};
        }))) {
            assert.ok(box.h < 30, `chip ${box.h} px high`);
            assert.notEqual(box.display, 'flex');
            assert.equal(box.border, '0px');
        }
    }));

    it('the directory tells a member the plugin is enabled in their team, and whom to ask where it is not', withShots('pages-directory-member', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        assert.equal((await state('engineering', 'mmtoolkit.map')).enabled, true);
        const bob = await open('bob', '/directory/mmtoolkit.map');
        const how = bob.locator('section[aria-labelledby=enable-h]');
        assert.match(await how.textContent(), /Enabled\s*in Engineering/);
        assert.doesNotMatch(await how.textContent(), /Ask an admin/);

        // Off in engineering: then bob is told to ask engineering's admins.
        await api(server, adminToken, 'PUT', '/api/v1/teams/engineering/plugins/mmtoolkit.map', {enabled: false});
        try {
            await bob.reload();
            assert.match(await how.textContent(), /Ask an admin of Engineering/);
            assert.match(await how.locator('pre').textContent(), /mmtoolkit enable --team engineering --plugin mmtoolkit.map/);
        } finally {
            await api(server, adminToken, 'PUT', '/api/v1/teams/engineering/plugins/mmtoolkit.map', {enabled: true});
        }
    }));

    it('the audit log names the version an enable and a disable concerned', withShots('pages-audit-version', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const alice = await open('alice', '/admin/teams/engineering');
        const row = alice.locator('tr[data-plugin="mmtoolkit.appcenter"]');
        await row.getByRole('button', {name: /^Disable /}).click();
        await alice.waitForURL(/saved=mmtoolkit\.appcenter/);
        await row.getByRole('button', {name: /^Enable /}).click();
        await alice.waitForURL(/saved=mmtoolkit\.appcenter/);
        const served = (await state('engineering', 'mmtoolkit.appcenter')).effective_version;
        assert.ok(served, 'no served version');

        await alice.goto(server.url + '/admin/audit?team=engineering&plugin=mmtoolkit.appcenter');
        const rows = await alice.locator('table.audit tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
        const header = await alice.locator('table.audit thead th').allTextContents();
        const col = (name) => header.findIndex((h) => h.trim().toLowerCase() === name);
        const mine = rows.filter((r) => ['enable', 'disable'].includes(r[col('what')]));
        assert.ok(mine.length >= 2, `rows: ${JSON.stringify(rows)}`);
        for (const r of mine.slice(0, 2)) {
            assert.equal(r[col('version')], served, `row ${JSON.stringify(r)}`);
        }
    }));

    it('the kill switch asks before it disables a plugin everywhere', withShots('pages-kill-switch', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const id = 'mmtoolkit.video';
        assert.equal((await state('engineering', id)).enabled, true);
        const admin = await open('admin', `/admin/plugins/${id}`);
        await admin.getByRole('link', {name: 'Disable everywhere…'}).click();
        await admin.waitForURL(/\/disable-everywhere$/);
        assert.match(await admin.locator('h1').textContent(), /^Disable .* everywhere\?$/);
        assert.equal((await state('engineering', id)).enabled, true, 'disabled before the confirmation');

        await admin.getByRole('link', {name: 'Cancel'}).click();
        await admin.waitForURL(new RegExp(`/admin/plugins/${id.replace('.', '\\.')}$`));
        assert.equal((await state('engineering', id)).enabled, true, 'disabled by Cancel');

        await admin.getByRole('link', {name: 'Disable everywhere…'}).click();
        await admin.getByRole('button', {name: /^Disable in \d+ team\(s\)$/}).click();
        await admin.waitForURL(/\?disabled=\d+/);
        assert.match(await admin.locator('.notice').textContent(), /Disabled in \d+ team\(s\)/);
        assert.equal((await state('engineering', id)).enabled, false);
        assert.equal((await state('sales', id)).enabled, false);
    }));

    it('the sandbox\'s login page shows the demo users and their password, and picking one logs in', withShots('pages-login-demo', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const context = await chrome.browser.newContext({viewport: {width: 1280, height: 800}});
        const page = await context.newPage();
        pages.push(page);
        await page.goto(server.url + '/login');
        const demo = page.locator('.demo-logins');
        await demo.waitFor();
        for (const u of ['admin', 'dev', 'alice', 'bob', 'carol']) {
            assert.equal(await demo.getByRole('button', {name: u, exact: true}).count(), 1, u);
        }
        assert.equal(await demo.locator('code').textContent(), 'mmtoolkit');
        await demo.getByRole('button', {name: 'carol'}).click();
        assert.equal(await page.inputValue('input[name=loginId]'), 'carol');
        await page.click('button[type=submit]');
        await page.waitForSelector('.channel-header h2');
        assert.match(page.url(), /\/sales\/channels\/town-square$/);
    }));

    it('the mobile preview is phone-wide on a desktop screen', withShots('pages-mobile-frame', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const bob = await open('bob', '/mobile-preview?team=engineering');
        await bob.getByText('Plugins', {exact: true}).waitFor();
        const width = await bob.evaluate(() => document.querySelector('#root > *').getBoundingClientRect().width);
        assert.ok(width <= 430 && width >= 320, `the phone is ${width} px wide in a 1280 px window`);
    }));
});
