// Loading Mattermost data into the store. Each dispatch is the action
// mattermost-redux's own action creators dispatch (same types, same
// payloads), so its reducers build state.entities exactly as in Mattermost.
// We call Client4 directly rather than through those creators to keep the
// host bundle small and to avoid their side requests (roles, statuses,
// client logs) that a sandbox need not answer.
import {ChannelTypes, GeneralTypes, PostTypes, TeamTypes, UserTypes} from 'mattermost-redux/action_types';
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
