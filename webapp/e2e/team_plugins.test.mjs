// Per-team plugins in Mattermost's own, unmodified webapp (issue 16 item
// 2): mmtoolkit serve --upstream in front of the Go stand-in Mattermost
// (apiv4-proxy/mattermosttest/wsstandin: its websocket numbers events and
// resumes connections as Mattermost's does). In Chromium, the page runs
// the REAL @mattermost/client WebSocketClient (bundled from node_modules
// as it is) with the handlers Mattermost's webapp gives it
// (actions/websocket_actions.jsx, plugins/index.ts): plugin_enabled loads
// the bundle with a <script>, plugin_disabled removes the plugin, a
// reconnect reloads GET /api/v4/plugins/webapp and re-sends the current
// team. The client itself closes and reconnects on any event whose seq is
// not the next one, so "no reconnect" below means the events mmtoolkit
// added kept the sequence.
import assert from 'node:assert/strict';
import {execFile, spawn} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import {promisify} from 'node:util';

import {build} from 'esbuild';

import {binary, launch, repoDir, webappDir, withShots} from './harness.mjs';

const run = promisify(execFile);

/** Starts wsstandin; resolves with its fixture line and a command sender. */
function startStandin(bin) {
    const proc = spawn(bin, [], {stdio: ['pipe', 'pipe', 'pipe']});
    let out = '';
    let err = '';
    const waiters = [];
    proc.stdout.on('data', (b) => {
        out += b;
        for (const w of [...waiters]) {
            if (out.includes(w.line)) {
                waiters.splice(waiters.indexOf(w), 1);
                w.resolve();
            }
        }
    });
    proc.stderr.on('data', (b) => {
        err += b;
    });
    const fixture = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`wsstandin did not start:\n${out}${err}`)), 30000);
        const onData = () => {
            const nl = out.indexOf('\n');
            if (nl >= 0) {
                clearTimeout(timer);
                proc.stdout.off('data', onData);
                resolve(JSON.parse(out.slice(0, nl)));
            }
        };
        proc.stdout.on('data', onData);
        proc.on('exit', (code) => reject(new Error(`wsstandin exited ${code}:\n${err}`)));
    });
    return {
        fixture,
        /** Sends a command and waits for its "ok" line. */
        send(cmd) {
            const line = `ok ${cmd}\n`;
            const p = new Promise((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error(`wsstandin: no answer to ${cmd}:\n${out}`)), 10000);
                waiters.push({line, resolve: () => {
                    clearTimeout(timer);
                    resolve();
                }});
            });
            proc.stdin.write(cmd + '\n');
            return p;
        },
        async stop() {
            proc.stdin.end();
            if (proc.exitCode === null) {
                proc.kill('SIGTERM');
                await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
            }
        },
    };
}

function startServe(bin, args) {
    const proc = spawn(bin, args, {stdio: ['ignore', 'pipe', 'pipe']});
    let log = '';
    const url = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start:\n${log}`)), 30000);
        const onData = (b) => {
            log += b;
            const m = /serving on (http:\/\/[\d.:]+)/.exec(log);
            if (m) {
                clearTimeout(timer);
                resolve(m[1]);
            }
        };
        proc.stdout.on('data', onData);
        proc.stderr.on('data', onData);
        proc.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${log}`)));
    });
    return {
        url,
        async stop() {
            if (proc.exitCode === null) {
                proc.kill('SIGTERM');
                await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
            }
        },
    };
}

// The page side: Mattermost's webapp's plugin loading and websocket
// handlers, reduced to what they do with plugins. window.MMWebSocketClient
// is @mattermost/client's WebSocketClient, bundled unchanged.
function pageHarness(teamId) {
    const loaded = {}; // plugins/index.ts loadedPlugins
    const h = {
        state: {}, // state.plugins.plugins
        events: [], // every event the client accepted: [event, seq, plugin id]
        closes: 0,
        reconnects: 0,
        missed: 0,
        active: [], // plugins initialized and not uninitialized
        teamId,
    };
    window.harness = h;
    window.plugins = {};
    window.registerPlugin = (id, plugin) => {
        const old = window.plugins[id];
        if (old && old.uninitialize) {
            old.uninitialize();
        }
        window.plugins[id] = plugin;
    };
    window.pluginActive = (id, on) => {
        h.active = h.active.filter((x) => x !== id);
        if (on) {
            h.active.push(id);
        }
    };
    const loadPlugin = (manifest) => new Promise((resolve, reject) => {
        const old = loaded[manifest.id];
        if (old && old.webapp?.bundle_path === manifest.webapp?.bundle_path) {
            resolve();
            return;
        }
        // An upgrade (another bundle_path) only clears the plugin's
        // components (removeWebappPlugin): the old script stays, and a
        // bundle still loading runs and registers when it arrives.
        let bundlePath = manifest.webapp?.bundle_path;
        if (bundlePath && bundlePath.includes('/static/') && !bundlePath.includes('/static/plugins/')) {
            bundlePath = bundlePath.replace('/static/', '/static/plugins/');
        }
        const script = document.createElement('script');
        script.id = 'plugin_' + manifest.id;
        script.src = location.origin + bundlePath;
        script.defer = true;
        script.onload = () => {
            // initializePlugin: whichever plugin registered last.
            const p = window.plugins[manifest.id];
            if (p && p.initialize) {
                p.initialize({}, {});
            }
            resolve();
        };
        script.onerror = () => reject(new Error('Unable to load bundle for ' + manifest.id));
        document.head.appendChild(script);
        loaded[manifest.id] = manifest;
    });
    const removePlugin = (manifest) => {
        if (!loaded[manifest.id]) {
            return;
        }
        delete loaded[manifest.id];
        delete h.state[manifest.id];
        const p = window.plugins[manifest.id];
        if (p && p.uninitialize) {
            p.uninitialize();
        }
        document.getElementById('plugin_' + manifest.id)?.remove();
    };
    const getPlugins = async () => {
        const r = await fetch('/api/v4/plugins/webapp', {headers: {'X-Requested-With': 'XMLHttpRequest'}});
        const list = await r.json();
        h.state = Object.fromEntries(list.map((m) => [m.id, m]));
        return list;
    };
    h.initializePlugins = async () => {
        const list = await getPlugins();
        await Promise.all(list.map((m) => loadPlugin(m).catch(() => undefined)));
    };
    const loadPluginsIfNecessary = async () => {
        const old = {...h.state};
        await getPlugins();
        for (const m of Object.values(h.state)) {
            if (!old[m.id] || old[m.id].version !== m.version) {
                loadPlugin(m).catch(() => undefined);
            }
        }
        for (const id of Object.keys(old)) {
            if (!h.state[id]) {
                removePlugin(old[id]);
            }
        }
    };
    const client = new window.MMWebSocketClient({minWebSocketRetryTime: 200, reconnectJitterRange: 100});
    h.client = client;
    client.addMessageListener((msg) => {
        h.events.push([msg.event, msg.seq, msg.data?.manifest?.id ?? '']);
        if (msg.event === 'plugin_enabled') {
            h.state[msg.data.manifest.id] = msg.data.manifest;
            loadPlugin(msg.data.manifest).catch(() => undefined);
        } else if (msg.event === 'plugin_disabled') {
            removePlugin(msg.data.manifest);
        }
    });
    client.addCloseListener(() => {
        h.closes++;
    });
    client.addReconnectListener(() => {
        h.reconnects++;
        client.updateActiveTeam(h.teamId);
        loadPluginsIfNecessary();
    });
    client.addMissedMessageListener(() => {
        h.missed++;
    });
    h.switchTeam = (id) => {
        h.teamId = id;
        client.updateActiveTeam(id); // team_sidebar's componentDidUpdate
    };
    const url = location.origin.replace(/^http/, 'ws') + '/api/v4/websocket';
    client.initialize(url, undefined, true); // the webapp: cookie auth, posted_ack
}

const pluginSource = (id) => `window.registerPlugin(${JSON.stringify(id)}, {
    initialize() { window.pluginActive(${JSON.stringify(id)}, true); },
    uninitialize() { window.pluginActive(${JSON.stringify(id)}, false); },
});
`;

describe('per-team plugins in Mattermost\'s own webapp', () => {
    let bin;
    let standin;
    let serve;
    let fx;
    let chrome;
    let clientBundle;
    const pages = [];
    const tmp = mkdtempSync(path.join(tmpdir(), 'mmtoolkit-e2e-teamplugins-'));

    const mmtoolkit = async (...args) => {
        const env = {...process.env, MMTOOLKIT_SERVER: await serve.url, MMTOOLKIT_TOKEN: fx.tokens.admin};
        try {
            return await run(bin, args, {env});
        } catch (e) {
            throw new Error(`mmtoolkit ${args.join(' ')}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
        }
    };
    const enable = async (id, team, enabled = true) => {
        const r = await fetch(`${await serve.url}/api/v1/teams/${fx.teams[team]}/plugins/${id}`, {
            method: 'PUT', body: JSON.stringify({enabled}),
            headers: {Authorization: `Bearer ${fx.tokens.admin}`, 'Content-Type': 'application/json'},
        });
        assert.equal(r.status, 200, await r.text());
    };
    const push = async (id, version, ...teams) => {
        const dir = path.join(tmp, `${id}-${version}`);
        mkdirSync(dir, {recursive: true});
        writeFileSync(path.join(dir, 'plugin.json'), JSON.stringify({id, name: id, version, webapp: {entry: 'index.js'}}));
        writeFileSync(path.join(dir, 'index.js'), pluginSource(id));
        await mmtoolkit('push', dir);
        for (const t of teams) {
            await enable(id, t);
        }
    };
    /** A page of mmtoolkit's origin with the user's session cookie, running the webapp's client. */
    const openPage = async (user, team) => {
        const context = await chrome.browser.newContext();
        const url = await serve.url;
        await context.addCookies([{name: 'MMAUTHTOKEN', value: fx.tokens[user], url}]);
        const page = await context.newPage();
        page.consoleLines = [];
        page.on('console', (m) => page.consoleLines.push(`${m.type()}: ${m.text()}`));
        pages.push(page);
        await page.goto(url + '/healthz');
        await page.addScriptTag({content: clientBundle});
        await page.evaluate(pageHarness, fx.teams[team]);
        await page.evaluate(() => window.harness.initializePlugins());
        return page;
    };
    const active = (page) => page.evaluate(() => [...window.harness.active].sort());
    const waitActive = async (page, want) => {
        await page.waitForFunction((w) => JSON.stringify([...window.harness.active].sort()) === JSON.stringify(w),
            [...want].sort(), {timeout: 15000}).catch(async () => {
            const h = await page.evaluate(() => JSON.stringify({events: window.harness.events, state: Object.keys(window.harness.state)}));
            assert.deepEqual(await active(page), [...want].sort(), `plugins initialized in the page (${h}; console: ${page.consoleLines.join(' | ')})`);
        });
    };
    const counters = (page) => page.evaluate(() => ({closes: window.harness.closes, reconnects: window.harness.reconnects,
        missed: window.harness.missed}));

    before(async () => {
        bin = await binary();
        const standinBin = path.join(tmp, 'wsstandin');
        await run('go', ['build', '-o', standinBin, './apiv4-proxy/mattermosttest/wsstandin'], {cwd: repoDir});
        standin = startStandin(standinBin);
        fx = await standin.fixture;
        serve = startServe(bin, ['serve', '--addr', '127.0.0.1:0', '--data', path.join(tmp, 'data'),
            '--reference-plugins=false', '--upstream', fx.url]);
        await serve.url;
        const out = await build({
            stdin: {contents: 'import WebSocketClient from "@mattermost/client/lib/websocket.js"; window.MMWebSocketClient = WebSocketClient;',
                resolveDir: webappDir, loader: 'js'},
            bundle: true, format: 'iife', write: false, logLevel: 'silent',
        });
        clientBundle = out.outputFiles[0].text;
        await push('onlyalpha', '1.0.0', 'alpha');
        await push('onlybeta', '1.0.0', 'beta');
        await push('both', '1.0.0', 'alpha', 'beta');
        chrome = await launch();
        if (!chrome && process.env.CI === 'true') {
            throw new Error('Chromium is missing (CHROMIUM_PATH or /usr/bin/chromium)');
        }
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

    it('switches plugins with the team, within the client\'s sequence, without a reconnect', withShots('team-switch', () => pages, async (t) => {
        if (!chrome) {
            t.skip('no Chromium');
            return;
        }
        const page = await openPage('alice', 'alpha');
        await waitActive(page, ['both', 'onlyalpha']);
        await page.evaluate((id) => window.harness.switchTeam(id), fx.teams.beta);
        await waitActive(page, ['both', 'onlybeta']);
        await page.evaluate((id) => window.harness.switchTeam(id), fx.teams.alpha);
        await waitActive(page, ['both', 'onlyalpha']);
        // Mattermost's next event comes numbered after the added ones.
        await standin.send('posted');
        await page.waitForFunction(() => window.harness.events.some((e) => e[0] === 'posted'), null, {timeout: 15000}).catch(() => undefined);
        assert.deepEqual(await counters(page), {closes: 0, reconnects: 0, missed: 0});
        assert.ok(await page.evaluate(() => window.harness.events.some((e) => e[0] === 'posted')), 'Mattermost\'s event reached the client');
        // A reload (the first load) serves the team the session last showed.
        await page.evaluate((id) => window.harness.switchTeam(id), fx.teams.beta);
        await waitActive(page, ['both', 'onlybeta']);
        const list = await page.evaluate(async () => (await (await fetch('/api/v4/plugins/webapp')).json()).map((m) => m.id).sort());
        assert.deepEqual(list, ['both', 'onlybeta']);

        // Viewing a channel of alpha, as every channel switch does
        // (Client4.viewMyChannel), says the team too.
        await page.evaluate(async (channelId) => {
            const r = await fetch('/api/v4/channels/members/me/view', {method: 'POST', headers: {'X-Requested-With': 'XMLHttpRequest'},
                body: JSON.stringify({channel_id: channelId, collapsed_threads_supported: true})});
            if (!r.ok) {
                throw new Error(`view: ${r.status}`);
            }
        }, fx.channels.alpha);
        await waitActive(page, ['both', 'onlyalpha']);
        assert.deepEqual(await counters(page), {closes: 0, reconnects: 0, missed: 0});
    }));

    it('brings an admin\'s toggle to the sessions on that team only', withShots('admin-toggle', () => pages, async (t) => {
        if (!chrome) {
            t.skip('no Chromium');
            return;
        }
        const alice = await openPage('alice', 'alpha');
        const bob = await openPage('bob', 'beta');
        await alice.evaluate((id) => window.harness.switchTeam(id), fx.teams.alpha);
        await waitActive(alice, ['both', 'onlyalpha']);
        await waitActive(bob, ['both', 'onlybeta']);
        const seen = await alice.evaluate(() => window.harness.events.length);
        await push('late', '1.0.0', 'beta');
        await waitActive(bob, ['both', 'late', 'onlybeta']);
        await enable('onlybeta', 'beta', false);
        await waitActive(bob, ['both', 'late']);
        await enable('onlyalpha', 'alpha', false);
        await waitActive(alice, ['both']);
        const got = await alice.evaluate((n) => window.harness.events.slice(n).filter((e) => e[0].startsWith('plugin_')).map((e) => e[2]), seen);
        assert.deepEqual(got, ['onlyalpha'], 'alice gets her team\'s toggle, none of beta\'s');
        await enable('onlyalpha', 'alpha', true);
        await enable('onlybeta', 'beta', true);
        assert.deepEqual(await counters(bob), {closes: 0, reconnects: 0, missed: 0});
    }));

    it('passes Mattermost\'s own plugin events untouched and keeps the sequence over a reconnect', withShots('upstream-reconnect', () => pages, async (t) => {
        if (!chrome) {
            t.skip('no Chromium');
            return;
        }
        const page = await openPage('bob', 'beta');
        await waitActive(page, ['both', 'late', 'onlybeta']);
        await standin.send('install calls 1.0.0');
        await page.waitForFunction(() => (window.initialized ?? []).includes('calls@mattermost'), null, {timeout: 15000});
        const manifest = await page.evaluate(() => window.harness.state.calls);
        assert.equal(manifest.settings_schema.header, 'on Mattermost', 'Mattermost\'s plugin_enabled reached the page as it sent it');

        // The network drops; Mattermost queues an event; an admin toggles a
        // plugin for bob's team meanwhile. The client resumes its
        // connection (connection_id, sequence_number): same connection,
        // the queued event replayed in sequence, no resync.
        const before = await page.evaluate(() => window.harness.events.length);
        await standin.send('drop');
        await standin.send('posted');
        await page.waitForFunction(() => window.harness.reconnects === 1, null, {timeout: 15000});
        await page.waitForFunction((n) => window.harness.events.slice(n).some((e) => e[0] === 'posted'), before, {timeout: 15000});
        await enable('onlybeta', 'beta', false);
        await waitActive(page, ['both', 'late']);
        await standin.send('posted');
        await page.waitForFunction((n) => window.harness.events.slice(n).filter((e) => e[0] === 'posted').length === 2, before, {timeout: 15000});
        const c = await counters(page);
        assert.equal(c.missed, 0, 'the client had to resync: the resumed connection lost its sequence');
        assert.equal(c.reconnects, 1, 'one reconnect (the drop), none for a sequence mismatch');
        const seqs = await page.evaluate(() => window.harness.events.map((e) => e[1]));
        assert.deepEqual(seqs, seqs.map((_, i) => i), 'events numbered 0, 1, 2, ... as the client checks');
        await enable('onlybeta', 'beta', true);
    }));

    it('keeps the team\'s copy when Mattermost upgrades a plugin of the same id', withShots('upstream-upgrade-kept', () => pages, async (t) => {
        if (!chrome) {
            t.skip('no Chromium');
            return;
        }
        // --plugin-conflict=mmtoolkit (the default): beta's sessions get
        // mmtoolkit's "both". Mattermost installs its own "both"; its
        // bundle comes through the proxy, slower than mmtoolkit's.
        const page = await openPage('bob', 'beta');
        await waitActive(page, ['both', 'late', 'onlybeta']);
        const teams = await page.evaluate(() => window.harness.state.both.webapp.bundle_path.replace('/static/', '/static/plugins/'));
        await page.route('**/static/plugins/both/**', async (route) => {
            if (!route.request().url().endsWith(teams)) {
                await new Promise((r) => setTimeout(r, 500));
            }
            await route.continue();
        });
        const before = await page.evaluate(() => window.harness.events.length);
        await standin.send('install both 2.0.0');
        await page.waitForFunction((n) => window.harness.events.slice(n).some((e) => e[2] === 'both'), before, {timeout: 15000});
        // Had Mattermost's event passed, the webapp would start loading
        // Mattermost's bundle and, on the team's copy sent after it, load
        // that one too: the last to run wins. Wait past the slow bundle.
        await new Promise((r) => setTimeout(r, 1500));
        const got = await page.evaluate((n) => ({
            events: window.harness.events.slice(n).filter((e) => e[2] === 'both').map((e) => e[0]),
            mattermosts: (window.initialized ?? []).filter((x) => x === 'both@mattermost'),
            bundles: [...document.querySelectorAll('script[id="plugin_both"]')].map((e) => new URL(e.src).pathname),
        }), before);
        assert.deepEqual(got.mattermosts, [], 'Mattermost\'s bundle of "both" ran in a session whose team keeps its own');
        assert.deepEqual(got.bundles, [teams], 'the page loads the team\'s bundle of "both" only');
        assert.deepEqual(got.events, ['plugin_enabled']);
        assert.deepEqual(await active(page), ['both', 'late', 'onlybeta']);
        assert.deepEqual(await counters(page), {closes: 0, reconnects: 0, missed: 0});
    }));
});
