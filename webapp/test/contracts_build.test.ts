// @vitest-environment node
// build.mjs against bundler.HostGlobals (src/generated/host_modules.ts):
// the build makes a file, or puts in the main bundle, every module the
// bundler leaves to the page, under the same global. In node: esbuild
// refuses to load under jsdom.
import {describe, expect, it} from 'vitest';

import {HOST_GLOBALS, ICONS_MODULE} from '../src/generated/host_modules';

import {coreModules, lazyEntry} from './contract_modules';

describe('build.mjs and the host modules (bundler.HostGlobals)', () => {
    it('builds every host module: the core ones in the main bundle, the rest lazily, under the same globals', async () => {
        const spec = '../build.mjs';
        const build = (await import(/* @vite-ignore */ spec)) as {coreGlobals: Record<string, string>; lazyModules: Record<string, string>};
        expect(Object.keys(build.lazyModules)).toContain(ICONS_MODULE);
        const lazy = Object.keys(build.lazyModules).filter((m) => m !== ICONS_MODULE);
        // react-dom/client is folded into react-dom by the build and the host.
        const built = [...Object.keys(build.coreGlobals), 'react-dom/client', ...lazy].sort();
        expect(built).toEqual(Object.keys(HOST_GLOBALS).sort());
        expect([...Object.keys(build.coreGlobals), 'react-dom/client'].sort()).toEqual(Object.keys(coreModules).sort());
        for (const [m, g] of Object.entries(build.coreGlobals)) {
            expect(g, m).toBe(HOST_GLOBALS[m as keyof typeof HOST_GLOBALS]);
        }
        for (const m of lazy) {
            expect(build.lazyModules[m], m).toBe(lazyEntry(m));
        }
    });
});
