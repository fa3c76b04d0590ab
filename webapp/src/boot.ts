// The shell's boot script: a few lines the page runs as soon as its head is
// parsed (inline, with the response's CSP nonce), long before the host's
// own code is downloaded, compiled and run. It takes the API responses the
// shell preloads (<link rel="preload" as="fetch">) as they arrive, and once
// the channel the URL names is known, asks for its posts, so that the host
// finds what its first screen needs already answered (host.ts, takeEarly).
// Anything that fails here is simply not used: the host asks again through
// Client4, which reports the error.
//
// No imports: this file is built on its own and must stay tiny.

type Early = Record<string, Promise<unknown>>;

const get = (url: string): Promise<unknown> =>
    // The preload's request exactly (mode cors, credentials included), so it is reused.
    fetch(url, {credentials: 'include'}).then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${url}: HTTP ${r.status}`))));

const early: Early = {};
for (const l of document.querySelectorAll<HTMLLinkElement>('link[rel="preload"][as="fetch"]')) {
    const url = l.getAttribute('href');
    if (url?.startsWith('/api/v4/')) {
        early[url] = get(url);
    }
}
// The posts of the channel the URL names (Client4.getPosts(id, 0, 60)).
const channel = Object.keys(early).find((u) => u.startsWith('/api/v4/teams/name/'));
if (channel) {
    early.posts = early[channel].then((c) => {
        const id = (c as {id: string}).id;
        return get(`/api/v4/channels/${encodeURIComponent(id)}/posts?page=0&per_page=60&skipFetchThreads=false&collapsedThreads=false&collapsedThreadsExtended=false`).
            then((posts) => ({channelId: id, posts}));
    });
}
for (const p of Object.values(early)) {
    p.catch(() => undefined); // unused failures are not errors
}
(window as unknown as {mmtoolkitEarly: Early}).mmtoolkitEarly = early;
