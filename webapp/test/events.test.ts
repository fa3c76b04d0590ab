import {describe, expect, it, vi} from 'vitest';

import {PluginRegistry} from '../src/plugins/registry';
import {dispatchToPlugins, pluginTranslations, runMessageWillBePostedHooks, runSlashCommandHooks} from '../src/plugins/events';

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
