// mmtoolkit in front of a Mattermost (serve --upstream): the host loads the
// Mattermost's own plugins next to the team's (issue 16). The Mattermost is
// the Go stand-in run as a process (apiv4-proxy/mattermosttest/standin: the
// sandbox's API with Mattermost's plugin routes), with a REAL webpack-built
// plugin installed on it, never pushed to mmtoolkit: the host finds it in
// GET /api/v4/plugins/webapp, loads its bundle from /static/plugins/ through
// mmtoolkit, with the host modules it reads (react-intl), and renders it.
// A plugin pushed to mmtoolkit and enabled for the team loads too. An id
// on both sides: the team's copy while the team enables it, Mattermost's
// once it disables it, without a reload.
import assert from 'node:assert/strict';
import {execFile, spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import {promisify} from 'node:util';

import {api, binary, cli, launch, loggedInPage, login, repoDir, withShots} from './harness.mjs';
import {fixtureSrc, pluginDir} from './webpack/build.mjs';

const run = promisify(execFile);

/** Starts a process and resolves with the URL its first "serving on" line names. */
function startProcess(bin, args, what) {
    const proc = spawn(bin, args, {stdio: ['ignore', 'pipe', 'pipe']});
    let log = '';
    const url = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${log}`)), 30000);
        const onData = (b) => {
            log += b;
            const m = /serving on (http:\/\/[\d.:]+)/.exec(log);
            if (m) {
                clearTimeout(timer);
                resolve(m[1]);
            }
        };
        proc.stdout.on('data', onData);
        proc.stderr.on('data', (b) => {
            log += b;
        });
        proc.on('exit', (code) => reject(new Error(`${what} exited ${code}:\n${log}`)));
    });
    return {
        url,
        log: () => log,
        async stop() {
            if (proc.exitCode === null) {
                proc.kill('SIGTERM');
                await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
            }
        },
    };
}

describe('the host in front of a Mattermost', () => {
    let bin;
    let standin;
    let serve;
    let server;
    let chrome;
    const pages = [];
    const tmp = mkdtempSync(path.join(tmpdir(), 'mmtoolkit-e2e-upstream-'));

    before(async () => {
        bin = await binary();
        const standinBin = path.join(tmp, 'standin');
        await run('go', ['build', '-o', standinBin, './apiv4-proxy/mattermosttest/standin'], {cwd: repoDir});
        // The starter template's build: React, ReactRedux, ReactIntl from window.
        const plugin = await pluginDir(fixtureSrc('starter'), {webpack: 5});
        standin = startProcess(standinBin, ['-addr', '127.0.0.1:0', '-data', tmp, '-plugin', plugin], 'stand-in Mattermost');
        const upstream = await standin.url;
        serve = startProcess(bin, ['serve', '--addr', '127.0.0.1:0', '--data', path.join(tmp, 'data'), '--reference-plugins=false',
            '--upstream', upstream], 'mmtoolkit serve --upstream');
        server = {url: await serve.url};
        chrome = await launch();
    });
    after(async () => {
        for (const p of pages) {
            await p.context().close().catch(() => undefined);
        }
        await chrome?.close();
        await serve?.stop();
        await standin?.stop();
        rmSync(tmp, {recursive: true, force: true});
    });

    it("loads the Mattermost's webpack-built plugin and the team's own", withShots('upstream-plugins', () => pages, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        assert.match(serve.log(), /upstream mode/);
        // A plugin of mmtoolkit's, for the team.
        await cli(bin, server, 'dev', 'push', path.join(repoDir, 'docs/examples/hello'));
        const hello = JSON.parse(readFileSync(path.join(repoDir, 'docs/examples/hello/plugin.json'), 'utf8')).id;
        await cli(bin, server, 'alice', 'enable', '--team', 'engineering', '--plugin', hello);
        const admin = await login(server, 'alice');

        const list = await api(server, admin, 'GET', '/api/v4/plugins/webapp?team=engineering');
        assert.deepEqual(list.map((e) => e.id).sort(), [hello, 'e2e.webpack'].sort());

        const page = await loggedInPage(chrome.browser, server, 'bob', '/engineering/channels/town-square');
        pages.push(page);
        const errors = [];
        page.on('pageerror', (e) => errors.push(e.message));
        // Rendered by the Mattermost's plugin, its translation applied.
        const badge = page.locator('.webpack-badge');
        await badge.waitFor();
        assert.match(await badge.textContent(), /Webpack sees @bob in/);
        const src = await page.getAttribute('script[data-plugin-id="e2e.webpack"]', 'src');
        assert.match(src, /^\/static\/plugins\/e2e\.webpack\/e2e\.webpack_[0-9a-f]{16}_bundle\.js$/);
        // The team's own plugin, from mmtoolkit's manifest.
        await page.waitForSelector(`script[data-plugin-id="${hello}"][src^="/bundles/"]`, {state: 'attached'});
        assert.deepEqual(errors, []);
    }));

    it("an id on both sides: the team's copy while enabled, Mattermost's once the team disables it, live", withShots('upstream-conflict', () => pages, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        // The same plugin pushed to mmtoolkit and enabled for engineering:
        // --plugin-conflict=mmtoolkit (the default) gives the team this copy.
        await cli(bin, server, 'dev', 'push', await pluginDir(fixtureSrc('starter'), {webpack: 5, manifest: {version: '1.0.1'}}));
        await cli(bin, server, 'alice', 'enable', '--team', 'engineering', '--plugin', 'e2e.webpack');
        const page = await loggedInPage(chrome.browser, server, 'bob', '/engineering/channels/town-square');
        pages.push(page);
        const script = 'script[data-plugin-id="e2e.webpack"]';
        await page.waitForSelector(`${script}[src^="/bundles/"]`, {state: 'attached'});
        await page.locator('.webpack-badge').waitFor();
        assert.equal(await page.locator(script).count(), 1);

        await cli(bin, server, 'alice', 'disable', '--team', 'engineering', '--plugin', 'e2e.webpack');
        await page.waitForSelector(`${script}[src^="/static/plugins/e2e.webpack/"]`, {state: 'attached'});
        await page.locator('.webpack-badge').waitFor();
        assert.equal(await page.locator(script).count(), 1);
        assert.equal(await page.locator('.webpack-badge').count(), 1);
    }));
});
