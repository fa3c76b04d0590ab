// The embed frame's boot script: a few lines the frame page runs inline (with
// its CSP nonce) as soon as it is parsed, long before the frame's own code
// (frame.tsx, ~190 KiB gzip) has downloaded and compiled. It says hello to
// the page at once, keeps every message that arrives meanwhile, and when
// the page's token comes, asks for the first screen (the session, the user,
// the channel, its membership and posts), so those answers arrive while
// the frame's code compiles. The controller takes all of it (take()) and
// checks every message again as it would have; a failed early answer is
// simply asked again.
//
// No imports but the protocol: it is built on its own and inlined.
import {isMessage, MARK} from './protocol';

interface BootConfig {
    embed?: {channel?: string; origins?: string[]};
}

export interface EmbedBoot {
    /** Messages that arrived before the controller listened, in order. */
    queue: MessageEvent[];
    /** The token the early requests carry, and the requests, by name. */
    token: string;
    early: Record<string, Promise<unknown>>;
}

const cfg = (JSON.parse(document.getElementById('mmtoolkit-config')?.textContent || '{}') as BootConfig).embed ?? {};
const origins = Array.isArray(cfg.origins) ? cfg.origins : [];
const boot: EmbedBoot = {queue: [], token: '', early: {}};

const get = (url: string, token: string): Promise<unknown> =>
    fetch(url, {credentials: 'omit', headers: {Authorization: `Bearer ${token}`, 'X-Requested-With': 'XMLHttpRequest'}}).
        then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${url}: HTTP ${r.status}`))));

function onMessage(ev: MessageEvent) {
    if (!isMessage(ev.data)) {
        return;
    }
    boot.queue.push(ev);
    const d = ev.data as {type: string; token?: unknown};
    // The page's first token (the same checks as the controller's).
    if (boot.token || d.type !== 'token' || typeof d.token !== 'string' || ev.source !== window.parent || window.parent === window || !origins.includes(ev.origin)) {
        return;
    }
    const t = d.token;
    boot.token = t;
    boot.early.session = get('/api/v1/embed/session', t);
    boot.early.me = get('/api/v4/users/me', t);
    const ch = cfg.channel ?? '';
    if (/^[a-z0-9]{26}$/.test(ch)) {
        boot.early.channel = get(`/api/v4/channels/${ch}`, t);
        boot.early.member = get(`/api/v4/channels/${ch}/members/me`, t);
        boot.early.posts = get(`/api/v4/channels/${ch}/posts?page=0&per_page=60`, t);
    }
    for (const p of Object.values(boot.early)) {
        p.catch(() => undefined); // unused failures are not errors
    }
}

window.addEventListener('message', onMessage);
if (window.parent !== window) {
    // The page's origin is not known yet: hello goes to each allowed origin,
    // and the browser delivers it only to the one the page has.
    for (const o of origins) {
        window.parent.postMessage({mmEmbed: MARK, type: 'hello'}, o);
    }
}
(window as unknown as {mmtoolkitEmbedBoot?: {take(): EmbedBoot}}).mmtoolkitEmbedBoot = {
    take() {
        window.removeEventListener('message', onMessage);
        delete (window as unknown as {mmtoolkitEmbedBoot?: unknown}).mmtoolkitEmbedBoot;
        return boot;
    },
};
