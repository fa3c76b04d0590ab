// @mmtoolkit/webapp: the published types of the webapp plugin contract.
//
// What a web plugin's initialize(registry, store) receives from the host
// (webapp/src/plugins/registry.ts implements it; test/sdk.test.ts keeps the
// two in step). Method names, argument orders, the single-object form and the
// returned ids are Mattermost's (webapp/channels/src/plugins/registry.ts), so
// code typed against this file also runs in Mattermost's own webapp.
//
// Type-only: import it with `import type {...} from '@mmtoolkit/webapp'`.
// esbuild erases type imports, so the package needs no copy of this file; a
// plugin's tsconfig maps the name to this file for `tsc --noEmit` (see
// plugins/tsconfig.web.json and docs/plugin-package.md).
import type {ComponentType, ReactNode} from 'react';
import type {Store} from 'redux';

import type {Channel, ChannelMembership} from '@mattermost/types/channels';
import type {Post} from '@mattermost/types/posts';
import type {GlobalState} from '@mattermost/types/store';
import type {Theme} from 'mattermost-redux/selectors/entities/preferences';

export type {Channel, ChannelMembership, GlobalState, Post, Theme};

/** A label argument: a string, an element, or a component type. */
export type Label = ReactNode | ComponentType<any>;

/** The host's Redux store: Mattermost's state shape plus plugin reducers. */
export type PluginStore = Store<GlobalState & Record<string, any>>;

/** The socket of the Mattermost websocket, passed to every component. */
export interface WebSocketClient {
    addMessageListener?(listener: (msg: WebSocketMessage) => void): void;
    removeMessageListener?(listener: (msg: WebSocketMessage) => void): void;
    [k: string]: unknown;
}

/** An event of /api/v4/websocket or /api/v1/websocket. */
export interface WebSocketMessage<D = any> {
    event: string;
    data: D;
    broadcast: {user_id?: string; channel_id?: string; team_id?: string; sender_id?: string; omit_users?: Record<string, boolean> | null};
    seq: number;
}

/** Props every rendered plugin component receives. */
export interface HostProps {
    theme: Theme;
    webSocketClient?: WebSocketClient;
}

/** Props of a registerPostTypeComponent component. */
export interface PostTypeProps extends HostProps {
    post: Post;
    isRHS?: boolean;
    compactDisplay?: boolean;
}

/** registerSlashCommandWillBePostedHook: what the hook receives. */
export interface SlashCommandArgs {
    channel_id: string;
    team_id: string;
    root_id?: string;
}

/**
 * What a slash command hook returns: {message, args} to send (maybe
 * rewritten), {error: {message}} to refuse with a message in the composer,
 * {} to swallow the command (the plugin handled it).
 */
export type SlashCommandHookResult =
    | {message: string; args: SlashCommandArgs}
    | {error: {message: string}}
    | Record<string, never>;

export type SlashCommandHook = (message: string, args: SlashCommandArgs) => SlashCommandHookResult | Promise<SlashCommandHookResult>;

/** registerMessageWillBePostedHook: {post} to send, {error} to refuse. */
export type MessageWillBePostedHook = (post: Post) =>
    | {post: Post}
    | {error: {message: string}}
    | Promise<{post: Post} | {error: {message: string}}>;

/** Messages for one locale: message id -> text (react-intl's format). */
export type Translations = Record<string, string>;

export interface RHSRegistration {
    id: string;
    /** Redux actions: dispatch them with store.dispatch. */
    showRHSPlugin: unknown;
    hideRHSPlugin: unknown;
    toggleRHSPlugin: unknown;
}

export interface ProductOptions {
    /** The product's path below the site root (`/<baseURL>`). */
    baseURL: string;
    switcherIcon: Label;
    switcherText: Label;
    switcherLinkURL?: string;
    mainComponent: ComponentType<HostProps>;
    headerCentreComponent?: ComponentType<HostProps>;
    headerRightComponent?: ComponentType<HostProps>;
    showTeamSidebar?: boolean;
    showAppBar?: boolean;
    wrapped?: boolean;
    publicComponent?: ComponentType<HostProps>;
}

/**
 * The registry handed to initialize. Every method also takes one plain
 * object whose keys are the parameter names (Mattermost's object form).
 */
export interface PluginRegistry {
    /** The plugin's id, bound by the host. */
    readonly id: string;
    readonly supports: {globalAppBar: boolean; globalRhs: boolean};

    // Components rendered in slots. Each returns an id for unregisterComponent.
    registerRootComponent(component: ComponentType<HostProps>): string;
    registerPostTypeComponent(type: `custom_${string}`, component: ComponentType<PostTypeProps>): string;
    unregisterPostTypeComponent(componentId: string): void;
    registerChannelHeaderButtonAction(
        icon: Label,
        action: (channel: Channel, channelMember?: ChannelMembership) => void,
        dropdownText?: Label,
        tooltipText?: Label,
    ): string;
    registerCallButtonAction(
        button: Label,
        dropdownButton: Label,
        action: (channel: Channel, channelMember?: ChannelMembership) => void,
        icon?: Label,
        dropdownText?: Label,
    ): string;
    registerMainMenuAction(text: Label, action: () => void, mobileIcon?: Label): string;
    registerPostDropdownMenuAction(text: Label, action: (postId: string) => void, filter?: (postId: string) => boolean): string;
    registerPostDropdownSubMenuAction(
        text: Label,
        action?: (postId: string) => void,
        filter?: (postId: string) => boolean,
    ): {id: string; rootRegisterMenuItem: (text: Label, action: (postId: string) => void, filter?: (postId: string) => boolean) => string};
    registerRightHandSidebarComponent(component: ComponentType<HostProps>, title: Label): RHSRegistration;
    registerAppBarComponent(
        iconUrl: string,
        action?: (channel: Channel, channelMember?: ChannelMembership) => void,
        tooltipText?: Label,
        supportedProductIds?: string[] | null,
        rhsComponent?: ComponentType<HostProps>,
        rhsTitle?: Label,
    ): string | {id: string; rhsComponent: RHSRegistration};
    /** A view at /<team>/<plugin id>/<route>. */
    registerNeedsTeamRoute(route: string, component: ComponentType<HostProps>): string;
    /** A view at /plug/<plugin id>/<route>. */
    registerCustomRoute(route: string, component: ComponentType<HostProps>): string;
    registerProduct(options: ProductOptions): string;
    unregisterComponent(componentId: string): void;

    // Hooks, handlers, state and messages: no rendering.
    registerSlashCommandWillBePostedHook(hook: SlashCommandHook): string;
    registerMessageWillBePostedHook(hook: MessageWillBePostedHook): string;
    registerWebSocketEventHandler(event: string, handler: (msg: WebSocketMessage) => void): void;
    unregisterWebSocketEventHandler(event: string): void;
    registerReconnectHandler(handler: () => void): void;
    unregisterReconnectHandler(): void;
    /** The reducer's state lives at state['plugins-<id>']. */
    registerReducer(reducer: (state: any, action: any) => any): void;
    registerTranslations(getTranslationsForLocale: (locale: string) => Translations | undefined): void;
}

/** What a bundle passes to window.registerPlugin. */
export interface Plugin {
    initialize(registry: PluginRegistry, store: PluginStore): void | Promise<void>;
    uninitialize?(): void;
}

declare global {
    interface Window {
        registerPlugin(id: string, plugin: Plugin): void;
    }
}
