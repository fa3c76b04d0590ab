import {act} from 'react';
import {createRoot} from 'react-dom/client';
import {Provider} from 'react-redux';
import {describe, expect, it, vi} from 'vitest';

import {DevOverlay} from '../src/components/dev_overlay';
import {applyToolkitEvent} from '../src/plugins/live';
import type {ManifestPlugin} from '../src/plugins/types';

import {setup} from './helpers';

(globalThis as {IS_REACT_ACT_ENVIRONMENT?: boolean}).IS_REACT_ACT_ENVIRONMENT = true;

const plugin: ManifestPlugin = {id: 'p', name: 'p', version: '2', bundle: {url: '/bundles/x.js', integrity: 'sha256-x', size: 1}, slots: [], host_modules: []};
const ev = (event: string, data: Record<string, unknown>) => ({event, data, broadcast: {}, seq: 1});

function deps() {
    const h = setup('p');
    const loader = {load: vi.fn(), remove: vi.fn()};
    return {...h, loader, report: vi.fn()};
}

describe('live plugin events', () => {
    it('loads, swaps and removes plugins of the current team only', () => {
        const d = deps();
        applyToolkitEvent(d, 'team1', ev('plugin_enabled', {team_id: 'team1', plugin_id: 'p', plugin}));
        applyToolkitEvent(d, 'team1', ev('plugin_updated', {team_id: 'team1', plugin_id: 'p', plugin}));
        expect(d.loader.load).toHaveBeenCalledTimes(2);
        applyToolkitEvent(d, 'team1', ev('plugin_enabled', {team_id: 'team2', plugin_id: 'p', plugin}));
        applyToolkitEvent(d, 'team1', ev('plugin_disabled', {team_id: 'team2', plugin_id: 'p'}));
        expect(d.loader.load).toHaveBeenCalledTimes(2);
        expect(d.loader.remove).not.toHaveBeenCalled();
        applyToolkitEvent(d, 'team1', ev('plugin_disabled', {team_id: 'team1', plugin_id: 'p'}));
        expect(d.loader.remove).toHaveBeenCalledWith('p');
    });

    it('passes custom plugin events to plugin handlers', () => {
        const d = deps();
        const handler = vi.fn();
        d.registry.registerWebSocketEventHandler('custom_p_ring', handler);
        applyToolkitEvent(d, 't', ev('custom_p_ring', {x: 1}));
        expect(handler).toHaveBeenCalledWith(expect.objectContaining({event: 'custom_p_ring', data: {x: 1}}));
    });

    it('shows a failed push in the developer overlay until a good one arrives', () => {
        const d = deps();
        applyToolkitEvent(d, 't', ev('plugin_build_failed', {plugin_id: 'p', message: 'compile failed', diagnostics: [{file: 'webapp/index.tsx', line: 3, column: 9, text: 'Expected ";"'}]}));
        const el = document.createElement('div');
        const root = createRoot(el);
        act(() => root.render(<Provider store={d.store}><DevOverlay/></Provider>));
        expect(el.textContent).toContain('Push of p failed');
        expect(el.textContent).toContain('webapp/index.tsx:3:10: Expected ";"');
        act(() => applyToolkitEvent(d, 't', ev('plugin_updated', {plugin_id: 'p', plugin: {...plugin, id: 'other'}})));
        expect(el.textContent).toContain('Push of p failed'); // another plugin's update does not clear it
        act(() => applyToolkitEvent(d, 't', ev('plugin_updated', {plugin_id: 'p', plugin})));
        expect(el.textContent).toBe('');
        act(() => root.unmount());
    });
});
