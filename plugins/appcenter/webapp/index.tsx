// mmtoolkit.appcenter, web part. initialize registers:
//  - registerTranslations: English and German messages for react-intl;
//  - registerNeedsTeamRoute('/'): the App Center at /<team>/mmtoolkit.appcenter
//    (and its apps below it), a view that belongs to a team, as installs do;
//  - registerAppBarComponent and registerMainMenuAction: two ways to open it;
//  - registerWebSocketEventHandler: another page installed or uninstalled
//    an app for the team, reload what is installed.
import type {ComponentType} from 'react';

import type {HostProps, Plugin, PluginRegistry, PluginStore} from '@mmtoolkit/webapp';

import {INSTALLED_CHANGED_EVENT, PLUGIN_ID} from '../shared/kv';
import {locales, messagesFor} from '../shared/i18n';

import {AppCenterRoute} from './app_center';
import {navigate, selectTeamId, StoreContext, userLocale, viewURL} from './host';
import {loadInstalled, resetInstalled} from './installed';

// The app-bar icon: a data: URL (the host's CSP allows data: images), so the
// package needs no static file server. Same drawing as assets/icon.svg.
const ICON = 'data:image/svg+xml,' + encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="24" height="24">' +
    '<rect x="3" y="3" width="7.5" height="7.5" rx="2" fill="#1c58d9"/>' +
    '<rect x="13.5" y="3" width="7.5" height="7.5" rx="2" fill="#1c58d9" opacity=".55"/>' +
    '<rect x="3" y="13.5" width="7.5" height="7.5" rx="2" fill="#1c58d9" opacity=".55"/>' +
    '<rect x="13.5" y="13.5" width="7.5" height="7.5" rx="2" fill="#1c58d9"/></svg>');

function withStore(store: PluginStore, C: ComponentType<HostProps>): ComponentType<HostProps> {
    const Wrapped = (props: HostProps) => (
        <StoreContext.Provider value={store}>
            <C {...props}/>
        </StoreContext.Provider>
    );
    Wrapped.displayName = `AppCenter(${C.displayName ?? C.name})`;
    return Wrapped;
}

class AppCenterPlugin implements Plugin {
    initialize(registry: PluginRegistry, store: PluginStore) {
        registry.registerTranslations((locale) => locales[locale.split(/[-_]/)[0]]);

        registry.registerNeedsTeamRoute('/', withStore(store, AppCenterRoute));

        const open = () => {
            const state = store.getState();
            const team = state.entities.teams.teams[selectTeamId(state)];
            if (team) {
                navigate(viewURL(team.name));
            }
        };
        // Labels handed to the host as strings are in the user's language.
        const label = messagesFor(userLocale(store.getState()));
        registry.registerAppBarComponent(ICON, open, label['appcenter.open']);
        registry.registerMainMenuAction(label['appcenter.title'], open, <span aria-hidden='true'>{'▦'}</span>);

        registry.registerWebSocketEventHandler(INSTALLED_CHANGED_EVENT, (msg) => {
            const teamId = msg.broadcast.team_id || selectTeamId(store.getState());
            if (teamId) {
                loadInstalled(teamId);
            }
        });
    }

    uninitialize() {
        resetInstalled();
    }
}

window.registerPlugin(PLUGIN_ID, new AppCenterPlugin());
