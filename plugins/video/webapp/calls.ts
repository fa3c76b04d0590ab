// The plugin's runtime in one tab: the host's store, the call this tab is
// in (at most one), the keeper of the posts this user started, and a notice
// for errors that happen outside a call (the post could not be created).
// Components subscribe with useSyncExternalStore; nothing here is in Redux
// because MediaStreams and RTCPeerConnections are not serialisable state.
import type {Channel, PluginStore, Post} from '@mmtoolkit/webapp';

import {newId, parseCall, type CallProps, type SignalEvent} from '../shared/call';

import {CallSession, type CallInfo, type EventData} from './call_session';
import {createCallPost, getIceServers, RequestError} from './client';
import {Keeper} from './keeper';

export interface Notice {
    id: string;
    values?: Record<string, string>;
}

export class Calls {
    private store: PluginStore | null = null;
    private session: CallSession | null = null;
    private notice: Notice | null = null;
    private readonly listeners = new Set<() => void>();
    private version = 0;
    readonly keeper = new Keeper(() => this.me(), (callId) => this.session?.info.callId === callId && this.session.open);

    attach(store: PluginStore) {
        this.store = store;
        window.addEventListener('pagehide', this.onPagehide);
    }

    /** uninitialize: the plugin was disabled or replaced; leave any call. */
    detach() {
        window.removeEventListener('pagehide', this.onPagehide);
        this.session?.leave();
        this.session = null;
        this.keeper.stop();
        this.store = null;
        this.changed();
    }

    private onPagehide = () => {
        // Best effort: a keepalive request that outlives the tab.
        this.session?.leave(true);
    };

    subscribe = (l: () => void) => {
        this.listeners.add(l);
        return () => {
            this.listeners.delete(l);
        };
    };

    /** Changes when the session or the notice changes (not on every peer event). */
    getVersion = () => this.version;

    private changed() {
        this.version++;
        this.listeners.forEach((l) => l());
    }

    get current(): CallSession | null {
        return this.session;
    }

    get currentNotice(): Notice | null {
        return this.notice;
    }

    dismissNotice() {
        this.notice = null;
        this.changed();
    }

    getState() {
        return this.store?.getState();
    }

    /** The host store's subscribe, for useSyncExternalStore selectors. */
    subscribeStore = (l: () => void) => this.store?.subscribe(l) ?? (() => undefined);

    dispatchToStore(action: {type: string; data: unknown}) {
        this.store?.dispatch(action);
    }

    me(): string {
        return this.store?.getState().entities.users.currentUserId ?? '';
    }

    /** Routes one of our websocket events to the call and the keeper. */
    dispatch(event: SignalEvent, msg: {data: unknown; broadcast: {sender_id?: string; channel_id?: string}}) {
        const data = (msg.data && typeof msg.data === 'object' ? msg.data : {}) as EventData;
        const sender = msg.broadcast?.sender_id ?? '';
        this.session?.handle(event, data, sender);
        this.keeper.handle(event, data, sender, msg.broadcast?.channel_id ?? '');
    }

    /** The call button: a new call post in the channel, then join it. */
    async startCall(channel: Channel, message: string) {
        if (this.session?.active) {
            this.setNotice({id: 'mmtoolkit.video.error.already'});
            return;
        }
        const me = this.me();
        const props: CallProps = {call_id: newId(), started_by: me, started_at: Date.now(), participants: [me]};
        // Mark the call as ours before the post exists: the post renderer must
        // not take it for a call everybody left (keeper.checkStale).
        const pending = new CallSession(this.info(channel, '', props), me, async () => [], () => undefined, () => undefined);
        this.session = pending;
        let post: Post;
        try {
            post = await createCallPost(channel.id, message, props);
        } catch (e) {
            this.session = null;
            this.setNotice({id: 'mmtoolkit.video.error.post', values: {message: e instanceof RequestError ? e.message : String(e)}});
            return;
        }
        // The placeholder hands over to the real session with no await in
        // between (enter is synchronous up to start()): the tab never
        // stops answering roll calls for its new call.
        this.session = null;
        await this.enter(post, channel);
    }

    /** The Join button of a call post. */
    join(post: Post, channel?: Channel) {
        return this.enter(post, channel);
    }

    /**
     * Makes the tab's session for the call synchronously, then starts it.
     * Nothing may be awaited before `this.session` is set: a roll call
     * arriving in such a gap finds no session, gets no answer from this
     * tab, and may end the call (it did: a second tab of the starter ended
     * every new call while the first waited for its ICE servers).
     */
    private async enter(post: Post, channel?: Channel) {
        const call = parseCall(post.props);
        if (!call || call.ended_at) {
            return;
        }
        if (this.session?.active) {
            if (this.session.info.callId !== call.call_id) {
                this.setNotice({id: 'mmtoolkit.video.error.already'});
            }
            return;
        }
        // A window left open on a device error: close it properly (its
        // leave lets the keeper end a call nobody is in).
        this.session?.leave();
        const state = this.getState();
        const ch = channel ?? state?.entities.channels.channels[post.channel_id];
        const teamId = ch?.team_id || state?.entities.teams.currentTeamId || '';
        const ice = () => getIceServers(teamId).catch((e) => {
            console.warn('[mmtoolkit.video] reading ICE servers; using none:', e); // eslint-disable-line no-console
            return [];
        });
        const info = this.info(ch ?? {id: post.channel_id, display_name: '', team_id: teamId} as Channel, post.id, call);
        info.startedBy = post.user_id || call.started_by;
        const s = new CallSession(info, this.me(), ice, (left) => {
            if (this.session === left) {
                this.session = null;
                this.changed();
            }
        }, () => this.changed());
        this.session = s;
        this.notice = null;
        this.changed();
        await s.start();
    }

    /** Closes an errored call view (the session never joined). */
    close() {
        this.session?.leave();
        this.session = null;
        this.changed();
    }

    private info(channel: Channel, postId: string, call: CallProps): CallInfo {
        return {
            postId, callId: call.call_id, channelId: channel.id, channelName: channel.display_name, teamId: channel.team_id,
            startedBy: call.started_by, startedAt: call.started_at,
        };
    }

    private setNotice(n: Notice) {
        this.notice = n;
        this.changed();
    }
}

/** The one runtime of this bundle (a new bundle, after an upgrade, has its own). */
export const calls = new Calls();
