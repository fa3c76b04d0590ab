// The installed apps of each team, shared by every view of the plugin and
// kept fresh: loaded on first use, replaced after this page's writes, and
// reloaded when another page announces a change (plugin event
// installed_changed, see index.tsx).
import {useEffect, useSyncExternalStore} from 'react';

import {readInstalled, setInstalled, announceInstalled, type Installed} from '../shared/kv';

import {webFetch} from './host';

export interface InstalledState {
    status: 'loading' | 'ready' | 'error';
    installed: Installed;
    error?: string;
}

const empty: InstalledState = {status: 'loading', installed: {apps: {}}};
const states = new Map<string, InstalledState>();
const inFlight = new Map<string, Promise<void>>();
const listeners = new Set<() => void>();

function put(teamId: string, s: InstalledState) {
    states.set(teamId, s);
    listeners.forEach((l) => l());
}

export function loadInstalled(teamId: string): Promise<void> {
    const running = inFlight.get(teamId);
    if (running) {
        return running;
    }
    const prev = states.get(teamId);
    if (!prev || prev.status === 'error') {
        put(teamId, {...empty});
    }
    const p = readInstalled(webFetch, teamId).
        then(({installed}) => put(teamId, {status: 'ready', installed})).
        catch((e: Error) => put(teamId, {status: 'error', installed: prev?.installed ?? {apps: {}}, error: e.message})).
        finally(() => inFlight.delete(teamId));
    inFlight.set(teamId, p);
    return p;
}

/** Installs or uninstalls, then tells the team's other pages. Throws with the server's message. */
export async function changeInstalled(teamId: string, appId: string, install: boolean, userId: string): Promise<void> {
    const installed = await setInstalled(webFetch, teamId, appId, install, userId);
    put(teamId, {status: 'ready', installed});
    // Best effort: other pages also refresh when they open the App Center.
    await announceInstalled(webFetch, teamId).catch(() => undefined);
}

/** Forgets every team's state (the plugin is being stopped). */
export function resetInstalled() {
    states.clear();
}

const subscribe = (l: () => void) => {
    listeners.add(l);
    return () => {
        listeners.delete(l);
    };
};

export function useInstalled(teamId: string | undefined): InstalledState {
    const state = useSyncExternalStore(subscribe, () => (teamId ? states.get(teamId) : undefined) ?? empty);
    useEffect(() => {
        if (teamId) {
            loadInstalled(teamId);
        }
    }, [teamId]);
    return state;
}
