// What the web part reads from the host: the Redux store handed to
// initialize (read with plain selectors on Mattermost's `entities` state, no
// mattermost-redux bundled), the browser history Mattermost exposes as
// WebappUtils.browserHistory, and a same-origin fetch as Mattermost's client
// sends it.
import {createContext, useContext, useSyncExternalStore} from 'react';

import type {GlobalState, PluginStore} from '@mmtoolkit/webapp';

import {PLUGIN_ID, type Fetch} from '../shared/kv';

export const StoreContext = createContext<PluginStore | null>(null);

export function useHostStore(): PluginStore {
    const store = useContext(StoreContext);
    if (!store) {
        throw new Error('appcenter: rendered outside its StoreContext');
    }
    return store;
}

/** A value of the host's state; re-renders when it changes. */
export function useHostState<T>(select: (s: GlobalState) => T): T {
    const store = useHostStore();
    return useSyncExternalStore(store.subscribe, () => select(store.getState()));
}

export interface TeamInfo {
    id: string;
    name: string;
    displayName: string;
}

export const selectTeamId = (s: GlobalState) => s.entities.teams.currentTeamId;
export const selectMeId = (s: GlobalState) => s.entities.users.currentUserId;

export function useCurrentTeam(): TeamInfo | null {
    const id = useHostState(selectTeamId);
    const team = useHostState((s) => s.entities.teams.teams[id]);
    return team ? {id: team.id, name: team.name, displayName: team.display_name} : null;
}

/** Team admins (team role or scheme) and system admins may install apps. */
export function canManageApps(s: GlobalState, teamId: string): boolean {
    const me = s.entities.users.profiles[s.entities.users.currentUserId];
    if (me?.roles?.split(' ').includes('system_admin')) {
        return true;
    }
    const member = s.entities.teams.myMembers[teamId];
    return Boolean(member && (member.scheme_admin || member.roles?.split(' ').includes('team_admin')));
}

/** The signed-in user's locale ("en" when unknown), for labels given to the host as strings. */
export function userLocale(s: GlobalState): string {
    return s.entities.users.profiles[s.entities.users.currentUserId]?.locale || 'en';
}

/** fetch with the session cookie and Mattermost's CSRF marker header. */
export const webFetch: Fetch = (path, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('X-Requested-With', 'XMLHttpRequest');
    return fetch(path, {...init, headers, credentials: 'same-origin'});
};

interface History {
    push(path: string): void;
    listen(listener: () => void): () => void;
    location: {pathname: string};
}

function history(): History | undefined {
    return (window as unknown as {WebappUtils?: {browserHistory?: History}}).WebappUtils?.browserHistory;
}

export function navigate(path: string) {
    const h = history();
    if (h) {
        h.push(path);
    } else {
        window.location.assign(path);
    }
}

const subscribePath = (l: () => void) => history()?.listen(l) ?? (() => undefined);
const getPath = () => window.location.pathname;

/** The path below /<team>/mmtoolkit.appcenter/, as segments (empty on the home view). */
export function useSubPath(): string[] {
    const path = useSyncExternalStore(subscribePath, getPath);
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const i = parts.indexOf(PLUGIN_ID);
    return i < 0 ? [] : parts.slice(i + 1);
}

/** The URL of a view of the plugin in a team. */
export const viewURL = (teamName: string, ...rest: string[]) =>
    ['', teamName, PLUGIN_ID, ...rest].map(encodeURIComponent).join('/');
