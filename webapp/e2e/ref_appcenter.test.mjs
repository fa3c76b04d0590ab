// The App Center reference plugin (plugins/appcenter) in Chromium: a team
// admin opens it from the app bar and installs the performance review app;
// a member sees it installed but cannot change it, opens it from the main
// menu, is told what is wrong with an incomplete form, submits a review and
// finds it in their list; another team's member does not see the install;
// and a team admin's disable removes the plugin live.
import assert from 'node:assert/strict';
import {mkdirSync} from 'node:fs';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {api, binary, cli, launch, loggedInPage, login, repoDir, startServer, withShots} from './harness.mjs';
import {screenshotsDir} from './screenshots.mjs';

const PLUGIN = 'mmtoolkit.appcenter';
const shotsDir = screenshotsDir; // docs/screenshots only under `make screenshots`
const YEAR = '2026';

describe('appcenter reference plugin', () => {
    let bin;
    let server;
    let chrome;
    let tokens;
    let teams;
    let alicePage;
    let bobPage;
    const pages = [];
    const shots = () => pages;

    const open = async (user, p) => {
        const page = await loggedInPage(chrome.browser, server, user, p);
        await page.waitForFunction(() => window.mmtoolkitHost?.store.getState().plugins.settledAt > 0);
        pages.push(page);
        return page;
    };
    const kv = (user, method, key, body, headers = {}) => fetch(`${server.url}/api/v1/plugins/${PLUGIN}/kv/${key}`, {
        method,
        headers: {Authorization: `Bearer ${tokens[user]}`, 'Content-Type': 'application/json', 'X-Requested-With': 'XMLHttpRequest', ...headers},
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const appCard = (page, app) => page.locator(`.appcenter-card[data-app="${app}"]`);
    const appBarIcon = (page) => page.locator('.app-bar-icon[aria-label="Open the App Center"]');

    before(async () => {
        bin = await binary();
        // Pushed here with the real CLI whether or not the server preinstalled
        // it (an identical push is a no-op).
        server = await startServer(bin, {referencePlugins: false});
        chrome = await launch();
        await cli(bin, server, 'admin', 'push', path.join(repoDir, 'plugins', 'appcenter'));
        await cli(bin, server, 'alice', 'enable', '--team', 'engineering', '--plugin', PLUGIN);
        await cli(bin, server, 'admin', 'enable', '--team', 'sales', '--plugin', PLUGIN);
        tokens = Object.fromEntries(await Promise.all(['alice', 'bob', 'carol'].map(async (u) => [u, await login(server, u)])));
        teams = {
            engineering: await api(server, tokens.bob, 'GET', '/api/v4/teams/name/engineering'),
            sales: await api(server, tokens.carol, 'GET', '/api/v4/teams/name/sales'),
        };
        mkdirSync(shotsDir, {recursive: true});
    });
    after(async () => {
        for (const p of pages) {
            await p.context().close().catch(() => undefined);
        }
        await chrome?.close();
        await server?.stop();
    });

    it('lets a team admin install the review app from the app bar icon', withShots('appcenter-install', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const alice = await open('alice');
        alicePage = alice;
        await appBarIcon(alice).click();
        await alice.waitForURL(/\/engineering\/mmtoolkit\.appcenter$/);
        await alice.getByRole('heading', {name: 'App Center', level: 1}).waitFor();
        await alice.getByText('You are an admin of this team').waitFor();
        const review = appCard(alice, 'review');
        await review.getByText('Not installed').waitFor();
        // Not installed: no way to open it yet.
        assert.equal(await review.getByRole('link', {name: 'Open'}).count(), 0);
        await review.getByRole('button', {name: 'Install: Annual performance review'}).click();
        await review.getByText('Installed', {exact: true}).waitFor();
        assert.equal(await review.getAttribute('data-installed'), 'true');
        await review.getByRole('button', {name: 'Uninstall: Annual performance review'}).waitFor();
        // Stored in the team's KV space, readable by a member.
        const res = await kv('bob', 'GET', `team:${teams.engineering.id}/installed`);
        assert.equal(res.status, 200);
        const value = await res.json();
        assert.deepEqual(Object.keys(value.apps), ['review']);
        assert.match(res.headers.get('ETag'), /^"\d+"$/);
        await alice.screenshot({path: path.join(shotsDir, 'appcenter.png')});
        // Its second language reaches the host through registerTranslations.
        const de = await alice.evaluate((id) => window.mmtoolkitHost.slots.list('translations').
            find((r) => r.pluginId === id).hook('de'), PLUGIN);
        assert.equal(de['appcenter.install'], 'Installieren');
        assert.equal(de['app.review.name'], 'Jährliches Mitarbeitergespräch');
    }));

    it('shows a member what is installed, without letting them change it', withShots('appcenter-member', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const bob = await open('bob', '/engineering/channels/town-square');
        bobPage = bob;
        await bob.click('.main-menu-button');
        await bob.getByRole('menuitem', {name: 'App Center'}).click();
        await bob.waitForURL(/\/engineering\/mmtoolkit\.appcenter$/);
        const note = bob.locator('#appcenter-permission');
        await note.getByText('Only team admins can install or uninstall apps').waitFor();
        await appCard(bob, 'review').getByText('Installed', {exact: true}).waitFor();
        for (const [app, verb] of [['review', 'Uninstall'], ['jira', 'Install'], ['github', 'Install']]) {
            const button = appCard(bob, app).getByRole('button', {name: new RegExp(`^${verb}: `)});
            assert.equal(await button.isDisabled(), true, `${app} ${verb} disabled for a member`);
            assert.equal(await button.getAttribute('aria-describedby'), 'appcenter-permission');
        }
        // The server refuses a member's write as well, whatever the page shows.
        const res = await kv('bob', 'PUT', `team:${teams.engineering.id}/installed`, {apps: {}});
        assert.equal(res.status, 403);
        assert.equal((await res.json()).error.code, 'not_team_admin');

        // Another admin's install reaches an open page live (plugin event).
        const alice = alicePage;
        await appCard(alice, 'jira').getByRole('button', {name: 'Install: Jira'}).click();
        await appCard(bob, 'jira').getByText('Installed', {exact: true}).waitFor({timeout: 5000});
        await appCard(alice, 'jira').getByRole('button', {name: 'Uninstall: Jira'}).click();
        await appCard(bob, 'jira').getByText('Not installed').waitFor({timeout: 5000});
        assert.deepEqual(Object.keys((await (await kv('bob', 'GET', `team:${teams.engineering.id}/installed`)).json()).apps), ['review']);

        // The Jira guide is readable by everyone.
        await appCard(bob, 'jira').getByRole('link', {name: 'Setup guide'}).click();
        await bob.getByRole('heading', {name: 'Send Jira updates with Jira Automation'}).waitFor();
        await bob.getByText('Send web request').first().waitFor();
        await bob.getByRole('link', {name: /Back to the App Center/}).click();
        await bob.waitForURL(/\/engineering\/mmtoolkit\.appcenter$/);
    }));

    it('lets a member submit a review, checked first, and find it in their list', withShots('appcenter-review', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const bob = bobPage;
        await appCard(bob, 'review').getByRole('link', {name: 'Open'}).click();
        await bob.waitForURL(/\/engineering\/mmtoolkit\.appcenter\/review$/);
        await bob.getByText('You have not submitted a review in this team yet.').waitFor();
        const form = bob.locator('form.review-form');
        const reviewee = form.getByLabel('Teammate to review');
        // Teammates of engineering only, without the reviewer.
        await bob.waitForFunction(() => document.querySelectorAll('#review-reviewee_id option').length > 1);
        const options = await reviewee.locator('option').allTextContents();
        assert.ok(options.includes('Alice Anders (@alice)'), options.join(', '));
        assert.ok(!options.some((o) => o.includes('@bob') || o.includes('@carol')), options.join(', '));

        // An empty form: every problem named, focus on the summary.
        await form.getByRole('button', {name: 'Submit review'}).click();
        const summary = form.locator('.review-summary');
        await summary.waitFor();
        assert.match(await summary.textContent(), /Please fix 7 problems before submitting/);
        assert.equal(await summary.evaluate((el) => el === document.activeElement), true);
        assert.equal(await form.locator('#review-reviewee_id-error').textContent(), 'Choose the teammate you are reviewing.');
        assert.equal(await reviewee.getAttribute('aria-invalid'), 'true');
        assert.equal(await form.locator('.review-rating .review-field-error').getByText('Choose a rating from 1 to 5.').count(), 5);
        assert.equal(await form.locator('#review-comments-error').textContent(), 'Write at least 20 characters (now 0).');

        // Filled in: problems clear as they are fixed.
        await reviewee.selectOption({label: 'Alice Anders (@alice)'});
        await form.getByLabel('Review period').selectOption(YEAR);
        const ratings = {'Quality of work': 5, 'Delivery and ownership': 4, Collaboration: 5, Communication: 4, 'Learning and growth': 3};
        for (const [criterion, rating] of Object.entries(ratings)) {
            const group = form.getByRole('radiogroup', {name: criterion});
            await group.getByRole('radio', {name: `${rating} of 5`}).check();
        }
        // Keyboard: arrow keys move within a radio group.
        const growth = form.getByRole('radiogroup', {name: 'Learning and growth'});
        await growth.getByRole('radio', {name: '3 of 5'}).focus();
        await bob.keyboard.press('ArrowRight');
        assert.equal(await growth.getByRole('radio', {name: '4 of 5'}).isChecked(), true);
        await form.getByLabel('Comments').fill('Too short');
        await form.locator('#review-comments-error').getByText('Write at least 20 characters (now 9).').waitFor();
        assert.match(await summary.textContent(), /Please fix 1 problem before submitting/);
        await form.getByLabel('Comments').fill('Led the plugin host work and mentored two new engineers.');
        await summary.waitFor({state: 'detached'});
        await form.getByRole('button', {name: 'Submit review'}).click();
        await bob.getByRole('status').getByText(`Your review of Alice Anders (@alice) for ${YEAR} was submitted.`).waitFor();

        // Listed, and stored in bob's own KV space.
        const item = bob.locator('.review-list li');
        await item.getByRole('link', {name: `Alice Anders (@alice), ${YEAR}`}).waitFor();
        assert.match(await item.textContent(), /Average 4\.4/);
        const stored = await (await kv('bob', 'GET', `user?prefix=reviews/${teams.engineering.id}/`)).json();
        assert.equal(stored.entries.length, 1);
        assert.equal(stored.entries[0].value.reviewee_name, 'Alice Anders (@alice)');
        assert.equal(stored.entries[0].value.period, YEAR);
        assert.deepEqual(stored.entries[0].value.ratings, {quality: 5, delivery: 4, collaboration: 5, communication: 4, growth: 4});
        // Private to its author: alice does not see bob's review under her key space.
        const aliceList = await (await kv('alice', 'GET', `user?prefix=reviews/`)).json();
        assert.equal(aliceList.entries.length, 0);
        await bob.evaluate(() => document.querySelectorAll('main.center, .plugin-view, .appcenter').forEach((el) => el.scrollTo(0, 0)));
        await bob.screenshot({path: path.join(shotsDir, 'appcenter-review.png')});

        // A second review of the same person and year is refused with a clear message.
        await form.getByLabel('Teammate to review').selectOption({label: 'Alice Anders (@alice)'});
        for (const criterion of Object.keys(ratings)) {
            await form.getByRole('radiogroup', {name: criterion}).getByRole('radio', {name: '3 of 5'}).check();
        }
        await form.getByLabel('Comments').fill('A second opinion on the same year.');
        await form.getByRole('button', {name: 'Submit review'}).click();
        await form.getByText(`You already submitted a review of Alice Anders (@alice) for ${YEAR}.`).waitFor();

        // Open it to read it.
        await item.getByRole('link', {name: `Alice Anders (@alice), ${YEAR}`}).click();
        await bob.getByRole('heading', {name: `Review of Alice Anders (@alice) for ${YEAR}`}).waitFor();
        await bob.getByText('Led the plugin host work and mentored two new engineers.').waitFor();
        assert.match(await bob.locator('.review-detail-ratings').textContent(), /Quality of work.*5 of 5.*Learning and growth.*4 of 5/);
    }));

    it("keeps a team's installs to that team", withShots('appcenter-teams', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const carol = await open('carol', '/sales/mmtoolkit.appcenter');
        await carol.getByRole('heading', {name: 'App Center', level: 1}).waitFor();
        await appCard(carol, 'review').getByText('Not installed').waitFor();
        assert.equal(await appCard(carol, 'review').getByRole('link', {name: 'Open'}).count(), 0);
        // The review app's own URL says it is not installed here.
        await carol.goto(`${server.url}/sales/mmtoolkit.appcenter/review`);
        await carol.locator('.appcenter-not-installed').getByText('not installed for this team').waitFor();
        assert.equal(await carol.locator('form.review-form').count(), 0);
        // And engineering's KV space is closed to her.
        const res = await kv('carol', 'GET', `team:${teams.engineering.id}/installed`);
        assert.equal(res.status, 403);
    }));

    it('disappears live when disabled for a team', withShots('appcenter-disable', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const bob = await open('bob', '/engineering/mmtoolkit.appcenter/review');
        await bob.locator('form.review-form').waitFor();
        await appBarIcon(bob).waitFor();
        const carol = pages.find((p) => p.url().includes('/sales/mmtoolkit.appcenter')) ?? await open('carol', '/sales/mmtoolkit.appcenter');
        await bob.evaluate(() => {
            window.notReloaded = true;
        });
        await cli(bin, server, 'alice', 'disable', '--team', 'engineering', '--plugin', PLUGIN);
        // The open view falls back to the host's notice, the entries go.
        await bob.locator('.plugin-view.empty').getByText(`No plugin ${PLUGIN} is enabled for this team.`).waitFor({timeout: 5000});
        assert.equal(await bob.locator('.appcenter').count(), 0);
        assert.equal(await appBarIcon(bob).count(), 0);
        await bob.click('.main-menu-button');
        assert.equal(await bob.getByRole('menuitem', {name: 'App Center'}).count(), 0);
        assert.equal(await bob.evaluate(() => window.notReloaded), true);
        // Sales keeps it.
        assert.equal(await appBarIcon(carol).count(), 1);
        assert.equal(await carol.locator('.appcenter').count(), 1);
    }));
});
