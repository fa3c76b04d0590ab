import {describe, expect, it} from 'vitest';

import {mergeUpstream, type ClientManifest} from '../src/plugins/upstream';
import type {ManifestPlugin} from '../src/plugins/types';

const sha = 'ab'.repeat(32);
const own: ManifestPlugin = {
    id: 'com.example.mine', name: 'Mine', version: '1.0.0',
    bundle: {url: `/bundles/${sha}.js`, integrity: 'sha256-x', size: 10}, slots: [], host_modules: ['react'],
};
const ownEntry: ClientManifest = {id: 'com.example.mine', name: '', version: '1.0.0',
    webapp: {bundle_path: `/static/com.example.mine/com.example.mine_${sha.slice(0, 16)}_bundle.js`}};
const calls: ClientManifest = {id: 'com.mattermost.calls', name: '', version: '0.29.0',
    webapp: {bundle_path: '/static/com.mattermost.calls/com.mattermost.calls_0123456789abcdef_bundle.js'}};

describe('mergeUpstream', () => {
    it('adds Mattermost-only plugins as prebuilt bundles under /static/plugins/', () => {
        const got = mergeUpstream([own], [calls, ownEntry], 'http://mm.example.com/', ['react-intl', 'react-bootstrap']);
        expect(got).toHaveLength(2);
        expect(got[0]).toBe(own);
        expect(got[1]).toEqual({
            id: 'com.mattermost.calls', name: 'com.mattermost.calls', version: '0.29.0',
            bundle: {url: 'http://mm.example.com/static/plugins/com.mattermost.calls/com.mattermost.calls_0123456789abcdef_bundle.js', integrity: '', size: 0},
            slots: [], host_modules: ['react-intl', 'react-bootstrap'],
        });
    });
    it("keeps the team's own plugin when the list's entry is its bundle", () => {
        expect(mergeUpstream([own], [ownEntry], '', [])).toEqual([own]);
    });
    it("takes Mattermost's copy of an id when the list's entry is not mmtoolkit's bundle (--plugin-conflict=upstream)", () => {
        const theirs: ClientManifest = {id: 'com.example.mine', name: '', version: '9.0.0',
            webapp: {bundle_path: '/static/com.example.mine/com.example.mine_fedcba9876543210_bundle.js'}};
        const got = mergeUpstream([own], [theirs], '', []);
        expect(got).toHaveLength(1);
        expect(got[0].version).toBe('9.0.0');
        expect(got[0].bundle.url).toBe('/static/plugins/com.example.mine/com.example.mine_fedcba9876543210_bundle.js');
    });
    it('skips entries without a webapp or an id', () => {
        expect(mergeUpstream([], [{id: 'x', name: '', version: '1'}, {version: '1'} as ClientManifest, null as unknown as ClientManifest], '', [])).toEqual([]);
    });
});
