// Keeps a call's post true: who joined, and when the call ended.
//
// Mattermost lets only a post's author (or someone with edit_others_posts,
// a system admin by default) patch it, and the sandbox has the same rule. So
// participants do not write the post themselves: they announce `join` and
// `leave` over plugin events, and the call's starter's client, the post's
// author, patches it. Any open tab of the starter does this, in the call or
// not; Web Locks make two tabs of the same browser take turns.
//
// Ending: after a `leave`, the keeper sends a `roll_call`; every tab still
// in the call answers `here`. No answer means the call is over: ended_at is
// set to the time of that last leave. The same roll call runs when the
// starter opens a channel with one of their calls still marked running and
// they are not in it (everyone may have left while they were away).
//
// If the starter has no tab open, nobody may edit the post: it keeps saying
// "running" until the starter comes back (see README: "Who writes the post").
import {newId, parseCall, withParticipant, type CallProps} from '../shared/call';

import {getPost, patchCallProps, sendEvent} from './client';
import type {EventData} from './call_session';

/** Waits: leaves settle before a roll call; answers to it come back within. */
export const keeperTimings = {settleMs: 800, answerMs: 2500};

type Lock = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

/** navigator.locks when present (secure contexts), else a lock inside this tab only. */
function makeLock(): Lock {
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    if (locks) {
        return (name, fn) => locks.request(name, () => fn()) as Promise<never>;
    }
    const chains = new Map<string, Promise<unknown>>();
    return (name, fn) => {
        const run = (chains.get(name) ?? Promise.resolve()).catch(() => undefined).then(fn);
        chains.set(name, run);
        return run;
    };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Keeper {
    private readonly lock = makeLock();
    private readonly answers = new Map<string, Set<string>>(); // roll call nonce -> users who answered
    private readonly settling = new Map<string, ReturnType<typeof setTimeout>>();
    private readonly checked = new Set<string>();
    /** Posts with a roll call running in this tab -> the end time a re-run must use, if one was asked for meanwhile. */
    private readonly rolling = new Map<string, {again: number | null}>();
    private stopped = false;

    constructor(
        private readonly me: () => string,
        /** True while this tab is in (or joining) the call. */
        private readonly inCall: (callId: string) => boolean,
    ) {}

    stop() {
        this.stopped = true;
        this.settling.forEach((t) => clearTimeout(t));
        this.settling.clear();
    }

    /** Our websocket events, as every member of the channel receives them. */
    handle(event: string, data: EventData, sender: string, channelId: string) {
        if (this.stopped || !sender) {
            return;
        }
        if (event === 'here') {
            if (typeof data.nonce === 'string') {
                this.answers.get(data.nonce)?.add(sender);
            }
            return;
        }
        // join and leave name the starter: only the starter's tabs act.
        if (data.started_by !== this.me() || typeof data.post_id !== 'string' || typeof data.call_id !== 'string') {
            return;
        }
        const postId = data.post_id;
        if (event === 'join') {
            void this.update(postId, (call) => (call.ended_at ? null : withParticipant(call, sender)));
        } else if (event === 'leave') {
            const leftAt = Date.now();
            clearTimeout(this.settling.get(postId));
            this.settling.set(postId, setTimeout(() => {
                this.settling.delete(postId);
                void this.rollCall(postId, data.call_id as string, channelId, leftAt);
            }, keeperTimings.settleMs));
        }
    }

    /**
     * The post renderer calls this for a running call of ours: once per page,
     * if we are not in it, check whether anyone still is.
     */
    checkStale(postId: string, call: CallProps, channelId: string) {
        if (this.stopped || this.checked.has(postId) || call.ended_at || call.started_by !== this.me() || this.inCall(call.call_id)) {
            return;
        }
        this.checked.add(postId);
        void this.rollCall(postId, call.call_id, channelId, Date.now());
    }

    /**
     * Asks who is still in the call and ends it if nobody answers. A roll
     * call asked for while one runs is never dropped: it runs again once
     * the first is done. The first may have heard a `here` from someone
     * who left a moment later; skipping the second (as a lock taken with
     * ifAvailable did) left a call everyone had left "in progress" until
     * some later check ended it, at that check's time. The Web Lock is
     * waited for, so the tabs of one browser take turns; a turn that finds
     * the call ended already does nothing.
     */
    private async rollCall(postId: string, callId: string, channelId: string, endedAt: number) {
        const running = this.rolling.get(postId);
        if (running) {
            running.again = Math.max(running.again ?? 0, endedAt);
            return;
        }
        const state: {again: number | null} = {again: null};
        this.rolling.set(postId, state);
        try {
            let at: number | null = endedAt;
            while (at !== null && !this.stopped) {
                const endAt: number = at;
                state.again = null;
                await this.lock(`mmtoolkit.video.roll_call.${postId}`, () => this.rollCallOnce(postId, callId, channelId, endAt));
                at = state.again;
            }
        } finally {
            this.rolling.delete(postId);
        }
    }

    private async rollCallOnce(postId: string, callId: string, channelId: string, endedAt: number) {
        if (this.stopped) {
            return;
        }
        try {
            const post = await getPost(postId);
            const call = parseCall(post.props);
            if (!call || call.ended_at || post.user_id !== this.me() || post.delete_at) {
                return; // ended meanwhile (another tab's turn), or not ours to end
            }
        } catch (e) {
            console.warn('[mmtoolkit.video] roll call:', e); // eslint-disable-line no-console
            return;
        }
        const nonce = newId();
        const here = new Set<string>();
        this.answers.set(nonce, here);
        try {
            await sendEvent('roll_call', {channelId}, {call_id: callId, post_id: postId, nonce, from: `keeper-${nonce}`});
            await sleep(keeperTimings.answerMs);
        } catch (e) {
            console.warn('[mmtoolkit.video] roll call:', e); // eslint-disable-line no-console
            return;
        } finally {
            this.answers.delete(nonce);
        }
        if (this.inCall(callId)) {
            here.add(this.me());
        }
        await this.update(postId, (call) => {
            if (call.ended_at) {
                return null;
            }
            if (here.size === 0) {
                return {...call, ended_at: Math.max(endedAt, call.started_at)};
            }
            let next = call;
            here.forEach((u) => {
                next = withParticipant(next, u);
            });
            return next;
        });
    }

    /** Reads the post fresh and patches it if `change` returns new props; authors only. */
    private async update(postId: string, change: (call: CallProps) => CallProps | null) {
        try {
            await this.lock(`mmtoolkit.video.patch.${postId}`, async () => {
                const post = await getPost(postId);
                const call = parseCall(post.props);
                if (!call || post.user_id !== this.me() || post.delete_at) {
                    return;
                }
                const next = change(call);
                if (!next || JSON.stringify(next) === JSON.stringify(call)) {
                    return;
                }
                // Props are replaced whole: keep whatever else is on the post.
                await patchCallProps(postId, {...post.props, ...next});
            });
        } catch (e) {
            console.warn('[mmtoolkit.video] updating the call post:', e); // eslint-disable-line no-console
        }
    }
}
