// Entry point. Order matters: the globals plugins read (React, ReactDOM,
// Redux, ReactRedux, PropTypes, PostUtils, ...) and window.registerPlugin
// exist before the first plugin bundle is requested.
import {createRoot} from 'react-dom/client';
import {Provider} from 'react-redux';

import {App} from './components/app';
import type {ShellPageConfig, ShellTeam} from './generated/shell';
import {installGlobals} from './globals';
import {createHost, HostContext, type Host, type ShellConfig} from './host';

import './styles.css';

function readConfig(): ShellConfig {
    const el = document.getElementById('mmtoolkit-config');
    const c = JSON.parse(el?.textContent || '{}') as Partial<ShellPageConfig>;
    // The nonce is not in the config: script elements expose it only to
    // script (the nonce property; the attribute reads empty). A module
    // script has no document.currentScript, so find the host's own element.
    const nonce = (document.querySelector('script[type="module"][src*="/static/main."]') as HTMLScriptElement | null)?.nonce ?? '';
    return {siteURL: c.siteURL || window.location.origin, nonce, modules: c.modules ?? {}, styles: c.styles ?? {}, manifest: readManifest()};
}

/** The manifest of the URL's team the shell embedded, if it did (webapp.go). */
function readManifest(): ShellConfig['manifest'] {
    const el = document.getElementById('mmtoolkit-team');
    if (!el) {
        return undefined;
    }
    try {
        const t = JSON.parse(el.textContent || '') as Partial<ShellTeam>;
        return t.team && Array.isArray(t.manifest?.plugins) ? {team: t.team, manifest: t.manifest} : undefined;
    } catch {
        return undefined; // the host requests it
    }
}

/**
 * Errors React cannot catch (a plugin component's own onClick, a timer, a
 * promise) reach window. When the stack names a plugin's bundle, the crash
 * is reported for that plugin; its registrations keep rendering, as in
 * Mattermost (plugins_slice.ts).
 */
function attributeUncaught(host: Host) {
    const owner = (text: string): string | undefined => {
        for (const p of Object.values(host.store.getState().plugins.plugins)) {
            if (text.includes(new URL(p.bundle.url, window.location.href).href)) {
                return p.id;
            }
        }
        return undefined;
    };
    window.addEventListener('error', (ev) => {
        const id = owner(`${ev.filename ?? ''}\n${(ev.error as Error | undefined)?.stack ?? ''}`);
        if (id) {
            host.report({pluginId: id, where: 'event', error: ev.error ?? new Error(ev.message)});
        }
    });
    window.addEventListener('unhandledrejection', (ev) => {
        const id = owner(String((ev.reason as Error | undefined)?.stack ?? ''));
        if (id) {
            host.report({pluginId: id, where: 'event', error: ev.reason});
        }
    });
}

// Every library module above has run: what follows is the host itself.
performance.mark('mmtoolkit:main');
const config = readConfig();
const host = createHost(config);
installGlobals(window, host); // before any plugin bundle runs: those are deferred after this script
attributeUncaught(host);
(window as unknown as {mmtoolkitHost: Host}).mmtoolkitHost = host;

createRoot(document.getElementById('root')!).render(
    <Provider store={host.store}>
        <HostContext.Provider value={host}>
            <App/>
        </HostContext.Provider>
    </Provider>,
);
host.start();
