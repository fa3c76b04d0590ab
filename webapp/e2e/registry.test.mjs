// Every PluginRegistry method, from a plugin built by REAL webpack (5, then
// 4) with the starter template's configuration: the fixture
// (webpack/fixtures/registry) registers through all 68 methods, and each
// registration must render or run where Mattermost's webapp would, and go
// away when unregisterComponent removes it. The store a plugin reads
// (license, server version, roles, theme, statuses, views.rhs) is checked
// through the mattermost-redux selectors the fixture bundles.
import assert from 'node:assert/strict';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {api, binary, cli, launch, loggedInPage, login, startServer, withShots} from './harness.mjs';
import {pluginDir} from './webpack/build.mjs';

const src = path.join(path.dirname(new URL(import.meta.url).pathname), 'webpack', 'fixtures', 'registry');

for (const webpack of [5, 4]) {
    describe(`every registry method, from a webpack ${webpack} bundle`, () => {
        let bin;
        let server;
        let chrome;
        let bobToken;
        let aliceToken;
        let town;
        let devTalk;
        const pages = [];
        const shots = () => pages;

        const open = async (user, p = '/engineering/channels/town-square') => {
            const page = await loggedInPage(chrome.browser, server, user, p);
            pages.push(page);
            await page.waitForFunction(() => window.mmtoolkitHost?.store.getState().plugins.status['e2e.registry']?.phase === 'loaded');
            await page.waitForFunction(() => window.rf?.ids?.switcherHidden);
            return page;
        };
        const calls = (page, name) => page.evaluate((n) => window.rf.calls[n], name);
        const waitCall = (page, name) => page.waitForFunction((n) => window.rf.calls[n]?.length > 0, name);
        const unregistered = async (page, key, selector) => {
            assert.ok(await page.locator(selector).count() > 0, `${selector} is there before unregistering ${key}`);
            await page.evaluate((k) => window.rf.unregister(k), key);
            await page.waitForSelector(selector, {state: 'detached'});
        };

        before(async () => {
            bin = await binary();
            server = await startServer(bin);
            chrome = await launch();
            await cli(bin, server, 'dev', 'push', await pluginDir(src, {webpack}));
            await cli(bin, server, 'alice', 'enable', '--team', 'engineering', '--plugin', 'e2e.registry');
            bobToken = await login(server, 'bob');
            aliceToken = await login(server, 'alice');
            town = await api(server, bobToken, 'GET', '/api/v4/teams/name/engineering/channels/name/town-square');
            devTalk = await api(server, bobToken, 'GET', '/api/v4/teams/name/engineering/channels/name/dev-talk');
            // Posts the checks need: a custom type (post type and card), a link (embed, tooltip),
            // code (code block action), a word the format hook redacts; alice's, so bob has new messages.
            await api(server, aliceToken, 'POST', '/api/v4/posts', {channel_id: town.id, message: 'card body', type: 'custom_rf'});
            await api(server, aliceToken, 'POST', '/api/v4/posts', {channel_id: town.id, message: 'see https://rf.example.com/page and rfsecret'});
            await api(server, aliceToken, 'POST', '/api/v4/posts', {channel_id: town.id, message: '```\nrf code\n```'});
        });
        after(async () => {
            for (const p of pages) {
                await p.context().close().catch(() => undefined);
            }
            await chrome?.close();
            await server?.stop();
        });

        it('fills the store as Mattermost does: license, server version, roles, theme, statuses, views.rhs', withShots(`store-${webpack}`, shots, async (t) => {
            if (!chrome) {
                return t.skip('no Chromium');
            }
            // A saved theme preference is what getTheme returns.
            const bob = await api(server, bobToken, 'GET', '/api/v4/users/me');
            await api(server, bobToken, 'PUT', `/api/v4/users/${bob.id}/preferences`, [{user_id: bob.id, category: 'theme', name: '', value: JSON.stringify({type: 'Onyx'})}]);
            const page = await open('bob');
            await page.waitForFunction(() => window.rf.read().theme.type === 'Onyx' && window.rf.read().license.IsLicensed !== undefined);
            let s = await page.evaluate(() => window.rf.read());
            assert.equal(s.license.IsLicensed, 'false');
            assert.match(s.serverVersion, /^5\.37\.0/);
            assert.equal(s.theme.type, 'Onyx');
            assert.equal(s.theme.centerChannelBg, '#191b1f');
            await page.waitForFunction(() => window.rf.read().myStatus === 'online');
            s = await page.evaluate(() => window.rf.read());
            assert.equal(s.createTeam, true, 'system_user may create teams');
            assert.equal(s.manageTeam, false, 'bob is no team admin');
            assert.equal(s.manageSystem, false);
            assert.deepEqual(Object.keys(s.rhs).sort(), ['isSidebarExpanded', 'isSidebarOpen', 'pluggableId', 'rhsState', 'selectedPostCardId', 'selectedPostId']);
            assert.equal(s.rhs.isSidebarOpen, false);
            // The RHS keys follow the plugin's own RHS.
            await page.evaluate(() => window.rf.store.dispatch(window.rf.rhs.showRHSPlugin));
            await page.waitForSelector('.rhs .rf-rhs');
            s = await page.evaluate(() => window.rf.read());
            assert.equal(s.rhs.isSidebarOpen, true);
            assert.equal(s.rhs.rhsState, 'plugin');
            assert.equal(s.rhs.pluggableId, await page.evaluate(() => window.rf.ids.rhs));
            await page.click('.rhs button[aria-label="Expand"]');
            await page.waitForFunction(() => window.rf.read().rhs.isSidebarExpanded === true);
            await page.evaluate(() => window.rf.store.dispatch(window.rf.rhs.hideRHSPlugin));
            await page.waitForSelector('.rhs .rf-rhs', {state: 'detached'});
            // A team admin has manage_team on her team (roles from /api/v4/roles/names).
            const alice = await open('alice');
            await alice.waitForFunction(() => window.rf.read().manageTeam === true);
            // Statuses: alice's page is open, so bob sees her online (status_change), then offline when it closes.
            const aliceId = (await api(server, aliceToken, 'GET', '/api/v4/users/me')).id;
            await page.waitForFunction((id) => window.rf.read().statuses[id] === 'online', aliceId);
            await alice.context().close();
            await page.waitForFunction((id) => window.rf.read().statuses[id] === 'offline', aliceId);
        }));

        it('renders each component registration in its place, and unregisterComponent removes it', withShots(`components-${webpack}`, shots, async (t) => {
            if (!chrome) {
                return t.skip('no Chromium');
            }
            const page = await open('bob');
            const post = (text) => page.locator('.post', {has: page.locator(`text=${text}`)});
            // Root and global components, once each.
            await page.waitForSelector('.plugin-roots .rf-root', {state: 'attached'});
            assert.equal(await page.locator('.rf-global').count(), 1);
            assert.equal(await page.locator('.plugin-globals .rf-global').count(), 1);
            // Sidebars.
            await page.waitForSelector('.channel-sidebar .left-sidebar-header .rf-lsh');
            await page.waitForSelector('.team-sidebar .bottom-team-sidebar .rf-bts');
            assert.ok(await page.locator('.channel-link .rf-label').count() >= 2, 'a label on each channel link');
            await page.waitForSelector('.channel-link[aria-current=page] .channel-icon[data-icon-name="rf-icon"]');
            assert.equal(await page.locator('.channel-link[href$="/dev-talk"] [data-icon-name]').count(), 0);
            // Channel header: icon component, the channel menu with the one action whose shouldRender holds.
            await page.waitForSelector('.channel-header .rf-header-icon');
            await page.click('button[aria-label="Channel menu"]');
            await page.waitForSelector('[role=menu] >> text=RF channel action');
            assert.equal(await page.locator('text=RF hidden action').count(), 0);
            await page.click('[role=menuitem] >> text=RF channel action');
            assert.deepEqual(await calls(page, 'headerMenu'), [town.id]);
            // Header buttons sit side by side (Mattermost collapses them beyond 15); two call buttons share one dropdown.
            await page.click('.channel-header-actions button[title="RF two"]');
            assert.deepEqual(await calls(page, 'headerButton2'), [town.id]);
            assert.equal(await page.locator('button[aria-label="Channel header plugins"]').count(), 0);
            assert.equal(await page.locator('.channel-header-actions .call-button').count(), 0);
            await page.click('button[aria-label="Start call"]');
            await page.click('[role=menuitem] >> text=RF call one');
            assert.deepEqual(await calls(page, 'call1'), [town.id]);
            // Channel toast, composer banner, placeholder transform, editor action.
            await page.waitForSelector('.channel-toasts .rf-toast');
            await page.waitForSelector('.post-box .composer-banners .rf-banner');
            assert.match(await page.getAttribute('textarea[aria-label="Write a message"]', 'placeholder'), /\(rf: town-square\)$/);
            await page.click('.post-box .rf-editor-action');
            assert.equal(await page.inputValue('textarea[aria-label="Write a message"]'), 'from the editor action');
            await page.fill('textarea[aria-label="Write a message"]', '');
            // Channel intro with its button (the channel's first post is loaded).
            await page.click('.channel-intro button >> text=RF intro button');
            assert.deepEqual(await calls(page, 'introButton'), ['town-square']);
            // Posts: the post type replaces the body, with header, action and card; the separator before alice's posts.
            const typed = post('RF post: card body');
            await typed.waitFor();
            const typedId = await typed.getAttribute('data-post-id');
            await typed.locator('.rf-post-header').waitFor();
            assert.equal(await typed.locator('.rf-post-action').getAttribute('data-post-id'), typedId);
            assert.equal(await typed.locator('.rf-attachment').getAttribute('data-post-id'), typedId);
            await typed.locator('button[aria-label="Post info"]').click();
            await page.waitForSelector('.rhs .rf-post-card >> text=Card of ' + typedId);
            assert.equal(await page.getAttribute('.rf-post-card', 'data-is-rhs'), 'true');
            await page.click('.rhs button[aria-label="Close"]');
            await page.waitForSelector('.new-messages-separator .rf-separator');
            assert.equal(await page.getAttribute('.rf-separator', 'data-channel-id'), town.id);
            // Format hook, embed, link tooltip.
            const linked = post('see');
            await linked.locator('text=[redacted by rf]').waitFor();
            assert.equal(await linked.locator('text=rfsecret').count(), 0);
            await linked.locator('.rf-embed >> text=Embed of https://rf.example.com/page').waitFor();
            await linked.locator('button[aria-label="Hide preview"]').click();
            await linked.locator('.rf-embed').waitFor({state: 'detached'});
            await linked.locator('.post-message a').hover();
            await page.waitForSelector('.link-tooltip .rf-link-tooltip >> text=Tip for https://rf.example.com/page');
            // Code block action.
            const code = post('rf code');
            await code.locator('.code-block-actions .rf-code-action').click();
            assert.match((await calls(page, 'codeAction'))[0], /rf code/);
            // The author's popover: attributes and actions with the user and status.
            await typed.locator('.post-author').click();
            await page.waitForSelector('.user-popover .rf-popover-attr >> text=Attr of alice');
            await page.click('.user-popover .rf-popover-action');
            assert.deepEqual(await calls(page, 'popoverAction'), ['alice']);
            await page.waitForSelector('.user-popover', {state: 'detached'});
            // Post menu: action, sub-menu (one level; the next registrar throws), component item.
            await typed.hover();
            await typed.locator('button[aria-label="More actions"]').click();
            await page.waitForSelector('.post-menu .rf-menu-component >> text=Component item for ' + typedId);
            await page.click('.post-menu [role=menuitem] >> text=RF sub menu');
            await page.click('.post-menu .submenu [role=menuitem] >> text=RF sub item');
            assert.deepEqual(await calls(page, 'subItem'), [typedId]);
            assert.deepEqual(await calls(page, 'subTooDeep'), ['Submenus are currently limited to a single level.']);
            await typed.hover();
            await typed.locator('button[aria-label="More actions"]').click();
            await page.click('.post-menu [role=menuitem] >> text=RF post action');
            assert.deepEqual(await calls(page, 'postMenu'), [typedId]);
            // Files of a post (as a Mattermost server sends them in metadata.files): preview and file menu.
            await page.evaluate((channelId) => {
                const s = window.mmtoolkitHost.store;
                const me = s.getState().entities.users.currentUserId;
                const at = Date.now();
                s.dispatch({type: 'RECEIVED_NEW_POST', features: {crtEnabled: false}, data: {
                    id: 'rffilepost0000000000000000a', channel_id: channelId, user_id: me, message: 'with a file', type: '', props: {}, root_id: '',
                    create_at: at, update_at: at, delete_at: 0, edit_at: 0,
                    metadata: {files: [{id: 'rffile00000000000000000000', name: 'notes.txt', extension: 'txt', size: 5, mime_type: 'text/plain'}]},
                }});
            }, town.id);
            const withFile = page.locator('.post[data-post-id="rffilepost0000000000000000a"]');
            await withFile.locator('button >> text=notes.txt').click();
            await page.waitForSelector('.file-preview .rf-file-preview >> text=Preview of notes.txt');
            await page.click('button[aria-label="Close preview"]');
            await withFile.hover();
            await withFile.locator('button[aria-label="Actions for notes.txt"]').click();
            await page.click('[role=menuitem] >> text=RF file action');
            assert.deepEqual(await calls(page, 'fileMenu'), ['notes.txt']);
            // Global header: user guide, search with the plugin's components, product switcher items, settings.
            await page.click('button[aria-label="Help"]');
            await page.click('[role=menuitem] >> text=RF guide');
            assert.ok(await calls(page, 'userGuide'));
            await page.click('input[aria-label="Search"]');
            await page.fill('input[aria-label="Search"]', 'needle');
            await page.click('.search-button >> .rf-search-button');
            await page.waitForSelector('.rf-search-suggestions >> text=Suggestions for needle');
            await page.waitForSelector('.rf-search-hints');
            await page.press('input[aria-label="Search"]', 'Enter');
            assert.deepEqual(await calls(page, 'search'), ['needle']);
            await page.click('.main-menu-button');
            assert.equal(await page.locator('text=RF hidden switcher').count(), 0);
            await page.click('[role=menuitem] >> text=RF switcher');
            assert.ok(await calls(page, 'switcher'));
            await page.click('.main-menu-button');
            await page.click('[role=menuitem] >> text=RF main menu');
            assert.ok(await calls(page, 'mainMenu'));
            await page.click('.main-menu-button');
            await page.click('[role=menuitem] >> text=Settings');
            await page.click('.user-settings [role=tab] >> text=RF settings');
            await page.waitForSelector('.user-settings .rf-settings-component');
            await page.check('.user-settings input[value=off]');
            await page.click('.user-settings button >> text=Save');
            assert.deepEqual(await calls(page, 'settingsSubmit'), [{rf_mode: 'off'}]);
            await page.click('.user-settings button[aria-label="Close"]');
            // Sidebar "+" menu: the plugin's entry and its channel type.
            await page.click('button[aria-label="Browse or create channels"]');
            await page.click('[role=menuitem] >> text=RF add');
            assert.ok(await calls(page, 'browseOrAdd'));
            await page.click('button[aria-label="Browse or create channels"]');
            await page.click('[role=menuitem] >> text=New RF room');
            await page.fill('.host-modal input', 'Ops room');
            await page.click('.host-modal button >> text=Create RF room');
            assert.deepEqual(await calls(page, 'channelType'), ['Ops room']);
            // AI menu: an action item and a component item.
            await page.click('button[aria-label="AI actions"]');
            await page.waitForSelector('.ai-menu .rf-ai-component');
            await page.click('.ai-menu [role=menuitem] >> text=RF summarize');
            assert.deepEqual(await calls(page, 'ai'), [town.id]);
            // App bar icon.
            await page.click('.app-bar-icon[aria-label="RF app"]');
            assert.deepEqual(await calls(page, 'appBar'), [town.id]);

            // unregisterComponent removes each of them.
            for (const [key, selector] of [
                ['root', '.rf-root'], ['global', '.rf-global'], ['leftSidebarHeader', '.rf-lsh'], ['bottomTeamSidebar', '.rf-bts'],
                ['sidebarLabel', '.rf-label'], ['iconOverride', '[data-icon-name="rf-icon"]'], ['headerIcon', '.rf-header-icon'],
                ['toast', '.rf-toast'], ['banner', '.rf-banner'], ['editorAction', '.rf-editor-action'], ['postHeader', '.rf-post-header'],
                ['postAction', '.rf-post-action'], ['attachment', '.rf-attachment'], ['separator', '.rf-separator'],
                ['codeAction', '.rf-code-action'], ['postType', '.rf-post-type'], ['appBar', '.app-bar-icon[aria-label="RF app"]'],
                ['introButton', '.channel-intro button >> text=RF intro button'],
            ]) {
                await unregistered(page, key, selector);
            }
            // Unregistered post type: the plain message again; one call button left: a button, no dropdown.
            await post('card body').locator('.post-message').waitFor();
            await unregistered(page, 'headerButton1', '.rf-hb1');
            await page.evaluate(() => window.rf.unregister('call1'));
            await page.waitForSelector('.channel-header-actions .call-button .rf-call2');
            assert.equal(await page.locator('button[aria-label="Start call"]').count(), 0);
            await page.evaluate(() => window.rf.unregister('placeholder'));
            await page.waitForFunction(() => !document.querySelector('textarea[aria-label="Write a message"]').placeholder.includes('(rf:'));
            await page.evaluate(() => window.rf.unregister('headerMenu'));
            assert.equal(await page.locator('button[aria-label="Channel menu"]').count(), 0);
        }));

        it('renders the channel intro override, routes, product with its header, and the RHS', withShots(`views-${webpack}`, shots, async (t) => {
            if (!chrome) {
                return t.skip('no Chromium');
            }
            const page = await open('bob', '/engineering/channels/dev-talk');
            await page.waitForSelector('.channel-intro .rf-intro >> text=RF intro of dev-talk');
            await page.goto(server.url + '/engineering/e2e.registry/page');
            await page.waitForSelector('.rf-needs-team');
            await page.goto(server.url + '/plug/e2e.registry/custom');
            await page.waitForSelector('.rf-custom');
            await page.waitForFunction(() => window.rf?.ids?.product);
            await page.click('.main-menu-button');
            await page.click('[role=menuitem] >> text=RF product');
            await page.waitForSelector('.rf-product-main');
            assert.match(page.url(), /\/rf-product$/);
            await page.waitForSelector('.global-header .rf-product-centre');
            await page.waitForSelector('.global-header .rf-product-right');
            assert.equal(await page.locator('.team-sidebar').count(), 0, 'showTeamSidebar: false');
            assert.equal(await page.locator('.app-bar').count(), 1);
        }));

        it('runs the hooks and handlers: post, slash, update, upload, desktop notification, websocket, reconnect', withShots(`hooks-${webpack}`, shots, async (t) => {
            if (!chrome) {
                return t.skip('no Chromium');
            }
            const page = await open('bob');
            const box = 'textarea[aria-label="Write a message"]';
            // Message-will-be-posted rewrites.
            await page.fill(box, 'rf: loud words');
            await page.press(box, 'Enter');
            const mine = page.locator('.post', {has: page.locator('.post-message >> text=LOUD WORDS')});
            await mine.waitFor();
            // Message-will-be-updated, on an edit of one's own post.
            await mine.hover();
            await mine.locator('button[aria-label="More actions"]').click();
            await page.click('[role=menuitem] >> text=Edit');
            await page.fill('textarea[aria-label="Edit message"]', 'calmer words');
            await page.press('textarea[aria-label="Edit message"]', 'Enter');
            await page.waitForSelector('.post-message >> text=calmer words (was: LOUD WORDS)');
            // Slash hooks: {} swallows; nothing returned lets the command through unchanged (the sandbox has no commands: its error shows it got there).
            await page.fill(box, '/rf-swallow now');
            await page.press(box, 'Enter');
            await page.waitForFunction(() => window.rf.calls.slash?.includes('/rf-swallow now'));
            assert.equal(await page.locator('.post-box .error').count(), 0);
            await page.fill(box, '/rf-pass along');
            await page.press(box, 'Enter');
            await page.waitForSelector('.post-box .error >> text=/Command \\/rf-pass failed/');
            // Files: the upload method hands a file over, the files-will-upload hook filters what is chosen.
            await page.click('button[aria-label="Attach files"]');
            await page.click('[role=menuitem] >> text=RF cloud');
            await page.waitForSelector('.pending-files >> text=from-plugin.txt');
            await page.setInputFiles('input[aria-label="Files to attach"]', [
                {name: 'chosen.txt', mimeType: 'text/plain', buffer: Buffer.from('a')},
                {name: 'blocked.txt', mimeType: 'text/plain', buffer: Buffer.from('b')},
            ]);
            await page.waitForSelector('.pending-files >> text=chosen.txt');
            assert.equal(await page.locator('.pending-files >> text=blocked.txt').count(), 0);
            assert.deepEqual((await calls(page, 'filesWillUpload')).at(-1), ['chosen.txt', 'blocked.txt']);
            // Websocket handler and the plugin's reducer; desktop notification hook for a post elsewhere.
            await api(server, aliceToken, 'POST', '/api/v4/posts', {channel_id: devTalk.id, message: 'ping from dev talk'});
            await page.waitForFunction(() => window.rf.calls.desktop?.some((d) => d.message === 'ping from dev talk'));
            assert.equal((await calls(page, 'desktop')).find((d) => d.message === 'ping from dev talk').title, 'Dev Talk');
            assert.ok((await page.evaluate(() => window.rf.read().reducer.posted)) >= 1);
            assert.equal(await calls(page, 'never'), undefined);
            // Reconnect handlers run when /api/v4/websocket reconnects.
            assert.equal(await calls(page, 'reconnect'), undefined);
            await page.evaluate(() => window.mmtoolkitHost.mmSocket.conn.close());
            await waitCall(page, 'reconnect');
            await page.evaluate(() => window.rf.unregisterReconnect());
            assert.equal(await page.evaluate(() => window.mmtoolkitHost.slots.list('websocket_event').filter((r) => r.key === '__reconnect__').length), 0);
            // What returns nothing in Mattermost returns nothing here.
            for (const name of ['adminPlugin', 'adminSetting', 'adminSection', 'unregisterAdmin', 'siteStats', 'userSettings', 'popoutListener']) {
                assert.deepEqual(await calls(page, name), [true], name);
            }
            // (The sandbox stores no files: drop them before posting.)
            await page.click('button[aria-label="Remove from-plugin.txt"]');
            await page.click('button[aria-label="Remove chosen.txt"]');
            // unregisterComponent removes hooks too.
            await page.evaluate(() => window.rf.unregister('willBePosted'));
            await page.fill(box, 'rf: quiet');
            await page.press(box, 'Enter');
            await page.waitForSelector('.post-message >> text=rf: quiet');
            // registerPlugin again with the same id uninitializes the old object first, as Mattermost.
            await page.evaluate(() => window.registerPlugin('e2e.registry', {initialize() {}}));
            assert.deepEqual(await calls(page, 'uninitialize'), [true]);
        }));
    });
}
