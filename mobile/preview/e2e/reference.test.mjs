// /mobile-preview with the reference plugins a first `serve` preinstalls:
// each one's mobile part loads (verified, evaluated) and renders its slots
// with real sandbox posts, in Debian's Chromium. Screenshot:
// docs/screenshots/mobile-preview.png.
//
//   MMTOOLKIT_BIN=bin/mmtoolkit node --test mobile/preview/e2e/
import fs from 'node:fs';
import path from 'node:path';
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

// The webapp's browser-test harness: the server on a temp data directory and
// Debian's Chromium (a failure, not a skip, under CI=true).
import {chromiumPath, startServer} from '../../../webapp/e2e/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.join(here, '..', '..', '..');
const bin = process.env.MMTOOLKIT_BIN;
const refs = ['video', 'map', 'appcenter'].map((name) => JSON.parse(fs.readFileSync(path.join(repo, 'plugins', name, 'plugin.json'), 'utf8')));

let server, url, browser;

before(async () => {
  assert.ok(bin, 'set MMTOOLKIT_BIN to a built mmtoolkit (make build)');
  // Zero config, as an operator starts it: the reference plugins install.
  server = await startServer(bin, {referencePlugins: true});
  url = server.url;
  const exe = chromiumPath();
  if (exe) browser = await chromium.launch({executablePath: exe, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run']});
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

for (const [user, team] of [['bob', 'engineering'], ['carol', 'sales']]) {
  test(`/mobile-preview of ${team} runs the three reference plugins`, async (t) => {
    if (!browser) return t.skip('no Chromium');
    const login = await fetch(`${url}/api/v4/users/login`, {
      method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({login_id: user, password: 'mmtoolkit'}),
    });
    const context = await browser.newContext({viewport: {width: 440, height: 900}});
    await context.addCookies([{name: 'MMAUTHTOKEN', value: login.headers.get('Token'), url}]);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    try {
      await page.goto(`${url}/mobile-preview?team=${team}&platform=android`);
      for (const m of refs) {
        await page.getByText(`${m.id} ${m.version} — active`).waitFor({timeout: 20000});
      }
      // Nothing failed or fell back, and nothing crashed while rendering.
      assert.equal(await page.getByText(/— (failed|fallback)/).count(), 0, 'a reference plugin failed to load');
      assert.equal(await page.getByText(/^crash:/).count(), 0, 'a reference plugin crashed');
      assert.deepEqual(errors, []);
      if (team === 'engineering') {
        // docs/screenshots only under `make screenshots`: a test run leaves the tree as it was.
        const shots = process.env.MMTOOLKIT_SCREENSHOTS ? path.resolve(process.env.MMTOOLKIT_SCREENSHOTS) : path.join(here, 'out');
        fs.mkdirSync(shots, {recursive: true});
        await page.screenshot({path: path.join(shots, 'mobile-preview.png'), fullPage: true});
      }
    } catch (e) {
      const shot = path.join(here, 'out', `reference-${team}-failure.png`);
      fs.mkdirSync(path.dirname(shot), {recursive: true});
      await page.screenshot({path: shot, fullPage: true}).catch(() => undefined);
      throw new Error(`${e.message}\nscreenshot: ${shot}\nerrors: ${errors.join('\n')}`);
    } finally {
      await context.close();
    }
  });
}
