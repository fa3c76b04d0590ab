// The host against the contracts the server owns (src/generated, written by
// `go generate ./slots` from the Go declarations): the catalogue's registry
// methods exist and fill its slots, and every host module the bundler
// leaves to the page is built (build.mjs) and put on window.
import {WebSocketClient} from '@mattermost/client';
import {createElement} from 'react';
import {describe, expect, it, vi} from 'vitest';

import {HOST_GLOBALS} from '../src/generated/host_modules';
import {CATALOGUE, type CatalogueRegistryMethod} from '../src/generated/slots';
import {installGlobals} from '../src/globals';
import {createHostStore} from '../src/store';
import type {PluginRegistry as PublishedRegistry} from '../sdk';

import {coreModules, lazyEntry} from './contract_modules';
import {setup} from './helpers';

const C = () => createElement('i', null, 'x');

/** Arguments each catalogue registry method is called with. */
const sampleArgs: Record<string, unknown[]> = {
    registerPostTypeComponent: ['custom_x', C],
    registerCallButtonAction: ['Call', 'Call…', vi.fn()],
    registerChannelHeaderButtonAction: [createElement('b'), vi.fn(), 'Drop', 'Tip'],
    registerProduct: [{baseURL: '/apps', switcherText: 'Apps', mainComponent: C}],
    registerNeedsTeamRoute: ['/view', C],
    registerAppBarComponent: ['/icon.svg', vi.fn(), 'Tip'],
    registerMainMenuAction: ['Menu', vi.fn()],
    registerRootComponent: [C],
    registerRightHandSidebarComponent: [C, 'Title'],
    registerPostDropdownMenuAction: ['Act', vi.fn()],
    registerPostDropdownSubMenuAction: ['Act', vi.fn()],
    registerSlashCommandWillBePostedHook: [vi.fn()],
    registerMessageWillBePostedHook: [vi.fn()],
    registerWebSocketEventHandler: ['custom_x_y', vi.fn()],
    registerReducer: [(s = 0) => s],
    registerTranslations: [() => ({})],
};

// The type check fails here when the catalogue names a registry method the
// published plugin types (sdk/index.d.ts) do not declare.
const published: ReadonlyArray<keyof PublishedRegistry> = [] as CatalogueRegistryMethod[];
void published;

/** Methods that fill a catalogue slot through a host slot of another name (Mattermost's registry keeps products apart). */
const hostSlotOf: Record<string, string> = {registerProduct: 'product'};

describe('the slot catalogue (slots.Catalogue)', () => {
    for (const slot of CATALOGUE.filter((s) => s.platforms.includes('web'))) {
        for (const method of slot.registry_methods) {
            it(`${method} fills ${slot.name}`, () => {
                const {registry, slots} = setup('com.example.contract');
                expect(typeof registry[method], `PluginRegistry has no ${method}`).toBe('function');
                const args = sampleArgs[method];
                expect(args, `add sample arguments for ${method} to this test`).toBeDefined();
                registry[method](...args);
                const want = hostSlotOf[method] ?? slot.name;
                const regs = slots.list(want as never);
                expect(regs.length, `${method} registered nothing in ${want}`).toBeGreaterThan(0);
                if (slot.mattermost_key && !hostSlotOf[method]) {
                    expect(regs[0].mattermostKey).toBe(slot.mattermost_key.replace('<pluginid>', 'com.example.contract'));
                }
            });
        }
    }
});

describe('the host modules (bundler.HostGlobals)', () => {
    it('core globals are on window once installGlobals ran', () => {
        const w = {} as Record<string, unknown>;
        installGlobals(w as unknown as Window, {store: createHostStore(), mmSocket: new WebSocketClient()});
        for (const m of Object.keys(coreModules) as Array<keyof typeof HOST_GLOBALS>) {
            expect(w[HOST_GLOBALS[m]], m).toBeTruthy();
        }
    });

    it('each lazy module sets its global when its script runs', async () => {
        const w = window as unknown as Record<string, unknown>;
        const before = new Set(Object.keys(w));
        try {
            installGlobals(window);
            for (const m of Object.keys(HOST_GLOBALS) as Array<keyof typeof HOST_GLOBALS>) {
                if (m in coreModules) {
                    continue;
                }
                // build.mjs's entry of the module (contracts_build.test.ts holds it to this name).
                await import(/* @vite-ignore */ `../${lazyEntry(m)}`);
                expect(w[HOST_GLOBALS[m]], m).toBeTruthy();
            }
        } finally {
            // The window may be shared with other test files (one thread): leave it as found.
            for (const k of Object.keys(w)) {
                if (!before.has(k)) {
                    delete w[k];
                }
            }
        }
    });
});
