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
 * Registry methods that only store their arguments under a slot, the
 * slot named by Mattermost's component key (state.plugins.components[key]
 * there). [name, parameter order, slot, how the arguments become fields].
 * The components that render each slot are listed in docs/webapp.md.
 */
type Fields = (...a: any[]) => Partial<Registration>;
const component: Fields = (c) => ({component: c});
const simple: Array<[string, string[], SlotName, Fields]> = [
    ['registerGlobalComponent', ['component'], 'Global', component],
    ['registerPopoverUserAttributesComponent', ['component'], 'PopoverUserAttributes', component],
    ['registerPopoverUserActionsComponent', ['component'], 'PopoverUserActions', component],
    ['registerLeftSidebarHeaderComponent', ['component'], 'LeftSidebarHeader', component],
    ['registerBottomTeamSidebarComponent', ['component'], 'BottomTeamSidebar', component],
    ['registerPostMessageAttachmentComponent', ['component'], 'PostMessageAttachment', component],
    ['registerLinkTooltipComponent', ['component'], 'LinkTooltip', component],
    ['registerActionAfterChannelCreation', ['component', 'action'], 'CreateBoardFromTemplate', (c, action) => ({component: c, action})],
    ['registerChannelHeaderIcon', ['component'], 'ChannelHeaderIcon', component],
    ['registerChannelIntroButtonAction', ['icon', 'action', 'text'], 'ChannelIntroButton',
        (icon, action, text) => ({icon: resolveReactElement(icon), action, text: resolveReactElement(text)})],
    ['registerPostCardTypeComponent', ['type', 'component'], 'PostCardType', (key, c) => ({key, component: c})],
    ['registerPostWillRenderEmbedComponent', ['match', 'component', 'toggleable'], 'PostWillRenderEmbedComponent',
        (match, c, toggleable) => ({filter: match, component: c, extra: {toggleable: Boolean(toggleable)}})],
    ['registerChannelHeaderMenuAction', ['text', 'action', 'shouldRender'], 'ChannelHeader',
        (text, action, shouldRender) => ({text: resolveReactElement(text), action, filter: shouldRender})],
    ['registerFileDropdownMenuAction', ['match', 'text', 'action'], 'FilesDropdown',
        (match, text, action) => ({filter: match, text: resolveReactElement(text), action})],
    ['registerUserGuideDropdownMenuAction', ['text', 'action'], 'UserGuideDropdown', (text, action) => ({text: resolveReactElement(text), action})],
    ['registerPostActionComponent', ['component'], 'PostAction', component],
    ['registerPostEditorActionComponent', ['component'], 'PostEditorAction', component],
    ['registerCodeBlockActionComponent', ['component'], 'CodeBlockAction', component],
    ['registerNewMessagesSeparatorActionComponent', ['component'], 'NewMessagesSeparatorAction', component],
    ['registerFileUploadMethod', ['icon', 'action', 'text'], 'FileUploadMethod',
        (icon, action, text) => ({icon: resolveReactElement(icon), action, text: resolveReactElement(text)})],
    ['registerFilePreviewComponent', ['override', 'component'], 'FilePreview', (override, c) => ({filter: override, component: c})],
    ['registerSidebarChannelLinkLabelComponent', ['component'], 'SidebarChannelLinkLabel', component],
    ['registerSidebarBrowseOrAddChannelMenuAction', ['text', 'action', 'icon'], 'SidebarBrowseOrAddChannelMenu',
        (text, action, icon) => ({text: resolveReactElement(text), action, icon: resolveReactElement(icon)})],
    ['registerChannelToastComponent', ['component'], 'ChannelToast', component],
    ['registerSystemConsoleGroupTable', ['component'], 'SystemConsoleGroupTable', component],
    ['registerMessageWillFormatHook', ['hook'], 'MessageWillFormat', (hook) => ({hook})],
    ['registerMessageWillBeUpdatedHook', ['hook'], 'MessageWillBeUpdated', (hook) => ({hook})],
    ['registerFilesWillUploadHook', ['hook'], 'FilesWillUpload', (hook) => ({hook})],
    ['registerDesktopNotificationHook', ['hook'], 'DesktopNotificationHooks', (hook) => ({hook})],
    // The newest methods (Mattermost's reference lists them with these parameters).
    ['registerAIActionMenuItemComponent', ['icon', 'text', 'sortOrder', 'component', 'action'], 'AIActionMenuItem',
        (icon, text, sortOrder, c, action) => ({icon: resolveReactElement(icon), text: resolveReactElement(text), component: c, action,
            extra: {sortOrder: typeof sortOrder === 'number' ? sortOrder : 0}})],
    ['registerChannelTypeOption', ['label', 'description', 'icon', 'isAvailable', 'extraContent', 'onCreate', 'createButtonText'], 'ChannelTypeOption',
        (label, description, icon, isAvailable, extraContent, onCreate, createButtonText) => ({
            text: resolveReactElement(label), icon: resolveReactElement(icon), filter: isAvailable, action: onCreate,
            extra: {description: resolveReactElement(description), extraContent, createButtonText: resolveReactElement(createButtonText)},
        })],
    ['registerChannelIconOverride', ['matcher', 'iconName'], 'ChannelIconOverride', (matcher, iconName) => ({filter: matcher, key: String(iconName ?? '')})],
    ['registerChannelComposerBannerComponent', ['component'], 'ChannelComposerBanner', component],
    ['registerChannelIntro', ['matcher', 'component'], 'ChannelIntro', (matcher, c) => ({filter: matcher, component: c})],
    ['registerPostHeaderComponent', ['component'], 'PostHeader', component],
    ['registerComposerPlaceholder', ['transform'], 'ComposerPlaceholder', (hook) => ({hook})],
    ['registerProductSwitcherMenuItem', ['text', 'icon', 'action', 'isHidden'], 'ProductSwitcherMenuItem',
        (text, icon, action, isHidden) => ({text: resolveReactElement(text), icon: resolveReactElement(icon), action, filter: isHidden})],
];

/**
 * Methods whose registration Mattermost keeps in a place this host does
 * not have (the system console): stored, they return what Mattermost
 * returns (nothing), and unregisterComponent or a removal drops them.
 */
const noPlace: Array<[string, string[], SlotName]> = [
    ['registerAdminConsoleCustomSetting', ['key', 'component', 'options'], 'AdminConsoleCustomSetting'],
    ['registerAdminConsoleCustomSection', ['key', 'component'], 'AdminConsoleCustomSection'],
    ['registerAdminConsolePlugin', ['func'], 'AdminConsolePlugin'],
    ['registerSiteStatisticsHandler', ['handler'], 'SiteStatistics'],
    ['registerRHSPluginPopoutListener', ['pluginId', 'onPopoutOpened'], 'RHSPopoutListener'],
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
        m('unregisterPostTypeComponent', ['componentId'], (id: string) => {
            if (this.deps.slots.get(id)?.slot === 'post_type') {
                this.deps.slots.remove(id);
            }
        });
        m('registerChannelHeaderButtonAction', ['icon', 'action', 'dropdownText', 'tooltipText'],
            (icon, action, dropdownText, tooltipText) => this.add('channel_header_button', 'ChannelHeaderButton', {
                icon: resolveReactElement(icon), action, dropdownText: resolveReactElement(dropdownText),
                tooltipText: resolveReactElement(tooltipText),
            }));
        m('registerCallButtonAction', ['button', 'dropdownButton', 'action', 'icon', 'dropdownText'],
            (button, dropdownButton, action, icon, dropdownText) => this.add('call_button', 'CallButton', {
                text: resolveReactElement(button), dropdownText: resolveReactElement(dropdownText),
                icon: resolveReactElement(icon), action, extra: {dropdownButton: resolveReactElement(dropdownButton)},
            }));
        m('registerMainMenuAction', ['text', 'action', 'mobileIcon'], (text, action, mobileIcon) =>
            this.add('main_menu', 'MainMenu', {text: resolveReactElement(text), action, extra: {mobileIcon}}));
        m('registerPostDropdownMenuAction', ['text', 'action', 'filter'], (text, action, filter) =>
            this.add('post_dropdown_menu', 'PostDropdownMenu', {text: resolveReactElement(text), action, filter}));
        m('registerPostDropdownSubMenuAction', ['text', 'action', 'filter'], (text, action, filter) => {
            const id = this.add('post_dropdown_menu', 'PostDropdownMenu', {text: resolveReactElement(text), action, filter});
            // One level of nesting, as Mattermost: rootRegisterMenuItem(text,
            // action, filter) adds an item to the root's sub-menu and returns
            // the registrar of a level below it, which throws.
            const rootRegisterMenuItem = (t: unknown, a: Fn, f?: Fn) => {
                this.add('post_dropdown_menu', 'PostDropdownMenu', {
                    text: resolveReactElement(t), action: a, filter: f, extra: {parentMenuId: id},
                });
                return () => {
                    throw new Error('Submenus are currently limited to a single level.');
                };
            };
            return {id, rootRegisterMenuItem};
        });
        // showPopout: Mattermost opens the RHS in a separate window; this host has no popouts (kept, unused).
        m('registerRightHandSidebarComponent', ['component', 'title', 'showPopout'], (component, title, showPopout) =>
            this.rhs(component, title, showPopout));
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
                this.add('SearchButtons', 'SearchButtons', {action: action as Fn, component: buttonComponent as ComponentType,
                    extra: {suggestionsComponent, hintsComponent}}));

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
        // Any registration, another plugin's too, as Mattermost's removeComponent.
        m('unregisterComponent', ['componentId'], (id: string) => {
            this.deps.slots.remove(id);
        });
        m('unregisterAdminConsolePlugin', [], () => undefined);

        for (const [name, keys, slot, fields] of simple) {
            m(name, keys, (...a: unknown[]) => this.add(slot, slot, fields(...a)));
        }
        for (const [name, keys, slot] of noPlace) {
            m(name, keys, (...a: unknown[]) => {
                this.add(slot, slot, {extra: Object.fromEntries(keys.map((k, i) => [k, a[i]]))});
            });
        }
        // Deprecated in Mattermost 11 (it warns there too); shown in the post menu.
        m('registerPostDropdownMenuComponent', ['component'], (c) => {
            console.warn(`plugin ${this.id}: registerPostDropdownMenuComponent is deprecated, use registerPostDropdownMenuAction`); // eslint-disable-line no-console
            return this.add('post_dropdown_menu', 'PostDropdownMenuItem', {component: c as ComponentType});
        });
        m('registerUserSettings', ['setting'], (setting: {id?: string} | undefined) => {
            // One entry per plugin, as Mattermost's state.plugins.userSettings[pluginId].
            this.removeWhere((r) => r.slot === 'UserSettings');
            this.add('UserSettings', 'UserSettings', {extra: {setting}});
        });
    }

    private add(slot: SlotName, mattermostKey: string, fields: Partial<Registration>): string {
        if (typeof fields.key === 'string' && slot === 'post_type' && !fields.key.startsWith('custom_')) {
            // Mattermost's rule: plugin post types are custom_*. Warn, keep
            // going: the server validated declared types at push time.
            console.warn(`plugin ${this.id}: post type ${fields.key} should start with custom_`); // eslint-disable-line no-console
        }
        return this.deps.slots.add({id: generateId(), pluginId: this.id, slot, mattermostKey, ...fields});
    }

    private removeWhere(pred: (r: Registration) => boolean) {
        for (const slot of ['websocket_event', 'reducer', 'translations', 'UserSettings'] as SlotName[]) {
            for (const r of this.deps.slots.list(slot)) {
                if (r.pluginId === this.id && pred(r)) {
                    this.deps.slots.remove(r.id);
                }
            }
        }
    }

    /** registerRightHandSidebarComponent: the actions are Redux actions to dispatch. */
    private rhs(component: unknown, title: unknown, showPopout?: unknown) {
        const id = this.add('right_hand_sidebar', 'RightHandSidebarComponent', {
            component: component as ComponentType, title: resolveReactElement(title), extra: {showPopout: Boolean(showPopout)},
        });
        return {
            id,
            showRHSPlugin: viewsActions.rhsPluginShown(id),
            // A thunk, as Mattermost's hideRHSPlugin(id): closes the RHS only while it shows this one.
            hideRHSPlugin: hideRHS(id),
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

export function hideRHS(id: string) {
    return (dispatch: (a: never) => unknown, getState: () => {views: {rhs: {isSidebarOpen: boolean; pluggableId: string}}}) => {
        const {rhs} = getState().views;
        if (rhs.isSidebarOpen && rhs.pluggableId === id) {
            dispatch(viewsActions.rhsClosed() as never);
        }
    };
}

function trimSlashes(s: string): string {
    return (s ?? '').replace(/^\/+|\/+$/g, '');
}
