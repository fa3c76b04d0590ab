// bench/webapp: what a person waits for in the webapp host, measured by the
// page in headless Chromium on loopback.
//
//   slots-cold  navigation -> every slot of 3 enabled plugins rendered, a new
//               browser context (empty cache) per run, 20 runs
//   slots-warm  the same page reloaded in one context (HTTP cache warm), 20 runs
//   update      `POST /api/v1/plugins` of a new version -> its component
//               visible in an open page, 10 pushes
//
// "Rendered" is the page's own mark (performance.now() when every plugin of
// the team's manifest settled and the channel's posts committed, after the
// next frame); the run also checks each plugin's slots are in the DOM.
import {execFileSync} from 'node:child_process';
import {cpSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import os, {tmpdir} from 'node:os';
import path from 'node:path';

import {buildWebpackFixture} from '../../webapp/e2e/build_webpack_fixture.mjs';
import {api, binary, cli, launch, login, repoDir, startServer} from '../../webapp/e2e/harness.mjs';
import {sizeReport} from './size.mjs';

const RUNS = Number(process.env.RUNS ?? 20);
const PUSHES = Number(process.env.PUSHES ?? 10);
// EXTRA more plugins (copies of docs/examples/hello under other ids, each a
// post type and a channel header button): EXTRA=27 measures 30 plugins.
const EXTRA = Number(process.env.EXTRA ?? 0);
const fixtures = path.join(repoDir, 'webapp', 'e2e', 'fixtures');

const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const fmt = (xs) => `median ${median(xs).toFixed(0)} ms, p90 ${pct(xs, 0.9).toFixed(0)} ms, min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)} (n=${xs.length})`;

const loadBefore = os.loadavg()[0];
const bin = await binary();
const server = await startServer(bin);
const chrome = await launch();
if (!chrome) {
    throw new Error('bench/webapp needs Chromium: apt-get install -y chromium');
}
try {
    // Three plugins: the fixture (every slot), the webpack-style bundle
    // (lazy react-intl), and the README's hello example.
    const plugins = ['e2e.fixture', 'e2e.webpack', 'com.example.hello'];
    await cli(bin, server, 'dev', 'push', path.join(fixtures, 'fixture'));
    await cli(bin, server, 'dev', 'push', await buildWebpackFixture());
    await cli(bin, server, 'dev', 'push', path.join(repoDir, 'docs', 'examples', 'hello'));
    for (const p of plugins) {
        await cli(bin, server, 'alice', 'enable', '--team', 'engineering', '--plugin', p);
    }
    const token = await login(server, 'bob');
    const ch = await api(server, token, 'GET', '/api/v4/teams/name/engineering/channels/name/town-square');
    for (const [type, props] of [['custom_fixture_card', {title: 'bench'}], ['custom_webpack_note', {}], ['custom_hello', {name: 'bench'}]]) {
        await api(server, token, 'POST', '/api/v4/posts', {channel_id: ch.id, message: 'bench post', type, props});
    }
    const extraDir = mkdtempSync(path.join(tmpdir(), 'mmtoolkit-bench-extra-'));
    const extraSelectors = [];
    for (let i = 1; i <= EXTRA; i++) {
        const id = `com.example.hello${i}`;
        const dir = path.join(extraDir, id);
        cpSync(path.join(repoDir, 'docs', 'examples', 'hello'), dir, {recursive: true});
        const pj = JSON.parse(readFileSync(path.join(dir, 'plugin.json'), 'utf8'));
        pj.id = id;
        pj.slots = pj.slots.map((sl) => (sl.post_type ? {...sl, post_type: `custom_hello${i}`} : sl));
        writeFileSync(path.join(dir, 'plugin.json'), JSON.stringify(pj));
        for (const f of ['webapp/index.tsx', 'mobile/index.tsx']) {
            const src = path.join(dir, f);
            writeFileSync(src, readFileSync(src, 'utf8').replaceAll("'com.example.hello'", `'${id}'`).replaceAll("'custom_hello'", `'custom_hello${i}'`));
        }
        await cli(bin, server, 'dev', 'push', dir);
        await cli(bin, server, 'alice', 'enable', '--team', 'engineering', '--plugin', id);
        await api(server, token, 'POST', '/api/v4/posts', {channel_id: ch.id, message: 'bench post', type: `custom_hello${i}`, props: {name: `n${i}`}});
        extraSelectors.push(`[data-plugin-id="${id}"][data-slot="channel_header_button"]`);
    }
    const url = `${server.url}/engineering/channels/town-square`;
    const cookie = {name: 'MMAUTHTOKEN', value: token, url: server.url};
    // Every slot the three plugins fill that a person can see on this page.
    const expected = ['.fixture-card', '.fixture-call', '.fixture-header-button', '.app-bar-icon', '.fixture-root', '.webpack-badge', '.webpack-note', '.hello-post', '[data-plugin-id="com.example.hello"][data-slot="channel_header_button"]', ...extraSelectors];

    const evals = [];
    const measure = async (page) => {
        await page.waitForFunction(() => window.mmtoolkitSlotsRendered !== undefined, null, {timeout: 15000});
        const ms = await page.evaluate(() => window.mmtoolkitSlotsRendered);
        evals.push(await page.evaluate(() => performance.getEntriesByName('mmtoolkit:main')[0]?.startTime ?? 0));
        for (const sel of expected) {
            if (await page.locator(sel).count() === 0) {
                throw new Error(`slot not rendered at the mark: ${sel}`);
            }
        }
        return ms;
    };

    const cold = [];
    for (let i = 0; i < RUNS + 1; i++) {
        const ctx = await chrome.browser.newContext({viewport: {width: 1280, height: 800}});
        await ctx.addCookies([cookie]);
        const page = await ctx.newPage();
        await page.goto(url);
        const ms = await measure(page);
        if (i > 0) { // the first run also warms the server's caches
            cold.push(ms);
        }
        await ctx.close();
    }
    const warm = [];
    const ctx = await chrome.browser.newContext({viewport: {width: 1280, height: 800}});
    await ctx.addCookies([cookie]);
    const page = await ctx.newPage();
    await page.goto(url);
    await measure(page);
    for (let i = 0; i < RUNS; i++) {
        await page.goto(url);
        warm.push(await measure(page));
    }

    // Live update: pre-packed archives of new versions, pushed over HTTP.
    const dev = await login(server, 'dev');
    const work = mkdtempSync(path.join(tmpdir(), 'mmtoolkit-bench-webapp-'));
    const update = [];
    const afterAck = [];
    for (let i = 1; i <= PUSHES; i++) {
        const version = `1.1.${i}`;
        const dir = path.join(work, version);
        cpSync(path.join(fixtures, 'fixture'), dir, {recursive: true});
        const pj = JSON.parse(readFileSync(path.join(dir, 'plugin.json'), 'utf8'));
        pj.version = version;
        writeFileSync(path.join(dir, 'plugin.json'), JSON.stringify(pj));
        const src = path.join(dir, 'webapp', 'index.tsx');
        writeFileSync(src, readFileSync(src, 'utf8').replace("const VERSION = '1.0.0'", `const VERSION = '${version}'`));
        const archive = path.join(work, `${version}.tar.gz`);
        execFileSync(bin, ['pack', '-o', archive, dir]);
        const body = readFileSync(archive);
        // The page timestamps the moment the new label is in the DOM.
        await page.evaluate((label) => {
            window.benchSeen = undefined;
            const check = () => {
                if (document.body.textContent.includes(label)) {
                    window.benchSeen = performance.timeOrigin + performance.now();
                    return true;
                }
                return false;
            };
            const mo = new MutationObserver(() => check() && mo.disconnect());
            mo.observe(document.body, {subtree: true, childList: true, characterData: true});
        }, `Fixture call v${version}`);
        const t0 = performance.timeOrigin + performance.now();
        const r = await fetch(`${server.url}/api/v1/plugins`, {method: 'POST', headers: {Authorization: `Bearer ${dev}`, 'Content-Type': 'application/gzip'}, body});
        const t1 = performance.timeOrigin + performance.now();
        if (!r.ok) {
            throw new Error(`push ${version}: ${r.status} ${await r.text()}`);
        }
        await page.waitForFunction(() => window.benchSeen !== undefined, null, {timeout: 10000});
        const seen = await page.evaluate(() => window.benchSeen);
        update.push(seen - t0);
        afterAck.push(seen - t1);
    }
    await ctx.close();

    const size = sizeReport();
    const n = plugins.length + EXTRA;
    console.log(`slots-cold plugins=${n} ${fmt(cold)}${n === 3 ? ' (goal: median < 400 ms)' : ''}`);
    console.log(`slots-warm plugins=${n} ${fmt(warm)}${n === 3 ? ' (goal: median < 200 ms)' : ''}`);
    console.log(`update push->visible ${fmt(update)}; after the push's HTTP answer ${fmt(afterAck)} (goal: median < 1000 ms)`);
    console.log(`main-evaluated (navigation -> host code starts, all runs) ${fmt(evals)}`);
    console.log(`load average (1 min) before ${loadBefore.toFixed(1)}, after ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores: figures scale with it`);
    console.log(`host-js every page loads: ${(size.total.gzip / 1024).toFixed(1)} KiB gzip, ${(size.total.br / 1024).toFixed(1)} KiB br (goal: <= 200 KB gzip)`);
} finally {
    await chrome.close();
    await server.stop();
}
