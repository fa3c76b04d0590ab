import {act} from 'react';
import {createRoot} from 'react-dom/client';
import {Provider} from 'react-redux';
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest';

import {Slot} from '../src/components/slot';
import {HostContext, type Host} from '../src/host';
import type {CrashInfo} from '../src/plugins/crash';
import {PluginRegistry} from '../src/plugins/registry';
import {pluginsActions} from '../src/store/plugins_slice';

import {setup} from './helpers';

(globalThis as {IS_REACT_ACT_ENVIRONMENT?: boolean}).IS_REACT_ACT_ENVIRONMENT = true;

function mount(ui: React.ReactNode, h: ReturnType<typeof setup>, crashes: CrashInfo[]) {
    const host = {
        slots: h.slots, store: h.store, mmSocket: {},
        report: (c: CrashInfo) => {
            crashes.push(c);
            h.store.dispatch(pluginsActions.crashed({pluginId: c.pluginId, message: String(c.error), where: c.where, registrationId: c.registrationId, slot: c.slot, at: 0}));
        },
    } as unknown as Host;
    const el = document.createElement('div');
    document.body.appendChild(el);
    const root = createRoot(el);
    act(() => root.render(<Provider store={h.store}><HostContext.Provider value={host}>{ui}</HostContext.Provider></Provider>));
    return {el, root};
}

describe('<Slot>', () => {
    let errors: ReturnType<typeof vi.spyOn>;
    beforeEach(() => {
        errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    });
    afterEach(() => {
        errors.mockRestore();
        document.body.innerHTML = '';
    });

    it('renders every registration with the host props, theme and websocket client', () => {
        const h = setup('a');
        const seen: Record<string, unknown>[] = [];
        h.registry.registerRootComponent((p: Record<string, unknown>) => {
            seen.push(p);
            return <b>{'one'}</b>;
        });
        h.registry.registerRootComponent(() => <i>{'two'}</i>);
        const {el} = mount(<Slot name='root' props={{channel: {id: 'c'}}}/>, h, []);
        expect(el.textContent).toBe('onetwo');
        expect(seen[0]).toMatchObject({channel: {id: 'c'}, webSocketClient: {}});
        expect((seen[0].theme as {centerChannelBg: string}).centerChannelBg).toMatch(/^#/);
        expect(el.querySelectorAll('[data-plugin-id="a"][data-slot="root"]')).toHaveLength(2);
    });

    it('isolates a registration that throws in render and reports it', () => {
        const h = setup('bad');
        const crashes: CrashInfo[] = [];
        h.registry.registerRootComponent(() => {
            throw new Error('render boom');
        });
        const goodRegistry = new PluginRegistry('good', {slots: h.slots, store: h.store}) as any;
        goodRegistry.registerRootComponent(() => <span>{'fine'}</span>);
        const {el} = mount(<Slot name='root'/>, h, crashes);
        expect(el.textContent).toContain('An error occurred in the bad plugin.');
        expect(el.textContent).toContain('fine');
        expect(crashes).toMatchObject([{pluginId: 'bad', where: 'render', slot: 'root'}]);
    });

    it('updates live when registrations come and go', () => {
        const h = setup('a');
        const {el} = mount(<Slot name='root'/>, h, []);
        expect(el.textContent).toBe('');
        let id = '';
        act(() => {
            id = h.registry.registerRootComponent(() => <span>{'new'}</span>);
        });
        expect(el.textContent).toBe('new');
        act(() => h.registry.unregisterComponent(id));
        expect(el.textContent).toBe('');
    });

    it('shows one notice for a plugin that crashed in initialize, in the slots it declared', () => {
        const h = setup('a');
        h.store.dispatch(pluginsActions.manifestLoaded({teamId: 't', plugins: [{id: 'x', name: 'x', version: '1', bundle: {url: '', integrity: '', size: 0}, host_modules: [], slots: [{slot: 'call_button'}]}]}));
        h.store.dispatch(pluginsActions.crashed({pluginId: 'x', message: 'init', where: 'initialize', at: 0}));
        const {el} = mount(<><Slot name='call_button'/><Slot name='root'/></>, h, []);
        expect(el.querySelectorAll('.plugin-error')).toHaveLength(1);
        expect(el.textContent).toBe('An error occurred in the x plugin. Refresh?');
    });
});
