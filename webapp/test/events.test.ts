import {describe, expect, it, vi} from 'vitest';

import {PluginRegistry} from '../src/plugins/registry';
import {
    composerPlaceholder, dispatchToPlugins, pluginTranslations, runDesktopNotificationHooks, runFilesWillUploadHooks,
    runMessageWillBePostedHooks, runMessageWillBeUpdatedHooks, runMessageWillFormatHooks, runSlashCommandHooks,
} from '../src/plugins/events';

import {setup} from './helpers';

const args = {channel_id: 'c', team_id: 't'};

describe('hooks and websocket handlers', () => {
    it('chains slash command hooks: rewrite, then swallow', async () => {
        const {slots, registry} = setup();
        const report = vi.fn();
        registry.registerSlashCommandWillBePostedHook((m: string, a: object) => ({message: m + ' --x', args: a}));
        expect(await runSlashCommandHooks(slots, report, '/cmd', args)).toEqual({message: '/cmd --x', args});
        registry.registerSlashCommandWillBePostedHook(() => ({}));
        expect(await runSlashCommandHooks(slots, report, '/cmd', args)).toEqual({swallowed: true});
    });

    it('lets a command through unchanged when a slash hook returns nothing (only {} swallows), as actions/hooks.ts', async () => {
        const {slots, registry} = setup();
        const report = vi.fn();
        registry.registerSlashCommandWillBePostedHook(() => undefined);
        registry.registerSlashCommandWillBePostedHook(async () => null);
        expect(await runSlashCommandHooks(slots, report, '/away now', args)).toEqual({message: '/away now', args});
        registry.registerSlashCommandWillBePostedHook(() => ({}));
        expect(await runSlashCommandHooks(slots, report, '/away now', args)).toEqual({swallowed: true});
    });

    it('runs the format, update, upload, notification and placeholder hooks as Mattermost', async () => {
        const {slots, registry} = setup();
        const report = vi.fn();
        registry.registerMessageWillFormatHook((_p: unknown, m: string) => m.replace('secret', '******'));
        expect(runMessageWillFormatHooks(slots, report, {}, 'a secret')).toBe('a ******');
        registry.registerMessageWillBeUpdatedHook((p: {message: string}, old: {message: string}) =>
            ({post: {...p, message: `${p.message} (was ${old.message})`}}));
        expect(await runMessageWillBeUpdatedHooks(slots, report, {message: 'new'}, {message: 'old'})).toEqual({post: {message: 'new (was old)'}});
        const f1 = new File(['x'], 'a.txt');
        registry.registerFilesWillUploadHook((files: File[]) => ({files: files.concat(files)}));
        expect(runFilesWillUploadHooks(slots, report, [f1], vi.fn())).toEqual({files: [f1, f1]});
        const id = registry.registerFilesWillUploadHook(() => ({message: 'too big'}));
        expect(runFilesWillUploadHooks(slots, report, [f1], vi.fn())).toEqual({error: 'too big'});
        registry.unregisterComponent(id);
        registry.registerFilesWillUploadHook((_f: File[], upload: (f: File[]) => void) => {
            upload([]);
            return {files: null};
        });
        expect(runFilesWillUploadHooks(slots, report, [f1], vi.fn())).toEqual({files: []});
        const args0 = {title: 't', body: 'b', silent: false, soundName: '', url: '/x', notify: true};
        registry.registerDesktopNotificationHook(async (_p: unknown, _m: unknown, _c: unknown, _t: string, a: typeof args0) => ({args: {...a, title: 'T!'}}));
        expect(await runDesktopNotificationHooks(slots, report, {}, {}, {}, 't', args0)).toMatchObject({title: 'T!'});
        registry.registerDesktopNotificationHook(() => undefined); // nothing: the next hook runs
        expect(await runDesktopNotificationHooks(slots, report, {}, {}, {}, 't', args0)).toMatchObject({title: 'T!'});
        const stop = registry.registerDesktopNotificationHook(() => ({})); // {}: stop, no notification
        expect(await runDesktopNotificationHooks(slots, report, {}, {}, {}, 't', args0)).toBeNull();
        registry.unregisterComponent(stop);
        registry.registerDesktopNotificationHook((_p: unknown, _m: unknown, _c: unknown, _t: string, a: typeof args0) => ({args: {...a, notify: false}}));
        expect(await runDesktopNotificationHooks(slots, report, {}, {}, {}, 't', args0)).toBeNull();
        registry.registerComposerPlaceholder((p: string, c: {display_name: string}) => `${p} (${c.display_name})`);
        expect(composerPlaceholder(slots, report, 'Write to Town', {display_name: 'Town'})).toBe('Write to Town (Town)');
    });

    it('stops at a rejecting hook and skips a throwing one', async () => {
        const {slots, registry} = setup();
        const report = vi.fn();
        registry.registerMessageWillBePostedHook(() => {
            throw new Error('hook boom');
        });
        registry.registerMessageWillBePostedHook(async (p: {message: string}) => ({post: {...p, message: p.message + '!'}}));
        expect(await runMessageWillBePostedHooks(slots, report, {message: 'hi'})).toEqual({post: {message: 'hi!'}});
        expect(report).toHaveBeenCalledWith(expect.objectContaining({where: 'hook', slot: 'message_will_be_posted_hook'}));
        registry.registerMessageWillBePostedHook(() => ({error: {message: 'no'}}));
        expect(await runMessageWillBePostedHooks(slots, report, {message: 'hi'})).toEqual({error: {message: 'no'}});
        registry.registerSlashCommandWillBePostedHook(() => ({error: {message: 'bad command'}}));
        expect(await runSlashCommandHooks(slots, report, '/x', args)).toEqual({error: {message: 'bad command'}});
    });

    it('delivers an event to every plugin that registered its exact name, isolating throws', () => {
        const {slots, store} = setup('a');
        const report = vi.fn();
        const got: string[] = [];
        const ra = new PluginRegistry('a', {slots, store}) as any;
        const rb = new PluginRegistry('b', {slots, store}) as any;
        ra.registerWebSocketEventHandler('custom_b_ping', () => {
            throw new Error('a fails');
        });
        rb.registerWebSocketEventHandler('custom_b_ping', (m: {event: string}) => got.push('b:' + m.event));
        rb.registerWebSocketEventHandler('posted', () => got.push('b:posted'));
        dispatchToPlugins(slots, report, {event: 'custom_b_ping', data: {}, broadcast: {}, seq: 1});
        expect(got).toEqual(['b:custom_b_ping']);
        expect(report).toHaveBeenCalledWith(expect.objectContaining({pluginId: 'a', where: 'websocket'}));
    });

    it('merges translations', () => {
        const {slots, registry} = setup();
        registry.registerTranslations((l: string) => ({hello: `hello-${l}`}));
        expect(pluginTranslations(slots, vi.fn(), 'en')).toEqual({hello: 'hello-en'});
    });
});
