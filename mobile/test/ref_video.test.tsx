// The video reference plugin's React Native components (plugins/video/mobile):
// the call post for a running and an ended call, and the call button, which
// starts a call by creating the post through the plugin proxy with the
// host's authenticated fetch (recorded here, answering as the server does).
import React from 'react';
import {act, fireEvent, render, screen, waitFor} from '@testing-library/react-native';

import {createComponents, initialize} from '../../plugins/video/mobile';

const BOB = '43an1eoce6uei793gs1h1596qr';
const ALICE = 'hjbbx64czy7syhyb6rwjjcewrr';
const CHANNEL = '96a3555kfewu6idbnzkjayxwih';

interface Call {
  path: string;
  init?: RequestInit;
}

function fakeHost(routes: Record<string, (init?: RequestInit) => {status: number; body: unknown}>) {
  const calls: Call[] = [];
  return {
    calls,
    async fetch(path: string, init?: RequestInit): Promise<Response> {
      calls.push({path, init});
      const route = routes[`${init?.method ?? 'GET'} ${path}`];
      const {status, body} = route ? route(init) : {status: 404, body: {error: {code: 'route_not_found', message: `no route ${path}`}}};
      return new Response(JSON.stringify(body), {status, headers: {'Content-Type': 'application/json'}});
    },
  };
}

const users = {
  'POST /api/v4/users/ids': (init?: RequestInit) => ({
    status: 200,
    body: (JSON.parse(String(init?.body)) as string[]).map((id) => ({id, username: id === BOB ? 'bob' : id === ALICE ? 'alice' : 'someone'})),
  }),
};

afterEach(() => {
  jest.useRealTimers();
});

test('a running call: state, starter, who joined, a live timer, and why there is no Join', async () => {
  jest.useFakeTimers({now: 1_767_225_780_000 + 65_000});
  const host = fakeHost(users);
  const {CallPost} = createComponents(host);
  const post = {
    id: 'p1', user_id: BOB, channel_id: CHANNEL, message: '@bob started a video call', type: 'custom_video_call',
    props: {call_id: '9spmb9gi8q75eqh3ccnrz6dqgc', started_by: BOB, started_at: 1_767_225_780_000, participants: [BOB, ALICE]},
  };
  await render(<CallPost post={post} />);
  expect(screen.getByTestId('video-call-status')).toHaveTextContent('Video call in progress');
  await waitFor(() => expect(screen.getByTestId('video-call-participants')).toHaveTextContent('Joined: @bob, @alice'));
  expect(screen.getByText(/Started by @bob/)).toBeTruthy();
  expect(screen.getByTestId('video-call-duration')).toHaveTextContent('Running for 1:05');
  await act(async () => {
    jest.advanceTimersByTime(2000);
  });
  expect(screen.getByTestId('video-call-duration')).toHaveTextContent('Running for 1:07');
  expect(screen.getByTestId('video-call-no-media')).toHaveTextContent(/needs the web or desktop app/);
  // One lookup for the names, through the host's fetch.
  expect(host.calls.map((c) => c.path)).toEqual(['/api/v4/users/ids']);
});

test('an ended call: its duration and participants, no timer', async () => {
  const host = fakeHost(users);
  const {CallPost} = createComponents(host);
  const post = {
    id: 'p2', user_id: ALICE, message: 'Video call ended.', type: 'custom_video_call',
    props: {call_id: 'x', started_by: ALICE, started_at: 1_767_225_780_000, participants: [ALICE, BOB], ended_at: 1_767_226_680_000},
  };
  await render(<CallPost post={post} theme={{centerChannelBg: '#1f1f1f', centerChannelColor: '#dddddd', buttonBg: '#4a7bd8', buttonColor: '#ffffff', onlineIndicator: '#06d6a0', errorTextColor: '#ff6461'}} />);
  expect(screen.getByTestId('video-call-status')).toHaveTextContent('Call ended');
  expect(screen.getByTestId('video-call-duration')).toHaveTextContent('Lasted 15:00');
  await waitFor(() => expect(screen.getByTestId('video-call-participants')).toHaveTextContent('Joined: @alice, @bob'));
  expect(screen.queryByTestId('video-call-no-media')).toBeNull();
});

test('props that are not a call render the message', async () => {
  const {CallPost} = createComponents(fakeHost(users));
  await render(<CallPost post={{id: 'p3', message: 'plain words', props: {call_id: 42}}} />);
  expect(screen.getByText('plain words')).toBeTruthy();
});

test('the call button creates the call post through the proxy route', async () => {
  const host = fakeHost({
    'GET /api/v4/users/me': () => ({status: 200, body: {id: BOB, username: 'bob'}}),
    'POST /api/v1/plugins/mmtoolkit.video/proxy/api/v4/posts': (init) => ({status: 201, body: {id: 'newpost', ...JSON.parse(String(init?.body))}}),
  });
  const {CallButton} = createComponents(host);
  await render(<CallButton channel={{id: CHANNEL, display_name: 'Town Square'}} />);
  const before = Date.now();
  await fireEvent.press(screen.getByTestId('video-call-button'));
  await waitFor(() => expect(host.calls).toHaveLength(2));
  const create = host.calls[1];
  expect(create.path).toBe('/api/v1/plugins/mmtoolkit.video/proxy/api/v4/posts');
  expect(create.init?.method).toBe('POST');
  const body = JSON.parse(String(create.init?.body));
  expect(body).toMatchObject({channel_id: CHANNEL, type: 'custom_video_call', message: '@bob started a video call'});
  expect(body.props).toMatchObject({started_by: BOB, participants: [BOB]});
  expect(body.props.call_id).toMatch(/^[a-z0-9]{26}$/);
  expect(body.props.started_at).toBeGreaterThanOrEqual(before);
  expect(body.props.ended_at).toBeUndefined();
  expect(screen.queryByRole('alert')).toBeNull();
});

test('a refused call shows why', async () => {
  const host = fakeHost({
    'GET /api/v4/users/me': () => ({status: 200, body: {id: BOB, username: 'bob'}}),
    'POST /api/v1/plugins/mmtoolkit.video/proxy/api/v4/posts': () => ({status: 403, body: {error: {code: 'plugin_disabled', message: 'mmtoolkit.video is not enabled for this team'}}}),
  });
  const {CallButton} = createComponents(host);
  await render(<CallButton channel={{id: CHANNEL}} />);
  await fireEvent.press(screen.getByTestId('video-call-button'));
  await waitFor(() => expect(screen.getByText('The call could not be started: mmtoolkit.video is not enabled for this team')).toBeTruthy());
});

test('initialize registers the call button and the post type', () => {
  const registered: Array<[string, unknown, unknown]> = [];
  const registry = {
    registerCallButtonAction: (c: unknown, text?: string) => String(registered.push(['call_button', c, text])),
    registerPostTypeComponent: (type: string, c: unknown) => String(registered.push(['post_type', type, c])),
  };
  initialize(registry, {serverURL: 'http://x', team: 'engineering', platform: 'ios', runtimeVersion: '1.0.0', fetch: fakeHost({}).fetch});
  expect(registered.map((r) => r[0])).toEqual(['call_button', 'post_type']);
  expect(registered[0][2]).toBe('Start a video call in this channel');
  expect(registered[1][1]).toBe('custom_video_call');
});
