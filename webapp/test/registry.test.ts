import {createElement} from 'react';
import {describe, expect, it, vi} from 'vitest';

import {PluginLoader, type PluginWindow} from '../src/plugins/loader';
import {PluginRegistry} from '../src/plugins/registry';
import {SlotMap} from '../src/plugins/slot_map';
import {createHostStore} from '../src/store';

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

    it('unregisters any registration, as Mattermost removes any id', () => {
        const {store, slots, registry} = setup('a');
        const other = new PluginRegistry('b', {slots, store}) as PluginRegistry & Record<string, (...a: any[]) => any>;
        const mine = registry.registerRootComponent(Icon);
        const theirs = other.registerRootComponent(Icon);
        registry.unregisterComponent(theirs);
        expect(slots.get(theirs)).toBeUndefined();
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
        // hideRHSPlugin closes the RHS only while it shows this plugin's, as Mattermost's hideRHSPlugin(id).
        const other = registry.registerRightHandSidebarComponent(Icon, 'Other');
        store.dispatch(other.showRHSPlugin);
        store.dispatch(hideRHSPlugin);
        expect(store.getState().views.rhs).toMatchObject({isSidebarOpen: true, pluggableId: other.id});
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
        // As Mattermost: the root's registrar returns the next level's, which throws.
        const deeper = sub.rootRegisterMenuItem('Child', vi.fn());
        expect(typeof deeper).toBe('function');
        expect(() => deeper('Grandchild', vi.fn())).toThrow('Submenus are currently limited to a single level.');
    });

    it('has the 68 methods of the reference, each registration unregistrable', () => {
        const {registry, slots} = setup();
        const all = ['registerRootComponent', 'registerPopoverUserAttributesComponent', 'registerPopoverUserActionsComponent',
            'registerLeftSidebarHeaderComponent', 'registerBottomTeamSidebarComponent', 'registerPostMessageAttachmentComponent',
            'registerSearchComponents', 'registerLinkTooltipComponent', 'registerActionAfterChannelCreation', 'registerChannelHeaderIcon',
            'registerChannelHeaderButtonAction', 'registerChannelIntroButtonAction', 'registerCallButtonAction', 'registerPostTypeComponent',
            'registerPostCardTypeComponent', 'registerPostWillRenderEmbedComponent', 'registerMainMenuAction', 'registerChannelHeaderMenuAction',
            'registerFileDropdownMenuAction', 'registerUserGuideDropdownMenuAction', 'registerPostActionComponent',
            'registerPostEditorActionComponent', 'registerCodeBlockActionComponent', 'registerNewMessagesSeparatorActionComponent',
            'registerPostDropdownMenuAction', 'registerPostDropdownSubMenuAction', 'registerPostDropdownMenuComponent',
            'registerFileUploadMethod', 'registerFilesWillUploadHook', 'unregisterComponent', 'unregisterPostTypeComponent', 'registerReducer',
            'registerWebSocketEventHandler', 'unregisterWebSocketEventHandler', 'registerReconnectHandler', 'unregisterReconnectHandler',
            'registerMessageWillBePostedHook', 'registerSlashCommandWillBePostedHook', 'registerMessageWillFormatHook',
            'registerFilePreviewComponent', 'registerTranslations', 'registerAdminConsolePlugin', 'unregisterAdminConsolePlugin',
            'registerAdminConsoleCustomSetting', 'registerAdminConsoleCustomSection', 'registerRightHandSidebarComponent',
            'registerNeedsTeamRoute', 'registerCustomRoute', 'registerProduct', 'registerMessageWillBeUpdatedHook',
            'registerSidebarChannelLinkLabelComponent', 'registerSidebarBrowseOrAddChannelMenuAction', 'registerChannelToastComponent',
            'registerGlobalComponent', 'registerAppBarComponent', 'registerSiteStatisticsHandler', 'registerDesktopNotificationHook',
            'registerUserSettings', 'registerSystemConsoleGroupTable', 'registerRHSPluginPopoutListener',
            'registerAIActionMenuItemComponent', 'registerChannelTypeOption', 'registerChannelIconOverride',
            'registerChannelComposerBannerComponent', 'registerChannelIntro', 'registerPostHeaderComponent', 'registerComposerPlaceholder',
            'registerProductSwitcherMenuItem'];
        expect(new Set(all).size).toBe(68);
        for (const m of all) {
            expect(typeof registry[m], m).toBe('function');
        }
        // The newest methods take Mattermost's parameters, positional or as one object.
        const ai = registry.registerAIActionMenuItemComponent({text: 'Summarize', sortOrder: 2, action: vi.fn()});
        expect(slots.get(ai)).toMatchObject({slot: 'AIActionMenuItem', text: 'Summarize', extra: {sortOrder: 2}});
        const icon = registry.registerChannelIconOverride((c: {name: string}) => c.name === 'x', 'robot');
        expect(slots.get(icon)).toMatchObject({slot: 'ChannelIconOverride', key: 'robot'});
        const ph = registry.registerComposerPlaceholder((p: string) => p + '!');
        expect(slots.get(ph)!.hook!('Write')).toBe('Write!');
        const ps = registry.registerProductSwitcherMenuItem('Boards', null, vi.fn(), () => false);
        expect(slots.get(ps)).toMatchObject({slot: 'ProductSwitcherMenuItem', text: 'Boards'});
        for (const id of [ai, icon, ph, ps]) {
            registry.unregisterComponent(id);
            expect(slots.get(id)).toBeUndefined();
        }
    });

    it('keeps the call button\'s dropdownButton and dropdownText apart', () => {
        const {registry, slots} = setup();
        const id = registry.registerCallButtonAction('Start call', 'Start call (menu)', vi.fn(), null, 'Calls');
        expect(slots.get(id)).toMatchObject({text: 'Start call', dropdownText: 'Calls', extra: {dropdownButton: 'Start call (menu)'}});
    });
});

describe('window.registerPlugin', () => {
    it('uninitializes the object an id had before registering the new one, as Mattermost', () => {
        const win = {plugins: {}} as unknown as PluginWindow;
        const store = createHostStore();
        const report = vi.fn();
        new PluginLoader({doc: document, win, slots: new SlotMap(), store, modules: {ensure: async () => undefined}, report}).install();
        const old = {uninitialize: vi.fn()};
        const next = {uninitialize: vi.fn()};
        win.registerPlugin('p', old);
        win.registerPlugin('p', next);
        expect(old.uninitialize).toHaveBeenCalledTimes(1);
        expect(next.uninitialize).not.toHaveBeenCalled();
        expect(win.plugins.p).toBe(next);
        // A throwing uninitialize is reported, the new object still registers.
        win.registerPlugin('p', {uninitialize: () => {
            throw new Error('boom');
        }});
        win.registerPlugin('p', old);
        expect(report).toHaveBeenCalledWith(expect.objectContaining({pluginId: 'p', where: 'uninitialize'}));
        expect(win.plugins.p).toBe(old);
    });
});
