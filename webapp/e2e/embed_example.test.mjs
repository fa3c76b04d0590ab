// docs/embed.md's example site as `make run` serves it (serve
// --embed-example): on a second origin, its two lines show engineering's
// Town Square, its backend's tokens work, and its buttons drive the JS API.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {binary, launch, withShots} from './harness.mjs';

describe('embed example (serve --embed-example)', () => {
    let proc;
    let data;
    let chrome;
    let example; // the example site's URL
    const pages = [];

    before(async () => {
        const bin = await binary();
        data = mkdtempSync(path.join(tmpdir(), 'mmtoolkit-e2e-'));
        proc = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data', data, '--embed-example', '127.0.0.2:0'], {stdio: ['ignore', 'pipe', 'pipe']});
        let log = '';
        example = await new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no example site:\n${log}`)), 30000);
            const onData = (b) => {
                log += b;
                const m = /embed example \(docs\/embed\.md\): (http:\/\/127\.0\.0\.2:\d+)\//.exec(log);
                if (m) {
                    clearTimeout(timer);
                    resolve(m[1]);
                }
            };
            proc.stdout.on('data', onData);
            proc.stderr.on('data', onData);
            proc.on('exit', (code) => reject(new Error(`server exited ${code}:\n${log}`)));
        });
        chrome = await launch();
    });
    after(async () => {
        await chrome?.close();
        if (proc && proc.exitCode === null) {
            proc.kill('SIGTERM');
            await new Promise((r) => proc.once('exit', r));
        }
        if (data) {
            rmSync(data, {recursive: true, force: true});
        }
    });

    it('shows the channel, sends from the page and opens another channel', withShots('embed-example', () => pages, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium (install: apt-get install -y chromium)');
        }
        const page = await chrome.browser.newPage();
        page.consoleLines = [];
        page.on('console', (m) => page.consoleLines.push(`${m.type()}: ${m.text()}`));
        pages.push(page);
        await page.goto(`${example}/?user=alice`);
        const logText = () => page.textContent('#log');
        await page.waitForFunction(() => document.getElementById('log').textContent.includes('mm-ready'), null, {timeout: 30000});
        const frame = page.frames().find((f) => f.url().includes('/embed/v1/frame'));
        await frame.waitForSelector('.post-message >> text=Welcome to the mmtoolkit sandbox');
        await page.fill('#text', 'hello from the example page');
        await page.click('#send button');
        await frame.waitForSelector('.post-message >> text=hello from the example page');
        await page.waitForFunction(() => /sent \{"post_id":"[a-z0-9]{26}"\}/.test(document.getElementById('log').textContent));
        assert.match(await logText(), /mm-message \{[^}]*"message":"hello from the example page"/);
        await page.click('#open-other');
        await frame.waitForSelector('.channel-header h2 >> text=Dev Talk');
        // The theme button flips the element's theme attribute: the frame follows, live.
        const bg = () => frame.evaluate(() => getComputedStyle(document.body).backgroundColor);
        assert.equal(await bg(), 'rgb(255, 255, 255)');
        await page.click('#theme');
        await frame.waitForFunction(() => getComputedStyle(document.body).backgroundColor === 'rgb(25, 27, 31)');
        assert.doesNotMatch(await logText(), /mm-error|failed/);
    }));
});
