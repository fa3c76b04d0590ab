// Types of mmtoolkit's embed script (/embed/v1/embed.js): the
// <mattermost-channel> element, its JS API and its events. Served at
// /embed/v1/embed.d.ts; copy it into a TypeScript project that embeds a
// channel. docs/embed.md has the guide.

/** What POST /api/v1/embed/tokens answers (201); a tokenProvider resolves to it (token and expires_at at least). */
export interface EmbedToken {
    /** mmte_…: short-lived, scoped to the app's user and channels. */
    token: string;
    /** Unix milliseconds. The element asks for a new token a minute before. */
    expires_at: number;
    user_id?: string;
    team_id?: string;
    channels?: Array<{id: string; team_id: string; name: string; display_name: string}>;
}

/** Called when the embed is ready and again before each token expires; calls the page's own backend. */
export type EmbedTokenProvider = () => Promise<EmbedToken>;

/** mm-ready: the channel's first posts are drawn. */
export interface EmbedReadyDetail {
    channel_id: string;
    team_id: string;
    user_id: string;
}

/** mm-message: a new post in one of the token's channels (also the user's own). */
export interface EmbedMessageDetail {
    channel_id: string;
    post_id: string;
    user_id: string;
    /** The thread's root post id, '' for a post in the channel. */
    root_id: string;
    message: string;
}

/** mm-unread: posts by others the reader has not seen in a channel; 0 once they look. */
export interface EmbedUnreadDetail {
    channel_id: string;
    count: number;
}

/** mm-error: what went wrong, with mmtoolkit's stable error code (embed_token_expired, embed_channel_not_allowed, …). */
export interface EmbedErrorDetail {
    code: string;
    message: string;
}

export interface MattermostChannelEventMap extends HTMLElementEventMap {
    'mm-ready': CustomEvent<EmbedReadyDetail>;
    'mm-message': CustomEvent<EmbedMessageDetail>;
    'mm-unread': CustomEvent<EmbedUnreadDetail>;
    'mm-signedout': CustomEvent<Record<string, never>>;
    'mm-error': CustomEvent<EmbedErrorDetail>;
}

/**
 * <mattermost-channel app="APP_ID" channel="CHANNEL_ID" theme="light|dark"
 * accent="#RRGGBB" [height="auto"] [signin="popup" [channels="ID,ID"]] [server="https://mmtoolkit.example"]>
 */
export interface MattermostChannelElement extends HTMLElement {
    /** Your backend's token exchange (signin="backend", the default). */
    tokenProvider: EmbedTokenProvider | null;
    /** The id of the channel shown. */
    readonly channel: string;
    /** Shows another channel the token covers; rejects with {code: 'embed_channel_not_allowed'} otherwise. */
    openChannel(channelId: string): Promise<void>;
    /** Posts a message in the channel shown, as the signed-in user. */
    send(message: string): Promise<{post_id: string}>;
    /** Forgets the token in the frame; mm-signedout follows. */
    signOut(): Promise<void>;
    addEventListener<K extends keyof MattermostChannelEventMap>(type: K, listener: (this: MattermostChannelElement, ev: MattermostChannelEventMap[K]) => unknown, options?: boolean | AddEventListenerOptions): void;
    addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
    removeEventListener<K extends keyof MattermostChannelEventMap>(type: K, listener: (this: MattermostChannelElement, ev: MattermostChannelEventMap[K]) => unknown, options?: boolean | EventListenerOptions): void;
    removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

declare global {
    interface HTMLElementTagNameMap {
        'mattermost-channel': MattermostChannelElement;
    }
}
