// The video reference plugin (plugins/video) in Chromium: two people in two
// browser contexts start and join a call, their RTCPeerConnections connect
// peer to peer and media flows (Chromium's fake camera and microphone), the
// post tracks who joined and ends when the last one leaves; a team admin's
// disable removes the plugin live.
import assert from 'node:assert/strict';
import {mkdirSync} from 'node:fs';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {chromium} from 'playwright-core';

import {api, binary, chromiumPath, cli, login, repoDir, startServer, withShots} from './harness.mjs';
import {screenshotsDir} from './screenshots.mjs';

const PLUGIN = 'mmtoolkit.video';
const shotsDir = screenshotsDir; // docs/screenshots only under `make screenshots`

// Chromium's fake devices: a test pattern camera and a beeping microphone,
// permission granted without a prompt.
const mediaArgs = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

async function launchWithMedia() {
    const executablePath = chromiumPath();
    if (!executablePath) {
        return null;
    }
    const browser = await chromium.launch({
        executablePath,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
            '--disable-sync', '--no-first-run', ...mediaArgs],
    });
    return {browser, close: () => browser.close()};
}

describe('video reference plugin', () => {
    let bin;
    let server;
    let chrome;
    const pages = [];
    const shots = () => pages;

    /** A logged-in page in its own browser context (its own cookies: another person). */
    const open = async (user, p, {initScript, setup} = {}) => {
        const context = await chrome.browser.newContext({viewport: {width: 1280, height: 800}});
        if (initScript) {
            await context.addInitScript(initScript);
        }
        const page = await context.newPage();
        await setup?.(page);
        page.consoleLines = [];
        page.on('console', (m) => page.consoleLines.push(`${m.type()}: ${m.text()}`));
        page.on('pageerror', (e) => page.consoleLines.push(`pageerror: ${e.message}`));
        await page.goto(server.url + '/login');
        await page.fill('input[name=loginId]', user);
        await page.fill('input[name=password]', 'mmtoolkit');
        await page.click('button[type=submit]');
        await page.waitForSelector('.channel-header h2');
        await page.goto(server.url + p);
        await page.waitForFunction(() => window.mmtoolkitHost?.store.getState().plugins.settledAt > 0);
        pages.push(page);
        return page;
    };
    const peers = (page) => page.evaluate(() => window.__mmtoolkitVideo?.snapshot()?.peers.map((p) => ({...p, stream: Boolean(p.stream)})) ?? []);
    const waitConnected = (page, n) => page.waitForFunction((want) => {
        const s = window.__mmtoolkitVideo?.snapshot();
        return s?.phase === 'joined' && s.peers.length === want && s.peers.every((p) => p.connectionState === 'connected');
    // Under the plugin's own 30 s connect deadline (a busy 2-core CI machine
    // runs three Chromium contexts with fake media here).
    }, n, {timeout: 29000});
    const stats = (page) => page.evaluate(() => window.__mmtoolkitVideo.stats());
    /** Bob (or another starter) opens the channel and starts a call; resolves once he is in it. */
    const bobStartsCall = async (channel, user = 'bob') => {
        const bob = await open(user, `/engineering/channels/${channel}`);
        await bob.click('[data-testid=video-call-button]');
        await bob.waitForSelector('[data-testid=video-call-view][data-phase=joined]');
        return bob;
    };
    /** The next request of the page that publishes our event `event` (optionally matching `pred` on its data). */
    const nextEvent = (page, event, pred = () => true, timeout = 15000) => page.waitForRequest((r) => {
        if (!r.url().endsWith(`/api/v1/plugins/${PLUGIN}/events`) || r.method() !== 'POST') {
            return false;
        }
        const body = r.postDataJSON();
        return body?.event === event && pred(body.data ?? {});
    }, {timeout});
    /** The stored call post newest on the page, read with the API as bob. */
    const storedCall = async (page) => {
        const postId = await page.locator('.post', {has: page.locator('[data-testid=video-call-post]')}).last().getAttribute('data-post-id');
        return api(server, await login(server, 'bob'), 'GET', `/api/v4/posts/${postId}`);
    };
    /** The join button of the newest ongoing call post on the page. */
    const joinButton = (page) => page.locator('[data-testid=video-call-post][data-state=ongoing]').last().locator('[data-testid=video-call-join]');
    /** Waits until the newest call post on the page says the call ended. */
    const waitEnded = (page) => page.waitForFunction(() => [...document.querySelectorAll('[data-testid=video-call-post]')].pop()?.dataset.state === 'ended', null, {timeout: 15000});

    before(async () => {
        bin = await binary();
        // The reference plugins are pushed here with the real CLI, whether or
        // not this server preinstalled them (an identical push is a no-op).
        server = await startServer(bin, {referencePlugins: false});
        chrome = await launchWithMedia();
        await cli(bin, server, 'admin', 'push', path.join(repoDir, 'plugins', 'video'));
        await cli(bin, server, 'alice', 'enable', '--team', 'engineering', '--plugin', PLUGIN);
        await cli(bin, server, 'admin', 'enable', '--team', 'sales', '--plugin', PLUGIN);
    });
    after(async () => {
        for (const p of pages) {
            await p.context().close().catch(() => undefined);
        }
        await chrome?.close();
        await server?.stop();
    });

    it('bob starts a call, alice joins: peer to peer, media flows, the post ends when both leave', withShots('video-call', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const bob = await bobStartsCall('town-square');
        const bobPost = bob.locator('[data-testid=video-call-post]').last();
        await bobPost.waitFor();
        assert.equal(await bobPost.getAttribute('data-state'), 'ongoing');
        assert.match(await bobPost.locator('[data-testid=video-call-participants]').textContent(), /@bob$/);
        // bob's own tile shows his camera.
        await bob.waitForFunction(() => document.querySelector('[data-testid=video-tile][data-local=true] video')?.videoWidth > 0);

        const alice = await open('alice', '/engineering/channels/town-square');
        await joinButton(alice).click();
        await Promise.all([waitConnected(bob, 1), waitConnected(alice, 1)]);

        // Each side sees the other, by user id, over a connected RTCPeerConnection.
        const [bobId, aliceId] = await Promise.all([bob, alice].map((p) => p.evaluate(() => window.mmtoolkitHost.store.getState().entities.users.currentUserId)));
        assert.equal((await peers(bob))[0].userId, aliceId);
        assert.equal((await peers(alice))[0].userId, bobId);

        // Media flows both ways: received bytes and decoded frames grow...
        const before1 = await Promise.all([stats(bob), stats(alice)]);
        await bob.waitForTimeout(1500);
        const after1 = await Promise.all([stats(bob), stats(alice)]);
        for (const i of [0, 1]) {
            assert.equal(after1[i][0].connectionState, 'connected');
            assert.ok(after1[i][0].bytesReceived > before1[i][0].bytesReceived, `inbound bytes grow on page ${i}: ${JSON.stringify([before1[i], after1[i]])}`);
            assert.ok(after1[i][0].framesDecoded > before1[i][0].framesDecoded, `frames decoded grow on page ${i}`);
        }
        // ...and the remote <video> plays: it has a size and its clock advances.
        for (const page of [bob, alice]) {
            const remote = '[data-testid=video-tile][data-local=false] video';
            await page.waitForFunction((sel) => document.querySelector(sel)?.videoWidth > 0, remote);
            const t0 = await page.$eval(remote, (v) => v.currentTime);
            await page.waitForFunction(([sel, t]) => document.querySelector(sel).currentTime > t + 0.3, [remote, t0]);
        }
        // The starter's client put alice on the post; both pages see the edit live.
        for (const page of [bob, alice]) {
            await page.waitForFunction(() => /@bob, @alice$/.test(
                [...document.querySelectorAll('[data-testid=video-call-post]')].pop()?.querySelector('[data-testid=video-call-participants]')?.textContent ?? ''));
        }
        // Mute and camera off reach the other side.
        await alice.click('[data-testid=video-call-mute]');
        await alice.click('[data-testid=video-call-camera]');
        await bob.waitForFunction(() => {
            const p = window.__mmtoolkitVideo.snapshot().peers[0];
            return p.muted && p.cameraOff;
        });
        await alice.click('[data-testid=video-call-camera]');
        await alice.click('[data-testid=video-call-mute]');
        await bob.waitForFunction(() => {
            const p = window.__mmtoolkitVideo.snapshot().peers[0];
            return !p.muted && !p.cameraOff;
        });
        await bob.waitForFunction(() => document.querySelector('[data-testid=video-tile][data-local=false] video')?.videoWidth > 0);
        await bob.waitForTimeout(300); // a settled frame for the screenshot
        mkdirSync(shotsDir, {recursive: true});
        await bob.screenshot({path: path.join(shotsDir, 'video-call.png')});

        // alice leaves: bob's tile of her goes, the call goes on.
        await alice.click('[data-testid=video-call-leave]');
        await alice.waitForSelector('[data-testid=video-call-view]', {state: 'detached'});
        await bob.waitForFunction(() => window.__mmtoolkitVideo.snapshot().peers.length === 0);
        await bob.waitForSelector('[data-testid=video-tile][data-local=false]', {state: 'detached'});
        // Still running after the roll call (bob answers it).
        await bob.waitForTimeout(4000);
        assert.equal(await bobPost.getAttribute('data-state'), 'ongoing');
        // alice's device released.
        assert.equal(await alice.evaluate(() => window.__mmtoolkitVideo.snapshot()), null);

        // bob leaves last: the post ends, with a duration, for both.
        await bob.click('[data-testid=video-call-leave]');
        for (const page of [bob, alice]) {
            const post = page.locator('[data-testid=video-call-post]').last();
            await waitEnded(page);
            assert.equal(await post.locator('[data-testid=video-call-status]').textContent(), 'Call ended');
            assert.match(await post.locator('[data-testid=video-call-duration]').textContent(), /^Lasted \d+:\d\d$/);
            assert.equal(await post.locator('[data-testid=video-call-join]').count(), 0);
        }
        // The stored post says the same.
        const token = await login(server, 'bob');
        const postId = await bob.locator('.post', {has: bob.locator('[data-testid=video-call-post]')}).last().getAttribute('data-post-id');
        const stored = await api(server, token, 'GET', `/api/v4/posts/${postId}`);
        assert.equal(stored.type, 'custom_video_call');
        assert.deepEqual(stored.props.participants, [bobId, aliceId]);
        assert.equal(stored.props.started_by, bobId);
        assert.ok(stored.props.ended_at > stored.props.started_at, JSON.stringify(stored.props));
        await bob.locator('.post', {has: bob.locator('[data-testid=video-call-post]')}).last().screenshot({path: path.join(shotsDir, 'video-post.png')});
    }));

    it('two people joining at the same moment both connect (no glare), a mesh of three', withShots('video-glare', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const bob = await bobStartsCall('town-square');
        const [alice, dev] = await Promise.all([open('alice', '/engineering/channels/town-square'), open('dev', '/engineering/channels/town-square')]);
        await Promise.all([joinButton(alice).waitFor(), joinButton(dev).waitFor()]);
        // The worst case of "at the same moment": each one's join reaches the
        // other only once both are in (their joins are held until both are
        // sent), so each learns of the other while in the call. Then only
        // one of the two may offer: two offers collide, and a collision
        // left the pair "Connecting" about one time in twelve (Chromium
        // never gathered ICE candidates on the side that rolled back).
        const joins = [];
        let bothJoined;
        const bothSent = new Promise((r) => {
            bothJoined = r;
        });
        const offers = []; // [page name, to session]
        for (const [name, page] of [['alice', alice], ['dev', dev]]) {
            await page.route(`**/api/v1/plugins/${PLUGIN}/events`, async (route) => {
                const body = route.request().postDataJSON();
                if (body?.event === 'offer') {
                    offers.push([name, body.data.to]);
                }
                if (body?.event === 'join' && body.data.post_id && !joins.includes(name)) {
                    joins.push(name);
                    if (joins.length === 2) {
                        bothJoined();
                    }
                    await bothSent;
                }
                return route.continue();
            });
        }
        await Promise.all([joinButton(alice).click(), joinButton(dev).click()]);
        try {
            await Promise.all([bob, alice, dev].map((p) => waitConnected(p, 2)));
        } catch (e) {
            for (const [name, page] of [['bob', bob], ['alice', alice], ['dev', dev]]) {
                t.diagnostic(`${name} ${await page.evaluate(() => window.__mmtoolkitVideo.session())}: ${JSON.stringify(await stats(page))}`);
                t.diagnostic(`${name} signalling: ${(await page.evaluate(() => window.__mmtoolkitVideo.trace())).join(' | ')}`);
                t.diagnostic(`${name} console: ${page.consoleLines.filter((l) => l.includes('video')).join(' | ')}`);
            }
            throw e;
        }
        const [aliceSession, devSession] = await Promise.all([alice, dev].map((p) => p.evaluate(() => window.__mmtoolkitVideo.session())));
        const offeredInPair = new Set(offers.filter(([name, to]) => (name === 'alice' ? to === devSession : to === aliceSession)).map(([name]) => name));
        assert.equal(offeredInPair.size, 1, `alice and dev both offered (glare): ${JSON.stringify(offers)}`);
        for (const page of [bob, alice, dev]) {
            const s = await stats(page);
            assert.equal(s.length, 2);
            assert.ok(s.every((p) => p.connectionState === 'connected' && p.bytesReceived > 0), JSON.stringify(s));
        }
        for (const page of [alice, dev, bob]) {
            await page.click('[data-testid=video-call-leave]');
        }
        await waitEnded(bob);
        for (const page of [alice, dev]) {
            await page.context().close();
        }
    }));

    it('a lost answer: the pair negotiates again and connects', withShots('video-lost-answer', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const bob = await bobStartsCall('dev-talk');
        const alice = await open('alice', '/engineering/channels/dev-talk');
        // The first answer never reaches the server (from alice or bob:
        // which of a pair offers depends on their session ids): the offer
        // waits for it until the negotiation starts again.
        let dropped = 0;
        for (const page of [alice, bob]) {
            await page.route('**/api/v1/plugins/mmtoolkit.video/events', (route) => {
                if (dropped === 0 && route.request().postDataJSON()?.event === 'answer') {
                    dropped++;
                    return route.abort();
                }
                return route.continue();
            });
        }
        const started = Date.now();
        await joinButton(alice).click();
        await Promise.all([waitConnected(bob, 1), waitConnected(alice, 1)]);
        assert.equal(dropped, 1, 'no answer was dropped: the test did not test anything');
        t.diagnostic(`connected ${Date.now() - started} ms after joining, an answer lost`);
        for (const page of [alice, bob]) {
            await page.click('[data-testid=video-call-leave]');
        }
        await waitEnded(bob);
        await alice.context().close();
    }));

    it('a closed tab drops out of the call', withShots('video-tab-closed', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const bob = await bobStartsCall('dev-talk');
        const alice = await open('alice', '/engineering/channels/dev-talk');
        await joinButton(alice).click();
        await Promise.all([waitConnected(bob, 1), waitConnected(alice, 1)]);
        // Closing the tab: pagehide sends a best-effort leave; failing that,
        // the disconnected connection times out. Either way the tile goes.
        await alice.context().close();
        await bob.waitForFunction(() => window.__mmtoolkitVideo.snapshot().peers.length === 0, null, {timeout: 20000});
        await bob.click('[data-testid=video-call-leave]');
        await waitEnded(bob);
    }));

    it('a second tab of the starter does not end a call that is starting', withShots('video-second-tab', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        // bob's other tab (another browser here; a second tab of the same
        // one does the same) sees the new call post, finds its starter not
        // in the call there, and runs a roll call. It reaches the starting
        // tab while that one still waits for its ICE servers: that tab must
        // answer, or the fresh call is ended ("Call ended, lasted 0:00").
        const other = await open('bob', '/engineering/channels/town-square');
        let release;
        const released = new Promise((r) => {
            release = r;
        });
        // Roll calls bob's tab received, by nonce; a waiter per wanted nonce.
        const received = new Set();
        const waiting = new Map();
        const bob = await open('bob', '/engineering/channels/town-square', {
            setup: async (page) => {
                // The ICE servers arrive only after the other tab's roll call has.
                await page.route('**/api/v1/plugins/mmtoolkit.video/kv/**/ice_servers', async (route) => {
                    await released;
                    await route.continue();
                });
                page.on('websocket', (ws) => ws.on('framereceived', ({payload}) => {
                    const m = /"custom_mmtoolkit\.video_roll_call".*"nonce":"([a-z0-9]+)"/.exec(String(payload));
                    if (m) {
                        received.add(m[1]);
                        waiting.get(m[1])?.();
                    }
                }));
            },
        });
        const otherRollCall = nextEvent(other, 'roll_call');
        await bob.click('[data-testid=video-call-button]');
        const {nonce, post_id: postId} = (await otherRollCall).postDataJSON().data;
        if (!received.has(nonce)) {
            let timer;
            await Promise.race([
                new Promise((r) => waiting.set(nonce, r)),
                new Promise((_, reject) => {
                    timer = setTimeout(() => reject(new Error(`bob's tab never received the other tab's roll call ${nonce}`)), 15000);
                }),
            ]).finally(() => clearTimeout(timer));
        }
        // bob's tab has handled that roll call: now it gets its ICE servers.
        release();
        await bob.waitForSelector('[data-testid=video-call-view][data-phase=joined]');
        // The other tab's roll call is over: it holds this lock until it has
        // patched the post, or decided not to...
        await other.evaluate((name) => navigator.locks.request(name, () => undefined), `mmtoolkit.video.roll_call.${postId}`);
        // ...and the call still runs.
        const stored = await storedCall(bob);
        assert.equal(stored.props.ended_at, undefined, `the call was ended while its starter was starting it: ${JSON.stringify(stored.props)}`);
        const alice = await open('alice', '/engineering/channels/town-square');
        await joinButton(alice).click();
        await Promise.all([waitConnected(bob, 1), waitConnected(alice, 1)]);
        for (const page of [alice, bob]) {
            await page.click('[data-testid=video-call-leave]');
        }
        await waitEnded(bob);
        for (const page of [alice, other]) {
            await page.context().close();
        }
    }));

    it('a call started without camera or microphone ends on Close', withShots('video-no-devices', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        // No devices: getUserMedia fails, once the test says so (after the
        // post is on the page, so that its renderer saw the call starting).
        const none = () => {
            let fail;
            const failed = new Promise((_, reject) => {
                fail = reject;
            });
            failed.catch(() => undefined);
            window.failMedia = () => fail(new DOMException('Requested device not found', 'NotFoundError'));
            navigator.mediaDevices.getUserMedia = () => failed;
        };
        const bob = await open('bob', '/engineering/channels/dev-talk', {initScript: none});
        await bob.click('[data-testid=video-call-button]');
        await bob.waitForFunction(() => [...document.querySelectorAll('[data-testid=video-call-post]')].pop()?.dataset.state === 'ongoing');
        await bob.evaluate(() => window.failMedia());
        const error = bob.locator('[data-testid=video-call-error]');
        await error.waitFor();
        assert.equal(await error.getAttribute('data-kind'), 'no_device');
        const closedAt = await bob.evaluate(() => Date.now());
        await bob.click('[data-testid=video-call-view] button >> text=Close');
        await bob.waitForSelector('[data-testid=video-call-view]', {state: 'detached'});
        await waitEnded(bob);
        const stored = await storedCall(bob);
        assert.ok(stored.props.ended_at >= stored.props.started_at && stored.props.ended_at < closedAt + 5000, JSON.stringify(stored.props));
        await bob.context().close();
    }));

    it('everyone leaving within one roll call: the call ends at the last leave', withShots('video-quick-leaves', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        // dev starts this call: no earlier test left a tab of dev open whose
        // keeper would run roll calls of its own.
        const dev = await bobStartsCall('dev-talk', 'dev');
        // A long answer window, so that the last leave surely falls inside
        // the roll call that the first leave starts.
        await dev.evaluate(() => {
            window.__mmtoolkitVideo.keeperTimings.answerMs = 6000;
        });
        const alice = await open('alice', '/engineering/channels/dev-talk');
        await joinButton(alice).click();
        await Promise.all([waitConnected(dev, 1), waitConnected(alice, 1)]);
        await alice.waitForFunction(() => /@dev, @alice$/.test(
            [...document.querySelectorAll('[data-testid=video-call-post]')].pop()?.querySelector('[data-testid=video-call-participants]')?.textContent ?? ''));
        // alice leaves; dev's keeper asks who is still in, dev answers, and leaves right after.
        const devHere = nextEvent(dev, 'here');
        await alice.click('[data-testid=video-call-leave]');
        await devHere;
        const leftAt = await dev.evaluate(() => Date.now());
        await dev.click('[data-testid=video-call-leave]');
        // alice's tab sees the end, at dev's leave, within the two roll calls (6 s each).
        await alice.waitForFunction(() => [...document.querySelectorAll('[data-testid=video-call-post]')].pop()?.dataset.state === 'ended', null, {timeout: 25000});
        const stored = await storedCall(alice);
        const lag = stored.props.ended_at - leftAt;
        t.diagnostic(`ended_at is ${lag} ms after dev clicked Leave`);
        assert.ok(lag >= 0 && lag < 3000, `ended_at ${lag} ms after the last leave: ${JSON.stringify(stored.props)}`);
        for (const page of [alice, dev]) {
            await page.context().close();
        }
    }));

    it('explains a denied camera and microphone', withShots('video-denied', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        // What Chromium throws when the user (or a site setting) blocks the devices.
        const deny = () => {
            navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
        };
        const bob = await open('bob', '/engineering/channels/town-square', {initScript: deny});
        await bob.click('[data-testid=video-call-button]');
        const error = bob.locator('[data-testid=video-call-error]');
        await error.waitFor();
        assert.equal(await error.getAttribute('data-kind'), 'denied');
        assert.match(await error.textContent(), /Camera and microphone access was denied/);
        await bob.click('[data-testid=video-call-view] button >> text=Close');
        await bob.waitForSelector('[data-testid=video-call-view]', {state: 'detached'});
    }));

    it('disabled for a team disappears live', withShots('video-disabled', shots, async (t) => {
        if (!chrome) {
            return t.skip('no Chromium');
        }
        const bob = await open('bob', '/engineering/channels/dev-talk');
        const carol = await open('carol', '/sales/channels/deals');
        for (const page of [bob, carol]) {
            await page.waitForSelector('[data-testid=video-call-button]');
            await page.waitForSelector('[data-testid=video-call-post][data-state=ended]');
        }
        await bob.evaluate(() => {
            window.notReloaded = true;
        });
        await cli(bin, server, 'alice', 'disable', '--team', 'engineering', '--plugin', PLUGIN);
        await bob.waitForSelector('[data-testid=video-call-button]', {state: 'detached', timeout: 5000});
        await bob.waitForSelector('[data-testid=video-call-post]', {state: 'detached', timeout: 5000});
        // The seeded call post falls back to its plain message.
        await bob.waitForSelector('.post-message >> text=Video call ended.');
        assert.equal(await bob.evaluate(() => window.notReloaded && window.__mmtoolkitVideo === undefined), true);
        // sales still has it.
        assert.equal(await carol.locator('[data-testid=video-call-button]').count(), 1);
        assert.equal(await carol.locator('[data-testid=video-call-post]').count(), 1);
        await cli(bin, server, 'alice', 'enable', '--team', 'engineering', '--plugin', PLUGIN);
        await bob.waitForSelector('[data-testid=video-call-button]', {timeout: 5000});
    }));
});
