// The sign-in popup (/embed/v1/signin?app=ID), opened by an embed frame
// whose element has signin="popup". It is a first-party page of mmtoolkit's
// origin: the user signs in to Mattermost here if they have no session,
// then this page exchanges that session for a short-lived embed token
// (POST /api/v1/embed/tokens/session, with the session's CSRF header) and
// hands the token to the frame that opened it, on mmtoolkit's origin only
// (targetOrigin), never to the page around the frame. The session stays a
// cookie of this origin; the frame gets only the token.
//
// No imports but the protocol: a small script of its own.
import {MARK, type PopupMessage} from './protocol';

const cfg = JSON.parse(document.getElementById('mmtoolkit-config')?.textContent || '{}') as {app?: string};
const form = document.getElementById('signin-form') as HTMLFormElement;
const status = document.getElementById('signin-status') as HTMLElement;

function say(text: string, error = false) {
    status.textContent = text;
    status.className = error ? 'error' : 'hint';
}

function cookie(name: string): string {
    for (const part of document.cookie.split(';')) {
        const [k, ...v] = part.trim().split('=');
        if (k === name) {
            return decodeURIComponent(v.join('='));
        }
    }
    return '';
}

async function errorOf(r: Response): Promise<string> {
    const b = await r.json().catch(() => ({})) as {error?: {message?: string}; message?: string};
    return b.error?.message || b.message || `HTTP ${r.status}`;
}

const headers = () => ({'Content-Type': 'application/json', 'X-Requested-With': 'XMLHttpRequest', 'X-CSRF-Token': cookie('MMCSRF')});

/** Exchanges the session for an embed token and gives it to the frame. */
async function mint() {
    say('Getting access for the embed…');
    // The channels the embed shows (ids only; the server checks the app allows them).
    const channels = (new URLSearchParams(window.location.search).get('channels') ?? '').split(',').filter((c) => /^[a-z0-9]{26}$/.test(c));
    const r = await fetch('/api/v1/embed/tokens/session', {method: 'POST', credentials: 'include', headers: headers(),
        body: JSON.stringify(channels.length ? {app: cfg.app, channels} : {app: cfg.app})});
    if (!r.ok) {
        say(`Could not sign the embed in: ${await errorOf(r)}`, true);
        return;
    }
    const t = await r.json() as {token: string; expires_at: number};
    const opener = window.opener as Window | null;
    if (!opener) {
        say('Signed in, but the embed that asked is gone: sign in again from it.', true);
        return;
    }
    // To the frame on this origin only: a page of any other origin that
    // opened this window gets nothing.
    opener.postMessage({mmEmbed: MARK, type: 'token', token: t.token, expires_at: t.expires_at} satisfies PopupMessage, window.location.origin);
    say('Signed in. You can close this window.');
    window.close();
}

form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    say('Signing in…');
    const r = await fetch('/api/v4/users/login', {method: 'POST', credentials: 'include', headers: headers(),
        body: JSON.stringify({login_id: String(data.get('loginId') ?? ''), password: String(data.get('password') ?? '')})});
    if (!r.ok) {
        say(await errorOf(r), true);
        return;
    }
    form.hidden = true;
    await mint();
});

(async () => {
    const me = await fetch('/api/v4/users/me', {credentials: 'include', headers: {'X-Requested-With': 'XMLHttpRequest'}});
    if (me.ok) {
        form.hidden = true;
        await mint();
        return;
    }
    say('');
    form.hidden = false;
    (form.elements.namedItem('loginId') as HTMLInputElement | null)?.focus();
})().catch((e) => say(String((e as Error)?.message ?? e), true));
