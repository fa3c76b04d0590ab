// Websocket events and hooks, as Mattermost runs them for plugins. Each
// plugin callback runs inside try/catch: a throwing handler or hook is
// reported and skipped, the next one still runs.
import type {CrashReporter} from './crash';
import {reconnectKey} from './registry';
import type {SlotMap} from './slot_map';
import type {SlotName} from './types';

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
 * Slash command hooks in registration order, as Mattermost's
 * actions/hooks.ts: each may rewrite the command ({message, args}),
 * reject it ({error}) or swallow it ({}, neither message nor args). A hook
 * that returns nothing lets the command through unchanged.
 */
export async function runSlashCommandHooks(slots: SlotMap, report: CrashReporter, message: string, args: SlashArgs): Promise<SlashResult> {
    let msg = message;
    let a = args;
    for (const r of slots.list('slash_command_hook')) {
        let res: {message?: string; args?: SlashArgs; error?: {message: string}} | undefined | null;
        try {
            res = (await r.hook?.(msg, a)) as typeof res;
        } catch (e) {
            report({pluginId: r.pluginId, where: 'hook', error: e, slot: 'slash_command_hook'});
            continue;
        }
        if (!res) {
            continue;
        }
        if (res.error) {
            return {error: res.error};
        }
        if (!res.message && !res.args) {
            return {swallowed: true};
        }
        msg = res.message ?? msg;
        a = res.args ?? a;
    }
    return {message: msg, args: a};
}

/** Message hooks: each may rewrite the post ({post}) or reject it ({error}). */
export function runMessageWillBePostedHooks<P>(slots: SlotMap, report: CrashReporter, post: P): Promise<{post: P} | {error: {message: string}}> {
    return runPostHooks(slots, report, 'message_will_be_posted_hook', post, []);
}

/**
 * Runs the hooks of a slot in order on a post: each may rewrite it
 * ({post}, passed to the next) or reject it ({error}, the end); a hook
 * that throws is reported and skipped. extra follows the post in each
 * call (the old post for an edit).
 */
async function runPostHooks<P>(slots: SlotMap, report: CrashReporter, slot: SlotName, post: P, extra: unknown[]): Promise<{post: P} | {error: {message: string}}> {
    let p = post;
    for (const r of slots.list(slot)) {
        let res: {post?: P; error?: {message: string}} | undefined;
        try {
            res = (await r.hook?.(p, ...extra)) as typeof res;
        } catch (e) {
            report({pluginId: r.pluginId, where: 'hook', error: e, slot});
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

/**
 * registerMessageWillBeUpdatedHook: before an edit is saved, each hook may
 * rewrite the post ({post}) or reject the edit ({error}); hook(newPost, oldPost).
 */
export function runMessageWillBeUpdatedHooks<P>(slots: SlotMap, report: CrashReporter, post: P, old: P): Promise<{post: P} | {error: {message: string}}> {
    return runPostHooks(slots, report, 'MessageWillBeUpdated', post, [old]);
}

/** registerMessageWillFormatHook: hook(post, message) returns the markdown to format. */
export function runMessageWillFormatHooks(slots: SlotMap, report: CrashReporter, post: unknown, message: string): string {
    let m = message;
    for (const r of slots.list('MessageWillFormat')) {
        try {
            const res = r.hook?.(post, m);
            if (typeof res === 'string') {
                m = res;
            }
        } catch (e) {
            report({pluginId: r.pluginId, where: 'hook', error: e, slot: 'MessageWillFormat'});
        }
    }
    return m;
}

/**
 * registerFilesWillUploadHook, as Mattermost's file upload: each hook gets
 * (files, upload) and returns {message} to stop with that error, {files}
 * to go on with those, or no files when it took the upload over.
 */
export function runFilesWillUploadHooks(slots: SlotMap, report: CrashReporter, files: File[], upload: (f: File[]) => void): {files: File[]} | {error: string} {
    let fs = files;
    for (const r of slots.list('FilesWillUpload')) {
        let res: {message?: string; files?: File[] | null} | undefined;
        try {
            res = r.hook?.(fs, upload) as typeof res;
        } catch (e) {
            report({pluginId: r.pluginId, where: 'hook', error: e, slot: 'FilesWillUpload'});
            continue;
        }
        if (res?.message) {
            return {error: res.message};
        }
        if (!res || !res.files) {
            return {files: []};
        }
        fs = res.files;
    }
    return {files: fs};
}

export interface NotificationArgs {
    title: string;
    body: string;
    silent: boolean;
    soundName: string;
    url: string;
    notify: boolean;
}

/**
 * registerDesktopNotificationHook, as Mattermost's registry documents it:
 * hook(post, msgProps, channel, teamId, args) returns {args} (the next
 * hook gets them; notify false drops the notification), nothing (the next
 * hook runs with the same args), or {error} or {} (stop here, no
 * notification).
 */
export async function runDesktopNotificationHooks(slots: SlotMap, report: CrashReporter, post: unknown, msgProps: unknown,
    channel: unknown, teamId: string, args: NotificationArgs): Promise<NotificationArgs | null> {
    let a = args;
    for (const r of slots.list('DesktopNotificationHooks')) {
        let res: {args?: NotificationArgs; error?: string} | undefined;
        try {
            res = (await r.hook?.(post, msgProps, channel, teamId, a)) as typeof res;
        } catch (e) {
            report({pluginId: r.pluginId, where: 'hook', error: e, slot: 'DesktopNotificationHooks'});
            continue;
        }
        if (res == null) {
            continue;
        }
        if (res.error || !res.args) {
            return null;
        }
        a = res.args;
    }
    return a.notify ? a : null;
}

/** registerComposerPlaceholder: each transform(placeholder, channel) rewrites the post box's placeholder. */
export function composerPlaceholder(slots: SlotMap, report: CrashReporter, placeholder: string, channel: unknown): string {
    let p = placeholder;
    for (const r of slots.list('ComposerPlaceholder')) {
        try {
            const res = r.hook?.(p, channel);
            if (typeof res === 'string' && res) {
                p = res;
            }
        } catch (e) {
            report({pluginId: r.pluginId, where: 'hook', error: e, slot: 'ComposerPlaceholder'});
        }
    }
    return p;
}
