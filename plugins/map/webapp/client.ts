// HTTP calls of the web part: same origin, cookie authentication, and the
// X-Requested-With header Mattermost's own client sends (cookie-authenticated
// writes require it). Mattermost writes go through the plugin proxy, which
// forwards only the routes plugin.json declares.
import type {Post} from '@mmtoolkit/webapp';

import type {locationPost} from '../shared/coords';

import {PLUGIN_ID} from './state';

const PROXY = `/api/v1/plugins/${PLUGIN_ID}/proxy/api/v4`;

/** POST /api/v4/posts through the proxy; throws an Error with the server's message. */
export async function createPost(post: ReturnType<typeof locationPost>): Promise<Post> {
    const r = await fetch(`${PROXY}/posts`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: {'Content-Type': 'application/json', 'X-Requested-With': 'XMLHttpRequest'},
        body: JSON.stringify(post),
    });
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
        throw new Error(message);
    }
    return JSON.parse(text) as Post;
}
