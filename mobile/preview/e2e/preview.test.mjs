// /mobile-preview in Debian's Chromium (playwright-core) against a real
// server: the fixture plugins' mobile components render with
// react-native-web, a press works, and a screenshot is saved to
// mobile/preview/e2e/out/mobile-preview.png.
//
//   MMTOOLKIT_BIN=bin/mmtoolkit node --test mobile/preview/e2e/
import {execFileSync, spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, '..', '..', 'test', 'fixtures');
const bin = process.env.MMTOOLKIT_BIN;

function chromiumPath() {
  for (const p of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean)) {
    if (fs.existsSync(p)) return p;
  }
  return null;
}

let server, url, tmp, browser;

before(async () => {
  assert.ok(bin, 'set MMTOOLKIT_BIN to a built mmtoolkit (make build)');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmtoolkit-preview-'));
  server = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data', path.join(tmp, 'data'), '--reference-plugins=false'], {stdio: ['ignore', 'pipe', 'inherit']});
  url = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    server.on('exit', (c) => reject(new Error(`serve exited ${c}: ${out}`)));
  });
  const cli = (user, ...args) =>
    execFileSync(bin, args, {env: {...process.env, MMTOOLKIT_SERVER: url, MMTOOLKIT_USER: user, MMTOOLKIT_PASSWORD: 'mmtoolkit'}});
  for (const f of ['hello-1.0.0', 'initcrash', 'future']) cli('dev', 'push', path.join(fixtures, f));
  for (const id of ['mmtoolkit.test.hello', 'mmtoolkit.test.initcrash', 'mmtoolkit.test.future']) {
    cli('alice', 'enable', '--team', 'engineering', '--plugin', id);
  }
  const exe = chromiumPath();
  if (!exe && process.env.CI === 'true') throw new Error('Chromium not found (CI=true makes this a failure): apt-get install -y chromium');
  if (exe) browser = await chromium.launch({executablePath: exe, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run']});
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (tmp) fs.rmSync(tmp, {recursive: true, force: true});
});

test('/mobile-preview renders the team’s mobile slots with react-native-web', async (t) => {
  if (!browser) return t.skip('no Chromium');
  const login = await fetch(`${url}/api/v4/users/login`, {
    method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({login_id: 'bob', password: 'mmtoolkit'}),
  });
  const token = login.headers.get('Token');
  const context = await browser.newContext({viewport: {width: 440, height: 900}});
  // Logged in as the webapp is: the MMAUTHTOKEN cookie of the same origin.
  await context.addCookies([{name: 'MMAUTHTOKEN', value: token, url}]);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${url}/mobile-preview?team=engineering&platform=ios`);

  await page.getByText('Hello preview message (v1.0.0)').waitFor({timeout: 15000});
  await page.getByText('Hello center of engineering').waitFor();
  await page.getByText('mmtoolkit.test.initcrash 1.0.0 — failed').waitFor(); // isolated, listed
  await page.getByText('skipped: runtime ^2.0.0').waitFor();
  await page.getByText('Call Town Square: 0').click();
  await page.getByText('Call Town Square: 1').waitFor();

  const out = path.join(here, 'out');
  fs.mkdirSync(out, {recursive: true});
  await page.screenshot({path: path.join(out, 'mobile-preview.png'), fullPage: true});
  assert.deepEqual(errors, []);
  await context.close();
});
