// The plugin's data, in mmtoolkit's plugin KV store (docs/api.md):
//
//   team:<team id>/installed          {"apps": {"review": {"by": <user id>, "at": <ms>}, ...}}
//   user/reviews/<team id>/<period>/<reviewee id>   a submitted review (see reviews.ts)
//
// Team keys are read by every member and written by the team's admins (the
// store's default rule), which is exactly "admins install, members see".
// Writes to the shared `installed` key are compare-and-set on its ETag, so
// two admins installing at the same moment both win.
//
// Web and mobile share this file: each passes its own authenticated fetch
// (same-origin cookies on the web, HostContext.fetch on mobile).
import type {Review} from './reviews';

export const PLUGIN_ID = 'mmtoolkit.appcenter';

/** fetch against the mmtoolkit server, path absolute (`/api/v1/...`). */
export type Fetch = (path: string, init?: RequestInit) => Promise<Response>;

export interface Install {
    /** Who installed it (user id) and when (ms since the epoch). */
    by: string;
    at: number;
}

export interface Installed {
    apps: Record<string, Install>;
}

/** A KV or API error with the server's stable code and its message for people. */
export class KVError extends Error {
    readonly status: number;
    readonly code: string;

    constructor(status: number, code: string, message: string) {
        super(message);
        this.status = status;
        this.code = code;
    }
}

const kvBase = `/api/v1/plugins/${PLUGIN_ID}/kv`;
const teamScope = (teamId: string) => `team:${encodeURIComponent(teamId)}`;

async function failure(res: Response): Promise<KVError> {
    let code = 'http_' + res.status;
    let message = `The server answered ${res.status}.`;
    try {
        const body = await res.json() as {error?: {code?: string; message?: string}};
        code = body.error?.code ?? code;
        message = body.error?.message ?? message;
    } catch {
        // Not JSON (a proxy's error page): keep the status.
    }
    return new KVError(res.status, code, message);
}

const jsonHeaders = {'Content-Type': 'application/json'};

/** The team's installed apps and the ETag of that value ('' when nothing was ever installed). */
export async function readInstalled(f: Fetch, teamId: string): Promise<{installed: Installed; etag: string}> {
    const res = await f(`${kvBase}/${teamScope(teamId)}/installed`);
    if (res.status === 404) {
        const err = await failure(res);
        if (err.code === 'kv_not_found') {
            return {installed: {apps: {}}, etag: ''};
        }
        throw err;
    }
    if (!res.ok) {
        throw await failure(res);
    }
    const value = await res.json() as Partial<Installed> | null;
    const apps = value && typeof value.apps === 'object' && value.apps ? value.apps : {};
    return {installed: {apps}, etag: res.headers.get('ETag') ?? ''};
}

/**
 * Installs (install=true) or uninstalls an app for a team with a
 * read-modify-write guarded by the value's ETag: `If-Match` when the key
 * exists, `If-None-Match: *` when it does not. A 412 means another admin
 * wrote in between: read again and re-apply, a few times.
 */
export async function setInstalled(f: Fetch, teamId: string, appId: string, install: boolean, userId: string, attempts = 5): Promise<Installed> {
    for (let i = 0; i < attempts; i++) {
        const {installed, etag} = await readInstalled(f, teamId);
        const apps = {...installed.apps};
        if (install) {
            apps[appId] = apps[appId] ?? {by: userId, at: Date.now()};
        } else {
            delete apps[appId];
        }
        const next: Installed = {apps};
        const res = await f(`${kvBase}/${teamScope(teamId)}/installed`, {
            method: 'PUT',
            headers: {...jsonHeaders, ...(etag ? {'If-Match': etag} : {'If-None-Match': '*'})},
            body: JSON.stringify(next),
        });
        if (res.status === 412) {
            continue;
        }
        if (!res.ok) {
            throw await failure(res);
        }
        return next;
    }
    throw new KVError(412, 'kv_conflict', 'Other admins kept changing the installed apps at the same time. Try again.');
}

const reviewKey = (teamId: string, period: string, revieweeId: string) =>
    `reviews/${encodeURIComponent(teamId)}/${encodeURIComponent(period)}/${encodeURIComponent(revieweeId)}`;

/** Submits a review; create-only, so a second review of the same person and period is refused. */
export async function submitReview(f: Fetch, review: Review): Promise<void> {
    const res = await f(`${kvBase}/user/${reviewKey(review.team_id, review.period, review.reviewee_id)}`, {
        method: 'PUT',
        headers: {...jsonHeaders, 'If-None-Match': '*'},
        body: JSON.stringify(review),
    });
    if (res.status === 412) {
        throw new KVError(412, 'review_exists', 'already submitted');
    }
    if (!res.ok) {
        throw await failure(res);
    }
}

/** The caller's submitted reviews in a team, newest first. */
export async function listReviews(f: Fetch, teamId: string): Promise<Review[]> {
    const out: Review[] = [];
    let after = '';
    const prefix = `reviews/${encodeURIComponent(teamId)}/`;
    for (;;) {
        const q = `prefix=${encodeURIComponent(prefix)}&limit=200${after ? `&after=${encodeURIComponent(after)}` : ''}`;
        const res = await f(`${kvBase}/user?${q}`);
        if (!res.ok) {
            throw await failure(res);
        }
        const page = await res.json() as {entries: Array<{key: string; value: Review}>; next_after: string};
        out.push(...page.entries.map((e) => e.value));
        if (!page.next_after) {
            break;
        }
        after = page.next_after;
    }
    return out.sort((a, b) => b.submitted_at - a.submitted_at);
}

/** One submitted review, or null when there is none under that key. */
export async function readReview(f: Fetch, teamId: string, period: string, revieweeId: string): Promise<Review | null> {
    const res = await f(`${kvBase}/user/${reviewKey(teamId, period, revieweeId)}`);
    if (res.status === 404) {
        return null;
    }
    if (!res.ok) {
        throw await failure(res);
    }
    return await res.json() as Review;
}

/**
 * Tells the team's open pages that the installed apps changed: a plugin
 * event, delivered as websocket event custom_mmtoolkit.appcenter_installed_changed.
 */
export async function announceInstalled(f: Fetch, teamId: string): Promise<void> {
    await f(`/api/v1/plugins/${PLUGIN_ID}/events`, {
        method: 'POST',
        headers: jsonHeaders,
        body: JSON.stringify({event: 'installed_changed', team_id: teamId, data: {}}),
    });
}

export const INSTALLED_CHANGED_EVENT = `custom_${PLUGIN_ID}_installed_changed`;
