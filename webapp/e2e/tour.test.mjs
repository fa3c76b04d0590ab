// The README's tour as a test (issue #20, item 5), so the README cannot lie.
//
// The commands are read out of README.md, not copied here: the tour's set-up
// block (`make run &` and the `export` line), then for each numbered step
// the lines of its fenced `sh` blocks and the inline commands of its text
// (code spans starting `mmtoolkit ` or `MMTOOLKIT_USER=`). They run in order
// in bash, in a temporary folder holding the tour's files (`docs/examples/
// hello`, copied, so the dev loop's edits touch no tracked file) and
// `bin/mmtoolkit` (the binary under test), after the README's own `export`
// line. The one change: `make run` is a fresh `mmtoolkit serve` on a free
// port with the reference plugins (what `make run` starts), and
// MMTOOLKIT_SERVER names it. A command's `#` comment that shows its output
// is checked against what it printed (the words before the first `:`, with
// `<id>` and `...` left out). Between the commands, the browser steps the
// step describes run in Chromium.
//
// Step 8 clones a repository from GitHub: it is skipped unless
// MMTOOLKIT_TOUR_NETWORK=1 (these tests run without network). Step 1's
// two-window call is the video plugin's own test (ref_video.test.mjs); here
// the call button is checked to be there.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {api, binary, launch, login, repoDir, withShots} from './harness.mjs';

/** The tour of README.md: its set-up block and its numbered steps. */
export function readTour(markdown) {
    const start = markdown.indexOf('## A 2-minute tour');
    assert.ok(start >= 0, 'README.md has no "## A 2-minute tour" section');
    const rest = markdown.slice(start + 3);
    const text = markdown.slice(start, start + 3 + (rest.search(/^## /m) >= 0 ? rest.search(/^## /m) : rest.length));
    const fenced = (s) => [...s.matchAll(/^[ \t]*```sh\n([\s\S]*?)^[ \t]*```/gm)].map((m) => m[1]);
    const first = text.search(/^1\. \*\*/m);
    const setup = fenced(text.slice(0, first)).join('\n').split('\n').map((l) => l.trim()).filter(Boolean);
    const steps = [];
    const heads = [...text.matchAll(/^(\d+)\. \*\*(.+?)\*\*/gm)];
    heads.forEach((h, i) => {
        // A step is its list item: the heading line, then indented or blank
        // lines (the paragraph after the last step is not part of it).
        const lines = text.slice(h.index, i + 1 < heads.length ? heads[i + 1].index : text.length).split('\n');
        const end = lines.findIndex((l, j) => j > 0 && l !== '' && !/^\s/.test(l));
        const body = (end < 0 ? lines : lines.slice(0, end)).join('\n');
        const commands = [];
        for (const block of fenced(body)) {
            for (let line of block.split('\n')) {
                line = line.trim();
                if (!line) {
                    continue;
                }
                if (line.startsWith('#')) {
                    // Output shown under the previous command.
                    if (commands.length > 0) {
                        commands[commands.length - 1].output.push(line.replace(/^#\s*/, ''));
                    }
                    continue;
                }
                const m = /^(.*?)\s+#\s*(.*)$/.exec(line);
                commands.push({cmd: m ? m[1] : line, output: m ? [m[2]] : [], inline: false});
            }
        }
        const prose = body.replace(/^[ \t]*```sh\n[\s\S]*?^[ \t]*```/gm, '');
        // A span may wrap onto the next line of the paragraph.
        const spans = [...prose.matchAll(/`([^`]+)`/g)].map((m) => m[1].replace(/\s+/g, ' '));
        for (const s of spans) {
            if (/^(MMTOOLKIT_USER=\S+\s+)?mmtoolkit \S/.test(s)) {
                commands.push({cmd: s, output: [], inline: true});
            }
        }
        steps.push({n: Number(h[1]), title: h[2], body, commands, spans});
    });
    return {setup, steps};
}

/** The words of a shown output that must appear in the real one. */
function expectedWords(shown) {
    const head = shown.split(':')[0];
    return head.split(/[\s,]+/).filter((w) => w && w !== '...' && !/^<.*>$/.test(w));
}

const tour = readTour(readFileSync(path.join(repoDir, 'README.md'), 'utf8'));
const step = (n, title) => {
    const s = tour.steps.find((x) => x.n === n);
    assert.ok(s, `README's tour has no step ${n}`);
    assert.match(s.title, title, `README's step ${n} is now "${s.title}": update the tour test`);
    return s;
};

describe('README tour', () => {
    let bin;
    let work;
    let server;
    let chrome;
    const servers = [];
    const pages = [];
    const shots = () => pages;
    const env = () => ({...process.env, MMTOOLKIT_SERVER: server.url, MMTOOLKIT_TOKEN: '', MMTOOLKIT_USER: '', MMTOOLKIT_PASSWORD: ''});
    const exportLine = () => tour.setup.find((l) => l.startsWith('export '));

    /** Runs a README command as the README says, after its export line. */
    const sh = (cmd, {background = false} = {}) => {
        // A background command (push --watch) gets its own process group,
        // so stopping it stops bash and mmtoolkit alike.
        const proc = spawn('bash', ['-c', `${exportLine()}\n${cmd}`], {cwd: work, env: env(), detached: background});
        const run = {proc, out: '', stop: () => process.kill(-proc.pid, 'SIGINT')};
        proc.stdout.on('data', (b) => (run.out += b));
        proc.stderr.on('data', (b) => (run.out += b));
        run.done = new Promise((resolve) => proc.on('close', (code) => resolve(code)));
        return run;
    };
    const runAll = async (s, filter = () => true) => {
        const outs = [];
        for (const c of s.commands.filter(filter)) {
            const r = sh(c.cmd);
            const code = await r.done;
            assert.equal(code, 0, `step ${s.n}: \`${c.cmd}\` exited ${code}:\n${r.out}`);
            for (const shown of c.output) {
                for (const w of expectedWords(shown)) {
                    assert.ok(r.out.includes(w), `step ${s.n}: \`${c.cmd}\` printed\n${r.out}\nnot "${w}" as the README shows (# ${shown})`);
                }
            }
            outs.push(r.out);
        }
        return outs;
    };

    /** `mmtoolkit serve` as `make run` starts it, plus args; on a free port. */
    const serve = async (...args) => {
        const data = mkdtempSync(path.join(tmpdir(), 'mmtoolkit-tour-data-'));
        const proc = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data', data, ...args], {cwd: work, stdio: ['ignore', 'pipe', 'pipe']});
        let log = '';
        const url = await new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 30000);
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
            proc.on('exit', (code) => reject(new Error(`server exited ${code}:\n${log}`)));
        });
        const s = {
            url, log: () => log,
            async stop() {
                proc.kill('SIGTERM');
                await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
                rmSync(data, {recursive: true, force: true});
            },
        };
        servers.push(s);
        return s;
    };

    const open = async (user, p = '/') => {
        const context = await chrome.browser.newContext({viewport: {width: 1280, height: 800}});
        const page = await context.newPage();
        page.consoleLines = [];
        page.on('console', (m) => page.consoleLines.push(`${m.type()}: ${m.text()}`));
        pages.push(page);
        await page.goto(server.url + '/login');
        await page.fill('input[name=loginId]', user);
        await page.fill('input[name=password]', 'mmtoolkit');
        await page.click('button[type=submit]');
        await page.waitForSelector('.channel-header h2');
        if (p !== '/') {
            await page.goto(server.url + p);
        }
        return page;
    };
    /** Marks a page so a reload would be seen. */
    const mark = (page) => page.evaluate(() => {
        window.tourNoReload = true;
    });
    const notReloaded = async (page) => assert.equal(await page.evaluate(() => window.tourNoReload), true, 'the page reloaded');
    const settled = (page) => page.waitForFunction(() => window.mmtoolkitHost?.store.getState().plugins.settledAt > 0);

    let bob;
    let carol;

    before(async () => {
        bin = await binary();
        work = mkdtempSync(path.join(tmpdir(), 'mmtoolkit-tour-'));
        mkdirSync(path.join(work, 'bin'));
        symlinkSync(bin, path.join(work, 'bin', 'mmtoolkit'));
        mkdirSync(path.join(work, 'docs', 'examples'), {recursive: true});
        cpSync(path.join(repoDir, 'docs', 'examples', 'hello'), path.join(work, 'docs', 'examples', 'hello'), {recursive: true});

        // The set-up block: `make run &` starts the server (here: serve, as
        // make run does, on a free port); the export line runs before each command.
        assert.ok(tour.setup.some((l) => /^make run &/.test(l)), `the tour's set-up no longer starts with make run:\n${tour.setup.join('\n')}`);
        assert.ok(exportLine(), 'the tour\'s set-up has no export line');
        server = await serve();
        chrome = await launch();
        if (!chrome && process.env.CI === 'true') {
            throw new Error('no Chromium');
        }
    });
    after(async () => {
        for (const p of pages) {
            await p.context().close().catch(() => undefined);
        }
        await chrome?.close();
        for (const s of servers) {
            await s.stop();
        }
        if (work) {
            rmSync(work, {recursive: true, force: true});
        }
    });

    it('1. the reference plugins are already there: a map post, the call button, the App Center; /location posts a map', withShots('tour-1', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const s = step(1, /reference plugins are already there/);
        assert.match(s.body, /log in\s+as `bob`/);
        bob = await open('bob');
        assert.match(bob.url(), /\/engineering\/channels\/town-square$/);
        await bob.locator('.post svg.mmtoolkit-map-svg').first().waitFor();
        await bob.locator('[data-testid=video-call-button]').waitFor();
        await bob.locator('.app-bar-icon[aria-label="Open the App Center"]').waitFor();
        const location = s.spans.find((x) => x.startsWith('/location '));
        assert.ok(location, 'step 1 no longer types a /location command');
        await bob.fill('.post-box textarea', location);
        await bob.keyboard.press('Enter');
        const label = location.split(/\s+/).slice(2).join(' ');
        await bob.locator('.post text.map-label', {hasText: label}).waitFor();
    }));

    it('2. push a plugin as a developer', withShots('tour-2', shots, async () => {
        const s = step(2, /Push a plugin as a developer/);
        assert.ok(s.commands.length > 0);
        await runAll(s);
    }));

    it('3. enable it for one team as its admin: bob\'s open page gets the button live, carol\'s does not', withShots('tour-3', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const s = step(3, /Enable it for one team/);
        carol = await open('carol');
        await Promise.all([settled(bob), settled(carol)]);
        await Promise.all([mark(bob), mark(carol)]);
        assert.equal(await bob.locator('[aria-label="Say hello"]').count(), 0);
        await runAll(s);
        await bob.locator('.channel-header [aria-label="Say hello"]').first().waitFor();
        await notReloaded(bob);
        // carol's team does not serve it, and her page did not load it.
        const carolToken = await login(server, 'carol');
        const sales = await api(server, carolToken, 'GET', '/api/v1/manifest?team=sales&platform=web');
        assert.ok(!sales.plugins.some((p) => p.id === 'com.example.hello'));
        assert.equal(await carol.locator('[aria-label="Say hello"]').count(), 0);
        await notReloaded(carol);
    }));

    it('4. the admin console: turning the map off for engineering leaves bob\'s page live, sales keeps it', withShots('tour-4', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const s = step(4, /Toggle from the admin console/);
        assert.match(s.body, /Log in as `alice`/);
        const alice = await open('alice', '/admin');
        await alice.getByRole('link', {name: /Engineering/}).first().click();
        const row = alice.locator('tr[data-plugin="mmtoolkit.map"]');
        // An on/off switch and a version picker per plugin.
        assert.equal(await row.getByRole('button', {name: /^Disable /}).count(), 1);
        assert.equal(await row.getByLabel(/^Version of /).count(), 1);
        await mark(bob);
        await row.getByRole('button', {name: /^Disable /}).click();
        await alice.waitForURL(/saved=mmtoolkit\.map/);
        await bob.locator('.post svg.mmtoolkit-map-svg').first().waitFor({state: 'detached'});
        await notReloaded(bob);
        const carolToken = await login(server, 'carol');
        const sales = await api(server, carolToken, 'GET', '/api/v1/manifest?team=sales&platform=web');
        assert.ok(sales.plugins.some((p) => p.id === 'mmtoolkit.map'), 'sales lost the map');
        // The plugin page has versions, sizes, certification, health; a system admin gets the kill switch.
        const admin = await open('admin', '/admin/plugins/mmtoolkit.map');
        await admin.getByRole('heading', {name: 'Kill switch'}).waitFor();
        await admin.getByRole('heading', {name: 'Versions'}).waitFor();
        await alice.goto(server.url + '/admin/audit');
        await alice.getByRole('heading', {name: 'Audit log'}).waitFor();
        // Anyone logged in browses the directory.
        await carol.goto(server.url + '/directory');
        await carol.getByRole('heading', {name: 'Plugin directory'}).waitFor();
    }));

    it('5. the dev loop: push --watch pushes each save; a syntax error shows file:line:col in the terminal and the page', withShots('tour-5', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const s = step(5, /The dev loop/);
        const watchCmd = s.commands.find((c) => c.cmd.includes('--watch'));
        assert.ok(watchCmd, 'step 5 has no push --watch command');
        const file = s.spans.find((x) => x.endsWith('.tsx'));
        assert.ok(file, 'step 5 names no file to edit');
        // The developer's own page, in a team that has the plugin.
        const dev = await open('dev');
        await dev.locator('.channel-header [aria-label="Say hello"]').first().waitFor();
        await mark(dev);
        const watch = sh(watchCmd.cmd, {background: true});
        try {
            // Its first push is the folder as it is.
            await waitFor(() => /pushed com\.example\.hello@/.test(watch.out), () => `watch printed:\n${watch.out}`);
            const src = path.join(work, file);
            const good = readFileSync(src, 'utf8');
            writeFileSync(src, good.replace('👋', '🖐️'));
            await dev.locator('.channel-header [aria-label="Say hello"]', {hasText: '🖐️'}).first().waitFor({timeout: 20000});
            await notReloaded(dev);
            // A dev build is a preview: bob, in the same team, keeps the release.
            assert.equal(await bob.locator('.channel-header [aria-label="Say hello"]', {hasText: '🖐️'}).count(), 0, 'bob got the dev build');

            writeFileSync(src, good.replace('class Plugin {', 'class Plugin {{'));
            await waitFor(() => /index\.tsx:\d+:\d+: /.test(watch.out), () => `watch printed no file:line:col:\n${watch.out}`);
            await dev.locator('.dev-overlay').waitFor({timeout: 20000});
            assert.match(await dev.locator('.dev-overlay').textContent(), /index\.tsx:\d+:\d+: /);
            writeFileSync(src, good);
        } finally {
            watch.stop();
            await watch.done;
        }
    }));

    it('6. mobile: the preview renders the team\'s plugins\' React Native parts', withShots('tour-6', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const s = step(6, /Mobile/);
        const link = /http:\/\/127\.0\.0\.1:8065(\/mobile-preview\S*)/.exec(s.body);
        assert.ok(link, 'step 6 has no /mobile-preview link');
        await bob.goto(server.url + link[1].replace(/[).,]+$/, ''));
        await bob.getByText('Plugins', {exact: true}).waitFor();
        await bob.locator('[data-testid="plugin-com.example.hello"]').waitFor();
        assert.match(await bob.locator('[data-testid="plugin-com.example.hello"]').textContent(), /active/);
    }));

    it('7. sign and share: keygen, pack, and a server trusting the key shows the package as certified', withShots('tour-7', shots, async () => {
        const s = step(7, /Sign and share/);
        const outs = await runAll(s);
        assert.ok(outs.length >= 2, `step 7 ran ${outs.length} commands`);
        const archives = readdirSync(work).filter((f) => f.endsWith('.tar.gz'));
        assert.equal(archives.length, 1, `pack wrote ${archives.join(', ') || 'no .tar.gz'} in the working folder`);
        const trust = s.spans.find((x) => x.startsWith('--trust '));
        assert.ok(trust, 'step 7 names no --trust flag');
        const trusting = await serve('--reference-plugins=false', ...trust.split(/\s+/));
        const push = sh(`MMTOOLKIT_SERVER=${trusting.url} MMTOOLKIT_USER=dev mmtoolkit push ${archives[0]}`);
        assert.equal(await push.done, 0, push.out);
        assert.match(push.out, /\(certified\b/);
        const token = await login(trusting, 'dev');
        const p = await api(trusting, token, 'GET', '/api/v1/plugins/com.example.hello');
        assert.equal(JSON.stringify(p).includes('"certified"'), true, JSON.stringify(p));
    }));

    it('8. a real Mattermost plugin, unchanged (needs github.com: MMTOOLKIT_TOUR_NETWORK=1)', async (t) => {
        const s = step(8, /real Mattermost plugin, unchanged/);
        assert.ok(s.commands.some((c) => c.cmd.startsWith('git clone ')));
        if (process.env.MMTOOLKIT_TOUR_NETWORK !== '1') {
            return t.skip('clones a repository from GitHub and runs npm ci: set MMTOOLKIT_TOUR_NETWORK=1 to run it');
        }
        await runAll(s);
    });
});

/** Polls cond until it holds (each 50 ms), for at most 30 s. */
async function waitFor(cond, describe) {
    for (const deadline = Date.now() + 30000; !cond();) {
        if (Date.now() > deadline) {
            throw new Error(describe());
        }
        await new Promise((r) => setTimeout(r, 50));
    }
}
