// Plugins in the host, in Chromium: pushed with the real CLI, enabled per
// team, and checked by what a person sees.
import assert from 'node:assert/strict';
import {cpSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {buildWebpackFixture} from './build_webpack_fixture.mjs';
import {api, binary, cli, launch, loggedInPage, login, startServer, withShots} from './harness.mjs';

const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures');

describe('plugins in the host', () => {
    let bin;
    let server;
    let chrome;
    let bobToken;
    let townSquare;
    const pages = [];
    const shots = () => pages;

    const enable = (plugin, team = 'engineering', user = 'alice') => cli(bin, server, user, 'enable', '--team', team, '--plugin', plugin);
    const disable = (plugin, team = 'engineering', user = 'alice') => cli(bin, server, user, 'disable', '--team', team, '--plugin', plugin);
    const push = (dir) => cli(bin, server, 'dev', 'push', dir);
    const open = async (user, p = '/') => {
        const page = await loggedInPage(chrome.browser, server, user, p);
        pages.push(page);
        return page;
    };
    const settled = (page) => page.waitForFunction(() => window.mmtoolkitHost?.store.getState().plugins.settledAt > 0);

    before(async () => {
        bin = await binary();
        server = await startServer(bin);
        chrome = await launch();
        for (const f of ['fixture', 'thrower', 'badinit']) {
            await push(path.join(fixtures, f));
        }
        await push(await buildWebpackFixture());
        await enable('e2e.fixture');
        bobToken = await login(server, 'bob');
        townSquare = await api(server, bobToken, 'GET', '/api/v4/teams/name/engineering/channels/name/town-square');
        await api(server, bobToken, 'POST', '/api/v4/posts', {channel_id: townSquare.id, message: 'card caption', type: 'custom_fixture_card', props: {title: 'Quarterly numbers'}});
    });
    after(async () => {
        for (const p of pages) {
            await p.context().close().catch(() => undefined);
        }
        await chrome?.close();
        await server?.stop();
    });

    it('renders the fixture in its slots: post type, call button, header button, app center, RHS, menus', withShots('fixture', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const page = await open('bob');
        await settled(page);
        // Post type component replaces the message body, with Mattermost's props.
        const card = page.locator('.fixture-card');
        await card.waitFor();
        assert.equal(await card.textContent(), 'Fixture card v1.0.0: Quarterly numbers');
        assert.equal(await card.getAttribute('data-is-rhs'), 'false');
        assert.equal(await card.getAttribute('data-compact'), 'false');
        assert.match(await card.getAttribute('data-theme'), /^#/);
        // The bundle came with SRI.
        const script = page.locator('script[data-plugin-id="e2e.fixture"]');
        assert.match(await script.getAttribute('integrity'), /^sha256-/);
        assert.equal(await script.getAttribute('crossorigin'), 'anonymous');
        // Call button: action(channel, member).
        await page.click('.fixture-call');
        assert.equal(await page.evaluate(() => window.fixture.called), townSquare.id);
        // Channel header button registered with the object form.
        await page.click('.fixture-header-button');
        assert.equal(await page.evaluate(() => window.fixture.headerClicked), true);
        // App bar icon toggles the plugin's RHS.
        await page.click('.app-bar-icon[aria-label="Fixture panel"]');
        await page.waitForSelector('.rhs >> text=Fixture RHS v1.0.0');
        assert.equal(await page.textContent('.rhs-header h3'), 'Fixture panel');
        await page.click('.app-bar-icon[aria-label="Fixture panel"]');
        await page.waitForSelector('.rhs', {state: 'detached'});
        // Post dropdown menu.
        const post = page.locator('.post', {has: page.locator('.fixture-card')});
        await post.hover();
        await post.locator('button[aria-label="More actions"]').click();
        await page.click('text=Fixture post action');
        assert.equal(await page.evaluate(() => window.fixture.postAction), await post.getAttribute('data-post-id'));
        // Root component mounted.
        await page.waitForSelector('.fixture-root', {state: 'attached'});
        // Main menu -> the app center view at /:team/:pluginId/center.
        await page.click('.main-menu-button');
        await page.click('text=Fixture App Center');
        await page.waitForSelector('.fixture-app-center h1');
        assert.match(page.url(), /\/engineering\/e2e\.fixture\/center$/);
        assert.equal(await page.textContent('.fixture-user'), 'Signed in as bob');
    }));

    it('runs hooks, websocket handlers and the plugin reducer', withShots('hooks', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const page = await open('bob', '/engineering/channels/town-square');
        await settled(page);
        // A message hook rewrites...
        await page.fill('textarea', 'shout: hello there');
        await page.keyboard.press('Enter');
        await page.waitForSelector('.post-message >> text=HELLO THERE');
        // ...and rejects.
        await page.fill('textarea', 'this is forbidden');
        await page.keyboard.press('Enter');
        await page.waitForSelector('.post-box .error >> text=The fixture plugin rejected this message.');
        // A slash command hook swallows its command.
        await page.fill('textarea', '/fixture ping');
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => window.fixture.slash === '/fixture ping');
        // Live posts from the Mattermost websocket, seen by the host and by the plugin's handler.
        const before = await page.evaluate(() => window.mmtoolkitHost.store.getState()['plugins-e2e.fixture'].posted);
        await api(server, bobToken, 'POST', '/api/v4/posts', {channel_id: townSquare.id, message: 'from the API, live'});
        await page.waitForSelector('.post-message >> text=from the API, live');
        await page.waitForFunction((n) => window.mmtoolkitHost.store.getState()['plugins-e2e.fixture'].posted > n, before);
        // A custom plugin event from mmtoolkit's websocket reaches the plugin's handler.
        const team = await api(server, bobToken, 'GET', '/api/v4/teams/name/engineering');
        await api(server, bobToken, 'POST', '/api/v1/plugins/e2e.fixture/events', {event: 'ping', team_id: team.id, data: {text: 'pong'}});
        await page.waitForFunction(() => window.fixture.ping === 'pong');
    }));

    it('shows a plugin only to the team that enabled it', withShots('teams', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const carol = await open('carol');
        await settled(carol);
        assert.match(carol.url(), /\/sales\/channels\/town-square$/);
        assert.equal(await carol.locator('.fixture-call').count(), 0);
        assert.equal(await carol.locator('script[data-plugin-id="e2e.fixture"]').count(), 0);
        const bob = await open('bob');
        await settled(bob);
        assert.equal(await bob.locator('.fixture-call').count(), 1);
        // A member of both teams: switching team switches the plugin set.
        const admin = await open('admin');
        await settled(admin);
        await admin.waitForSelector('.fixture-call');
        await admin.click('.team-button[aria-label="Sales"]');
        await admin.waitForSelector('.channel-header h2 >> text=Town Square');
        await admin.waitForFunction(() => window.mmtoolkitHost.store.getState().plugins.teamId !== '' && !document.querySelector('.fixture-call') &&
            !document.querySelector('script[data-plugin-id="e2e.fixture"]'));
        assert.match(admin.url(), /\/sales\/channels\/town-square$/);
        await admin.click('.team-button[aria-label="Engineering"]');
        await admin.waitForSelector('.fixture-call');
    }));

    it('isolates plugins that throw in render, in a handler and in initialize', withShots('throwing', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        await enable('e2e.thrower');
        await enable('e2e.badinit');
        const page = await open('bob');
        await settled(page);
        // Two call buttons collapse into one dropdown, as Mattermost's. Render
        // crash: a notice in that menu where the thrower's entry was; the
        // fixture's entry beside it still works.
        await page.click('.channel-header-actions button[aria-label="Start call"]');
        await page.waitForSelector('.channel-header-actions .plugin-error[data-plugin-id="e2e.thrower"] >> text=An error occurred in the e2e.thrower plugin.');
        await page.click('.channel-header-actions [role=menuitem] >> text=Fixture call');
        assert.ok(await page.evaluate(() => window.fixture.called));
        // initialize crash: a notice in the slot it declared (channel header).
        await page.waitForSelector('.channel-header-actions .plugin-error[data-plugin-id="e2e.badinit"]');
        // Handler crash: a notice in the main menu where its item was.
        await page.click('.main-menu-button');
        await page.click('text=Thrower menu');
        await page.click('.main-menu-button');
        await page.waitForSelector('.main-menu .plugin-error[data-plugin-id="e2e.thrower"]');
        // The rest of the page works: post, switch channel.
        await page.click('.main-menu-button');
        await page.fill('textarea', 'still working');
        await page.keyboard.press('Enter');
        await page.waitForSelector('.post-message >> text=still working');
        await page.click('.channel-link >> text=Dev Talk');
        await page.waitForSelector('.channel-header h2 >> text=Dev Talk');
        assert.equal(await page.locator('.channel-header-actions button[aria-label="Start call"]').count(), 1);
        const crashes = await page.evaluate(() => window.mmtoolkitHost.store.getState().plugins.crashes.map((c) => `${c.pluginId}:${c.where}`));
        for (const want of ['e2e.thrower:render', 'e2e.thrower:handler', 'e2e.badinit:initialize']) {
            assert.ok(crashes.includes(want), `${want} not in ${crashes}`);
        }
        await disable('e2e.thrower');
        await disable('e2e.badinit');
    }));

    it('applies an admin toggle live, without a reload', withShots('toggle', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const page = await open('bob');
        await settled(page);
        await page.waitForSelector('.fixture-call');
        await page.evaluate(() => {
            window.notReloaded = true;
        });
        await disable('e2e.fixture');
        await page.waitForSelector('.fixture-call', {state: 'detached', timeout: 5000});
        assert.equal(await page.locator('.fixture-card').count(), 0);
        assert.equal(await page.evaluate(() => window.fixture.uninitialized), 1);
        await enable('e2e.fixture');
        await page.waitForSelector('.fixture-call', {timeout: 5000});
        await page.waitForSelector('.fixture-card');
        assert.equal(await page.evaluate(() => window.notReloaded), true);
    }));

    it('re-syncs with the manifest after a reconnect', withShots('reconnect', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const page = await open('bob');
        await settled(page);
        await page.waitForSelector('.fixture-call');
        // Drop mmtoolkit's socket, change the team's plugins while it is down:
        // the event is lost, the re-sync on reconnect must catch up.
        await page.evaluate(() => window.mmtoolkitHost.toolkitSocket.conn.close());
        await disable('e2e.fixture');
        await page.waitForSelector('.fixture-call', {state: 'detached', timeout: 15000});
        await page.evaluate(() => window.mmtoolkitHost.toolkitSocket.conn?.close());
        await enable('e2e.fixture');
        await page.waitForSelector('.fixture-call', {timeout: 15000});
    }));

    it('swaps in a new version when it is pushed', withShots('update', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const page = await open('bob');
        await settled(page);
        await page.waitForSelector('.fixture-call >> text=Fixture call v1.0.0');
        const dir = mkdtempSync(path.join(tmpdir(), 'mmtoolkit-fixture-v2-'));
        cpSync(path.join(fixtures, 'fixture'), dir, {recursive: true});
        const pj = JSON.parse(readFileSync(path.join(dir, 'plugin.json'), 'utf8'));
        pj.version = '1.0.1';
        writeFileSync(path.join(dir, 'plugin.json'), JSON.stringify(pj));
        const src = path.join(dir, 'webapp', 'index.tsx');
        writeFileSync(src, readFileSync(src, 'utf8').replace("const VERSION = '1.0.0'", "const VERSION = '1.0.1'"));
        const t0 = Date.now();
        await push(dir);
        await page.waitForSelector('.fixture-call >> text=Fixture call v1.0.1', {timeout: 5000});
        t.diagnostic(`push to new component visible: ${Date.now() - t0} ms`);
        assert.equal(await page.locator('.fixture-call').count(), 1, 'old and new version both rendered');
        assert.equal(await page.locator('.fixture-card >> text=v1.0.1').count(), 1);
    }));

    it('runs an unchanged webpack-style Mattermost bundle', withShots('webpack', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        await enable('e2e.webpack');
        await api(server, bobToken, 'POST', '/api/v4/posts', {channel_id: townSquare.id, message: 'a **bold** note', type: 'custom_webpack_note'});
        const page = await open('bob');
        await settled(page);
        // ReactIntl was loaded on demand, before the bundle ran.
        assert.ok(await page.evaluate(() => Boolean(window.ReactIntl?.FormattedMessage && window.ReactIntl.IntlProvider)));
        // mattermost-redux selectors read the host store; registerTranslations feeds react-intl.
        const badge = page.locator('.webpack-badge');
        await badge.waitFor();
        assert.equal(await badge.textContent(), 'Webpack sees @bob in Engineering');
        assert.equal(await badge.getAttribute('data-channel-id'), townSquare.id);
        assert.equal(await badge.getAttribute('data-site-url'), server.url);
        // PostUtils formatted the message.
        await page.waitForSelector('.webpack-note strong >> text=bold');
    }));
});
