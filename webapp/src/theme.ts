// Mattermost's theme as CSS variables (--center-channel-bg, --button-bg,
// ...), so the host and plugin CSS written for Mattermost look right. The
// theme object itself is mattermost-redux's getTheme, the one plugins get.
const vars: Record<string, string> = {
    sidebarBg: '--sidebar-bg',
    sidebarText: '--sidebar-text',
    sidebarUnreadText: '--sidebar-unread-text',
    sidebarTextHoverBg: '--sidebar-text-hover-bg',
    sidebarTextActiveBorder: '--sidebar-text-active-border',
    sidebarTextActiveColor: '--sidebar-text-active-color',
    sidebarHeaderBg: '--sidebar-header-bg',
    sidebarHeaderTextColor: '--sidebar-header-text-color',
    sidebarTeamBarBg: '--sidebar-teambar-bg',
    onlineIndicator: '--online-indicator',
    awayIndicator: '--away-indicator',
    dndIndicator: '--dnd-indicator',
    mentionBg: '--mention-bg',
    mentionColor: '--mention-color',
    centerChannelBg: '--center-channel-bg',
    centerChannelColor: '--center-channel-color',
    newMessageSeparator: '--new-message-separator',
    linkColor: '--link-color',
    buttonBg: '--button-bg',
    buttonColor: '--button-color',
    errorTextColor: '--error-text',
    mentionHighlightBg: '--mention-highlight-bg',
    mentionHighlightLink: '--mention-highlight-link',
    globalHeaderBackground: '--global-header-background',
    globalHeaderTextColor: '--global-header-text',
};

function rgb(hex: string): string {
    const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
    if (!m) {
        return '';
    }
    const n = parseInt(m[1], 16);
    return `${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}`;
}

export function applyTheme(theme: object, root: HTMLElement = document.documentElement) {
    for (const [key, cssVar] of Object.entries(vars)) {
        const v = (theme as Record<string, unknown>)[key];
        if (typeof v !== 'string') {
            continue;
        }
        root.style.setProperty(cssVar, v);
        const c = rgb(v);
        if (c) {
            root.style.setProperty(`${cssVar}-rgb`, c);
        }
    }
}
