// The embed (docs/embed.md) in Chromium, across two origins: mmtoolkit on
// 127.0.0.1 and an embedding site on 127.0.0.2 (both loopback), which
// serves its pages and a backend that exchanges its app secret for embed
// tokens, as a real site would.
import assert from 'node:assert/strict';
import {createServer} from 'node:http';
import {after, before, describe, it} from 'node:test';

import {api, binary, launch, login, startServer, withShots} from './harness.mjs';

describe('embed', () => {
    let bin;
    let server;
    let chrome;
    let site; // the embedding site: {origin, close}
    let adminToken;
    let aliceToken;
    let app; // {id, secret}: origins [site], team engineering
    let otherApp; // origins: another site only
    let town;
    let devTalk;
    let expiring; // a one-minute token minted at start, for the expiry test
    const pages = [];

    /** The site's backend: POST /api/v1/embed/tokens with the app's secret (no Origin header: not a browser). */
    const mint = async (user, channels, ttl = 900, a = app) => {
        const r = await fetch(`${server.url}/api/v1/embed/tokens`, {
            method: 'POST',
            headers: {Authorization: 'Basic ' + Buffer.from(`${a.id}:${a.secret}`).toString('base64'), 'Content-Type': 'application/json'},
            body: JSON.stringify({user, channels, ttl_seconds: ttl}),
        });
        const body = await r.json();
        assert.equal(r.status, 201, JSON.stringify(body));
        return body;
    };

    // The site's pages, by path: each embeds with the given attributes.
    // ?user= picks whose token the site's backend asks for, ?channels= which channels.
    const sitePage = ({attrs, before = '', provider = true}) => `<!DOCTYPE html><html><head><meta charset="utf-8"><title>site</title>
<style>mattermost-channel { width: 900px; height: 600px; }</style></head><body>
<script>
window.events = []; window.messages = [];
window.addEventListener('message', (e) => window.messages.push(JSON.stringify(e.data)));
${before}
</script>
<script src="${server.url}/embed/v1/embed.js"></script>
<mattermost-channel id="chat" ${attrs}></mattermost-channel>
<script>
const chat = document.getElementById('chat');
for (const n of ['mm-ready', 'mm-message', 'mm-unread', 'mm-signedout', 'mm-error']) {
    chat.addEventListener(n, (e) => window.events.push({name: n, detail: e.detail, at: performance.now()}));
}
${provider ? `chat.tokenProvider = async () => {
    window.asked = (window.asked || 0) + 1;
    const r = await fetch('/token' + location.search, {method: 'POST'});
    if (!r.ok) throw new Error('token: HTTP ' + r.status);
    return r.json();
};` : ''}
</script></body></html>`;

    const pagesByPath = {};
    const minted = {}; // by ttl: the tokens the site's backend handed out
    const served = new Set(); // ?pid=: pages whose backend answers once, then fails
    const startSite = () => new Promise((resolve) => {
        const srv = createServer(async (req, res) => {
            const u = new URL(req.url, 'http://x');
            if (req.method === 'POST' && u.pathname === '/token') {
                // The site's backend: it decides who the user is and which channels.
                try {
                    const pid = u.searchParams.get('pid');
                    if (pid && served.has(pid)) {
                        res.writeHead(503).end('the backend is down');
                        return;
                    }
                    if (pid) {
                        served.add(pid);
                    }
                    if (u.searchParams.get('expired')) {
                        res.writeHead(200, {'Content-Type': 'application/json'}).end(JSON.stringify(expiring));
                        return;
                    }
                    const channels = (u.searchParams.get('channels') || town).split(',');
                    const t = await mint(u.searchParams.get('user') || 'bob', channels, Number(u.searchParams.get('ttl') || 900));
                    (minted[u.searchParams.get('ttl') || 900] ??= []).push(t);
                    res.writeHead(200, {'Content-Type': 'application/json'}).end(JSON.stringify(t));
                } catch (e) {
                    res.writeHead(500).end(String(e));
                }
                return;
            }
            const html = pagesByPath[u.pathname];
            if (!html) {
                res.writeHead(404).end();
                return;
            }
            res.writeHead(200, {'Content-Type': 'text/html; charset=utf-8'}).end(html());
        });
        srv.listen(0, '127.0.0.2', () => resolve({origin: `http://127.0.0.2:${srv.address().port}`, close: () => new Promise((r) => srv.close(r))}));
    });

    const open = async (path, {context} = {}) => {
        const ctx = context ?? await chrome.browser.newContext({viewport: {width: 1000, height: 700}});
        const page = await ctx.newPage();
        page.consoleLines = [];
        page.on('console', (m) => page.consoleLines.push(`${m.type()}: ${m.text()}`));
        page.on('pageerror', (e) => page.consoleLines.push(`pageerror: ${e.message}`));
        page.requests = [];
        page.on('request', (r) => page.requests.push(r.url()));
        page.on('response', (r) => r.status() >= 400 && page.consoleLines.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`));
        pages.push(page);
        await page.goto(site.origin + path);
        return page;
    };
    const embedFrame = async (page) => {
        await page.waitForFunction(() => true);
        for (let i = 0; i < 200; i++) {
            const f = page.frames().find((x) => x.url().includes('/embed/v1/frame'));
            if (f) {
                return f;
            }
            await page.waitForTimeout(50);
        }
        throw new Error('no embed frame');
    };
    /** The detail of the first event of that name whose detail passes pred (JavaScript source of a function). */
    const waitEvent = (page, name, pred = '() => true') => page.waitForFunction(([n, p]) => window.events.find((e) => e.name === n && (0, eval)(p)(e.detail))?.detail, [name, pred]).then((h) => h.jsonValue());
    const eventsOf = (page, name) => page.evaluate((n) => window.events.filter((e) => e.name === n).map((e) => e.detail), name);
    const post = (token, channel, message) => api(server, token, 'POST', '/api/v4/posts', {channel_id: channel, message});

    before(async () => {
        bin = await binary();
        server = await startServer(bin, {referencePlugins: true});
        chrome = await launch();
        site = await startSite();
        adminToken = await login(server, 'admin');
        aliceToken = await login(server, 'alice');
        const team = await api(server, adminToken, 'GET', '/api/v4/teams/name/engineering');
        town = (await api(server, adminToken, 'GET', '/api/v4/teams/name/engineering/channels/name/town-square')).id;
        devTalk = (await api(server, adminToken, 'GET', '/api/v4/teams/name/engineering/channels/name/dev-talk')).id;
        app = await api(server, adminToken, 'POST', '/api/v1/embed/apps', {name: 'Site', origins: [site.origin], teams: [team.id], channels: []});
        otherApp = await api(server, adminToken, 'POST', '/api/v1/embed/apps', {name: 'Elsewhere', origins: ['http://127.0.0.3:9'], teams: [team.id], channels: []});
        expiring = await mint('bob', [town], 10);
        pagesByPath['/'] = () => sitePage({attrs: `app="${app.id}" channel="${town}" theme="dark" accent="#0b8a6a"`});
        pagesByPath['/dev'] = () => sitePage({attrs: `app="${app.id}" channel="${devTalk}"`});
        pagesByPath['/auto'] = () => sitePage({attrs: `app="${app.id}" channel="${town}" height="auto" style="height: auto"`});
        pagesByPath['/other'] = () => sitePage({attrs: `app="${otherApp.id}" channel="${town}"`});
        pagesByPath['/popup'] = () => sitePage({attrs: `app="${app.id}" channel="${town}" signin="popup"`, provider: false,
            // The page tries to catch the element's closed shadow root, as a hostile page could.
            before: 'const attach = Element.prototype.attachShadow; Element.prototype.attachShadow = function (o) { const r = attach.call(this, o); window.caught = r; return r; };'});
    });
    after(async () => {
        await chrome?.close();
        await site?.close();
        await server?.stop();
    });

    const skip = (t) => (!chrome ? t.skip('no Chromium (install: apt-get install -y chromium)') || true : false);

    it('shows the channel on another origin and gets a post made elsewhere live', withShots('embed-live', () => pages, async (t) => {
        if (skip(t)) {
            return;
        }
        const page = await open('/');
        const ready = await waitEvent(page, 'mm-ready');
        assert.equal(ready.channel_id, town);
        const frame = await embedFrame(page);
        assert.match(frame.url(), /^http:\/\/127\.0\.0\.1:\d+\/embed\/v1\/frame\?/);
        await frame.waitForSelector('.post-message >> text=Welcome to the mmtoolkit sandbox');
        assert.equal(await frame.textContent('.channel-header h2'), 'Town Square');
        // The page's theme and accent: dark background, the accent on buttons.
        const colors = await frame.evaluate(() => ({bg: getComputedStyle(document.body).backgroundColor, button: getComputedStyle(document.documentElement).getPropertyValue('--button-bg').trim()}));
        assert.equal(colors.bg, 'rgb(25, 27, 31)');
        assert.equal(colors.button, '#0b8a6a');
        // A post made elsewhere (alice, through the API) arrives live, in the frame and as mm-message.
        const text = `live from elsewhere ${Date.now()}`;
        const p = await post(aliceToken, town, text);
        await frame.waitForSelector(`.post[data-post-id="${p.id}"] >> text=${text}`);
        const msg = await waitEvent(page, 'mm-message', `(d) => d.post_id === ${JSON.stringify(p.id)}`);
        assert.deepEqual(msg, {channel_id: town, post_id: p.id, user_id: p.user_id, root_id: '', message: text});
    }));

    it('draws a plugin\'s post renderer inside the embed', withShots('embed-plugin', () => pages, async (t) => {
        if (skip(t)) {
            return;
        }
        const page = pages[0] ?? await open('/');
        const frame = await embedFrame(page);
        // The map plugin's custom_map_location post (seeded in Town Square) drawn by the plugin.
        await frame.waitForSelector('.mmtoolkit-map-post >> text=Berlin office', {timeout: 30000});
        // And its call button / header buttons live in the embed's channel header (the plugins' slots).
        assert.ok(await frame.evaluate(() => Boolean(window.registerPlugin)), 'the frame is a plugin host');
    }));

    it('refuses the frame to an origin the app does not allow, and an unknown app', withShots('embed-origin', () => pages, async (t) => {
        if (skip(t)) {
            return;
        }
        // The headers say so...
        const r = await fetch(`${server.url}/embed/v1/frame?app=${otherApp.id}&channel=${town}`);
        assert.equal(r.status, 200);
        const csp = r.headers.get('content-security-policy');
        assert.match(csp, /frame-ancestors http:\/\/127\.0\.0\.3:9(,|;|$)/);
        assert.doesNotMatch(csp, new RegExp(site.origin.replace(/\./g, '\\.')));
        assert.equal(r.headers.get('x-frame-options'), null);
        const unknown = await fetch(`${server.url}/embed/v1/frame?app=nosuchapp00000000000000000`);
        assert.equal(unknown.status, 404);
        assert.match(unknown.headers.get('content-security-policy'), /frame-ancestors 'none'/);
        // ...and Chromium refuses: the frame never runs, never asks for anything.
        const page = await open('/other');
        await page.waitForFunction(() => true);
        for (let i = 0; !page.consoleLines.some((l) => /Framing .* violates the following Content Security Policy directive: "frame-ancestors/.test(l)); i++) {
            assert.ok(i < 200, `no refusal on the console:\n${page.consoleLines.join('\n')}`);
            await page.waitForTimeout(50);
        }
        const frame = page.frames().find((f) => f !== page.mainFrame());
        assert.ok(!frame || !frame.url().includes('/embed/v1/frame') || await frame.evaluate(() => !window.registerPlugin).catch(() => true));
        assert.equal(page.requests.filter((u) => u.includes('/api/')).length, 0, page.requests.join('\n'));
        assert.deepEqual(await eventsOf(page, 'mm-ready'), []);
    }));

    it('keeps a token to its channels: another channel is refused in the frame and by the server', withShots('embed-scope', () => pages, async (t) => {
        if (skip(t)) {
            return;
        }
        // The page's token covers Town Square only (the backend's default here); the element asks for Dev Talk.
        const page = await open('/dev');
        const err = await waitEvent(page, 'mm-error');
        assert.equal(err.code, 'embed_channel_not_allowed');
        const frame = await embedFrame(page);
        await frame.waitForSelector('.embed-notice >> text=does not cover');
        assert.equal(await frame.locator('.post').count(), 0);
        // The server refuses the token there, whatever the client does.
        const token = (await mint('bob', [town])).token;
        const r = await fetch(`${server.url}/api/v4/channels/${devTalk}/posts`, {headers: {Authorization: `Bearer ${token}`}});
        assert.equal(r.status, 403);
        assert.equal((await r.json()).error.code, 'embed_channel_not_allowed');
        // The live feed carries Town Square only: a post in Dev Talk never reaches the page.
        const page2 = await open('/');
        await waitEvent(page2, 'mm-ready');
        const hidden = await post(aliceToken, devTalk, `not for the embed ${Date.now()}`);
        const shown = await post(aliceToken, town, `for the embed ${Date.now()}`);
        await waitEvent(page2, 'mm-message', `(d) => d.post_id === ${JSON.stringify(shown.id)}`);
        assert.ok(!(await eventsOf(page2, 'mm-message')).some((d) => d.post_id === hidden.id), 'a Dev Talk post reached the embed');
        await assert.rejects(page2.evaluate((id) => document.getElementById('chat').openChannel(id), devTalk), /does not cover/);
    }));

    it('fires the JS API events: ready, message, unread, and answers openChannel and send', withShots('embed-api', () => pages, async (t) => {
        if (skip(t)) {
            return;
        }
        const page = await open(`/?channels=${town},${devTalk}`);
        await waitEvent(page, 'mm-ready');
        const frame = await embedFrame(page);
        // send(): posted as bob, drawn, and reported as mm-message.
        const sent = await page.evaluate(() => document.getElementById('chat').send('hello from the page'));
        assert.match(sent.post_id, /^[a-z0-9]{26}$/);
        await frame.waitForSelector(`.post[data-post-id="${sent.post_id}"] >> text=hello from the page`);
        await waitEvent(page, 'mm-message', `(d) => d.post_id === ${JSON.stringify(sent.post_id)}`);
        // Someone else's post while the reader is elsewhere (the frame has no focus): unread 1; a click in the frame: 0.
        const other = await post(aliceToken, town, `unread ${Date.now()}`);
        await waitEvent(page, 'mm-unread', '(d) => d.count === 1');
        await frame.waitForSelector(`.post[data-post-id="${other.id}"]`);
        await frame.click('.post-list');
        await waitEvent(page, 'mm-unread', '(d) => d.count === 0');
        // openChannel: another channel the token covers.
        await page.evaluate((id) => document.getElementById('chat').openChannel(id), devTalk);
        await frame.waitForSelector('.channel-header h2 >> text=Dev Talk');
        assert.equal(await page.evaluate(() => document.getElementById('chat').channel), devTalk);
        // Replies: a thread opens beside the channel and takes a reply.
        await frame.locator('.embed-reply').first().click();
        await frame.waitForSelector('.embed-thread');
        await frame.fill('.embed-thread textarea', 'a reply in the thread');
        await frame.press('.embed-thread textarea', 'Enter');
        await frame.waitForSelector('.embed-thread .post-message >> text=a reply in the thread');
        // The plugins' own requests (the video plugin's call post in Dev Talk asks for its
        // participants) carry the token too: nothing was refused for want of a session.
        assert.deepEqual(page.consoleLines.filter((l) => l.startsWith('HTTP 401')), []);
        assert.deepEqual(await eventsOf(page, 'mm-error'), []);
        // signOut: mm-signedout, and the frame forgets the channel.
        await page.evaluate(() => document.getElementById('chat').signOut());
        await waitEvent(page, 'mm-signedout');
        await frame.waitForSelector('.embed-notice');
    }));

    it('renews the token before it expires and stays live on the new one', withShots('embed-renew', () => pages, async (t) => {
        if (skip(t)) {
            return;
        }
        // Tokens of 10 s: the element asks again at 60 % of that, the websocket
        // the frame opened with the first ends when it expires, and reconnects with the next.
        const page = await open('/?ttl=10');
        await waitEvent(page, 'mm-ready');
        const frame = await embedFrame(page);
        await page.waitForFunction(() => window.asked >= 2, null, {timeout: 20000});
        const first = minted[10][0];
        const left = first.expires_at - Date.now();
        if (left > 0) {
            await new Promise((r) => setTimeout(r, left + 1000));
        }
        const r = await fetch(`${server.url}/api/v1/embed/session`, {headers: {Authorization: `Bearer ${first.token}`}});
        assert.equal(r.status, 401, 'the first token should have expired by now');
        const later = await post(aliceToken, town, `after the first token ${Date.now()}`);
        await waitEvent(page, 'mm-message', `(d) => d.post_id === ${JSON.stringify(later.id)}`);
        await frame.waitForSelector(`.post[data-post-id="${later.id}"]`);
        const sent = await page.evaluate(() => document.getElementById('chat').send('sent on a renewed token'));
        await frame.waitForSelector(`.post[data-post-id="${sent.post_id}"]`);
        assert.deepEqual(await eventsOf(page, 'mm-error'), []);
        assert.deepEqual(await eventsOf(page, 'mm-signedout'), []);
    }));

    it('signs out by itself when its token expires unrenewed, with nothing asked of it', withShots('embed-idle-expiry', () => pages, async (t) => {
        if (skip(t)) {
            return;
        }
        // The page's backend answers once (a 10 s token), then is down.
        const page = await open(`/?ttl=10&pid=${Date.now()}`);
        await waitEvent(page, 'mm-ready');
        const frame = await embedFrame(page);
        const provider = await waitEvent(page, 'mm-error', '(d) => d.code === "embed_token_provider"');
        assert.match(provider.message, /503/);
        await waitEvent(page, 'mm-signedout', '() => true');
        const expired = await eventsOf(page, 'mm-error');
        assert.ok(expired.some((e) => e.code === 'embed_token_expired'), JSON.stringify(expired));
        await frame.waitForSelector('.embed-notice >> text=expired');
        assert.equal(await frame.locator('.post').count(), 0);
    }));

    it('sizes itself to its content with height="auto"', withShots('embed-auto', () => pages, async (t) => {
        if (skip(t)) {
            return;
        }
        const page = await open('/auto');
        await waitEvent(page, 'mm-ready');
        const frame = await embedFrame(page);
        const content = await frame.evaluate(() => document.getElementById('root').scrollHeight);
        // The page's element follows the frame's reported height (its own CSS says height: auto).
        await page.waitForFunction((h) => Math.abs(document.getElementById('chat').getBoundingClientRect().height - h) <= 2, content);
        assert.ok(content > 200, `content height ${content}`);
    }));

    it('keeps the embed\'s DOM and token out of the host page\'s reach (popup sign-in)', withShots('embed-isolation', () => pages, async (t) => {
        if (skip(t)) {
            return;
        }
        const context = await chrome.browser.newContext({viewport: {width: 1000, height: 700}});
        const page = await open('/popup', {context});
        const frame = await embedFrame(page);
        await frame.waitForSelector('button.embed-signin');
        // The popup: opened by the frame, first-party on mmtoolkit's origin; bob signs in there.
        const [popup] = await Promise.all([context.waitForEvent('page'), frame.click('button.embed-signin')]);
        pages.push(popup);
        await popup.waitForSelector('#signin-form:not([hidden])');
        assert.match(popup.url(), /^http:\/\/127\.0\.0\.1:\d+\/embed\/v1\/signin\?app=/);
        await popup.fill('#loginId', 'bob');
        await popup.fill('#password', 'mmtoolkit');
        await Promise.all([popup.waitForEvent('close'), popup.click('#signin-form button[type=submit]')]);
        await waitEvent(page, 'mm-ready');
        await frame.waitForSelector('.post-message >> text=Welcome to the mmtoolkit sandbox');
        const reach = await page.evaluate(() => {
            const el = document.getElementById('chat');
            const root = window.caught; // the closed root, caught by patching attachShadow first
            const iframe = root?.querySelector('iframe');
            let doc = 'unreadable';
            try {
                doc = iframe.contentWindow.document ? 'readable' : 'none';
            } catch (e) {
                doc = `throws ${e.name}`;
            }
            return {
                shadowRoot: el.shadowRoot, iframesInDocument: document.querySelectorAll('iframe').length, caught: Boolean(iframe),
                contentDocument: iframe?.contentDocument ?? null, doc, src: iframe?.src ?? '',
                fields: Object.keys(el).concat(Object.getOwnPropertyNames(Object.getPrototypeOf(el))),
                messages: window.messages, storage: JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage}), cookie: document.cookie,
            };
        });
        assert.equal(reach.shadowRoot, null, 'the shadow root is open');
        assert.equal(reach.iframesInDocument, 0);
        assert.ok(reach.caught, 'the test page did not catch the root (the check below would prove nothing)');
        assert.equal(reach.contentDocument, null);
        assert.equal(reach.doc, 'throws SecurityError');
        assert.doesNotMatch(reach.src, /mmte_/);
        assert.ok(!reach.fields.some((f) => /token$/i.test(f) && f !== 'tokenProvider'), reach.fields.join(','));
        const seen = JSON.stringify(reach) + page.requests.join('\n');
        assert.doesNotMatch(seen, /mmte_/, 'an embed token reached the host page');
        // The messages the page got are the frame's hello, events and answers only.
        assert.ok(reach.messages.length > 0 && reach.messages.every((m) => /"type":"(hello|event|height|reply)"/.test(m)), reach.messages.join('\n'));
        await context.close();
    }));

    it('refuses an expired token: mm-error, then mm-signedout, no channel', withShots('embed-expired', () => pages, async (t) => {
        if (skip(t)) {
            return;
        }
        // The token minted at start lived 10 s (the shortest lifetime); wait for the clock to pass it.
        const left = expiring.expires_at - Date.now();
        if (left > 0) {
            await new Promise((r) => setTimeout(r, left + 1000));
        }
        const r = await fetch(`${server.url}/api/v1/embed/session`, {headers: {Authorization: `Bearer ${expiring.token}`}});
        assert.equal(r.status, 401);
        assert.equal((await r.json()).error.code, 'embed_token_expired');
        pagesByPath['/expired'] = () => sitePage({attrs: `app="${app.id}" channel="${town}"`});
        const page = await open('/expired?expired=1');
        await waitEvent(page, 'mm-signedout');
        const errors = await eventsOf(page, 'mm-error');
        assert.ok(errors.length > 0 && errors.every((e) => e.code === 'embed_token_expired'), JSON.stringify(errors));
        assert.deepEqual(await eventsOf(page, 'mm-ready'), []);
        const frame = await embedFrame(page);
        assert.equal(await frame.locator('.post').count(), 0);
        await frame.waitForSelector('.embed-notice >> text=expired');
    }));
});
