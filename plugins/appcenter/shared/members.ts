// The members of a team, read from Mattermost's REST API (reads go straight
// to /api/v4; only writes need the plugin's proxy routes).
import type {Fetch} from './kv';

export interface Member {
    id: string;
    username: string;
    /** "Alice Anders (@alice)", or "@alice" without a full name. */
    label: string;
}

interface Profile {
    id: string;
    username: string;
    first_name?: string;
    last_name?: string;
    nickname?: string;
    delete_at?: number;
}

const PER_PAGE = 200;

async function json<T>(f: Fetch, path: string, init?: RequestInit): Promise<T> {
    const res = await f(path, init);
    if (!res.ok) {
        let message = `${path}: ${res.status}`;
        try {
            message = ((await res.json()) as {message?: string}).message ?? message;
        } catch {
            // keep the status
        }
        throw Object.assign(new Error(message), {status: res.status});
    }
    return res.json() as Promise<T>;
}

export function memberLabel(p: Profile): string {
    const full = [p.first_name, p.last_name].filter(Boolean).join(' ');
    return full ? `${full} (@${p.username})` : `@${p.username}`;
}

/**
 * Active members of a team, by name. Mattermost answers
 * GET /api/v4/users?in_team=<id> page by page. A server without that route
 * (mmtoolkit's sandbox answers 404) is asked the way Mattermost's own
 * webapp can: every team member belongs to the team's town-square channel,
 * so its members, then their profiles by id.
 */
export async function teamMembers(f: Fetch, teamId: string): Promise<Member[]> {
    let profiles: Profile[] = [];
    try {
        for (let page = 0; ; page++) {
            const batch = await json<Profile[]>(f, `/api/v4/users?in_team=${encodeURIComponent(teamId)}&active=true&page=${page}&per_page=${PER_PAGE}`);
            profiles.push(...batch);
            if (batch.length < PER_PAGE) {
                break;
            }
        }
    } catch (e) {
        if ((e as {status?: number}).status !== 404) {
            throw e;
        }
        const channel = await json<{id: string}>(f, `/api/v4/teams/${encodeURIComponent(teamId)}/channels/name/town-square`);
        const ids: string[] = [];
        for (let page = 0; ; page++) {
            const batch = await json<Array<{user_id: string}>>(f, `/api/v4/channels/${channel.id}/members?page=${page}&per_page=${PER_PAGE}`);
            ids.push(...batch.map((m) => m.user_id));
            if (batch.length < PER_PAGE) {
                break;
            }
        }
        profiles = [];
        for (let i = 0; i < ids.length; i += 1000) {
            profiles.push(...await json<Profile[]>(f, '/api/v4/users/ids', {
                method: 'POST',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify(ids.slice(i, i + 1000)),
            }));
        }
    }
    return profiles.
        filter((p) => !p.delete_at).
        map((p) => ({id: p.id, username: p.username, label: memberLabel(p)})).
        sort((a, b) => a.label.localeCompare(b.label));
}
