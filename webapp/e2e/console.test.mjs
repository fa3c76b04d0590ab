// The admin console and the directory in Chromium: server-rendered forms
// (no JavaScript needed) whose changes reach the open webapp pages of the
// team concerned, live, and no other team's.
import assert from 'node:assert/strict';
import {cpSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {api, binary, cli, launch, loggedInPage, login, startServer, withShots} from './harness.mjs';

const fixture = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'console');
const ID = 'e2e.console';

describe('admin console', () => {
    let bin;
    let server;
    let chrome;
    let adminToken;
    const pages = [];
    const shots = () => pages;

    // A page of the webapp (user's team channel) or of the console.
    const open = async (user, p) => {
        const page = await loggedInPage(chrome.browser, server, user);
        pages.push(page);
        if (p) {
            page.lastResponse = await page.goto(server.url + p);
        }
        return page;
    };
    const settled = (page) => page.waitForFunction(() => window.mmtoolkitHost?.store.getState().plugins.settledAt > 0);
    const badge = (page) => page.locator('.console-fixture');
    const state = async (team) => {
        const r = await api(server, adminToken, 'GET', `/api/v1/teams/${team}/plugins`);
        return r.plugins.find((p) => p.id === ID);
    };
    const row = (page) => page.locator(`tr[data-plugin="${ID}"]`);

    before(async () => {
        bin = await binary();
        server = await startServer(bin);
        chrome = await launch();
        // 1.0.0 as it is, then 1.1.0: the same plugin with the version rewritten.
        await cli(bin, server, 'dev', 'push', fixture);
        const dir = path.join(mkdtempSync(path.join(tmpdir(), 'e2e-console-')), 'console');
        cpSync(fixture, dir, {recursive: true});
        for (const f of ['plugin.json', 'webapp/index.tsx']) {
            const file = path.join(dir, f);
            writeFileSync(file, readFileSync(file, 'utf8').replaceAll('1.0.0', '1.1.0'));
        }
        await cli(bin, server, 'dev', 'push', dir);
        adminToken = await login(server, 'admin');
    });
    after(async () => {
        for (const p of pages) {
            await p.context().close().catch(() => undefined);
        }
        await chrome?.close();
        await server?.stop();
    });

    it('a team admin enables a plugin for engineering: engineering pages load it live, sales pages do not', withShots('console-toggle', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const bob = await open('bob'); // engineering
        const carol = await open('carol'); // sales
        await Promise.all([settled(bob), settled(carol)]);
        assert.equal(await badge(bob).count(), 0);

        const alice = await open('alice', '/admin/teams/engineering');
        assert.equal(alice.lastResponse.status(), 200);
        assert.equal(await row(alice).locator('.state').textContent(), 'Disabled');
        await row(alice).getByRole('button', {name: 'Enable Console Fixture'}).click();
        await alice.waitForURL(/\/admin\/teams\/engineering\?saved=e2e\.console/);
        assert.match(await alice.locator('.notice').textContent(), /Console Fixture is enabled for Engineering, following the latest version/);
        assert.equal(await row(alice).locator('.state').textContent(), 'Enabled');

        // Live: no reload of bob's page.
        await badge(bob).waitFor({state: 'attached', timeout: 5000});
        assert.equal(await badge(bob).textContent(), 'Console fixture v1.1.0');
        await carol.waitForTimeout(750);
        assert.equal(await badge(carol).count(), 0, 'a sales page loaded engineering\'s plugin');
        assert.equal((await state('sales')).enabled, false);
    }));

    it('a team admin gets a 403 page for another team\'s settings', withShots('console-403', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const alice = await open('alice', '/admin/teams/sales');
        assert.equal(alice.lastResponse.status(), 403);
        assert.equal(await alice.locator('h1').textContent(), 'Not your team');
        assert.match(await alice.locator('.problem').textContent(), /Only admins of team Sales/);
        // Her console lists only engineering.
        await alice.goto(server.url + '/admin');
        assert.deepEqual(await alice.locator('.cards a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))), ['/admin/teams/engineering']);
    }));

    it('pinning 1.0.0 rolls the open pages back to the old bundle', withShots('console-rollback', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const detail = await api(server, adminToken, 'GET', `/api/v1/plugins/${ID}`);
        const bundleOf = (v) => detail.versions.find((x) => x.version === v).bundles.web.url;
        const bob = await open('bob');
        await badge(bob).waitFor({state: 'attached'});
        assert.equal(await badge(bob).textContent(), 'Console fixture v1.1.0');
        assert.equal(await bob.locator(`script[data-plugin-id="${ID}"]`).getAttribute('src'), bundleOf('1.1.0'));

        const alice = await open('alice', '/admin/teams/engineering');
        await row(alice).getByLabel('Version of Console Fixture', {exact: true}).selectOption('1.0.0');
        await row(alice).getByRole('button', {name: 'Apply version of Console Fixture'}).click();
        await alice.waitForURL(/saved=/);
        assert.match(await alice.locator('.notice').textContent(), /pinned to 1\.0\.0/);

        await bob.waitForFunction(() => document.querySelector('.console-fixture')?.textContent === 'Console fixture v1.0.0', null, {timeout: 5000});
        const srcs = await bob.locator(`script[data-plugin-id="${ID}"]`).evaluateAll((s) => s.map((e) => e.getAttribute('src')));
        assert.ok(srcs.includes(bundleOf('1.0.0')), `scripts ${srcs}`);
        assert.equal((await state('engineering')).version, '1.0.0');

        // Follow latest again.
        await row(alice).getByLabel('Version of Console Fixture', {exact: true}).selectOption('latest');
        await row(alice).getByRole('button', {name: 'Apply version of Console Fixture'}).click();
        await bob.waitForFunction(() => document.querySelector('.console-fixture')?.textContent === 'Console fixture v1.1.0', null, {timeout: 5000});
    }));

    it('the kill switch removes the plugin from every team', withShots('console-kill', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        await cli(bin, server, 'admin', 'enable', '--team', 'sales', '--plugin', ID);
        const bob = await open('bob');
        const carol = await open('carol');
        await Promise.all([badge(bob).waitFor({state: 'attached'}), badge(carol).waitFor({state: 'attached'})]);

        const admin = await open('admin', `/admin/plugins/${ID}`);
        assert.match(await admin.locator('.danger').textContent(), /Enabled in 2 team\(s\)/);
        await admin.getByRole('link', {name: 'Disable everywhere…'}).click(); // asks first
        await admin.getByRole('button', {name: 'Disable in 2 team(s)'}).click();
        await admin.waitForURL(/disabled=2/);
        assert.match(await admin.locator('.notice').textContent(), /Disabled in 2 team\(s\)/);

        await Promise.all([badge(bob).waitFor({state: 'detached', timeout: 5000}), badge(carol).waitFor({state: 'detached', timeout: 5000})]);
        assert.equal((await state('engineering')).enabled, false);
        assert.equal((await state('sales')).enabled, false);
        // Audited, per team, as the admin.
        await admin.goto(server.url + `/admin/audit?plugin=${ID}&person=admin`);
        const actions = await admin.locator('table.audit tbody tr').evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
        assert.deepEqual(actions.filter((c) => c[2] === 'disable').map((c) => c[5]).sort(), ['Engineering', 'Sales']);
    }));

    it('the directory finds the plugin, shows its icon and screenshots, and tells a member how to get it', withShots('console-directory', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const bob = await open('bob', '/directory');
        await bob.getByRole('searchbox', {name: 'Search'}).fill('toggle, pin');
        await bob.getByRole('button', {name: 'Search'}).click();
        await bob.waitForURL(/q=toggle/);
        await bob.getByRole('link', {name: 'Console Fixture'}).click();
        await bob.waitForURL(/\/directory\/e2e\.console$/);
        const icon = bob.locator('.plugin-head img.icon');
        assert.equal(await icon.evaluate((img) => img.complete && img.naturalWidth > 0), true, 'the icon did not load');
        const shot = bob.getByAltText('Screenshot 1 of Console Fixture');
        await shot.scrollIntoViewIfNeeded();
        await bob.waitForFunction(() => document.querySelector('.shots img')?.naturalWidth > 0);
        assert.match(await bob.locator('#enable-h + p').textContent(), /Ask an admin of Engineering/);
    }));

    it('a logged-out visitor logs in and comes back to the console', withShots('console-login', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const context = await chrome.browser.newContext();
        const page = await context.newPage();
        pages.push(page);
        await page.goto(server.url + '/admin/audit');
        await page.waitForURL(/\/login\?redirect_to=%2Fadmin%2Faudit$/);
        await page.fill('input[name=loginId]', 'alice');
        await page.fill('input[name=password]', 'mmtoolkit');
        await page.click('button[type=submit]');
        await page.waitForURL(server.url + '/admin/audit');
        assert.equal(await page.locator('h1').textContent(), 'Audit log');
    }));
});
