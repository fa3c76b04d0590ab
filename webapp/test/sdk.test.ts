// The published plugin types (sdk/index.d.ts) and the host's registry stay in
// step: every method the types promise exists on the registry the host hands
// to initialize, and registrations made through the typed names render.
import {describe, expect, it} from 'vitest';

import type {PluginRegistry as PublishedRegistry} from '../sdk';

import {setup} from './helpers';

// Record<keyof ...> makes tsc fail when a method is added to the published
// types without being listed here.
const published: Record<keyof PublishedRegistry, true> = {
    id: true,
    supports: true,
    registerRootComponent: true,
    registerPostTypeComponent: true,
    unregisterPostTypeComponent: true,
    registerChannelHeaderButtonAction: true,
    registerCallButtonAction: true,
    registerMainMenuAction: true,
    registerPostDropdownMenuAction: true,
    registerPostDropdownSubMenuAction: true,
    registerRightHandSidebarComponent: true,
    registerAppBarComponent: true,
    registerNeedsTeamRoute: true,
    registerCustomRoute: true,
    registerProduct: true,
    unregisterComponent: true,
    registerSlashCommandWillBePostedHook: true,
    registerMessageWillBePostedHook: true,
    registerWebSocketEventHandler: true,
    unregisterWebSocketEventHandler: true,
    registerReconnectHandler: true,
    unregisterReconnectHandler: true,
    registerReducer: true,
    registerTranslations: true,
    registerGlobalComponent: true,
    registerPopoverUserAttributesComponent: true,
    registerPopoverUserActionsComponent: true,
    registerLeftSidebarHeaderComponent: true,
    registerBottomTeamSidebarComponent: true,
    registerPostMessageAttachmentComponent: true,
    registerSearchComponents: true,
    registerLinkTooltipComponent: true,
    registerActionAfterChannelCreation: true,
    registerChannelHeaderIcon: true,
    registerChannelIntroButtonAction: true,
    registerPostCardTypeComponent: true,
    registerPostWillRenderEmbedComponent: true,
    registerChannelHeaderMenuAction: true,
    registerFileDropdownMenuAction: true,
    registerUserGuideDropdownMenuAction: true,
    registerPostActionComponent: true,
    registerPostEditorActionComponent: true,
    registerCodeBlockActionComponent: true,
    registerNewMessagesSeparatorActionComponent: true,
    registerPostDropdownMenuComponent: true,
    registerFileUploadMethod: true,
    registerFilesWillUploadHook: true,
    registerFilePreviewComponent: true,
    registerMessageWillFormatHook: true,
    registerMessageWillBeUpdatedHook: true,
    registerSidebarChannelLinkLabelComponent: true,
    registerSidebarBrowseOrAddChannelMenuAction: true,
    registerChannelToastComponent: true,
    registerDesktopNotificationHook: true,
    registerUserSettings: true,
    registerSystemConsoleGroupTable: true,
    registerAdminConsolePlugin: true,
    unregisterAdminConsolePlugin: true,
    registerAdminConsoleCustomSetting: true,
    registerAdminConsoleCustomSection: true,
    registerSiteStatisticsHandler: true,
    registerRHSPluginPopoutListener: true,
    registerAIActionMenuItemComponent: true,
    registerChannelTypeOption: true,
    registerChannelIconOverride: true,
    registerChannelComposerBannerComponent: true,
    registerChannelIntro: true,
    registerPostHeaderComponent: true,
    registerComposerPlaceholder: true,
    registerProductSwitcherMenuItem: true,
};

describe('published plugin types', () => {
    it('name only what the host registry has', () => {
        const {registry} = setup('com.example.sdk');
        for (const name of Object.keys(published)) {
            expect(registry, name).toHaveProperty(name);
            if (name.startsWith('register') || name.startsWith('unregister')) {
                expect(typeof (registry as unknown as Record<string, unknown>)[name], name).toBe('function');
            }
        }
    });

    it('type-check a plugin written against them', () => {
        const {registry, slots} = setup('com.example.sdk');
        const typed = registry as unknown as PublishedRegistry;
        const id = typed.registerPostTypeComponent('custom_sdk', ({post, theme}) => `${post.id}${theme.centerChannelColor}`);
        expect(slots.get(id)?.key).toBe('custom_sdk');
        typed.unregisterComponent(id);
        expect(slots.get(id)).toBeUndefined();
        const banner = typed.registerChannelComposerBannerComponent(({channelId}) => channelId);
        expect(slots.get(banner)?.slot).toBe('ChannelComposerBanner');
        const placeholder = typed.registerComposerPlaceholder((p, channel) => `${p} ${channel?.name ?? ''}`);
        expect(slots.get(placeholder)?.hook?.('Write', {name: 'x'})).toBe('Write x');
    });

    it('cover all 68 methods of the reference (60 of registry.ts, 8 newer)', () => {
        expect(Object.keys(published).filter((k) => k !== 'id' && k !== 'supports')).toHaveLength(68);
    });
});
