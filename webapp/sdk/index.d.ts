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
    ): {id: string; rootRegisterMenuItem: (text: Label, action: (postId: string) => void, filter?: (postId: string) => boolean) => SubMenuRegistrar};
    /** showPopout is accepted; the host has no popout windows. */
    registerRightHandSidebarComponent(component: ComponentType<HostProps>, title: Label, showPopout?: boolean): RHSRegistration;
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
    /** Removes any registration by its id (any plugin's, as Mattermost). */
    unregisterComponent(componentId: string): void;

    // The rest of Mattermost's webapp reference; docs/webapp.md says where each renders.
    registerGlobalComponent(component: ComponentType<HostProps>): string;
    registerPopoverUserAttributesComponent(component: ComponentType<UserPopoverProps>): string;
    registerPopoverUserActionsComponent(component: ComponentType<UserPopoverProps>): string;
    registerLeftSidebarHeaderComponent(component: ComponentType<HostProps>): string;
    registerBottomTeamSidebarComponent(component: ComponentType<HostProps>): string;
    registerPostMessageAttachmentComponent(component: ComponentType<HostProps & {postId: string; onHeightChange: (h: number) => void}>): string;
    registerSearchComponents(options: {
        buttonComponent: ComponentType<HostProps>;
        suggestionsComponent?: ComponentType<HostProps & {searchTerms: string; onRunSearch: (terms: string) => void}>;
        hintsComponent?: ComponentType<HostProps & {searchTerms: string; onChangeSearch: (terms: string) => void}>;
        action: (searchTerms: string) => void;
    }): string;
    registerLinkTooltipComponent(component: ComponentType<HostProps & {href: string; show: boolean}>): string;
    registerActionAfterChannelCreation(component: ComponentType<HostProps>, action: (...args: any[]) => void): string;
    registerChannelHeaderIcon(component: ComponentType<HostProps & {channel: Channel; channelMember?: ChannelMembership}>): string;
    registerChannelIntroButtonAction(icon: Label, action: (channel: Channel, channelMember?: ChannelMembership) => void, text: Label): string;
    registerPostCardTypeComponent(type: `custom_${string}`, component: ComponentType<PostTypeProps>): string;
    registerPostWillRenderEmbedComponent(
        match: (embed: PostEmbed) => boolean,
        component: ComponentType<HostProps & {embed: PostEmbed}>,
        toggleable?: boolean,
    ): string;
    registerChannelHeaderMenuAction(text: Label, action: (channelId: string) => void, shouldRender?: (state: any) => boolean): string;
    registerFileDropdownMenuAction(match: (fileInfo: FileInfo) => boolean, text: Label, action: (fileInfo: FileInfo) => void): string;
    registerUserGuideDropdownMenuAction(text: Label, action: () => void): string;
    registerPostActionComponent(component: ComponentType<HostProps & {post: Post}>): string;
    registerPostEditorActionComponent(component: ComponentType<HostProps & {
        draft: {message: string; channelId: string; rootId: string};
        getSelectedText: () => {start: number; end: number};
        updateText: (message: string) => void;
    }>): string;
    registerCodeBlockActionComponent(component: ComponentType<HostProps & {code: string}>): string;
    registerNewMessagesSeparatorActionComponent(component: ComponentType<HostProps & {lastViewedAt: number; channelId: string; threadId: string}>): string;
    /** Deprecated in Mattermost 11; the item renders in the post menu. */
    registerPostDropdownMenuComponent(component: ComponentType<HostProps & {postId: string}>): string;
    registerFileUploadMethod(icon: Label, action: (upload: (files: File[]) => void) => void, text: Label): string;
    registerFilesWillUploadHook(hook: (files: File[], upload: (files: File[]) => void) => {message?: string; files?: File[] | null}): string;
    registerFilePreviewComponent(
        override: (fileInfo: FileInfo, post?: Post) => boolean,
        component: ComponentType<HostProps & {fileInfo: FileInfo; post?: Post; onModalDismissed: () => void}>,
    ): string;
    registerMessageWillFormatHook(hook: (post: Post, message: string) => string): string;
    registerMessageWillBeUpdatedHook(hook: (newPost: Post, oldPost: Post) =>
        {post: Post} | {error: {message: string}} | Promise<{post: Post} | {error: {message: string}}>): string;
    registerSidebarChannelLinkLabelComponent(component: ComponentType<HostProps & {channel: Channel}>): string;
    registerSidebarBrowseOrAddChannelMenuAction(text: Label, action: () => void, icon?: Label): string;
    registerChannelToastComponent(component: ComponentType<HostProps>): string;
    registerDesktopNotificationHook(hook: (post: Post, msgProps: any, channel: Channel, teamId: string, args: DesktopNotificationArgs) =>
        {args?: DesktopNotificationArgs; error?: string} | Promise<{args?: DesktopNotificationArgs; error?: string}>): string;
    registerUserSettings(setting: UserSettings): void;
    registerSystemConsoleGroupTable(component: ComponentType<HostProps>): string;
    // No place in mmtoolkit (Mattermost's system console): accepted, return what Mattermost returns.
    registerAdminConsolePlugin(func: (registry: any) => void): void;
    unregisterAdminConsolePlugin(): void;
    registerAdminConsoleCustomSetting(key: string, component: ComponentType<any>, options?: {showTitle?: boolean}): void;
    registerAdminConsoleCustomSection(key: string, component: ComponentType<any>): void;
    registerSiteStatisticsHandler(handler: () => Promise<Record<string, unknown>> | Record<string, unknown>): void;
    registerRHSPluginPopoutListener(pluginId: string, onPopoutOpened: (...args: any[]) => void): void;
    // The newest methods of Mattermost's reference.
    registerAIActionMenuItemComponent(item: {icon?: Label; text?: Label; sortOrder?: number; component?: ComponentType<HostProps>;
        action?: (ctx: {message: string; channelId: string}) => void}): string;
    registerChannelTypeOption(option: {label: Label; description?: Label; icon?: Label; isAvailable?: () => boolean;
        extraContent?: ComponentType<any>; onCreate: (opts: {displayName: string; teamId: string}) => void; createButtonText?: Label}): string;
    registerChannelIconOverride(matcher: (channel: Channel) => boolean, iconName: string): string;
    registerChannelComposerBannerComponent(component: ComponentType<HostProps & {channelId: string}>): string;
    registerChannelIntro(matcher: (channel: Channel) => boolean, component: ComponentType<HostProps & {channel: Channel}>): string;
    registerPostHeaderComponent(component: ComponentType<HostProps & {post: Post}>): string;
    registerComposerPlaceholder(transform: (placeholder: string, channel?: Channel) => string): string;
    registerProductSwitcherMenuItem(text: Label, icon: Label, action: () => void, isHidden?: () => boolean): string;

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

/** rootRegisterMenuItem's result: one level only, as Mattermost, so calling it throws. */
export type SubMenuRegistrar = (text: Label, action: (postId: string) => void, filter?: (postId: string) => boolean) => never;

/** Props of the user popover's plugin components. */
export interface UserPopoverProps extends HostProps {
    user: {id: string; username: string; first_name?: string; last_name?: string};
    hide: () => void;
    status: string;
    fromWebhook: boolean;
}

/** An embed registerPostWillRenderEmbedComponent matches. */
export interface PostEmbed {
    type: string;
    url: string;
    data?: unknown;
}

/** A file of a post (Mattermost's FileInfo, the fields plugins read). */
export interface FileInfo {
    id: string;
    name: string;
    extension: string;
    size: number;
    mime_type: string;
}

export interface DesktopNotificationArgs {
    title: string;
    body: string;
    silent: boolean;
    soundName: string;
    url: string;
    notify: boolean;
}

/** registerUserSettings: a tab of the user settings modal. */
export interface UserSettings {
    id: string;
    uiName: Label;
    icon?: string;
    sections?: Array<{
        title: Label;
        settings?: Array<{name: string; title?: Label; type?: 'radio'; default?: string;
            options?: Array<{text?: Label; value: string; helpText?: Label}>; component?: ComponentType<any>}>;
        onSubmit?: (changes: Record<string, string>) => void;
        component?: ComponentType<any>;
    }>;
    action?: {title: Label; text?: Label; buttonText: Label; onClick: () => void};
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
