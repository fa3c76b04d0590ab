// embed.js: the script a host page adds to show a Mattermost channel,
// served at /embed/v1/embed.js. It defines <mattermost-channel>, whose
// closed shadow root holds only an iframe of mmtoolkit's embed frame
// (/embed/v1/frame, on mmtoolkit's origin). The iframe, not this script,
// is the isolation: the channel's DOM, the plugins' globals and the embed
// token live on another origin, out of the page's reach. This script only
// passes messages: the backend's token in, events and heights out.
//
// No React, no imports but the protocol: it must stay a few KB.
import type {EmbedToken, EmbedTokenProvider, MattermostChannelElement} from './embed';
import {EVENTS, isMessage, MARK, refreshDelay, type ApiError, type FrameMessage, type Method, type PageMessage} from './protocol';

// mmtoolkit's origin: where this script came from (the frame is on it).
const scriptOrigin = (() => {
    const s = document.currentScript as HTMLScriptElement | null;
    try {
        return s?.src ? new URL(s.src).origin : '';
    } catch {
        return '';
    }
})();

/** How long the frame may take to say hello before the element reports it unreachable. */
const helloTimeoutMs = 20_000;

const style = ':host{display:block;position:relative;min-height:120px}:host([height="auto"]){min-height:0}' +
    'iframe{display:block;width:100%;height:100%;border:0;color-scheme:normal}';

export class EmbedElement extends HTMLElement implements MattermostChannelElement {
    static get observedAttributes() {
        return ['theme', 'accent', 'channel'];
    }

    // #private fields: the page's script cannot read them (no token is kept here anyway).
    #root: ShadowRoot | null = null;
    #frame: HTMLIFrameElement | null = null;
    #origin = '';
    #provider: EmbedTokenProvider | null = null;
    #ready = false; // the frame said hello and was answered
    #refresh: ReturnType<typeof setTimeout> | undefined;
    #helloTimer: ReturnType<typeof setTimeout> | undefined;
    #calls = new Map<number, {resolve: (v: unknown) => void; reject: (e: Error) => void}>();
    #nextCall = 1;
    #asking = false;
    // A token the provider gave before the frame said hello: handed over
    // then. Asking at once overlaps the page's backend round trip with the
    // frame's download.
    #pending: EmbedToken | null = null;
    #channel = '';
    #onMessage = (ev: MessageEvent) => this.#receive(ev);

    /**
     * An async function returning a token from the page's backend
     * (POST /api/v1/embed/tokens): called when the frame is ready and again
     * before the token expires.
     */
    get tokenProvider(): EmbedTokenProvider | null {
        return this.#provider;
    }

    set tokenProvider(fn: EmbedTokenProvider | null) {
        this.#provider = typeof fn === 'function' ? fn : null;
        if (this.#provider && this.#frame && this.getAttribute('signin') !== 'popup') {
            this.#askToken();
        }
    }

    /** The channel shown (its id). */
    get channel(): string {
        return this.#channel || this.getAttribute('channel') || '';
    }

    connectedCallback() {
        if (this.#frame) {
            return;
        }
        // Once per element: moved in the page, it keeps its root and gets a new frame.
        this.#root ??= this.attachShadow({mode: 'closed'});
        const root = this.#root;
        root.replaceChildren();
        const css = document.createElement('style');
        css.textContent = style;
        const base = this.getAttribute('server') || scriptOrigin;
        let origin = '';
        try {
            origin = new URL(base).origin;
        } catch {
            // reported below
        }
        this.#origin = origin;
        const app = this.getAttribute('app') || '';
        if (!origin || !app) {
            queueMicrotask(() => this.#emit('mm-error', {code: 'embed_misconfigured',
                message: 'mattermost-channel needs an app attribute (the embedding app\'s id) and must be loaded from mmtoolkit\'s /embed/v1/embed.js (or given a server attribute)'}));
            return;
        }
        const q = new URLSearchParams({app, channel: this.getAttribute('channel') || ''});
        for (const a of ['theme', 'accent', 'signin', 'height', 'channels']) {
            const v = this.getAttribute(a);
            if (v) {
                q.set(a, v);
            }
        }
        const frame = document.createElement('iframe');
        frame.title = this.getAttribute('title') || 'Mattermost channel';
        // Popups for the sign-in flow; nothing else is granted beyond what a
        // cross-origin frame has.
        frame.allow = 'clipboard-write; microphone; camera; display-capture; autoplay';
        frame.referrerPolicy = 'origin';
        frame.src = `${origin}/embed/v1/frame?${q}`;
        window.addEventListener('message', this.#onMessage);
        root.append(css, frame);
        this.#frame = frame;
        if (this.#provider && this.getAttribute('signin') !== 'popup') {
            this.#askToken();
        }
        this.#helloTimer = setTimeout(() => this.#emit('mm-error', {code: 'embed_frame_unavailable',
            message: `the embed frame from ${origin} did not answer within ${helloTimeoutMs / 1000} s: check that this page's origin (${location.origin}) is among the app's allowed origins (mmtoolkit's console, Embedding), which the browser needs to show the frame, and that ${origin} is reachable`}), helloTimeoutMs);
    }

    disconnectedCallback() {
        window.removeEventListener('message', this.#onMessage);
        clearTimeout(this.#refresh);
        clearTimeout(this.#helloTimer);
        for (const c of this.#calls.values()) {
            c.reject(new Error('the element was removed from the page'));
        }
        this.#calls.clear();
        this.#frame?.remove();
        this.#frame = null;
        this.#ready = false;
        this.#pending = null;
    }

    attributeChangedCallback(name: string, old: string | null, value: string | null) {
        if (!this.#ready || old === value) {
            return;
        }
        if (name === 'channel') {
            if (value && value !== this.#channel) {
                this.openChannel(value).catch(() => undefined); // reported as mm-error
            }
            return;
        }
        this.#post({mmEmbed: MARK, type: 'attrs', theme: this.getAttribute('theme') || '', accent: this.getAttribute('accent') || ''});
    }

    /** Shows another of the token's channels. Rejects (and fires mm-error) when the token does not cover it. */
    openChannel(channelId: string): Promise<void> {
        return this.#call('openChannel', [channelId]).then(() => {
            this.#channel = channelId;
        });
    }

    /** Posts a message in the channel shown, as the signed-in user; resolves with the new post's id. */
    send(message: string): Promise<{post_id: string}> {
        return this.#call('send', [message]) as Promise<{post_id: string}>;
    }

    /** Forgets the token in the frame; mm-signedout follows. */
    signOut(): Promise<void> {
        clearTimeout(this.#refresh);
        return this.#call('signOut', []).then(() => undefined);
    }

    #call(method: Method, args: unknown[]): Promise<unknown> {
        if (!this.#ready) {
            return Promise.reject(new Error('the embed is not ready yet: wait for its mm-ready event'));
        }
        const id = this.#nextCall++;
        return new Promise((resolve, reject) => {
            this.#calls.set(id, {resolve, reject});
            this.#post({mmEmbed: MARK, type: 'call', id, method, args});
        });
    }

    #post(msg: PageMessage) {
        // Only ever to mmtoolkit's origin: if the frame navigated elsewhere, nothing is delivered.
        this.#frame?.contentWindow?.postMessage(msg, this.#origin);
    }

    #emit(name: string, detail: unknown) {
        this.dispatchEvent(new CustomEvent(name, {detail, bubbles: true, composed: true}));
    }

    #receive(ev: MessageEvent) {
        if (!this.#frame || ev.source !== this.#frame.contentWindow || ev.origin !== this.#origin || !isMessage(ev.data)) {
            return;
        }
        const msg = ev.data as FrameMessage;
        switch (msg.type) {
        case 'hello':
            clearTimeout(this.#helloTimer);
            this.#ready = true;
            this.#post({mmEmbed: MARK, type: 'init', signin: this.getAttribute('signin') === 'popup' ? 'popup' : 'backend'});
            if (this.#pending) {
                this.#post({mmEmbed: MARK, type: 'token', token: this.#pending.token, expires_at: this.#pending.expires_at});
                this.#pending = null;
            } else if (this.#provider && this.getAttribute('signin') !== 'popup') {
                this.#askToken(); // a frame that said hello again (reloaded) needs one again
            }
            break;
        case 'token-needed':
            clearTimeout(this.#refresh);
            if (this.#provider) {
                this.#askToken();
            }
            break;
        case 'height':
            if (this.getAttribute('height') === 'auto' && Number.isFinite(msg.height)) {
                this.#frame.style.height = `${Math.ceil(msg.height)}px`;
            }
            break;
        case 'reply': {
            const c = this.#calls.get(msg.id);
            if (c) {
                this.#calls.delete(msg.id);
                if (msg.ok) {
                    c.resolve(msg.result);
                } else {
                    const e = msg.error ?? {code: 'embed_error', message: 'the embed refused the call'};
                    c.reject(Object.assign(new Error(e.message), {code: e.code}));
                }
            }
            break;
        }
        case 'event':
            if ((EVENTS as readonly string[]).includes(msg.name)) {
                if (msg.name === 'mm-ready') {
                    this.#channel = String((msg.detail as {channel_id?: string})?.channel_id ?? this.#channel);
                }
                this.#emit(msg.name, msg.detail);
            }
            break;
        }
    }

    /** Asks the page's tokenProvider, hands the token to the frame, and plans the next ask. */
    async #askToken() {
        const provider = this.#provider;
        if (!provider || this.#asking) {
            return;
        }
        this.#asking = true;
        clearTimeout(this.#refresh);
        try {
            const t: EmbedToken = await provider();
            if (!t || typeof t.token !== 'string' || !Number.isFinite(t.expires_at)) {
                throw Object.assign(new Error('the tokenProvider must resolve to {token, expires_at}, as POST /api/v1/embed/tokens answers'), {code: 'embed_token_provider'});
            }
            if (this.#ready) {
                this.#post({mmEmbed: MARK, type: 'token', token: t.token, expires_at: t.expires_at});
            } else {
                this.#pending = {token: t.token, expires_at: t.expires_at};
            }
            this.#refresh = setTimeout(() => this.#askToken(), refreshDelay(t.expires_at, Date.now()));
        } catch (e) {
            const err: ApiError = {code: (e as {code?: string}).code || 'embed_token_provider', message: (e as Error)?.message || String(e)};
            this.#emit('mm-error', err);
        } finally {
            this.#asking = false;
        }
    }
}

if (!customElements.get('mattermost-channel')) {
    customElements.define('mattermost-channel', EmbedElement);
}
