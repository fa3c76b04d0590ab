// bench/embed: what embedding a channel costs a page (docs/embed.md).
//
//   size        embed.js (the page's script) raw, gzip and brotli, and what
//               the frame downloads before any channel data (its HTML's
//               script, module chunks and stylesheet), gzip
//   ready-cold  the embedding page's navigation -> the channel's last
//               message drawn (the element's mm-ready, fired by the frame
//               after the posts' first paint), a new browser context (empty
//               cache) per run
//   ready-warm  the same page reloaded in one context (HTTP cache warm)
//
// Two origins on loopback, as in production: mmtoolkit on 127.0.0.1 and
// the embedding site on 127.0.0.2, whose backend exchanges the app secret
// for each page's token (that round trip is part of the time). The sandbox
// team has the reference plugins enabled, so the frame loads plugin bundles
// too (the map plugin draws a post in the channel).
import {gzipSync, brotliCompressSync, constants} from 'node:zlib';
import {readFileSync} from 'node:fs';
import {createServer} from 'node:http';
import os from 'node:os';
import path from 'node:path';

import {api, binary, launch, login, repoDir, startServer} from '../../webapp/e2e/harness.mjs';

const RUNS = Number(process.env.RUNS ?? 15);
const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const fmt = (xs) => `median ${median(xs).toFixed(0)} ms, p90 ${pct(xs, 0.9).toFixed(0)} ms, min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)} (n=${xs.length})`;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

// Sizes, from the build the binary embeds.
const dist = path.join(repoDir, 'webapp', 'dist');
const man = JSON.parse(readFileSync(path.join(dist, 'manifest.json'), 'utf8'));
const script = readFileSync(path.join(dist, man.embed.script));
const gz = gzipSync(script, {level: 9}).length;
const br = brotliCompressSync(script, {params: {[constants.BROTLI_PARAM_QUALITY]: 11}}).length;
console.log(`size embed.js: ${script.length} bytes raw, ${gz} gzip, ${br} brotli`);
const frameFiles = [man.embed.frame.js, man.embed.frame.css, ...man.embed.frame.chunks].filter(Boolean).map((u) => path.basename(u));
const frameGz = frameFiles.reduce((a, f) => a + man.files[f].gzip, 0);
const frameRaw = frameFiles.reduce((a, f) => a + man.files[f].size, 0);
console.log(`size frame: ${frameFiles.length} files, ${kib(frameRaw)} raw, ${kib(frameGz)} gzip (host code before channel data and plugin bundles)`);

const loadBefore = os.loadavg()[0];
const bin = await binary();
const server = await startServer(bin, {referencePlugins: true});
const chrome = await launch();
if (!chrome) {
    throw new Error('bench/embed needs Chromium: apt-get install -y chromium');
}
let site;
try {
    const admin = await login(server, 'admin');
    const team = await api(server, admin, 'GET', '/api/v4/teams/name/engineering');
    const town = (await api(server, admin, 'GET', '/api/v4/teams/name/engineering/channels/name/town-square')).id;
    let app;
    const mint = async () => {
        const r = await fetch(`${server.url}/api/v1/embed/tokens`, {method: 'POST',
            headers: {Authorization: 'Basic ' + Buffer.from(`${app.id}:${app.secret}`).toString('base64'), 'Content-Type': 'application/json'},
            body: JSON.stringify({user: 'bob', channels: [town]})});
        if (r.status !== 201) {
            throw new Error(`mint: ${r.status} ${await r.text()}`);
        }
        return r.text();
    };
    const html = () => `<!DOCTYPE html><html><head><meta charset="utf-8"><title>bench</title>
<style>mattermost-channel { width: 900px; height: 600px; }</style></head><body>
<script src="${server.url}/embed/v1/embed.js"></script>
<mattermost-channel id="chat" app="${app.id}" channel="${town}"></mattermost-channel>
<script>
const chat = document.getElementById('chat');
chat.addEventListener('mm-ready', () => { window.readyAt = performance.now(); });
chat.addEventListener('mm-error', (e) => { window.failed = JSON.stringify(e.detail); });
chat.tokenProvider = () => fetch('/token', {method: 'POST'}).then((r) => r.json());
</script></body></html>`;
    site = await new Promise((resolve) => {
        const srv = createServer(async (req, res) => {
            if (req.method === 'POST' && req.url === '/token') {
                res.writeHead(200, {'Content-Type': 'application/json'}).end(await mint());
                return;
            }
            res.writeHead(200, {'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store'}).end(html());
        });
        srv.listen(0, '127.0.0.2', () => resolve({origin: `http://127.0.0.2:${srv.address().port}`, close: () => new Promise((r) => srv.close(r))}));
    });
    app = await api(server, admin, 'POST', '/api/v1/embed/apps', {name: 'bench', origins: [site.origin], teams: [team.id], channels: []});

    const measure = async (page, navigate) => {
        await navigate();
        const h = await page.waitForFunction(() => window.readyAt ?? (window.failed ? -1 : undefined), null, {timeout: 30000});
        const t = await h.jsonValue();
        if (t < 0) {
            throw new Error(`embed failed: ${await page.evaluate(() => window.failed)}`);
        }
        const frame = page.frames().find((f) => f.url().includes('/embed/v1/frame'));
        const drawn = await frame.locator('.mmtoolkit-map-post').count();
        if (drawn === 0 && !(await frame.locator('.post').count())) {
            throw new Error('mm-ready without posts in the frame');
        }
        return t;
    };
    // One unmeasured load: the server's first compressions and caches.
    {
        const ctx = await chrome.browser.newContext();
        const page = await ctx.newPage();
        await measure(page, () => page.goto(site.origin + '/'));
        await ctx.close();
    }
    const cold = [];
    for (let i = 0; i < RUNS; i++) {
        const ctx = await chrome.browser.newContext();
        const page = await ctx.newPage();
        cold.push(await measure(page, () => page.goto(site.origin + '/')));
        await ctx.close();
    }
    const warm = [];
    {
        const ctx = await chrome.browser.newContext();
        const page = await ctx.newPage();
        await measure(page, () => page.goto(site.origin + '/'));
        for (let i = 0; i < RUNS; i++) {
            warm.push(await measure(page, () => page.reload()));
        }
        await ctx.close();
    }
    console.log(`ready-cold: ${fmt(cold)}`);
    console.log(`ready-warm: ${fmt(warm)}`);
    console.log(`load average (1 min) before ${loadBefore.toFixed(2)}, after ${os.loadavg()[0].toFixed(2)}, ${os.cpus().length} cores`);
} finally {
    await chrome.close();
    await site?.close();
    await server.stop();
}
