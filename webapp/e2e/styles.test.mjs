// The page styles real Mattermost plugins take for granted: Font Awesome
// 4.7 and compass-icons glyphs, bootstrap 3's CSS for react-bootstrap 0.33
// markup. The fixture (e2e/webpack/plugins/styles) is built by real webpack
// 5 with the starter template's configuration (ReactBootstrap a bare
// external) and pushed as a prebuilt Mattermost plugin. And the cost side:
// a team whose plugins are all compiled by mmtoolkit without those classes
// (the reference plugins) loads none of these styles.
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';

import {api, binary, cli, launch, loggedInPage, login, startServer, withShots} from './harness.mjs';
import {fixtureSrc, pluginDir} from './webpack/build.mjs';

// Any request for these styles or the fonts they name.
const styleRequest = /\/static\/(icons|react-bootstrap)\.[^/]*\.css$|\.(woff2?|ttf|eot)(\?|$)|\/static\/(fontawesome|compass-icons|glyphicons)/;

describe('page styles for webpack-built plugins', () => {
    let bin;
    let server;
    let chrome;
    let dir;
    const pages = [];
    const shots = () => pages;

    before(async () => {
        bin = await binary();
        server = await startServer(bin, {referencePlugins: true});
        chrome = await launch();
        dir = await pluginDir(fixtureSrc('styles'), {webpack: 5});
    });
    after(async () => {
        for (const p of pages) {
            await p.context().close().catch(() => undefined);
        }
        await chrome?.close();
        await server?.stop();
    });

    it('a prebuilt plugin draws Font Awesome and compass-icons glyphs, and its react-bootstrap Modal looks and closes as in Mattermost', withShots('styles-prebuilt', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        await cli(bin, server, 'dev', 'push', dir);
        await cli(bin, server, 'alice', 'enable', '--team', 'engineering', '--plugin', 'e2e.styles');
        const errors = [];
        const page = await loggedInPage(chrome.browser, server, 'bob', '/engineering/channels/town-square');
        pages.push(page);
        page.on('pageerror', (e) => errors.push(e.message));

        // Both glyphs drawn, in their icon fonts, once those fonts loaded.
        await page.locator('.styles-fa').waitFor();
        await page.locator('.styles-compass').waitFor();
        await page.waitForFunction(() => document.fonts.check('14px FontAwesome') && document.fonts.check('14px compass-icons') &&
            [...document.fonts].filter((f) => f.status === 'loaded').map((f) => f.family.replace(/"/g, '')).filter((f) => f === 'FontAwesome' || f === 'compass-icons').length === 2);
        const icons = await page.evaluate(() => {
            const fa = document.querySelector('.styles-fa');
            const compass = document.querySelector('.styles-compass');
            return {
                faWidth: fa.getBoundingClientRect().width,
                faFont: getComputedStyle(fa).fontFamily,
                faGlyph: getComputedStyle(fa, '::before').content,
                compassWidth: compass.getBoundingClientRect().width,
                compassFont: getComputedStyle(compass, '::before').fontFamily,
                compassGlyph: getComputedStyle(compass, '::before').content,
            };
        });
        assert.ok(icons.faWidth > 0, `fa fa-plug is ${icons.faWidth} px wide`);
        assert.match(icons.faFont, /FontAwesome/);
        assert.notEqual(icons.faGlyph, 'none');
        assert.ok(icons.compassWidth > 0, `icon icon-brand-zoom is ${icons.compassWidth} px wide`);
        assert.match(icons.compassFont, /compass-icons/);
        assert.notEqual(icons.compassGlyph, 'none');
        // The fonts came from the host (only woff2, the first format
        // Chromium takes), served immutable.
        const fonts = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).filter((u) => /\.(woff2?|ttf|eot|svg)(\?|$)/.test(u)));
        assert.equal(fonts.length, 2, `font requests ${fonts}`);
        for (const u of fonts) {
            assert.match(u, /^[^?]+\/static\/(fontawesome-webfont|compass-icons)\.[A-Z0-9]+\.woff2\?/);
            const r = await page.request.get(u);
            assert.equal(r.status(), 200, u);
            assert.equal(r.headers()['cache-control'], 'public, max-age=31536000, immutable', u);
            assert.match(r.headers()['content-type'], /^font\/woff2/, u);
        }

        // The main menu's action opens a react-bootstrap Modal: bootstrap's CSS
        // makes it a centred dialog over a half-opaque backdrop.
        await page.click('.main-menu-button');
        await page.click('text=Create issue');
        const dialog = page.locator('.modal-dialog.styles-modal');
        await dialog.waitFor({state: 'visible'});
        await page.waitForFunction(() => {
            const b = document.querySelector('.modal-backdrop.in');
            return b && Number(getComputedStyle(b).opacity) > 0.4; // the fade has ended
        });
        const m = await page.evaluate(() => {
            const d = document.querySelector('.modal-dialog.styles-modal').getBoundingClientRect();
            const b = document.querySelector('.modal-backdrop.in');
            const br = b.getBoundingClientRect();
            const content = document.querySelector('.styles-modal .modal-content');
            return {
                left: d.left, width: d.width, top: d.top, vw: innerWidth, vh: innerHeight,
                backdrop: {opacity: Number(getComputedStyle(b).opacity), position: getComputedStyle(b).position, width: br.width, height: br.height, color: getComputedStyle(b).backgroundColor},
                contentBg: getComputedStyle(content).backgroundColor,
                primary: getComputedStyle(document.querySelector('.styles-modal .btn-primary')).backgroundColor,
            };
        });
        assert.ok(m.width > 0 && m.width < m.vw, `dialog ${m.width} px wide in ${m.vw}`);
        assert.ok(Math.abs(m.left + m.width / 2 - m.vw / 2) <= 2, `dialog centred: left ${m.left}, width ${m.width}, viewport ${m.vw}`);
        assert.ok(m.top >= 0 && m.top < m.vh / 2, `dialog near the top: ${m.top}`);
        assert.ok(m.backdrop.opacity > 0 && m.backdrop.opacity < 1, `backdrop opacity ${m.backdrop.opacity}`);
        assert.equal(m.backdrop.position, 'fixed');
        assert.deepEqual([m.backdrop.width, m.backdrop.height], [m.vw, m.vh]);
        assert.equal(m.backdrop.color, 'rgb(0, 0, 0)');
        assert.equal(m.contentBg, 'rgb(255, 255, 255)');
        assert.equal(m.primary, 'rgb(51, 122, 183)'); // bootstrap 3's .btn-primary

        // Closing works: the dialog and its backdrop go.
        await page.click('.styles-close');
        await page.locator('.modal-dialog.styles-modal').waitFor({state: 'detached'});
        await page.locator('.modal-backdrop').waitFor({state: 'detached'});
        assert.deepEqual(errors, []);
    }));

    it('a team whose plugins mmtoolkit compiled without those classes loads none of these styles', withShots('styles-compiled', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const token = await login(server, 'carol');
        const team = await api(server, token, 'GET', '/api/v4/teams/name/sales');
        const manifest = await api(server, token, 'GET', `/api/v1/manifest?team=${team.id}&platform=web`);
        assert.ok(manifest.plugins.length >= 3, `the reference plugins are enabled for sales: ${JSON.stringify(manifest.plugins.map((p) => p.id))}`);
        for (const p of manifest.plugins) {
            assert.ok(!p.host_modules.includes('icons') && !p.host_modules.includes('react-bootstrap'), `${p.id}: ${p.host_modules}`);
        }

        // Counted on a fresh page of each team: sales (compiled plugins
        // only) requests none; engineering, which has the prebuilt fixture
        // since the test above, requests them, so the count can see them.
        const styleRequests = async (user, team, plugins) => {
            const requests = [];
            const context = await chrome.browser.newContext({viewport: {width: 1280, height: 800}});
            const page = await context.newPage();
            pages.push(page);
            await page.goto(server.url + '/login');
            await page.fill('input[name=loginId]', user);
            await page.fill('input[name=password]', 'mmtoolkit');
            await page.click('button[type=submit]');
            await page.waitForSelector('.channel-header h2');
            page.on('request', (r) => requests.push(r.url()));
            await page.goto(`${server.url}/${team}/channels/town-square`);
            await page.waitForFunction((n) => window.mmtoolkitHost?.store.getState().plugins.settledAt > 0 &&
                Object.keys(window.plugins ?? {}).length >= n, plugins);
            await page.waitForLoadState('networkidle');
            return {page, styles: requests.filter((u) => styleRequest.test(u))};
        };
        const sales = await styleRequests('carol', 'sales', manifest.plugins.length);
        assert.deepEqual(sales.styles, [], 'requests for styles no plugin needs');
        assert.equal(await sales.page.locator('link[data-host-style], link[rel=preload][as=style]').count(), 0);
        const engineering = await styleRequests('bob', 'engineering', manifest.plugins.length + 1);
        assert.ok(engineering.styles.some((u) => /\/static\/icons\./.test(u)) && engineering.styles.some((u) => /\/static\/react-bootstrap\.[^/]*\.css$/.test(u)),
            `engineering (a prebuilt plugin using react-bootstrap) asked ${JSON.stringify(engineering.styles)}`);
    }));
});
