// Crash reporting: a plugin that throws is isolated (the store marks it, its
// slot shows a notice) and the crash goes to POST /api/v1/plugins/{id}/errors
// so admins see it. Reporting never throws and never retries: losing a
// report is better than a page that fights a failing server.
import {Client4} from '@mattermost/client';

import type {CrashReportBody} from '../generated/crash_report';
import type {HostStore} from '../store';
import {pluginsActions} from '../store/plugins_slice';

export interface CrashInfo {
    pluginId: string;
    where: 'initialize' | 'render' | 'handler' | 'websocket' | 'hook' | 'load' | 'uninitialize' | 'event';
    error: unknown;
    slot?: string;
    registrationId?: string;
}

export type CrashReporter = (c: CrashInfo) => void;

function message(e: unknown): string {
    if (e instanceof Error) {
        return e.message;
    }
    return String(e);
}

// The first crash of a kind is enough for the server; repeats (a component
// that throws on every render) would only flood it.
const reported = new Set<string>();

export function createCrashReporter(store: HostStore, client: Pick<Client4, 'getOptions'>, fetchFn: typeof fetch = (...a) => fetch(...a)): CrashReporter {
    return (c) => {
        const msg = message(c.error);
        store.dispatch(pluginsActions.crashed({
            pluginId: c.pluginId, message: msg, where: c.where, slot: c.slot,
            registrationId: c.registrationId, at: Date.now(),
        }));
        console.error(`plugin ${c.pluginId} crashed (${c.where}${c.slot ? ', slot ' + c.slot : ''}):`, c.error); // eslint-disable-line no-console
        const dedupe = `${c.pluginId}|${c.where}|${c.slot ?? ''}|${msg}`;
        if (reported.has(dedupe)) {
            return;
        }
        reported.add(dedupe);
        const state = store.getState();
        const version = state.plugins.status[c.pluginId]?.version ?? '';
        // The team whose manifest the plugin came from: the server files the
        // report there, and only that team's admins read it.
        const teamId = state.entities.teams.currentTeamId || undefined;
        const body = JSON.stringify({
            version, message: msg, stack: c.error instanceof Error ? c.error.stack ?? '' : '',
            slot: c.slot ?? c.where, team_id: teamId,
        } satisfies CrashReportBody);
        fetchFn(`/api/v1/plugins/${encodeURIComponent(c.pluginId)}/errors`, client.getOptions({method: 'post', body})).
            then((r) => {
                if (!r.ok) {
                    console.info(`crash report for ${c.pluginId} not accepted: HTTP ${r.status}`); // eslint-disable-line no-console
                }
            }).
            catch(() => undefined);
    };
}
