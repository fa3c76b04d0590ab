import {createElement} from 'react';
import {describe, expect, it, vi} from 'vitest';

import {PluginRegistry} from '../src/plugins/registry';

import {setup} from './helpers';

const idPattern = /^[a-z0-9]{26}$/;
const Icon = () => createElement('i', null, 'icon');

describe('PluginRegistry', () => {
    it('takes positional arguments in Mattermost order', () => {
        const {registry, slots} = setup();
        const action = vi.fn();
        const id = registry.registerChannelHeaderButtonAction(createElement('b'), action, 'Drop', 'Tip');
        expect(id).toMatch(idPattern);
        const r = slots.get(id)!;
        expect(r).toMatchObject({slot: 'channel_header_button', mattermostKey: 'ChannelHeaderButton', action, dropdownText: 'Drop', tooltipText: 'Tip', pluginId: 'com.example.test'});
    });

    it('takes the single-object form with the same meaning (reArg)', () => {
        const {registry, slots} = setup();
        const action = vi.fn();
        const id = registry.registerChannelHeaderButtonAction({tooltipText: 'Tip', action, icon: 'I'});
        expect(slots.get(id)).toMatchObject({action, tooltipText: 'Tip', icon: 'I', dropdownText: undefined});
        const pid = registry.registerPostTypeComponent({type: 'custom_x', component: Icon});
        expect(slots.get(pid)).toMatchObject({slot: 'post_type', key: 'custom_x', component: Icon});
    });

    it('does not mistake an element for the object form', () => {
        const {registry, slots} = setup();
        const el = createElement('span', null, 'x');
        const id = registry.registerMainMenuAction(el, vi.fn());
        expect(slots.get(id)!.text).toBe(el);
    });

    it('turns component-type labels into elements', () => {
        const {registry, slots} = setup();
        const id = registry.registerCallButtonAction(Icon, Icon, vi.fn());
        expect((slots.get(id)!.text as {type: unknown}).type).toBe(Icon);
    });

    it('returns unique 26-character ids', () => {
        const {registry} = setup();
        const ids = new Set(Array.from({length: 200}, () => registry.registerRootComponent(Icon)));
        expect(ids.size).toBe(200);
        for (const id of ids) {
            expect(id).toMatch(idPattern);
        }
    });

    it('unregisters its own components only', () => {
        const {store, slots, registry} = setup('a');
        const other = new PluginRegistry('b', {slots, store}) as PluginRegistry & Record<string, (...a: any[]) => any>;
        const mine = registry.registerRootComponent(Icon);
        const theirs = other.registerRootComponent(Icon);
        registry.unregisterComponent(theirs);
        expect(slots.get(theirs)).toBeDefined();
        registry.unregisterComponent(mine);
        expect(slots.get(mine)).toBeUndefined();
        const pt = registry.registerPostTypeComponent('custom_a', Icon);
        expect(slots.postType('custom_a')?.id).toBe(pt);
        registry.unregisterPostTypeComponent(pt);
        expect(slots.postType('custom_a')).toBeUndefined();
    });

    it('returns Redux actions for the right-hand sidebar', () => {
        const {store, registry} = setup();
        const {id, showRHSPlugin, hideRHSPlugin, toggleRHSPlugin} = registry.registerRightHandSidebarComponent(Icon, 'Title');
        expect(id).toMatch(idPattern);
        store.dispatch(showRHSPlugin);
        expect(store.getState().views.rhs).toMatchObject({isSidebarOpen: true, isSidebarExpanded: false, rhsState: 'plugin', pluggableId: id, selectedPostId: ''});
        store.dispatch(hideRHSPlugin);
        expect(store.getState().views.rhs.isSidebarOpen).toBe(false);
        store.dispatch(toggleRHSPlugin);
        expect(store.getState().views.rhs.isSidebarOpen).toBe(true);
        store.dispatch(toggleRHSPlugin);
        expect(store.getState().views.rhs.isSidebarOpen).toBe(false);
    });

    it('registers an app bar icon with its own RHS', () => {
        const {slots, registry} = setup();
        expect(registry.registerAppBarComponent('/i.svg', vi.fn(), 'Tip')).toMatch(idPattern);
        const res = registry.registerAppBarComponent({iconUrl: '/i.svg', tooltipText: 'Tip', rhsComponent: Icon, rhsTitle: 'Panel'});
        expect(res.id).toMatch(idPattern);
        expect(res.rhsComponent.id).toMatch(idPattern);
        expect(slots.get(res.id)!.rhsId).toBe(res.rhsComponent.id);
    });

    it('mounts a reducer at plugins-<id>', () => {
        const {store, registry} = setup('com.example.r');
        registry.registerReducer((s: {n: number} = {n: 0}, a: {type: string}) => (a.type === 'INC' ? {n: s.n + 1} : s));
        store.dispatch({type: 'INC'});
        expect((store.getState() as unknown as Record<string, {n: number}>)['plugins-com.example.r']).toEqual({n: 1});
    });

    it('keeps one websocket handler per event and plugin', () => {
        const {slots, registry} = setup();
        const h1 = vi.fn();
        const h2 = vi.fn();
        expect(registry.registerWebSocketEventHandler('custom_x_y', h1)).toBeUndefined();
        registry.registerWebSocketEventHandler('custom_x_y', h2);
        expect(slots.list('websocket_event').map((r) => r.hook)).toEqual([h2]);
        registry.unregisterWebSocketEventHandler('custom_x_y');
        expect(slots.list('websocket_event')).toEqual([]);
    });

    it('routes: needs-team routes, custom routes and products', () => {
        const {slots, registry} = setup();
        registry.registerNeedsTeamRoute('/view/', Icon);
        registry.registerProduct({baseURL: '/apps', switcherText: 'Apps', mainComponent: Icon});
        expect(slots.list('app_center')[0]).toMatchObject({route: 'view', component: Icon});
        expect(slots.list('product')[0]).toMatchObject({route: 'apps', component: Icon, text: 'Apps'});
    });

    it('has every method of the contract, so feature detection works', () => {
        const {registry} = setup();
        for (const m of ['registerRootComponent', 'registerPopoverUserAttributesComponent', 'registerPostDropdownSubMenuAction',
            'registerFilePreviewComponent', 'registerSearchComponents', 'registerAdminConsolePlugin', 'unregisterAdminConsolePlugin',
            'registerUserSettings', 'registerReconnectHandler', 'unregisterReconnectHandler', 'registerMessageWillFormatHook',
            'registerDesktopNotificationHook', 'registerRHSPluginPopoutListener', 'registerCustomRoute', 'registerTranslations']) {
            expect(typeof registry[m], m).toBe('function');
        }
        expect(registry.registerPostActionComponent(Icon)).toMatch(idPattern);
        expect(registry.registerUserSettings({id: 'x'})).toBeUndefined();
        expect(registry.supports).toEqual({globalAppBar: true, globalRhs: true});
        const sub = registry.registerPostDropdownSubMenuAction('Root', vi.fn());
        expect(sub.id).toMatch(idPattern);
        expect(sub.rootRegisterMenuItem('Child', vi.fn())).toMatch(idPattern);
    });
});
