// The one Mattermost API client of the page: mattermost-redux's Client4
// singleton (the real @mattermost/client), pointed at the site URL. Against
// the sandbox and against a real Mattermost it is the same code.
import {Client4} from 'mattermost-redux/client';

export {Client4};

export function setupClient(siteURL: string) {
    Client4.setUrl(siteURL);
    // Cookies carry the session after a reload (Mattermost's webapp does
    // the same); Client4 adds X-Requested-With and the CSRF header.
    Client4.setIncludeCookies(true);
}

/** fetch with Client4's headers and credentials, for mmtoolkit's /api/v1 routes. */
export function apiFetch(path: string, init: {method: string; body?: string} = {method: 'get'}): Promise<Response> {
    return fetch(Client4.getUrl() + path, Client4.getOptions(init) as RequestInit);
}
