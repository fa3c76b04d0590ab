// The host runtime: the objects one page shares (store, slot map, loader,
// websockets) and the flows that tie them to Mattermost's API: boot, team
// switch, live posts, live plugin changes. Components reach it through
// HostContext; tests build their own with createHost.
import {WebSocketClient} from '@mattermost/client';
import type {Post} from '@mattermost/types/posts';
import {createContext, useContext} from 'react';

import {ToolkitEvents} from './generated/events';
import type {ShellPageConfig} from './generated/shell';
import * as mm from './mattermost/actions';
import {apiFetch, Client4, setupClient} from './mattermost/client';
import {createCrashReporter, type CrashReporter} from './plugins/crash';
import {dispatchToPlugins, runDesktopNotificationHooks, runReconnectHandlers, type NotificationArgs, type WebSocketMessage} from './plugins/events';
import {HostModules} from './plugins/host_modules';
import {applyToolkitEvent} from './plugins/live';
import {PluginLoader, type PluginWindow} from './plugins/loader';
import {SlotMap} from './plugins/slot_map';
import type {TeamManifest} from './plugins/types';
import {mergeUpstream, type ClientManifest} from './plugins/upstream';
import {navigate, parseRoute} from './router';
import {createHostStore, type HostStore} from './store';
import {pluginsActions} from './store/plugins_slice';

/**
 * What the Go shell puts in <script type="application/json" id="mmtoolkit-config">
 * (siteURL; modules and styles: lazy host module name -> script, stylesheet URL;
 * generated from webapp.shellConfig), and what main.tsx adds.
 */
export interface ShellConfig extends Pick<ShellPageConfig, 'siteURL' | 'modules' | 'styles'> {
    /** This page's CSP nonce (from the main script's element), for scripts the host adds. */
    nonce: string;
    /**
     * The manifest of the team the URL names, when the shell embedded it
     * (the same body GET /api/v1/manifest answers): the host starts the
     * team's plugins without requesting it.
     */
    manifest?: {team: string; manifest: TeamManifest};
}

export interface Host {
    config: ShellConfig;
    store: HostStore;
    slots: SlotMap;
    modules: HostModules;
    loader: PluginLoader;
    report: CrashReporter;
    /** The Mattermost websocket (/api/v4/websocket), passed to pluggables as webSocketClient. */
    mmSocket: WebSocketClient;
    /** mmtoolkit's own events (/api/v1/websocket): plugin_* and custom_*. */
    toolkitSocket: WebSocketClient;
    /** Boots the page: who am I, teams, then the route's team. */
    start(): Promise<void>;
    switchTeam(teamName: string): Promise<void>;
    openChannel(teamName: string, channelName: string): Promise<void>;
    login(loginId: string, password: string): Promise<void>;
    logout(): Promise<void>;
}

export const HostContext = createContext<Host | null>(null);

export function useHost(): Host {
    const h = useContext(HostContext);
    if (!h) {
        throw new Error('useHost outside HostContext');
    }
    return h;
}

export function createHost(config: ShellConfig, win: Window = window): Host {
    setupClient(config.siteURL);
    const store = createHostStore();
    const slots = new SlotMap();
    const modules = new HostModules(config.modules, win.document, config.nonce, config.styles);
    const report = createCrashReporter(store, Client4);
    const loader = new PluginLoader({
        doc: win.document, win: win as unknown as PluginWindow, slots, store, modules, report, nonce: config.nonce,
    });
    loader.install();
    const wsURL = config.siteURL.replace(/^http/, 'ws');
    const mmSocket = new WebSocketClient();
    // mmtoolkit's socket does not answer Mattermost's client pings yet, so
    // the client must not take silence for a dead connection.
    const toolkitSocket = new WebSocketClient({clientPingInterval: 2 ** 31 - 1});
    let teamLoad = Promise.resolve();
    let socketsUp = false;
    let currentTeamId = '';
    // The manifest of the team the URL names, requested at boot alongside
    // users/me (the route accepts a team name), so plugin bundles download
    // while the host still fetches teams and channels.
    let prefetched: {team: string; manifest: Promise<TeamManifest>} | null = null;
    const channelLoads = new Map<string, Promise<unknown>>();

    async function fetchManifest(team: string): Promise<TeamManifest> {
        const r = await apiFetch(`/api/v1/manifest?team=${encodeURIComponent(team)}&platform=web`);
        if (!r.ok) {
            throw new Error(`manifest for team ${team}: HTTP ${r.status}`);
        }
        return await r.json() as TeamManifest;
    }

    /**
     * GET /api/v4/plugins/webapp for a team: through mmtoolkit in front of
     * a Mattermost, Mattermost's plugins and the team's (plugins/upstream.ts);
     * in the sandbox the team's alone. [] when it fails: the team's own
     * plugins do not depend on it.
     */
    async function fetchWebappList(teamId: string): Promise<ClientManifest[]> {
        try {
            const r = await apiFetch(`/api/v4/plugins/webapp?team=${encodeURIComponent(teamId)}`);
            const list = r.ok ? await r.json() : [];
            return Array.isArray(list) ? list : [];
        } catch {
            return [];
        }
    }

    /** Every lazy host module: what a prebuilt bundle from Mattermost may read. */
    function allHostModules(): string[] {
        return [...Object.keys(config.modules), ...Object.keys(config.styles ?? {})];
    }

    async function loadManifest(teamId: string, teamName: string) {
        // Asked alongside the manifest; the team's plugins do not wait for it.
        const webappList = fetchWebappList(teamId);
        let m: TeamManifest;
        if (prefetched && (prefetched.team === teamName || prefetched.team === teamId)) {
            const p = prefetched.manifest;
            prefetched = null;
            m = await p.catch(() => fetchManifest(teamId));
        } else {
            m = await fetchManifest(teamId);
        }
        if (currentTeamId !== teamId) {
            return; // the user switched again meanwhile
        }
        await loader.sync(teamId, m.plugins);
        const all = mergeUpstream(m.plugins, await webappList, '', allHostModules());
        if (currentTeamId === teamId && all.some((p, i) => p !== m.plugins[i])) {
            await loader.sync(teamId, all); // Mattermost's own plugins, prebuilt bundles
        }
    }

    /**
     * What the shell's boot script (src/boot.ts) asked for before this code
     * ran, by URL (posts: the posts of the URL's channel). Each is taken
     * once: later loads ask the server.
     */
    function takeEarly(key: string): Promise<unknown> | undefined {
        const early = (win as unknown as {mmtoolkitEarly?: Record<string, Promise<unknown>>}).mmtoolkitEarly;
        const p = early?.[key];
        if (p) {
            delete early[key];
        }
        return p;
    }

    /** Posts of a channel, one request at a time per channel. */
    function loadPostsOnce(channelId: string, early?: mm.EarlyPosts) {
        let p = channelLoads.get(channelId);
        if (!p) {
            p = mm.loadPosts(store, channelId, early).finally(() => channelLoads.delete(channelId));
            channelLoads.set(channelId, p);
        }
        return p;
    }

    /**
     * A desktop notification for someone else's post in another channel
     * (or while the page is hidden), after the plugins' desktop
     * notification hooks, as Mattermost's sendDesktopNotification. Shown
     * only when the browser already granted notifications.
     */
    function notify(post: Post, d: Record<string, unknown>) {
        const state = store.getState();
        if (post.user_id === state.entities.users.currentUserId || (post.channel_id === state.entities.channels.currentChannelId && !win.document.hidden)) {
            return;
        }
        const channel = state.entities.channels.channels[post.channel_id] ?? {id: post.channel_id, display_name: String(d.channel_display_name ?? '')};
        const teamId = String(d.team_id ?? '') || state.entities.teams.currentTeamId;
        const team = state.entities.teams.teams[teamId];
        const args: NotificationArgs = {
            title: String(d.channel_display_name ?? channel.display_name ?? ''), body: `${String(d.sender_name ?? '')}: ${post.message}`,
            silent: false, soundName: '', url: `/${team?.name ?? ''}/pl/${post.id}`, notify: true,
        };
        runDesktopNotificationHooks(slots, report, post, d, channel, teamId, args).then((a) => {
            const N = (win as unknown as {Notification?: typeof Notification}).Notification;
            if (a && N && N.permission === 'granted') {
                new N(a.title, {body: a.body, silent: a.silent}); // eslint-disable-line no-new
            }
        }).catch(() => undefined);
    }

    function onMattermostEvent(msg: WebSocketMessage) {
        const d = msg.data ?? {};
        try {
            switch (msg.event) {
            case 'posted': {
                const post = JSON.parse(String(d.post)) as Post;
                mm.receivedNewPost(store.dispatch, post);
                mm.loadMissingProfiles(store, [post.user_id]);
                notify(post, d);
                break;
            }
            case 'post_edited':
                mm.receivedPost(store.dispatch, JSON.parse(String(d.post)) as Post);
                break;
            case 'post_deleted':
                mm.postDeleted(store.dispatch, JSON.parse(String(d.post)) as Post);
                break;
            case 'status_change':
                mm.receivedStatuses(store.dispatch, [{user_id: String(d.user_id), status: String(d.status)}]);
                break;
            case 'preferences_changed':
            case 'preferences_deleted':
                mm.receivedPreferences(store.dispatch, JSON.parse(String(d.preferences)), msg.event === 'preferences_deleted');
                break;
            case 'hello':
                mm.receivedServerVersion(store.dispatch, String(d.server_version ?? ''));
                break;
            case ToolkitEvents.PluginEnabled:
            case ToolkitEvents.PluginDisabled:
                // Mattermost's plugins changed (or, in front of it, the
                // team's mmtoolkit plugins: server/pluginsockets.go sends
                // these names): the team's list again.
                if (currentTeamId) {
                    loadManifest(currentTeamId, '').catch(() => undefined);
                }
                break;
            }
        } catch (e) {
            console.error('websocket event', msg.event, e); // eslint-disable-line no-console
        }
        dispatchToPlugins(slots, report, msg);
    }

    /**
     * What Mattermost's webapp loads with the user (loadMe): the server
     * version (X-Version-Id of the answers so far), the client license, the
     * preferences (the theme among them), the system roles and the user's
     * status. None of it holds up the first screen; a server without a
     * route leaves that part of the store empty.
     */
    function loadSessionData() {
        const state = store.getState();
        const me = state.entities.users.profiles[state.entities.users.currentUserId];
        mm.receivedServerVersion(store.dispatch, Client4.getServerVersion());
        mm.loadLicense(store.dispatch).catch(() => undefined);
        mm.loadPreferences(store.dispatch).catch(() => undefined);
        mm.loadRolesIfNeeded(store, [me?.roles]).catch(() => undefined);
        mm.loadStatuses(store.dispatch, [me?.id ?? '']).catch(() => undefined);
    }

    /** The roles of my team memberships (team_user, team_admin). */
    function loadTeamRoles() {
        const members = Object.values(store.getState().entities.teams.myMembers);
        mm.loadRolesIfNeeded(store, members.map((m) => m.roles)).catch(() => undefined);
    }

    function onToolkitEvent(msg: WebSocketMessage) {
        applyToolkitEvent({store, loader, slots, report}, currentTeamId, msg);
    }

    function connectSockets() {
        if (socketsUp) {
            return;
        }
        socketsUp = true;
        mmSocket.addMessageListener(onMattermostEvent as never);
        toolkitSocket.addMessageListener(onToolkitEvent as never);
        const resync = () => {
            if (currentTeamId) {
                loadManifest(currentTeamId, '').catch(() => undefined);
            }
        };
        // Re-sync on reconnect: events sent while away are lost.
        toolkitSocket.addReconnectListener(resync);
        // A reconnect whose hello names another connection (the server
        // lost ours): Mattermost's webapp re-syncs on this callback, and the
        // client only resets its sequence number when one is set, else it
        // drops every new connection as out of sequence.
        mmSocket.addMissedMessageListener(() => {
            const ch = store.getState().entities.channels.currentChannelId;
            if (ch) {
                loadPostsOnce(ch).catch(() => undefined);
            }
        });
        mmSocket.addReconnectListener(() => {
            const state = store.getState();
            const ch = state.entities.channels.currentChannelId;
            if (ch) {
                loadPostsOnce(ch).catch(() => undefined);
            }
            // Statuses changed while away; then the plugins' handlers, as
            // Mattermost's webapp runs them on its own socket's reconnect.
            mm.loadStatuses(store.dispatch, Object.keys(state.entities.users.profiles)).catch(() => undefined);
            runReconnectHandlers(slots, report);
        });
        // The token (when we have one) answers the authentication challenge;
        // without one (after a reload) the MMAUTHTOKEN cookie authenticates.
        const token = Client4.getToken();
        mmSocket.initialize(`${wsURL}/api/v4/websocket`, token);
        toolkitSocket.initialize(`${wsURL}/api/v1/websocket`, token);
    }

    const host: Host = {
        config, store, slots, modules, loader, report, mmSocket, toolkitSocket,

        async start() {
            // What plugins read first (SiteURL) is known now; the full client
            // config follows once the first screen's requests are answered
            // (a browser opens only six connections to the server at once).
            mm.receivedConfig(store.dispatch, {SiteURL: config.siteURL, PluginsEnabled: 'true'});
            const route = parseRoute(win.location.pathname);
            if ('team' in route && route.team) {
                const embedded = config.manifest?.team === route.team ? config.manifest.manifest : undefined;
                // Download and run the bundles now; the plugins are
                // initialized once the team is selected. The embedded
                // manifest's are in the page already and run right after
                // this script: watch them now, before they do.
                if (embedded) {
                    prefetched = {team: route.team, manifest: Promise.resolve(embedded)};
                    loader.stage(embedded.plugins);
                } else {
                    prefetched = {team: route.team, manifest: fetchManifest(route.team)};
                    prefetched.manifest.then((m) => loader.stage(m.plugins), () => undefined);
                }
            }
            // And the channel the URL names with its posts, so the first
            // screen does not wait for teams, then channels, then posts.
            let channelLoaded: Promise<unknown> = Promise.resolve();
            if (route.kind === 'channel') {
                // (The URL the shell preloads: webapp.go, preloads.)
                const channel = takeEarly(`/api/v4/teams/name/${route.team}/channels/name/${route.channel}?include_deleted=false`);
                const posts = takeEarly('posts') as mm.EarlyPosts | undefined;
                channelLoaded = mm.loadChannelByName(store.dispatch, route.team, route.channel, channel);
                channelLoaded.
                    then((ch) => loadPostsOnce((ch as {id: string}).id, posts)).
                    catch(() => undefined); // the route's own flow reports problems
            }
            // Who am I and my teams, in parallel: both need only the session.
            const teams = mm.loadTeams(store.dispatch, {teams: takeEarly('/api/v4/users/me/teams'), members: takeEarly('/api/v4/users/me/teams/members')});
            teams.catch(() => undefined);
            try {
                await mm.loadMe(store.dispatch, takeEarly('/api/v4/users/me'));
            } catch {
                prefetched = null;
                navigate('/login', true);
                return;
            }
            loadSessionData();
            const mine = await teams;
            loadTeamRoles();
            // The URL's team and channel, selected now rather than by the
            // app's route effect after the first render and paint (which
            // then finds them selected): the team's plugins start
            // initializing at once, and the first render can be the channel.
            if ('team' in route && mine.some((t) => t.name === route.team)) {
                if (route.kind === 'channel') {
                    const {team, channel} = route;
                    // (Also when the channel is not there: the team still opens.)
                    channelLoaded.catch(() => undefined).then(() => host.openChannel(team, channel)).catch(() => undefined);
                } else {
                    host.switchTeam(route.team).catch(() => undefined);
                }
            }
            connectSockets();
            mm.loadConfig(store.dispatch, config.siteURL);
        },

        async switchTeam(teamName: string) {
            const state = store.getState();
            const team = Object.values(state.entities.teams.teams).find((t) => t.name === teamName || t.id === teamName);
            if (!team) {
                return;
            }
            if (team.id === currentTeamId) {
                return teamLoad;
            }
            currentTeamId = team.id;
            mm.selectTeam(store.dispatch, team.id);
            // Plugins load beside the channel view, never in front of it.
            loadManifest(team.id, team.name).catch((e) => {
                console.error(e); // eslint-disable-line no-console
                store.dispatch(pluginsActions.manifestLoaded({teamId: team.id, plugins: []}));
                store.dispatch(pluginsActions.settled(performance.now()));
            });
            teamLoad = mm.loadChannels(store.dispatch, team.id).then(() => {
                // The roles of my channel memberships (channel_user, channel_admin).
                const members = Object.values(store.getState().entities.channels.myMembers);
                mm.loadRolesIfNeeded(store, members.map((m) => m.roles)).catch(() => undefined);
            });
            return teamLoad;
        },

        async openChannel(teamName: string, channelName: string) {
            const teamLoaded = host.switchTeam(teamName);
            const find = () => {
                const state = store.getState();
                const teamId = state.entities.teams.currentTeamId;
                return Object.values(state.entities.channels.channels).find((c) =>
                    c.team_id === teamId && (c.name === channelName || c.id === channelName));
            };
            // The channel the URL names may be known already (fetched at
            // boot): show it without waiting for the whole channel list.
            let channel = find();
            if (!channel) {
                await teamLoaded;
                channel = find();
            }
            if (!channel) {
                return;
            }
            if (store.getState().entities.channels.currentChannelId !== channel.id) {
                mm.selectChannel(store.dispatch, channel.id);
            }
            // Once loaded, a channel stays current through the websocket
            // (and is reloaded when it reconnects).
            if (!store.getState().entities.posts.postsInChannel[channel.id]) {
                await loadPostsOnce(channel.id);
            }
        },

        async login(loginId: string, password: string) {
            const me = await Client4.login(loginId, password);
            mm.receivedMe(store.dispatch, me);
            loadSessionData();
            await mm.loadTeams(store.dispatch);
            loadTeamRoles();
            connectSockets();
            mm.loadConfig(store.dispatch, config.siteURL);
        },

        async logout() {
            try {
                await Client4.logout();
            } finally {
                Client4.setToken('');
                mmSocket.close();
                toolkitSocket.close();
                win.location.assign('/login');
            }
        },
    };
    return host;
}
