// PluginRegistry: the object Mattermost hands to plugin.initialize, bound to
// one plugin id. Method names, argument orders, the object-argument form and
// the returned ids follow webapp/channels/src/plugins/registry.ts; the
// registrations go into the slot map (components) rather than the store.
import {createElement, isValidElement, type ComponentType, type ReactNode} from 'react';
import type {Reducer} from 'redux';

import {registerPluginReducer, type HostStore} from '../store';
import {viewsActions} from '../store/views_slice';

import {generateId} from './ids';
import {reArg} from './rearg';
import type {SlotMap} from './slot_map';
import type {Registration, SlotName} from './types';

/** Turns a label (string, element or component type) into something renderable. */
export function resolveReactElement(v: unknown): ReactNode {
    if (v == null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || isValidElement(v)) {
        return v as ReactNode;
    }
    if (typeof v === 'function' || (typeof v === 'object' && '$$typeof' in (v as object))) {
        return createElement(v as ComponentType);
    }
    return null;
}

type Fn = (...args: any[]) => any;

/**
 * Registry methods that Mattermost has and this host accepts without
 * rendering anything yet: they return an id (or nothing) so plugins that
 * feature-detect or call them keep working. [name, parameter order,
 * Mattermost's component key, returns an id].
 */
const acceptedOnly: Array<[string, string[], string, boolean]> = [
    ['registerGlobalComponent', ['component'], 'Global', true],
    ['registerPopoverUserAttributesComponent', ['component'], 'PopoverUserAttributes', true],
    ['registerPopoverUserActionsComponent', ['component'], 'PopoverUserActions', true],
    ['registerLeftSidebarHeaderComponent', ['component'], 'LeftSidebarHeader', true],
    ['registerBottomTeamSidebarComponent', ['component'], 'BottomTeamSidebar', true],
    ['registerPostMessageAttachmentComponent', ['component'], 'PostMessageAttachment', true],
    ['registerLinkTooltipComponent', ['component'], 'LinkTooltip', true],
    ['registerActionAfterChannelCreation', ['component', 'action'], 'CreateBoardFromTemplate', true],
    ['registerChannelHeaderIcon', ['component'], 'ChannelHeaderIcon', true],
    ['registerChannelIntroButtonAction', ['icon', 'action', 'text'], 'ChannelIntroButton', true],
    ['registerPostCardTypeComponent', ['type', 'component'], 'postCardTypes', true],
    ['registerPostWillRenderEmbedComponent', ['match', 'component', 'toggleable'], 'PostWillRenderEmbedComponent', true],
    ['registerChannelHeaderMenuAction', ['text', 'action', 'shouldRender'], 'ChannelHeader', true],
    ['registerFileDropdownMenuAction', ['match', 'text', 'action'], 'FilesDropdown', true],
    ['registerUserGuideDropdownMenuAction', ['text', 'action'], 'UserGuideDropdown', true],
    ['registerPostActionComponent', ['component'], 'PostAction', true],
    ['registerPostEditorActionComponent', ['component'], 'PostEditorAction', true],
    ['registerCodeBlockActionComponent', ['component'], 'CodeBlockAction', true],
    ['registerNewMessagesSeparatorActionComponent', ['component'], 'NewMessagesSeparatorAction', true],
    ['registerPostDropdownMenuComponent', ['component'], 'PostDropdownMenuItem', true],
    ['registerFileUploadMethod', ['icon', 'action', 'text'], 'FileUploadMethod', true],
    ['registerFilePreviewComponent', ['override', 'component'], 'FilePreview', true],
    ['registerSidebarChannelLinkLabelComponent', ['component'], 'SidebarChannelLinkLabel', true],
    ['registerSidebarBrowseOrAddChannelMenuAction', ['text', 'action', 'icon'], 'SidebarBrowseOrAddChannelMenu', true],
    ['registerChannelToastComponent', ['component'], 'ChannelToast', true],
    ['registerSystemConsoleGroupTable', ['component'], 'SystemConsoleGroupTable', true],
    ['registerMessageWillFormatHook', ['hook'], 'MessageWillFormat', true],
    ['registerMessageWillBeUpdatedHook', ['hook'], 'MessageWillBeUpdated', true],
    ['registerFilesWillUploadHook', ['hook'], 'FilesWillUpload', true],
    ['registerDesktopNotificationHook', ['hook'], 'DesktopNotificationHooks', true],
    ['registerAdminConsoleCustomSetting', ['key', 'component', 'options'], 'AdminConsoleCustomSetting', false],
    ['registerAdminConsoleCustomSection', ['key', 'component'], 'AdminConsoleCustomSection', false],
    ['registerAdminConsolePlugin', ['func'], 'AdminConsolePlugin', false],
    ['registerUserSettings', ['setting'], 'UserSettings', false],
    ['registerSiteStatisticsHandler', ['handler'], 'SiteStatistics', false],
    ['registerRHSPluginPopoutListener', ['pluginId', 'onPopoutOpened'], 'RHSPopoutListener', false],
];

export interface RegistryDeps {
    slots: SlotMap;
    store: HostStore;
}

export class PluginRegistry {
    /** Feature flags plugins test (zoom, calls): this host has both. */
    readonly supports = {globalAppBar: true, globalRhs: true};
    readonly id: string;
    private readonly deps: RegistryDeps;
    [method: string]: unknown;

    constructor(pluginId: string, deps: RegistryDeps) {
        this.id = pluginId;
        this.deps = deps;
        const m = (name: string, keys: string[], fn: Fn) => {
            this[name] = reArg(keys, fn);
        };

        m('registerRootComponent', ['component'], (component) => this.add('root', 'Root', {component}));
        m('registerPostTypeComponent', ['type', 'component'], (type: string, component) =>
            this.add('post_type', 'postTypes', {key: type, component}));
        m('unregisterPostTypeComponent', ['componentId'], (id: string) => this.unregister(id));
        m('registerChannelHeaderButtonAction', ['icon', 'action', 'dropdownText', 'tooltipText'],
            (icon, action, dropdownText, tooltipText) => this.add('channel_header_button', 'ChannelHeaderButton', {
                icon: resolveReactElement(icon), action, dropdownText: resolveReactElement(dropdownText),
                tooltipText: resolveReactElement(tooltipText),
            }));
        m('registerCallButtonAction', ['button', 'dropdownButton', 'action', 'icon', 'dropdownText'],
            (button, dropdownButton, action, icon, dropdownText) => this.add('call_button', 'CallButton', {
                text: resolveReactElement(button), dropdownText: resolveReactElement(dropdownButton ?? dropdownText),
                icon: resolveReactElement(icon), action,
            }));
        m('registerMainMenuAction', ['text', 'action', 'mobileIcon'], (text, action, mobileIcon) =>
            this.add('main_menu', 'MainMenu', {text: resolveReactElement(text), action, extra: {mobileIcon}}));
        m('registerPostDropdownMenuAction', ['text', 'action', 'filter'], (text, action, filter) =>
            this.add('post_dropdown_menu', 'PostDropdownMenu', {text: resolveReactElement(text), action, filter}));
        m('registerPostDropdownSubMenuAction', ['text', 'action', 'filter'], (text, action, filter) => {
            const id = this.add('post_dropdown_menu', 'PostDropdownMenu', {text: resolveReactElement(text), action, filter});
            // One level of nesting, as Mattermost: items under the root entry.
            const rootRegisterMenuItem = reArg(['text', 'action', 'filter'], (t, a, f) =>
                this.add('post_dropdown_menu', 'PostDropdownMenu', {
                    text: resolveReactElement(t), action: a as Fn, filter: f as Fn, extra: {parentMenuId: id},
                }));
            return {id, rootRegisterMenuItem};
        });
        m('registerRightHandSidebarComponent', ['component', 'title'], (component, title) => this.rhs(component, title));
        m('registerAppBarComponent', ['iconUrl', 'action', 'tooltipText', 'supportedProductIds', 'rhsComponent', 'rhsTitle'],
            (iconUrl: string, action, tooltipText, supportedProductIds, rhsComponent, rhsTitle) => {
                const rhs = rhsComponent ? this.rhs(rhsComponent, rhsTitle) : undefined;
                const id = this.add('app_bar', 'AppBar', {
                    iconUrl, action, tooltipText: resolveReactElement(tooltipText), rhsId: rhs?.id,
                    extra: {supportedProductIds},
                });
                return rhs ? {id, rhsComponent: rhs} : id;
            });
        m('registerNeedsTeamRoute', ['route', 'component'], (route: string, component) =>
            this.add('app_center', 'NeedsTeamComponent', {route: trimSlashes(route), component, extra: {kind: 'needs_team'}}));
        m('registerCustomRoute', ['route', 'component'], (route: string, component) =>
            this.add('app_center', 'CustomRouteComponent', {route: trimSlashes(route), component, extra: {kind: 'custom'}}));
        // registerProduct takes its one object as Mattermost does (reArg of all keys).
        const productKeys = ['baseURL', 'switcherIcon', 'switcherText', 'switcherLinkURL', 'mainComponent',
            'headerCentreComponent', 'headerRightComponent', 'showTeamSidebar', 'showAppBar', 'wrapped', 'publicComponent'];
        m('registerProduct', productKeys, (...a: unknown[]) => {
            const p = Object.fromEntries(productKeys.map((k, i) => [k, a[i]]));
            return this.add('product', 'Product', {
                route: trimSlashes(String(p.baseURL ?? '')), component: p.mainComponent as ComponentType,
                icon: resolveReactElement(p.switcherIcon), text: resolveReactElement(p.switcherText), extra: p,
            });
        });
        m('registerSearchComponents', ['buttonComponent', 'suggestionsComponent', 'hintsComponent', 'action'],
            (buttonComponent, suggestionsComponent, hintsComponent, action) =>
                this.add('other', 'SearchButtons', {action, extra: {buttonComponent, suggestionsComponent, hintsComponent}}));

        m('registerWebSocketEventHandler', ['event', 'handler'], (event: string, handler: Fn) => {
            this.removeWhere((r) => r.slot === 'websocket_event' && r.key === event);
            this.add('websocket_event', 'pluginEventHandlers', {key: event, hook: handler});
        });
        m('unregisterWebSocketEventHandler', ['event'], (event: string) => {
            this.removeWhere((r) => r.slot === 'websocket_event' && r.key === event);
        });
        m('registerReconnectHandler', ['handler'], (handler: Fn) => {
            this.removeWhere((r) => r.slot === 'websocket_event' && r.key === reconnectKey);
            this.add('websocket_event', 'pluginReconnectHandlers', {key: reconnectKey, hook: handler});
        });
        m('unregisterReconnectHandler', [], () => {
            this.removeWhere((r) => r.slot === 'websocket_event' && r.key === reconnectKey);
        });
        m('registerMessageWillBePostedHook', ['hook'], (hook) =>
            this.add('message_will_be_posted_hook', 'MessageWillBePosted', {hook}));
        m('registerSlashCommandWillBePostedHook', ['hook'], (hook) =>
            this.add('slash_command_hook', 'SlashCommandWillBePosted', {hook}));
        m('registerReducer', ['reducer'], (reducer: Reducer) => {
            registerPluginReducer(this.id, reducer);
            this.removeWhere((r) => r.slot === 'reducer');
            this.add('reducer', `plugins-${this.id}`, {});
        });
        m('registerTranslations', ['getTranslationsForLocale'], (fn: Fn) => {
            this.removeWhere((r) => r.slot === 'translations');
            this.add('translations', 'translations', {hook: fn});
        });
        m('unregisterComponent', ['componentId'], (id: string) => this.unregister(id));
        m('unregisterAdminConsolePlugin', [], () => undefined);

        for (const [name, keys, key, returnsId] of acceptedOnly) {
            m(name, keys, (...a: unknown[]) => {
                const id = this.add('other', key, {extra: Object.fromEntries(keys.map((k, i) => [k, a[i]]))});
                return returnsId ? id : undefined;
            });
        }
    }

    private add(slot: SlotName, mattermostKey: string, fields: Partial<Registration>): string {
        if (typeof fields.key === 'string' && slot === 'post_type' && !fields.key.startsWith('custom_')) {
            // Mattermost's rule: plugin post types are custom_*. Warn, keep
            // going: the server validated declared types at push time.
            console.warn(`plugin ${this.id}: post type ${fields.key} should start with custom_`); // eslint-disable-line no-console
        }
        return this.deps.slots.add({id: generateId(), pluginId: this.id, slot, mattermostKey, ...fields});
    }

    /** Removes one of this plugin's registrations (another plugin's ids are ignored). */
    private unregister(id: string) {
        if (this.deps.slots.get(id)?.pluginId === this.id) {
            this.deps.slots.remove(id);
        }
    }

    private removeWhere(pred: (r: Registration) => boolean) {
        for (const slot of ['websocket_event', 'reducer', 'translations'] as SlotName[]) {
            for (const r of this.deps.slots.list(slot)) {
                if (r.pluginId === this.id && pred(r)) {
                    this.deps.slots.remove(r.id);
                }
            }
        }
    }

    /** registerRightHandSidebarComponent: the actions are Redux actions to dispatch. */
    private rhs(component: unknown, title: unknown) {
        const id = this.add('right_hand_sidebar', 'RightHandSidebarComponent', {
            component: component as ComponentType, title: resolveReactElement(title),
        });
        return {
            id,
            showRHSPlugin: viewsActions.rhsPluginShown(id),
            hideRHSPlugin: viewsActions.rhsClosed(),
            // A thunk, as in Mattermost: it reads the state to decide.
            toggleRHSPlugin: toggleRHS(id),
        };
    }
}

export const reconnectKey = '__reconnect__';

export function toggleRHS(id: string) {
    return (dispatch: (a: never) => unknown, getState: () => {views: {rhs: {isSidebarOpen: boolean; pluggableId: string}}}) => {
        const {rhs} = getState().views;
        dispatch((rhs.isSidebarOpen && rhs.pluggableId === id ? viewsActions.rhsClosed() : viewsActions.rhsPluginShown(id)) as never);
    };
}

function trimSlashes(s: string): string {
    return (s ?? '').replace(/^\/+|\/+$/g, '');
}
