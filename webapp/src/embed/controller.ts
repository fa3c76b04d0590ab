// The embed frame's controller: everything the frame does that is not
// drawing. It talks to the host page (protocol.ts; only the page's own
// window, only from the app's allowed origins), holds the embed token in
// memory (a variable of this module: no cookie, no storage, never in a
// URL), fills the store the host's components read from the embed
// session's scope, follows the channel over the websocket, and reports
// events, heights and answers back to the page.
import type {Channel, ChannelMembership} from '@mattermost/types/channels';
import type {Post} from '@mattermost/types/posts';
import type {UserProfile} from '@mattermost/types/users';
import {ChannelTypes, PostTypes, PreferenceTypes, TeamTypes} from 'mattermost-redux/action_types';

import type {Host} from '../host';
import * as mm from '../mattermost/actions';
import {apiFetch, Client4} from '../mattermost/client';
import {dispatchToPlugins, runMessageWillBePostedHooks, runReconnectHandlers, type WebSocketMessage} from '../plugins/events';
import type {TeamManifest} from '../plugins/types';
import {pluginsActions} from '../store/plugins_slice';

import {isMessage, MARK, type ApiError, type EventName, type FrameMessage, type PageMessage, type PopupMessage} from './protocol';
import type {EmbedBoot} from './frame_boot';
import {embedTheme} from './theme';

/** What the frame page's config element says about this embed (server: embed_pages.go). */
export interface EmbedConfig {
    app: string;
    appName: string;
    channel: string;
    theme: string;
    accent: string;
    signin: 'backend' | 'popup';
    height: string;
    /** The channels a popup sign-in asks a token for (the element's channels attribute), else the channel shown. */
    channels: string[];
    /** The app's allowed origins: the only pages this frame talks to. */
    origins: string[];
}

/** GET /api/v1/embed/session. */
export interface EmbedSession {
    user: {id: string; username: string};
    app: {id: string; name: string};
    team: {id: string; name: string; display_name: string};
    channels: Array<{id: string; team_id: string; name: string; display_name: string}>;
    expires_at: number;
}

export type Phase = 'unframed' | 'waiting' | 'signin' | 'loading' | 'ready' | 'signedout';

export interface EmbedView {
    phase: Phase;
    /** Why the embed shows no channel (signed out, refused), for people. */
    notice: string;
    /** The root post of the thread open beside the channel, or ''. */
    thread: string;
    theme: string;
    accent: string;
}

/** A refused token twice in a row ends the session: the page's backend keeps giving bad ones. */
const maxTokenFailures = 2;

export class EmbedController {
    readonly cfg: EmbedConfig;
    private host: Host;
    private win: Window;
    private token = '';
    private tokenFailures = 0;
    private boot0: EmbedBoot | null = null; // what the boot script asked for with the first token
    private refused = ''; // the last token a 401 answered
    private refusedErr: ApiError = {code: 'embed_token_invalid', message: ''};
    /** The first screen's requests, sent with the first token alongside the session's (boot takes them). */
    private early: {me: Promise<UserProfile>; channel?: Promise<Channel>; member?: Promise<ChannelMembership>; posts?: Promise<unknown>} | null = null;
    private parentOrigin = '';
    private session: EmbedSession | null = null;
    private booted = false;
    private socketUp = false;
    private readySent = false;
    private popup: Window | null = null;
    private unread = new Map<string, number>();
    private viewed = new Set<string>(); // channels marked viewed since they were opened
    private view: EmbedView;
    private listeners = new Set<() => void>();
    private wsURL: string;

    constructor(host: Host, cfg: EmbedConfig, win: Window = window) {
        this.host = host;
        this.cfg = cfg;
        this.win = win;
        this.wsURL = host.config.siteURL.replace(/^http/, 'ws');
        this.view = {phase: win.parent === win ? 'unframed' : 'waiting', notice: '', thread: '', theme: cfg.theme, accent: cfg.accent};
    }

    // --- the view React reads (useSyncExternalStore) ---

    subscribe = (l: () => void) => {
        this.listeners.add(l);
        return () => this.listeners.delete(l);
    };

    getView = () => this.view;

    private set(v: Partial<EmbedView>) {
        this.view = {...this.view, ...v};
        this.listeners.forEach((l) => l());
    }

    // --- the page ---

    /**
     * Listens for the page and the popup, and takes over from the boot
     * script (frame_boot.ts), which said hello and kept what arrived since;
     * without it, says hello itself.
     */
    start() {
        this.applyTheme();
        this.guardFetch();
        this.win.addEventListener('message', (ev) => this.receive(ev));
        if (this.view.phase === 'unframed') {
            return;
        }
        const boot = (this.win as unknown as {mmtoolkitEmbedBoot?: {take(): EmbedBoot}}).mmtoolkitEmbedBoot?.take();
        if (boot) {
            this.boot0 = boot;
            boot.queue.forEach((ev) => this.receive(ev));
        } else {
            // The page's origin is not known yet: hello goes to each allowed
            // origin, and the browser delivers it only to the one the page has.
            for (const o of this.cfg.origins) {
                this.win.parent.postMessage({mmEmbed: MARK, type: 'hello'} satisfies FrameMessage, o);
            }
        }
        this.win.addEventListener('focus', () => this.seen());
        this.win.addEventListener('pointerdown', () => this.seen());
        this.win.document.addEventListener('visibilitychange', () => this.seen());
    }

    private toPage(msg: FrameMessage) {
        if (this.parentOrigin) {
            this.win.parent.postMessage(msg, this.parentOrigin);
        }
    }

    emit(name: EventName, detail: unknown) {
        // Plain data only: postMessage would turn an Error into one without its code.
        if (detail instanceof Error) {
            detail = toApiError(detail);
        }
        this.toPage({mmEmbed: MARK, type: 'event', name, detail});
    }

    reportHeight(height: number) {
        this.toPage({mmEmbed: MARK, type: 'height', height});
    }

    private receive(ev: MessageEvent) {
        if (!isMessage(ev.data)) {
            return;
        }
        if (this.popup && ev.source === this.popup && ev.origin === this.win.location.origin) {
            const m = ev.data as PopupMessage;
            if (m.type === 'token' && typeof m.token === 'string') {
                this.popup = null;
                this.useToken(m.token);
            }
            return;
        }
        // Only the page that holds this frame, and only if it is on one of the app's origins.
        if (ev.source !== this.win.parent || this.win.parent === this.win || !this.cfg.origins.includes(ev.origin)) {
            return;
        }
        const m = ev.data as PageMessage;
        if (!this.parentOrigin) {
            if (m.type !== 'init') {
                return;
            }
            this.parentOrigin = ev.origin;
        }
        if (ev.origin !== this.parentOrigin) {
            return;
        }
        switch (m.type) {
        case 'init':
            this.cfg.signin = m.signin === 'popup' || this.cfg.signin === 'popup' ? 'popup' : 'backend';
            if (this.cfg.signin === 'popup' && !this.token) {
                this.set({phase: 'signin'});
            }
            break;
        case 'token':
            if (this.cfg.signin === 'backend' && typeof m.token === 'string') {
                this.useToken(m.token);
            }
            break;
        case 'attrs':
            this.set({theme: m.theme, accent: m.accent});
            this.applyTheme();
            break;
        case 'call':
            this.call(m.id, m.method, Array.isArray(m.args) ? m.args : []);
            break;
        }
    }

    private async call(id: number, method: string, args: unknown[]) {
        const reply = (ok: boolean, result?: unknown, error?: ApiError) => this.toPage({mmEmbed: MARK, type: 'reply', id, ok, result, error});
        try {
            if (!this.session && method !== 'signOut') {
                throw embedError('embed_not_signed_in', 'the embed has no session yet: wait for mm-ready');
            }
            switch (method) {
            case 'openChannel':
                await this.openChannel(String(args[0] ?? ''));
                reply(true);
                return;
            case 'send':
                reply(true, await this.send(String(args[0] ?? '')));
                return;
            case 'signOut':
                this.signOut('Signed out.', true);
                reply(true);
                return;
            default:
                throw embedError('embed_unknown_method', `no method ${method}: the element has openChannel, send and signOut`);
            }
        } catch (e) {
            const err = toApiError(e);
            reply(false, undefined, err);
            this.emit('mm-error', err);
        }
    }

    // --- the popup sign-in ---

    /** Opens the sign-in popup (a click in the frame: browsers allow popups only from a gesture). */
    openSignin() {
        const channels = this.cfg.channels.length ? this.cfg.channels : [this.cfg.channel].filter(Boolean);
        const q = new URLSearchParams({app: this.cfg.app, channels: channels.join(',')});
        this.popup = this.win.open(`/embed/v1/signin?${q}`, 'mattermost-embed-signin', 'popup,width=480,height=640');
        if (!this.popup) {
            this.emit('mm-error', {code: 'embed_popup_blocked', message: 'the browser blocked the sign-in popup: allow popups for this page, then click Sign in again'});
        }
    }

    // --- the token and the session ---

    /**
     * Every request of the frame to this origin (the host's Client4, the
     * plugins' own fetches and XMLHttpRequests) goes without cookies and
     * with the embed token: an embed uses its token, never a Mattermost
     * session the browser may hold for mmtoolkit's origin, and a plugin
     * that relies on Mattermost's cookie still authenticates. A 401 whose
     * code says the token ended (expired, revoked, its session gone) makes
     * the frame ask for another; any other 401 is the caller's to handle.
     */
    private guardFetch() {
        const win = this.win;
        const orig = win.fetch.bind(win);
        const here = win.location.origin;
        win.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
            const req = new Request(input, init);
            if (new URL(req.url).origin !== here) {
                return orig(req);
            }
            const sent = this.token;
            const headers = new Headers(req.headers);
            if (sent && !headers.has('Authorization')) {
                headers.set('Authorization', `Bearer ${sent}`);
            }
            const r = await orig(new Request(req, {headers, credentials: 'omit'}));
            if (r.status === 401 && sent) {
                r.clone().json().catch(() => ({})).then((b: {error?: ApiError}) => this.maybeRefused(sent, b.error));
            }
            return r;
        };
        const xhr = (win as unknown as typeof globalThis).XMLHttpRequest.prototype;
        const {open, send, setRequestHeader} = xhr;
        const self = this;
        type Tagged = XMLHttpRequest & {mmSame?: boolean; mmAuth?: boolean};
        xhr.open = function (this: Tagged, method: string, url: string | URL, ...rest: unknown[]) {
            this.mmSame = new URL(String(url), win.location.href).origin === here;
            this.mmAuth = false;
            return (open as (...a: unknown[]) => void).call(this, method, url, ...rest);
        } as typeof xhr.open;
        xhr.setRequestHeader = function (this: Tagged, name: string, value: string) {
            if (name.toLowerCase() === 'authorization') {
                this.mmAuth = true;
            }
            return setRequestHeader.call(this, name, value);
        };
        xhr.send = function (this: Tagged, body?: Document | XMLHttpRequestBodyInit | null) {
            if (this.mmSame) {
                this.withCredentials = false;
                if (self.token && !this.mmAuth) {
                    setRequestHeader.call(this, 'Authorization', `Bearer ${self.token}`);
                }
            }
            return send.call(this, body);
        };
    }

    /** A 401 answered a request that carried token: if its code says the token ended, ask for another (once per token). */
    private maybeRefused(sent: string, error?: ApiError) {
        if (!error || !(error.code.startsWith('embed_token') || error.code === 'embed_session_ended')) {
            return;
        }
        if (sent !== this.token || sent === this.refused) {
            return; // the first screen's requests go out together: once
        }
        this.refused = sent;
        this.refusedErr = error;
        this.tokenRefused(error);
    }

    private async useToken(token: string) {
        if (token === this.refused) {
            this.tokenRefused(this.refusedErr); // the same token again: refused again, without asking
            return;
        }
        this.token = token;
        Client4.setToken(token);
        let session: Promise<EmbedSession> | undefined;
        if (!this.booted && !this.early) {
            // Whatever the session says, the frame shows its channel: ask
            // for it now rather than one round trip later (or take what the
            // boot script asked for with this token). Out of scope, the
            // server refuses these and boot reports it.
            const ch = this.cfg.channel;
            const quiet = <T>(p: Promise<T>) => {
                p.catch(() => undefined);
                return p;
            };
            const b: Partial<Record<string, Promise<unknown>>> = this.boot0?.token === token ? this.boot0.early : {};
            this.boot0 = null;
            const or = <T>(early: Promise<unknown> | undefined, ask: () => Promise<T>): Promise<T> => quiet(early ? (early as Promise<T>).catch(ask) : ask());
            session = b.session ? (b.session as Promise<EmbedSession>).catch(() => this.fetchSession()) : undefined;
            this.early = {me: or(b.me, () => Client4.getMe()), channel: ch ? or(b.channel, () => Client4.getChannel(ch)) : undefined,
                member: ch ? or(b.member, () => Client4.getMyChannelMember(ch)) : undefined, posts: ch ? or(b.posts, () => Client4.getPosts(ch, 0, 60)) : undefined};
        }
        try {
            const s = await (session ?? this.fetchSession());
            if (this.session && s.user.id !== this.session.user.id) {
                // Another user: start afresh (the store holds the old one's data).
                this.win.location.reload();
                return;
            }
            this.tokenFailures = 0;
            this.session = s;
            this.watchExpiry(token, s.expires_at);
            if (!this.booted) {
                this.booted = true;
                await this.boot(s);
            } else if (this.socketUp) {
                this.renewSocket();
            } else if (this.host.store.getState().entities.channels.currentChannelId) {
                // Back after a sign-out (the token had expired): live again.
                this.connectSocket();
                this.set({phase: 'ready', notice: ''});
            }
        } catch (e) {
            const err = toApiError(e);
            if (err.code.startsWith('embed_token') || err.code === 'embed_session_ended' || err.code === 'http_401') {
                return; // tokenRefused (through the fetch guard) handles it
            }
            this.emit('mm-error', err);
            this.set({phase: 'signedout', notice: err.message});
        }
    }

    /**
     * The token's end, when nothing renewed it: an idle embed makes no
     * request that a 401 could answer, so it would never notice. The
     * backend sign-in asks the page again; the popup's shows its button.
     */
    private watchExpiry(token: string, expiresAt: number) {
        clearTimeout(this.expiryTimer);
        const left = expiresAt - Date.now();
        if (!Number.isFinite(left)) {
            return;
        }
        this.expiryTimer = setTimeout(() => {
            if (this.token !== token || token === this.refused) {
                return;
            }
            this.refused = token;
            this.refusedErr = {code: 'embed_token_expired', message: 'the embed token expired: sign in again, or have the page\'s tokenProvider renew it before it expires'};
            this.emit('mm-error', this.refusedErr);
            this.signOut(this.refusedErr.message);
            if (this.cfg.signin === 'backend') {
                this.toPage({mmEmbed: MARK, type: 'token-needed'}); // a backend that recovers brings the embed back
            }
        }, Math.max(0, left) + 500);
    }

    private expiryTimer: ReturnType<typeof setTimeout> | undefined;

    private async fetchSession(): Promise<EmbedSession> {
        const r = await apiFetch('/api/v1/embed/session');
        const body = await r.json().catch(() => ({}));
        if (!r.ok) {
            throw Object.assign(new Error(body?.error?.message ?? `HTTP ${r.status}`), {code: body?.error?.code ?? `http_${r.status}`});
        }
        return body as EmbedSession;
    }

    private tokenRefused(err: ApiError) {
        this.emit('mm-error', err);
        this.tokenFailures++;
        if (this.cfg.signin === 'backend' && this.tokenFailures < maxTokenFailures) {
            this.toPage({mmEmbed: MARK, type: 'token-needed'});
            return;
        }
        this.signOut(err.message);
    }

    private signOut(notice: string, revoke = false) {
        clearTimeout(this.expiryTimer);
        if (revoke && this.token) {
            // DELETE /api/v1/embed/session: the token ends on the server too.
            apiFetch('/api/v1/embed/session', {method: 'delete'}).catch(() => undefined);
        }
        this.token = '';
        Client4.setToken('');
        if (this.socketUp) {
            this.host.mmSocket.close();
            this.socketUp = false;
        }
        this.set({phase: this.cfg.signin === 'popup' ? 'signin' : 'signedout', notice});
        this.emit('mm-signedout', {});
    }

    // --- the channel ---

    private async boot(s: EmbedSession) {
        const {store} = this.host;
        this.set({phase: 'loading'});
        const wanted = this.cfg.channel || s.channels[0]?.id || '';
        const inScope = s.channels.some((c) => c.id === wanted);
        // The first screen's requests at once (most went out with the session's).
        const early = this.early?.channel && wanted === this.cfg.channel ? this.early : null;
        const me = this.early?.me ?? Client4.getMe();
        this.early = null;
        const manifest = apiFetch(`/api/v1/manifest?team=${encodeURIComponent(s.team.id)}&platform=web`).
            then((r) => (r.ok ? r.json() as Promise<TeamManifest> : Promise.reject(new Error(`manifest: HTTP ${r.status}`))));
        const posts = inScope ? early?.posts ?? Client4.getPosts(wanted, 0, 60) : undefined;
        posts?.catch(() => undefined);
        manifest.catch(() => undefined);
        mm.receivedConfig(store.dispatch, {SiteURL: this.host.config.siteURL, PluginsEnabled: 'true', DiagnosticsEnabled: 'false'});
        const profile = await me as UserProfile;
        mm.receivedMe(store.dispatch, profile);
        mm.receivedServerVersion(store.dispatch, Client4.getServerVersion());
        store.dispatch({type: PreferenceTypes.RECEIVED_ALL_PREFERENCES, data: [this.themePreference(profile.id)]});
        const team = {id: s.team.id, name: s.team.name, display_name: s.team.display_name, type: 'O', delete_at: 0, allow_open_invite: false} as never;
        store.dispatch({type: TeamTypes.RECEIVED_TEAMS_LIST, data: [team]});
        store.dispatch({type: TeamTypes.RECEIVED_MY_TEAM_MEMBERS, data: [{team_id: s.team.id, user_id: profile.id, roles: 'team_user', delete_at: 0, scheme_user: true, scheme_admin: false}]});
        mm.selectTeam(store.dispatch, s.team.id);
        store.dispatch({type: ChannelTypes.RECEIVED_CHANNELS, teamId: s.team.id, data: s.channels.map((c) => partialChannel(c))});
        manifest.then((m) => this.host.loader.sync(s.team.id, m.plugins), (e) => {
            console.error(e); // eslint-disable-line no-console
            store.dispatch(pluginsActions.manifestLoaded({teamId: s.team.id, plugins: []}));
            store.dispatch(pluginsActions.settled(performance.now()));
        });
        this.connectSocket();
        if (!inScope) {
            const err = toApiError(embedError('embed_channel_not_allowed', `this embed token does not cover channel ${wanted}: the page's backend asks POST /api/v1/embed/tokens for the channels it shows`));
            this.emit('mm-error', err);
            this.set({phase: 'signedout', notice: err.message});
            return;
        }
        await this.showChannel(wanted, posts, early ?? undefined);
        this.set({phase: 'ready'});
    }

    /** Loads and selects a channel of the session (its posts from early when given). */
    private async showChannel(channelId: string, early?: Promise<unknown>, asked?: {channel?: Promise<Channel>; member?: Promise<ChannelMembership>}) {
        const {store} = this.host;
        const [channel, member] = await Promise.all([
            (asked?.channel ?? Client4.getChannel(channelId)).catch(() => undefined),
            (asked?.member ?? Client4.getMyChannelMember(channelId)).catch(() => undefined),
        ]);
        if (channel) {
            store.dispatch({type: ChannelTypes.RECEIVED_CHANNEL, data: channel});
        }
        store.dispatch({type: ChannelTypes.RECEIVED_MY_CHANNEL_MEMBER, data: member ?? {channel_id: channelId, user_id: store.getState().entities.users.currentUserId,
            roles: 'channel_user', last_viewed_at: 0, msg_count: 0, mention_count: 0, notify_props: {}, last_update_at: 0} as unknown as ChannelMembership});
        mm.selectChannel(store.dispatch, channelId);
        this.viewed.delete(channelId);
        const earlyPosts = early ? (early as Promise<never>).then((p) => ({channelId, posts: p})) : undefined;
        await mm.loadPosts(store, channelId, earlyPosts as mm.EarlyPosts | undefined);
        this.set({thread: ''});
        this.seen();
    }

    async openChannel(channelId: string) {
        if (!this.session?.channels.some((c) => c.id === channelId)) {
            throw embedError('embed_channel_not_allowed', `this embed token does not cover channel ${channelId}: the page's backend asks POST /api/v1/embed/tokens for the channels it shows`);
        }
        await this.showChannel(channelId);
        this.set({phase: 'ready'});
    }

    /** Posts in the current channel (or thread root), through the plugins' message-will-be-posted hooks. */
    async send(message: string, rootId = ''): Promise<{post_id: string}> {
        const text = message.trim();
        const state = this.host.store.getState();
        const channelId = state.entities.channels.currentChannelId;
        if (!text) {
            throw embedError('embed_empty_message', 'send needs a message with some text');
        }
        const userId = state.entities.users.currentUserId;
        const draft = {channel_id: channelId, message: text, user_id: userId, root_id: rootId, props: {}, pending_post_id: `${userId}:${Date.now()}`, create_at: 0} as unknown as Post;
        const res = await runMessageWillBePostedHooks(this.host.slots, this.host.report, draft);
        if ('error' in res) {
            throw embedError('embed_post_rejected', res.error.message);
        }
        const created = await Client4.createPost(res.post);
        mm.receivedNewPost(this.host.store.dispatch, created);
        return {post_id: created.id};
    }

    /** The posts of a thread (GET /api/v4/posts/{id}/thread). */
    async openThread(rootId: string) {
        this.set({thread: rootId});
        const list = await Client4.getPostThread(rootId, false);
        this.host.store.dispatch({type: PostTypes.RECEIVED_POSTS, data: list});
        mm.loadMissingProfiles(this.host.store, Object.values(list.posts).map((p) => p.user_id)).catch(() => undefined);
    }

    closeThread() {
        this.set({thread: ''});
    }

    /** The first posts are on screen: mm-ready, once. */
    drawn() {
        if (this.readySent || !this.session) {
            return;
        }
        this.readySent = true;
        performance.mark('mmtoolkit:embed-drawn');
        const state = this.host.store.getState();
        this.emit('mm-ready', {channel_id: state.entities.channels.currentChannelId, team_id: this.session.team.id, user_id: this.session.user.id});
    }

    // --- live ---

    private connectSocket() {
        if (this.socketUp) {
            return;
        }
        this.socketUp = true;
        const sock = this.host.mmSocket;
        if (!this.socketListening) {
            this.socketListening = true;
            sock.addMessageListener(((m: WebSocketMessage) => this.onEvent(m)) as never);
            const resync = () => this.resync();
            sock.addReconnectListener(() => {
                resync();
                runReconnectHandlers(this.host.slots, this.host.report);
            });
            // A reconnect is a new relay (the old one ended with its token),
            // whose hello starts a new sequence: Mattermost's client resets
            // its sequence only when this listener is set, and otherwise
            // drops every new connection as out of sequence (4001).
            sock.addMissedMessageListener(resync);
        }
        // The client keeps the token it is given for its reconnects; this
        // one serialises to the token of the moment, so a reconnect after
        // a refresh authenticates with the new token.
        const current = {toJSON: () => this.token};
        // The embed's websocket (server/embed_websocket.go): the token goes in
        // the authentication challenge, never in the URL.
        sock.initialize(`${this.wsURL}/api/v1/embed/websocket`, current as unknown as string);
    }

    /**
     * Posts made while no socket listened (before the first one's hello,
     * or while it was down): loaded again, and announced to the page as if
     * they had arrived live.
     */
    private async resync() {
        const {store} = this.host;
        const ch = store.getState().entities.channels.currentChannelId;
        if (!ch || !this.token) {
            return;
        }
        const before = store.getState().entities.posts.posts;
        const list = await mm.loadPosts(store, ch).catch(() => null);
        for (const id of [...(list?.order ?? [])].reverse()) {
            if (!before[id]) {
                this.announce(list!.posts[id]);
            }
        }
    }

    /**
     * A renewed token: the server ends a relay when the token it was
     * opened with expires, so open a new one now, on the new token, rather
     * than lose the events of the seconds a reconnect takes then.
     */
    private renewSocket() {
        if (!this.socketUp) {
            return;
        }
        this.host.mmSocket.close();
        this.socketUp = false;
        this.connectSocket();
    }

    /** A new post of the token's channels: mm-message, and mm-unread when the reader is not looking. Once per post. */
    private announce(post: Post) {
        if (this.announced.has(post.id)) {
            return;
        }
        this.announced.add(post.id);
        const {store} = this.host;
        this.emit('mm-message', {channel_id: post.channel_id, post_id: post.id, user_id: post.user_id, root_id: post.root_id || '', message: post.message});
        const me = store.getState().entities.users.currentUserId;
        const current = store.getState().entities.channels.currentChannelId;
        const looking = post.channel_id === current && !this.win.document.hidden && this.win.document.hasFocus();
        if (post.user_id !== me && !looking) {
            const n = (this.unread.get(post.channel_id) ?? 0) + 1;
            this.unread.set(post.channel_id, n);
            this.emit('mm-unread', {channel_id: post.channel_id, count: n});
        }
    }

    private announced = new Set<string>();

    private socketListening = false;

    private onEvent(msg: WebSocketMessage) {
        const {store} = this.host;
        const d = msg.data ?? {};
        try {
            switch (msg.event) {
            case 'posted': {
                const post = JSON.parse(String(d.post)) as Post;
                if (!this.session?.channels.some((c) => c.id === post.channel_id)) {
                    return; // not ours (the server filters; this is the second check)
                }
                mm.receivedNewPost(store.dispatch, post);
                mm.loadMissingProfiles(store, [post.user_id]).catch(() => undefined);
                this.announce(post);
                break;
            }
            case 'post_edited':
                mm.receivedPost(store.dispatch, JSON.parse(String(d.post)) as Post);
                break;
            case 'post_deleted':
                mm.postDeleted(store.dispatch, JSON.parse(String(d.post)) as Post);
                break;
            case 'hello':
                mm.receivedServerVersion(store.dispatch, String(d.server_version ?? ''));
                // A post made between the first posts' load and this
                // socket's start reached no listener: fetch it now.
                this.resync();
                break;
            }
        } catch (e) {
            console.error('websocket event', msg.event, e); // eslint-disable-line no-console
        }
        dispatchToPlugins(this.host.slots, this.host.report, msg);
    }

    /** The reader is looking at the current channel: its unread count is 0, and Mattermost hears it was viewed. */
    seen() {
        const ch = this.host.store.getState().entities.channels.currentChannelId;
        if (!ch || this.win.document.hidden || !this.token) {
            return;
        }
        const had = this.unread.get(ch) ?? 0;
        if (had > 0 || !this.viewed.has(ch)) {
            this.viewed.add(ch);
            this.unread.set(ch, 0);
            Client4.viewMyChannel(ch).catch(() => undefined);
        }
        if (had > 0) {
            this.emit('mm-unread', {channel_id: ch, count: 0});
        }
    }

    // --- theme ---

    private themePreference(userId: string) {
        return {user_id: userId, category: 'theme', name: '', value: JSON.stringify(embedTheme(this.view.theme, this.view.accent))};
    }

    private applyTheme() {
        const doc = this.win.document.documentElement;
        doc.dataset.theme = this.view.theme === 'dark' ? 'dark' : 'light';
        const userId = this.host.store.getState().entities.users.currentUserId;
        if (userId) {
            this.host.store.dispatch({type: PreferenceTypes.RECEIVED_PREFERENCES, data: [this.themePreference(userId)]});
        }
    }
}

/** A channel of the session as the store's Channel, until GET /api/v4/channels/{id} fills it in. */
function partialChannel(c: EmbedSession['channels'][number]): Channel {
    return {id: c.id, team_id: c.team_id, name: c.name, display_name: c.display_name, type: 'O', header: '', purpose: '', delete_at: 0,
        create_at: 0, update_at: 0, last_post_at: 0, last_root_post_at: 0, creator_id: '', scheme_id: '', group_constrained: false} as unknown as Channel;
}

function embedError(code: string, message: string): Error & ApiError {
    return Object.assign(new Error(message), {code, message});
}

/** Any error as {code, message}: ours, Client4's (status_code, server_error_id), or anything thrown. */
export function toApiError(e: unknown): ApiError {
    const x = e as {code?: unknown; message?: unknown; status_code?: number; server_error_id?: string};
    if (typeof x?.code === 'string' && x.code) {
        return {code: x.code, message: String(x.message ?? '')};
    }
    if (typeof x?.status_code === 'number') {
        return {code: x.status_code === 403 ? 'embed_scope' : x.server_error_id || `http_${x.status_code}`, message: String(x.message || `HTTP ${x.status_code}`)};
    }
    return {code: 'embed_error', message: String(x?.message ?? e)};
}
