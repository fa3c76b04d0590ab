import {afterEach, describe, expect, it} from 'vitest';

import {HostModules} from '../src/plugins/host_modules';

const w = window as unknown as Record<string, unknown>;

describe('HostModules', () => {
    afterEach(() => {
        document.head.innerHTML = '';
        delete w.ReactIntl;
    });

    it('loads a lazy module once, with the nonce, and skips core and present ones', async () => {
        const m = new HostModules({'react-intl': '/static/react-intl.X.js'}, document, 'n0nce');
        const a = m.ensure(['react', 'react-intl']);
        const b = m.ensure(['react-intl']);
        const scripts = document.head.querySelectorAll('script');
        expect(scripts).toHaveLength(1);
        expect(scripts[0].getAttribute('src')).toBe('/static/react-intl.X.js');
        expect(scripts[0].nonce).toBe('n0nce');
        w.ReactIntl = {};
        scripts[0].dispatchEvent(new Event('load'));
        await Promise.all([a, b]);
        await m.ensure(['react-intl']);
        expect(document.head.querySelectorAll('script')).toHaveLength(1);
    });

    it("waits for the shell's deferred element instead of adding another", async () => {
        document.head.innerHTML = '<script src="/static/react-intl.X.js" defer data-host-module="react-intl"></script>';
        const shell = document.head.querySelector('script')!;
        const m = new HostModules({'react-intl': '/static/react-intl.X.js'}, document);
        let done = false;
        const p = m.ensure(['react-intl']).then(() => {
            done = true;
        });
        await Promise.resolve();
        expect(done).toBe(false);
        expect(document.head.querySelectorAll('script')).toHaveLength(1);
        w.ReactIntl = {};
        shell.dispatchEvent(new Event('load'));
        await p;
        expect(done).toBe(true);
    });

    it("a failed shell element is dropped, and a later plugin's request loads it anew", async () => {
        document.head.innerHTML = '<script src="/static/react-intl.X.js" defer data-host-module="react-intl"></script>';
        const m = new HostModules({'react-intl': '/static/react-intl.X.js'}, document);
        const p = m.ensure(['react-intl']);
        document.head.querySelector('script')!.dispatchEvent(new Event('error'));
        await expect(p).rejects.toThrow('host module react-intl failed to load from /static/react-intl.X.js');
        expect(document.head.querySelectorAll('script')).toHaveLength(0);
        m.ensure(['react-intl']).catch(() => undefined);
        expect(document.head.querySelectorAll('script[data-host-module="react-intl"]')).toHaveLength(1);
    });
});
