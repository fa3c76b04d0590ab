import {beforeEach, describe, expect, it, vi} from 'vitest';

import type {CrashInfo} from '../src/plugins/crash';
import {PluginLoader, type PluginWindow} from '../src/plugins/loader';
import {SlotMap} from '../src/plugins/slot_map';
import type {ManifestPlugin} from '../src/plugins/types';
import {createHostStore} from '../src/store';

function manifest(id: string, over: Partial<ManifestPlugin> = {}): ManifestPlugin {
    return {
        id, name: id, version: '1.0.0', host_modules: ['react'], slots: [],
        bundle: {url: `/bundles/${id}.js`, integrity: `sha256-${id}`, size: 1},
        ...over,
    };
}

/**
 * jsdom does not run external scripts, so the test stands in for the
 * network: each appended plugin <script> is "executed" by a bundle function
 * (which calls window.registerPlugin like a real bundle) when the test says so.
 */
function setup(bundles: Record<string, (w: PluginWindow) => void>) {
    const store = createHostStore();
    const slots = new SlotMap();
    const win = {} as PluginWindow;
    const crashes: CrashInfo[] = [];
    const appended: HTMLScriptElement[] = [];
    const modules = {ensure: vi.fn(() => Promise.resolve())};
    const head = document.createElement('div');
    const doc = {
        createElement: (t: string) => document.createElement(t),
        querySelector: (s: string) => head.querySelector(s),
        querySelectorAll: (s: string) => head.querySelectorAll(s),
        head: {
            appendChild(el: HTMLElement) {
                head.appendChild(el);
                if (el.tagName === 'SCRIPT') {
                    appended.push(el as HTMLScriptElement);
                }
                return el;
            },
        },
    } as unknown as Document;
    const loader = new PluginLoader({doc, win, slots, store, modules, report: (c) => crashes.push(c)});
    loader.install();
    const finish = (id: string, ok = true) => {
        const s = appended.find((x) => x.dataset.pluginId === id)!;
        if (ok) {
            bundles[id]?.(win);
            s.onload?.(new Event('load'));
        } else {
            s.onerror?.(new Event('error'));
        }
    };
    return {store, slots, win, crashes, appended, modules, loader, finish, head};
}

const flush = () => new Promise((r) => setTimeout(r, 0));


describe('PluginLoader', () => {
    let bundles: Record<string, (w: PluginWindow) => void>;
    beforeEach(() => {
        bundles = {};
    });

    it('requests every bundle at once, with SRI, before any has loaded', async () => {
        const t = setup(bundles);
        const done = t.loader.sync('team', [manifest('a'), manifest('b'), manifest('c')]);
        await flush();
        expect(t.appended.map((s) => s.dataset.pluginId)).toEqual(['a', 'b', 'c']);
        for (const s of t.appended) {
            expect(s.integrity).toBe(`sha256-${s.dataset.pluginId}`);
            expect(s.crossOrigin).toBe('anonymous');
            expect(s.src).toContain(`/bundles/${s.dataset.pluginId}.js`);
            expect(s.id).toBe(`plugin_${s.dataset.pluginId}`);
        }
        // Preloads let the browser fetch while host modules arrive.
        expect(t.head.querySelectorAll('link[rel=preload]').length).toBe(3);
        for (const id of ['a', 'b', 'c']) {
            bundles[id] = (w) => w.registerPlugin(id, {initialize: (r: any) => r.registerRootComponent(() => null)});
            t.finish(id);
        }
        await done;
        expect(t.slots.list('root').map((r) => r.pluginId)).toEqual(['a', 'b', 'c']);
        expect(t.store.getState().plugins.settledAt).toBeGreaterThan(0);
    });

    it('loads the host modules a bundle needs before running it', async () => {
        const t = setup(bundles);
        let release!: () => void;
        t.modules.ensure.mockImplementation(() => new Promise<void>((r) => {
            release = r;
        }));
        const done = t.loader.load(manifest('intl', {host_modules: ['react', 'react-intl']}));
        await flush();
        expect(t.modules.ensure).toHaveBeenCalledWith(['react', 'react-intl']);
        expect(t.appended).toHaveLength(0);
        release();
        await flush();
        expect(t.appended).toHaveLength(1);
        bundles.intl = (w) => w.registerPlugin('intl', {});
        t.finish('intl');
        await done;
    });

    it('isolates failures: a bad bundle, a missing registerPlugin and a throwing initialize', async () => {
        const t = setup(bundles);
        bundles.good = (w) => w.registerPlugin('good', {initialize: (r: any) => r.registerRootComponent(() => null)});
        bundles.silent = () => undefined;
        bundles.throws = (w) => w.registerPlugin('throws', {
            initialize: (r: any) => {
                r.registerRootComponent(() => null);
                throw new Error('boom');
            },
        });
        const done = t.loader.sync('team', ['bad', 'silent', 'throws', 'good'].map((id) => manifest(id)));
        await flush();
        t.finish('bad', false);
        t.finish('silent');
        t.finish('throws');
        t.finish('good');
        await done;
        const status = t.store.getState().plugins.status;
        expect(status.good.phase).toBe('loaded');
        // (The real reporter then marks them crashed; this one only records.)
        expect(status.bad).toMatchObject({phase: 'failed', where: 'load'});
        expect(status.bad.error).toContain('Unable to load bundle for plugin bad');
        expect(status.silent.error).toContain("did not call window.registerPlugin('silent'");
        expect(status.throws.phase).toBe('loaded');
        expect(t.slots.list('root').map((r) => r.pluginId)).toEqual(['good']); // half-registered state dropped
        expect(t.crashes.map((c) => `${c.pluginId}:${c.where}`).sort()).toEqual(['bad:load', 'silent:load', 'throws:initialize']);
    });

    it('reports a rejected async initialize', async () => {
        const t = setup(bundles);
        bundles.async = (w) => w.registerPlugin('async', {initialize: async () => Promise.reject(new Error('later'))});
        const done = t.loader.load(manifest('async'));
        await flush();
        t.finish('async');
        await done;
        await flush();
        expect(t.crashes).toMatchObject([{pluginId: 'async', where: 'initialize'}]);
    });

    it('removes a plugin: registrations, uninitialize, script, RHS', async () => {
        const t = setup(bundles);
        const uninitialize = vi.fn();
        let rhs: any;
        bundles.p = (w) => w.registerPlugin('p', {
            initialize: (r: any) => {
                r.registerRootComponent(() => null);
                r.registerWebSocketEventHandler('posted', () => undefined);
                rhs = r.registerRightHandSidebarComponent(() => null, 'T');
            },
            uninitialize,
        });
        const done = t.loader.load(manifest('p'));
        await flush();
        t.finish('p');
        await done;
        t.store.dispatch(rhs.showRHSPlugin);
        t.loader.remove('p');
        expect(uninitialize).toHaveBeenCalledOnce();
        expect(t.slots.pluginIds().size).toBe(0);
        expect(t.appended[0].isConnected).toBe(false);
        expect(t.store.getState().views.rhs.isSidebarOpen).toBe(false);
        expect(t.win.plugins.p).toBeUndefined();
        expect(t.store.getState().plugins.status.p).toBeUndefined();
    });

    it('swaps a plugin when its bundle changes, and ignores duplicate events', async () => {
        const t = setup(bundles);
        const un1 = vi.fn();
        bundles.p = (w) => w.registerPlugin('p', {initialize: (r: any) => r.registerRootComponent(() => null), uninitialize: un1});
        let done = t.loader.load(manifest('p'));
        await flush();
        t.finish('p');
        await done;
        const first = t.slots.list('root')[0].id;
        expect(t.loader.load(manifest('p'))).toBe(done); // same bundle: nothing new
        await flush();
        expect(t.appended).toHaveLength(1);
        done = t.loader.load(manifest('p', {version: '2.0.0', bundle: {url: '/bundles/p2.js', integrity: 'sha256-p2', size: 1}}));
        expect(un1).toHaveBeenCalledOnce();
        await flush();
        bundles.p = (w) => w.registerPlugin('p', {initialize: (r: any) => r.registerRootComponent(() => null)});
        const s2 = t.appended[1];
        expect(s2.src).toContain('/bundles/p2.js');
        bundles.p(t.win);
        s2.onload?.(new Event('load'));
        await done;
        expect(t.slots.list('root')).toHaveLength(1);
        expect(t.slots.list('root')[0].id).not.toBe(first);
        expect(t.store.getState().plugins.status.p.version).toBe('2.0.0');
    });

    it('keeps running the same bundle under a preview version, and says which version runs', async () => {
        const t = setup(bundles);
        const un = vi.fn();
        bundles.p = (w) => w.registerPlugin('p', {initialize: (r: any) => r.registerRootComponent(() => null), uninitialize: un});
        const done = t.loader.load(manifest('p'));
        await flush();
        t.finish('p');
        await done;
        // A developer's first preview build of unchanged sources: the same bytes.
        expect(t.loader.load(manifest('p', {version: '1.0.1-dev.5', preview: true}))).toBe(done);
        await flush();
        expect(t.appended).toHaveLength(1);
        expect(un).not.toHaveBeenCalled();
        const state = () => t.store.getState().plugins;
        expect(state().plugins.p).toMatchObject({version: '1.0.1-dev.5', preview: true});
        expect(state().status.p).toMatchObject({phase: 'loaded', version: '1.0.1-dev.5'});
        // The preview ends: the team's version, no mark.
        t.loader.load(manifest('p'));
        expect(state().plugins.p.preview).toBeUndefined();
        expect(state().status.p.version).toBe('1.0.0');
    });

    it('drops a bundle that finishes loading after its plugin was removed', async () => {
        const t = setup(bundles);
        const init = vi.fn();
        bundles.late = (w) => w.registerPlugin('late', {initialize: init});
        const done = t.loader.load(manifest('late'));
        await flush();
        t.loader.remove('late');
        t.finish('late');
        await done;
        expect(init).not.toHaveBeenCalled();
        expect(t.appended[0].isConnected).toBe(false);
    });

    it('sync removes plugins the new manifest lacks', async () => {
        const t = setup(bundles);
        bundles.a = (w) => w.registerPlugin('a', {});
        bundles.b = (w) => w.registerPlugin('b', {});
        let done = t.loader.sync('t1', [manifest('a'), manifest('b')]);
        await flush();
        t.finish('a');
        t.finish('b');
        await done;
        done = t.loader.sync('t2', [manifest('b')]);
        await done;
        expect(t.loader.ids()).toEqual(['b']);
        expect(t.store.getState().plugins.teamId).toBe('t2');
        expect(Object.keys(t.store.getState().plugins.plugins)).toEqual(['b']);
    });
    describe('stage (bundles run at boot, before the team is selected)', () => {
        it('runs the bundles without initializing them; sync initializes them without loading again', async () => {
            const t = setup(bundles);
            const init = vi.fn((r: any) => r.registerRootComponent(() => null));
            bundles.a = (w) => w.registerPlugin('a', {initialize: init});
            bundles.b = (w) => w.registerPlugin('b', {initialize: init});
            t.loader.stage([manifest('a'), manifest('b')]);
            await flush();
            expect(t.appended.map((s) => [s.dataset.pluginId, s.integrity, s.crossOrigin])).toEqual([
                ['a', 'sha256-a', 'anonymous'], ['b', 'sha256-b', 'anonymous'],
            ]);
            t.finish('a');
            t.finish('b');
            await flush();
            expect(init).not.toHaveBeenCalled();
            expect(t.slots.pluginIds().size).toBe(0);
            expect(t.store.getState().plugins.settledAt).toBe(0);

            await t.loader.sync('team', [manifest('a'), manifest('b')]);
            expect(t.appended).toHaveLength(2);
            expect(init).toHaveBeenCalledTimes(2);
            expect(t.slots.list('root').map((r) => r.pluginId)).toEqual(['a', 'b']);
            expect(t.store.getState().plugins.status.a.phase).toBe('loaded');
        });

        it('sync waits for a staged bundle still loading', async () => {
            const t = setup(bundles);
            bundles.a = (w) => w.registerPlugin('a', {initialize: (r: any) => r.registerRootComponent(() => null)});
            t.loader.stage([manifest('a')]);
            await flush();
            let settled = false;
            const done = t.loader.sync('team', [manifest('a')]).then(() => {
                settled = true;
            });
            await flush();
            expect(settled).toBe(false);
            expect(t.appended).toHaveLength(1);
            t.finish('a');
            await done;
            expect(t.slots.list('root').map((r) => r.pluginId)).toEqual(['a']);
        });

        it('drops what the team manifest does not have as staged: another plugin, another bundle', async () => {
            const t = setup(bundles);
            const initOld = vi.fn();
            bundles.gone = (w) => w.registerPlugin('gone', {initialize: initOld});
            bundles.p = (w) => w.registerPlugin('p', {initialize: initOld});
            t.loader.stage([manifest('gone'), manifest('p')]);
            await flush();
            t.finish('gone');
            t.finish('p');
            await flush();
            const [goneScript, oldP] = t.appended;

            const initNew = vi.fn((r: any) => r.registerRootComponent(() => null));
            const done = t.loader.sync('team', [manifest('p', {version: '2.0.0', bundle: {url: '/bundles/p2.js', integrity: 'sha256-p2', size: 1}})]);
            await flush();
            expect(goneScript.isConnected).toBe(false);
            expect(oldP.isConnected).toBe(false);
            expect(t.win.plugins.gone).toBeUndefined();
            const p2 = t.appended[2];
            expect(p2.src).toContain('/bundles/p2.js');
            t.win.registerPlugin('p', {initialize: initNew});
            p2.onload?.(new Event('load'));
            await done;
            expect(initOld).not.toHaveBeenCalled();
            expect(initNew).toHaveBeenCalledOnce();
            expect(t.store.getState().plugins.status.p.version).toBe('2.0.0');
            expect(t.store.getState().plugins.status.gone).toBeUndefined();
        });

        it("watches the shell's deferred bundle scripts instead of loading them again", async () => {
            const t = setup(bundles);
            t.head.innerHTML = '<script src="/bundles/a.js" integrity="sha256-a" crossorigin="anonymous" defer data-plugin-id="a"></script>' +
                '<script src="/bundles/old.js" integrity="sha256-old" defer data-plugin-id="b"></script>';
            const [shellA] = t.head.querySelectorAll('script');
            const init = vi.fn((r: any) => r.registerRootComponent(() => null));
            t.loader.stage([manifest('a'), manifest('b')]);
            await flush();
            // a is the page's; b's element is another bundle, so b is loaded by the host.
            expect(t.appended.map((s) => s.dataset.pluginId)).toEqual(['b']);
            const done = t.loader.sync('team', [manifest('a'), manifest('b')]);
            t.win.registerPlugin('a', {initialize: init}); // the deferred script runs
            shellA.dispatchEvent(new Event('load'));
            bundles.b = (w) => w.registerPlugin('b', {initialize: init});
            t.finish('b');
            await done;
            expect(init).toHaveBeenCalledTimes(2);
            expect(t.slots.list('root').map((r) => r.pluginId).sort()).toEqual(['a', 'b']);
        });

        it("a shell bundle that fails (integrity, network) is reported, and its element removed", async () => {
            const t = setup(bundles);
            t.head.innerHTML = '<script src="/bundles/a.js" integrity="sha256-a" crossorigin="anonymous" defer data-plugin-id="a"></script>';
            const shellA = t.head.querySelector('script')!;
            t.loader.stage([manifest('a')]);
            const done = t.loader.sync('team', [manifest('a')]);
            shellA.dispatchEvent(new Event('error'));
            await done;
            expect(shellA.isConnected).toBe(false);
            expect(t.appended).toHaveLength(0);
            expect(t.store.getState().plugins.status.a).toMatchObject({phase: 'failed', where: 'load'});
            expect(t.crashes.map((c) => `${c.pluginId}:${c.where}`)).toEqual(['a:load']);
        });

        it('a staged bundle that fails is reported by the sync that takes it', async () => {
            const t = setup(bundles);
            t.loader.stage([manifest('bad')]);
            await flush();
            t.finish('bad', false);
            await flush();
            expect(t.crashes).toHaveLength(0);
            await t.loader.sync('team', [manifest('bad')]);
            expect(t.store.getState().plugins.status.bad).toMatchObject({phase: 'failed', where: 'load'});
            expect(t.crashes.map((c) => `${c.pluginId}:${c.where}`)).toEqual(['bad:load']);
        });
    });
});
