import {getCurrentChannelId} from 'mattermost-redux/selectors/entities/channels';
import {getConfig} from 'mattermost-redux/selectors/entities/general';
import {getCurrentTeamId} from 'mattermost-redux/selectors/entities/teams';
import {getCurrentUser, getCurrentUserId} from 'mattermost-redux/selectors/entities/users';
import {getTheme} from 'mattermost-redux/selectors/entities/preferences';
import {describe, expect, it} from 'vitest';

import * as mm from '../src/mattermost/actions';
import {createHostStore} from '../src/store';
import {pluginsActions, pluginsSlice} from '../src/store/plugins_slice';
import {viewsActions, viewsSlice} from '../src/store/views_slice';

const me = {id: 'u1', username: 'bob', roles: 'system_user'} as never;
const post = (id: string, create_at: number) => ({id, channel_id: 'c1', user_id: 'u1', message: id, create_at, update_at: create_at, delete_at: 0, type: '', props: {}, root_id: ''}) as never;

describe('host store', () => {
    it('has Mattermost entities shape that mattermost-redux selectors read', () => {
        const store = createHostStore();
        const d = store.dispatch;
        mm.receivedConfig(d, {SiteURL: 'http://x'});
        mm.receivedMe(d, me);
        mm.selectTeam(d, 't1');
        mm.selectChannel(d, 'c1');
        const s = store.getState();
        expect(Object.keys(s)).toEqual(expect.arrayContaining(['entities', 'errors', 'requests', 'websocket', 'plugins', 'views']));
        expect(getConfig(s).SiteURL).toBe('http://x');
        expect(getCurrentUserId(s)).toBe('u1');
        expect(getCurrentUser(s).username).toBe('bob');
        expect(getCurrentTeamId(s)).toBe('t1');
        expect(getCurrentChannelId(s)).toBe('c1');
        expect(getTheme(s).centerChannelBg).toMatch(/^#/);
        expect(s.entities.preferences.myPreferences).toEqual({});
    });

    it('keeps posts in channel order as mattermost-redux does, live posts included', () => {
        const store = createHostStore();
        store.dispatch({type: 'RECEIVED_POSTS', data: {order: ['p2', 'p1'], posts: {p1: post('p1', 1), p2: post('p2', 2)}}});
        store.dispatch({type: 'RECEIVED_POSTS_IN_CHANNEL', channelId: 'c1', data: {order: ['p2', 'p1'], posts: {}}, recent: true, oldest: true});
        mm.receivedNewPost(store.dispatch, post('p3', 3));
        const s = store.getState();
        expect(mm.channelPosts(s.entities.posts.postsInChannel.c1, s.entities.posts.posts).map((p) => p.id)).toEqual(['p1', 'p2', 'p3']);
        mm.postDeleted(store.dispatch, {...(post('p2', 2) as object), delete_at: 5} as never);
        const s2 = store.getState();
        const after = mm.channelPosts(s2.entities.posts.postsInChannel.c1, s2.entities.posts.posts);
        expect(after.map((p) => p.id)).toEqual(['p1', 'p2', 'p3']);
        expect(after[1].state).toBe('DELETED');
    });
});

describe('plugins slice', () => {
    const m = (id: string) => ({id, name: id, version: '1', bundle: {url: '', integrity: '', size: 0}, slots: [], host_modules: []});
    it('follows a plugin through its lifecycle with action names that read as events', () => {
        const r = pluginsSlice.reducer;
        expect(pluginsActions.bundleLoaded.type).toBe('plugins/bundleLoaded');
        expect(pluginsActions.manifestLoaded.type).toBe('plugins/manifestLoaded');
        expect(pluginsActions.crashed.type).toBe('plugins/crashed');
        let s = r(undefined, pluginsActions.manifestLoaded({teamId: 't', plugins: [m('a'), m('b')]}));
        s = r(s, pluginsActions.bundleRequested(m('a')));
        expect(s.status.a.phase).toBe('loading');
        s = r(s, pluginsActions.bundleLoaded({id: 'a', version: '1'}));
        s = r(s, pluginsActions.crashed({pluginId: 'a', message: 'x', where: 'render', registrationId: 'r1', at: 1}));
        expect(s.status.a.phase).toBe('loaded'); // a registration crashed, not the plugin
        expect(s.crashedRegistrations.r1.message).toBe('x');
        s = r(s, pluginsActions.crashCleared('r1'));
        expect(s.crashedRegistrations).toEqual({});
        s = r(s, pluginsActions.crashed({pluginId: 'a', message: 'y', where: 'event', at: 2}));
        expect(s.status.a.phase).toBe('loaded'); // an uncaught async error is reported, not isolated
        expect(s.crashes.map((c) => c.where)).toContain('event');
        s = r(s, pluginsActions.crashed({pluginId: 'a', message: 'y', where: 'load', at: 2}));
        expect(s.status.a).toMatchObject({phase: 'crashed', where: 'load'});
        s = r(s, pluginsActions.recovered('a'));
        expect(s.status.a.phase).toBe('loaded');
        s = r(s, pluginsActions.crashed({pluginId: 'a', message: 'z', where: 'initialize', at: 3}));
        s = r(s, pluginsActions.recovered('a'));
        expect(s.status.a.phase).toBe('crashed'); // an initialize crash needs a new version
        s = r(s, pluginsActions.removed('a'));
        expect(s.status.a).toBeUndefined();
        expect(s.plugins.a).toBeUndefined();
        s = r(s, pluginsActions.manifestLoaded({teamId: 't2', plugins: []}));
        expect(s).toMatchObject({teamId: 't2', plugins: {}, settledAt: 0});
        expect(JSON.parse(JSON.stringify(s))).toEqual(s); // serialisable
    });

    it('bounds the crash list', () => {
        let s = pluginsSlice.reducer(undefined, {type: 'init'});
        for (let i = 0; i < 80; i++) {
            s = pluginsSlice.reducer(s, pluginsActions.crashed({pluginId: 'a', message: String(i), where: 'handler', registrationId: 'r', at: i}));
        }
        expect(s.crashes).toHaveLength(50);
        expect(s.crashes[49].message).toBe('79');
    });
});

describe('views slice', () => {
    it('opens and closes the RHS and the build-failure overlay', () => {
        const r = viewsSlice.reducer;
        let s = r(undefined, viewsActions.rhsPluginShown('x'));
        expect(s.rhs).toMatchObject({isSidebarOpen: true, isSidebarExpanded: false, rhsState: 'plugin', pluggableId: 'x', selectedPostId: ''});
        s = r(s, viewsActions.rhsClosed());
        expect(s.rhs.isSidebarOpen).toBe(false);
        s = r(s, viewsActions.buildFailed({pluginId: 'p', diagnostics: [{file: 'a.tsx', line: 1, column: 2, text: 'bad'}], message: 'm', at: 1}));
        expect(s.buildFailure?.pluginId).toBe('p');
        s = r(s, viewsActions.buildFixed());
        expect(s.buildFailure).toBeNull();
    });
});
