// Websocket events and hooks, as Mattermost runs them for plugins. Each
// plugin callback runs inside try/catch: a throwing handler or hook is
// reported and skipped, the next one still runs.
import type {CrashReporter} from './crash';
import {reconnectKey} from './registry';
import type {SlotMap} from './slot_map';

export interface WebSocketMessage {
    event: string;
    data: Record<string, unknown>;
    broadcast: Record<string, unknown>;
    seq: number;
}

/** Calls every plugin handler registered for msg.event (any plugin's, as Mattermost). */
export function dispatchToPlugins(slots: SlotMap, report: CrashReporter, msg: WebSocketMessage) {
    for (const r of slots.list('websocket_event')) {
        if (r.key !== msg.event || !r.hook) {
            continue;
        }
        try {
            const res = r.hook(msg);
            if (res && typeof (res as Promise<unknown>).catch === 'function') {
                (res as Promise<unknown>).catch((e) => report({pluginId: r.pluginId, where: 'websocket', error: e, slot: 'websocket_event'}));
            }
        } catch (e) {
            report({pluginId: r.pluginId, where: 'websocket', error: e, slot: 'websocket_event'});
        }
    }
}

/** Runs plugins' reconnect handlers (after the host re-synced). */
export function runReconnectHandlers(slots: SlotMap, report: CrashReporter) {
    dispatchToPlugins(slots, report, {event: reconnectKey, data: {}, broadcast: {}, seq: 0});
}

export interface SlashArgs {
    channel_id: string;
    team_id: string;
    root_id?: string;
}

export type SlashResult = {message: string; args: SlashArgs} | {error: {message: string}} | {swallowed: true};

/**
 * Slash command hooks in registration order: each may rewrite the command
 * ({message, args}), reject it ({error}) or swallow it ({}).
 */
export async function runSlashCommandHooks(slots: SlotMap, report: CrashReporter, message: string, args: SlashArgs): Promise<SlashResult> {
    let msg = message;
    let a = args;
    for (const r of slots.list('slash_command_hook')) {
        let res: {message?: string; args?: SlashArgs; error?: {message: string}} | undefined;
        try {
            res = (await r.hook?.(msg, a)) as typeof res;
        } catch (e) {
            report({pluginId: r.pluginId, where: 'hook', error: e, slot: 'slash_command_hook'});
            continue;
        }
        if (res?.error) {
            return {error: res.error};
        }
        if (!res?.message) {
            return {swallowed: true};
        }
        msg = res.message;
        a = res.args ?? a;
    }
    return {message: msg, args: a};
}

/** Message hooks: each may rewrite the post ({post}) or reject it ({error}). */
export async function runMessageWillBePostedHooks<P>(slots: SlotMap, report: CrashReporter, post: P): Promise<{post: P} | {error: {message: string}}> {
    let p = post;
    for (const r of slots.list('message_will_be_posted_hook')) {
        let res: {post?: P; error?: {message: string}} | undefined;
        try {
            res = (await r.hook?.(p)) as typeof res;
        } catch (e) {
            report({pluginId: r.pluginId, where: 'hook', error: e, slot: 'message_will_be_posted_hook'});
            continue;
        }
        if (res?.error) {
            return {error: res.error};
        }
        if (res?.post) {
            p = res.post;
        }
    }
    return {post: p};
}

/** Merges plugins' translations for a locale (registerTranslations). */
export function pluginTranslations(slots: SlotMap, report: CrashReporter, locale: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of slots.list('translations')) {
        try {
            Object.assign(out, (r.hook?.(locale) as Record<string, string> | undefined) ?? {});
        } catch (e) {
            report({pluginId: r.pluginId, where: 'handler', error: e, slot: 'translations'});
        }
    }
    return out;
}
