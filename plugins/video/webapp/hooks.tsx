// Small hooks and pieces the components share.
import type {GlobalState} from '@mmtoolkit/webapp';
import {useEffect, useState, useSyncExternalStore} from 'react';

import {calls} from './calls';
import {getProfilesByIds, type UserProfile} from './client';

/** A selector on the host's store (Mattermost's state shape), without react-redux. */
export function useHostState<T>(select: (s: GlobalState) => T): T | undefined {
    return useSyncExternalStore(calls.subscribeStore, () => {
        const s = calls.getState();
        return s ? select(s) : undefined;
    });
}

/** Re-renders when the tab joins or leaves a call, or the notice changes. */
export function useCalls() {
    useSyncExternalStore(calls.subscribe, calls.getVersion);
    return calls;
}

/** Date.now(), refreshed every second while `live`. */
export function useNow(live: boolean): number {
    const [now, setNow] = useState(() => Date.now());
    useEffect(() => {
        if (!live) {
            return undefined;
        }
        setNow(Date.now());
        const t = setInterval(() => setNow(Date.now()), 1000);
        return () => clearInterval(t);
    }, [live]);
    return now;
}

const inFlight = new Set<string>();

/**
 * Usernames for user ids. Profiles come from the host store; missing ones
 * are fetched once and stored with Mattermost's own action
 * (RECEIVED_PROFILES_LIST), so the host and other plugins see them too.
 */
export function useUsernames(ids: string[]): string[] {
    const profiles = useHostState((s) => s.entities.users.profiles) ?? {};
    const key = ids.join(',');
    useEffect(() => {
        const missing = ids.filter((id) => id && !profiles[id] && !inFlight.has(id));
        if (missing.length === 0) {
            return;
        }
        missing.forEach((id) => inFlight.add(id));
        getProfilesByIds(missing).then((users: UserProfile[]) => {
            calls.dispatchToStore({type: 'RECEIVED_PROFILES_LIST', data: users});
        }).catch((e) => {
            console.warn('[mmtoolkit.video] profiles:', e); // eslint-disable-line no-console
        }).finally(() => missing.forEach((id) => inFlight.delete(id)));
    }, [key]); // eslint-disable-line react-hooks/exhaustive-deps
    return ids.map((id) => profiles[id]?.username ?? '…');
}

export function CameraIcon({size = 16}: {size?: number}) {
    return (
        <svg width={size} height={size} viewBox='0 0 24 24' aria-hidden='true' focusable='false'>
            <path
                fill='currentColor'
                d='M4 6.5A2.5 2.5 0 0 1 6.5 4h7A2.5 2.5 0 0 1 16 6.5v1.6l3.4-2.27A1 1 0 0 1 21 6.66v10.68a1 1 0 0 1-1.6.83L16 15.9v1.6a2.5 2.5 0 0 1-2.5 2.5h-7A2.5 2.5 0 0 1 4 17.5v-11z'
            />
        </svg>
    );
}
