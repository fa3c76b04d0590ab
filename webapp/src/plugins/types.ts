// Types shared by the plugin machinery: what the manifest says, what a
// plugin object looks like, and what a slot registration holds.
import type {ComponentType, ReactNode} from 'react';

import type {CatalogueSlotName} from '../generated/slots';

// GET /api/v1/manifest's types are the server's (slots.Manifest), generated.
export type {ManifestPlugin, TeamManifest} from '../generated/manifest';

/** The object a bundle hands to window.registerPlugin. */
export interface PluginObject {
    initialize?: (registry: unknown, store: unknown) => unknown;
    uninitialize?: () => void;
    /** Deprecated name Mattermost still calls when uninitialize is absent. */
    deinitialize?: () => void;
}

/**
 * The slot names: the catalogue's (slots/slots.go, generated). Hooks,
 * handlers, reducers and translations are slots too, but render nothing.
 */
export type SlotName =
    | CatalogueSlotName
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
