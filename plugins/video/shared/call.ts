// What the web and mobile parts share: the custom_video_call post's props
// (docs/sandbox.md fixes their shape), the routes the plugin calls, and small
// pure helpers. No React, no DOM, no React Native here.

export const PLUGIN_ID = 'mmtoolkit.video';
export const POST_TYPE = 'custom_video_call';

/** Mattermost REST through mmtoolkit's plugin proxy (declared in plugin.json `proxy`). */
export const PROXY = `/api/v1/plugins/${PLUGIN_ID}/proxy/api/v4`;
/** mmtoolkit's plugin events: custom_<id>_<event> to a channel's members. */
export const EVENTS = `/api/v1/plugins/${PLUGIN_ID}/events`;
/** The plugin's KV store (team-scoped settings such as ICE servers). */
export const KV = `/api/v1/plugins/${PLUGIN_ID}/kv`;

/** The websocket event name the host dispatches for one of our events. */
export const wsEvent = (event: SignalEvent) => `custom_${PLUGIN_ID}_${event}`;

/** Every event the plugin sends (a-z, 0-9, _ only: the server's rule). */
export type SignalEvent = 'join' | 'leave' | 'offer' | 'answer' | 'ice' | 'media' | 'roll_call' | 'here';
export const SIGNAL_EVENTS: readonly SignalEvent[] = ['join', 'leave', 'offer', 'answer', 'ice', 'media', 'roll_call', 'here'];

/** props of a custom_video_call post. A running call has no ended_at. */
export interface CallProps {
    call_id: string;
    started_by: string;
    started_at: number;
    participants: string[];
    ended_at?: number;
}

/**
 * Reads a post's props defensively: posts come from the server and other
 * clients, so anything may be missing or of the wrong type. Returns null
 * when the post is not a readable call.
 */
export function parseCall(props: unknown): CallProps | null {
    if (!props || typeof props !== 'object') {
        return null;
    }
    const p = props as Record<string, unknown>;
    if (typeof p.call_id !== 'string' || !p.call_id) {
        return null;
    }
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);
    const startedAt = num(p.started_at);
    if (startedAt === undefined) {
        return null;
    }
    const participants = Array.isArray(p.participants) ? p.participants.filter((u): u is string => typeof u === 'string' && u !== '') : [];
    const call: CallProps = {
        call_id: p.call_id,
        started_by: typeof p.started_by === 'string' ? p.started_by : '',
        started_at: startedAt,
        participants: [...new Set(participants)],
    };
    const endedAt = num(p.ended_at);
    if (endedAt !== undefined) {
        call.ended_at = endedAt;
    }
    return call;
}

/** A new id in Mattermost's format: 26 characters of [a-z0-9]. */
export function newId(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
    const alphabet = 'ybndrfg8ejkmcpqxot1uwisza345h769'; // Mattermost's (z-base-32)
    const bytes = random(new Uint8Array(26));
    let out = '';
    for (const b of bytes) {
        out += alphabet[b & 31];
    }
    return out;
}

/** 0:42, 12:05, 1:02:03: a call's length as a clock shows it. */
export function formatDuration(ms: number): string {
    const total = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    const pad = (n: number) => String(n).padStart(2, '0');
    return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

/** A theme colour (#rgb, #rrggbb or rgb()) at an opacity, as Mattermost's changeOpacity. */
export function alpha(color: string, opacity: number): string {
    let r = 0;
    let g = 0;
    let b = 0;
    const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
    const rgb = /^rgba?\((\d+),\s*(\d+),\s*(\d+)/i.exec(color.trim());
    if (hex) {
        const h = hex[1].length === 3 ? hex[1].split('').map((c) => c + c).join('') : hex[1];
        r = parseInt(h.slice(0, 2), 16);
        g = parseInt(h.slice(2, 4), 16);
        b = parseInt(h.slice(4, 6), 16);
    } else if (rgb) {
        [r, g, b] = [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])];
    } else {
        return color;
    }
    return `rgba(${r},${g},${b},${opacity})`;
}

/** Props with one more participant (order of joining kept). */
export function withParticipant(call: CallProps, userId: string): CallProps {
    return call.participants.includes(userId) ? call : {...call, participants: [...call.participants, userId]};
}
