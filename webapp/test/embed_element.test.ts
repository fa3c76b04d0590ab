// The embed's host-page element (src/embed/element.ts) in jsdom: it
// listens only to its own frame on mmtoolkit's origin, hands tokens only
// to that origin, and turns the frame's messages into events and answers.
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest';

import type {MattermostChannelElement} from '../src/embed/embed';
import {refreshDelay} from '../src/embed/protocol';
import {accentColor, embedTheme} from '../src/embed/theme';

import '../src/embed/element';

const MM = 'https://mm.example';

let root: ShadowRoot | undefined;
const attach = Element.prototype.attachShadow;

beforeEach(() => {
    // Catch the closed root, as only a test (or a hostile page) would.
    Element.prototype.attachShadow = function (init: ShadowRootInit) {
        root = attach.call(this, init);
        return root;
    };
});
afterEach(() => {
    Element.prototype.attachShadow = attach;
    document.body.innerHTML = '';
    vi.useRealTimers();
});

function mount(attrs: Record<string, string> = {}) {
    const el = document.createElement('mattermost-channel') as MattermostChannelElement;
    for (const [k, v] of Object.entries({app: 'app1', server: MM, channel: 'c'.repeat(26), ...attrs})) {
        el.setAttribute(k, v);
    }
    document.body.append(el);
    const frame = root!.querySelector('iframe')!;
    const sent: Array<{msg: any; origin: string}> = [];
    // jsdom gives a frame in a shadow tree no window: this one stands for
    // the frame's (a cross-origin WindowProxy, on which a page can only postMessage).
    const win = {postMessage: (msg: unknown, origin: string) => sent.push({msg, origin})};
    if (frame) {
        Object.defineProperty(frame, 'contentWindow', {value: win});
    }
    const events: Array<{name: string; detail: any}> = [];
    for (const n of ['mm-ready', 'mm-message', 'mm-unread', 'mm-signedout', 'mm-error']) {
        el.addEventListener(n, (e) => events.push({name: n, detail: (e as CustomEvent).detail}));
    }
    // MessageEvent's constructor takes only real windows as source: set it after.
    const fromFrame = (data: unknown, {origin = MM, source = win as unknown} = {}) => {
        const ev = new MessageEvent('message', {data, origin});
        Object.defineProperty(ev, 'source', {value: source});
        window.dispatchEvent(ev);
    };
    return {el, frame, sent, events, fromFrame};
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('<mattermost-channel>', () => {
    it('holds only an iframe of the frame URL in a closed shadow root', () => {
        const {el, frame} = mount({theme: 'dark', accent: '#0b8a6a', signin: 'popup', channels: 'a,b'});
        expect(el.shadowRoot).toBeNull();
        expect(document.querySelectorAll('iframe')).toHaveLength(0);
        const u = new URL(frame.src);
        expect(u.origin + u.pathname).toBe(`${MM}/embed/v1/frame`);
        expect(Object.fromEntries(u.searchParams)).toEqual({app: 'app1', channel: 'c'.repeat(26), theme: 'dark', accent: '#0b8a6a', signin: 'popup', channels: 'a,b'});
    });

    it('answers hello from its frame on mmtoolkit\'s origin only', () => {
        const {sent, fromFrame} = mount();
        fromFrame({mmEmbed: 1, type: 'hello'}, {origin: 'https://evil.example'});
        fromFrame({mmEmbed: 1, type: 'hello'}, {source: window});
        fromFrame({type: 'hello'}); // not the protocol's
        expect(sent).toEqual([]);
        fromFrame({mmEmbed: 1, type: 'hello'});
        expect(sent).toEqual([{msg: {mmEmbed: 1, type: 'init', signin: 'backend'}, origin: MM}]);
    });

    it('asks the tokenProvider at once and gives the token to the frame, to mmtoolkit\'s origin, after hello', async () => {
        const {el, sent, fromFrame} = mount();
        const provider = vi.fn(async () => ({token: 'mmte_x', expires_at: Date.now() + 900_000}));
        el.tokenProvider = provider;
        await tick();
        expect(provider).toHaveBeenCalledTimes(1);
        expect(sent).toEqual([]); // the frame has not said hello: nothing sent anywhere
        fromFrame({mmEmbed: 1, type: 'hello'});
        expect(sent.map((s) => [s.msg.type, s.msg.token, s.origin])).toEqual([['init', undefined, MM], ['token', 'mmte_x', MM]]);
        // The frame asks again (its token was refused): the provider is called again.
        fromFrame({mmEmbed: 1, type: 'token-needed'});
        await tick();
        expect(provider).toHaveBeenCalledTimes(2);
        expect(sent.at(-1)!.msg.type).toBe('token');
    });

    it('reports a failing or malformed tokenProvider as mm-error', async () => {
        const {el, events} = mount();
        el.tokenProvider = async () => {
            throw new Error('backend down');
        };
        await tick();
        el.tokenProvider = async () => ({nope: true}) as never;
        await tick();
        expect(events.map((e) => e.detail.code)).toEqual(['embed_token_provider', 'embed_token_provider']);
        expect(events[0].detail.message).toBe('backend down');
    });

    it('never asks a tokenProvider with signin="popup"', async () => {
        const {el, fromFrame, sent} = mount({signin: 'popup'});
        const provider = vi.fn(async () => ({token: 't', expires_at: Date.now() + 60_000}));
        el.tokenProvider = provider;
        fromFrame({mmEmbed: 1, type: 'hello'});
        await tick();
        expect(provider).not.toHaveBeenCalled();
        expect(sent.map((s) => s.msg)).toEqual([{mmEmbed: 1, type: 'init', signin: 'popup'}]);
    });

    it('turns the frame\'s events into DOM events and its replies into the API\'s answers', async () => {
        const {el, sent, events, fromFrame} = mount();
        await expect(el.send('too early')).rejects.toThrow(/not ready/);
        fromFrame({mmEmbed: 1, type: 'hello'});
        fromFrame({mmEmbed: 1, type: 'event', name: 'mm-ready', detail: {channel_id: 'x'.repeat(26)}});
        fromFrame({mmEmbed: 1, type: 'event', name: 'not-an-event', detail: {}});
        expect(events).toEqual([{name: 'mm-ready', detail: {channel_id: 'x'.repeat(26)}}]);
        expect(el.channel).toBe('x'.repeat(26));
        const answer = el.send('hi');
        const call = sent.at(-1)!.msg;
        expect(call).toMatchObject({type: 'call', method: 'send', args: ['hi']});
        fromFrame({mmEmbed: 1, type: 'reply', id: call.id, ok: true, result: {post_id: 'p1'}});
        await expect(answer).resolves.toEqual({post_id: 'p1'});
        const refused = el.openChannel('y'.repeat(26));
        const call2 = sent.at(-1)!.msg;
        fromFrame({mmEmbed: 1, type: 'reply', id: call2.id, ok: false, error: {code: 'embed_channel_not_allowed', message: 'not covered'}});
        await expect(refused).rejects.toMatchObject({code: 'embed_channel_not_allowed', message: 'not covered'});
    });

    it('sizes the iframe to the reported height only with height="auto"', () => {
        const fixed = mount();
        fixed.fromFrame({mmEmbed: 1, type: 'height', height: 321});
        expect(fixed.frame.style.height).toBe('');
        document.body.innerHTML = '';
        const auto = mount({height: 'auto'});
        auto.fromFrame({mmEmbed: 1, type: 'height', height: 320.2});
        expect(auto.frame.style.height).toBe('321px');
    });

    it('survives being moved in the page: one root, a new frame', () => {
        const {el} = mount();
        const first = root!;
        document.body.append(document.createElement('div'));
        document.body.lastElementChild!.append(el); // disconnected, then connected again
        expect(root).toBe(first);
        expect(first.querySelectorAll('iframe')).toHaveLength(1);
    });

    it('needs an app and a server to reach', async () => {
        const {events} = mount({app: ''});
        await tick();
        expect(events.map((e) => e.detail.code)).toEqual(['embed_misconfigured']);
    });
});

describe('embed.d.ts', () => {
    it('types the element, its API and its events for TypeScript pages', async () => {
        const {el, fromFrame} = mount();
        // Compile-time checks (tsc runs over test/): the tag name gives the
        // element's type, and each event's detail is typed.
        const found: MattermostChannelElement | null = document.querySelector('mattermost-channel');
        expect(found).toBe(el);
        const ids: string[] = [];
        found!.addEventListener('mm-message', (e) => ids.push(e.detail.post_id, e.detail.root_id));
        found!.addEventListener('mm-unread', (e) => ids.push(String(e.detail.count + 1)));
        fromFrame({mmEmbed: 1, type: 'hello'});
        fromFrame({mmEmbed: 1, type: 'event', name: 'mm-message', detail: {channel_id: 'c', post_id: 'p', user_id: 'u', root_id: '', message: 'm'}});
        fromFrame({mmEmbed: 1, type: 'event', name: 'mm-unread', detail: {channel_id: 'c', count: 1}});
        expect(ids).toEqual(['p', '', '2']);
    });
});

describe('refreshDelay', () => {
    it.each([
        ['15 minutes: a minute before', 900_000, 840_000],
        ['one minute: at 60 %', 60_000, 36_000],
        ['10 s: at 6 s', 10_000, 6_000],
        ['nearly expired: not sooner than 5 s', 2_000, 5_000],
        ['expired: 5 s', -10_000, 5_000],
    ])('%s', (_, left, want) => {
        expect(refreshDelay(1_000_000 + left, 1_000_000)).toBe(want);
    });
});

describe('embed theme', () => {
    it('takes #rgb and #rrggbb accents only', () => {
        expect(accentColor('#0B8')).toBe('#00bb88');
        expect(accentColor(' #0b8a6a ')).toBe('#0b8a6a');
        for (const bad of ['red', 'url(x)', '#12345', '', null, undefined, '#0b8a6a;background:red']) {
            expect(accentColor(bad)).toBe('');
        }
    });

    it('is Denim or Onyx, custom with the accent on buttons and links', () => {
        expect(embedTheme('light', '').type).toBe('Denim');
        expect(embedTheme('dark', '').centerChannelBg).toBe('#191b1f');
        const t = embedTheme('dark', '#0b8a6a');
        expect([t.type, t.buttonBg, t.linkColor, t.sidebarTextActiveBorder]).toEqual(['custom', '#0b8a6a', '#0b8a6a', '#0b8a6a']);
    });
});
