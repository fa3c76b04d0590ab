// Plugins of the Mattermost behind mmtoolkit (serve --upstream): its own
// webapp loads them from GET /api/v4/plugins/webapp, and so does this host.
// Through mmtoolkit that list is Mattermost's entries plus the team's
// mmtoolkit plugins (server/compat.go), with one entry per id as the
// server's --plugin-conflict rule decides; the host already has the team's
// plugins from its own manifest, so it takes from the list what is not
// mmtoolkit's: Mattermost's plugins, and Mattermost's copy of an id where
// that copy won. They are prebuilt Mattermost bundles, loaded as such: no
// integrity (Mattermost gives none), every lazy host module first, since
// nothing says which globals the bundle reads.
import type {ClientManifest} from '../generated/manifest';

import type {ManifestPlugin} from './types';

/** One entry of GET /api/v4/plugins/webapp: Mattermost's ClientManifest (server/compat.go, generated). */
export type {ClientManifest};

/**
 * The team's plugins with Mattermost's merged in: an entry of the list whose
 * id the manifest lacks is added; one whose bundle is not mmtoolkit's (its
 * name does not carry the start of the manifest bundle's SHA-256) replaces
 * the manifest's. Entries without a webapp are skipped. siteURL prefixes
 * bundle URLs (Mattermost's webapp turns /static/ into /static/plugins/
 * and prefixes the site URL); allModules are the host's lazy modules.
 */
export function mergeUpstream(own: ManifestPlugin[], list: ClientManifest[], siteURL: string, allModules: string[]): ManifestPlugin[] {
    const byId = new Map(own.map((p) => [p.id, p]));
    const out = [...own];
    for (const e of list) {
        const bundlePath = e?.webapp?.bundle_path;
        if (!e?.id || !bundlePath) {
            continue;
        }
        const mine = byId.get(e.id);
        if (mine && isOwnBundle(mine, e.id, bundlePath)) {
            continue;
        }
        const p: ManifestPlugin = {
            id: e.id,
            name: e.name || e.id,
            version: e.version,
            bundle: {url: siteURL.replace(/\/$/, '') + bundlePath.replace(/^\/static\//, '/static/plugins/'), integrity: '', size: 0},
            slots: [],
            host_modules: allModules,
        };
        if (mine) {
            out[out.indexOf(mine)] = p;
        } else {
            out.push(p);
        }
    }
    return out;
}

/** Whether a Mattermost bundle_path names mmtoolkit's bundle of p: /static/<id>/<id>_<sha[:16]>_bundle.js. */
function isOwnBundle(p: ManifestPlugin, id: string, bundlePath: string): boolean {
    const m = /\/bundles\/([0-9a-f]{64})\.js$/.exec(p.bundle.url);
    const name = bundlePath.slice(bundlePath.lastIndexOf('/') + 1);
    return Boolean(m && name === `${id}_${m[1].slice(0, 16)}_bundle.js`);
}
