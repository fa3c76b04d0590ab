// Browser test harness: a real mmtoolkit server on loopback with a temp data
// directory, the real CLI to push and enable plugins, Debian's Chromium
// driven by playwright-core. Screenshots of failures go to
// webapp/test-artifacts/ (the path is printed).
import {spawn, execFile} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';

import {chromium} from 'playwright-core';

const run = promisify(execFile);
export const webappDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const repoDir = path.resolve(webappDir, '..');
export const artifacts = path.join(webappDir, 'test-artifacts');

/** Debian's Chromium, or null. Under CI=true a missing browser is a failure, never a skip. */
export function chromiumPath() {
    for (const p of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean)) {
        if (existsSync(p)) {
            return p;
        }
    }
    if (process.env.CI === 'true') {
        throw new Error('Chromium not found (CI=true makes this a failure): apt-get install -y chromium');
    }
    return null;
}

/** The binary under test: MMTOOLKIT_BIN (make browser sets it) or a fresh go build. */
export async function binary() {
    if (process.env.MMTOOLKIT_BIN && existsSync(process.env.MMTOOLKIT_BIN)) {
        return process.env.MMTOOLKIT_BIN;
    }
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'mmtoolkit-bin-')), 'mmtoolkit');
    await run('go', ['build', '-o', out, './cmd/mmtoolkit'], {cwd: repoDir});
    return out;
}

/**
 * Starts `mmtoolkit serve` on a temp data directory. The reference plugins
 * are not preinstalled unless {referencePlugins: true}: most tests want a
 * team with only the plugins they push.
 */
export async function startServer(bin, {referencePlugins = false} = {}) {
    const data = mkdtempSync(path.join(tmpdir(), 'mmtoolkit-e2e-'));
    const args = ['serve', '--addr', '127.0.0.1:0', '--data', data, `--reference-plugins=${referencePlugins}`];
    const proc = spawn(bin, args, {stdio: ['ignore', 'pipe', 'pipe']});
    let log = '';
    const url = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 15000);
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
        proc.on('exit', (code) => reject(new Error(`server exited ${code}:\n${log}`)));
    });
    return {
        url,
        data,
        log: () => log,
        async stop() {
            proc.kill('SIGTERM');
            await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
            rmSync(data, {recursive: true, force: true});
        },
    };
}

/** Runs the mmtoolkit CLI as a sandbox user. */
export async function cli(bin, server, user, ...args) {
    const env = {...process.env, MMTOOLKIT_SERVER: server.url, MMTOOLKIT_USER: user, MMTOOLKIT_PASSWORD: 'mmtoolkit', MMTOOLKIT_TOKEN: ''};
    try {
        const {stdout, stderr} = await run(bin, args, {env});
        return {stdout, stderr};
    } catch (e) {
        throw new Error(`mmtoolkit ${args.join(' ')} as ${user}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    }
}

export async function login(server, user) {
    const r = await fetch(`${server.url}/api/v4/users/login`, {method: 'POST', body: JSON.stringify({login_id: user, password: 'mmtoolkit'})});
    if (!r.ok) {
        throw new Error(`login ${user}: ${r.status}`);
    }
    return r.headers.get('Token');
}

export async function api(server, token, method, p, body) {
    const r = await fetch(server.url + p, {
        method, headers: {Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'X-Requested-With': 'XMLHttpRequest'},
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) {
        throw new Error(`${method} ${p}: ${r.status} ${text}`);
    }
    return text ? JSON.parse(text) : null;
}

export async function launch() {
    const executablePath = chromiumPath();
    if (!executablePath) {
        return null;
    }
    // playwright's launch gives Chromium a fresh temporary --user-data-dir
    // of its own (and refuses one passed in args), removed on close.
    const browser = await chromium.launch({
        executablePath,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
            '--disable-sync', '--no-first-run'],
    });
    return {
        browser,
        close: () => browser.close(),
    };
}

/** A logged-in page; console errors are collected for the failure report. */
export async function loggedInPage(browser, server, user, pathAfter = '/') {
    const context = await browser.newContext({viewport: {width: 1280, height: 800}});
    const page = await context.newPage();
    page.consoleLines = [];
    page.on('console', (m) => page.consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => page.consoleLines.push(`pageerror: ${e.message}`));
    await page.goto(server.url + '/login');
    await page.fill('input[name=loginId]', user);
    await page.fill('input[name=password]', 'mmtoolkit');
    await page.click('button[type=submit]');
    await page.waitForSelector('.channel-header h2');
    if (pathAfter !== '/') {
        await page.goto(server.url + pathAfter);
        await page.waitForSelector('.app');
    }
    return page;
}

/** Wraps a test body: on failure, a screenshot (path printed) and the page's console. */
export function withShots(name, pages, body) {
    return async (t) => {
        try {
            await body(t);
        } catch (e) {
            mkdirSync(artifacts, {recursive: true});
            for (const [i, p] of pages().slice(-2).entries()) {
                if (!p || p.isClosed()) {
                    continue;
                }
                const file = path.join(artifacts, `${name.replace(/[^a-z0-9]+/gi, '-')}-${i}.png`);
                await p.screenshot({path: file, fullPage: true}).catch(() => undefined);
                console.error(`screenshot: ${file}`);
                console.error((p.consoleLines ?? []).slice(-30).join('\n'));
            }
            throw e;
        }
    };
}
