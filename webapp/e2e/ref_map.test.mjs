// The map reference plugin (plugins/map) in Chromium: /location posts a place
// that renders as an SVG map drawn from the bundled Natural Earth data (the
// geography checked against d3-geo in Node, no request leaves the origin), a
// bad command is refused in the composer, "Show on map" opens a message's
// coordinates in the RHS, and a team admin's disable removes it live.
import assert from 'node:assert/strict';
import {mkdirSync} from 'node:fs';
import {gzipSync} from 'node:zlib';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {api, binary, cli, launch, loggedInPage, login, repoDir, startServer, withShots} from './harness.mjs';
import {screenshotsDir} from './screenshots.mjs';

const PLUGIN = 'mmtoolkit.map';
const shotsDir = screenshotsDir; // docs/screenshots only under `make screenshots`
// The plugin's own d3-geo (vendored in its package), to project places in Node.
const d3 = await import(path.join(repoDir, 'plugins', 'map', 'node_modules', 'd3-geo', 'dist', 'd3-geo.mjs'));

describe('map reference plugin', () => {
    let bin;
    let server;
    let chrome;
    let bobToken;
    let town;
    const pages = [];
    const shots = () => pages;

    /** A logged-in page that records every request it makes. */
    const open = async (user, p) => {
        const page = await loggedInPage(chrome.browser, server, user, p);
        page.requests = [];
        page.on('request', (r) => page.requests.push(r.url()));
        await page.waitForFunction(() => window.mmtoolkitHost?.store.getState().plugins.settledAt > 0);
        pages.push(page);
        return page;
    };
    const postsOf = async (channelId) => {
        const list = await api(server, bobToken, 'GET', `/api/v4/channels/${channelId}/posts?per_page=200`);
        return list.order.map((id) => list.posts[id]);
    };
    const postEl = (page, postId) => page.locator(`.post[data-post-id="${postId}"]`);
    // The items of a post's "More actions" menu (none when it has no menu:
    // the host hides an empty one; its own posts always have Edit).
    const menuItems = async (page, postId) => {
        const post = postEl(page, postId);
        if (await post.locator('.post-menu').count() === 0) {
            return [];
        }
        await post.hover();
        await post.locator('button[aria-label="More actions"]').click();
        const items = await post.locator('.post-menu [role=menuitem]').allTextContents();
        await post.locator('button[aria-label="More actions"]').click();
        return items;
    };
    /** The map's projection rebuilt from its data attributes, as the plugin builds it. */
    const projectionOf = async (svg) => {
        const [lng, lat] = (await svg.getAttribute('data-center')).split(',').map(Number);
        const scale = Number(await svg.getAttribute('data-scale'));
        const [, , w, h] = (await svg.getAttribute('viewBox')).split(' ').map(Number);
        return {w, h, project: d3.geoAzimuthalEquidistant().rotate([-lng, -lat]).translate([w / 2, h / 2]).scale(scale)};
    };
    /** Whether a projected point of the map lies on the drawn land (SVG isPointInFill). */
    const onLand = (svg, [x, y]) => svg.evaluate((el, pt) => {
        const land = el.querySelector('path.map-land');
        const p = el.createSVGPoint();
        p.x = pt[0];
        p.y = pt[1];
        return land.isPointInFill(p);
    }, [x, y]);

    before(async () => {
        bin = await binary();
        // Pushed here with the real CLI whether or not the server preinstalled
        // it (an identical push is a no-op).
        server = await startServer(bin, {referencePlugins: false});
        chrome = await launch();
        await cli(bin, server, 'admin', 'push', path.join(repoDir, 'plugins', 'map'));
        await cli(bin, server, 'alice', 'enable', '--team', 'engineering', '--plugin', PLUGIN);
        await cli(bin, server, 'admin', 'enable', '--team', 'sales', '--plugin', PLUGIN);
        bobToken = await login(server, 'bob');
        town = await api(server, bobToken, 'GET', '/api/v4/teams/name/engineering/channels/name/town-square');
        mkdirSync(shotsDir, {recursive: true});
    });
    after(async () => {
        for (const p of pages) {
            await p.context().close().catch(() => undefined);
        }
        await chrome?.close();
        await server?.stop();
    });

    it('keeps the web bundle, map data included, under 250 KB gzip', async () => {
        // The server precompresses in the background: wait for its figure.
        let web;
        for (let i = 0; i < 100 && !web?.gzip_size; i++) {
            const info = await api(server, bobToken, 'GET', `/api/v1/plugins/${PLUGIN}`);
            web = info.versions.find((v) => v.version === info.plugin.latest).bundles.web;
            if (!web.gzip_size) {
                await new Promise((r) => setTimeout(r, 100));
            }
        }
        assert.ok(web.gzip_size, 'the server never reported a gzip size');
        assert.ok(web.gzip_size < 250 * 1024, `server gzip ${web.gzip_size} B is over 250 KB`);
        // The bytes served, gzipped here at the highest level, agree.
        const raw = Buffer.from(await (await fetch(server.url + web.url, {headers: {'Accept-Encoding': 'identity'}})).arrayBuffer());
        assert.equal(raw.length, web.size);
        assert.ok(raw.includes('Topology'), 'the map data is not in the bundle');
        const gz = gzipSync(raw, {level: 9}).length;
        assert.ok(gz < 250 * 1024, `gzip -9 ${gz} B is over 250 KB`);
    });

    it('posts /location as a map with the marker and label, offline', withShots('map-post', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const page = await open('bob', '/engineering/channels/town-square');
        await page.fill('textarea', '/location 48.8584,2.2945 Eiffel Tower');
        await page.keyboard.press('Enter');
        // The post was made through the proxy with the sandbox's prop shape.
        let post;
        for (let i = 0; i < 50 && !post; i++) {
            post = (await postsOf(town.id)).find((p) => p.type === 'custom_map_location' && p.props.label === 'Eiffel Tower');
            if (!post) {
                await page.waitForTimeout(100);
            }
        }
        assert.ok(post, 'no custom_map_location post was created');
        assert.deepEqual(post.props, {latitude: 48.8584, longitude: 2.2945, label: 'Eiffel Tower'});
        assert.equal(post.message, '📍 Eiffel Tower (48.8584, 2.2945)');
        // The hook swallowed the command: the composer is cleared, no error.
        await page.waitForFunction(() => document.querySelector('.post-box textarea').value === '');
        assert.equal(await page.locator('.post-box .error').count(), 0);

        const el = postEl(page, post.id);
        const svg = el.locator('svg.mmtoolkit-map-svg');
        await svg.waitFor();
        assert.equal(await svg.getAttribute('role'), 'img');
        assert.match(await svg.getAttribute('aria-label'), /Eiffel Tower, France at 48\.8584° N, 2\.2945° E/);
        assert.equal(await el.locator('text.map-label').textContent(), 'Eiffel Tower');
        assert.match(await el.locator('.mmtoolkit-map-place').textContent(), /Eiffel Tower.*48\.8584° N, 2\.2945° E in France/);
        // Land, borders and graticule were drawn (long paths, not empty ones).
        for (const cls of ['map-land', 'map-coasts', 'map-borders', 'map-graticule']) {
            const d = await el.locator(`path.${cls}`).getAttribute('d');
            assert.ok(d && d.length > 1000, `${cls} path is ${d?.length ?? 0} characters`);
        }
        // The marker: inside the viewport, where d3-geo projects the place.
        const {w, h, project} = await projectionOf(svg);
        const [mx, my] = (await el.locator('g.map-marker').getAttribute('transform')).match(/[-\d.]+/g).map(Number);
        assert.ok(mx > 0 && mx < w && my > 0 && my < h, `marker at ${mx},${my} is outside ${w}x${h}`);
        const [px, py] = project([2.2945, 48.8584]);
        assert.ok(Math.hypot(mx - px, my - py) < 1, `marker ${mx},${my} is not at the projected point ${px},${py}`);
        // On screen, the marker's box lies inside the SVG's box.
        const sb = await svg.boundingBox();
        const mb = await el.locator('g.map-marker circle').last().boundingBox();
        assert.ok(mb.x >= sb.x && mb.y >= sb.y && mb.x + mb.width <= sb.x + sb.width && mb.y + mb.height <= sb.y + sb.height);
        // The geography is right: Paris, London and Brussels on land; the Bay of
        // Biscay and the English Channel at sea.
        for (const [name, lnglat, land] of [
            ['Paris', [2.2945, 48.8584], true], ['London', [-0.1276, 51.5072], true], ['Brussels', [4.3517, 50.8503], true],
            ['Bay of Biscay', [-4.5, 45.5], false], ['English Channel', [-2.5, 50.1], false],
        ]) {
            assert.equal(await onLand(svg, project(lnglat)), land, `${name} ${land ? 'not on land' : 'on land'}`);
        }
        // Nothing was fetched from another origin (no tiles, no fonts, no CDN).
        const origin = new URL(server.url).origin;
        const foreign = page.requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'));
        assert.deepEqual(foreign, []);
        await el.screenshot({path: path.join(shotsDir, 'map-post.png')});

        // The seeded Berlin post renders too, in Germany.
        const seeded = (await postsOf(town.id)).find((p) => p.type === 'custom_map_location' && p.props.label === 'Berlin office');
        await postEl(page, seeded.id).locator('svg.mmtoolkit-map-svg').waitFor();
        assert.match(await postEl(page, seeded.id).locator('.mmtoolkit-map-place').textContent(), /in Germany/);
        assert.match(await postEl(page, seeded.id).textContent(), /Team lunch at the Berlin office on Friday\./);
    }));

    it('follows the theme (a dark theme darkens the sea and land)', withShots('map-theme', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const page = await open('bob', '/engineering/channels/town-square');
        const sea = page.locator('.mmtoolkit-map-svg path.map-sea').first();
        await sea.waitFor();
        const light = await sea.getAttribute('fill');
        const user = await page.evaluate(() => window.mmtoolkitHost.store.getState().entities.users.currentUserId);
        // Mattermost's dark theme ("Onyx"), as a theme preference arrives.
        const onyx = {centerChannelBg: '#191b1f', centerChannelColor: '#e3e4e8', linkColor: '#4a7ce8', buttonBg: '#4a7ce8', buttonColor: '#ffffff'};
        await page.evaluate(([uid, theme]) => window.mmtoolkitHost.store.dispatch({
            type: 'RECEIVED_PREFERENCES', data: [{user_id: uid, category: 'theme', name: '', value: JSON.stringify(theme)}],
        }), [user, onyx]);
        await page.waitForFunction((before) => document.querySelector('.mmtoolkit-map-svg path.map-sea')?.getAttribute('fill') !== before, light);
        const dark = await sea.getAttribute('fill');
        const luminance = (hex) => [1, 3, 5].reduce((s, i) => s + parseInt(hex.slice(i, i + 2), 16), 0);
        assert.ok(luminance(dark) < luminance(light) / 2, `sea ${dark} is not darker than ${light}`);
        await page.locator('.post', {has: page.locator('.mmtoolkit-map-svg')}).last().screenshot({path: path.join(shotsDir, 'map-post-dark.png')});
    }));

    it('refuses an invalid /location in the composer and posts nothing', withShots('map-invalid', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const page = await open('bob', '/engineering/channels/town-square');
        const before = (await postsOf(town.id)).length;
        for (const [cmd, msg] of [
            ['/location 200,1', 'Latitude must be between -90 and 90 degrees.'],
            ['/location 10,east', 'Latitude and longitude must be numbers'],
            ['/location', 'Usage: /location <latitude>,<longitude> [label]'],
        ]) {
            await page.fill('textarea', cmd);
            await page.keyboard.press('Enter');
            await page.waitForSelector(`.post-box .error >> text=${msg}`);
            assert.equal(await page.inputValue('textarea'), cmd, 'the command is kept for correction');
        }
        await page.waitForTimeout(300);
        assert.equal((await postsOf(town.id)).length, before, 'an invalid command created a post');
        // Other slash commands pass through the hook untouched (the sandbox has none: its error shows).
        await page.fill('textarea', '/away');
        await page.keyboard.press('Enter');
        await page.waitForSelector('.post-box .error:has-text("Command /away failed")');
    }));

    it('shows a message with coordinates on the map from the post menu', withShots('map-show', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const withCoords = await api(server, bobToken, 'POST', '/api/v4/posts',
            {channel_id: town.id, message: 'Offsite at the harbour: 53.5413, 9.9841 from Monday'});
        const without = await api(server, bobToken, 'POST', '/api/v4/posts', {channel_id: town.id, message: 'release 1.2, 3.4 is out'});
        const page = await open('bob', '/engineering/channels/town-square');
        // No entry for a message without coordinates.
        await postEl(page, without.id).waitFor();
        assert.ok(!(await menuItems(page, without.id)).includes('Show on map'), 'Show on map offered without coordinates');
        assert.ok((await menuItems(page, withCoords.id)).includes('Show on map'), 'Show on map not offered');
        // The entry opens the RHS with the place, its label and the message.
        await postEl(page, withCoords.id).hover();
        await postEl(page, withCoords.id).locator('button[aria-label="More actions"]').click();
        await page.click('text=Show on map');
        const rhs = page.locator('.rhs .mmtoolkit-map-rhs');
        await rhs.waitFor();
        assert.equal(await rhs.getAttribute('data-post-id'), withCoords.id);
        assert.equal(await page.textContent('.rhs-header h3'), 'Map');
        const svg = rhs.locator('svg.mmtoolkit-map-svg');
        assert.equal(await svg.getAttribute('data-center'), '9.9841,53.5413');
        assert.equal(await rhs.locator('text.map-label').textContent(), 'Offsite at the harbour');
        assert.match(await rhs.locator('.mmtoolkit-map-place').textContent(), /53\.5413° N, 9\.9841° E in Germany/);
        assert.equal(await rhs.locator('.mmtoolkit-map-quote').textContent(), withCoords.message);
        const {project} = await projectionOf(svg);
        assert.equal(await onLand(svg, project([9.9841, 53.5413])), true, 'Hamburg is not on land');
        // Zoom by keyboard: the span narrows, the scale bar follows.
        const span = Number(await svg.getAttribute('data-span-km'));
        await rhs.locator('button.map-zoom-in').focus();
        await page.keyboard.press('Enter');
        await page.waitForFunction((s) => Number(document.querySelector('.rhs .mmtoolkit-map-svg').getAttribute('data-span-km')) < s, span);
        await page.locator('.rhs').screenshot({path: path.join(shotsDir, 'map-show-on-map.png')});
    }));

    it('disappears live when disabled for a team; the other team keeps it', withShots('map-disable', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const page = await open('bob', '/engineering/channels/town-square');
        await page.locator('.mmtoolkit-map-svg').first().waitFor();
        const carol = await open('carol', '/sales/channels/town-square');
        await carol.locator('.mmtoolkit-map-svg').first().waitFor();
        await page.evaluate(() => {
            window.notReloaded = true;
        });
        const located = await page.locator('.post:has(.mmtoolkit-map-svg)').first().getAttribute('data-post-id');
        assert.ok((await menuItems(page, located)).includes('Show on map'), 'the location post does not offer Show on map');
        await cli(bin, server, 'alice', 'disable', '--team', 'engineering', '--plugin', PLUGIN);
        await page.waitForSelector('.mmtoolkit-map-svg', {state: 'detached', timeout: 10000});
        // The posts fall back to their plain messages.
        await page.waitForSelector('.post-message >> text=📍 Eiffel Tower (48.8584, 2.2945)');
        await page.waitForSelector('.post-message >> text=Team lunch at the Berlin office on Friday.');
        assert.equal(await page.evaluate(() => window.notReloaded), true);
        assert.ok(!(await menuItems(page, located)).includes('Show on map'), 'Show on map is still offered');
        // The command is no longer the plugin's: the sandbox answers it.
        await page.fill('textarea', '/location 1,2 nowhere');
        await page.keyboard.press('Enter');
        await page.waitForSelector('.post-box .error:has-text("Command /location failed")');
        // Sales still has it.
        assert.equal(await carol.locator('.mmtoolkit-map-svg').count(), 1);
        assert.match(await carol.locator('.mmtoolkit-map-place').textContent(), /Customer visit: Paris/);
    }));
});
