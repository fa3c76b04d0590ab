// Loading Mattermost data into the store. Each dispatch is the action
// mattermost-redux's own action creators dispatch (same types, same
// payloads), so its reducers build state.entities exactly as in Mattermost.
// We call Client4 directly rather than through those creators to keep the
// host bundle small and to avoid their side requests (roles, statuses,
// client logs) that a sandbox need not answer.
import {ChannelTypes, GeneralTypes, PostTypes, PreferenceTypes, RoleTypes, TeamTypes, UserTypes} from 'mattermost-redux/action_types';
import type {PreferenceType} from '@mattermost/types/preferences';
import type {UserStatus} from '@mattermost/types/users';
import type {Channel} from '@mattermost/types/channels';
import type {Post, PostList} from '@mattermost/types/posts';
import type {Team} from '@mattermost/types/teams';
import type {UserProfile} from '@mattermost/types/users';

import type {HostState, HostStore} from '../store';

import {Client4} from './client';

type Dispatch = HostStore['dispatch'];

export function receivedConfig(dispatch: Dispatch, config: Record<string, string>) {
    dispatch({type: GeneralTypes.CLIENT_CONFIG_RECEIVED, data: config});
}

/** Reads the client config; a server without the route gets a minimal one. */
export async function loadConfig(dispatch: Dispatch, siteURL: string) {
    let config: Record<string, string> = {};
    try {
        config = await Client4.getClientConfig() as unknown as Record<string, string>;
    } catch {
        // The sandbox has no config route: what plugins read is set below.
    }
    receivedConfig(dispatch, {PluginsEnabled: 'true', DiagnosticsEnabled: 'false', ...config, SiteURL: siteURL});
}

export function receivedMe(dispatch: Dispatch, me: UserProfile) {
    dispatch({type: UserTypes.RECEIVED_ME, data: me});
}

/**
 * The server version Client4 read from the X-Version-Id header of its
 * last answer (getServerVersion), as Mattermost's setServerVersion stores
 * it: plugins compare it with isMinimumServerVersion.
 */
export function receivedServerVersion(dispatch: Dispatch, version: string) {
    if (version) {
        dispatch({type: GeneralTypes.RECEIVED_SERVER_VERSION, data: version});
    }
}

/** GET /api/v4/license/client?format=old, as mattermost-redux's getLicenseConfig. */
export async function loadLicense(dispatch: Dispatch) {
    const license = await Client4.getClientLicenseOld();
    dispatch({type: GeneralTypes.CLIENT_LICENSE_RECEIVED, data: license});
}

/** GET /api/v4/users/me/preferences, as mattermost-redux's getMyPreferences (the theme is one). */
export async function loadPreferences(dispatch: Dispatch) {
    const prefs = await Client4.getMyPreferences();
    dispatch({type: PreferenceTypes.RECEIVED_ALL_PREFERENCES, data: prefs});
}

/** A preferences_changed or preferences_deleted websocket event. */
export function receivedPreferences(dispatch: Dispatch, prefs: PreferenceType[], deleted = false) {
    dispatch({type: deleted ? PreferenceTypes.DELETED_PREFERENCES : PreferenceTypes.RECEIVED_PREFERENCES, data: prefs});
}

// Role names asked for already: each is loaded once (loadRolesIfNeeded).
const rolesAsked = new Set<string>();

/**
 * Loads the roles the names (space-separated lists, as users', team and
 * channel members' roles fields) mention and the store lacks, as
 * mattermost-redux's loadRolesIfNeeded: POST /api/v4/roles/names. The
 * permission selectors (haveITeamPermission, ...) read them.
 */
export async function loadRolesIfNeeded(store: HostStore, roleLists: Array<string | undefined>) {
    const have = store.getState().entities.roles.roles;
    const names = [...new Set(roleLists.flatMap((l) => (l ?? '').split(' ')).filter((n) => n && !have[n] && !rolesAsked.has(n)))];
    if (names.length === 0) {
        return;
    }
    names.forEach((n) => rolesAsked.add(n));
    try {
        const roles = await Client4.getRolesByNames(names);
        store.dispatch({type: RoleTypes.RECEIVED_ROLES, data: roles});
    } catch (e) {
        names.forEach((n) => rolesAsked.delete(n));
        throw e;
    }
}

/** Statuses as mattermost-redux's getStatusesByIds stores them. */
export function receivedStatuses(dispatch: Dispatch, statuses: Array<Partial<UserStatus> & {user_id: string}>) {
    const pick = <T>(f: (s: Partial<UserStatus>) => T) => Object.fromEntries(statuses.map((s) => [s.user_id, f(s)]));
    dispatch({type: UserTypes.RECEIVED_STATUSES, data: pick((s) => s.status ?? '')});
    dispatch({type: UserTypes.RECEIVED_STATUSES_IS_MANUAL, data: pick((s) => s.manual ?? false)});
    if (statuses.some((s) => s.last_activity_at !== undefined)) {
        dispatch({type: UserTypes.RECEIVED_LAST_ACTIVITIES, data: pick((s) => s.last_activity_at ?? 0)});
        dispatch({type: UserTypes.RECEIVED_DND_END_TIMES, data: pick((s) => s.dnd_end_time ?? 0)});
    }
}

/** POST /api/v4/users/status/ids. */
export async function loadStatuses(dispatch: Dispatch, ids: string[]) {
    const uniq = [...new Set(ids)].filter(Boolean);
    if (uniq.length === 0) {
        return;
    }
    receivedStatuses(dispatch, await Client4.getStatusesByIds(uniq));
}

/**
 * A response the page's boot script already asked for (host.ts, takeEarly),
 * else Client4's request: a failed early answer is asked again, so errors
 * come from Client4 as usual.
 */
function orAsk<T>(early: Promise<unknown> | undefined, ask: () => Promise<T>): Promise<T> {
    return early ? (early as Promise<T>).catch(ask) : ask();
}

export type EarlyPosts = Promise<{channelId: string; posts: PostList}>;

export async function loadMe(dispatch: Dispatch, early?: Promise<unknown>): Promise<UserProfile> {
    const me = await orAsk(early, () => Client4.getMe());
    receivedMe(dispatch, me);
    return me;
}

export async function loadTeams(dispatch: Dispatch, early?: {teams?: Promise<unknown>; members?: Promise<unknown>}): Promise<Team[]> {
    const [teams, members] = await Promise.all([
        orAsk(early?.teams, () => Client4.getMyTeams()),
        orAsk(early?.members, () => Client4.getMyTeamMembers()),
    ]);
    dispatch({type: TeamTypes.RECEIVED_TEAMS_LIST, data: teams});
    dispatch({type: TeamTypes.RECEIVED_MY_TEAM_MEMBERS, data: members});
    return teams;
}

export function selectTeam(dispatch: Dispatch, teamId: string) {
    dispatch({type: TeamTypes.SELECT_TEAM, data: teamId});
}

export async function loadChannels(dispatch: Dispatch, teamId: string): Promise<Channel[]> {
    const [channels, members] = await Promise.all([Client4.getMyChannels(teamId), Client4.getMyChannelMembers(teamId)]);
    dispatch({type: ChannelTypes.RECEIVED_CHANNELS, teamId, data: channels});
    dispatch({type: ChannelTypes.RECEIVED_MY_CHANNEL_MEMBERS, data: members});
    return channels;
}

export async function loadChannelByName(dispatch: Dispatch, teamName: string, channelName: string, early?: Promise<unknown>): Promise<Channel> {
    const channel = await orAsk(early, () => Client4.getChannelByNameAndTeamName(teamName, channelName));
    dispatch({type: ChannelTypes.RECEIVED_CHANNEL, data: channel});
    return channel;
}

export function selectChannel(dispatch: Dispatch, channelId: string) {
    dispatch({type: ChannelTypes.SELECT_CHANNEL, data: channelId});
}

export async function loadPosts(store: HostStore, channelId: string, early?: EarlyPosts): Promise<PostList> {
    const ask = () => Client4.getPosts(channelId, 0, 60);
    const posts = await (early ? early.then((e) => (e.channelId === channelId ? e.posts : ask()), ask) : ask());
    store.dispatch({type: PostTypes.RECEIVED_POSTS, data: posts});
    store.dispatch({type: PostTypes.RECEIVED_POSTS_IN_CHANNEL, channelId, data: posts, recent: true, oldest: posts.prev_post_id === ''});
    await loadMissingProfiles(store, Object.values(posts.posts).map((p) => p.user_id));
    return posts;
}

// Profiles being fetched: a post burst asks once per user.
const profilesInFlight = new Set<string>();

export async function loadMissingProfiles(store: HostStore, ids: string[]) {
    const profiles = store.getState().entities.users.profiles;
    const missing = [...new Set(ids)].filter((id) => id && !profiles[id] && !profilesInFlight.has(id));
    if (missing.length === 0) {
        return;
    }
    missing.forEach((id) => profilesInFlight.add(id));
    try {
        const users = await Client4.getProfilesByIds(missing);
        store.dispatch({type: UserTypes.RECEIVED_PROFILES_LIST, data: users});
        // Their statuses too, as Mattermost's webapp asks for the users it shows.
        loadStatuses(store.dispatch, users.map((u) => u.id)).catch(() => undefined);
    } catch {
        // Names fall back to usernames unknown; posts still show.
    } finally {
        missing.forEach((id) => profilesInFlight.delete(id));
    }
}

export function receivedNewPost(dispatch: Dispatch, post: Post) {
    dispatch({type: PostTypes.RECEIVED_NEW_POST, data: post, features: {crtEnabled: false}});
}

export function receivedPost(dispatch: Dispatch, post: Post) {
    dispatch({type: PostTypes.RECEIVED_POST, data: post, features: {crtEnabled: false}});
}

export function postDeleted(dispatch: Dispatch, post: Post) {
    dispatch({type: PostTypes.POST_DELETED, data: post});
}

export function loggedOut(dispatch: Dispatch) {
    dispatch({type: UserTypes.LOGOUT_SUCCESS, data: {}});
}

/**
 * Posts of a channel, oldest first, from Mattermost's postsInChannel blocks.
 * Deleted posts stay (mattermost-redux marks them state DELETED) and render
 * as "(message deleted)", as in Mattermost.
 */
export function channelPosts(blocks: HostState['entities']['posts']['postsInChannel'][string] | undefined, byId: HostState['entities']['posts']['posts']): Post[] {
    if (!blocks || blocks.length === 0) {
        return [];
    }
    const recent = blocks.find((b) => b.recent) ?? blocks[0];
    const out: Post[] = [];
    for (let i = recent.order.length - 1; i >= 0; i--) {
        const p = byId[recent.order[i]];
        if (p) {
            out.push(p);
        }
    }
    return out;
}
