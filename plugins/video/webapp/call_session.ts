// One person's presence in one call, in one browser tab: the camera and
// microphone, an RTCPeerConnection per other participant (a full mesh, no
// media server), and the signalling that sets them up over mmtoolkit's
// plugin events.
//
// Signalling (every event carries call_id and the sender's tab `from`):
//   join      to the channel: "I am in". Of each pair, one tab offers: the
//             one with the larger session id (the impolite one below). If
//             that is the newcomer, the tab in the call answers the join
//             with a `join` to the newcomer's tab only, and it offers.
//   offer, answer, ice
//             to one user (user_ids) and one tab (`to`): SDP and candidates.
//   media     to the channel: muted / camera off, for the tiles.
//   leave     to the channel: close my connection.
//   roll_call from the call's starter, answered with `here` (see keeper.ts).
//
// Glare (both sides of a pair offer at once) is resolved with the "perfect
// negotiation" pattern of the WebRTC spec: per pair, the tab with the
// smaller session id is polite and rolls back its own offer when one
// collides; the other ignores the colliding offer. But the first offer of a
// pair comes from one side only, so two people who join at the same moment
// do not collide: in Chromium, a polite side whose offer was rolled back
// while it was still being set then never gathered ICE candidates for its
// answer, and the pair stayed "Connecting" whatever was renegotiated (the
// glare test's flake: 4 runs in 55 of the glare scenario).
import {newId, type SignalEvent} from '../shared/call';

import {RequestError, sendEvent, type Destination} from './client';

export interface CallInfo {
    postId: string;
    callId: string;
    channelId: string;
    channelName: string;
    teamId: string;
    /** The call's starter: the post's author, who keeps the post up to date. */
    startedBy: string;
    startedAt: number;
}

export type Phase = 'starting' | 'joined' | 'error' | 'left';
export type MediaErrorKind = 'denied' | 'no_device' | 'in_use' | 'insecure' | 'generic';

export interface RemotePeer {
    session: string;
    userId: string;
    stream: MediaStream | null;
    connectionState: RTCPeerConnectionState;
    muted: boolean;
    cameraOff: boolean;
}

export interface Snapshot {
    phase: Phase;
    error?: {kind: MediaErrorKind; detail: string};
    info: CallInfo;
    localStream: MediaStream | null;
    muted: boolean;
    cameraOff: boolean;
    peers: RemotePeer[];
}

/**
 * How long a peer may stay disconnected (or take to connect) before its tile
 * goes, and how long a pair may take to connect before its negotiation
 * starts again (stuckMs).
 */
export const timeouts = {disconnectedMs: 8000, connectMs: 30000, stuckMs: 8000};

interface Peer extends RemotePeer {
    pc: RTCPeerConnection;
    polite: boolean;
    makingOffer: boolean;
    ignoreOffer: boolean;
    pendingCandidates: RTCIceCandidateInit[];
    inbox: Promise<void>;
    timer?: ReturnType<typeof setTimeout>;
    nudge?: ReturnType<typeof setTimeout>;
}

/** The data of one of our events, as it arrives (untrusted). */
export type EventData = Record<string, unknown>;

export class CallSession {
    /** This tab's id in the call (one user may join from two tabs). */
    readonly session = newId();
    private readonly peers = new Map<string, Peer>();
    private local: MediaStream | null = null;
    private phase: Phase = 'starting';
    private error?: Snapshot['error'];
    private muted = false;
    private cameraOff = false;
    private snap: Snapshot;
    private readonly listeners = new Set<() => void>();
    private readonly outboxes = new Map<string, Promise<void>>();
    private iceServers: RTCIceServer[] = [];
    private readonly traceLines: string[] = [];
    private readonly born = Date.now();

    /**
     * loadIceServers is awaited in start(), not before the session exists:
     * from the click on, the tab must count as in the call (it answers roll
     * calls), or the starter's other tab could end a call that is starting.
     */
    constructor(
        readonly info: CallInfo,
        readonly me: string,
        private readonly loadIceServers: () => Promise<RTCIceServer[]>,
        private readonly onLeft: (s: CallSession) => void,
        private readonly onJoined: (s: CallSession) => void,
    ) {
        this.snap = this.build();
    }

    // --- what the UI reads (useSyncExternalStore) ---

    subscribe = (l: () => void) => {
        this.listeners.add(l);
        return () => {
            this.listeners.delete(l);
        };
    };

    getSnapshot = () => this.snap;

    private emit() {
        this.snap = this.build();
        this.listeners.forEach((l) => l());
    }

    private build(): Snapshot {
        return {
            phase: this.phase,
            error: this.error,
            info: this.info,
            localStream: this.local,
            muted: this.muted,
            cameraOff: this.cameraOff,
            peers: [...this.peers.values()].map(({session, userId, stream, connectionState, muted, cameraOff}) =>
                ({session, userId, stream, connectionState, muted, cameraOff})),
        };
    }

    get active() {
        return this.phase === 'starting' || this.phase === 'joined';
    }

    /** The call window is open: starting, in the call, or showing a device error. */
    get open() {
        return this.phase !== 'left';
    }

    // --- joining and leaving ---

    /** Asks for the camera and microphone, then announces the join. Safe to call again after an error. */
    async start() {
        this.phase = 'starting';
        this.error = undefined;
        this.emit();
        try {
            [this.local, this.iceServers] = await Promise.all([getMedia(), this.loadIceServers()]);
        } catch (e) {
            this.phase = 'error';
            this.error = describeMediaError(e);
            this.emit();
            return;
        }
        if (this.phase !== 'starting') { // left while the permission prompt was open
            this.local.getTracks().forEach((t) => t.stop());
            this.local = null;
            return;
        }
        this.phase = 'joined';
        this.emit();
        this.onJoined(this);
        this.send('join', {channelId: this.info.channelId}, {post_id: this.info.postId, started_by: this.info.startedBy});
    }

    /** Leaves: tells the others, closes every connection, releases the devices. */
    leave(fromPagehide = false) {
        if (this.phase === 'left') {
            return;
        }
        this.phase = 'left';
        // Also when the devices never came (Close on an error, Leave while
        // starting): the starter's keeper ends the call on a leave nobody
        // outlives, and a call whose starter never got in must end too.
        // Before the post exists (startCall's placeholder) there is no call.
        if (this.info.postId) {
            const data = {call_id: this.info.callId, from: this.session, post_id: this.info.postId, started_by: this.info.startedBy};
            // Not queued: from pagehide there is no later.
            sendEvent('leave', {channelId: this.info.channelId}, data, fromPagehide).catch(() => undefined);
        }
        for (const p of [...this.peers.keys()]) {
            this.removePeer(p);
        }
        this.local?.getTracks().forEach((t) => t.stop());
        this.local = null;
        this.emit();
        this.onLeft(this);
    }

    toggleMute() {
        this.muted = !this.muted;
        this.local?.getAudioTracks().forEach((t) => {
            t.enabled = !this.muted;
        });
        this.announceMedia();
    }

    toggleCamera() {
        this.cameraOff = !this.cameraOff;
        this.local?.getVideoTracks().forEach((t) => {
            t.enabled = !this.cameraOff;
        });
        this.announceMedia();
    }

    private announceMedia() {
        this.emit();
        if (this.phase === 'joined') {
            this.send('media', {channelId: this.info.channelId}, {muted: this.muted, camera_off: this.cameraOff});
        }
    }

    // --- signalling in ---

    /** One of our websocket events; `sender` is broadcast.sender_id (set by the server, trusted). */
    handle(event: SignalEvent, data: EventData, sender: string) {
        if (data.call_id !== this.info.callId || data.from === this.session || typeof data.from !== 'string' || !sender) {
            return;
        }
        if (data.to !== undefined && data.to !== this.session) {
            return;
        }
        const from = data.from;
        if (event === 'roll_call') {
            // An open call window answers, even on a device error: its
            // person is still trying to be in the call (Try again).
            if (this.open && typeof data.nonce === 'string') {
                this.send('here', {channelId: this.info.channelId, userIds: [sender]}, {nonce: data.nonce, post_id: this.info.postId});
            }
            return;
        }
        if (this.phase !== 'joined') {
            return;
        }
        switch (event) {
        case 'join':
            if (this.peers.has(from)) {
                return;
            }
            if (this.session > from) {
                this.ensurePeer(from, sender); // we offer (negotiationneeded)
            } else {
                // That tab offers; it may have missed our join while it was
                // starting. No post_id, started_by: the keeper ignores this.
                this.send('join', {channelId: this.info.channelId, userIds: [sender]}, {to: from});
            }
            return;
        case 'leave':
            this.removePeer(from);
            return;
        case 'media': {
            const p = this.peers.get(from);
            if (p) {
                p.muted = data.muted === true;
                p.cameraOff = data.camera_off === true;
                this.emit();
            }
            return;
        }
        case 'offer':
        case 'answer':
        case 'ice': {
            const p = event === 'offer' ? this.ensurePeer(from, sender) : this.peers.get(from);
            if (!p || p.userId !== sender) {
                return;
            }
            if (typeof data.muted === 'boolean') {
                p.muted = data.muted;
                p.cameraOff = data.camera_off === true;
            }
            // One message at a time per peer, in arrival order.
            p.inbox = p.inbox.then(() => this.receive(p, event, data)).catch((e) => {
                console.warn(`[mmtoolkit.video] ${event} from ${from}:`, e); // eslint-disable-line no-console
            });
        }
        }
    }

    private async receive(p: Peer, event: 'offer' | 'answer' | 'ice', data: EventData) {
        const {pc} = p;
        this.trace(p, `in ${event}`);
        if (pc.signalingState === 'closed') {
            return;
        }
        if (event === 'ice') {
            const c = data.candidate as RTCIceCandidateInit | undefined;
            if (!c) {
                return;
            }
            if (!pc.remoteDescription) {
                p.pendingCandidates.push(c); // arrived before the description it belongs to
                return;
            }
            try {
                await pc.addIceCandidate(c);
            } catch (e) {
                if (!p.ignoreOffer) {
                    throw e;
                }
            }
            return;
        }
        const description = data.description as RTCSessionDescriptionInit | undefined;
        if (!description || (description.type !== 'offer' && description.type !== 'answer') || typeof description.sdp !== 'string') {
            return;
        }
        const collision = description.type === 'offer' && (p.makingOffer || pc.signalingState !== 'stable');
        p.ignoreOffer = !p.polite && collision;
        if (p.ignoreOffer) {
            return;
        }
        await pc.setRemoteDescription(description); // a polite peer's own offer is rolled back implicitly
        for (const c of p.pendingCandidates.splice(0)) {
            await pc.addIceCandidate(c).catch(() => undefined);
        }
        if (description.type === 'offer') {
            await pc.setLocalDescription();
            this.sendDescription(p);
        }
    }

    // --- peers ---

    private ensurePeer(session: string, userId: string): Peer {
        const existing = this.peers.get(session);
        if (existing) {
            return existing;
        }
        const pc = new RTCPeerConnection({iceServers: this.iceServers});
        const p: Peer = {
            session, userId, pc, stream: null, connectionState: pc.connectionState, muted: false, cameraOff: false,
            polite: this.session < session, makingOffer: false, ignoreOffer: false, pendingCandidates: [], inbox: Promise.resolve(),
        };
        this.peers.set(session, p);
        const local = this.local;
        if (local) {
            for (const t of local.getTracks()) {
                pc.addTrack(t, local);
            }
        }
        // Receive both kinds even when we send only one (no camera, say).
        for (const kind of ['audio', 'video'] as const) {
            if (!local?.getTracks().some((t) => t.kind === kind)) {
                pc.addTransceiver(kind, {direction: 'recvonly'});
            }
        }
        pc.ontrack = ({track, streams}) => {
            if (streams[0]) {
                p.stream = streams[0];
            } else {
                p.stream ??= new MediaStream();
                p.stream.addTrack(track);
            }
            this.emit();
        };
        pc.onnegotiationneeded = async () => {
            this.trace(p, 'negotiationneeded');
            try {
                p.makingOffer = true;
                await pc.setLocalDescription();
                this.trace(p, 'offer made');
                this.sendDescription(p);
            } catch (e) {
                console.warn('[mmtoolkit.video] negotiation:', e); // eslint-disable-line no-console
            } finally {
                p.makingOffer = false;
            }
        };
        pc.onicecandidate = ({candidate}) => {
            if (candidate) {
                this.send('ice', this.toPeer(p), {to: p.session, candidate: candidate.toJSON()});
            }
        };
        pc.oniceconnectionstatechange = () => {
            if (pc.iceConnectionState === 'failed' && !p.polite) {
                // A new network path may work; the timer below gives up
                // otherwise. One side restarts, so the restarts do not collide.
                pc.restartIce();
            }
        };
        pc.onconnectionstatechange = () => {
            p.connectionState = pc.connectionState;
            switch (pc.connectionState) {
            case 'connected':
                this.clearTimer(p);
                clearTimeout(p.nudge);
                p.nudge = undefined;
                break;
            case 'disconnected':
            case 'failed':
                this.armTimer(p, timeouts.disconnectedMs);
                break;
            case 'closed':
                this.removePeer(session);
                return;
            }
            this.emit();
        };
        this.trace(p, `created (local tracks ${local?.getTracks().length ?? 'none'})`);
        this.armTimer(p, timeouts.connectMs);
        p.nudge = setTimeout(() => this.renegotiate(p), timeouts.stuckMs);
        this.emit();
        return p;
    }

    /**
     * Nudges a pair that has not connected after timeouts.stuckMs, and again
     * every stuckMs until it does or its tile goes: a description lost on
     * the way would otherwise leave both sides waiting. A side still
     * waiting for the answer to its offer sends that offer again (the other
     * side answers a repeated offer like any other); of two stable sides
     * whose connection does not come up, the impolite one restarts ICE. A
     * glare either causes is resolved like any other.
     */
    private renegotiate(p: Peer) {
        const {pc} = p;
        if (this.peers.get(p.session) !== p || pc.connectionState === 'connected' || pc.signalingState === 'closed') {
            p.nudge = undefined;
            return;
        }
        p.nudge = setTimeout(() => this.renegotiate(p), timeouts.stuckMs);
        this.trace(p, 'nudge queued');
        p.inbox = p.inbox.then(() => {
            this.trace(p, 'nudge');
            if (pc.signalingState === 'have-local-offer' && !p.makingOffer) {
                this.sendDescription(p);
            } else if (pc.signalingState === 'stable' && !p.polite) {
                pc.restartIce(); // negotiationneeded: a new offer
            }
        }).catch((e) => {
            console.warn('[mmtoolkit.video] renegotiate:', e); // eslint-disable-line no-console
        });
    }

    /** Removes the peer's tile if it has not (re)connected by then. */
    private armTimer(p: Peer, ms: number) {
        this.clearTimer(p);
        p.timer = setTimeout(() => {
            if (p.pc.connectionState !== 'connected') {
                this.removePeer(p.session);
            }
        }, ms);
    }

    private clearTimer(p: Peer) {
        if (p.timer) {
            clearTimeout(p.timer);
            p.timer = undefined;
        }
    }

    private removePeer(session: string) {
        const p = this.peers.get(session);
        if (!p) {
            return;
        }
        this.peers.delete(session);
        this.clearTimer(p);
        clearTimeout(p.nudge);
        p.pc.ontrack = null;
        p.pc.onconnectionstatechange = null;
        p.pc.onicecandidate = null;
        p.pc.onnegotiationneeded = null;
        p.pc.close();
        this.emit();
    }

    // --- signalling out ---

    private toPeer(p: Peer): Destination {
        return {channelId: this.info.channelId, userIds: [p.userId]};
    }

    private sendDescription(p: Peer) {
        const d = p.pc.localDescription;
        this.trace(p, `out ${d?.type}`);
        if (d) {
            this.send(d.type === 'offer' ? 'offer' : 'answer', this.toPeer(p),
                {to: p.session, description: {type: d.type, sdp: d.sdp}, muted: this.muted, camera_off: this.cameraOff});
        }
    }

    /**
     * Sends in order per destination (an answer must not overtake its
     * offer's candidates), retrying once when rate limited.
     */
    private send(event: SignalEvent, to: Destination, data: EventData) {
        const payload = {...data, call_id: this.info.callId, from: this.session};
        const key = `${to.channelId}/${to.userIds?.join(',') ?? '*'}`;
        const prev = this.outboxes.get(key) ?? Promise.resolve();
        const next = prev.then(async () => {
            try {
                await sendEvent(event, to, payload);
            } catch (e) {
                if (e instanceof RequestError && e.status === 429) {
                    await new Promise((r) => setTimeout(r, (e.retryAfter || 1) * 1000));
                    await sendEvent(event, to, payload);
                    return;
                }
                throw e;
            }
        }).catch((e) => {
            console.warn(`[mmtoolkit.video] send ${event}:`, e); // eslint-disable-line no-console
        });
        this.outboxes.set(key, next);
    }

    // --- debugging (window.__mmtoolkitVideo) ---

    private trace(p: Peer, what: string) {
        const {pc} = p;
        this.traceLines.push(`${Date.now() - this.born} ${p.session.slice(0, 4)} ${what} [${pc.signalingState} ${pc.localDescription?.type ?? '-'}/${pc.remoteDescription?.type ?? '-'} mo=${p.makingOffer} io=${p.ignoreOffer}]`);
        if (this.traceLines.length > 300) {
            this.traceLines.shift();
        }
    }

    /** The last signalling steps of each peer, oldest first, for the browser test's failure report. */
    traceLog(): string[] {
        return [...this.traceLines];
    }

    /** Per peer: connection state and what getStats says arrived. */
    async stats() {
        const out = [];
        for (const p of this.peers.values()) {
            let bytesReceived = 0;
            let framesDecoded = 0;
            let bytesSent = 0;
            const report = await p.pc.getStats();
            report.forEach((s: RTCStats & Record<string, unknown>) => {
                if (s.type === 'inbound-rtp') {
                    bytesReceived += Number(s.bytesReceived ?? 0);
                    framesDecoded += Number(s.framesDecoded ?? 0);
                } else if (s.type === 'outbound-rtp') {
                    bytesSent += Number(s.bytesSent ?? 0);
                }
            });
            out.push({session: p.session, userId: p.userId, connectionState: p.pc.connectionState, iceConnectionState: p.pc.iceConnectionState,
                signalingState: p.pc.signalingState, polite: p.polite, bytesReceived, bytesSent, framesDecoded});
        }
        return out;
    }
}

/** Camera and microphone; falls back to whichever exists when one is missing. */
async function getMedia(): Promise<MediaStream> {
    if (!navigator.mediaDevices?.getUserMedia) {
        throw Object.assign(new Error('navigator.mediaDevices is unavailable'), {name: 'InsecureContext'});
    }
    try {
        return await navigator.mediaDevices.getUserMedia({audio: true, video: {width: {ideal: 640}, height: {ideal: 360}}});
    } catch (e) {
        const name = (e as Error).name;
        if (name !== 'NotFoundError' && name !== 'OverconstrainedError' && name !== 'NotReadableError') {
            throw e;
        }
        for (const c of [{audio: true}, {video: true}]) {
            try {
                return await navigator.mediaDevices.getUserMedia(c);
            } catch {
                // try the other kind
            }
        }
        throw e;
    }
}

export function describeMediaError(e: unknown): {kind: MediaErrorKind; detail: string} {
    const err = e as Error;
    const detail = err?.message || String(e);
    switch (err?.name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
        return {kind: 'denied', detail};
    case 'NotFoundError':
    case 'OverconstrainedError':
    case 'DevicesNotFoundError':
        return {kind: 'no_device', detail};
    case 'NotReadableError':
    case 'TrackStartError':
        return {kind: 'in_use', detail};
    case 'InsecureContext':
        return {kind: 'insecure', detail};
    default:
        return {kind: 'generic', detail};
    }
}
