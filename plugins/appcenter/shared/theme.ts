// Colours come from the Mattermost theme the host passes every component,
// so the plugin follows light and dark themes. changeOpacity is
// mattermost-redux's (utils/theme_utils), restated to avoid bundling it.
export interface ThemeColors {
    centerChannelBg: string;
    centerChannelColor: string;
    buttonBg: string;
    buttonColor: string;
    linkColor: string;
    errorTextColor: string;
    onlineIndicator: string;
    sidebarBg?: string;
}

export const defaultTheme: ThemeColors = {
    centerChannelBg: '#ffffff',
    centerChannelColor: '#3f4350',
    buttonBg: '#1c58d9',
    buttonColor: '#ffffff',
    linkColor: '#386fe5',
    errorTextColor: '#d24b4e',
    onlineIndicator: '#06d6a0',
};

/** '#rrggbb' or '#rgb' (or rgb()/rgba()) at the given opacity, as rgba(). */
export function changeOpacity(color: string, opacity: number): string {
    let c = (color ?? '').trim();
    let r = 0;
    let g = 0;
    let b = 0;
    let a = 1;
    if (c.startsWith('#')) {
        c = c.slice(1);
        if (c.length === 3) {
            c = c.split('').map((x) => x + x).join('');
        }
        r = parseInt(c.slice(0, 2), 16);
        g = parseInt(c.slice(2, 4), 16);
        b = parseInt(c.slice(4, 6), 16);
    } else {
        const m = /rgba?\(([^)]+)\)/.exec(c);
        if (!m) {
            return color;
        }
        const parts = m[1].split(',').map((x) => parseFloat(x));
        [r, g, b] = parts;
        a = parts[3] ?? 1;
    }
    return `rgba(${r},${g},${b},${a * opacity})`;
}
