// Routing without react-router: the host's URLs are few and fixed, and
// react-router-dom is a library only some plugins need (loaded on demand).
// The history object is the one react-router v5 uses, so when a plugin
// brings react-router-dom its <Router> shares this history, and
// WebappUtils.browserHistory is this object as in Mattermost.
import {createBrowserHistory, type History} from 'history';
import {useSyncExternalStore} from 'react';

export const browserHistory: History = createBrowserHistory();

export type Route =
    | {kind: 'login'}
    | {kind: 'root'}
    | {kind: 'team'; team: string}
    | {kind: 'channel'; team: string; channel: string}
    /** /:team/:pluginId/rest (registerNeedsTeamRoute), or /plug/:pluginId/rest (registerCustomRoute). */
    | {kind: 'plugin'; team: string; pluginId: string; rest: string}
    | {kind: 'custom'; pluginId: string; rest: string}
    /** /:baseURL/... for a product, when the first segment is a product's. */
    | {kind: 'product'; base: string; rest: string};

export function parseRoute(pathname: string, productBases: string[] = []): Route {
    const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts.length === 0) {
        return {kind: 'root'};
    }
    if (parts[0] === 'login') {
        return {kind: 'login'};
    }
    if (parts[0] === 'plug' && parts.length >= 2) {
        return {kind: 'custom', pluginId: parts[1], rest: parts.slice(2).join('/')};
    }
    if (productBases.includes(parts[0])) {
        return {kind: 'product', base: parts[0], rest: parts.slice(1).join('/')};
    }
    if (parts.length === 1) {
        return {kind: 'team', team: parts[0]};
    }
    if (parts[1] === 'channels' && parts.length >= 3) {
        return {kind: 'channel', team: parts[0], channel: parts[2]};
    }
    return {kind: 'plugin', team: parts[0], pluginId: parts[1], rest: parts.slice(2).join('/')};
}

const subscribe = (l: () => void) => browserHistory.listen(l);
const getPath = () => browserHistory.location.pathname;

export function usePathname(): string {
    return useSyncExternalStore(subscribe, getPath);
}

export function navigate(path: string, replace = false) {
    if (browserHistory.location.pathname === path) {
        return;
    }
    if (replace) {
        browserHistory.replace(path);
    } else {
        browserHistory.push(path);
    }
}
