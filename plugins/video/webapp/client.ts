// HTTP calls of the web part. Same origin, cookie authentication, and the
// X-Requested-With header Mattermost's own client sends (cookie-authenticated
// writes require it). Writes to Mattermost go through the plugin proxy, which
// forwards only the routes plugin.json declares.
import type {Post} from '@mmtoolkit/webapp';

import {EVENTS, KV, POST_TYPE, PROXY, type CallProps, type SignalEvent} from '../shared/call';

const headers = {'Content-Type': 'application/json', 'X-Requested-With': 'XMLHttpRequest'};

export class RequestError extends Error {
    constructor(readonly status: number, message: string, readonly retryAfter = 0) {
        super(message);
    }
}

async function request<T>(method: string, url: string, body?: unknown, init: RequestInit = {}): Promise<T> {
    const r = await fetch(url, {method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body), ...init});
    const text = await r.text();
    if (!r.ok) {
        // mmtoolkit answers {"error":{"message"}}, Mattermost {"message"}.
        let message = `${r.status} ${r.statusText}`;
        try {
            const j = JSON.parse(text);
            message = j?.error?.message ?? j?.message ?? message;
        } catch {
            // not JSON: keep the status line
        }
        throw new RequestError(r.status, message, Number(r.headers.get('Retry-After')) || 0);
    }
    return (text ? JSON.parse(text) : undefined) as T;
}

/** Creates the call's post (POST /api/v4/posts through the proxy). */
export function createCallPost(channelId: string, message: string, props: CallProps): Promise<Post> {
    return request<Post>('POST', `${PROXY}/posts`, {channel_id: channelId, message, type: POST_TYPE, props});
}

/**
 * Replaces the call post's props (PUT /api/v4/posts/{id}/patch through the
 * proxy). Mattermost replaces props whole, so the caller passes them all.
 * Only the post's author (or a system admin) may do this.
 */
export function patchCallProps(postId: string, props: Record<string, unknown>): Promise<Post> {
    return request<Post>('PUT', `${PROXY}/posts/${encodeURIComponent(postId)}/patch`, {props});
}

/** A read: the host's own /api/v4 (no proxy declaration needed). */
export function getPost(postId: string): Promise<Post> {
    return request<Post>('GET', `/api/v4/posts/${encodeURIComponent(postId)}`);
}

export interface UserProfile {
    id: string;
    username: string;
    first_name?: string;
    last_name?: string;
    nickname?: string;
}

export function getProfilesByIds(ids: string[]): Promise<UserProfile[]> {
    return request<UserProfile[]>('POST', '/api/v4/users/ids', ids);
}

/** ICE servers a team admin stored in the plugin's team KV (key ice_servers); none by default. */
export async function getIceServers(teamId: string): Promise<RTCIceServer[]> {
    try {
        const v = await request<unknown>('GET', `${KV}/team:${encodeURIComponent(teamId)}/ice_servers`);
        return Array.isArray(v) ? v.filter((s): s is RTCIceServer => Boolean(s && typeof s === 'object' && 'urls' in s)) : [];
    } catch (e) {
        if (e instanceof RequestError && e.status === 404) {
            return [];
        }
        throw e;
    }
}

export interface Destination {
    channelId: string;
    /** Narrow the event to these users (all their connections). */
    userIds?: string[];
}

/**
 * Publishes custom_mmtoolkit.video_<event> to the channel's connected
 * members. keepalive lets a `leave` sent from pagehide outlive the page.
 */
export function sendEvent(event: SignalEvent, to: Destination, data: Record<string, unknown>, keepalive = false): Promise<unknown> {
    const body: Record<string, unknown> = {event, channel_id: to.channelId, data};
    if (to.userIds?.length) {
        body.user_ids = to.userIds;
    }
    return request('POST', EVENTS, body, keepalive ? {keepalive: true} : {});
}
