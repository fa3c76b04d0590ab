// What the host loads with the user (license, server version, roles,
// preferences, statuses), checked through mattermost-redux's own selectors
// the way plugins read them.
import {getLicense, getServerVersion} from 'mattermost-redux/selectors/entities/general';
import {getTheme, get as getPreference} from 'mattermost-redux/selectors/entities/preferences';
import {haveISystemPermission, haveITeamPermission, haveIChannelPermission} from 'mattermost-redux/selectors/entities/roles';
import {getStatusForUserId} from 'mattermost-redux/selectors/entities/users';
import {afterEach, describe, expect, it, vi} from 'vitest';

import * as mm from '../src/mattermost/actions';
import {Client4} from '../src/mattermost/client';
import {createHostStore} from '../src/store';

const role = (name: string, permissions: string[]) => ({id: name, name, permissions}) as never;

afterEach(() => vi.restoreAllMocks());

describe('session data in the store', () => {
    it('license, server version and preferences (theme) as mattermost-redux stores them', async () => {
        const store = createHostStore();
        vi.spyOn(Client4, 'getClientLicenseOld').mockResolvedValue({IsLicensed: 'true', SkuShortName: 'enterprise'} as never);
        vi.spyOn(Client4, 'getMyPreferences').mockResolvedValue([
            {user_id: 'u1', category: 'theme', name: '', value: JSON.stringify({type: 'custom', centerChannelBg: '#1f1f1f'})},
            {user_id: 'u1', category: 'display_settings', name: 'use_military_time', value: 'true'},
        ] as never);
        mm.receivedMe(store.dispatch, {id: 'u1', username: 'bob', roles: 'system_user'} as never);
        mm.receivedServerVersion(store.dispatch, '9.11.0.123.abc.true');
        await mm.loadLicense(store.dispatch);
        await mm.loadPreferences(store.dispatch);
        const s = store.getState();
        expect(getLicense(s).IsLicensed).toBe('true');
        expect(getServerVersion(s)).toBe('9.11.0.123.abc.true');
        expect(getTheme(s).centerChannelBg).toBe('#1f1f1f');
        expect(getPreference(s, 'display_settings', 'use_military_time')).toBe('true');
        // A preferences_changed event replaces the theme.
        mm.receivedPreferences(store.dispatch, [{user_id: 'u1', category: 'theme', name: '', value: JSON.stringify({centerChannelBg: '#ffffff'})}]);
        expect(getTheme(store.getState()).centerChannelBg).toBe('#ffffff');
    });

    it('loads the roles my memberships name once, and the permission selectors answer from them', async () => {
        const store = createHostStore();
        const byNames = vi.spyOn(Client4, 'getRolesByNames').mockImplementation(async (names: string[]) => names.map((n) => ({
            system_user: role('system_user', ['create_team']),
            team_user: role('team_user', ['view_team']),
            team_admin: role('team_admin', ['manage_team', 'manage_slash_commands']),
            channel_user: role('channel_user', ['create_post']),
        } as Record<string, never>)[n]).filter(Boolean));
        mm.receivedMe(store.dispatch, {id: 'u1', username: 'alice', roles: 'system_user'} as never);
        store.dispatch({type: 'RECEIVED_MY_TEAM_MEMBERS', data: [{team_id: 't1', user_id: 'u1', roles: 'team_user team_admin', delete_at: 0}, {team_id: 't2', user_id: 'u1', roles: 'team_user', delete_at: 0}]});
        store.dispatch({type: 'RECEIVED_MY_CHANNEL_MEMBERS', data: [{channel_id: 'c1', user_id: 'u1', roles: 'channel_user'}]});
        const s0 = store.getState();
        expect(haveITeamPermission(s0, 't1', 'manage_team')).toBe(false); // nothing loaded yet
        await mm.loadRolesIfNeeded(store, ['system_user', 'team_user team_admin', 'team_user', 'channel_user']);
        await mm.loadRolesIfNeeded(store, ['team_admin']); // already there: no request
        expect(byNames).toHaveBeenCalledTimes(1);
        expect(byNames.mock.calls[0][0].sort()).toEqual(['channel_user', 'system_user', 'team_admin', 'team_user']);
        const s = store.getState();
        expect(haveITeamPermission(s, 't1', 'manage_team')).toBe(true);
        expect(haveITeamPermission(s, 't2', 'manage_team')).toBe(false);
        expect(haveITeamPermission(s, 't2', 'view_team')).toBe(true);
        expect(haveISystemPermission(s, {permission: 'create_team'})).toBe(true);
        expect(haveIChannelPermission(s, 't1', 'c1', 'create_post')).toBe(true);
    });

    it('statuses from /users/status/ids and status_change', async () => {
        const store = createHostStore();
        vi.spyOn(Client4, 'getStatusesByIds').mockResolvedValue([
            {user_id: 'u1', status: 'online', manual: false, last_activity_at: 5},
            {user_id: 'u2', status: 'offline', manual: false, last_activity_at: 0},
        ] as never);
        await mm.loadStatuses(store.dispatch, ['u1', 'u2', 'u1']);
        expect(getStatusForUserId(store.getState(), 'u1')).toBe('online');
        expect(getStatusForUserId(store.getState(), 'u2')).toBe('offline');
        mm.receivedStatuses(store.dispatch, [{user_id: 'u2', status: 'online'}]);
        expect(getStatusForUserId(store.getState(), 'u2')).toBe('online');
        expect(getStatusForUserId(store.getState(), 'u1')).toBe('online');
    });
});
