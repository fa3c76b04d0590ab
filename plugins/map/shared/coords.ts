// Coordinates: parsing the /location command, finding coordinates in a
// message, formatting them. Pure functions, shared by the web and mobile
// parts and unit-tested (webapp/test/map_coords.test.ts).

export interface Location {
    latitude: number;
    longitude: number;
    label: string;
}

/** Why a /location command was refused: a message id of shared/i18n. */
export type LocationError =
    | 'map.command.usage'
    | 'map.command.not_numbers'
    | 'map.command.latitude_range'
    | 'map.command.longitude_range'
    | 'map.command.label_too_long';

export type ParseResult = {ok: true; location: Location} | {ok: false; error: LocationError};

export const COMMAND = '/location';
export const MAX_LABEL = 200;

const NUMBER = String.raw`[+-]?(?:\d+(?:\.\d*)?|\.\d+)`;
// "<lat>,<lng>", "<lat>, <lng>", "<lat> <lng>", then an optional label.
const ARGS = new RegExp(String.raw`^(${NUMBER})(?:\s*,\s*|\s+)(${NUMBER})(?:\s+([\s\S]*))?$`);

/** Whether a slash command is /location (case-insensitive, as Mattermost's triggers). */
export function isLocationCommand(message: string): boolean {
    const trigger = message.trimStart().split(/\s/, 1)[0];
    return trigger.toLowerCase() === COMMAND;
}

/**
 * Parses the arguments of `/location <lat>,<lng> [label]` (the text after
 * the trigger, or the whole command). Latitude in [-90, 90], longitude in
 * [-180, 180], both decimal degrees; the label is trimmed, at most
 * MAX_LABEL characters.
 */
export function parseLocationCommand(input: string): ParseResult {
    let text = input.trim();
    if (isLocationCommand(text)) {
        text = text.slice(COMMAND.length).trim();
    }
    if (!text) {
        return {ok: false, error: 'map.command.usage'};
    }
    const m = ARGS.exec(text);
    if (!m) {
        // Two tokens that are not both numbers, or only one token.
        const tokens = text.split(/[\s,]+/).filter(Boolean);
        return {ok: false, error: tokens.length < 2 ? 'map.command.usage' : 'map.command.not_numbers'};
    }
    const latitude = Number(m[1]);
    const longitude = Number(m[2]);
    if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) {
        return {ok: false, error: 'map.command.not_numbers'};
    }
    if (latitude < -90 || latitude > 90) {
        return {ok: false, error: 'map.command.latitude_range'};
    }
    if (longitude < -180 || longitude > 180) {
        return {ok: false, error: 'map.command.longitude_range'};
    }
    const label = (m[3] ?? '').replace(/\s+/g, ' ').trim();
    if ([...label].length > MAX_LABEL) {
        return {ok: false, error: 'map.command.label_too_long'};
    }
    return {ok: true, location: {latitude, longitude, label}};
}

// In free text, coordinates need two decimals or more and a comma between
// them ("52.52, 13.405"), or hemisphere letters ("52.5° N 13.4° E"), so
// version numbers, times and lists of numbers are not taken for places.
const DEC = String.raw`\d{1,3}\.\d+`;
const DEC2 = String.raw`\d{1,3}\.\d{2,}`;
const SIGNED_PAIR = new RegExp(String.raw`(?<![\w.\-+])([+-]?${DEC2})°?\s*,\s*([+-]?${DEC2})°?(?![\w.])`, 'g');
const HEMI_PAIR = new RegExp(String.raw`(?<![\w.])(${DEC}|\d{1,3})\s*°?\s*([NS])\s*,?\s*(${DEC}|\d{1,3})\s*°?\s*([EW])(?![\w])`, 'gi');

export interface FoundLocation extends Location {
    /** Where the coordinates are in the text. */
    index: number;
    length: number;
}

/** The first coordinates in a message, with a label taken from the message, or null. */
export function findCoordinates(text: string): FoundLocation | null {
    const candidates: FoundLocation[] = [];
    for (const m of text.matchAll(SIGNED_PAIR)) {
        candidates.push({latitude: Number(m[1]), longitude: Number(m[2]), label: '', index: m.index ?? 0, length: m[0].length});
    }
    for (const m of text.matchAll(HEMI_PAIR)) {
        const lat = Number(m[1]) * (m[2].toUpperCase() === 'S' ? -1 : 1);
        const lng = Number(m[3]) * (m[4].toUpperCase() === 'W' ? -1 : 1);
        candidates.push({latitude: lat, longitude: lng, label: '', index: m.index ?? 0, length: m[0].length});
    }
    candidates.sort((a, b) => a.index - b.index);
    const found = candidates.find((c) => Math.abs(c.latitude) <= 90 && Math.abs(c.longitude) <= 180);
    if (!found) {
        return null;
    }
    // The label: the words before the coordinates ("Office: 52.52, 13.405"),
    // else those after them, without the punctuation around them.
    const clean = (part: string) => part.
        replace(/\s+/g, ' ').
        replace(/^📍\s*/u, '').
        replace(/^[\s:;,.\-–—@()]+|[\s:;,\-–—@(]+$/g, '').
        trim();
    const label = clean(text.slice(0, found.index)) || clean(text.slice(found.index + found.length));
    return {...found, label: [...label].slice(0, 80).join('')};
}

/** Reads a custom_map_location post's props; null when they are not valid coordinates. */
export function locationFromProps(props: unknown): Location | null {
    if (!props || typeof props !== 'object') {
        return null;
    }
    const p = props as Record<string, unknown>;
    const latitude = typeof p.latitude === 'string' ? Number(p.latitude) : p.latitude;
    const longitude = typeof p.longitude === 'string' ? Number(p.longitude) : p.longitude;
    if (typeof latitude !== 'number' || typeof longitude !== 'number' || !Number.isFinite(latitude) || !Number.isFinite(longitude) ||
        Math.abs(latitude) > 90 || Math.abs(longitude) > 180) {
        return null;
    }
    return {latitude, longitude, label: typeof p.label === 'string' ? p.label : ''};
}

/** "48.8584° N, 2.2945° E", up to 4 decimals (about 10 m). */
export function formatCoordinates(latitude: number, longitude: number): string {
    const f = (v: number) => String(Number(Math.abs(v).toFixed(4)));
    return `${f(latitude)}° ${latitude < 0 ? 'S' : 'N'}, ${f(longitude)}° ${longitude < 0 ? 'W' : 'E'}`;
}

/** The post a /location command creates: the message is the fallback where the plugin is off. */
export function locationPost(channelId: string, rootId: string, loc: Location) {
    const coords = `${loc.latitude}, ${loc.longitude}`;
    return {
        channel_id: channelId,
        root_id: rootId,
        message: loc.label ? `📍 ${loc.label} (${coords})` : `📍 ${coords}`,
        type: 'custom_map_location' as const,
        props: {latitude: loc.latitude, longitude: loc.longitude, label: loc.label},
    };
}
