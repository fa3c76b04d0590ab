// bench/webapp/lazy.mjs: what a page pays for a prebuilt (webpack) plugin
// that reads every lazy host library (ReactBootstrap, ReactIntl,
// ReactRouterDom, Luxon), against a page whose plugin needs none.
//
//   engineering: e2e/webpack/plugins/globals built by webpack 5 (its
//                host_modules are all four lazy modules)
//   sales:       docs/examples/hello, compiled (no lazy module)
//
// Cold loads alternate between the two (a new browser context each, RUNS
// each, default 10); per page: navigation -> slots rendered (the page's
// own mark, as run.mjs) and the host JavaScript transferred (/static/*.js,
// encoded bytes as the browser received them, compression included).
import os from 'node:os';
import path from 'node:path';

import {binary, cli, launch, login, repoDir, startServer} from '../../webapp/e2e/harness.mjs';
import {fixtureSrc, pluginDir} from '../../webapp/e2e/webpack/build.mjs';

const RUNS = Number(process.env.RUNS ?? 10);
const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const loadBefore = os.loadavg()[0];
const bin = await binary();
const server = await startServer(bin);
const chrome = await launch();
if (!chrome) {
    throw new Error('bench/webapp/lazy.mjs needs Chromium: apt-get install -y chromium');
}
try {
    await cli(bin, server, 'dev', 'push', await pluginDir(fixtureSrc('globals'), {webpack: 5}));
    await cli(bin, server, 'alice', 'enable', '--team', 'engineering', '--plugin', 'e2e.globals');
    await cli(bin, server, 'dev', 'push', path.join(repoDir, 'docs', 'examples', 'hello'));
    await cli(bin, server, 'admin', 'enable', '--team', 'sales', '--plugin', 'com.example.hello');
    const pages = {
        prebuilt: {user: 'bob', url: '/engineering/channels/town-square', sel: '.globals-probe'},
        none: {user: 'carol', url: '/sales/channels/town-square', sel: '[data-plugin-id="com.example.hello"][data-slot="channel_header_button"]'},
    };
    for (const p of Object.values(pages)) {
        p.token = await login(server, p.user);
        p.ms = [];
        p.kib = [];
    }
    for (let i = 0; i < RUNS + 1; i++) {
        for (const p of Object.values(pages)) {
            const ctx = await chrome.browser.newContext({viewport: {width: 1280, height: 800}});
            await ctx.addCookies([{name: 'MMAUTHTOKEN', value: p.token, url: server.url}]);
            const page = await ctx.newPage();
            await page.goto(server.url + p.url);
            await page.waitForFunction(() => window.mmtoolkitSlotsRendered !== undefined, null, {timeout: 15000});
            await page.locator(p.sel).first().waitFor();
            const ms = await page.evaluate(() => window.mmtoolkitSlotsRendered);
            const bytes = await page.evaluate(() => performance.getEntriesByType('resource').
                filter((e) => new URL(e.name).pathname.startsWith('/static/') && e.name.endsWith('.js')).
                reduce((a, e) => a + e.encodedBodySize, 0));
            if (i > 0) { // the first round warms the server
                p.ms.push(ms);
                p.kib.push(bytes / 1024);
            }
            await ctx.close();
        }
    }
    for (const [name, p] of Object.entries(pages)) {
        console.log(`lazy-modules page=${name} slots-cold median ${median(p.ms).toFixed(0)} ms (min ${Math.min(...p.ms).toFixed(0)}, max ${Math.max(...p.ms).toFixed(0)}, n=${p.ms.length}) host-js-transferred ${median(p.kib).toFixed(1)} KiB`);
    }
    console.log(`load average (1 min) before ${loadBefore.toFixed(1)}, after ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
} finally {
    await chrome.close();
    await server.stop();
}
