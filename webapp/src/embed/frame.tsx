// The embed frame's entry point (/embed/v1/frame, built by build.mjs as
// embed-frame): the host's runtime (store, plugin loader, globals, the
// Mattermost websocket) with the channel view only, scoped to what the
// embed token allows. See docs/embed.md.
import {createRoot} from 'react-dom/client';
import {Provider} from 'react-redux';

import {installGlobals} from '../globals';
import {createHost, HostContext, type ShellConfig} from '../host';

import {EmbedController, type EmbedConfig} from './controller';
import {EmbedApp, EmbedContext} from './views';

import '../styles.css';
import './embed.css';

interface FrameConfig {
    siteURL?: string;
    modules?: Record<string, string>;
    styles?: Record<string, string>;
    embed?: Partial<EmbedConfig>;
}

function readConfig(): {shell: ShellConfig; embed: EmbedConfig} {
    const c = JSON.parse(document.getElementById('mmtoolkit-config')?.textContent || '{}') as FrameConfig;
    // A module script has no document.currentScript: find our own element for the nonce.
    const nonce = (document.querySelector('script[type="module"][src*="/static/embed-frame."]') as HTMLScriptElement | null)?.nonce ?? '';
    const e = c.embed ?? {};
    return {
        shell: {siteURL: c.siteURL || window.location.origin, nonce, modules: c.modules ?? {}, styles: c.styles ?? {}},
        embed: {
            app: e.app ?? '', appName: e.appName ?? '', channel: e.channel ?? '', theme: e.theme === 'dark' ? 'dark' : 'light', accent: e.accent ?? '',
            signin: e.signin === 'popup' ? 'popup' : 'backend', height: e.height ?? '',
            channels: Array.isArray(e.channels) ? e.channels : [], origins: Array.isArray(e.origins) ? e.origins : [],
        },
    };
}

performance.mark('mmtoolkit:embed-main');
const {shell, embed} = readConfig();
const host = createHost(shell);
installGlobals(window, host); // before any plugin bundle runs
const controller = new EmbedController(host, embed);

createRoot(document.getElementById('root')!).render(
    <Provider store={host.store}>
        <HostContext.Provider value={host}>
            <EmbedContext.Provider value={controller}>
                <EmbedApp/>
            </EmbedContext.Provider>
        </HostContext.Provider>
    </Provider>,
);
controller.start();
