// The App Center reference plugin (plugins/appcenter) on mobile, against the
// real server of test/globalSetup.js: the mobile bundle the server compiled
// from the package is fetched, verified and evaluated by the host library,
// and its view reads the team's installs and the user's reviews through
// HostContext.fetch. Also: the shared KV client's compare-and-set keeps two
// admins' simultaneous installs.
import React from 'react';
import * as path from 'path';
import {fireEvent, render, screen, waitFor} from '@testing-library/react-native';

import {MemoryStorage, PluginHost, PluginHostProvider, Slot} from '../src';
import {readInstalled, setInstalled, submitReview, type Fetch} from '../../plugins/appcenter/shared/kv';
import {cli, login, publicKey, serverURL} from './server';

const PLUGIN = 'mmtoolkit.appcenter';
const pkg = path.resolve(__dirname, '..', '..', 'plugins', 'appcenter');

/** fetch as a user, as HostContext.fetch sends it. */
const as = (token: string): Fetch => (p, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${token}`);
  headers.set('X-Requested-With', 'XMLHttpRequest');
  return fetch(serverURL() + p, {...init, headers});
};

const dark = {
  centerChannelBg: '#1f1f1f', centerChannelColor: '#dddddd', buttonBg: '#4cbba4', buttonColor: '#ffffff',
  linkColor: '#a4ffeb', errorTextColor: '#ff6461', onlineIndicator: '#65dcc8',
};

let tokens: Record<string, string>;
let ids: {sales: string; engineering: string; admin: string};

beforeAll(async () => {
  jest.spyOn(console, 'warn').mockImplementation(() => {}); // web-only registry calls are warned about
  // Pushed whether or not the server preinstalled it (an identical push is a no-op).
  cli('admin', 'push', pkg);
  cli('admin', 'enable', '--team', 'sales', '--plugin', PLUGIN);
  cli('alice', 'enable', '--team', 'engineering', '--plugin', PLUGIN);
  tokens = {admin: await login('admin'), alice: await login('alice'), carol: await login('carol')};
  const get = async (token: string, p: string) => (await (await as(token)(p)).json()) as {id: string};
  ids = {
    sales: (await get(tokens.carol, '/api/v4/teams/name/sales')).id,
    engineering: (await get(tokens.alice, '/api/v4/teams/name/engineering')).id,
    admin: (await get(tokens.admin, '/api/v4/users/me')).id,
  };
});

// The server is shared by every test file (globalSetup): leave its teams
// with the plugins the other files expect.
afterAll(() => {
  cli('admin', 'disable', '--team', 'sales', '--plugin', PLUGIN);
  cli('alice', 'disable', '--team', 'engineering', '--plugin', PLUGIN);
});

test('two admins installing at the same moment both win (ETag compare-and-set)', async () => {
  // Both read before either writes: the second PUT carries a stale ETag.
  let reads = 0;
  let release: () => void = () => {};
  const bothRead = new Promise<void>((r) => (release = r));
  const puts: number[] = [];
  const racing = (token: string): Fetch => async (p, init) => {
    const res = await as(token)(p, init);
    if (p.endsWith('/installed') && (init?.method ?? 'GET') === 'GET' && reads < 2) {
      if (++reads === 2) release();
      await bothRead;
    }
    if (init?.method === 'PUT') puts.push(res.status);
    return res;
  };
  await Promise.all([
    setInstalled(racing(tokens.alice), ids.engineering, 'jira', true, 'alice'),
    setInstalled(racing(tokens.admin), ids.engineering, 'github', true, 'admin'),
  ]);
  expect(puts.filter((s) => s === 412)).toHaveLength(1); // one lost the race...
  expect(puts.filter((s) => s === 200)).toHaveLength(2); // ...and re-applied its change
  const {installed} = await readInstalled(as(tokens.alice), ids.engineering);
  expect(Object.keys(installed.apps).sort()).toEqual(['github', 'jira']);

  // Uninstalling keeps the other app.
  await setInstalled(as(tokens.admin), ids.engineering, 'jira', false, 'admin');
  expect(Object.keys((await readInstalled(as(tokens.alice), ids.engineering)).installed.apps)).toEqual(['github']);
});

test('a member cannot install, and a second review of the same person and year is refused', async () => {
  await expect(setInstalled(as(tokens.carol), ids.sales, 'review', true, 'carol')).rejects.toMatchObject({status: 403, code: 'not_team_admin'});
  const review = {
    team_id: ids.sales, reviewee_id: ids.admin, reviewee_name: 'Ada Admin (@admin)', period: '2025',
    ratings: {quality: 4, delivery: 4, collaboration: 5, communication: 3, growth: 4}, comments: 'Unblocked the sales demo twice.', submitted_at: 1,
  };
  await submitReview(as(tokens.carol), review);
  await expect(submitReview(as(tokens.carol), review)).rejects.toMatchObject({code: 'review_exists'});
});

test('the mobile App Center shows the installed state and the review list from the real bundle', async () => {
  await setInstalled(as(tokens.admin), ids.sales, 'review', true, ids.admin);
  await submitReview(as(tokens.carol), {
    team_id: ids.sales, reviewee_id: ids.admin, reviewee_name: 'Ada Admin (@admin)', period: '2026',
    ratings: {quality: 5, delivery: 4, collaboration: 5, communication: 5, growth: 4}, comments: 'Ran the 2026 launch with care.', submitted_at: 2,
  });

  const host = new PluginHost({
    serverURL: serverURL(), team: 'sales', platform: 'ios', publicKey: await publicKey(), token: tokens.carol, storage: new MemoryStorage(),
  });
  const res = await host.load();
  expect(res.plugins.find((p) => p.id === PLUGIN)).toMatchObject({state: 'active'});

  await render(
    <PluginHostProvider host={host}>
      <Slot name="app_center" team={{name: 'sales'}} theme={dark} />
    </PluginHostProvider>,
  );
  await waitFor(() => expect(screen.getByTestId('app-review')).toBeTruthy(), {timeout: 10000});
  expect(screen.getByLabelText('Annual performance review: Installed')).toBeTruthy();
  expect(screen.getByLabelText('Jira: Not installed')).toBeTruthy();
  expect(screen.getByLabelText('GitHub: Not installed')).toBeTruthy();
  expect(screen.getByText('My submitted reviews')).toBeTruthy();
  // Newest first.
  const items = screen.getAllByText(/^Ada Admin \(@admin\), \d{4}$/).map((n) => n.props.children);
  expect(items).toEqual(['Ada Admin (@admin), 2026', 'Ada Admin (@admin), 2025']);
  expect(screen.getByText('Average 4.6')).toBeTruthy();

  await fireEvent.press(screen.getByText('Ada Admin (@admin), 2026'));
  expect(screen.getByText('Review of Ada Admin (@admin) for 2026')).toBeTruthy();
  expect(screen.getByText('Ran the 2026 launch with care.')).toBeTruthy();
  expect(screen.getByText('Communication')).toBeTruthy();
  await fireEvent.press(screen.getByText('← Back to the reviews'));
  expect(screen.getByText('My submitted reviews')).toBeTruthy();
});
