// Types shared by the plugin machinery: what the manifest says, what a
// plugin object looks like, and what a slot registration holds.
import type {ComponentType, ReactNode} from 'react';

/** One enabled plugin of GET /api/v1/manifest (slots.Plugin on the server). */
export interface ManifestPlugin {
    id: string;
    name: string;
    version: string;
    bundle: {url: string; integrity: string; size: number};
    slots: Array<{slot: string; post_type?: string}>;
    host_modules: string[];
    /** A prerelease served to its developer alone while push --watch runs (PreviewMarker). */
    preview?: boolean;
}

export interface TeamManifest {
    team: string;
    platform: string;
    plugins: ManifestPlugin[];
}

/** The object a bundle hands to window.registerPlugin. */
export interface PluginObject {
    initialize?: (registry: unknown, store: unknown) => unknown;
    uninitialize?: () => void;
    /** Deprecated name Mattermost still calls when uninitialize is absent. */
    deinitialize?: () => void;
}

/**
 * The slot names of the catalogue (slots/slots.go). Hooks, handlers,
 * reducers and translations are slots too, but render nothing.
 */
export type SlotName =
    | 'post_type'
    | 'call_button'
    | 'channel_header_button'
    | 'app_center'
    | 'app_bar'
    | 'main_menu'
    | 'root'
    | 'right_hand_sidebar'
    | 'post_dropdown_menu'
    | 'slash_command_hook'
    | 'message_will_be_posted_hook'
    | 'websocket_event'
    | 'reducer'
    | 'translations'
    // Not in the catalogue but part of Mattermost's contract: rendered too.
    | 'product'
    // The rest are named by Mattermost's component key (state.plugins.components[key]).
    | 'Global' | 'PopoverUserAttributes' | 'PopoverUserActions' | 'LeftSidebarHeader' | 'BottomTeamSidebar'
    | 'PostMessageAttachment' | 'LinkTooltip' | 'CreateBoardFromTemplate' | 'ChannelHeaderIcon' | 'ChannelIntroButton'
    | 'PostCardType' | 'PostWillRenderEmbedComponent' | 'ChannelHeader' | 'FilesDropdown' | 'UserGuideDropdown'
    | 'PostAction' | 'PostEditorAction' | 'CodeBlockAction' | 'NewMessagesSeparatorAction' | 'FileUploadMethod'
    | 'FilePreview' | 'SidebarChannelLinkLabel' | 'SidebarBrowseOrAddChannelMenu' | 'ChannelToast'
    | 'SystemConsoleGroupTable' | 'MessageWillFormat' | 'MessageWillBeUpdated' | 'FilesWillUpload'
    | 'DesktopNotificationHooks' | 'AIActionMenuItem' | 'ChannelTypeOption' | 'ChannelIconOverride'
    | 'ChannelComposerBanner' | 'ChannelIntro' | 'PostHeader' | 'ComposerPlaceholder' | 'ProductSwitcherMenuItem'
    | 'UserSettings' | 'SearchButtons'
    | 'AdminConsoleCustomSetting' | 'AdminConsoleCustomSection' | 'AdminConsolePlugin' | 'SiteStatistics' | 'RHSPopoutListener'
    | 'other';

/** A label argument: a string, an element, or a component type. */
export type Label = ReactNode | ComponentType<unknown>;

/**
 * One registration in the slot map. Component references and callbacks
 * live here, never in the Redux store.
 */
export interface Registration {
    /** The 26-character id returned to the plugin. */
    id: string;
    pluginId: string;
    slot: SlotName;
    /** Mattermost's key (state.plugins.components[key]), for diagnostics. */
    mattermostKey: string;
    component?: ComponentType<any>;
    icon?: ReactNode;
    text?: ReactNode;
    dropdownText?: ReactNode;
    tooltipText?: ReactNode;
    title?: ReactNode;
    action?: (...args: any[]) => unknown;
    filter?: (...args: any[]) => boolean;
    /** post_type: the custom_ type. websocket_event: the event name. */
    key?: string;
    /** app_center: the route below /:team/<pluginId>/ or a product's baseURL. */
    route?: string;
    iconUrl?: string;
    hook?: (...args: any[]) => unknown;
    /** app_bar with an RHS: the RHS registration it toggles. */
    rhsId?: string;
    /** Anything else the method received, kept for feature parity. */
    extra?: Record<string, unknown>;
}
