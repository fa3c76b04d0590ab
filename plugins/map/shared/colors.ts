// Map colours derived from the Mattermost theme, so the map follows light
// and dark themes (Mattermost's own changeOpacity/blendColors, without
// bundling mattermost-redux for two functions).

/** The theme fields the map reads (a subset of Mattermost's Theme). */
export interface MapTheme {
    centerChannelBg: string;
    centerChannelColor: string;
    buttonBg: string;
    buttonColor: string;
    linkColor: string;
}

export const DEFAULT_THEME: MapTheme = {
    centerChannelBg: '#ffffff',
    centerChannelColor: '#3f4350',
    buttonBg: '#1c58d9',
    buttonColor: '#ffffff',
    linkColor: '#386fe5',
};

type RGB = [number, number, number];

function parse(color: string): RGB | null {
    const c = color.trim();
    let m = /^#([0-9a-f]{3})$/i.exec(c);
    if (m) {
        return [0, 1, 2].map((i) => parseInt(m![1][i] + m![1][i], 16)) as RGB;
    }
    m = /^#([0-9a-f]{6})(?:[0-9a-f]{2})?$/i.exec(c);
    if (m) {
        return [0, 2, 4].map((i) => parseInt(m![1].slice(i, i + 2), 16)) as RGB;
    }
    m = /^rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)/i.exec(c);
    if (m) {
        return [Number(m[1]), Number(m[2]), Number(m[3])];
    }
    return null;
}

const hex = (rgb: RGB) => `#${rgb.map((v) => Math.round(Math.max(0, Math.min(255, v))).toString(16).padStart(2, '0')).join('')}`;

/** `a` mixed with `ratio` of `b` (0: a, 1: b), as an opaque colour. */
export function blend(a: string, b: string, ratio: number): string {
    const x = parse(a);
    const y = parse(b);
    if (!x || !y) {
        return a;
    }
    return hex([0, 1, 2].map((i) => x[i] + ((y[i] - x[i]) * ratio)) as RGB);
}

/** The colour at `opacity`. */
export function withOpacity(color: string, opacity: number): string {
    const c = parse(color);
    return c ? `rgba(${c[0]},${c[1]},${c[2]},${opacity})` : color;
}

export interface MapColors {
    sea: string;
    land: string;
    border: string;
    coast: string;
    graticule: string;
    marker: string;
    markerStroke: string;
    text: string;
    halo: string;
}

/** Sea tinted with the link colour, land with the text colour, the marker in the button colour. */
export function mapColors(theme: Partial<MapTheme> | undefined): MapColors {
    const t = {...DEFAULT_THEME, ...theme};
    return {
        sea: blend(t.centerChannelBg, t.linkColor, 0.24),
        land: blend(t.centerChannelBg, t.centerChannelColor, 0.05),
        border: withOpacity(t.centerChannelColor, 0.45),
        coast: withOpacity(t.centerChannelColor, 0.5),
        graticule: withOpacity(t.centerChannelColor, 0.1),
        marker: t.buttonBg,
        markerStroke: t.buttonColor,
        text: t.centerChannelColor,
        halo: t.centerChannelBg,
    };
}
