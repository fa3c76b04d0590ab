// Previews in Chromium: `push --watch` builds are prereleases, served to
// the developer's own page (with a "preview" marker in the header) and to
// nobody else's; stopping the watch swaps the developer's page back, live.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {binary, cli, launch, loggedInPage, repoDir, startServer, withShots} from './harness.mjs';

describe('previews of push --watch builds', () => {
    let bin;
    let server;
    let chrome;
    let dir;
    let watch;
    let watchLog = '';
    const pages = [];
    const shots = () => pages;

    const open = async (user) => {
        const page = await loggedInPage(chrome.browser, server, user);
        pages.push(page);
        await page.waitForFunction(() => window.mmtoolkitHost?.store.getState().plugins.settledAt > 0);
        return page;
    };
    const served = (page) => page.evaluate(() => window.mmtoolkitHost.store.getState().plugins.plugins['com.example.hello']?.version ?? '');

    before(async () => {
        bin = await binary();
        server = await startServer(bin);
        chrome = await launch();
        dir = mkdtempSync(path.join(tmpdir(), 'mmtoolkit-preview-'));
        cpSync(path.join(repoDir, 'docs', 'examples', 'hello'), dir, {recursive: true});
        await cli(bin, server, 'dev', 'push', dir);
        await cli(bin, server, 'alice', 'enable', '--team', 'engineering', '--plugin', 'com.example.hello');
    });
    after(async () => {
        watch?.kill('SIGKILL');
        for (const p of pages) {
            await p.context().close().catch(() => undefined);
        }
        await chrome?.close();
        await server?.stop();
        rmSync(dir, {recursive: true, force: true});
    });

    it('shows the developer their builds with a preview marker, and nobody else', withShots('preview', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const dev = await open('dev');
        const bob = await open('bob');
        assert.equal(await served(dev), '1.0.0');
        assert.equal(await dev.locator('.preview-marker').count(), 0, 'a marker before any preview');

        watch = spawn(bin, ['push', '--watch', dir], {env: {...process.env, MMTOOLKIT_SERVER: server.url, MMTOOLKIT_USER: 'dev',
            MMTOOLKIT_PASSWORD: 'mmtoolkit', MMTOOLKIT_TOKEN: ''}});
        watch.stdout.on('data', (b) => (watchLog += b));
        watch.stderr.on('data', (b) => (watchLog += b));

        // Live, without a reload: the marker names the build.
        const marker = dev.locator('.preview-marker');
        await marker.waitFor({timeout: 20000}).catch(async (e) => {
            const state = await dev.evaluate(() => JSON.stringify(window.mmtoolkitHost.store.getState().plugins.plugins));
            throw new Error(`${e.message}\nwatch output:\n${watchLog}\nthe page's plugins: ${state}`);
        });
        assert.match(await marker.textContent(), /^preview: Hello 1\.0\.1-dev\.\d+$/);
        assert.match(await served(dev), /^1\.0\.1-dev\./);
        await dev.locator('.channel-header button[aria-label="Say hello"]').waitFor();

        // A save: the developer's page gets the new build, still marked.
        const first = await served(dev);
        const entry = path.join(dir, 'webapp', 'index.tsx');
        writeFileSync(entry, readFileSync(entry, 'utf8').replace("'Say hello',\n            'Say hello',", "'Say hi',\n            'Say hi',"));
        await dev.waitForFunction((v) => {
            const p = window.mmtoolkitHost.store.getState().plugins.plugins['com.example.hello'];
            return p && p.version !== v && p.preview;
        }, first, {timeout: 20000});
        assert.match(await marker.textContent(), /^preview: Hello 1\.0\.1-dev\.\d+$/);

        // bob's page never saw a build.
        assert.equal(await served(bob), '1.0.0');
        assert.equal(await bob.locator('.preview-marker').count(), 0, 'bob sees a preview marker');

        // Ctrl-C: the developer's page goes back to the release, live.
        const exited = new Promise((r) => watch.once('exit', r));
        watch.kill('SIGINT');
        await exited;
        watch = null;
        await marker.waitFor({state: 'detached', timeout: 10000});
        await dev.waitForFunction(() => window.mmtoolkitHost.store.getState().plugins.plugins['com.example.hello']?.version === '1.0.0');
        assert.match(watchLog, /preview ended/);
    }));
});
