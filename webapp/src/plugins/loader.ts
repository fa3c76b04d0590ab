// The plugin loader: Mattermost's plugins/index.ts, per team. It installs
// window.registerPlugin, loads the bundles of a manifest in parallel with
// Subresource Integrity, initializes each plugin with a registry bound to its
// id, and removes or swaps plugins when the manifest changes. One plugin's
// failure (bad bundle, integrity mismatch, throwing initialize) never stops
// the others.
import type {HostStore} from '../store';
import {pluginsActions} from '../store/plugins_slice';
import {viewsActions} from '../store/views_slice';

import type {CrashReporter} from './crash';
import type {HostModules} from './host_modules';
import {PluginRegistry} from './registry';
import type {SlotMap} from './slot_map';
import type {ManifestPlugin, PluginObject} from './types';

export interface PluginWindow {
    plugins: Record<string, PluginObject>;
    registerPlugin: (id: string, plugin: PluginObject) => void;
}

export interface LoaderDeps {
    doc: Document;
    win: PluginWindow;
    slots: SlotMap;
    store: HostStore;
    modules: Pick<HostModules, 'ensure'>;
    report: CrashReporter;
    /** The page's CSP nonce, set on plugin script tags. */
    nonce?: string;
}

interface Loaded {
    manifest: ManifestPlugin;
    /** Bumped on every load and removal: a stale completion sees a newer token and backs off. */
    token: number;
    script?: HTMLScriptElement;
    plugin?: PluginObject;
    done: Promise<void>;
}

/** A bundle run ahead of its team's sync: executed, not initialized. */
interface Staged {
    manifest: ManifestPlugin;
    done: Promise<{script: HTMLScriptElement; plugin?: PluginObject}>;
}

let tokens = 0;

export class PluginLoader {
    private loaded = new Map<string, Loaded>();
    private staged = new Map<string, Staged>();

    constructor(private readonly deps: LoaderDeps) {}

    /** Sets window.plugins and window.registerPlugin, as Mattermost's host does. */
    install() {
        const {win} = this.deps;
        win.plugins = win.plugins ?? {};
        win.registerPlugin = (id: string, plugin: PluginObject) => {
            // As Mattermost: an id registered again first uninitializes the old object.
            const old = win.plugins[id];
            if (old && old !== plugin) {
                try {
                    old.uninitialize?.();
                } catch (e) {
                    this.deps.report({pluginId: id, where: 'uninitialize', error: e});
                }
            }
            win.plugins[id] = plugin;
        };
    }

    /**
     * Makes the page run exactly the manifest's plugins: removes the ones
     * that are gone, swaps the ones whose bundle changed, loads new ones,
     * all in parallel. Resolves when every plugin settled.
     */
    async sync(teamId: string, plugins: ManifestPlugin[]): Promise<void> {
        this.deps.store.dispatch(pluginsActions.manifestLoaded({teamId, plugins}));
        const wanted = new Set(plugins.map((p) => p.id));
        for (const id of [...this.loaded.keys()]) {
            if (!wanted.has(id)) {
                this.remove(id);
            }
        }
        const all = Promise.all(plugins.map((p) => this.load(p)));
        // load took every staged bundle this manifest has as it is.
        for (const id of [...this.staged.keys()]) {
            this.discardStaged(id);
        }
        await all;
        this.deps.store.dispatch(pluginsActions.settled(performance.now()));
    }

    /** Loads a plugin, or swaps it when another bundle of it is running. Idempotent. */
    load(p: ManifestPlugin): Promise<void> {
        const cur = this.loaded.get(p.id);
        if (cur && cur.manifest.bundle.url === p.bundle.url) {
            if (cur.manifest.version !== p.version || cur.manifest.preview !== p.preview) {
                // The same bundle under another version or preview mark (a
                // developer's first preview build of unchanged sources, or
                // its end): nothing to run again, but the page says which.
                cur.manifest = p;
                this.deps.store.dispatch(pluginsActions.entryUpdated(p));
            }
            return cur.done; // duplicate events are normal (Mattermost's too)
        }
        if (cur) {
            this.remove(p.id);
        }
        const entry: Loaded = {manifest: p, token: ++tokens, done: Promise.resolve()};
        this.loaded.set(p.id, entry);
        this.deps.store.dispatch(pluginsActions.bundleRequested(p));
        entry.done = this.run(entry);
        return entry.done;
    }

    /** Removes a plugin: registrations, RHS, uninitialize, script tag. */
    remove(id: string) {
        const entry = this.loaded.get(id);
        this.loaded.delete(id);
        const {slots, store, win, report} = this.deps;
        const rhs = store.getState().views.rhs;
        if (rhs.isSidebarOpen && slots.get(rhs.pluggableId)?.pluginId === id) {
            store.dispatch(viewsActions.rhsClosed());
        }
        slots.removePlugin(id);
        const plugin = entry?.plugin;
        if (plugin) {
            try {
                if (plugin.uninitialize) {
                    plugin.uninitialize();
                } else {
                    plugin.deinitialize?.();
                }
            } catch (e) {
                report({pluginId: id, where: 'uninitialize', error: e});
            }
        }
        // The code already run stays in memory (as in Mattermost); the tag goes.
        entry?.script?.remove();
        if (win.plugins[id] === plugin) {
            delete win.plugins[id];
        }
        store.dispatch(pluginsActions.removed(id));
    }

    /** The running plugin ids, for tests and the developer. */
    ids(): string[] {
        return [...this.loaded.keys()];
    }

    private async run(entry: Loaded): Promise<void> {
        const {manifest: p, token} = entry;
        const {store, report, modules, slots} = this.deps;
        const current = () => this.loaded.get(p.id)?.token === token;
        let plugin: PluginObject | undefined;
        try {
            const staged = this.takeStaged(p);
            if (staged) {
                ({script: entry.script, plugin} = await staged);
            } else {
                // Fetch the bundle while the libraries it needs arrive; execute it
                // only after they did, since webpack externals read window.X at once.
                this.preload(p);
                await modules.ensure(p.host_modules ?? []);
                if (!current()) {
                    return;
                }
                delete this.deps.win.plugins[p.id];
                entry.script = await this.inject(p);
                plugin = this.deps.win.plugins[p.id];
            }
        } catch (e) {
            if (current()) {
                store.dispatch(pluginsActions.bundleFailed({id: p.id, version: p.version, error: String((e as Error).message ?? e)}));
                report({pluginId: p.id, where: 'load', error: e});
            }
            return;
        }
        if (!current()) {
            entry.script?.remove();
            return;
        }
        if (!plugin) {
            const error = new Error(`the bundle of ${p.id} did not call window.registerPlugin('${p.id}', ...)`);
            store.dispatch(pluginsActions.bundleFailed({id: p.id, version: p.version, error: error.message}));
            report({pluginId: p.id, where: 'load', error});
            return;
        }
        entry.plugin = plugin;
        store.dispatch(pluginsActions.bundleLoaded({id: p.id, version: p.version}));
        const registry = new PluginRegistry(p.id, {slots, store});
        const failInit = (e: unknown) => {
            if (!current()) {
                return;
            }
            // Half-registered state is unknown state: drop it, show the notice.
            slots.removePlugin(p.id);
            report({pluginId: p.id, where: 'initialize', error: e});
        };
        try {
            const r = plugin.initialize?.(registry, store);
            if (r && typeof (r as Promise<unknown>).then === 'function') {
                // Mattermost does not await initialize; a rejection still counts.
                (r as Promise<unknown>).catch(failInit);
            }
        } catch (e) {
            failInit(e);
        }
    }

    /**
     * Runs the bundles of the manifest the page expects while the host
     * still loads the user and the team: each is downloaded and executed
     * once its host modules are there (window.registerPlugin only records
     * the plugin), and none is initialized. Bundles the shell already put
     * in the page (deferred scripts, which run after the host's) are
     * watched, not loaded again: call it while the host's script runs. The next sync (or load) takes a
     * staged bundle when its manifest has the same one, and initializes it
     * then; the others are dropped. Failures are reported by that sync, as
     * if it had loaded the bundle itself.
     */
    stage(plugins: ManifestPlugin[]) {
        const {win, modules} = this.deps;
        for (const p of plugins) {
            if (this.loaded.has(p.id) || this.staged.has(p.id)) {
                continue;
            }
            const shell = this.shellScript(p);
            let done: Staged['done'];
            if (shell) {
                // Deferred in the page after the host's own script (which is
                // running now), so it has not run yet: wait for it.
                done = Promise.all([modules.ensure(p.host_modules ?? []), this.loaded$(shell, p)]).
                    then(() => ({script: shell, plugin: win.plugins[p.id]}));
            } else {
                this.preload(p);
                done = modules.ensure(p.host_modules ?? []).then(async () => {
                    delete win.plugins[p.id];
                    const script = await this.inject(p);
                    // The bundle ran just before its load event: what it registered is its own.
                    return {script, plugin: win.plugins[p.id]};
                });
            }
            done.catch(() => undefined); // reported by the sync that takes it
            this.staged.set(p.id, {manifest: p, done});
        }
    }

    /** The shell's <script defer data-plugin-id> for this very bundle, if the page has one. */
    private shellScript(p: ManifestPlugin): HTMLScriptElement | null {
        for (const s of this.deps.doc.querySelectorAll<HTMLScriptElement>('script[data-plugin-id]:not([id])')) {
            if (s.dataset.pluginId === p.id && s.getAttribute('src') === p.bundle.url && (s.getAttribute('integrity') ?? '') === (p.bundle.integrity ?? '')) {
                return s;
            }
        }
        return null;
    }

    private loaded$(s: HTMLScriptElement, p: ManifestPlugin): Promise<void> {
        return new Promise((resolve, reject) => {
            s.addEventListener('load', () => resolve(), {once: true});
            s.addEventListener('error', () => {
                s.remove();
                reject(new Error(`Unable to load bundle for plugin ${p.id} from ${p.bundle.url} (network error or integrity mismatch)`));
            }, {once: true});
        });
    }

    private takeStaged(p: ManifestPlugin): Staged['done'] | undefined {
        const s = this.staged.get(p.id);
        if (!s || s.manifest.bundle.url !== p.bundle.url || s.manifest.bundle.integrity !== p.bundle.integrity) {
            return undefined;
        }
        this.staged.delete(p.id);
        return s.done;
    }

    /** Drops a staged bundle nothing took: its script tag and its registration. */
    private discardStaged(id: string) {
        const s = this.staged.get(id);
        this.staged.delete(id);
        s?.done.then(({script, plugin}) => {
            script.remove();
            const {win} = this.deps;
            if (plugin && win.plugins[id] === plugin && this.loaded.get(id)?.plugin !== plugin) {
                delete win.plugins[id];
            }
        }, () => undefined);
    }

    private preload(p: ManifestPlugin) {
        const {doc} = this.deps;
        if (doc.querySelector(`link[rel="preload"][href="${p.bundle.url}"]`)) {
            return;
        }
        const l = doc.createElement('link');
        l.rel = 'preload';
        l.as = 'script';
        l.href = p.bundle.url;
        if (p.bundle.integrity) {
            l.integrity = p.bundle.integrity;
        }
        l.crossOrigin = 'anonymous';
        doc.head.appendChild(l);
    }

    private inject(p: ManifestPlugin): Promise<HTMLScriptElement> {
        const {doc, nonce} = this.deps;
        return new Promise((resolve, reject) => {
            const s = doc.createElement('script');
            s.id = `plugin_${p.id}`;
            s.src = p.bundle.url;
            if (p.bundle.integrity) {
                s.integrity = p.bundle.integrity;
            }
            // SRI on a script needs a CORS-mode fetch; same origin, so anonymous is enough.
            s.crossOrigin = 'anonymous';
            s.async = true;
            if (nonce) {
                s.nonce = nonce;
            }
            s.dataset.pluginId = p.id;
            s.dataset.pluginVersion = p.version;
            s.onload = () => resolve(s);
            s.onerror = () => {
                s.remove();
                reject(new Error(`Unable to load bundle for plugin ${p.id} from ${p.bundle.url} (network error or integrity mismatch)`));
            };
            doc.head.appendChild(s);
        });
    }
}
