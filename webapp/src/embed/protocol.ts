// The postMessage protocol between the host page's element (element.ts, in
// embed.js) and the embed frame (frame.tsx, on mmtoolkit's origin), and
// between the sign-in popup (signin.ts) and the frame. Every message is a
// plain object with mmEmbed: 1 and a type; each side also checks who sent
// it (event.source) and from where (event.origin) before reading it.
//
// No imports: embed.js includes this file and must stay tiny.

/** The marker every message carries, so other postMessage traffic on the page is ignored. */
export const MARK = 1;

/** Events the element dispatches (DOM CustomEvents), as embed.d.ts types them. */
export const EVENTS = ['mm-ready', 'mm-message', 'mm-unread', 'mm-signedout', 'mm-error'] as const;
export type EventName = typeof EVENTS[number];

/** Methods of the element's JS API the frame carries out. */
export type Method = 'openChannel' | 'send' | 'signOut';

export interface ApiError {
    code: string;
    message: string;
}

/** Frame -> host page (targetOrigin: the page's origin, one of the app's allowed origins). */
export type FrameMessage =
    | {mmEmbed: 1; type: 'hello'}
    | {mmEmbed: 1; type: 'event'; name: EventName; detail: unknown}
    | {mmEmbed: 1; type: 'height'; height: number}
    | {mmEmbed: 1; type: 'reply'; id: number; ok: boolean; result?: unknown; error?: ApiError}
    /** The token expired or was refused: the element asks its tokenProvider again. */
    | {mmEmbed: 1; type: 'token-needed'};

/** Host page -> frame (targetOrigin: mmtoolkit's origin). */
export type PageMessage =
    | {mmEmbed: 1; type: 'init'; signin: 'backend' | 'popup'}
    | {mmEmbed: 1; type: 'token'; token: string; expires_at: number}
    | {mmEmbed: 1; type: 'call'; id: number; method: Method; args: unknown[]}
    | {mmEmbed: 1; type: 'attrs'; theme: string; accent: string};

/** Sign-in popup -> frame (same origin: mmtoolkit's). */
export type PopupMessage = {mmEmbed: 1; type: 'token'; token: string; expires_at: number};

export function isMessage(data: unknown): data is {mmEmbed: 1; type: string} {
    return typeof data === 'object' && data !== null && (data as {mmEmbed?: unknown}).mmEmbed === MARK &&
        typeof (data as {type?: unknown}).type === 'string';
}

/**
 * When to ask for a new token: a minute before expiry, or at 60 % of a
 * lifetime under two and a half minutes (a busy backend still answers in
 * time), never sooner than 5 s from now (a clock skew between the page and
 * mmtoolkit must not turn into a request loop).
 */
export function refreshDelay(expiresAt: number, now: number): number {
    const left = expiresAt - now;
    return Math.max(5000, left - 60_000, left * 0.6);
}
