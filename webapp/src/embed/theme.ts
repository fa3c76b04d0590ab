// The embed's theme: Mattermost's Denim (light) or Onyx (dark) theme with
// the page's accent colour as the button, link and active-item colour. It
// is given to the store as the user's theme preference, so plugins'
// getTheme and the host's CSS variables both follow it.

const light: Record<string, string> = {
    type: 'Denim', sidebarBg: '#1e325c', sidebarText: '#ffffff', sidebarUnreadText: '#ffffff', sidebarTextHoverBg: '#28427b',
    sidebarTextActiveBorder: '#5d89ea', sidebarTextActiveColor: '#ffffff', sidebarHeaderBg: '#192a4d', sidebarHeaderTextColor: '#ffffff',
    sidebarTeamBarBg: '#14213e', onlineIndicator: '#3db887', awayIndicator: '#ffbc1f', dndIndicator: '#d24b4e', mentionBg: '#ffffff',
    mentionColor: '#1e325c', centerChannelBg: '#ffffff', centerChannelColor: '#3f4350', newMessageSeparator: '#cc8f00', linkColor: '#386fe5',
    buttonBg: '#1c58d9', buttonColor: '#ffffff', errorTextColor: '#d24b4e', mentionHighlightBg: '#ffd470', mentionHighlightLink: '#1b1d22',
    codeTheme: 'github', globalHeaderBackground: '#1e325c', globalHeaderTextColor: '#ffffff',
};

const dark: Record<string, string> = {
    type: 'Onyx', sidebarBg: '#202228', sidebarText: '#ffffff', sidebarUnreadText: '#ffffff', sidebarTextHoverBg: '#25262a',
    sidebarTextActiveBorder: '#4a7ce8', sidebarTextActiveColor: '#ffffff', sidebarHeaderBg: '#24272d', sidebarHeaderTextColor: '#ffffff',
    sidebarTeamBarBg: '#1b1d22', onlineIndicator: '#3db887', awayIndicator: '#f5ab07', dndIndicator: '#d24b4e', mentionBg: '#4b7ce7',
    mentionColor: '#ffffff', centerChannelBg: '#191b1f', centerChannelColor: '#e3e4e8', newMessageSeparator: '#1adbdb', linkColor: '#5d89ea',
    buttonBg: '#4a7ce8', buttonColor: '#ffffff', errorTextColor: '#da6c6e', mentionHighlightBg: '#0d6e6e', mentionHighlightLink: '#a4f4f4',
    codeTheme: 'monokai', globalHeaderBackground: '#202228', globalHeaderTextColor: '#ffffff',
};

/** A #rrggbb (or #rgb) colour, else ''. Anything else from the page is ignored. */
export function accentColor(s: string | null | undefined): string {
    const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec((s ?? '').trim());
    if (!m) {
        return '';
    }
    const h = m[1].length === 3 ? m[1].split('').map((c) => c + c).join('') : m[1];
    return `#${h.toLowerCase()}`;
}

/** The Mattermost theme object for theme ("dark", else light) and accent. */
export function embedTheme(theme: string, accent: string): Record<string, string> {
    const t = {...(theme === 'dark' ? dark : light)};
    const a = accentColor(accent);
    if (a) {
        // A named type would make mattermost-redux's getTheme return that
        // built-in theme as it is, without the accent.
        t.type = 'custom';
        t.buttonBg = a;
        t.linkColor = a;
        t.sidebarTextActiveBorder = a;
        t.mentionHighlightLink = theme === 'dark' ? t.mentionHighlightLink : a;
    }
    return t;
}
