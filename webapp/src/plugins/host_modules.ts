// Host modules: the libraries Mattermost puts on window for plugins. The
// core ones (React, ReactDOM, Redux, ReactRedux, PropTypes) are in the main
// bundle and set before any plugin loads; the heavy ones only some plugins
// use (react-bootstrap, react-intl, react-router-dom, luxon) are separate
// files loaded once, on demand, when an enabled plugin's manifest lists
// them in host_modules. For a prebuilt bundle the server finds them by
// parsing it (bundler.ReferencedHostModules), and lists all of them when
// it cannot be sure; the loader runs a bundle only after its modules.
//
// A module may carry a stylesheet (manifest.styles): react-bootstrap comes
// with bootstrap 3's CSS, and "icons" (Font Awesome 4.7, compass-icons) is
// a stylesheet only, inserted before the host's own stylesheet. ensure
// resolves once the script ran and the stylesheet applies, so a plugin's initialize, and so its first render,
// comes after its styles. A stylesheet that fails to load is reported on
// the console, not fatal: the plugin runs unstyled, and the next plugin
// needing it asks again.

import {HOST_GLOBALS} from '../generated/host_modules';

/** host_modules name -> the window global a webpack-built bundle reads (bundler.HostGlobals, generated). */
export const hostGlobals: Readonly<Record<string, string>> = HOST_GLOBALS;

type Listener = () => void;

export class HostModules {
    private pending = new Map<string, Promise<void>>();
    private sheets = new Map<string, Promise<void>>();
    private listeners = new Set<Listener>();

    /**
     * @param urls lazy module name -> script URL (from the asset manifest)
     * @param nonce the page's CSP nonce, for hosts that require it
     * @param styles lazy module name -> stylesheet URL (manifest.styles)
     */
    constructor(
        private readonly urls: Record<string, string>,
        private readonly doc: Document,
        private readonly nonce = '',
        private readonly styles: Record<string, string> = {},
    ) {}

    /** Loads the lazy modules among names, with their stylesheets; core modules are already there. */
    ensure(names: string[]): Promise<void> {
        const wanted = names.filter((n) => this.urls[n] && !this.present(n));
        const css = names.filter((n) => this.styles[n]);
        return Promise.all([...wanted.map((n) => this.load(n)), ...css.map((n) => this.style(n))]).then(() => undefined);
    }

    present(name: string): boolean {
        const g = hostGlobals[name];
        return Boolean(g && (window as unknown as Record<string, unknown>)[g]);
    }

    /** Notified when a lazy module arrives (the app wraps providers then). */
    subscribe = (l: Listener) => {
        this.listeners.add(l);
        return () => this.listeners.delete(l);
    };

    /**
     * The module's stylesheet, inserted before the host's own (as
     * Mattermost orders bootstrap before its CSS: at equal specificity the
     * host's rules win). The shell preloaded it when the page's team needs
     * it. Resolves when it applies, or failed (reported, not fatal).
     */
    private style(name: string): Promise<void> {
        let p = this.sheets.get(name);
        if (p) {
            return p;
        }
        const url = this.styles[name];
        const link = this.doc.createElement('link');
        link.rel = 'stylesheet';
        link.href = url;
        link.dataset.hostStyle = name;
        p = new Promise<void>((resolve) => {
            link.addEventListener('load', () => resolve(), {once: true});
            link.addEventListener('error', () => {
                console.error(`host module ${name}: stylesheet ${url} failed to load; its plugins run unstyled`);
                this.sheets.delete(name); // let a later plugin retry
                link.remove();
                resolve();
            }, {once: true});
        });
        const own = this.doc.head.querySelector('link[rel="stylesheet"]:not([data-host-style])');
        this.doc.head.insertBefore(link, own);
        this.sheets.set(name, p);
        return p;
    }

    private load(name: string): Promise<void> {
        let p = this.pending.get(name);
        if (!p) {
            p = new Promise<void>((resolve, reject) => {
                // The shell's deferred element for it, when the page's team
                // needs it (it runs after the host's script): wait for that one.
                const shell = this.doc.querySelector<HTMLScriptElement>(`script[data-host-module="${name}"]`);
                const s = shell ?? this.doc.createElement('script');
                if (!shell) {
                    s.src = this.urls[name];
                    s.async = true;
                    if (this.nonce) {
                        s.nonce = this.nonce;
                    }
                    s.dataset.hostModule = name;
                }
                s.onload = () => {
                    resolve();
                    this.listeners.forEach((l) => l());
                };
                s.onerror = () => {
                    this.pending.delete(name); // let a later plugin retry
                    s.remove();
                    reject(new Error(`host module ${name} failed to load from ${this.urls[name]}`));
                };
                if (!shell) {
                    this.doc.head.appendChild(s);
                }
            });
            this.pending.set(name, p);
        }
        return p;
    }
}
